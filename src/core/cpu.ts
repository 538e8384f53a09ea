// The host's handle on the Wasm CPU core.
//
// How to drive this:
//   const core = await CoreMemory.create({ slots: 1 });   // one Wasm instance, fixed memory
//   const cpu = core.cpu(0, '6502');                      // the VM in slot 0
//   cpu.ram.set(image, 0);                                 // guest memory, no copies
//   cpu.pc = 0x0400;
//   const reason = cpu.run(1_000_000);                     // an ExitReason
//
// Registers are read and written straight in the slot's memory, so they can be
// changed between runs; `run` moves them into Wasm locals for the duration of
// one call. Long runs should be sliced (V8 optimizes a Wasm function only on
// its next call, never in the middle of one): `runFor` does that.
//
// Interrupt lines change at a cycle (`setIrq(bit, on, cycle)`, `nmi(cycle)`;
// by default the current count): like the chip, the CPU sees a line asserted
// at cycle T in the poll of an instruction that ends at T + 2 or later, so the
// same lines at the same cycles give the same run however it is sliced.

import * as L from './layout.js';
import { loadCoreModule } from './wasm.js';
import { JitCore, JitVm, defaultJitMode, jitProcessStats, type JitCoreExports, type JitMetrics, type JitMode } from '../jit/engine.js';
import { CORE_LOOPS, CPU_VARIANTS, coreLoopName, cpuVariant, trapOpcodes, type CpuModel, type CpuVariant } from '../isa/opcodes.js';

export enum ExitReason {
  Budget = L.EXIT_BUDGET,
  SelfLoop = L.EXIT_SELF_LOOP,
  Jam = L.EXIT_JAM,
  Stp = L.EXIT_STP,
  Wai = L.EXIT_WAI,
  Breakpoint = L.EXIT_BREAKPOINT,
  DeviceRead = L.EXIT_DEVICE_READ,
  DeviceWrite = L.EXIT_DEVICE_WRITE,
  Trap = L.EXIT_TRAP,
  TraceFull = L.EXIT_TRACE_FULL,
}

/** Lower-case names of exit reasons, as the CLI and the stats print them. */
export const EXIT_NAMES: Record<ExitReason, string> = {
  [ExitReason.Budget]: 'budget',
  [ExitReason.SelfLoop]: 'self-loop',
  [ExitReason.Jam]: 'jam',
  [ExitReason.Stp]: 'stp',
  [ExitReason.Wai]: 'wai',
  [ExitReason.Breakpoint]: 'breakpoint',
  [ExitReason.DeviceRead]: 'device-read',
  [ExitReason.DeviceWrite]: 'device-write',
  [ExitReason.Trap]: 'trap',
  [ExitReason.TraceFull]: 'trace-full',
};

/** Page attributes (see src/core/layout.ts). */
export const PageAttr = {
  RAM: 0,
  ROM: L.ATTR_WRITE_IGNORE,
  DEVICE: L.ATTR_READ_EXIT | L.ATTR_WRITE_EXIT,
  UNMAPPED: L.ATTR_READ_EXIT | L.ATTR_WRITE_IGNORE,
  READ_EXIT: L.ATTR_READ_EXIT,
  WRITE_EXIT: L.ATTR_WRITE_EXIT,
  WRITE_IGNORE: L.ATTR_WRITE_IGNORE,
} as const;

/** One bus cycle of a debug run with tracing on. */
export interface BusCycle {
  address: number;
  value: number;
  write: boolean;
}

type RunLoop = (vm: number, budget: number) => number;

interface CoreExports {
  firstSlot(): number;
  slotSize(): number;
  reset(vm: number, cmos: number): void;
  /** The run loops, by coreLoopName: run_6502, runFlat_6502, debug_6502, ... */
  [loop: string]: RunLoop | ((vm: number, cmos: number) => void) | (() => number);
}

