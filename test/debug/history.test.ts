// Stepping backwards is exact: the state reached by going back to any
// instruction (registers, cycles, all of memory, the console) is the one the
// forward run had there, over random programs and real ones (a cc65 C
// program, VIA interrupts and a terminal on the board), with checkpoints
// close together so that every path through them (keyframes, page diffs,
// trimming) is taken.

import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '../../src/machine/machine.ts';
import { History } from '../../src/debug/history.ts';
import { assemble } from '../../src/asm/assembler.ts';
import { opcodeTable } from '../../src/isa/opcodes.ts';
import { buildFixtures, hasCl65 } from './fixtures.ts';

function fingerprint(m: Machine): string {
  const c = m.cpu;
  let h = 2166136261;
  for (let i = 0; i < 0x10000; i++) h = Math.imul(h ^ c.ram[i], 16777619);
  return `${c.pc} ${c.a} ${c.x} ${c.y} ${c.s} ${c.p} ${c.cycles} ${c.instructions} ${h >>> 0} ${m.console.produced} ${m.console.waiting} ${m.exitCode}`;
}

/** Records the fingerprint after each of `steps` single instructions, then checks going back to random ones and forward again. */
function checkExact(m: Machine, h: History, steps: number, seed: number) {
  const seen = new Map<number, string>();
  seen.set(m.cpu.instructions, fingerprint(m));
  for (let i = 0; i < steps; i++) {
    // One instruction, as a debugger's step does: an interrupt's entry (a run of its own) belongs to the instruction after it.
    const before = m.cpu.instructions;
    let exit = h.run(1);
    while (exit.reason === 'budget' && m.cpu.instructions === before) exit = h.run(1);
    // A power-off executes no instruction: that position is the one before it, where a run ends the program again.
    if (exit.reason === 'exit') break;
    seen.set(m.cpu.instructions, fingerprint(m));
    if (!['budget', 'breakpoint', 'watchpoint'].includes(exit.reason)) break;
  }
  const positions = [...seen.keys()];
  let r = seed;
  const next = () => (r = (Math.imul(r, 1103515245) + 12345) >>> 0);
  let checked = 0;
  for (let k = 0; k < 60; k++) {
    const at = positions[next() % positions.length];
    if (at < h.start.instructions) continue;
    h.seek(at);
    expect(fingerprint(m)).toBe(seen.get(at));
    checked++;
  }
  // Back to the newest position, and one step back from it.
  const last = positions[positions.length - 1];
  h.seek(last);
  expect(fingerprint(m)).toBe(seen.get(last));
  h.seek(last - 1);
  expect(fingerprint(m)).toBe(seen.get(last - 1));
  expect(checked).toBeGreaterThan(30);
}

/** A random program of documented instructions (no jumps, branches, stack resets or halts), looping forever. */
function randomProgram(seed: number): Uint8Array {
  const table = opcodeTable('6502').filter((o) => !o.undocumented && !['BRK', 'JMP', 'JSR', 'RTS', 'RTI', 'TXS', 'PLP'].includes(o.mnemonic) && o.mode !== 'rel');
  let r = seed;
  const next = () => (r = (Math.imul(r, 1103515245) + 12345) >>> 0) >>> 8;
  const bytes: number[] = [];
  while (bytes.length < 400) {
    const o = table[next() % table.length];
    bytes.push(o.opcode);
    for (let i = 1; i < o.bytes; i++) bytes.push(i === 2 ? 0x02 + (next() % 6) : next() & 0xff); // absolute operands in $0200-$07FF
  }
  bytes.push(0x4c, 0x00, 0x10); // JMP $1000
  const image = new Uint8Array(0x10000);
  image.set(bytes, 0x1000);
  return image;
}

describe('reverse execution', () => {
  for (const seed of [1, 2, 3]) {
    it(`goes back exactly over a random program (seed ${seed})`, async () => {
      const m = await Machine.create({ machine: 'raw', program: randomProgram(seed), load: 0, start: 0x1000 });
      const h = new History(m, { interval: 97 });
      checkExact(m, h, 3000, seed);
      expect(h.cost().checkpoints).toBeGreaterThan(32); // keyframes and diffs both used
    });
  }

  it('goes back exactly on the board: VIA timer interrupts and terminal input', async () => {
    const program = assemble(readFileSync(join(process.cwd(), 'examples/timer.s'), 'utf8'));
    expect(program.ok).toBe(true);
    const m = await Machine.create({ machine: 'board', program: program.bytes });
    const h = new History(m, { interval: 5_000 });
    h.run(200_000);
    m.console.input('hello\r');
    h.edited();
    checkExact(m, h, 20_000, 7);
    expect(new TextDecoder().decode(m.console.takeOutput())).toContain('hello');
  });

  it.runIf(hasCl65)('goes back exactly over a cc65 C program to its exit, and the exit is undone', async () => {
    const dir = buildFixtures();
    const m = await Machine.create({ machine: 'sim65', program: new Uint8Array(readFileSync(join(dir, 'sum.prg'))) });
    const h = new History(m, { interval: 300 });
    checkExact(m, h, 20_000, 11);
    h.seek(h.end.instructions);
    const end = m.cpu.instructions;
    expect(h.run(1_000_000).reason).toBe('exit');
    h.seek(end - 100);
    expect(m.exitCode).toBeNull();
    expect(h.run(1_000_000)).toMatchObject({ reason: 'exit', code: 14 });
  });

  it('stays under its bound, dropping the oldest checkpoints, and says what the history costs', async () => {
    const m = await Machine.create({ machine: 'raw', program: randomProgram(9), load: 0, start: 0x1000 });
    const h = new History(m, { interval: 100, maxBytes: 0x40000 });
    h.run(400_000);
    const cost = h.cost();
    expect(cost.bytes).toBeLessThanOrEqual(0x40000);
    expect(h.start.instructions).toBeGreaterThan(0);
    expect(() => h.seek(0)).toThrow(/before the start of the history/);
    expect(cost.bytesPerMillionCycles).toBeGreaterThan(0);
  });
});
