// Idle loops: a guest that waits for input by spinning, proven to change
// nothing, so that its time can pass without running it (pause-loop exiting,
// done exactly).
//
// How to drive this (the Machine does it): `observe(point)` at a point of the
// guest's run that may repeat (a device read that found no input, or a PC the
// Machine probes with a breakpoint); it returns the loop's period once the
// guest has come back to the same point with the same registers and the same
// memory, with nothing from outside in between (the caller `reset`s the
// detector on any other exit). From then on every period of the loop leaves
// the machine exactly as it was, until input arrives or a device event is
// due, so `Cpu.skipAhead(k * cycles, k * instructions)` lands exactly where
// the spin would have been.
//
// Memory is compared through the dirty-page map: the detector moves the map's
// marks aside while it watches (so that the pages written in one period show)
// and puts them back in `reset`, which the Machine calls before every return.

import type { Cpu } from '../core/cpu.js';
import { STATE_PC, STATE_HALT, STATE_IRQ, STATE_FLAGS, STATE_POLL, STATE_IRQ_AT, STATE_IRQ_UNTIL } from '../core/layout.js';

export interface IdlePeriod {
  cycles: number;
  instructions: number;
}

/** Pages a loop may write (the stack, a buffer pointer) and still be checked. */
const MAX_PAGES = 4;
/** Longest period looked for, in cycles. */
export const MAX_PERIOD = 20_000;

/** The registers and run state that must repeat: PC to P and the halt byte, the interrupt lines, their latch and times, the run flags, the poll marks. */
const STATE_BYTES: Array<[number, number]> = [
  [STATE_PC, STATE_HALT + 1],
  [STATE_IRQ, STATE_FLAGS + 1],
  [STATE_POLL, STATE_POLL + 1],
  [STATE_IRQ_AT, STATE_IRQ_UNTIL + 8],
];

export class IdleDetector {
  private point = -1;
  /** Observations of the same point, with the same registers, so far (0 after a change). */
  private repeats = 0;
  private registers = new Uint8Array(48);
  private cycles = 0;
  private instructions = 0;
  /** The period seen between the first two observations, while the third checks memory. */
  private period: IdlePeriod | null = null;
  /** Copies of the pages the first period wrote, as they were at its end. */
  private pages = new Map<number, Uint8Array>();
  private readonly savedDirty = new Uint8Array(256);
  private watching = false;

  constructor(private readonly cpu: Cpu) {}

  /** The last observation was the same point as the one before, unchanged: a period may be under way. */
  get onTrack(): boolean {
    return this.repeats > 0;
  }

  /** Forgets what it saw and puts the dirty marks back. */
  reset() {
    if (this.point === -1 && !this.watching) return; // nothing seen: nothing to forget (the common case, at every exit)
    this.repeats = 0;
    if (this.watching) {
      const dirty = this.cpu.dirtyPages;
      for (let i = 0; i < 256; i++) dirty[i] |= this.savedDirty[i];
      this.savedDirty.fill(0);
      this.watching = false;
    }
    this.point = -1;
    this.period = null;
    this.pages.clear();
  }

  /** The guest is at `point` (a number naming the place): the loop's period once it is proven to change nothing. */
  observe(point: number): IdlePeriod | null {
    const cpu = this.cpu;
    const same = this.point === point && this.sameRegisters();
    const cycles = cpu.cycles;
    const instructions = cpu.instructions;
    if (!same) return this.start(point);
    this.repeats++;
    const period = { cycles: cycles - this.cycles, instructions: instructions - this.instructions };
    if (period.cycles <= 0 || period.cycles > MAX_PERIOD) return this.start(point);
    const written = this.writtenPages();
    if (this.period === null) {
      if (written.length === 0) return period; // nothing written: every period is the same
      if (written.length > MAX_PAGES) return this.start(point);
      for (const page of written) this.pages.set(page, cpu.ram.slice(page << 8, (page + 1) << 8));
      this.period = period;
      this.mark(cycles, instructions);
      return null;
    }
    // The second period: the same length, writing only pages it wrote before, which hold what they held.
    const repeats =
      period.cycles === this.period.cycles &&
      period.instructions === this.period.instructions &&
      written.every((page) => {
        const before = this.pages.get(page);
        if (!before) return false;
        const now = cpu.ram.subarray(page << 8, (page + 1) << 8);
        for (let i = 0; i < 256; i++) if (now[i] !== before[i]) return false;
        return true;
      });
    if (repeats) return period;
    return this.start(point);
  }

  private start(point: number): null {
    this.repeats = 0;
    this.period = null;
    this.pages.clear();
    this.point = point;
    this.registers.set(this.currentRegisters());
    this.mark(this.cpu.cycles, this.cpu.instructions);
    return null;
  }

  /** A new period starts now: its writes show in the (cleared) dirty map. */
  private mark(cycles: number, instructions: number) {
    const dirty = this.cpu.dirtyPages;
    for (let i = 0; i < 256; i++) this.savedDirty[i] |= dirty[i];
    dirty.fill(0);
    this.watching = true;
    this.cycles = cycles;
    this.instructions = instructions;
  }

  private writtenPages(): number[] {
    const out: number[] = [];
    const dirty = this.cpu.dirtyPages;
    for (let i = 0; i < 256; i++) if (dirty[i]) out.push(i);
    return out;
  }

  private readonly scratch = new Uint8Array(48);

  private currentRegisters(): Uint8Array {
    const slot = this.cpu.slot;
    const out = this.scratch;
    let p = 0;
    for (const [from, to] of STATE_BYTES) for (let a = from; a < to; a++) out[p++] = slot[a];
    return out;
  }

  private sameRegisters(): boolean {
    const now = this.currentRegisters();
    for (let i = 0; i < now.length; i++) if (now[i] !== this.registers[i]) return false;
    return true;
  }
}
