// A debugging session on one machine: what the monitor, the debug adapter
// and the page share. Breakpoints by address, symbol or source line (with
// conditions, hit counts, log messages), watchpoints, stepping by
// instruction or source line (in, over, out), backwards too (from the
// recorded history), the call stack from JSR frames and the debug info's
// functions, C locals, expressions, and the guest's output given once.
//
// How to drive this:
//   const s = new DebugSession(machine, { symbols, output: (text) => ... });
//   s.setSourceBreakpoints('hello.c', [{ line: 14 }]);
//   let stop = s.resume('continue');          // runs a slice; null: not stopped yet, call again
//   stop = s.step('line');                    // { reason: 'step', ... }
//   s.stack();                                // [{ name: 'add', pc, line }, { name: 'main', ... }]
//   s.step('back');                           // the line before, exactly as it was
// Runs go in slices (`resume` returns null while the guest goes on), so an
// event loop can pause a run between two calls.

import type { Machine, MachineExit } from '../machine/machine.js';
import { Debugger } from '../machine/debugger.js';
import { History, type HistoryOptions } from './history.js';
import { DebugSymbols, type FunctionInfo, type SourceLine } from './symbols.js';
import { evaluate, ExprError } from './expr.js';

export type StopReason = 'entry' | 'step' | 'breakpoint' | 'function breakpoint' | 'data breakpoint' | 'pause' | 'exit' | 'exception' | 'goto';

export interface Stop {
  reason: StopReason;
  /** One line for a person: "breakpoint at hello.c:14", "the program exited with status 3". */
  description: string;
  /** The ids of the breakpoints that stopped it. */
  hit?: number[];
  exitCode?: number;
  /** The history has nothing further back. */
  historyStart?: boolean;
}

export interface BreakpointSpec {
  condition?: string;
  /** "3" or "== 3": stop at the 3rd hit; ">= 3", "> 3", "% 3" (every third). */
  hitCondition?: string;
  /** Printed instead of stopping; {expressions} in it are replaced by their values. */
  logMessage?: string;
}

export interface Breakpoint extends BreakpointSpec {
  id: number;
  kind: 'address' | 'source' | 'function';
  addresses: number[];
  verified: boolean;
  /** Where it really is (a source breakpoint moves to the next line with code). */
  source?: { file: string; line: number };
  name?: string;
  hits: number;
  message?: string;
}

export interface Watch extends BreakpointSpec {
  id: number;
  address: number;
  size: number;
  access: 'read' | 'write' | 'readWrite';
  hits: number;
}

export interface Frame {
  /** Where it is: the PC for the innermost, the JSR that called the next inner frame for the others. */
  pc: number;
  name: string;
  line?: SourceLine;
  fn?: FunctionInfo;
  /** The S register in this frame (the innermost's is S itself). */
  s: number;
}

export interface SessionOptions {
  symbols?: DebugSymbols;
  /** Where the guest's output goes (each byte once, also after going back and forward again). */
  output?: (bytes: Uint8Array) => void;
  /** Reverse execution: history options, or false for none. */
  history?: HistoryOptions | false;
  /** Cycles per `resume` slice (default 200,000). */
  slice?: number;
  /** The zero-page address of cc65's C stack pointer (a sim65 program's header gives it). */
  cStackPointer?: number;
}

type StepKind = 'instruction' | 'line' | 'over' | 'overInstruction' | 'out' | 'back' | 'backInstruction' | 'continue' | 'reverseContinue';

const JSR = 0x20;
const RTS = 0x60;
const RTI = 0x40;

export class DebugSession {
  readonly machine: Machine;
  readonly symbols: DebugSymbols;
  readonly debugger: Debugger;
  readonly history?: History;
  private readonly output?: (bytes: Uint8Array) => void;
  private readonly slice: number;
  private readonly breakpoints = new Map<number, Breakpoint>();
  private readonly watches = new Map<number, Watch>();
  private nextId = 1;
  /** Output bytes already given (console.produced counts every byte the guest wrote). */
  private emitted: number;
  private pending: { kind: StepKind; target?: (s: DebugSession) => boolean; until?: { pc: number; s: number }; budgetEnd: number } | null = null;
  private pauseWanted = false;
  /** The last slice ended with the guest waiting for input (sim65's read with none there): resume again once input came. */
  waitingForInput = false;
  cStackPointer?: number;

