// Stepping backwards: a machine's past, kept as periodic checkpoints and
// replayed by deterministic re-execution, exact to the instruction and the
// cycle (registers, memory, devices, console).
//
// How to drive this:
//   const h = new History(machine, { interval: 50_000, maxBytes: 64 << 20 });
//   h.run(1_000_000);               // runs as machine.run does, recording
//   h.seek(h.now.instructions - 1); // one instruction back: the state is exactly the one before
//   h.searchBack((m) => m.cpu.pc === 0x1234);  // the last time PC was $1234, before now
//   h.edited();                     // after the debugger or input changed the machine: the future is gone
//   h.cost();                       // { checkpoints, bytes, cycles, ... }
//
// Checkpoints are taken every `interval` cycles of new history: the core's
// state block, the pages the guest wrote since the last checkpoint (every
// KEYFRAME_EVERY-th checkpoint has all 64 KiB), each device's saved state,
// the console and the machine's run state. Going back restores the last
// checkpoint before the target and runs forward to it; runs never use the
// idle shortcut (skipping a spin would skip instruction boundaries). The
// oldest checkpoints are dropped, a keyframe's group at a time, to stay under
// `maxBytes`. Positions are counted in instructions, each the state right
// after its instruction (an interrupt's entry belongs to the instruction
// after it, as in a debugger's step): a power-off executes
// none, so going back to the exit's position gives the state just before it
// (the next run powers off again). The machine's dirty-page bits belong to the history while it
// records: a machine recorded this way is not in a VmHost.

import { SNAPSHOT_BYTES, STATE } from '../core/layout.js';
import type { Machine, MachineExit, MachineRunState } from '../machine/machine.js';
import { Sim65Device } from '../devices/sim65.js';

/** Every this many checkpoints, one holds all of memory; the others the pages written since the one before. */
const KEYFRAME_EVERY = 32;

export interface HistoryOptions {
  /** Cycles between checkpoints (default 50,000). */
  interval?: number;
  /** The most bytes the checkpoints may take (default 64 MiB); the oldest go first. */
  maxBytes?: number;
}

export interface Position {
  cycles: number;
  instructions: number;
}

interface Checkpoint extends Position {
  state: Uint8Array;
  /** All of memory (a keyframe), or the pages written since the checkpoint before. */
  ram?: Uint8Array;
  pages?: { numbers: Uint8Array; bytes: Uint8Array };
  devices: Array<Uint8Array | undefined>;
  descriptors?: unknown;
  console: Uint8Array;
  run: MachineRunState;
  bytes: number;
}

export interface HistoryCost {
  checkpoints: number;
  bytes: number;
  /** Cycles from the oldest checkpoint to the newest. */
  cycles: number;
  /** Bytes per million cycles of history. */
  bytesPerMillionCycles: number;
  oldest?: Position;
}

export class History {
  readonly interval: number;
  readonly maxBytes: number;
  private readonly checkpoints: Checkpoint[] = [];
  private bytes = 0;
  private sinceKeyframe = 0;

  constructor(readonly machine: Machine, options: HistoryOptions = {}) {
    this.interval = options.interval ?? 50_000;
    this.maxBytes = options.maxBytes ?? 64 << 20;
    if (!(this.interval >= 1)) throw new RangeError(`history interval must be at least 1 cycle, got ${options.interval}`);
    if (!(this.maxBytes >= 0x20000)) throw new RangeError(`history maxBytes must be at least 128 KiB, got ${options.maxBytes}`);
    this.checkpoint();
  }

  /** Where the machine is. */
  get now(): Position {
    const c = this.machine.cpu;
    return { cycles: c.cycles, instructions: c.instructions };
  }

  /** The oldest position the history can go back to. */
  get start(): Position {
    const c = this.checkpoints[0];
    return { cycles: c.cycles, instructions: c.instructions };
  }

  /** The newest position recorded so far (the machine may be behind it, after going back). */
  get end(): Position {
    const c = this.checkpoints[this.checkpoints.length - 1];
    return { cycles: c.cycles, instructions: c.instructions };
  }

