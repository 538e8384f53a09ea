// Tom Harte's SingleStepTests (the subsets in the conformance data): every test
// of harte-6502/ and harte-wdc65c02/ checks registers, memory and cycle count
// in the fast run loop, and the exact bus trace in the debug loop. One test per
// opcode file, listed from the opcode table (the documented opcodes; the WDC
// set has no WAI or STP), so a missing file is a failure and missing data a
// true count of skipped tests.
import { describe, it, expect, beforeAll } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CoreMemory } from '../../src/core/cpu.ts';
import type { CpuModel } from '../../src/isa/opcodes.ts';
import { HARTE_SETS, conformancePath, harteDiff, harteFiles, loadHarte, readHarte, skipData, skipNote } from '../helpers/conformance.ts';

let core: CoreMemory;
beforeAll(async () => { core = await CoreMemory.create(); });

const hex = (n: number) => n.toString(16).padStart(2, '0');

function runFile(model: CpuModel, file: string): string[] {
  const failures: string[] = [];
  const cpu = core.cpu(0, model);
  for (const t of readHarte(file)) {
    // Fast loop: state and cycle count.
    loadHarte(cpu, t);
    cpu.run(1);
    let diff = harteDiff(cpu, t, cpu.cycles);
    // Debug loop with the bus trace: state, cycle count and every bus cycle.
    loadHarte(cpu, t);
    cpu.tracing = true;
    cpu.debugRun(1);
    cpu.tracing = false;
    const trace = cpu.takeTrace().map((c) => [c.address, c.value, c.write ? 'write' : 'read']);
    diff = diff.concat(harteDiff(cpu, t, cpu.cycles).map((d) => `debug: ${d}`));
    if (JSON.stringify(trace) !== JSON.stringify(t.cycles)) {
      diff.push(`bus trace ${JSON.stringify(trace)} want ${JSON.stringify(t.cycles)}`);
    }
    if (diff.length) failures.push(`"${t.name}" (p=${hex(t.initial.p)} a=${hex(t.initial.a)}): ${diff.join(', ')}`);
    for (const [a] of t.final.ram) cpu.ram[a] = 0;
    for (const [a] of t.initial.ram) cpu.ram[a] = 0;
  }
  return failures;
}

for (const { model, folder, count } of HARTE_SETS) {
  const files = harteFiles(model);
  describe(`SingleStepTests ${folder}${skipNote}`, () => {
    it('the list has one file per documented opcode', () => expect(files.length).toBe(count));
    it.skipIf(skipData)('the data holds exactly the listed files', () => {
      expect(readdirSync(join(conformancePath, folder)).filter((f) => f.endsWith('.json.gz')).sort()).toEqual(files);
    });
    for (const file of files) {
      it.skipIf(skipData)(`opcode $${file.slice(0, 2)}: registers, memory, cycles and bus trace`, () => {
        const failures = runFile(model, join(folder, file));
        expect(failures.slice(0, 5), `${failures.length} of 100 tests fail`).toEqual([]);
      });
    }
  });
}
