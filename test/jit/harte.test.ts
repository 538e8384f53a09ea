// Tom Harte's SingleStepTests (test/conformance/harte.test.ts runs them on the
// interpreter) with every vector's instruction run by compiled code: a fresh
// VM in 'force' mode compiles the page at PC before it runs, and a run of one
// cycle executes one instruction, as the interpreter's would (compiled code
// takes a single instruction at a time, `careful`, when the budget ends inside
// a block). Registers, memory and the cycle count must be the vector's final
// state, and the cycles must have been run by compiled code: all of them for
// an instruction the JIT compiles, none for one it leaves to the interpreter
// (BRK, and an instruction that would run past $FFFF: see region.ts). The bus
// trace is the debug loop's, which the JIT never runs; the lockstep tests
// (exactness.test.ts) compare the device accesses of compiled code with the
// interpreter's. Each vector is code of its own, a module compiled for it
// alone (some 5 ms each on the 2-core machine, and V8 frees their code space
// only as it collects them): the first VECTORS of each file's 100 run here.
import { describe, it, expect, beforeAll } from 'vitest';
import { join } from 'node:path';
import { CoreMemory } from '../../src/core/cpu.ts';
import { cpuVariant, type CpuModel } from '../../src/isa/opcodes.ts';
import { compilable } from '../../src/jit/region.ts';
import { HARTE_SETS, harteDiff, harteFiles, loadHarte, readHarte, skipData, skipNote } from '../helpers/conformance.ts';

/** Vectors run per opcode file. */
const VECTORS = 10;

let core: CoreMemory;
beforeAll(async () => { core = await CoreMemory.create(); });

function runFile(model: CpuModel, file: string): { failures: string[]; compiled: number } {
  const failures: string[] = [];
  const table = cpuVariant(model).table;
  let compiled = 0;
  for (const t of readHarte(file).slice(0, VECTORS)) {
    const cpu = core.cpu(0, model, { jit: 'force' }); // a fresh VM: no code compiled for other bytes
    loadHarte(cpu, t);
    cpu.run(1);
    const diff = harteDiff(cpu, t, cpu.cycles);
    const info = table[t.initial.ram.find(([a]) => a === t.initial.pc)![1]];
    const expected = compilable(info) && t.initial.pc + info.bytes <= 0x10000 ? t.cycles.length : 0;
    const ran = cpu.jitMetrics!.compiledCycles;
    if (ran !== expected) diff.push(`${ran} cycles compiled, want ${expected}`);
    if (ran > 0) compiled++;
    if (diff.length) failures.push(`"${t.name}": ${diff.join(', ')}`);
  }
  return { failures, compiled };
}

for (const { model, folder } of HARTE_SETS) {
  describe(`SingleStepTests ${folder}, compiled${skipNote}`, () => {
    for (const file of harteFiles(model)) {
      it.skipIf(skipData)(`opcode $${file.slice(0, 2)}: registers, memory and cycles, run by compiled code`, () => {
        const { failures, compiled } = runFile(model, join(folder, file));
        expect(failures.slice(0, 5), `${failures.length} of ${VECTORS} tests fail`).toEqual([]);
        if (compilable(cpuVariant(model).table[parseInt(file.slice(0, 2), 16)])) expect(compiled).toBeGreaterThan(VECTORS * 0.8);
        else expect(compiled).toBe(0);
      });
    }
  });
}
