// Klaus Dormann's functional tests, the NMOS one with its exact cycle count.
import { describe, it, expect, beforeAll } from 'vitest';
import { CoreMemory, ExitReason, type Cpu } from '../../src/core/cpu.ts';
import { conformanceDir, readData, skipReason } from '../helpers/conformance.ts';

const data = conformanceDir();
let core: CoreMemory;
beforeAll(async () => { core = await CoreMemory.create(); });

function runImage(file: string, model: '6502' | '65c02'): Cpu {
  const cpu = core.cpu(0, model);
  cpu.ram.set(readData(file));
  cpu.pc = 0x0400;
  cpu.stopOnSelfLoop = true;
  expect(cpu.runFor(200_000_000)).toBe(ExitReason.SelfLoop);
  return cpu;
}

describe.skipIf(!data)(`Klaus Dormann functional tests${data ? '' : ` (${skipReason})`}`, () => {
  it('6502_functional_test reaches $3469 in exactly 96,241,367 cycles and 30,646,177 instructions', () => {
    const cpu = runImage('klaus/6502_functional_test.bin', '6502');
    expect({ pc: cpu.pc, test: cpu.ram[0x200] }).toEqual({ pc: 0x3469, test: 0xf0 });
    expect(cpu.cycles).toBe(96_241_367);
    expect(cpu.instructions).toBe(30_646_177);
  });

  it('65C02_extended_opcodes_test reaches $24F1 on the 65C02', () => {
    const cpu = runImage('klaus/65C02_extended_opcodes_test.bin', '65c02');
    expect({ pc: cpu.pc, test: cpu.ram[0x202] }).toEqual({ pc: 0x24f1, test: 0xf0 });
  });
});
