// A Machine is one VM: a CPU core slot, a memory map, devices, a console and
// trap handlers, built from a description, run the way a VM monitor runs a
// guest.
//
// How to drive this:
//   const m = await Machine.create({ machine: 'py65', program: ehbasic, load: 0xc000 });
//   m.console.input('C\r');                  // keys for the guest
//   const exit = m.run(1_000_000);            // { reason: 'budget' | 'idle' | 'exit' | 'breakpoint' | ... }
//   m.console.takeOutput();                   // what it printed
// A description is plain data (see description.ts and src/machines/); code
// that brings its own Device objects builds with Machine.fromParts.
//
// `run` executes the core until an exit; exits the machine can handle
// (device accesses, known traps, timers running out) are handled and the core
// resumes; the others come back to the caller with what is needed to decide.
// The cycle counter is the only clock: devices are ticked in cycles, so the
// same description and inputs always give the same run. A guest that spins
// waiting for input, changing nothing, is found out (idle.ts): `run` then
// returns 'idle' instead of burning the host's time, and the next `run`,
// once input has come, goes on exactly where the spin would have been.

import { CoreMemory, Cpu, ExitReason, PageAttr, hex, type JitOption } from '../core/cpu.js';
import { loadCoreModule } from '../core/wasm.js';
import type { CpuModel } from '../isa/opcodes.js';
import type { Device, DeviceContext } from '../devices/device.js';
import { MachineConsole } from './console.js';
import { IdleDetector, MAX_PERIOD } from './idle.js';
import { buildParts, resolveSpec, type HostServices, type MachineSpec, type VmSpec } from './description.js';

export type MemoryKind = 'ram' | 'rom' | 'unmapped';

export interface MemoryRegion {
  /** First and last address, inclusive; both page-aligned edges (start & 0xFF == 0, end & 0xFF == 0xFF). */
  start: number;
  end: number;
  kind: MemoryKind;
}

export interface DeviceMapping {
  /** First address of the device's registers; none for a device off the bus (it is still attached and ticked). */
  address?: number;
  /** Number of register addresses. */
  size?: number;
  /** The device, or a factory that makes a fresh one. */
  device: Device | (() => Device);
  /** Its interrupt output reaches the CPU's IRQ line (default true). */
  irq?: boolean;
}

/** A machine in code: what a description builds (description.ts), or what code with devices of its own gives. */
export interface MachineParts {
  cpu?: CpuModel;
  /** The memory map by page; pages no region covers are RAM. */
  memory?: MemoryRegion[];
  /** Initial memory contents (64 KiB, or less from $0000). */
  image?: Uint8Array;
  /** Initial memory contents as writes, in order, after `image`: bytes at an address, or `length` bytes of `fill`. */
  contents?: Array<{ address: number; bytes: Uint8Array } | { address: number; fill: number; length: number }>;
  devices?: DeviceMapping[];
  /** Where the CPU starts: the reset vector (default) or an address. */
  startAt?: 'reset' | number;
  /** Registers after loading (defaults: S=$FD, P=$24). */
  registers?: Partial<Record<'a' | 'x' | 'y' | 's' | 'p', number>>;
  /** The hypercall opcode (see Cpu.trapOpcode) and its handler. */
  trap?: { opcode: number; handler: TrapHandler };
  stopOnSelfLoop?: boolean;
  /** The console its console device talks to (default: a fresh one). */
  console?: MachineConsole;
  /** The closed description it was built from, if any (snapshots carry it). */
  spec?: MachineSpec;
}

/**
 * Handles a trap at `machine.cpu.pc`. Returns 'handled' when the guest may go
 * on (the handler has set PC), 'wait' to stop the run and retry the same trap
 * later (input not available yet), or 'unhandled'.
 */
export type TrapHandler = (machine: Machine) => 'handled' | 'wait' | 'unhandled';

