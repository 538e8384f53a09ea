// A Machine is one VM: a CPU core slot, a memory map, devices and trap
// handlers, built from a description, run the way a VM monitor runs a guest.
//
// How to drive this:
//   const m = await Machine.create({
//     cpu: '6502',
//     memory: [{ start: 0xe000, end: 0xffff, kind: 'rom', data: rom }],
//     devices: [{ address: 0xd000, size: 4, device: () => new Acia6551({ output }) }],
//   });
//   const exit = m.run(1_000_000);   // { reason: 'budget' | 'exit' | 'breakpoint' | ... }
//
// `run` executes the core until an exit; exits the machine can handle
// (device accesses, known traps, timers running out) are handled and the core
// resumes; the others come back to the caller with what is needed to decide.
// The cycle counter is the only clock: devices are ticked in cycles, so the
// same description and inputs always give the same run.

import { CoreMemory, Cpu, ExitReason, PageAttr, hex } from '../core/cpu.js';
import { loadCoreModule } from '../core/wasm.js';
import type { CpuModel } from '../isa/opcodes.js';
import type { Device, DeviceContext } from '../devices/device.js';

export type MemoryKind = 'ram' | 'rom' | 'unmapped';

export interface MemoryRegion {
  /** First and last address, inclusive; both page-aligned edges (start & 0xFF == 0, end & 0xFF == 0xFF). */
  start: number;
  end: number;
  kind: MemoryKind;
  /** Initial contents from `start` on (ROM images). */
  data?: Uint8Array;
}

export interface DeviceMapping {
  /** First address of the device's registers; none for a device off the bus (it is still attached and ticked). */
  address?: number;
  /** Number of register addresses. */
  size?: number;
  /** The device, or a factory that makes a fresh one (so a description can build many machines). */
  device: Device | (() => Device);
}

export interface MachineDescription {
  cpu?: CpuModel;
  /** Regions over the default of 64 KiB of RAM, later ones win. */
  memory?: MemoryRegion[];
  devices?: DeviceMapping[];
  /** A program to load into memory, and where to start (default: the reset vector). */
  program?: { bytes: Uint8Array; address: number; start?: number };
  /** Fill byte for RAM before anything is loaded (default 0). */
  fill?: number;
  /** Registers after loading (defaults: S=$FD, P=$24). */
  registers?: Partial<Record<'a' | 'x' | 'y' | 's' | 'p', number>>;
  /** The hypercall opcode (see Cpu.trapOpcode) and its handler. */
  trap?: { opcode: number; handler: TrapHandler };
}

/**
 * Handles a trap at `machine.cpu.pc`. Returns 'handled' when the guest may go
 * on (the handler has set PC), 'wait' to stop the run and retry the same trap
 * later (input not available yet), or 'unhandled'.
 */
export type TrapHandler = (machine: Machine) => 'handled' | 'wait' | 'unhandled';

export type ExitKind =
  | 'budget' // the cycle budget of this run is spent
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

interface Mapped {
  start: number;
  end: number;
  device: Device;
  irqBit: number;
}

const ATTR_OF: Record<MemoryKind, number> = { ram: PageAttr.RAM, rom: PageAttr.ROM, unmapped: PageAttr.UNMAPPED };

export class Machine {
  readonly cpu: Cpu;
  readonly description: MachineDescription;
  readonly devices: readonly Device[];
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

  private constructor(cpu: Cpu, description: MachineDescription) {
    this.cpu = cpu;
    this.description = description;
    const devices: Device[] = [];
    for (const [i, m] of (description.devices ?? []).entries()) {
      const device = typeof m.device === 'function' ? m.device() : m.device;
      const onBus = m.address !== undefined;
      if (onBus) checkRange(m.address!, m.size ?? 1, `device ${device.name}`);
      const start = m.address ?? -1;
      const mapped: Mapped = { start, end: onBus ? start + (m.size ?? 1) - 1 : -1, device, irqBit: i % 8 };
      this.mapped.push(mapped);
      if (onBus) for (let page = mapped.start >> 8; page <= mapped.end >> 8; page++) (this.pageDevices[page] ??= []).push(mapped);
      devices.push(device);
    }
    this.devices = devices;
    this.trapHandler = description.trap?.handler;
    this.build();
    for (const m of this.mapped) m.device.attach?.(this.contextFor(m));
  }

  /** Builds a machine in a slot of its own core memory (or in `slot` of `core`). */
  static async create(description: MachineDescription, where?: { core: CoreMemory; slot: number; zeroed?: boolean }): Promise<Machine> {
    if (!where) return new Machine(CoreMemory.instantiate(await loadCoreModule(), 1).cpu(0, description.cpu ?? '6502', { zeroed: true }), description);
    return new Machine(where.core.cpu(where.slot, description.cpu ?? '6502', { zeroed: where.zeroed }), description);
  }