  /** Runs as machine.run (never the idle shortcut), taking checkpoints as new history is made. */
  run(budget: number): MachineExit {
    const m = this.machine;
    const end = m.cpu.cycles + budget;
    for (;;) {
      const last = this.checkpoints[this.checkpoints.length - 1];
      const due = last.cycles + this.interval;
      // Behind the newest checkpoint (after going back), run up to it first: new history is recorded from there.
      const stop = Math.min(end, m.cpu.cycles < last.cycles ? last.cycles : due);
      const exit = m.run(Math.max(1, stop - m.cpu.cycles), { idle: 'off' });
      if (m.cpu.cycles >= due && m.cpu.cycles > last.cycles) this.checkpoint();
      if (exit.reason !== 'budget' || m.cpu.cycles >= end) return exit;
    }
  }

  /** The machine was changed from outside (memory, registers, input): what was recorded after now no longer follows. */
  edited() {
    const now = this.now;
    while (this.checkpoints.length && this.checkpoints[this.checkpoints.length - 1].instructions >= now.instructions) this.dropNewest();
    this.checkpoint();
  }

  /**
   * Puts the machine at `instructions` instructions (between the start of
   * the history and the newest recorded position), exactly as it was when it
   * first got there.
   */
  seek(instructions: number): Position {
    const first = this.checkpoints[0];
    if (instructions < first.instructions) throw new RangeError(`instruction ${instructions} is before the start of the history (${first.instructions})`);
    const k = this.lastBefore(instructions, true);
    // Going forward within the same stretch needs no restore.
    const cpu = this.machine.cpu;
    if (!(cpu.instructions <= instructions && k === this.lastBefore(cpu.instructions, true))) this.restore(k);
    this.advanceTo(instructions);
    return this.now;
  }

  /**
   * The last position before now at which `match` holds (checked before each
   * instruction), going back checkpoint by checkpoint; the machine is left
   * there. With `fast` the machine's own breakpoints and watchpoints find the
   * candidates (match is asked only where a run stops), else every
   * instruction is looked at. Null, with the machine at the start of the
   * history, when there is none.
   */
  searchBack(match: (m: Machine, exit?: MachineExit) => boolean, options: { fast?: boolean } = {}): Position | null {
    const cpu = this.machine.cpu;
    let windowEnd = cpu.instructions;
    let endCycles = cpu.cycles;
    let k = this.lastBefore(windowEnd, false);
    for (; k >= 0; k--) {
      this.restore(k);
      let found: Position | null = null;
      if (options.fast) {
        for (;;) {
          if (cpu.instructions >= windowEnd) break;
          const exit = this.machine.run(Math.max(1, endCycles - cpu.cycles), { idle: 'off' });
          if (cpu.instructions >= windowEnd) break;
          if ((exit.reason === 'breakpoint' || exit.reason === 'watchpoint') && match(this.machine, exit)) found = this.now;
          else if (exit.reason !== 'breakpoint' && exit.reason !== 'watchpoint' && exit.reason !== 'budget') break;
        }
      } else {
        while (cpu.instructions < windowEnd) {
          if (match(this.machine)) found = this.now;
          if (!this.stepOnce()) break;
        }
      }
      if (found) {
        this.seek(found.instructions);
        return found;
      }
      windowEnd = this.checkpoints[k].instructions;
      endCycles = this.checkpoints[k].cycles;
    }
    this.restore(0);
    return null;
  }

  cost(): HistoryCost {
    const first = this.checkpoints[0];
    const last = this.checkpoints[this.checkpoints.length - 1];
    const cycles = last.cycles - first.cycles;
    return {
      checkpoints: this.checkpoints.length,
      bytes: this.bytes,
      cycles,
      bytesPerMillionCycles: cycles > 0 ? (this.bytes / cycles) * 1e6 : 0,
      oldest: { cycles: first.cycles, instructions: first.instructions },
    };
  }

  // ---- Checkpoints ----------------------------------------------------------------------