  constructor(machine: Machine, options: SessionOptions = {}) {
    this.machine = machine;
    this.symbols = options.symbols ?? new DebugSymbols();
    this.debugger = new Debugger(machine, { symbols: this.symbols.table(), knownStarts: this.symbols.knownStarts });
    this.output = options.output;
    this.slice = options.slice ?? 200_000;
    this.cStackPointer = options.cStackPointer ?? this.symbols.cStackPointer;
    if (options.history !== false) this.history = new History(machine, options.history || {});
    this.emitted = machine.console.produced;
  }

  // ---- Breakpoints ---------------------------------------------------------------------

  /** Replaces the breakpoints of one source file (as DAP's setBreakpoints does). */
  setSourceBreakpoints(file: string, lines: Array<BreakpointSpec & { line: number }>): Breakpoint[] {
    const files = new Set(this.symbols.matchFiles(file));
    for (const [id, b] of this.breakpoints) if (b.kind === 'source' && b.source && (files.has(b.source.file) || b.source.file === file)) this.deleteBreakpoint(id);
    return lines.map((l) => {
      const at = this.symbols.breakpointAddresses(file, l.line);
      const b = this.add({ kind: 'source', addresses: at?.addresses ?? [], verified: !!at, source: at ? { file: at.file, line: at.line } : { file, line: l.line }, message: at ? undefined : `no code at or after line ${l.line} of ${file} in the debug info`, ...spec(l) });
      return b;
    });
  }

  /** Replaces the function breakpoints. */
  setFunctionBreakpoints(list: Array<BreakpointSpec & { name: string }>): Breakpoint[] {
    for (const [id, b] of this.breakpoints) if (b.kind === 'function') this.deleteBreakpoint(id);
    return list.map((f) => {
      let address: number | undefined;
      try {
        address = this.resolve(f.name);
      } catch {
        address = undefined;
      }
      return this.add({ kind: 'function', name: f.name, addresses: address === undefined ? [] : [address], verified: address !== undefined, message: address === undefined ? `unknown function "${f.name}"` : undefined, ...spec(f) });
    });
  }

  /** A breakpoint at an address (or symbol, or file:line). */
  addBreakpoint(where: string | number, options: BreakpointSpec = {}): Breakpoint {
    if (typeof where === 'string') {
      const m = /^(.+):(\d+)$/.exec(where);
      if (m && !this.symbols.address(where)) {
        const at = this.symbols.breakpointAddresses(m[1], Number(m[2]));
        if (!at) throw new Error(`no code at or after line ${m[2]} of ${m[1]} in the debug info`);
        return this.add({ kind: 'source', addresses: at.addresses, verified: true, source: { file: at.file, line: at.line }, ...spec(options) });
      }
    }
    const address = this.resolve(where);
    return this.add({ kind: 'address', addresses: [address], verified: true, name: typeof where === 'string' ? where : undefined, ...spec(options) });
  }

  private add(b: Omit<Breakpoint, 'id' | 'hits'>): Breakpoint {
    const bp: Breakpoint = { ...b, id: this.nextId++, hits: 0 };
    if (bp.condition) this.checkExpression(bp.condition);
    this.breakpoints.set(bp.id, bp);
    for (const a of bp.addresses) this.machine.addBreakpoint(a);
    return bp;
  }

  deleteBreakpoint(id: number): boolean {
    const b = this.breakpoints.get(id);
    if (b) {
      this.breakpoints.delete(id);
      for (const a of b.addresses) if (!this.breakpointsAt(a).length) this.machine.removeBreakpoint(a);
      return true;
    }
    const w = this.watches.get(id);
    if (!w) return false;
    this.watches.delete(id);
    for (let i = 0; i < w.size; i++) this.applyWatch((w.address + i) & 0xffff);
    return true;
  }