export type ExitKind =
  | 'budget' // the cycle budget of this run is spent
  | 'idle' // the guest spins waiting for input and nothing else will change: run again when input is there
  | 'exit' // the guest powered off (code)
  | 'self-loop'
  | 'breakpoint'
  | 'watchpoint' // address, value, access
  | 'jam'
  | 'stp'
  | 'wai' // waiting for an interrupt that nothing can raise
  | 'trap' // a trap no handler took
  | 'wait' // a trap handler waits for input: run again when it is there
  | 'fault'; // a device or handler failed (error); the machine is stopped

export interface MachineExit {
  reason: ExitKind;
  pc: number;
  cycles: number;
  address?: number;
  value?: number;
  access?: 'read' | 'write';
  code?: number;
  error?: Error;
}

export interface RunOptions {
  /**
   * Charges each exit the machine handles (device access, hypercall) that
   * many cycles of the budget, so that a guest that leaves the core all the
   * time gets no more host time than one that does not (the scheduler uses it).
   */
  exitCost?: number;
  /**
   * What an idle guest does: 'stop' (default) returns 'idle' at once when
   * nothing but input can wake it; 'advance' lets its time pass to the end of
   * the budget first (a VM paced in real time stays on its clock); 'off' runs
   * the spin as it is.
   */
  idle?: 'stop' | 'advance' | 'off';
}

/** See Machine.saveRunState. */
export interface MachineRunState {
  exitCode: number | null;
  fault: Error | null;
  watchRead: { address: number; cycles: number } | null;
}

interface Mapped {
  start: number;
  end: number;
  device: Device;
  irqBit: number;
}

const ATTR_OF: Record<MemoryKind, number> = { ram: PageAttr.RAM, rom: PageAttr.ROM, unmapped: PageAttr.UNMAPPED };
/** An idle poll is observed as this point plus its PC; a probed PC as itself. */
const POLL_POINT = 0x10000;
/**
 * Cycles without an exit before the machine looks for a loop that reads no
 * device: QUIET_CYCLES at first and after probes that find none, QUIET_AFTER_IDLE
 * once one was found (the guest goes back to its wait after each interrupt).
 * Probes that find nothing are spaced out, doubling up to PROBE_BACKOFF_MAX
 * cycles: a busy guest is hardly probed at all.
 */
const QUIET_CYCLES = 2_000;
const QUIET_AFTER_IDLE = 64;
const PROBE_BACKOFF_MAX = 50_000_000;

export class Machine {
  readonly cpu: Cpu;
  readonly parts: MachineParts;
  readonly devices: readonly Device[];
  readonly console: MachineConsole;
  private readonly mapped: Mapped[] = [];
  /** Per page: the devices with registers in it. */
  private readonly pageDevices: Array<Mapped[] | undefined> = new Array(256);
  /** Per page: the attribute of the memory map alone, before devices and watchpoints. */
  private readonly baseAttrs = new Uint8Array(256);
  private readonly watchpoints = new Map<number, { read: boolean; write: boolean }>();
  private readonly trapHandler?: TrapHandler;
  private powerOffCode: number | null = null;
  private fault: Error | null = null;
  /** A read watchpoint already reported: the next run performs that read without stopping. */
  private watchReadReported: { address: number; cycles: number } | null = null;
  private readonly idle: IdleDetector;
  /** A device said the read it just answered found no input. */
  private polledIdle = false;
  /** The PC a probe for a quiet idle loop watches (a temporary breakpoint), or -1. */
  private probeAt = -1;
  /** The guest has been quiet long enough: probe it when the next run starts (with a budget to do it in). */
  private probeWanted = false;
  private probeUntil = 0;
  private nextProbe = 0;
  private probeBackoff = QUIET_CYCLES;
  private quiet = QUIET_CYCLES;
  private lastExitCycles = 0;
  /** The budget of this run is being spent in an idle loop that only input ends: it ends 'idle', not 'budget'. */
  private idleTail = false;
  /** The cycle count at which the guest was last proven to spin waiting for input (-1: never). */
  lastIdle = -1;

