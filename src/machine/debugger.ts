// A debugger for one Machine: breakpoints, watchpoints, single step, step
// over, run to an address, registers and memory, disassembly around PC.
//
// How to drive this:
//   const dbg = new Debugger(machine, { symbols: { main: 0x0200 } });
//   dbg.breakAt('main');             // an address or a symbol
//   dbg.continue(1_000_000);         // a MachineExit ('breakpoint', ...)
//   dbg.step(); dbg.stepOver();
//   dbg.registers();                 // { pc, a, x, y, s, p, cycles }
//   dbg.disassembleAround(dbg.registers().pc, 5);

import type { Machine, MachineExit } from './machine.js';
import { disassemble, type Instruction } from '../isa/disasm.js';

export interface Registers {
  pc: number;
  a: number;
  x: number;
  y: number;
  s: number;
  p: number;
  cycles: number;
  instructions: number;
}

export interface DebuggerOptions {
  /** Label -> address, e.g. from the assembler's symbol table. */
  symbols?: Record<string, number>;
  /** Addresses known to start an instruction (from debug info: where source lines' code starts). */
  knownStarts?: ReadonlySet<number>;
}

export class Debugger {
  private readonly symbols: Map<string, number>;
  private readonly labels = new Map<number, string>();
  private readonly knownStarts: ReadonlySet<number>;

  constructor(readonly machine: Machine, options: DebuggerOptions = {}) {
    this.symbols = new Map(Object.entries(options.symbols ?? {}));
    this.knownStarts = options.knownStarts ?? new Set();
    for (const [name, address] of this.symbols) if (!this.labels.has(address)) this.labels.set(address, name);
  }

  /** An address, or the address of a symbol; throws on an unknown symbol or a bad address. */
  resolve(where: number | string): number {
    if (typeof where === 'number') {
      if (!Number.isInteger(where) || where < 0 || where > 0xffff) throw new RangeError(`address ${where} is not in $0000-$FFFF`);
      return where;
    }
    const address = this.symbols.get(where);
    if (address === undefined) throw new Error(`unknown symbol "${where}"`);
    return address;
  }

  /** The label of an address, if the symbol table has one. */
  labelOf(address: number): string | undefined {
    return this.labels.get(address);
  }

  breakAt(where: number | string) {
    this.machine.addBreakpoint(this.resolve(where));
  }
  clearBreak(where: number | string) {
    this.machine.removeBreakpoint(this.resolve(where));
  }
  watch(where: number | string, access: { read?: boolean; write?: boolean } = { read: true, write: true }) {
    this.machine.addWatchpoint(this.resolve(where), access);
  }
  unwatch(where: number | string) {
    this.machine.removeWatchpoint(this.resolve(where));
  }

  /** Runs until a breakpoint, watchpoint or another exit, or `budget` cycles. */
  continue(budget = Number.MAX_SAFE_INTEGER): MachineExit {
    return this.machine.run(budget);
  }

  /** Executes one instruction (devices and traps handled as in a run). */
  step(): MachineExit {
    return this.machine.run(1);
  }

  /** Like step, but runs a JSR's subroutine to its return. */
  stepOver(budget = 100_000_000): MachineExit {
    const cpu = this.machine.cpu;
    if (cpu.ram[cpu.pc] !== 0x20) return this.step();
    return this.runTo((cpu.pc + 3) & 0xffff, budget);
  }

  /**
   * Runs until PC reaches `where` (or another stop: a breakpoint, an exit, a
   * guest waiting for input). When `budget` cycles pass first, it stops there
   * and throws a RangeError that says so: it never returns short of `where`
   * as if it had got there.
   */
  runTo(where: number | string, budget = 100_000_000): MachineExit {
    const target = this.resolve(where);
    const had = this.machine.breakpointList.includes(target);
    this.machine.addBreakpoint(target);
    try {
      const exit = this.machine.run(budget);
      if (exit.reason === 'budget') {
        const hex = (n: number) => '$' + n.toString(16).toUpperCase().padStart(4, '0');
        throw new RangeError(`runTo ${hex(target)}: not reached in ${budget.toLocaleString('en-US')} cycles (stopped at ${hex(exit.pc)}; give a larger budget, or check the address)`);
      }
      return exit;
    } finally {
      if (!had) this.machine.removeBreakpoint(target);
    }
  }

