// The VMs of one thread: their slots, their state machine, their snapshots,
// and a scheduler that shares the thread among the running ones.
//
// How to drive this (the Hypervisor does it, in a worker or in-thread):
//   const host = new VmHost({ onEvent });
//   const id = await host.create({ profile: 'sim65', program }, { weight: 2 });
//   host.start(id);
//   await host.runRounds(100);          // or host.schedule(): runs until idle
//   const bytes = host.pause(id) && host.snapshot(id);
//
// States: created -> running <-> paused; running -> halted (the guest ended:
// exit, JAM, STP) or faulted (a device or handler failed); any -> stopped
// (shutdown); destroy removes the VM. A call in the wrong state throws a
// VmStateError and changes nothing. Snapshots are taken only when the VM is
// not running.
//
// Scheduling: round-robin in quanta of QUANTUM cycles times the VM's weight
// (proportional share), optionally capped in cycles per second, or paced
// at a clock rate (real time). Every VM gets its cycles in whole quanta, so
// shares are exact in cycles; caps and pacing use the wall clock.

import { CoreMemory, type Cpu } from '../core/cpu.js';
import { loadCoreModule } from '../core/wasm.js';
import {
  STATE, SNAPSHOT_BYTES, HALT_WAI, STATE_HALT, STATE_EXIT_REASON, EXIT_TRACE_FULL, IO_READS_MAX, IO_WRITES_MAX, STATE_IO_READ_LEN, STATE_IO_WRITE_LEN,
  STATE_IO_READ_POS, STATE_P, STATE_CYCLES, STATE_INSTRUCTIONS, STATE_NMI, STATE_IRQ, STATE_IRQ_LATCH, STATE_FLAGS, STATE_TRAP_OPCODE, STATE_TRACE_LEN,
  STATE_IO_STAMP, TRACE_CAPACITY, RUN_STOP_ON_SELF_LOOP, RUN_TRAP, RUN_TRACE, RUN_SKIP_BREAKPOINT, STATE_USED_END,
  STATE_POLL, POLL_LATE, POLL_SEQUENCE, STATE_IRQ_AT, STATE_NMI_AT, STATE_IRQ_UNTIL,
} from '../core/layout.js';
import type { Machine, MachineExit } from '../machine/machine.js';
import { buildVm, specFromJson, specToJson, type BuiltVm, type VmSpec } from './spec.js';
import { MachineConsole } from '../machine/console.js';
import { decodeSnapshot, encodeSnapshot, SnapshotError, SECTION_VERSIONS, type DecodedSnapshot, type Section } from './snapshot.js';
import { StateReader, StateWriter } from '../devices/device.js';

export type VmState = 'created' | 'running' | 'paused' | 'halted' | 'stopped' | 'faulted';

export class VmStateError extends Error {
  constructor(
    readonly vm: string,
    readonly state: VmState,
    readonly action: string,
  ) {
    super(`cannot ${action} VM ${vm}: it is ${state}`);
    this.name = 'VmStateError';
  }
}

export interface Schedule {
  /** Share of the thread relative to the other running VMs (default 1). */
  weight?: number;
  /** At most this many cycles per second. */
  cap?: number;
  /** Real time: run at this clock rate in Hz (e.g. 1_023_000); otherwise as fast as the share allows. */
  clockHz?: number;
  /** Pause the VM (reason 'max-cycles') once its cycle counter reaches this. */
  stopAt?: number;
}

export interface VmMetrics {
  id: string;
  state: VmState;
  cycles: number;
  instructions: number;
  exits: Record<string, number>;
  dirtyPages: number;
  snapshotBytes: number;
  /** Emulated MHz over the wall time the VM spent running on this thread. */
  mhz: number;
  outputDropped: number;
  /** Running, but parked until input comes (it waits for it, idle, costing nothing). */
  waiting: boolean;
  /** What the JIT did for it (see Cpu.jitMetrics), or null when it runs the interpreter only. */
  jit: { pagesCompiled: number; blocks: number; invalidations: number; compiledCycles: number; interpretedCycles: number } | null;
}

export type VmEvent =
  | { type: 'output'; vm: string; bytes: Uint8Array }
  | { type: 'state'; vm: string; state: VmState; reason?: string; exitCode?: number | null; error?: string }
  /** The guest waits for input (idle, or a hypercall waiting), and costs nothing until it comes. */
  | { type: 'waiting'; vm: string };

/** Cycles a VM of weight 1 runs before the next VM's turn. */
export const QUANTUM = 250_000;
/**
 * Cycles of its quantum a VM is charged for each exit the host handles (about
 * what an exit costs in time, ~100-120 ns): a guest that floods exits gets no more
 * of the thread than its share.
 */
export const EXIT_COST = 150;
/** Bytes of output a second one VM may hand to the host. */
export const OUTPUT_RATE = 1024 * 1024;
/** VM slots per Wasm memory. */
export const SLAB_SLOTS = 128;
/** The most cycles a VM runs at once in a round: a thread looks at its clock (and its calls) between slices. */
export const SLICE = 4_000_000;
/** The least and most share of a thread a VM may have: at least MIN_WEIGHT x QUANTUM cycles a round. */
export const MIN_WEIGHT = 0.01;
export const MAX_WEIGHT = 1000;