  /** Memory, registers and the trap, as the description says. */
  private build() {
    const d = this.description;
    const cpu = this.cpu;
    if (d.fill) cpu.ram.fill(d.fill); // a fresh slot is already zero
    this.baseAttrs.fill(PageAttr.RAM);
    for (const r of d.memory ?? []) {
      if ((r.start & 0xff) !== 0 || (r.end & 0xff) !== 0xff || r.start > r.end || r.end > 0xffff || r.start < 0) {
        throw new RangeError(`memory region $${hex(r.start, 4)}-$${hex(r.end, 4)} must start and end on page edges ($xx00-$yyFF)`);
      }
      if (!(r.kind in ATTR_OF)) throw new RangeError(`memory region kind "${r.kind}" is not ram, rom or unmapped`);
      this.baseAttrs.fill(ATTR_OF[r.kind], r.start >> 8, (r.end >> 8) + 1);
      if (r.data) {
        if (r.data.length > r.end - r.start + 1) throw new RangeError(`data for $${hex(r.start, 4)}-$${hex(r.end, 4)} is ${r.data.length} bytes, more than the region holds`);
        cpu.ram.set(r.data, r.start);
      }
    }
    if (d.program) {
      const { bytes, address } = d.program;
      checkRange(address, bytes.length, 'program');
      cpu.ram.set(bytes, address);
    }
    this.applyAttrs();
    const regs = d.registers ?? {};
    cpu.s = regs.s ?? 0xfd;
    cpu.p = regs.p ?? 0x24;
    cpu.a = regs.a ?? 0;
    cpu.x = regs.x ?? 0;
    cpu.y = regs.y ?? 0;
    cpu.pc = d.program?.start ?? cpu.ram[0xfffc] | (cpu.ram[0xfffd] << 8);
    if (d.trap) cpu.trapOpcode = d.trap.opcode;
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
      setIrq: (on, cycle) => this.cpu.setIrq(m.irqBit, on, cycle),
      nmi: (cycle) => this.cpu.nmi(cycle),
      cycles: () => this.cpu.cycles,
      ram: this.cpu.ram,
      poke: (address, value) => this.cpu.poke(address, value),
      powerOff: (code) => {
        this.powerOffCode = code;
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

  /**
   * Runs up to `budget` cycles; returns why it stopped. `exitCost` charges
   * each exit the machine handles (device access, hypercall) that many cycles
   * of the budget, so that a guest that leaves the core all the time gets no
   * more host time than one that does not (the scheduler uses it).
   */
  run(budget: number, exitCost = 0): MachineExit {
    if (this.fault) return this.exit('fault', { error: this.fault });
    if (this.powerOffCode !== null) return this.exit('exit', { code: this.powerOffCode });
    const cpu = this.cpu;
    let end = cpu.cycles + budget;
    const debug = this.breakpointCount > 0;
    // Resuming from a breakpoint executes the instruction it stopped before.
    if (debug && this.stoppedAtBreakpoint === cpu.pc) cpu.skipBreakpointOnce();
    this.stoppedAtBreakpoint = -1;
    try {
      for (;;) {
        const now = cpu.cycles;
        if (now >= end) return this.exit('budget');
        const slice = Math.min(end, this.nextDeviceEvent()) - now;
        const reason = debug ? cpu.debugRun(Math.max(1, slice)) : cpu.run(Math.max(1, slice));
        this.tickDevices(cpu.cycles);
        switch (reason) {
          case ExitReason.Budget:
            break;
          case ExitReason.DeviceRead: {
            const address = cpu.exitAddress;
            const watch = this.watchpoints.get(address);
            const seen = this.watchReadReported;
            if (watch?.read && !(seen && seen.address === address && seen.cycles === cpu.cycles)) {
              this.watchReadReported = { address, cycles: cpu.cycles };
              return this.exit('watchpoint', { address, access: 'read', value: this.peekBus(address) });
            }
            this.watchReadReported = null;
            cpu.completeRead(this.busRead(address));
            break;
          }
          case ExitReason.DeviceWrite: {
            let hit: { address: number; value: number } | null = null;
            for (const w of cpu.takeWrites()) {
              this.busWrite(w.address, w.value);
              if (this.watchpoints.get(w.address)?.write) hit = w;
            }
            if (hit) return this.exit('watchpoint', { address: hit.address, value: hit.value, access: 'write' });
            break;
          }
          case ExitReason.Trap: {
            const outcome = this.trapHandler ? this.trapHandler(this) : 'unhandled';
            if (outcome === 'wait') return this.exit('wait');
            if (outcome === 'unhandled') return this.exit('trap', { address: cpu.pc });
            break;
          }
          case ExitReason.SelfLoop:
            return this.exit('self-loop');
          case ExitReason.Breakpoint:
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
        if (reason !== ExitReason.Budget) end -= exitCost;
      }
    } catch (err) {
      this.fault = err instanceof Error ? err : new Error(String(err));
      return this.exit('fault', { error: this.fault });
    }
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
    for (const m of list) if (address >= m.start && address <= m.end) return m;
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

  /** Resets the devices and the CPU (RESET sequence). */
  reset() {
    for (const d of this.devices) d.reset?.();
    this.cpu.irq = 0;
    this.cpu.reset();
    this.powerOffCode = null;
    this.fault = null;
  }
}

function checkRange(address: number, size: number, what: string) {
  if (!Number.isInteger(address) || address < 0 || address > 0xffff) throw new RangeError(`${what}: address ${address} is not in $0000-$FFFF`);
  if (!Number.isInteger(size) || size < 1 || address + size > 0x10000) throw new RangeError(`${what}: ${size} bytes at $${hex(address, 4)} do not fit below $10000`);
}