  breakpointList(): Breakpoint[] {
    return [...this.breakpoints.values()];
  }
  watchList(): Watch[] {
    return [...this.watches.values()];
  }

  private breakpointsAt(address: number): Breakpoint[] {
    return [...this.breakpoints.values()].filter((b) => b.addresses.includes(address));
  }

  /** A watchpoint (a data breakpoint) on `size` bytes from `where`. */
  addWatch(where: string | number, access: Watch['access'] = 'write', size = 1, options: BreakpointSpec = {}): Watch {
    const address = this.resolve(where);
    if (options.condition) this.checkExpression(options.condition);
    const w: Watch = { id: this.nextId++, address, size, access, hits: 0, ...spec(options) };
    this.watches.set(w.id, w);
    for (let i = 0; i < size; i++) this.applyWatch((address + i) & 0xffff);
    return w;
  }

  /** Replaces the watchpoints (DAP's setDataBreakpoints). */
  setWatches(list: Array<BreakpointSpec & { address: number; size?: number; access: Watch['access'] }>): Watch[] {
    for (const id of [...this.watches.keys()]) this.deleteBreakpoint(id);
    return list.map((w) => this.addWatch(w.address, w.access, w.size ?? 1, w));
  }

  private applyWatch(address: number) {
    let read = false;
    let write = false;
    for (const w of this.watches.values()) {
      if (address < w.address || address >= w.address + w.size) continue;
      read ||= w.access !== 'write';
      write ||= w.access !== 'read';
    }
    if (read || write) this.machine.addWatchpoint(address, { read, write });
    else this.machine.removeWatchpoint(address);
  }

  // ---- Names and expressions -----------------------------------------------------------

  /** An address: a number, a symbol, a C function, or an expression of them. */
  resolve(where: string | number, radix = 10): number {
    if (typeof where === 'number') return this.debugger.resolve(where);
    const direct = this.symbols.address(where.trim());
    if (direct !== undefined) return direct;
    const v = this.evaluate(where, radix);
    if (v < 0 || v > 0xffff) throw new Error(`${where} = ${v} is not an address ($0000-$FFFF)`);
    return v;
  }

  /** The value of an expression (C locals of the innermost frame, symbols, registers, memory). */
  evaluate(text: string, radix = 10): number {
    const locals = this.localValues(0);
    return evaluate(text, {
      radix,
      read: (a) => this.machine.peekBus(a),
      name: (id) => locals.get(id) ?? this.symbols.address(id) ?? this.register(id),
    });
  }

  private checkExpression(text: string) {
    try {
      this.evaluate(text);
    } catch (err) {
      if (err instanceof ExprError) throw new Error(`condition "${text}": ${err.message}`);
    }
  }

  /** A register or flag by name (A X Y S SP PC P, C Z I D V N), case-insensitive. */
  register(name: string): number | undefined {
    const c = this.machine.cpu;
    const n = name.replace(/^\./, '').toUpperCase();
    const flags: Record<string, number> = { N: 7, V: 6, B: 4, D: 3, I: 2, Z: 1, C: 0 };
    switch (n) {
      case 'A': return c.a;
      case 'X': return c.x;
      case 'Y': return c.y;
      case 'S': case 'SP': return c.s;
      case 'PC': return c.pc;
      case 'P': return c.p;
      case 'CYCLES': return c.cycles;
      default: return n in flags ? (c.p >> flags[n]) & 1 : undefined;
    }
  }

  // ---- Running --------------------------------------------------------------------------