/** Where slot 0 starts: the first 64 KiB of the memory belong to the module's own data. */
const SLOT_BASE = 0x10000;
/** The largest budget one Wasm call takes; `runFor` slices longer runs. */
export const MAX_BUDGET = 0x7fff0000;

/**
 * Whether VMs run their hot code compiled at run time (src/jit): `true`,
 * `false` (the default, unless HYPER6502_JIT=on or force says otherwise), or
 * 'force' (every page compiled at once: a test mode).
 */
export type JitOption = boolean | 'force';

function jitMode(option: JitOption | undefined): JitMode {
  if (option === undefined) return defaultJitMode();
  return option === 'force' ? 'force' : option ? 'on' : 'off';
}

/** One Wasm instance and its fixed-size memory, holding `slots` VMs. */
export class CoreMemory {
  readonly memory: WebAssembly.Memory;
  readonly exports: CoreExports;
  readonly slots: number;
  readonly bytes: Uint8Array;
  /** How this memory's VMs run by default (see JitOption). */
  readonly jitMode: JitMode;
  private jitCore?: JitCore;

  private constructor(memory: WebAssembly.Memory, exports: CoreExports, slots: number, jit: JitMode) {
    this.memory = memory;
    this.exports = exports;
    this.slots = slots;
    this.bytes = new Uint8Array(memory.buffer);
    this.jitMode = jit;
  }

  static async create(options: { slots?: number; module?: WebAssembly.Module; jit?: JitOption } = {}): Promise<CoreMemory> {
    const module = options.module ?? (await loadCoreModule());
    return CoreMemory.instantiate(module, options.slots ?? 1, { jit: options.jit });
  }

  /** The JIT's table and runtime for this memory, made when a VM first needs them. */
  jit(): JitCore {
    this.jitCore ??= new JitCore(this.memory, this.exports as unknown as JitCoreExports);
    return this.jitCore;
  }

  /** Synchronous creation from an already compiled module. */
  static instantiate(module: WebAssembly.Module, slots: number, options: { jit?: JitOption } = {}): CoreMemory {
    if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`slots must be a positive integer, got ${slots}`);
    const pages = Math.ceil((SLOT_BASE + slots * L.VM_SLOT_SIZE) / 0x10000);
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const instance = new WebAssembly.Instance(module, { env: { memory, abort: coreAbort } });
    const exports = instance.exports as unknown as CoreExports;
    if (exports.firstSlot() > SLOT_BASE) throw new Error('hyper6502 core: static data overlaps the VM slots');
    if (exports.slotSize() !== L.VM_SLOT_SIZE) throw new Error('hyper6502 core: the Wasm module and the host disagree on the slot layout; rebuild');
    for (const { model } of CPU_VARIANTS) {
      for (const loop of CORE_LOOPS) {
        const name = coreLoopName(loop, model);
        if (typeof exports[name] !== 'function') throw new Error(`hyper6502 core: the Wasm module has no ${name}; rebuild it (npm run build:wasm)`);
      }
    }
    return new CoreMemory(memory, exports, slots, jitMode(options.jit));
  }

  /** The byte address of slot `index`. */
  slotAddress(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.slots) {
      throw new RangeError(`slot ${index} does not exist (this core has ${this.slots})`);
    }
    return SLOT_BASE + index * L.VM_SLOT_SIZE;
  }

  /**
   * A CPU in slot `index`, fresh: memory zeroed, registers as after power-on.
   * With `{ zeroed: true }` the caller promises the slot is already all zero
   * (never used, or cleared when it was given back), which saves clearing it.
   */
  cpu(index: number, model: CpuModel = '6502', options: { zeroed?: boolean; jit?: JitOption } = {}): Cpu {
    const cpu = new Cpu(this, this.slotAddress(index), model, options.jit === undefined ? this.jitMode : jitMode(options.jit));
    if (options.zeroed) cpu.powerOn();
    else cpu.clear();
    return cpu;
  }
}