  private constructor(cpu: Cpu, parts: MachineParts) {
    this.cpu = cpu;
    this.parts = { ...parts, image: undefined, contents: undefined }; // they are in guest memory now: keep no copy
    this.console = parts.console ?? new MachineConsole();
    this.idle = new IdleDetector(cpu);
    const devices: Device[] = [];
    for (const [i, m] of (parts.devices ?? []).entries()) {
      const device = typeof m.device === 'function' ? m.device() : m.device;
      const onBus = m.address !== undefined;
      if (onBus) checkRange(m.address!, m.size ?? 1, `device ${device.name}`);
      const start = m.address ?? -1;
      const mapped: Mapped = { start, end: onBus ? start + (m.size ?? 1) - 1 : -1, device, irqBit: m.irq === false ? -1 : i % 8 };
      this.mapped.push(mapped);
      if (onBus) for (let page = mapped.start >> 8; page <= mapped.end >> 8; page++) (this.pageDevices[page] ??= []).push(mapped);
      devices.push(device);
    }
    this.devices = devices;
    this.trapHandler = parts.trap?.handler;
    this.build(parts);
    for (const m of this.mapped) m.device.attach?.(this.contextFor(m));
  }

  /**
   * Builds the machine a description or VM spec describes (plain data: a
   * machine by name or in full, and what to run on it), in a slot of its own
   * core memory or in `where`. Throws a DescriptionError naming the field
   * that is wrong; nothing is built then. `jit` says whether the machine's
   * hot code runs compiled (src/jit): true, false, or by default as
   * HYPER6502_JIT says (off unless it is on).
   */
  static async create(spec: VmSpec | MachineSpec, options: { where?: { core: CoreMemory; slot: number; zeroed?: boolean }; services?: HostServices; jit?: JitOption } = {}): Promise<Machine> {
    const closed = resolveSpec(isVmSpec(spec) ? spec : { machine: spec as MachineSpec });
    return Machine.fromParts(buildParts(closed, options.services), options.where, { jit: options.jit });
  }

  /** Builds a machine from code-level parts (devices of the caller's own), in a slot of its own core memory or in `where`; `jit` as for create. */
  static async fromParts(parts: MachineParts, where?: { core: CoreMemory; slot: number; zeroed?: boolean }, options: { jit?: JitOption } = {}): Promise<Machine> {
    const { jit } = options;
    if (!where) return new Machine(CoreMemory.instantiate(await loadCoreModule(), 1).cpu(0, parts.cpu ?? '6502', { zeroed: true, jit }), parts);
    return new Machine(where.core.cpu(where.slot, parts.cpu ?? '6502', { zeroed: where.zeroed, jit }), parts);
  }

  /** The closed description the machine was built from (undefined for one built from code-level parts). */
  get spec(): MachineSpec | undefined {
    return this.parts.spec;
  }