  /**
   * Starts a run or a step and runs its first slice: a Stop when it is over,
   * null when the guest goes on (call `resume()` again). Steps by line and
   * backwards finish in one call.
   */
  step(kind: StepKind, budget = Number.MAX_SAFE_INTEGER): Stop | null {
    this.pauseWanted = false;
    const cpu = this.machine.cpu;
    const budgetEnd = Math.min(Number.MAX_SAFE_INTEGER, cpu.cycles + budget);
    switch (kind) {
      case 'back':
      case 'backInstruction':
      case 'reverseContinue':
        return this.backwards(kind);
      case 'instruction':
        return this.finishStep(this.runOne() ?? this.stepStop());
      case 'overInstruction':
        if (this.machine.peekBus(cpu.pc) === JSR) this.pending = { kind, until: { pc: (cpu.pc + 3) & 0xffff, s: cpu.s }, budgetEnd };
        else return this.finishStep(this.runOne() ?? this.stepStop());
        break;
      case 'out': {
        const caller = this.stack()[1];
        if (!caller) return this.step('continue', budget);
        this.pending = { kind, until: { pc: (caller.pc + 3) & 0xffff, s: (caller.s) & 0xff }, budgetEnd };
        break;
      }
      case 'line':
      case 'over': {
        const from = this.currentLine();
        const s0 = cpu.s;
        const fromPc = cpu.pc;
        // Without source lines here, a line step is an instruction step.
        if (!from) return this.step(kind === 'line' ? 'instruction' : 'overInstruction', budget);
        this.pending = {
          kind,
          budgetEnd,
          target: (s) => {
            const pc = s.machine.cpu.pc;
            if (!s.symbols.isLineStart(pc)) return false;
            const line = s.symbols.lineAt(pc);
            if (!line) return false;
            if (kind === 'over' && s.machine.cpu.s < s0 && pc !== fromPc) return false;
            return !(line.file === from.file && line.line === from.line && s.machine.cpu.s === s0) || pc === fromPc;
          },
        };
        break;
      }
      case 'continue':
        this.pending = { kind, budgetEnd };
        break;
    }
    return this.resume(true);
  }

  /** Asks a run in progress to stop at its next slice. */
  pause() {
    this.pauseWanted = true;
  }

  get running(): boolean {
    return this.pending !== null;
  }

  /** Goes on with the run or step in progress for one slice: its Stop, or null while it goes on. */
  resume(first = false): Stop | null {
    const p = this.pending;
    if (!p) return null;
    if (this.pauseWanted && !first) {
      this.pending = null;
      this.pauseWanted = false;
      return this.stopped({ reason: 'pause', description: `paused at ${this.where()}` });
    }
    const cpu = this.machine.cpu;
    const sliceEnd = Math.min(p.budgetEnd, cpu.cycles + this.slice);
    // Leaving a breakpoint executes the instruction it stopped before.
    if (first) this.skipBreakpointHere();
    if (p.target) {
      // Line steps: instruction by instruction, JSRs to code without source lines (and all of them for "over") run to their return.
      while (cpu.cycles < sliceEnd) {
        const op = this.machine.peekBus(cpu.pc);
        if (op === JSR) {
          const target = this.machine.peekBus((cpu.pc + 1) & 0xffff) | (this.machine.peekBus((cpu.pc + 2) & 0xffff) << 8);
          if (p.kind === 'over' || !this.symbols.lineAt(target)) {
            const stop = this.runUntil({ pc: (cpu.pc + 3) & 0xffff, s: cpu.s }, p.budgetEnd);
            if (stop) return this.finish(stop);
            if (this.waitingForInput) return null; // the step goes on once input comes
            if (p.target(this)) return this.finish(this.stepStop());
            continue;
          }
        }
        const stop = this.runOne() ?? this.userBreakpointHere();
        if (stop) return this.finish(stop);
        if (this.waitingForInput) return null;
        if (p.target(this)) return this.finish(this.stepStop());
      }
    } else if (p.until) {
      const stop = this.runUntil(p.until, sliceEnd);
      if (stop) return this.finish(stop);
      if (this.reached(p)) return this.finish(this.stepStop());
    } else {
      const stop = this.runFree(sliceEnd);
      if (stop) return this.finish(stop);
    }
    if (cpu.cycles >= p.budgetEnd) return this.finish({ reason: 'pause', description: `stopped after the cycle budget at ${this.where()}` });
    return null;
  }

  private reached(p: NonNullable<DebugSession['pending']>): boolean {
    const cpu = this.machine.cpu;
    return !!p.until && cpu.pc === p.until.pc && cpu.s === p.until.s;
  }