function coreAbort(): never {
  throw new Error('hyper6502 core aborted');
}

/** One VM's CPU and memory, living in a slot of a CoreMemory. */
export class Cpu {
  readonly core: CoreMemory;
  readonly model: CpuModel;
  /** The model's descriptor and opcode table. */
  readonly variant: CpuVariant;
  /** The slot's byte address in the Wasm memory. */
  readonly address: number;
  /** Guest memory, 64 KiB: `ram[a]` is guest address a. Writes here bypass page attributes. */
  readonly ram: Uint8Array;
  /** Page attributes, one byte per guest page (PageAttr); change them with mapPages or setPageAttributes. */
  readonly pageAttrs: Uint8Array;
  /** One byte per guest page, set to 1 when the guest writes it. */
  readonly dirtyPages: Uint8Array;
  /** The whole slot. */
  readonly slot: Uint8Array;
  private readonly view: DataView;
  private readonly runFn: RunLoop;
  private readonly runFlatFn: RunLoop;
  private readonly debugFn: RunLoop;
  /** Every page is plain RAM: runs use the loop without attribute checks. */
  private allRam = true;
  /** The JIT of this VM, when it has one. */
  private readonly jit: JitVm | null;

  constructor(core: CoreMemory, address: number, model: CpuModel, jit: JitMode = core.jitMode) {
    const slot = (address - SLOT_BASE) / L.VM_SLOT_SIZE;
    if (!Number.isInteger(slot) || slot < 0 || slot >= core.slots) {
      throw new RangeError(`${address} is not the address of a slot of this core (${core.slots} slots from ${SLOT_BASE}, ${L.VM_SLOT_SIZE} bytes each): use core.cpu(index)`);
    }
    this.variant = cpuVariant(model);
    this.core = core;
    this.model = model;
    this.address = address;
    const buffer = core.memory.buffer;
    this.slot = new Uint8Array(buffer, address, L.VM_SLOT_SIZE);
    this.ram = new Uint8Array(buffer, address + L.RAM, 0x10000);
    this.pageAttrs = new Uint8Array(buffer, address + L.PAGE_ATTRS, 256);
    this.dirtyPages = new Uint8Array(buffer, address + L.DIRTY_PAGES, 256);
    this.view = new DataView(buffer, address, L.VM_SLOT_SIZE);
    const e = core.exports;
    this.runFn = e[coreLoopName('run', model)] as RunLoop;
    this.runFlatFn = e[coreLoopName('runFlat', model)] as RunLoop;
    this.debugFn = e[coreLoopName('debug', model)] as RunLoop;
    this.jit = jit === 'off' ? null : new JitVm(core.jit(), this.jitHost(), jit);
  }

  private jitHost() {
    const cpu = this;
    return {
      address: this.address,
      view: this.view,
      ram: this.ram,
      variant: this.variant,
      get allRam() { return cpu.allRam; },
      interpret: (budget: number) => this.interpret(budget),
    };
  }

  /** What the JIT did for this VM (null without one); `jitProcessStats` for the process. */
  get jitMetrics(): (JitMetrics & { disabled: string | null }) | null {
    return this.jit && { ...this.jit.metrics, disabled: jitProcessStats.disabled };
  }

  /** Power-on state: memory, attributes and counters zeroed, S=$FD, P=$24 (I set), PC=0. */
  clear(): void {
    this.slot.fill(0);
    this.powerOn();
    this.jit?.reset();
  }

  /** The registers of power-on, in a slot that is already zero. */
  powerOn(): void {
    this.allRam = true;
    this.s = 0xfd;
    this.p = 0x24;
    this.view.setUint8(L.STATE_IRQ_LATCH, 1);
  }