  /** Memory, registers and the trap, as the parts say. */
  private build(d: MachineParts) {
    const cpu = this.cpu;
    this.baseAttrs.fill(PageAttr.RAM);
    for (const r of d.memory ?? []) {
      if ((r.start & 0xff) !== 0 || (r.end & 0xff) !== 0xff || r.start > r.end || r.end > 0xffff || r.start < 0) {
        throw new RangeError(`memory region $${hex(r.start, 4)}-$${hex(r.end, 4)} must start and end on page edges ($xx00-$yyFF)`);
      }
      if (!(r.kind in ATTR_OF)) throw new RangeError(`memory region kind "${r.kind}" is not ram, rom or unmapped`);
      this.baseAttrs.fill(ATTR_OF[r.kind], r.start >> 8, (r.end >> 8) + 1);
    }
    if (d.image) {
      if (d.image.length > 0x10000) throw new RangeError(`a memory image holds at most 64 KiB, got ${d.image.length} bytes`);
      cpu.ram.set(d.image);
    }
    for (const c of d.contents ?? []) {
      if ('bytes' in c) {
        checkRange(c.address, Math.max(1, c.bytes.length), 'memory contents');
        cpu.ram.set(c.bytes, c.address);
      } else cpu.ram.fill(c.fill, c.address, c.address + c.length);
    }
    this.applyAttrs();
    const regs = d.registers ?? {};
    cpu.s = regs.s ?? 0xfd;
    cpu.p = regs.p ?? 0x24;
    cpu.a = regs.a ?? 0;
    cpu.x = regs.x ?? 0;
    cpu.y = regs.y ?? 0;
    cpu.pc = d.startAt === undefined || d.startAt === 'reset' ? cpu.ram[0xfffc] | (cpu.ram[0xfffd] << 8) : d.startAt;
    if (d.trap) cpu.trapOpcode = d.trap.opcode;
    cpu.stopOnSelfLoop = d.stopOnSelfLoop ?? false;
  }

  private applyAttrs() {
    const attrs = new Uint8Array(256);
    for (let page = 0; page < 256; page++) attrs[page] = this.pageDevices[page] ? PageAttr.DEVICE : this.baseAttrs[page];
    for (const [address, w] of this.watchpoints) {
      attrs[address >> 8] |= (w.read ? PageAttr.READ_EXIT : 0) | (w.write ? PageAttr.WRITE_EXIT : 0);
    }
    this.cpu.setPageAttributes(attrs);
  }

  private contextFor(m: Mapped): DeviceContext {
    return {
      setIrq: (on, cycle) => {
        if (m.irqBit >= 0) this.cpu.setIrq(m.irqBit, on, cycle);
      },
      nmi: (cycle) => this.cpu.nmi(cycle),
      cycles: () => this.cpu.cycles,
      ram: this.cpu.ram,
      poke: (address, value) => this.cpu.poke(address, value),
      powerOff: (code) => {
        this.powerOffCode = code;
      },
      idlePoll: () => {
        this.polledIdle = true;
      },
    };
  }

  /** The guest's exit code once it powered off, else null. */
  get exitCode(): number | null {
    return this.powerOffCode;
  }

  /** Why the machine can no longer run (a device or handler failed), else null. */
  get faultError(): Error | null {
    return this.fault;
  }

  /** Ends the guest's run with an exit code (hypercall handlers call this). */
  powerOff(code: number) {
    this.powerOffCode = code;
  }

  // ---- Running ---------------------------------------------------------------