  private finish(stop: Stop): Stop {
    this.pending = null;
    return this.stopped(stop);
  }

  private finishStep(stop: Stop): Stop {
    return this.stopped(stop);
  }

  private stopped(stop: Stop): Stop {
    this.flushOutput();
    return stop;
  }

  private stepStop(): Stop {
    return { reason: 'step', description: `stepped to ${this.where()}` };
  }

  /** Runs the machine (recording its history) up to `end` cycles; a Stop for anything but the budget. */
  private runMachine(budget: number): MachineExit {
    const exit = this.history ? this.history.run(budget) : this.machine.run(budget, { idle: 'off' });
    this.waitingForInput = exit.reason === 'wait';
    this.flushOutput();
    return exit;
  }

  /** The next run does not stop at a breakpoint at PC (it executes that instruction). */
  private skipBreakpointHere() {
    const cpu = this.machine.cpu;
    if (this.machine.breakpointList.includes(cpu.pc)) cpu.skipBreakpointOnce();
  }

  /** One instruction; a Stop when it ended the program or hit a watchpoint (breakpoints at the new PC are not looked at). */
  private runOne(): Stop | null {
    const cpu = this.machine.cpu;
    const before = cpu.instructions;
    for (let i = 0; i < 4 && cpu.instructions === before; i++) {
      this.skipBreakpointHere();
      const exit = this.runMachine(1);
      const stop = this.exitStop(exit, false);
      if (stop) return stop;
      if (exit.reason === 'wait') return null;
    }
    return null;
  }

  /** A user breakpoint at PC that counts (a line step that reaches one stops there). */
  private userBreakpointHere(): Stop | null {
    const hit = this.breakpointsAt(this.machine.cpu.pc).filter((b) => this.counts(b));
    for (const b of hit.filter((x) => x.logMessage)) this.log(b.logMessage!);
    const stopping = hit.filter((b) => !b.logMessage);
    if (!stopping.length) return null;
    return { reason: stopping[0].kind === 'function' ? 'function breakpoint' : 'breakpoint', description: `breakpoint ${stopping.map((x) => x.id).join(', ')} at ${this.where()}`, hit: stopping.map((x) => x.id) };
  }

  /** Runs until PC and S are `until` (a return), a breakpoint or another stop, or `end` cycles. */
  private runUntil(until: { pc: number; s: number }, end: number): Stop | null {
    const cpu = this.machine.cpu;
    const had = this.machine.breakpointList.includes(until.pc);
    this.machine.addBreakpoint(until.pc);
    try {
      while (cpu.cycles < end) {
        const exit = this.runMachine(end - cpu.cycles);
        if (exit.reason === 'breakpoint' && cpu.pc === until.pc && cpu.s === until.s) return null;
        if (exit.reason === 'breakpoint' && cpu.pc === until.pc && !had) {
          const stop = this.runOne();
          if (stop) return stop;
          continue;
        }
        const stop = this.exitStop(exit, true);
        if (stop) return stop;
        if (exit.reason === 'wait') return null;
      }
      return null;
    } finally {
      if (!had) this.machine.removeBreakpoint(until.pc);
    }
  }

  private runFree(end: number): Stop | null {
    const cpu = this.machine.cpu;
    while (cpu.cycles < end) {
      const exit = this.runMachine(end - cpu.cycles);
      const stop = this.exitStop(exit, true);
      if (stop) return stop;
      if (exit.reason === 'wait') return null;
    }
    return null;
  }

