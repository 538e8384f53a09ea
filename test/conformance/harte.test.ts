// Tom Harte's SingleStepTests (the subsets in the conformance data): every test
// of harte-6502/ and harte-wdc65c02/ checks registers, memory and cycle count
// in the fast run loop, and the exact bus trace in the debug loop. One test per
// opcode file, listed from the opcode table (the documented opcodes; the WDC
// set has no WAI or STP), so a missing file is a failure and missing data a
// true count of skipped tests.
import { describe, it, expect, beforeAll } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CoreMemory, type Cpu } from '../../src/core/cpu.ts';
import { opcodeTable, type CpuModel } from '../../src/isa/opcodes.ts';
import { conformancePath, readHarte, skipData, skipNote, type HarteTest } from '../helpers/conformance.ts';

let core: CoreMemory;
beforeAll(async () => { core = await CoreMemory.create(); });

const hex = (n: number) => n.toString(16).padStart(2, '0');

function load(cpu: Cpu, t: HarteTest) {
  const i = t.initial;
  for (const [a, v] of i.ram) cpu.ram[a] = v;
  cpu.pc = i.pc; cpu.s = i.s; cpu.a = i.a; cpu.x = i.x; cpu.y = i.y; cpu.p = i.p;
  cpu.cycles = 0;
}

function stateDiff(cpu: Cpu, t: HarteTest, cycles: number): string[] {
  const f = t.final;
  const out: string[] = [];
  const regs: Array<[string, number, number]> = [
    ['pc', cpu.pc, f.pc], ['s', cpu.s, f.s], ['a', cpu.a, f.a], ['x', cpu.x, f.x], ['y', cpu.y, f.y],
    // B and bit 5 are not stored in the status register: compare the others.
    ['p', cpu.p & 0xcf, f.p & 0xcf],
  ];
  for (const [name, got, want] of regs) if (got !== want) out.push(`${name}=${hex(got)} want ${hex(want)}`);
  for (const [a, v] of f.ram) if (cpu.ram[a] !== v) out.push(`ram[${a.toString(16)}]=${hex(cpu.ram[a])} want ${hex(v)}`);
  if (cycles !== t.cycles.length) out.push(`cycles=${cycles} want ${t.cycles.length}`);
  return out;
}

function runFile(model: CpuModel, file: string): string[] {
  const failures: string[] = [];
  const cpu = core.cpu(0, model);
  for (const t of readHarte(file)) {
    // Fast loop: state and cycle count.
    load(cpu, t);
    cpu.run(1);
    let diff = stateDiff(cpu, t, cpu.cycles);
    // Debug loop with the bus trace: state, cycle count and every bus cycle.
    load(cpu, t);
    cpu.tracing = true;
    cpu.debugRun(1);
    cpu.tracing = false;
    const trace = cpu.takeTrace().map((c) => [c.address, c.value, c.write ? 'write' : 'read']);
    diff = diff.concat(stateDiff(cpu, t, cpu.cycles).map((d) => `debug: ${d}`));
    if (JSON.stringify(trace) !== JSON.stringify(t.cycles)) {
      diff.push(`bus trace ${JSON.stringify(trace)} want ${JSON.stringify(t.cycles)}`);
    }
    if (diff.length) failures.push(`"${t.name}" (p=${hex(t.initial.p)} a=${hex(t.initial.a)}): ${diff.join(', ')}`);
    for (const [a] of t.final.ram) cpu.ram[a] = 0;
    for (const [a] of t.initial.ram) cpu.ram[a] = 0;
  }
  return failures;
}

const SETS = [
  { model: '6502', folder: 'harte-6502', count: 151 },
  { model: '65c02', folder: 'harte-wdc65c02', count: 210 },
] as const;

for (const { model, folder, count } of SETS) {
  const files = opcodeTable(model)
    .filter((info) => !info.undocumented && info.mnemonic !== 'WAI' && info.mnemonic !== 'STP')
    .map((info) => `${info.opcode.toString(16).padStart(2, '0')}.json.gz`);
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