  /** Runs up to `budget` cycles; returns why it stopped (see RunOptions, and exitCost there). */
  run(budget: number, options: RunOptions | number = {}): MachineExit {
    const { exitCost = 0, idle: idleMode = 'stop' } = typeof options === 'number' ? { exitCost: options } : options;
    if (this.fault) return this.exit('fault', { error: this.fault });
    if (this.powerOffCode !== null) return this.exit('exit', { code: this.powerOffCode });
    const cpu = this.cpu;
    let end = cpu.cycles + budget;
    const debug = this.breakpointCount > 0;
    const idle = idleMode === 'off' || debug ? null : this.idle;
    this.idleTail = false;
    // Resuming from a breakpoint executes the instruction it stopped before.
    if (debug && this.stoppedAtBreakpoint === cpu.pc) cpu.skipBreakpointOnce();
    this.stoppedAtBreakpoint = -1;
    try {
      for (;;) {
        const now = cpu.cycles;
        if (now >= end) return this.exit(this.idleTail ? 'idle' : 'budget');
        if (this.probeWanted && idle && this.probeAt < 0) this.startProbe();
        const probing = this.probeAt >= 0;
        // While it looks for idle loops, the machine looks at a guest that leaves the core for nothing every so often.
        const look = !idle ? Infinity : probing ? this.probeUntil : Math.max(this.lastExitCycles + this.quiet, this.nextProbe, now + 1);
        const event = this.nextDeviceEvent();
        const slice = Math.min(end, event, look) - now;
        const reason = debug || probing ? cpu.debugRun(Math.max(1, slice)) : cpu.run(Math.max(1, slice));
        this.tickDevices(cpu.cycles);
        if (reason !== ExitReason.Budget && !(probing && reason === ExitReason.Breakpoint)) this.lastExitCycles = cpu.cycles;
        switch (reason) {
          case ExitReason.Budget:
            if (probing) {
              if (cpu.cycles >= this.probeUntil) this.endProbe(false);
            } else if (idle && look < Math.min(end, event) && cpu.cycles >= look) this.probeWanted = true; // quiet: probe it, between events
            break;
          case ExitReason.DeviceRead: {
            const address = cpu.exitAddress;
            const watch = this.watchpoints.size ? this.watchpoints.get(address) : undefined;
            const seen = this.watchReadReported;
            if (watch?.read && !(seen && seen.address === address && seen.cycles === cpu.cycles)) {
              this.watchReadReported = { address, cycles: cpu.cycles };
              return this.exit('watchpoint', { address, access: 'read', value: this.peekBus(address) });
            }
            this.watchReadReported = null;
            this.polledIdle = false;
            const value = this.busRead(address);
            if (idle && this.polledIdle) {
              // A poll that found no input: the same again, with nothing changed, means an idle loop.
              if (!probing) {
                const period = idle.observe(POLL_POINT + cpu.pc);
                if (period) {
                  const stop = this.idleFor(period, end, idleMode);
                  if (stop) return stop;
                }
              }
            } else if (idle) this.notIdle();
            cpu.completeRead(value);
            break;
          }
          case ExitReason.DeviceWrite: {
            this.notIdle();
            let hit = -1;
            let hitValue = 0;
            for (let i = 0, n = cpu.writeCount; i < n; i++) {
              const address = cpu.writeAddress(i);
              const value = cpu.writeValue(i);
              this.busWrite(address, value);
              if (this.watchpoints.size && this.watchpoints.get(address)?.write) [hit, hitValue] = [address, value];
            }
            cpu.clearWrites();
            if (hit >= 0) return this.exit('watchpoint', { address: hit, value: hitValue, access: 'write' });
            break;
          }
          case ExitReason.Trap: {
            this.notIdle();
            const outcome = this.trapHandler ? this.trapHandler(this) : 'unhandled';
            if (outcome === 'wait') return this.exit('wait');
            if (outcome === 'unhandled') return this.exit('trap', { address: cpu.pc });
            break;
          }
          case ExitReason.SelfLoop:
            return this.exit('self-loop');
          case ExitReason.Breakpoint:
            if (probing && cpu.pc === this.probeAt && !this.breakpoints.has(cpu.pc)) {
              const period = idle!.observe(cpu.pc);
              cpu.skipBreakpointOnce();
              if (period) {
                this.endProbe(true);
                const stop = this.idleFor(period, end, idleMode);
                if (stop) {
                  this.probeWanted = true; // the next run looks again at once
                  return stop;
                }
              } else if (!idle!.onTrack) this.endProbe(false); // back at the PC, but changed: not a wait
              break;
            }
            this.stoppedAtBreakpoint = cpu.pc;
            return this.exit('breakpoint');
          case ExitReason.Jam:
            return this.exit('jam');
          case ExitReason.Stp:
            return this.exit('stp');
          case ExitReason.Wai:
            if (this.nextDeviceEvent() === Infinity) return this.exit('wai');
            break;
          default:
            throw new Error(`unexpected exit reason ${reason}`);
        }
        if (this.powerOffCode !== null) return this.exit('exit', { code: this.powerOffCode });
        if (reason !== ExitReason.Budget && reason !== ExitReason.Breakpoint) end -= exitCost;
      }
    } catch (err) {
      this.fault = err instanceof Error ? err : new Error(String(err));
      return this.exit('fault', { error: this.fault });
    } finally {
      if (this.probeAt >= 0) this.endProbe(false);
      this.idle.reset();
    }
  }