interface Vm {
  id: string;
  spec: VmSpec;
  built: BuiltVm;
  core: CoreMemory;
  slot: number;
  state: VmState;
  reason?: string;
  error?: string;
  schedule: Required<Pick<Schedule, 'weight'>> & Schedule;
  /** Its JIT setting as given (true or false), or undefined: this thread's default (HYPER6502_JIT). */
  jit?: boolean;
  exits: Record<string, number>;
  runMs: number;
  /** Wall time and cycles when pacing (re)started. */
  paceFrom: { ms: number; cycles: number } | null;
  /** Parked until input comes: a hypercall waits for it, or the guest idles with nothing else to wake it. */
  waitingInput: boolean;
  lastSnapshotId: string | null;
  snapshotBytes: number;
  outputAllowance: number;
  outputAt: number;
  /** The SPEC section, made once (a spec never changes). */
  specBytes?: Uint8Array;
  /** While a pre-copy goes on: the VM's own diff base, kept aside (see precopy()). */
  precopy?: { lastSnapshotId: string | null; snapshotBytes: number; dirty: Uint8Array };
}

/** One snapshot of a pre-copy (see VmHost.precopy). */
export interface PrecopyRound {
  bytes: Uint8Array;
  /** Dirty pages it carries (256 for the first, full one). */
  pages: number;
  /** The last of its pre-copy: the VM is stopped (or was not running). */
  final: boolean;
  /** When `stop` paused the VM (performance.timeOrigin + performance.now(), comparable across threads and processes); absent when it was not running. */
  stoppedAt?: number;
}

export class VmHost {
  private readonly slabs: CoreMemory[] = [];
  private readonly free: Array<{ core: CoreMemory; slot: number }> = [];
  private readonly vms = new Map<string, Vm>();
  private nextId = 1;
  private module?: WebAssembly.Module;

  constructor(
    private readonly options: {
      onEvent?: (e: VmEvent) => void;
      idPrefix?: string;
      /** Bytes of output the receiver can take now (a worker's credit with its hypervisor); output waits in the consoles beyond it. */
      outputRoom?: () => number;
    } = {},
  ) {}

  // ---- Slots -------------------------------------------------------------------
  private async allocate(): Promise<{ core: CoreMemory; slot: number }> {
    let place = this.free.pop();
    if (!place) {
      this.module ??= await loadCoreModule();
      const core = CoreMemory.instantiate(this.module, SLAB_SLOTS);
      this.slabs.push(core);
      for (let i = SLAB_SLOTS - 1; i > 0; i--) this.free.push({ core, slot: i });
      place = { core, slot: 0 };
    }
    return place;
  }

  /** Gives a slot back, zeroed: every free slot is all zero, so creating a VM needs no clearing. */
  private release(core: CoreMemory, slot: number) {
    core.cpu(slot).clear();
    this.free.push({ core, slot });
  }

  private vm(id: string): Vm {
    const vm = this.vms.get(id);
    if (!vm) throw new Error(`no VM ${id}`);
    return vm;
  }

  private require(vm: Vm, action: string, states: VmState[]) {
    if (!states.includes(vm.state)) throw new VmStateError(vm.id, vm.state, action);
  }

  private setState(vm: Vm, state: VmState, extra: { reason?: string; error?: string } = {}) {
    this.flushOutput(vm); // what the guest printed comes before the news that it stopped
    vm.state = state;
    vm.reason = extra.reason;
    vm.error = extra.error;
    vm.paceFrom = null;
    this.options.onEvent?.({ type: 'state', vm: vm.id, state, reason: extra.reason, exitCode: vm.built.machine.exitCode, error: extra.error });
    if (state === 'running' && vm.waitingInput) this.options.onEvent?.({ type: 'waiting', vm: vm.id });
  }

  // ---- Life cycle -------------------------------------------------------------------
  /**
   * A new VM. `jit`: its hot code runs compiled (true) or not (false); without
   * it, as this thread's HYPER6502_JIT says (off unless it is on). A setting
   * given travels in its snapshots: a VM restored or migrated keeps it, one
   * without takes the default of the thread it is restored on.
   */
  async create(spec: VmSpec, options: { id?: string; schedule?: Schedule; jit?: boolean } = {}): Promise<string> {
    const id = options.id ?? `${this.options.idPrefix ?? 'vm'}${this.nextId++}`;
    if (this.vms.has(id)) throw new Error(`a VM ${id} exists already`);
    const jit = checkJit(options.jit);
    const place = await this.allocate();
    let built: BuiltVm;
    try {
      built = await buildVm(spec, place.core, place.slot, jit);
    } catch (err) {
      this.release(place.core, place.slot);
      throw err;
    }
    this.vms.set(id, this.record(id, built.spec, built, place, options.schedule, jit));
    return id;
  }

  private record(id: string, spec: VmSpec, built: BuiltVm, place: { core: CoreMemory; slot: number }, schedule: Schedule = {}, jit?: boolean): Vm {
    return {
      id, spec, built, core: place.core, slot: place.slot, state: 'created', jit,
      schedule: { ...checkSchedule(schedule), weight: schedule.weight ?? 1 },
      exits: {}, runMs: 0, paceFrom: null, waitingInput: false, lastSnapshotId: null, snapshotBytes: 0,
      outputAllowance: OUTPUT_RATE, outputAt: performance.now(),
    };
  }

  start(id: string) {
    const vm = this.vm(id);
    this.require(vm, 'start', ['created']);
    this.setState(vm, 'running');
  }

  pause(id: string) {
    const vm = this.vm(id);
    this.require(vm, 'pause', ['running']);
    this.setState(vm, 'paused');
  }

  resume(id: string) {
    const vm = this.vm(id);
    this.require(vm, 'resume', ['paused']);
    this.setState(vm, 'running');
  }

  /** RESET: devices and CPU; a halted or faulted VM comes back paused. */
  reset(id: string) {
    const vm = this.vm(id);
    this.require(vm, 'reset', ['created', 'running', 'paused', 'halted', 'faulted']);
    vm.built.machine.reset();
    vm.waitingInput = false;
    if (vm.state === 'halted' || vm.state === 'faulted') this.setState(vm, 'paused');
  }

  shutdown(id: string) {
    const vm = this.vm(id);
    this.require(vm, 'shut down', ['created', 'running', 'paused', 'halted', 'faulted']);
    this.setState(vm, 'stopped');
  }