  /** What an exit means for the session: a Stop, or null to go on (a breakpoint whose condition is false, a logpoint). */
  private exitStop(exit: MachineExit, breakpoints: boolean): Stop | null {
    switch (exit.reason) {
      case 'budget':
      case 'idle':
      case 'wait':
        return null;
      case 'breakpoint': {
        if (!breakpoints) return null;
        if (!this.breakpointsAt(exit.pc).length) return null;
        return this.userBreakpointHere() ?? this.runOne();
      }
      case 'watchpoint': {
        const a = exit.address!;
        const hit = [...this.watches.values()].filter((w) => a >= w.address && a < w.address + w.size && (w.access === 'readWrite' || w.access === exit.access) && this.counts(w));
        if (!hit.length) return null;
        for (const w of hit.filter((x) => x.logMessage)) this.log(w.logMessage!);
        const stopping = hit.filter((x) => !x.logMessage);
        if (!stopping.length) return null;
        return { reason: 'data breakpoint', description: `watchpoint ${stopping.map((x) => x.id).join(', ')}: ${exit.access} of $${hex4(a)} (value $${hex2(exit.value ?? 0)}) at ${this.where()}`, hit: stopping.map((x) => x.id) };
      }
      case 'exit':
        return { reason: 'exit', description: `the program exited with status ${exit.code}`, exitCode: exit.code };
      case 'fault':
        return { reason: 'exception', description: `emulator error: ${exit.error?.message}` };
      case 'jam':
      case 'trap':
        return { reason: 'exception', description: `illegal opcode $${hex2(this.machine.peekBus(exit.pc))} at ${this.where()}` };
      case 'stp':
        return { reason: 'exception', description: `the CPU stopped (STP) at ${this.where()}` };
      case 'wai':
        return { reason: 'exception', description: `the CPU waits (WAI) for an interrupt that never comes at ${this.where()}` };
      case 'self-loop':
        return { reason: 'exception', description: `the program loops on itself at ${this.where()}` };
    }
  }

  /** Counts a hit of a breakpoint whose condition holds; true when its hit condition says stop. */
  private counts(b: Breakpoint | Watch): boolean {
    if (b.condition) {
      try {
        if (!this.evaluate(b.condition)) return false;
      } catch (err) {
        this.log(`breakpoint ${b.id}: condition "${b.condition}": ${(err as Error).message}`);
        return true;
      }
    }
    b.hits++;
    return hitConditionHolds(b.hitCondition, b.hits);
  }