  registers(): Registers {
    const c = this.machine.cpu;
    return { pc: c.pc, a: c.a, x: c.x, y: c.y, s: c.s, p: c.p, cycles: c.cycles, instructions: c.instructions };
  }

  setRegisters(regs: Partial<Omit<Registers, 'cycles' | 'instructions'>>) {
    const c = this.machine.cpu;
    if (regs.pc !== undefined) c.pc = regs.pc;
    if (regs.a !== undefined) c.a = regs.a;
    if (regs.x !== undefined) c.x = regs.x;
    if (regs.y !== undefined) c.y = regs.y;
    if (regs.s !== undefined) c.s = regs.s;
    if (regs.p !== undefined) c.p = regs.p;
  }

  /** `length` bytes of memory from `where` (wrapping at $FFFF), without device side effects. */
  readMemory(where: number | string, length: number): Uint8Array {
    const start = this.resolve(where);
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.machine.peekBus((start + i) & 0xffff);
    return out;
  }

  /** Writes bytes into guest memory (RAM and ROM alike: a debugger may patch ROM). */
  writeMemory(where: number | string, bytes: ArrayLike<number>) {
    const start = this.resolve(where);
    for (let i = 0; i < bytes.length; i++) this.machine.cpu.poke(start + i, bytes[i]);
  }

  /** `count` instructions from `where`. */
  disassemble(where: number | string, count: number): Array<Instruction & { label?: string }> {
    const out: Array<Instruction & { label?: string }> = [];
    let a = this.resolve(where);
    for (let i = 0; i < count; i++) {
      const ins = disassemble((x) => this.machine.peekBus(x), a, this.machine.cpu.model);
      const target = ins.target !== undefined ? this.labels.get(ins.target) : undefined;
      out.push({ ...ins, text: target ? ins.text.replace(/\$[0-9A-F]{4}/, target) : ins.text, label: this.labels.get(a) });
      a = (a + ins.bytes.length) & 0xffff;
    }
    return out;
  }

  /**
   * Instructions around `address`: `before` instructions leading to it and
   * `after` from it on. The instructions before are found by decoding
   * forward from earlier starts, and the start chosen is the one whose
   * decoding reaches `address` on an instruction boundary and looks most
   * like code: it starts at (and passes) addresses the debug info or the
   * labels say begin instructions, and decodes no illegal or undocumented
   * opcodes. Instructions are never cut in the middle.
   */
  disassembleAround(address: number, before = 4, after = 8): Array<Instruction & { label?: string }> {
    const model = this.machine.cpu.model;
    const peek = (x: number) => this.machine.peekBus(x & 0xffff);
    const known = (a: number) => this.knownStarts.has(a) || this.labels.has(a);
    let best: { start: number; score: number } | null = null;
    const reach = before * 3 + 3;
    for (let back = 1; back <= reach && address - back >= 0; back++) {
      const start = address - back;
      let a = start;
      let score = known(start) ? 4 : 0;
      let count = 0;
      while (a < address) {
        const ins = disassemble(peek, a, model);
        if (ins.info.undocumented || ins.info.mnemonic === 'JAM' || ins.info.mnemonic === 'BRK') score -= 3;
        if (a !== start && known(a)) score += 2;
        a += ins.bytes.length;
        count++;
      }
      if (a !== address) continue;
      // Enough instructions to show, but of two equally likely starts the nearer wins (it assumes less).
      score += Math.min(count, before);
      if (!best || score > best.score) best = { start, score };
    }
    if (!best) return this.disassemble(address, after);
    const leading = this.disassemble(best.start, before * 3 + 3).filter((ins) => ins.address < address);
    return [...leading.slice(-before), ...this.disassemble(address, after)];
  }
}