  destroy(id: string) {
    const vm = this.vm(id);
    this.vms.delete(id);
    this.release(vm.core, vm.slot);
  }

  setSchedule(id: string, schedule: Schedule) {
    const vm = this.vm(id);
    vm.schedule = { ...vm.schedule, ...checkSchedule(schedule) };
    vm.paceFrom = null;
  }

  /** Queues input for the guest; throws a RangeError (taking none of it) when its console's queue is full. */
  input(id: string, data: Uint8Array | string) {
    const vm = this.vm(id);
    this.catchUp(vm);
    vm.built.console.input(data);
    vm.waitingInput = false;
  }

  /**
   * A paced VM parked idle lets the time it waited pass before its input
   * comes, so that it sees the input at the cycle its clock says.
   */
  private catchUp(vm: Vm) {
    const rate = vm.schedule.clockHz ?? vm.schedule.cap;
    if (!vm.waitingInput || !rate || !vm.paceFrom || vm.state !== 'running') return;
    const cpu = vm.built.machine.cpu;
    const due = Math.floor(vm.paceFrom.cycles + ((performance.now() - vm.paceFrom.ms) / 1000) * rate - cpu.cycles);
    if (due > 0) this.slice(vm, due, 0, 'advance');
  }

  closeInput(id: string) {
    const vm = this.vm(id);
    vm.built.console.closeInput();
    vm.waitingInput = false;
  }

  state(id: string): VmState {
    return this.vm(id).state;
  }

  /** What a VM was built from. */
  spec(id: string): VmSpec {
    return this.vm(id).spec;
  }

  /** The machine of a VM on this thread (for embedding and debugging in the same thread). */
  machine(id: string): Machine {
    return this.vm(id).built.machine;
  }

  /** `length` bytes of a VM's memory from `address` (for drawing its screen from another thread). */
  peek(id: string, address: number, length: number): Uint8Array {
    const ram = this.vm(id).built.machine.cpu.ram;
    if (!Number.isInteger(address) || !Number.isInteger(length) || address < 0 || length < 0 || address + length > 0x10000) {
      throw new RangeError(`cannot read ${length} bytes at ${address}`);
    }
    return ram.slice(address, address + length);
  }

  has(id: string): boolean {
    return this.vms.has(id);
  }

  ids(): string[] {
    return [...this.vms.keys()];
  }

  // ---- Running -------------------------------------------------------------------

  /**
   * Runs a VM that is not running (created or paused) until its cycle count
   * reaches `target`, or another exit; returns the last exit. An idle guest
   * stops at once ('idle'), or with `idle: 'advance'` lets its time pass to
   * `target` (a page running it in real time).
   */
  runUntil(id: string, target: number, idle: 'stop' | 'advance' = 'stop'): MachineExit | null {
    if (typeof target !== 'number' || !Number.isSafeInteger(Math.floor(target)) || target < 0) throw new RangeError(`runUntil needs a cycle count from 0 to 2^53, got ${String(target)}`);
    const vm = this.vm(id);
    this.require(vm, 'step', ['created', 'paused', 'halted']);
    let exit: MachineExit | null = null;
    if (vm.state === 'halted') return exit;
    while (vm.built.machine.cpu.cycles < target) {
      exit = this.slice(vm, target - vm.built.machine.cpu.cycles, 0, idle);
      if (exit.reason !== 'budget') break;
    }
    this.flushOutput(vm);
    return exit;
  }

  /** One run of a VM's machine; updates its state for ends and faults. */
  private slice(vm: Vm, budget: number, exitCost = 0, idle: 'stop' | 'advance' = vm.schedule.clockHz ?? vm.schedule.cap ? 'advance' : 'stop'): MachineExit {
    const exit = vm.built.machine.run(budget, { exitCost, idle });
    vm.exits[exit.reason] = (vm.exits[exit.reason] ?? 0) + 1;
    switch (exit.reason) {
      case 'budget':
        break;
      case 'idle': // nothing but input wakes it
      case 'wait':
        if (!vm.waitingInput) {
          vm.waitingInput = true;
          this.flushOutput(vm, true); // what it printed before it waits
          this.options.onEvent?.({ type: 'waiting', vm: vm.id });
        }
        break;
      case 'exit':
      case 'jam':
      case 'stp':
      case 'wai':
        this.setState(vm, 'halted', { reason: exit.reason });
        break;
      case 'fault':
        this.setState(vm, 'faulted', { reason: 'fault', error: exit.error?.message });
        break;
      default: // breakpoint, watchpoint, trap, self-loop: the VM pauses there
        if (vm.state === 'running') this.setState(vm, 'paused', { reason: exit.reason });
    }
    return exit;
  }

  /**
   * Hands the guest's output to the host, at most OUTPUT_RATE bytes a second
   * per VM: a guest that prints faster fills its bounded buffer, and what does
   * not fit is dropped and counted (see VmConsole), never queued without end.
   */
  private flushOutput(vm: Vm, all = false) {
    const console = vm.built.console;
    if (!console.pendingOutput || !this.options.onEvent) return;
    const now = performance.now();
    vm.outputAllowance = Math.min(OUTPUT_RATE, vm.outputAllowance + ((now - vm.outputAt) / 1000) * OUTPUT_RATE);
    vm.outputAt = now;
    if (!all && vm.state === 'running' && (vm.outputAllowance < console.pendingOutput || (this.options.outputRoom?.() ?? Infinity) < console.pendingOutput)) return;
    vm.outputAllowance -= console.pendingOutput;
    this.options.onEvent({ type: 'output', vm: vm.id, bytes: console.takeOutput() });
  }

