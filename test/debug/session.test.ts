// A debugging session on the hello example (examples/hello.prg with its
// debug info, hello.dbg): a line step over a read that waits for input
// returns, not stopped yet, and ends on the next line once the input came;
// stepping back over the input and forward again reads it again, exactly.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '../../src/machine/machine.ts';
import { DebugSession, type Stop } from '../../src/debug/session.ts';
import { DebugSymbols } from '../../src/debug/symbols.ts';
import { parseSim65 } from '../../src/devices/sim65.ts';

const examples = join(import.meta.dirname, '../../examples');

describe('a debugging session on a C program that reads its input', () => {
  it('steps over the line that waits for input once the input comes, and back and forth over it exactly', async () => {
    const program = new Uint8Array(readFileSync(join(examples, 'hello.prg')));
    const symbols = DebugSymbols.fromDebugInfo(readFileSync(join(examples, 'hello.dbg'), 'utf8'));
    const m = await Machine.create({ machine: 'sim65', program, args: ['hello'] });
    let out = '';
    const s = new DebugSession(m, { symbols, cStackPointer: parseSim65(program).spAddress, output: (b) => (out += new TextDecoder().decode(b)) });
    const finish = (first: Stop | null, slices = 100) => {
      let stop = first;
      for (let i = 0; !stop && i < slices; i++) stop = s.resume();
      return stop;
    };
    const regs = () => ({ ...s.debugger.registers() });
    const fgetsLine = readFileSync(join(examples, 'hello.c'), 'utf8').split('\n').findIndex((l) => l.includes('fgets(')) + 1;
    s.addBreakpoint(`hello.c:${fgetsLine}`);
    expect(finish(s.step('continue'))?.description).toMatch(new RegExp(`^breakpoint 1 at main \\(hello\\.c:${fgetsLine}\\)`));
    const atRead = regs();
    // No input yet: each slice returns (null), the guest waiting.
    expect(finish(s.step('over'), 20)).toBeNull();
    expect(s.waitingForInput).toBe(true);
    expect(out).toBe('What is your name? ');
    s.input('Ada\n');
    expect(finish(null)?.description).toMatch(new RegExp(`^stepped to main \\(hello\\.c:${fgetsLine + 1}\\)`));
    const afterRead = regs();
    expect(s.step('back')?.description).toMatch(new RegExp(`^stepped back to main \\(hello\\.c:${fgetsLine}\\)`));
    expect(regs()).toEqual(atRead);
    expect(finish(s.step('over'))?.reason).toBe('step');
    expect(regs()).toEqual(afterRead);
    expect(finish(s.step('continue'), 1000)).toMatchObject({ reason: 'exit', exitCode: 0 });
    expect(out).toContain('Goodbye, Ada.');
  });
});
