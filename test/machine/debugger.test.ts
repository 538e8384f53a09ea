// The debugger API and `hyper6502 disasm`.
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { Machine } from '../../src/machine/machine.ts';
import { Debugger } from '../../src/machine/debugger.ts';
import { main } from '../../src/cli/main.ts';

// main:  JSR sub ; INX ; JMP main      sub: INY ; INY ; RTS
const CODE = [0x20, 0x07, 0x02, 0xe8, 0x4c, 0x00, 0x02, 0xc8, 0xc8, 0x60];
const symbols = { main: 0x0200, sub: 0x0207, loop: 0x0203 };

async function debuggerFor() {
  const m = await Machine.create({ machine: 'raw', program: Uint8Array.from(CODE), load: 0x0200, start: 0x0200 });
  return new Debugger(m, { symbols });
}

describe('Debugger', () => {
  it('steps, steps over a JSR, runs to a label and breaks at one', async () => {
    const dbg = await debuggerFor();
    dbg.step();
    expect(dbg.registers().pc).toBe(0x0207); // into sub
    dbg.setRegisters({ pc: 0x0200 });
    dbg.stepOver();
    expect(dbg.registers()).toMatchObject({ pc: 0x0203, y: 2 }); // the JSR stepped into before, then INY INY
    dbg.runTo('main');
    expect(dbg.registers()).toMatchObject({ pc: 0x0200, x: 1 });
    expect(dbg.machine.breakpointList).toEqual([]); // runTo leaves no breakpoint behind
    dbg.breakAt('sub');
    expect(dbg.continue(1000)).toMatchObject({ reason: 'breakpoint', pc: 0x0207 });
    expect(dbg.continue(1000)).toMatchObject({ reason: 'breakpoint', pc: 0x0207 });
    dbg.clearBreak('sub');
    expect(() => dbg.breakAt('nowhere')).toThrow(/unknown symbol "nowhere"/);
    expect(() => dbg.breakAt(0x10000)).toThrow(/not in \$0000-\$FFFF/);
  });

  it('runTo an address the program never reaches says so, at its budget, and leaves no breakpoint', async () => {
    const dbg = await debuggerFor();
    expect(() => dbg.runTo(0xe010, 10_000)).toThrow(/^runTo \$E010: not reached in 10,000 cycles \(stopped at \$02[0-9A-F]{2}; give a larger budget, or check the address\)$/);
    expect(dbg.registers().cycles).toBeGreaterThanOrEqual(10_000);
    expect(dbg.machine.breakpointList).toEqual([]);
    expect(dbg.runTo('sub', 10_000)).toMatchObject({ reason: 'breakpoint', pc: 0x0207 });
  });

  it('reads and writes memory and registers, watches addresses', async () => {
    const dbg = await debuggerFor();
    expect([...dbg.readMemory('sub', 3)]).toEqual([0xc8, 0xc8, 0x60]);
    dbg.writeMemory(0x0207, [0xe8]); // sub now starts with INX
    dbg.setRegisters({ x: 0x10, a: 0x20 });
    dbg.step();
    dbg.step();
    expect(dbg.registers()).toMatchObject({ x: 0x11, a: 0x20 });
    dbg.writeMemory('sub', [0x8d, 0x00, 0x10]); // sub: STA $1000
    dbg.watch(0x1000, { write: true });
    dbg.setRegisters({ pc: 0x0200 });
    expect(dbg.continue(100)).toMatchObject({ reason: 'watchpoint', address: 0x1000, access: 'write', value: 0x20 });
  });

  it('disassembles with labels, also around PC', async () => {
    const dbg = await debuggerFor();
    expect(dbg.disassemble('main', 3).map((i) => `${i.label ?? ''}:${i.text}`)).toEqual(['main:JSR sub', 'loop:INX', ':JMP main']);
    expect(dbg.disassembleAround(0x0204, 1, 2).map((i) => i.address)).toEqual([0x0203, 0x0204, 0x0207]);
  });
});

describe('hyper6502 disasm', () => {
  async function cli(...argv: string[]) {
    let stdout = '', stderr = '';
    const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
    return { code, stdout, stderr };
  }

  it('lists a sim65 program from its load address, with its CPU', async () => {
    const r = await cli('disasm', join(import.meta.dirname, '../programs/hello.prg'), '--count', '3');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('0200  D8        CLD\n0201  A2 FF     LDX #$FF\n0203  9A        TXS\n');
  });

  it('names bad input in one line', async () => {
    expect((await cli('disasm')).stderr).toMatch(/disasm needs a FILE/);
    expect((await cli('disasm', 'nope.bin')).stderr).toMatch(/cannot read nope.bin: no such file/);
    const hello = join(import.meta.dirname, '../programs/hello.prg');
    expect((await cli('disasm', hello, '--start', '$0100')).stderr).toMatch(/--start \$0100 is outside the file/);
    expect((await cli('disasm', hello, '--cpu', '6502')).code).toBe(2);
  });
});