  /** Hands over the output every VM holds, as far as the receiver's room goes (it has taken what came before). */
  flushAll() {
    for (const vm of this.vms.values()) this.flushOutput(vm);
  }

  /**
   * One scheduling round: every running VM gets weight x QUANTUM cycles
   * (less when a cap or a clock holds it back). Returns the cycles executed
   * and how long the next round could wait before any paced VM is due. With
   * a `deadline` (performance.now() time), the round stops there, between two
   * slices of at most SLICE cycles, and the next call goes on with it where
   * it stopped (`done` false): a thread answers its calls within a slice or
   * so, however large the VMs' shares.
   */
  runRound(now = performance.now(), deadline = Infinity): { cycles: number; idleMs: number; done: boolean } {
    let cycles = 0;
    let idleMs = this.roundIdleMs;
    if (!this.round) {
      this.round = [...this.vms.values()];
      this.roundPos = 0;
      this.roundCredit = -1;
      idleMs = Infinity;
    }
    for (; this.roundPos < this.round.length; this.roundPos++, this.roundCredit = -1) {
      const vm = this.round[this.roundPos];
      if (vm.state !== 'running' || vm.waitingInput || !this.vms.has(vm.id)) continue;
      const cpu = vm.built.machine.cpu;
      if (this.roundCredit < 0) this.roundCredit = QUANTUM * vm.schedule.weight;
      let budget = this.roundCredit;
      const rate = vm.schedule.clockHz ?? vm.schedule.cap;
      if (rate) {
        vm.paceFrom ??= { ms: now, cycles: cpu.cycles };
        const allowed = vm.paceFrom.cycles + ((now - vm.paceFrom.ms) / 1000) * rate - cpu.cycles;
        if (allowed < 1) {
          idleMs = Math.min(idleMs, ((1 - allowed) / rate) * 1000);
          continue;
        }
        budget = Math.min(budget, Math.floor(allowed));
      }
      if (vm.schedule.stopAt !== undefined) {
        if (cpu.cycles >= vm.schedule.stopAt) {
          this.setState(vm, 'paused', { reason: 'max-cycles' });
          continue;
        }
        budget = Math.min(budget, vm.schedule.stopAt - cpu.cycles);
      }
      budget = Math.min(budget, SLICE);
      const before = cpu.cycles;
      const t0 = performance.now();
      this.slice(vm, budget, EXIT_COST);
      const t1 = performance.now();
      vm.runMs += t1 - t0;
      const ran = cpu.cycles - before;
      cycles += ran;
      this.flushOutput(vm);
      idleMs = 0;
      this.roundCredit -= Math.max(ran, budget);
      // The rest of this VM's share comes in further slices (unless it stopped or ended its share).
      if (this.roundCredit > 0 && vm.state === 'running' && !vm.waitingInput && budget === SLICE) this.roundPos--;
      else this.roundCredit = -1;
      if (t1 >= deadline) {
        this.roundPos++;
        this.roundIdleMs = idleMs;
        return { cycles, idleMs, done: false };
      }
    }
    this.round = null;
    this.roundIdleMs = Infinity;
    return { cycles, idleMs, done: true };
  }

  private round: Vm[] | null = null;
  private roundPos = 0;
  /** Cycles left of the current VM's share in this round (-1: its turn has not begun). */
  private roundCredit = -1;
  private roundIdleMs = Infinity;

  /**
   * Runs rounds for about `ms` milliseconds of wall time, or until nothing can
   * run now; `idleMs` then says how long until a paced VM is due (Infinity: none).
   */
  runFor(ms: number): number {
    const end = performance.now() + ms;
    let cycles = 0;
    this.idleMs = 0;
    for (;;) {
      const now = performance.now();
      if (now >= end) return cycles;
      const round = this.runRound(now, end);
      cycles += round.cycles;
      if (round.done && round.cycles === 0 && round.idleMs > 0) {
        this.idleMs = round.idleMs;
        return cycles;
      }
    }
  }

  /** After runFor: how long nothing is due (0 when it stopped for time). */
  idleMs = 0;

  /** Whether any VM could run now or soon (running and not waiting for input). */
  get busy(): boolean {
    for (const vm of this.vms.values()) if (vm.state === 'running' && !vm.waitingInput) return true;
    return false;
  }

  // ---- Metrics ---------------------------------------------------------------------
  metrics(id: string): VmMetrics {
    const vm = this.vm(id);
    const cpu = vm.built.machine.cpu;
    let dirty = 0;
    for (const d of cpu.dirtyPages) dirty += d;
    return {
      id, state: vm.state, cycles: cpu.cycles, instructions: cpu.instructions, exits: { ...vm.exits }, dirtyPages: dirty,
      snapshotBytes: vm.snapshotBytes, mhz: vm.runMs > 0 ? cpu.cycles / vm.runMs / 1000 : 0, outputDropped: vm.built.console.dropped,
      waiting: vm.state === 'running' && vm.waitingInput,
      jit: jitFigures(cpu.jitMetrics),
    };
  }

  // ---- Snapshots ---------------------------------------------------------------------

  /** A full snapshot of a VM that is not running. */
  snapshot(id: string): Uint8Array {
    return this.takeSnapshot(this.vm(id), 'full');
  }

  /** Only the pages dirtied since the last snapshot (full or diff), and the small state in full. */
  diffSnapshot(id: string): Uint8Array {
    const vm = this.vm(id);
    if (!vm.lastSnapshotId) throw new Error(`VM ${id} has no snapshot to diff against: take a full snapshot first`);
    return this.takeSnapshot(vm, 'diff');
  }