  /** Something other than an idle poll happened: what the detector saw no longer counts. */
  private notIdle() {
    this.idleTail = false;
    if (this.probeAt >= 0) this.endProbe(false);
    else this.idle.reset();
  }

  /** Watches the PC of a guest that has left the core for nothing in a while: does it come back there unchanged? */
  private startProbe() {
    this.probeWanted = false;
    this.probeAt = this.cpu.pc;
    this.probeUntil = this.cpu.cycles + 2 * MAX_PERIOD + 1;
    this.idle.reset();
    this.idle.observe(this.probeAt);
    this.cpu.setBreakpoint(this.probeAt);
    this.cpu.skipBreakpointOnce();
  }

  private endProbe(found: boolean) {
    if (!this.breakpoints.has(this.probeAt)) this.cpu.setBreakpoint(this.probeAt, false);
    this.cpu.skipBreakpointOnce(false);
    this.probeAt = -1;
    if (!found) this.idle.reset();
    // A guest that is busy is probed less and less often; one found idle is probed again soon.
    this.quiet = found ? QUIET_AFTER_IDLE : QUIET_CYCLES;
    this.probeBackoff = found ? 0 : Math.min(Math.max(this.probeBackoff * 2, QUIET_CYCLES), PROBE_BACKOFF_MAX);
    this.nextProbe = this.cpu.cycles + this.probeBackoff;
  }

  /**
   * The guest is in a loop of `period` that changes nothing: lets its time
   * pass (exactly: whole periods) up to the next device event or the end of
   * the budget, and goes on running from there (null). When nothing but
   * input can wake it, the run ends 'idle': at once ('stop'), or at the end
   * of the budget ('advance', see idleTail).
   */
  private idleFor(period: { cycles: number; instructions: number }, end: number, mode: 'stop' | 'advance' | 'off'): MachineExit | null {
    const cpu = this.cpu;
    this.lastIdle = cpu.cycles;
    const event = Math.min(this.nextDeviceEvent(), cpu.nextLineChange);
    if (event === Infinity && mode === 'stop') return this.exit('idle');
    const limit = Math.min(end, event);
    const k = Math.floor((limit - 1 - cpu.cycles) / period.cycles);
    if (k > 0) cpu.skipAhead(k * period.cycles, k * period.instructions);
    // The last part of a period runs as it is, to the end of the budget or the event (not probed again before it).
    this.idleTail = event === Infinity;
    this.nextProbe = Math.max(this.nextProbe, limit + this.quiet);
    this.idle.reset();
    return null;
  }

  private exit(reason: ExitKind, extra: Partial<MachineExit> = {}): MachineExit {
    return { reason, pc: this.cpu.pc, cycles: this.cpu.cycles, ...extra };
  }

  /** The devices that keep time (have events or tick), looked at after every exit. */
  private get timedDevices(): Device[] {
    return (this.timed ??= this.devices.filter((d) => d.nextEvent || d.tick));
  }
  private timed?: Device[];

  private nextDeviceEvent(): number {
    let next = Infinity;
    for (const d of this.timedDevices) {
      const e = d.nextEvent?.() ?? Infinity;
      if (e < next) next = e;
    }
    return next;
  }

  private tickDevices(cycle: number) {
    for (const d of this.timedDevices) d.tick?.(cycle);
  }

  // ---- The bus, for accesses that left the core -------------------------------

  private deviceAt(address: number): Mapped | undefined {
    const list = this.pageDevices[address >> 8];
    if (!list) return undefined;
    for (const m of list) if (address >= m.start && address <= m.end && (!m.device.decodes || m.device.decodes(address - m.start))) return m;
    return undefined;
  }

