// Klaus Dormann's NMOS functional test with every page compiled by the JIT as
// soon as it runs ('force'): almost every cycle in compiled code, its
// self-modifying tests invalidating code page by page, and the result exactly
// the interpreter's (the success loop, 96,241,367 cycles, 30,646,177 instructions).
import { describe, it, expect } from 'vitest';
import { CoreMemory, ExitReason } from '../../src/core/cpu.ts';
import { readData, skipData, skipNote } from '../helpers/conformance.ts';

describe(`Klaus Dormann's functional test, all compiled${skipNote}`, () => {
  it.skipIf(skipData)('reaches $3469 in exactly 96,241,367 cycles, nearly all of them in compiled code', async () => {
    const core = await CoreMemory.create({ jit: 'force' });
    const cpu = core.cpu(0, '6502');
    cpu.ram.set(readData('klaus/6502_functional_test.bin'));
    cpu.pc = 0x0400;
    cpu.stopOnSelfLoop = true;
    expect(cpu.runFor(200_000_000)).toBe(ExitReason.SelfLoop);
    expect({ pc: cpu.pc, test: cpu.ram[0x200], cycles: cpu.cycles, instructions: cpu.instructions }).toEqual({ pc: 0x3469, test: 0xf0, cycles: 96_241_367, instructions: 30_646_177 });
    const m = cpu.jitMetrics!;
    expect(m.compiledCycles).toBeGreaterThan(96_000_000);
    expect(m.invalidations).toBeGreaterThan(100);
  });
});