  // ---- Registers -------------------------------------------------------------
  get pc(): number { return this.view.getUint16(L.STATE_PC, true); }
  set pc(v: number) { this.view.setUint16(L.STATE_PC, checkWord(v, 'PC'), true); }
  get a(): number { return this.view.getUint8(L.STATE_A); }
  set a(v: number) { this.view.setUint8(L.STATE_A, checkByte(v, 'A')); }
  get x(): number { return this.view.getUint8(L.STATE_X); }
  set x(v: number) { this.view.setUint8(L.STATE_X, checkByte(v, 'X')); }
  get y(): number { return this.view.getUint8(L.STATE_Y); }
  set y(v: number) { this.view.setUint8(L.STATE_Y, checkByte(v, 'Y')); }
  get s(): number { return this.view.getUint8(L.STATE_S); }
  set s(v: number) { this.view.setUint8(L.STATE_S, checkByte(v, 'S')); }
  /** Status register as PHP would push it without B: bit 5 set, bit 4 clear. */
  get p(): number { return this.view.getUint8(L.STATE_P); }
  set p(v: number) {
    this.view.setUint8(L.STATE_P, (checkByte(v, 'P') | L.FLAG_U) & ~L.FLAG_B);
    this.view.setUint8(L.STATE_IRQ_LATCH, v & L.FLAG_I); // the next interrupt poll sees the new I
  }

  /** Total cycles executed (exact up to 2^53). */
  get cycles(): number { return this.getU64(L.STATE_CYCLES); }
  set cycles(v: number) { this.setU64(L.STATE_CYCLES, v); }
  /** Total instructions executed. */
  get instructions(): number { return this.getU64(L.STATE_INSTRUCTIONS); }
  set instructions(v: number) { this.setU64(L.STATE_INSTRUCTIONS, v); }