  private log(message: string) {
    const text = message.replace(/\{([^}]+)\}/g, (_, e: string) => {
      try {
        return String(this.evaluate(e));
      } catch (err) {
        return `<${(err as Error).message}>`;
      }
    });
    this.output?.(new TextEncoder().encode(text + '\n'));
  }

  /** Gives the guest's new output (once: what a replay prints again was given already). */
  flushOutput() {
    const c = this.machine.console;
    const bytes = c.takeOutput();
    const start = c.produced - bytes.length;
    const fresh = bytes.subarray(Math.max(0, this.emitted - start));
    this.emitted = Math.max(this.emitted, c.produced);
    if (fresh.length) this.output?.(fresh);
  }

  /** Input for the guest's console; the recorded future, if any, is dropped. */
  input(data: string | Uint8Array) {
    this.machine.console.input(data);
    this.history?.edited('input');
  }

  /** After the debugger changed memory or registers: the recorded future is dropped. */
  edited() {
    this.history?.edited();
  }

  // ---- Backwards ---------------------------------------------------------------------------

  private backwards(kind: 'back' | 'backInstruction' | 'reverseContinue'): Stop {
    const h = this.history;
    if (!h) return { reason: 'step', description: 'this session keeps no history: it cannot go back' };
    const cpu = this.machine.cpu;
    const atStart = () => cpu.instructions <= h.start.instructions;
    if (atStart()) return this.stopped({ reason: 'step', description: `at the start of the history, ${this.where()}`, historyStart: true });
    if (kind === 'backInstruction') {
      h.seek(cpu.instructions - 1);
      return this.stopped({ reason: 'step', description: `stepped back to ${this.where()}` });
    }
    if (kind === 'back') {
      const from = this.currentLine();
      if (!from) {
        h.seek(cpu.instructions - 1);
        return this.stopped({ reason: 'step', description: `stepped back to ${this.where()}` });
      }
      const s0 = cpu.s;
      const pc0 = cpu.pc;
      const found = h.searchBack((m) => {
        const pc = m.cpu.pc;
        if (!this.symbols.isLineStart(pc) || m.cpu.s < s0) return false;
        const line = this.symbols.lineAt(pc);
        return !!line && (!(line.file === from.file && line.line === from.line && m.cpu.s === s0) || pc === pc0);
      });
      return this.stopped({ reason: 'step', description: found ? `stepped back to ${this.where()}` : `at the start of the history, ${this.where()}`, historyStart: !found });
    }
    let hit: number[] = [];
    let watch = false;
    const found = h.searchBack(
      (m, exit) => {
        if (exit?.reason === 'watchpoint') {
          const a = exit.address!;
          const ws = [...this.watches.values()].filter((w) => a >= w.address && a < w.address + w.size && (w.access === 'readWrite' || w.access === exit.access) && !w.logMessage && this.conditionHolds(w));
          hit = ws.map((w) => w.id);
          watch = true;
          return ws.length > 0;
        }
        const bs = this.breakpointsAt(m.cpu.pc).filter((b) => !b.logMessage && this.conditionHolds(b));
        hit = bs.map((b) => b.id);
        watch = false;
        return bs.length > 0;
      },
      { fast: true },
    );
    if (!found) return this.stopped({ reason: 'step', description: `at the start of the history, ${this.where()}`, historyStart: true });
    // searchBack left the machine at the hit; which ids were hit there is asked again (the last call may have been a later candidate).
    const bs = this.breakpointsAt(cpu.pc).filter((b) => !b.logMessage && this.conditionHolds(b));
    if (bs.length) {
      hit = bs.map((b) => b.id);
      watch = false;
    }
    return this.stopped({ reason: watch ? 'data breakpoint' : 'breakpoint', description: `breakpoint ${hit.join(', ')} at ${this.where()} (going back)`, hit });
  }

  private conditionHolds(b: Breakpoint | Watch): boolean {
    if (!b.condition) return true;
    try {
      return !!this.evaluate(b.condition);
    } catch {
      return true;
    }
  }

  // ---- Where it is ---------------------------------------------------------------------------

  /** The source line at PC (or of the nearest line start below it within the same line). */
  currentLine(): SourceLine | undefined {
    return this.symbols.lineAt(this.machine.cpu.pc);
  }

  /** "main (hello.c:14) $0262" */
  where(pc = this.machine.cpu.pc): string {
    const line = this.symbols.lineAt(pc);
    const name = this.symbols.functionName(pc);
    return `${name ? name + ' ' : ''}${line ? `(${line.file}:${line.line}) ` : ''}$${hex4(pc)}`;
  }

  /**
   * The call stack, innermost first: the current function, then each caller
   * at its JSR. Return addresses are found on the 6502 stack: a word that
   * points just past a JSR whose target is the start of (or inside) the
   * frame found before it.
   */
  stack(max = 64): Frame[] {
    const cpu = this.machine.cpu;
    const peek = (a: number) => this.machine.peekBus(a & 0xffff);
    const frames: Frame[] = [this.frameAt(cpu.pc, cpu.s)];
    let s = cpu.s;
    while (s < 0xfe && frames.length < max) {
      const ret = peek(0x100 + s + 1) | (peek(0x100 + s + 2) << 8);
      const jsr = (ret - 2) & 0xffff;
      if (peek(jsr) === JSR) {
        const target = peek(jsr + 1) | (peek(jsr + 2) << 8);
        const inner = frames[frames.length - 1];
        const fits = inner.fn ? target === inner.fn.start || (target >= inner.fn.start && target < inner.fn.end) : this.plausibleCall(target, inner.pc);
        if (fits) {
          frames.push(this.frameAt(jsr, s + 2));
          s += 2;
          continue;
        }
      }
      s++;
    }
    return frames;
  }

  /** Without function ranges: the JSR's target is at or before the inner frame's PC, and within a few KiB. */
  private plausibleCall(target: number, pc: number): boolean {
    return target <= pc && pc - target < 0x1000;
  }

  private frameAt(pc: number, s: number): Frame {
    const fn = this.symbols.functionAt(pc);
    const name = fn?.name ?? this.symbols.near(pc, 0x1000)?.name ?? `$${hex4(pc)}`;
    return { pc, name, line: this.symbols.lineAt(pc), fn, s };
  }

  /** The C locals of frame `index` (by name): autos from the C stack pointer, statics at their address. */
  localValues(index: number): Map<string, number> {
    const out = new Map<string, number>();
    for (const l of this.locals(index)) if (l.value !== undefined) out.set(l.name, l.value);
    return out;
  }

  /**
   * The C locals of a frame with their addresses and 16-bit values (cc65's
   * debug info gives no types). An auto's address is the C stack pointer at
   * the function's entry plus its offset; at a statement's start the
   * pointer is that entry value less the function's frame of locals: right
   * once the declarations have run (a line that declares a local with a
   * value is read before its push). For an outer frame, its callee's entry
   * pointer plus the callee's arguments. On a function's first line (its
   * prologue) autos have no address yet.
   */
  locals(index: number): Array<{ name: string; address?: number; value?: number; storage: string }> {
    const frames = this.stack(index + 1);
    const frame = frames[index];
    if (!frame?.fn || !frame.fn.c) return [];
    const word = (a: number) => this.machine.peekBus(a & 0xffff) | (this.machine.peekBus((a + 1) & 0xffff) << 8);
    let entry: number | undefined;
    if (this.cStackPointer !== undefined) {
      let sp = word(this.cStackPointer);
      entry = (sp + frames[0].fn!.frameSize) & 0xffff;
      for (let i = 1; i <= index && entry !== undefined; i++) {
        const callee = frames[i - 1].fn;
        if (!callee?.c) {
          entry = undefined;
          break;
        }
        sp = (entry + argumentBytes(callee)) & 0xffff;
        entry = (sp + frames[i].fn!.frameSize) & 0xffff;
      }
      if (!frames[0].fn?.c) entry = undefined;
      // On the function's own first line its prologue has not yet put the arguments where their offsets say.
      const head = frames[0].fn ? this.symbols.lineAt(frames[0].fn.start) : undefined;
      const here = this.symbols.lineAt(frames[0].pc);
      if (index === 0 && head && here && head.file === here.file && head.line === here.line) entry = undefined;
    }
    return frame.fn.locals.map((l) => {
      const address = l.storage === 'static' ? l.address : l.storage === 'auto' && entry !== undefined ? (entry + l.offset) & 0xffff : undefined;
      return { name: l.name, address, value: address === undefined ? undefined : word(address), storage: l.storage };
    });
  }
}

