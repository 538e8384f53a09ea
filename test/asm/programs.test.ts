// Programs assembled here run: on hyper6502's own core (both CPUs), and, as
// sim65 programs, on cc65's sim65 when it is installed.
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { assemble, type AsmResult } from '../../src/asm/assembler.ts';
import { formatAsmError } from '../../src/asm/output.ts';
import { CoreMemory, ExitReason, type Cpu } from '../../src/core/cpu.ts';
import { hasSim65, sim65, sim65SkipReason } from './ca65.ts';

let core: CoreMemory;
beforeAll(async () => { core = await CoreMemory.create({ slots: 1 }); });

function program(name: string): AsmResult {
  const result = assemble(readFileSync(new URL(`./programs/${name}.s`, import.meta.url), 'utf8'), { fileName: `${name}.s` });
  expect(result.errors.map(formatAsmError)).toEqual([]);
  return result;
}

/** Load a program into a fresh CPU of its model and run it from `start` until it loops on itself. */
function run(result: AsmResult): Cpu {
  const cpu = core.cpu(0, result.cpu);
  cpu.ram.fill(0);
  cpu.ram.set(result.bytes, result.origin);
  cpu.pc = result.symbols.start;
  cpu.stopOnSelfLoop = true;
  expect(cpu.run(1_000_000)).toBe(ExitReason.SelfLoop);
  return cpu;
}

describe('assembled programs run on the core', () => {
  it('multiply.s: 8x8 -> 16-bit products on the 6502', () => {
    const result = program('multiply');
    expect(result.cpu).toBe('6502');
    const cpu = run(result);
    expect(cpu.pc).toBe(result.symbols.done);
    const products = result.symbols.products;
    const words = Array.from({ length: 6 }, (_, i) => cpu.ram[products + 2 * i] | (cpu.ram[products + 2 * i + 1] << 8));
    expect(words).toEqual([3 * 5, 12 * 12, 255 * 255, 0, 100 * 200, 1]);
  });

  it('sort.s: a bubble sort on the 65C02', () => {
    const result = program('sort');
    expect(result.cpu).toBe('65c02');
    const cpu = run(result);
    const table = result.symbols.table;
    const size = result.symbols.SIZE;
    expect(Array.from(cpu.ram.subarray(table, table + size))).toEqual([0, 1, 3, 7, 19, 19, 0x42, 0x80, 200, 0xff]);
    expect(cpu.ram[result.symbols.sorted_count]).toBe(size);
  });
});

describe.skipIf(!hasSim65)(`sim65 runs the sim65 programs${hasSim65 ? '' : ` (${sim65SkipReason})`}`, () => {
  // sim65 ends a program that jumps to $FFF9, with A as the exit code.
  it('a 6502 program', () => {
    const prg = assemble(' .org $0200\nstart: lda #6\n clc\n adc #36\n jmp $FFF9').toPrg();
    expect(sim65(prg)).toMatchObject({ status: 42 });
  });

  it('a 65C02 program: the header says 65C02', () => {
    const prg = assemble(' .setcpu "65C02"\n .org $1000\n ldx #7\n phx\n ply\n bra :+\n brk\n: tya\n jmp $FFF9').toPrg();
    expect(sim65(prg)).toMatchObject({ status: 7 });
  });

  it('the reset address: execution starts there', () => {
    const prg = assemble(' .org $0200\n lda #1\n jmp $FFF9\nmain: lda #2\n jmp $FFF9').toPrg({ reset: 0x0205 });
    expect(sim65(prg)).toMatchObject({ status: 2 });
  });
});