  // Two 32-bit halves: much cheaper than BigInt, exact below 2^53.
  private getU64(offset: number): number {
    return this.view.getUint32(offset + 4, true) * 0x100000000 + this.view.getUint32(offset, true);
  }
  private setU64(offset: number, v: number) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`counter value ${v} is not a whole number in 0..2^53`);
    this.view.setUint32(offset, v % 0x100000000, true);
    this.view.setUint32(offset + 4, Math.floor(v / 0x100000000), true);
  }

  /**
   * Moves the counters on as if the guest had run `cycles` cycles and
   * `instructions` instructions that left registers and memory as they are
   * (whole periods of an idle loop: see machine/idle.ts). A device read the
   * last run left pending stays pending, at the new cycle.
   */
  skipAhead(cycles: number, instructions: number) {
    const pending = this.getU64(L.STATE_IO_STAMP) === this.cycles;
    this.cycles += cycles;
    this.instructions += instructions;
    if (pending) this.setU64(L.STATE_IO_STAMP, this.cycles);
  }

  /** Why the last run ended. */
  get exitReason(): ExitReason { return this.view.getUint8(L.STATE_EXIT_REASON); }
  /** The address of the device access or trap that ended the last run. */
  get exitAddress(): number { return this.view.getUint16(L.STATE_EXIT_ADDR, true); }
  /** 0 running, or why the CPU is halted (JAM, STP, WAI). */
  get halted(): 'jam' | 'stp' | 'wai' | null {
    const h = this.view.getUint8(L.STATE_HALT);
    return h === L.HALT_JAM ? 'jam' : h === L.HALT_STP ? 'stp' : h === L.HALT_WAI ? 'wai' : null;
  }

  // ---- Run options -----------------------------------------------------------
  private setFlag(flag: number, on: boolean) {
    const f = this.view.getUint8(L.STATE_FLAGS);
    this.view.setUint8(L.STATE_FLAGS, on ? f | flag : f & ~flag);
  }
  private getFlag(flag: number): boolean {
    return (this.view.getUint8(L.STATE_FLAGS) & flag) !== 0;
  }
  /** End runs when an instruction jumps or branches to itself (it executes once). */
  get stopOnSelfLoop(): boolean { return this.getFlag(L.RUN_STOP_ON_SELF_LOOP); }
  set stopOnSelfLoop(on: boolean) { this.setFlag(L.RUN_STOP_ON_SELF_LOOP, on); }
  /** Debug runs record every bus cycle. */
  get tracing(): boolean { return this.getFlag(L.RUN_TRACE); }
  set tracing(on: boolean) { this.setFlag(L.RUN_TRACE, on); }

  /**
   * The opcode that traps to the host (EXIT_TRAP, PC at it) instead of
   * executing, or null for none. It must be one of `trapOpcodes(model)`: the
   * NMOS JAM opcodes, or a CMOS one-byte, one-cycle NOP ($x3, $xB).
   */
  get trapOpcode(): number | null {
    return this.getFlag(L.RUN_TRAP) ? this.view.getUint8(L.STATE_TRAP_OPCODE) : null;
  }
  set trapOpcode(op: number | null) {
    if (op === null) {
      this.setFlag(L.RUN_TRAP, false);
      return;
    }
    const allowed = trapOpcodes(this.model);
    if (!allowed.includes(op)) {
      throw new RangeError(`$${hex(op, 2)} cannot be the trap opcode on the ${this.variant.name}: use one of ${allowed.map((o) => '$' + hex(o, 2)).join(' ')}`);
    }
    this.view.setUint8(L.STATE_TRAP_OPCODE, op);
    this.setFlag(L.RUN_TRAP, true);
  }

  // ---- Interrupts ------------------------------------------------------------
  /** The IRQ line: one bit per source; the CPU sees it asserted while any bit is set. Setting it asserts it now. */
  get irq(): number { return this.view.getUint8(L.STATE_IRQ); }
  set irq(mask: number) { this.setIrqMask(mask & 0xff, this.cycles); }
  /** The cycle since which the IRQ line has been asserted (meaningful while `irq` is not 0). */
  get irqSince(): number { return this.getU64(L.STATE_IRQ_AT); }
  /**
   * Asserts or releases IRQ source `bit` (0-7) at `cycle` (default: now; it
   * may be earlier, or later to schedule an assertion). The line is asserted
   * while any source is; the CPU sees each change from the poll of an
   * instruction that ends 2 cycles after it or later.
   */
  setIrq(bit: number, asserted: boolean, cycle = this.cycles) {
    const m = 1 << bit;
    this.setIrqMask(asserted ? this.irq | m : this.irq & ~m, cycle);
  }
  private setIrqMask(mask: number, cycle: number) {
    checkCycle(cycle);
    const line = this.irq;
    const since = this.irqSince;
    if (mask && !line) {
      // Asserted again: since now, unless it joins the time it was last asserted.
      const until = this.getU64(L.STATE_IRQ_UNTIL);
      if (!(since <= cycle && cycle <= until)) this.setU64(L.STATE_IRQ_AT, cycle);
    } else if (mask && cycle < since) {
      this.setU64(L.STATE_IRQ_AT, cycle); // asserted since its earliest source
    } else if (!mask && line) {
      this.setU64(L.STATE_IRQ_UNTIL, cycle);
    }
    this.view.setUint8(L.STATE_IRQ, mask);
  }
  /** An NMI edge at `cycle` (default: now; it may be earlier, or later to schedule it); one edge is pending at most. */
  nmi(cycle = this.cycles) {
    checkCycle(cycle);
    if (!this.nmiPending || cycle < this.getU64(L.STATE_NMI_AT)) this.setU64(L.STATE_NMI_AT, cycle);
    this.view.setUint8(L.STATE_NMI, 1);
  }
  /** An NMI edge is waiting to be taken. */
  get nmiPending(): boolean { return this.view.getUint8(L.STATE_NMI) !== 0; }
  /** The next cycle at which an interrupt line changes as scheduled (a change set for later than now), or Infinity. */
  get nextLineChange(): number {
    const now = this.cycles;
    let next = Infinity;
    const at = (offset: number) => this.getU64(offset);
    if (this.irq && at(L.STATE_IRQ_AT) > now) next = at(L.STATE_IRQ_AT);
    if (!this.irq && at(L.STATE_IRQ_UNTIL) > now) next = Math.min(next, at(L.STATE_IRQ_UNTIL));
    if (this.nmiPending && at(L.STATE_NMI_AT) > now) next = Math.min(next, at(L.STATE_NMI_AT));
    return next;
  }
  /** The RESET sequence (7 cycles, PC from $FFFC; recorded in the trace when `tracing`). */
  reset() { this.core.exports.reset(this.address, this.variant.family === 'cmos' ? 1 : 0); }

  // ---- Running ---------------------------------------------------------------
  /** Runs until `budget` cycles are spent (the last instruction completes) or an exit. */
  run(budget: number): ExitReason {
    if (!firstRunMarked) markFirstRun();
    const b = clampBudget(budget);
    return this.jit && b > 0 ? this.jit.run(b) : this.interpret(b);
  }

  /** A run of the interpreter alone. */
  private interpret(budget: number): ExitReason {
    return (this.allRam ? this.runFlatFn : this.runFn)(this.address, budget);
  }

  /** Like run, with breakpoints and (when `tracing`) the bus trace. */
  debugRun(budget: number): ExitReason {
    return this.debugFn(this.address, clampBudget(budget));
  }

  /** Executes one instruction (or takes one pending interrupt) in a debug run. */
  step(): ExitReason {
    return this.debugRun(1);
  }

  /**
   * Runs up to `maxCycles` cycles in slices, returning the first reason other
   * than an exhausted slice (or Budget when maxCycles is reached).
   */
  runFor(maxCycles: number, slice = 1_000_000): ExitReason {
    if (!(maxCycles >= 0 && maxCycles <= Number.MAX_SAFE_INTEGER)) throw new RangeError(`runFor: maxCycles must be from 0 to 2^53, got ${maxCycles}`);
    if (!(Number.isInteger(slice) && slice >= 1)) throw new RangeError(`runFor: slice must be a whole number of cycles >= 1, got ${slice}`);
    const target = this.cycles + maxCycles;
    for (;;) {
      const left = target - this.cycles;
      if (left <= 0) return ExitReason.Budget;
      const reason = this.run(Math.min(left, slice));
      if (reason !== ExitReason.Budget) return reason;
    }
  }

  // ---- Breakpoints and trace -------------------------------------------------
  setBreakpoint(address: number, on = true) {
    checkWord(address, 'breakpoint address');
    const i = L.BREAKPOINTS + (address >> 3);
    const b = this.view.getUint8(i);
    this.view.setUint8(i, on ? b | (1 << (address & 7)) : b & ~(1 << (address & 7)));
  }
  clearBreakpoints() {
    this.slot.fill(0, L.BREAKPOINTS, L.BREAKPOINTS + 0x2000);
  }
  /** The next debug run does not stop at a breakpoint on its first instruction (`false` takes that back). */
  skipBreakpointOnce(skip = true) { this.setFlag(L.RUN_SKIP_BREAKPOINT, skip); }

  /** The bus cycles recorded since the last `takeTrace`, and clears the record. */
  takeTrace(): BusCycle[] {
    const n = this.view.getUint32(L.STATE_TRACE_LEN, true);
    const out: BusCycle[] = [];
    for (let i = 0; i < n; i++) {
      const r = this.view.getUint32(L.TRACE + i * 4, true);
      out.push({ address: r & 0xffff, value: (r >>> 16) & 0xff, write: (r & L.TRACE_WRITE) !== 0 });
    }
    this.view.setUint32(L.STATE_TRACE_LEN, 0, true);
    return out;
  }

  // ---- Device accesses (for the host's exit handlers) ------------------------
  /** Completes the pending EXIT_DEVICE_READ with `value`; the next run re-executes the instruction. */
  completeRead(value: number) {
    const n = this.view.getUint8(L.STATE_IO_READ_LEN);
    if (n >= L.IO_READS_MAX) throw new Error('device read log overflow');
    this.view.setUint16(L.STATE_IO_READ_ADDR + n * 2, this.exitAddress, true);
    this.view.setUint8(L.STATE_IO_READ_VALUE + n, checkByte(value, 'device read value'));
    this.view.setUint8(L.STATE_IO_READ_LEN, n + 1);
  }
  /** The writes queued by the last EXIT_DEVICE_WRITE, without objects: their number, then each address and value; `clearWrites` when done. */
  get writeCount(): number { return this.view.getUint8(L.STATE_IO_WRITE_LEN); }
  writeAddress(i: number): number { return this.view.getUint16(L.STATE_IO_WRITE_ADDR + i * 2, true); }
  writeValue(i: number): number { return this.view.getUint8(L.STATE_IO_WRITE_VALUE + i); }
  clearWrites() { this.view.setUint8(L.STATE_IO_WRITE_LEN, 0); }

  /** The writes queued by the last EXIT_DEVICE_WRITE, oldest first; clears the queue. */
  takeWrites(): Array<{ address: number; value: number }> {
    const n = this.view.getUint8(L.STATE_IO_WRITE_LEN);
    const out = [];
    for (let i = 0; i < n; i++) {
      out.push({
        address: this.view.getUint16(L.STATE_IO_WRITE_ADDR + i * 2, true),
        value: this.view.getUint8(L.STATE_IO_WRITE_VALUE + i),
      });
    }
    this.view.setUint8(L.STATE_IO_WRITE_LEN, 0);
    return out;
  }

  /** Writes guest memory from the host, marking the page dirty (as a guest write would). */
  poke(address: number, value: number) {
    const a = address & 0xffff;
    this.ram[a] = value;
    this.dirtyPages[a >> 8] = 1;
  }

  /** Sets the attribute of guest pages [first, last]. */
  mapPages(first: number, last: number, attr: number) {
    if (first < 0 || last > 0xff || first > last) throw new RangeError(`bad page range $${hex(first, 2)}-$${hex(last, 2)}`);
    this.pageAttrs.fill(attr, first, last + 1);
    this.allRam = this.pageAttrs.every((a) => a === PageAttr.RAM);
  }

  /** Sets the attributes of all 256 pages at once. */
  setPageAttributes(attrs: ArrayLike<number>) {
    if (attrs.length !== 256) throw new RangeError(`256 page attributes expected, got ${attrs.length}`);
    this.pageAttrs.set(attrs);
    this.allRam = this.pageAttrs.every((a) => a === PageAttr.RAM);
  }
}

/**
 * The process's (or page's) first run of guest code is marked for whoever
 * measures start-up: `performance.getEntriesByName(FIRST_RUN_MARK)` (bench/startup.bench.ts).
 */
export const FIRST_RUN_MARK = 'hyper6502:first-run';
let firstRunMarked = false;
function markFirstRun() {
  firstRunMarked = true;
  globalThis.performance?.mark?.(FIRST_RUN_MARK);
}

export function hex(n: number, digits: number): string {
  return n.toString(16).toUpperCase().padStart(digits, '0');
}

function checkByte(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`${what} must be a byte (0-255), got ${v}`);
  return v;
}

function checkWord(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`${what} must be an address (0-$FFFF), got ${v}`);
  return v;
}

function checkCycle(v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`interrupt cycle ${v} is not a whole number in 0..2^53`);
  return v;
}

function clampBudget(budget: number): number {
  if (!(budget >= 0)) throw new RangeError(`cycle budget must be >= 0, got ${budget}`);
  return Math.min(Math.floor(budget), MAX_BUDGET);
}