/** The bytes of a C function's arguments on the C stack: its autos at offsets 0 and up (ints: two bytes each). */
function argumentBytes(fn: FunctionInfo): number {
  const args = fn.locals.filter((l) => l.storage === 'auto' && l.offset >= 0);
  return args.length ? Math.max(...args.map((l) => l.offset)) + 2 : 0;
}

function spec(b: BreakpointSpec): BreakpointSpec {
  const out: BreakpointSpec = {};
  if (b.condition?.trim()) out.condition = b.condition.trim();
  if (b.hitCondition?.trim()) out.hitCondition = b.hitCondition.trim();
  if (b.logMessage !== undefined && b.logMessage !== '') out.logMessage = b.logMessage;
  return out;
}

/** DAP's hit conditions: "3" / "==3" the third hit, ">=3", ">3", "<3", "%3" every third. */
export function hitConditionHolds(condition: string | undefined, hits: number): boolean {
  if (!condition) return true;
  const m = /^\s*(==|>=|<=|>|<|%)?\s*(\d+)\s*$/.exec(condition);
  if (!m) return true;
  const n = Number(m[2]);
  switch (m[1]) {
    case '>=': return hits >= n;
    case '<=': return hits <= n;
    case '>': return hits > n;
    case '<': return hits < n;
    case '%': return n > 0 && hits % n === 0;
    default: return hits === n;
  }
}

const hex2 = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');
const hex4 = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
export { hex2, hex4, RTS, RTI };