  /**
   * A snapshot for moving a VM to another host while it runs (pre-copy).
   * Taken between two of its slices, it is as consistent as one of the VM
   * paused there, and it restores paused. The first of a pre-copy is full;
   * each after it holds only the pages dirtied since the one before, and
   * restore() takes them as a chain. `stop` makes it the last one, the
   * stop-and-copy: a running VM is paused first, and it says when; with
   * `stopAbove` it is the last one only when more pages than that are dirty
   * (the copy does not converge: copying on while the VM runs gains nothing). The VM's own diff base is kept
   * aside meanwhile, and its own snapshots are refused: endPrecopy() puts the
   * base back, the pages dirtied since included, when the VM stays here.
   */
  precopy(id: string, options: { stop?: boolean; stopAbove?: number } = {}): PrecopyRound {
    const vm = this.vm(id);
    this.require(vm, 'copy', ['created', 'running', 'paused', 'halted']);
    const dirty = vm.built.machine.cpu.dirtyPages;
    const first = !vm.precopy;
    let pages = 256;
    if (!first) {
      pages = 0;
      for (let i = 0; i < 256; i++) pages += dirty[i];
    }
    const final = options.stop === true || (options.stopAbove !== undefined && pages > options.stopAbove);
    let stoppedAt: number | undefined;
    if (final && vm.state === 'running') {
      this.setState(vm, 'paused');
      stoppedAt = performance.timeOrigin + performance.now();
    }
    // What it printed goes out from here: the copy starts with none of it, so that none is printed twice.
    if (final) this.flushOutput(vm, true);
    if (vm.precopy) for (let i = 0; i < 256; i++) vm.precopy.dirty[i] |= dirty[i];
    else vm.precopy = { lastSnapshotId: vm.lastSnapshotId, snapshotBytes: vm.snapshotBytes, dirty: dirty.slice() };
    return { bytes: this.takeSnapshot(vm, first ? 'full' : 'diff', true), pages, final, stoppedAt };
  }

  /** Ends a pre-copy of a VM that stays here: its diffs go on from its own last snapshot again. */
  endPrecopy(id: string) {
    const vm = this.vm(id);
    const saved = vm.precopy;
    if (!saved) return;
    vm.precopy = undefined;
    const dirty = vm.built.machine.cpu.dirtyPages;
    for (let i = 0; i < 256; i++) dirty[i] |= saved.dirty[i];
    vm.lastSnapshotId = saved.lastSnapshotId;
    vm.snapshotBytes = saved.snapshotBytes;
  }

  private takeSnapshot(vm: Vm, kind: 'full' | 'diff', precopy = false): Uint8Array {
    if (vm.precopy && !precopy) throw new Error(`cannot snapshot VM ${vm.id}: it is being copied to another host (endPrecopy first)`);
    this.require(vm, 'snapshot', precopy ? ['created', 'running', 'paused', 'halted'] : ['created', 'paused', 'halted']);
    const machine = vm.built.machine;
    const cpu = machine.cpu;
    const snapshotId = randomId();
    const meta = {
      id: vm.id, snapshotId, parentId: kind === 'diff' ? vm.lastSnapshotId : null, state: vm.state === 'running' ? 'paused' : vm.state, reason: vm.reason ?? null,
      schedule: vm.schedule, exits: vm.exits, waitingInput: vm.waitingInput, ...(vm.jit === undefined ? {} : { jit: vm.jit }),
    };
    vm.specBytes ??= utf8(specToJson(vm.spec));
    // Views, not copies: encodeSnapshot copies each section once into the file.
    const sections: Section[] = [
      { tag: 'META', version: 1, data: utf8(JSON.stringify(meta)) },
      { tag: 'SPEC', version: 1, data: vm.specBytes },
      { tag: 'CORE', version: 1, data: cpu.slot.subarray(STATE, SNAPSHOT_BYTES) },
    ];
    if (kind === 'full') {
      sections.push({ tag: 'RAM_', version: 1, data: cpu.ram });
    } else {
      const pages = [...cpu.dirtyPages.keys()].filter((p) => cpu.dirtyPages[p]);
      const data = new Uint8Array(2 + pages.length * 257);
      data[0] = pages.length & 0xff;
      data[1] = pages.length >> 8;
      pages.forEach((page, i) => {
        data[2 + i * 257] = page;
        data.set(cpu.ram.subarray(page << 8, (page + 1) << 8), 3 + i * 257);
      });
      sections.push({ tag: 'PAGE', version: 1, data });
    }
    const devices = new StateWriter().u16(machine.devices.length);
    for (const d of machine.devices) devices.blob(utf8(d.name)).blob(d.save?.() ?? new Uint8Array(0));
    sections.push({ tag: 'DEVS', version: SECTION_VERSIONS.DEVS, data: devices.done() });
    const code = machine.exitCode;
    sections.push({ tag: 'CONS', version: SECTION_VERSIONS.CONS, data: new StateWriter().blob(vm.built.console.save()).u16(code === null ? 0xffff : code & 0xff).done() });
    const bytes = encodeSnapshot(kind, sections);
    cpu.dirtyPages.fill(0);
    vm.lastSnapshotId = snapshotId;
    vm.snapshotBytes = bytes.length;
    return bytes;
  }