  /** The index of the last checkpoint at or before (`orAt`) / strictly before `instructions`; 0 at least. */
  private lastBefore(instructions: number, orAt: boolean): number {
    let lo = 0;
    let hi = this.checkpoints.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      const at = this.checkpoints[mid].instructions;
      if (orAt ? at <= instructions : at < instructions) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private checkpoint() {
    const m = this.machine;
    const cpu = m.cpu;
    const keyframe = this.checkpoints.length === 0 || this.sinceKeyframe >= KEYFRAME_EVERY - 1;
    const c: Checkpoint = {
      cycles: cpu.cycles,
      instructions: cpu.instructions,
      state: cpu.slot.slice(STATE, SNAPSHOT_BYTES),
      devices: m.devices.map((d) => d.save?.()),
      descriptors: sim65Host(m)?.saveDescriptors(),
      console: m.console.save(),
      run: m.saveRunState(),
      bytes: 0,
    };
    if (keyframe) {
      c.ram = cpu.ram.slice();
      this.sinceKeyframe = 0;
    } else {
      const numbers: number[] = [];
      for (let p = 0; p < 256; p++) if (cpu.dirtyPages[p]) numbers.push(p);
      const bytes = new Uint8Array(numbers.length * 256);
      numbers.forEach((p, i) => bytes.set(cpu.ram.subarray(p << 8, (p + 1) << 8), i * 256));
      c.pages = { numbers: Uint8Array.from(numbers), bytes };
      this.sinceKeyframe++;
    }
    cpu.dirtyPages.fill(0);
    c.bytes = 200 + c.state.length + (c.ram?.length ?? 0) + (c.pages ? c.pages.bytes.length + c.pages.numbers.length : 0) + c.console.length + c.devices.reduce((n, d) => n + (d?.length ?? 0), 0);
    this.checkpoints.push(c);
    this.bytes += c.bytes;
    this.trim();
  }

  /** Drops the oldest keyframe's group while over the bound (the newest group always stays). */
  private trim() {
    while (this.bytes > this.maxBytes) {
      const next = this.checkpoints.findIndex((c, i) => i > 0 && c.ram);
      if (next < 0) return;
      for (const c of this.checkpoints.splice(0, next)) this.bytes -= c.bytes;
    }
  }

  private dropNewest() {
    const c = this.checkpoints.pop()!;
    this.bytes -= c.bytes;
    // The next checkpoint continues the group of the last one left.
    let n = 0;
    for (let i = this.checkpoints.length - 1; i >= 0 && !this.checkpoints[i].ram; i--) n++;
    this.sinceKeyframe = n;
  }

  /** Puts the machine exactly as it was at checkpoint k. */
  private restore(k: number) {
    const m = this.machine;
    const cpu = m.cpu;
    let key = k;
    while (!this.checkpoints[key].ram) key--;
    cpu.ram.set(this.checkpoints[key].ram!);
    for (let i = key + 1; i <= k; i++) {
      const { numbers, bytes } = this.checkpoints[i].pages!;
      numbers.forEach((p, j) => cpu.ram.set(bytes.subarray(j * 256, (j + 1) * 256), p << 8));
    }
    const c = this.checkpoints[k];
    cpu.slot.set(c.state, STATE);
    m.devices.forEach((d, i) => {
      const saved = c.devices[i];
      if (saved && d.load) d.load(saved);
    });
    if (c.descriptors !== undefined) sim65Host(m)?.loadDescriptors(c.descriptors);
    m.console.load(c.console);
    m.loadRunState(c.run);
    cpu.dirtyPages.fill(0);
  }

  /** Runs forward to exactly `instructions` (never past it). */
  private advanceTo(instructions: number) {
    const cpu = this.machine.cpu;
    while (cpu.instructions < instructions) {
      const gap = instructions - cpu.instructions;
      // An instruction takes at least two cycles: a budget of `gap` cycles ends at most gap/2 + 1 instructions later.
      if (gap > 8) {
        const exit = this.machine.run(gap, { idle: 'off' });
        if (!['budget', 'breakpoint', 'watchpoint'].includes(exit.reason)) return;
      } else if (!this.stepOnce()) return;
    }
  }

  /** One instruction (breakpoints and watchpoints on the way are passed); false when the machine cannot go on. */
  private stepOnce(): boolean {
    const cpu = this.machine.cpu;
    const before = cpu.instructions;
    for (let tries = 0; tries < 4; tries++) {
      const exit = this.machine.run(1, { idle: 'off' });
      if (cpu.instructions > before) return true;
      if (exit.reason !== 'breakpoint' && exit.reason !== 'watchpoint' && exit.reason !== 'budget') return false;
    }
    return cpu.instructions > before;
  }
}

function sim65Host(m: Machine) {
  const d = m.devices.find((x) => x instanceof Sim65Device) as Sim65Device | undefined;
  return d?.host;
}