  /** A read through the bus, as the guest would see it (devices' side effects included). */
  busRead(address: number): number {
    const m = this.deviceAt(address);
    if (m) return m.device.read ? m.device.read(address - m.start, this.cpu.cycles) & 0xff : 0xff;
    return this.baseAttrs[address >> 8] === PageAttr.UNMAPPED ? 0xff : this.cpu.ram[address];
  }

  /** What a read would return, without a device's side effects (for debuggers). */
  peekBus(address: number): number {
    const m = this.deviceAt(address);
    if (m) return 0xff;
    return this.baseAttrs[address >> 8] === PageAttr.UNMAPPED ? 0xff : this.cpu.ram[address];
  }

  /** A write through the bus (devices, RAM; ROM and unmapped ignore it). */
  busWrite(address: number, value: number) {
    const m = this.deviceAt(address);
    if (m) {
      m.device.write?.(address - m.start, value, this.cpu.cycles);
      return;
    }
    if (this.baseAttrs[address >> 8] === PageAttr.RAM) this.cpu.poke(address, value);
  }

  // ---- Debugging ---------------------------------------------------------------
  private breakpointCount = 0;
  private stoppedAtBreakpoint = -1;
  private readonly breakpoints = new Set<number>();

  addBreakpoint(address: number) {
    if (!this.breakpoints.has(address)) {
      this.cpu.setBreakpoint(address);
      this.breakpoints.add(address);
      this.breakpointCount++;
    }
  }
  removeBreakpoint(address: number) {
    if (this.breakpoints.delete(address)) {
      this.cpu.setBreakpoint(address, false);
      this.breakpointCount--;
    }
  }
  get breakpointList(): number[] {
    return [...this.breakpoints].sort((a, b) => a - b);
  }

  /** Stops runs when the guest reads and/or writes `address`. */
  addWatchpoint(address: number, access: { read?: boolean; write?: boolean } = { read: true, write: true }) {
    checkRange(address, 1, 'watchpoint');
    this.watchpoints.set(address, { read: !!access.read, write: !!access.write });
    this.applyAttrs();
  }
  removeWatchpoint(address: number) {
    this.watchpoints.delete(address);
    this.applyAttrs();
  }

  // ---- Rewinding (src/debug/history.ts puts a machine back where it was) ----------

  /** The run state kept outside the core: the exit code, the fault, a read watchpoint already reported. */
  saveRunState(): MachineRunState {
    return { exitCode: this.powerOffCode, fault: this.fault, watchRead: this.watchReadReported && { ...this.watchReadReported } };
  }
  loadRunState(state: MachineRunState) {
    this.powerOffCode = state.exitCode;
    this.fault = state.fault;
    this.watchReadReported = state.watchRead && { ...state.watchRead };
    this.stoppedAtBreakpoint = -1;
  }

  /** Resets the devices and the CPU (RESET sequence). */
  reset() {
    this.lastExitCycles = this.cpu.cycles;
    for (const d of this.devices) d.reset?.();
    this.cpu.irq = 0;
    this.cpu.reset();
    this.powerOffCode = null;
    this.fault = null;
  }
}

/** A VM spec (it names or contains a machine, or gives program bytes) rather than a bare machine description. */
function isVmSpec(x: VmSpec | MachineSpec): x is VmSpec {
  const o = x as Record<string, unknown>;
  return 'machine' in o || 'profile' in o || o.program instanceof Uint8Array || !('memory' in o || 'devices' in o || Array.isArray(o.load));
}

function checkRange(address: number, size: number, what: string) {
  if (!Number.isInteger(address) || address < 0 || address > 0xffff) throw new RangeError(`${what}: address ${address} is not in $0000-$FFFF`);
  if (!Number.isInteger(size) || size < 1 || address + size > 0x10000) throw new RangeError(`${what}: ${size} bytes at $${hex(address, 4)} do not fit below $10000`);
}