  /**
   * A new VM from a full snapshot and the diffs taken after it, in order. All
   * or nothing: any problem is a SnapshotError and no VM is created. With
   * `resume`, a VM that comes back paused runs at once (a migration's end).
   * Its JIT setting: `jit` if given, else the one its snapshot carries, else
   * this thread's default (see create).
   */
  async restore(snapshots: Uint8Array[], options: { id?: string; keepId?: boolean; resume?: boolean; jit?: boolean } = {}): Promise<string> {
    const jitOption = checkJit(options.jit);
    if (snapshots.length === 0) throw new SnapshotError('empty', 'no snapshot given');
    const decoded = snapshots.map((b) => decodeSnapshot(b));
    const metas = decoded.map((d) => parseMeta(d));
    if (decoded[0].kind !== 'full') throw new SnapshotError('bad-diff-chain', 'the first snapshot must be a full one, not a diff');
    for (let i = 1; i < decoded.length; i++) {
      if (decoded[i].kind !== 'diff') throw new SnapshotError('bad-diff-chain', `snapshot ${i + 1} is a full snapshot where a diff was expected`);
      if (metas[i].parentId !== metas[i - 1].snapshotId) throw new SnapshotError('bad-diff-chain', `diff ${i} does not follow the snapshot before it`);
    }
    const lastMeta = metas[metas.length - 1];
    let spec: VmSpec;
    try {
      spec = this.parseSpec(decoded[0].section('SPEC'));
    } catch (err) {
      throw err instanceof SnapshotError ? err : new SnapshotError('bad-section', `section SPEC: ${(err as Error).message}`);
    }
    // Guest memory: the full snapshot's RAM, then each diff's pages (checked now, written below).
    const ram = decoded[0].section('RAM_');
    if (ram.length !== 0x10000) throw new SnapshotError('bad-section', `section RAM_ holds ${ram.length} bytes, not 65536`);
    const pages = decoded.slice(1).map((d) => checkPages(d.section('PAGE')));
    const end = parseEndState(decoded[decoded.length - 1]);

    const id = options.keepId ? lastMeta.id : options.id ?? `${this.options.idPrefix ?? 'vm'}${this.nextId++}`;
    if (this.vms.has(id)) throw new Error(`a VM ${id} exists already`);
    const jit = jitOption ?? lastMeta.jit;
    const place = await this.allocate();
    try {
      const built = await buildVm(spec, place.core, place.slot, jit);
      loadEndState(built, end, (memory) => {
        memory.set(ram);
        for (const list of pages) for (const [page, bytes] of list) memory.set(bytes, page << 8);
      });
      const vm = this.record(id, built.spec, built, place, lastMeta.schedule, jit);
      this.vms.set(id, vm);
      this.takeMeta(vm, lastMeta, options.resume === true);
      return id;
    } catch (err) {
      if (!this.vms.has(id)) this.release(place.core, place.slot);
      if (err instanceof SnapshotError) throw err;
      throw new SnapshotError('bad-section', (err as Error).message);
    }
  }

  /**
   * Brings a VM restored (paused) from a pre-copy's snapshots up to the next
   * of them, a diff: a migration's target takes them as they come, so that
   * at the stop only the last diff is left to load (`resume`: and the VM
   * runs at once). For a VM nothing has run since its restore. All or
   * nothing: a diff that does not check out (CRC, structure, its place in
   * the chain) leaves the VM as it was; one whose state the VM's devices
   * refuse while it loads destroys the VM (it would be half one, half the
   * other) and says so.
   */
  applyDiff(id: string, bytes: Uint8Array, options: { resume?: boolean } = {}): string {
    const vm = this.vm(id);
    this.require(vm, 'take a diff into', ['created', 'paused', 'halted']);
    if (vm.precopy) throw new Error(`VM ${id} is being copied to another host`);
    const d = decodeSnapshot(bytes);
    const meta = parseMeta(d);
    if (d.kind !== 'diff') throw new SnapshotError('bad-diff-chain', 'a full snapshot where a diff was due');
    if (meta.parentId !== vm.lastSnapshotId) throw new SnapshotError('bad-diff-chain', `the diff does not follow VM ${id}'s last snapshot`);
    const pages = checkPages(d.section('PAGE'));
    const end = parseEndState(d);
    if (vm.built.machine.exitCode !== null && end.powerCode === 0xffff) throw new SnapshotError('bad-diff-chain', `VM ${id} is powered off and the diff has it on`);
    try {
      loadEndState(vm.built, end, (memory) => {
        for (const [page, data] of pages) memory.set(data, page << 8);
      });
    } catch (err) {
      this.destroy(id);
      const why = err instanceof SnapshotError ? err.message.replace(/^snapshot rejected: /, '') : (err as Error).message;
      throw new SnapshotError('bad-section', `${why} (VM ${id}, half loaded, is destroyed)`);
    }
    vm.schedule = { ...meta.schedule, weight: meta.schedule.weight ?? 1 };
    this.takeMeta(vm, meta, options.resume === true);
    return id;
  }

  /** A restored VM takes its snapshot's run state, and its handle hears what it is: its state, why it stopped, its exit code. */
  private takeMeta(vm: Vm, meta: Meta, resume: boolean) {
    vm.state = meta.state === 'halted' ? 'halted' : meta.state === 'created' ? 'created' : 'paused';
    vm.reason = meta.reason ?? undefined;
    vm.exits = { ...meta.exits };
    vm.waitingInput = meta.waitingInput;
    vm.lastSnapshotId = meta.snapshotId;
    vm.built.machine.cpu.dirtyPages.fill(0);
    if (resume && vm.state === 'paused') this.setState(vm, 'running');
    else this.options.onEvent?.({ type: 'state', vm: vm.id, state: vm.state, reason: vm.reason, exitCode: vm.built.machine.exitCode });
  }

  private specCache: { text: string; spec: VmSpec } | null = null;

  /** A SPEC section's spec; the last one is kept, as restoring the same VM again is common. */
  private parseSpec(bytes: Uint8Array): VmSpec {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    if (this.specCache?.text !== text) this.specCache = { text, spec: specFromJson(text) };
    return this.specCache.spec;
  }

  /** A copy of a VM that is not running, with a new identity; it starts paused. */
  async clone(id: string, options: { id?: string } = {}): Promise<string> {
    const vm = this.vm(id);
    // A clone is not a snapshot the VM's diffs build on: keep its dirty pages and last snapshot.
    const last = vm.lastSnapshotId;
    const lastBytes = vm.snapshotBytes;
    const dirty = vm.built.machine.cpu.dirtyPages.slice();
    const bytes = this.snapshot(id);
    vm.lastSnapshotId = last;
    vm.snapshotBytes = lastBytes;
    vm.built.machine.cpu.dirtyPages.set(dirty);
    return this.restore([bytes], options);
  }
}

// ---- Section parsing (before anything is built) -----------------------------------------

/** A VM's JIT setting: true, false or none. */
function checkJit(jit: unknown): boolean | undefined {
  if (jit !== undefined && typeof jit !== 'boolean') throw new RangeError(`jit must be true or false, got ${JSON.stringify(jit)}`);
  return jit;
}

function jitFigures(m: Cpu['jitMetrics']): VmMetrics['jit'] {
  return m && { pagesCompiled: m.pagesCompiled, blocks: m.blocks, invalidations: m.invalidations, compiledCycles: m.compiledCycles, interpretedCycles: m.interpretedCycles };
}

interface Meta {
  id: string;
  snapshotId: string;
  parentId: string | null;
  state: VmState;
  reason: string | null;
  schedule: Schedule & { weight: number };
  exits: Record<string, number>;
  waitingInput: boolean;
  /** The VM's JIT setting, when it was given one (snapshots before it was kept have none). */
  jit?: boolean;
}

function parseMeta(d: DecodedSnapshot): Meta {
  let m: Meta;
  try {
    m = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(d.section('META')));
  } catch (err) {
    if (err instanceof SnapshotError) throw err;
    throw new SnapshotError('bad-section', 'section META is not valid JSON');
  }
  const name = (v: unknown) => typeof v === 'string' && /^[A-Za-z0-9_.:-]{1,64}$/.test(v);
  const ok =
    m && name(m.id) && name(m.snapshotId) && (m.parentId === null || name(m.parentId)) &&
    ['created', 'paused', 'halted'].includes(m.state) && (m.reason === null || (typeof m.reason === 'string' && m.reason.length <= 32)) &&
    m.schedule && typeof m.schedule === 'object' && typeof m.schedule.weight === 'number' &&
    m.exits && typeof m.exits === 'object' && Object.keys(m.exits).length <= 32 &&
    Object.entries(m.exits).every(([k, v]) => k.length <= 32 && Number.isSafeInteger(v) && (v as number) >= 0) && typeof m.waitingInput === 'boolean' &&
    (m.jit === undefined || typeof m.jit === 'boolean');
  if (!ok) throw new SnapshotError('bad-section', 'section META is missing fields or has bad values');
  try {
    checkSchedule(m.schedule);
  } catch (err) {
    throw new SnapshotError('bad-section', `section META: ${(err as Error).message}`);
  }
  return m;
}

/** The registers and run state a running core can have: every field in its range, the counters below 2^53, unused bytes zero. */
function checkCore(core: Uint8Array) {
  if (core.length !== SNAPSHOT_BYTES - STATE) throw new SnapshotError('bad-section', `section CORE holds ${core.length} bytes, not ${SNAPSHOT_BYTES - STATE}`);
  const bad = (what: string) => new SnapshotError('bad-section', `section CORE: ${what}`);
  const view = new DataView(core.buffer, core.byteOffset, core.byteLength);
  const at = (offset: number) => core[offset - STATE];
  const u64 = (offset: number) => view.getUint32(offset - STATE + 4, true) * 2 ** 32 + view.getUint32(offset - STATE, true);
  if ((at(STATE_P) & 0x30) !== 0x20) throw bad(`status register $${at(STATE_P).toString(16)} has bit 5 clear or B set`);
  if (at(STATE_HALT) > HALT_WAI) throw bad(`halt state ${at(STATE_HALT)} is not valid`);
  const cycles = u64(STATE_CYCLES);
  const instructions = u64(STATE_INSTRUCTIONS);
  if (cycles >= 2 ** 53) throw bad('the cycle counter is past 2^53');
  if (instructions > cycles) throw bad('more instructions than cycles');
  if (at(STATE_NMI) > 1) throw bad(`NMI state ${at(STATE_NMI)} is not 0 or 1`);
  if (![0, 1, 4].includes(at(STATE_IRQ_LATCH))) throw bad(`interrupt latch ${at(STATE_IRQ_LATCH)} is not valid`);
  if (at(STATE_FLAGS) & ~(RUN_STOP_ON_SELF_LOOP | RUN_TRAP | RUN_TRACE | RUN_SKIP_BREAKPOINT)) throw bad(`run flags $${at(STATE_FLAGS).toString(16)} are not valid`);
  if (at(STATE_EXIT_REASON) > EXIT_TRACE_FULL) throw bad(`exit reason ${at(STATE_EXIT_REASON)} is not valid`);
  if (view.getUint32(STATE_TRACE_LEN - STATE, true) > TRACE_CAPACITY) throw bad('the bus trace length is past the trace ring');
  if (at(STATE_IO_READ_LEN) > IO_READS_MAX || at(STATE_IO_READ_POS) > IO_READS_MAX || at(STATE_IO_WRITE_LEN) > IO_WRITES_MAX) throw bad('the device access log is out of range');
  if (u64(STATE_IO_STAMP) > cycles) throw bad('the device access log is from the future');
  if (at(STATE_POLL) & ~(POLL_LATE | POLL_SEQUENCE)) throw bad(`poll marks $${at(STATE_POLL).toString(16)} are not valid`);
  for (const [offset, what] of [[STATE_IRQ_AT, 'IRQ'], [STATE_NMI_AT, 'NMI'], [STATE_IRQ_UNTIL, 'IRQ release']] as const) {
    if (u64(offset) >= 2 ** 53) throw bad(`the ${what} time is past 2^53`);
  }
  for (let i = STATE_USED_END - STATE; i < core.length; i++) if (core[i] !== 0) throw bad(`byte $${(STATE + i).toString(16)} is not used and must be 0`);
}

/** What a restored CORE must agree with in the machine its SPEC builds: its trap and run options, its interrupt sources. */
function checkCoreFits(core: Uint8Array, machine: Machine) {
  const bad = (what: string) => new SnapshotError('bad-section', `section CORE: ${what}`);
  const at = (offset: number) => core[offset - STATE];
  const cpu = machine.cpu;
  const own = cpu.slot[STATE_FLAGS] & (RUN_STOP_ON_SELF_LOOP | RUN_TRAP);
  if ((at(STATE_FLAGS) & (RUN_STOP_ON_SELF_LOOP | RUN_TRAP)) !== own || (own & RUN_TRAP && at(STATE_TRAP_OPCODE) !== cpu.slot[STATE_TRAP_OPCODE])) {
    throw bad('its trap and run options are not those of the machine its SPEC describes');
  }
  let sources = 0;
  machine.devices.forEach((_, i) => (sources |= 1 << (i % 8)));
  if (at(STATE_IRQ) & ~sources) throw bad(`IRQ line $${at(STATE_IRQ).toString(16)} has sources the machine does not have`);
}

/** The pages of a PAGE section, checked: [page number, 256 bytes]. */
function checkPages(data: Uint8Array): Array<[number, Uint8Array]> {
  if (data.length < 2) throw new SnapshotError('bad-section', 'section PAGE is truncated');
  const count = data[0] | (data[1] << 8);
  if (count > 256 || data.length !== 2 + count * 257) throw new SnapshotError('bad-section', `section PAGE: ${count} pages do not fit its ${data.length} bytes`);
  const seen = new Set<number>();
  const pages: Array<[number, Uint8Array]> = [];
  for (let i = 0; i < count; i++) {
    const page = data[2 + i * 257];
    if (seen.has(page)) throw new SnapshotError('bad-section', `section PAGE lists page $${page.toString(16)} twice`);
    seen.add(page);
    pages.push([page, data.subarray(3 + i * 257, 3 + i * 257 + 256)]);
  }
  return pages;
}

/** The state a snapshot ends in (CORE, DEVS, CONS), checked before anything is built or loaded. */
interface EndState {
  core: Uint8Array;
  devices: Array<{ name: string; state: Uint8Array }>;
  consoleState: Uint8Array;
  powerCode: number;
}

function parseEndState(d: DecodedSnapshot): EndState {
  const core = d.section('CORE');
  checkCore(core);
  const devices = parseDevices(d.section('DEVS'));
  const cons = new StateReader(d.section('CONS'), 'CONS section');
  let consoleState: Uint8Array, powerCode: number;
  try {
    consoleState = cons.blob();
    powerCode = cons.u16();
    cons.end();
    new MachineConsole().load(consoleState);
  } catch (err) {
    throw new SnapshotError('bad-section', `section CONS: ${(err as Error).message}`);
  }
  if (powerCode !== 0xffff && powerCode > 0xff) throw new SnapshotError('bad-section', `section CONS: exit code ${powerCode} out of range`);
  return { core, devices, consoleState, powerCode };
}

/** Loads an end state into a built VM: its devices, its memory (`memory` writes it), registers, console and power. */
function loadEndState(built: BuiltVm, s: EndState, memory: (ram: Uint8Array) => void) {
  const machine = built.machine;
  const { devices } = s;
  if (machine.devices.length !== devices.length || machine.devices.some((d, i) => d.name !== devices[i].name)) {
    throw new SnapshotError('bad-section', `section DEVS lists ${devices.map((d) => d.name).join(', ') || 'no devices'}; the VM has ${machine.devices.map((d) => d.name).join(', ') || 'none'}`);
  }
  checkCoreFits(s.core, machine);
  machine.devices.forEach((d, i) => {
    try {
      if (d.load) d.load(devices[i].state);
      else if (devices[i].state.length) throw new Error('unexpected state');
    } catch (err) {
      throw new SnapshotError('bad-section', `section DEVS, device ${d.name}: ${(err as Error).message}`);
    }
  });
  memory(machine.cpu.ram);
  machine.cpu.slot.set(s.core, STATE);
  built.console.load(s.consoleState);
  if (s.powerCode !== 0xffff) machine.powerOff(s.powerCode);
}

function parseDevices(data: Uint8Array): Array<{ name: string; state: Uint8Array }> {
  try {
    const r = new StateReader(data, 'DEVS section');
    const n = r.u16();
    const out = [];
    for (let i = 0; i < n; i++) out.push({ name: new TextDecoder().decode(r.blob()), state: r.blob() });
    r.end();
    return out;
  } catch (err) {
    throw new SnapshotError('bad-section', (err as Error).message);
  }
}

/** Weights, caps and clocks a VM can run by: each in a range where it runs at all, and no more than a thread can give. */
function checkSchedule(s: Schedule): Schedule {
  if (!s || typeof s !== 'object') throw new RangeError('a schedule must be an object');
  const between = (v: unknown, name: string, min: number, max: number) => {
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max)) throw new RangeError(`${name} must be a number from ${min} to ${max}, got ${String(v)}`);
  };
  between(s.weight, 'weight', MIN_WEIGHT, MAX_WEIGHT);
  between(s.cap, 'cap', 1, 1e12);
  between(s.clockHz, 'clockHz', 1, 1e12);
  between(s.stopAt, 'stopAt', 0, 2 ** 53 - 1);
  for (const key of Object.keys(s)) if (!['weight', 'cap', 'clockHz', 'stopAt'].includes(key)) throw new RangeError(`a schedule has no "${key}" (weight, cap, clockHz, stopAt)`);
  return s;
}

const encoder = new TextEncoder();
function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

function randomId(): string {
  const b = new Uint8Array(8);
  crypto.getRandomValues(b);
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}
