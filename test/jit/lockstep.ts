// Runs the same guest on two VMs side by side, one on the interpreter and one
// with the JIT, and compares everything a guest or the host can see after
// every run: the run's exit reason and the slot's first SNAPSHOT_BYTES (all of
// RAM, the page attributes, the dirty map, the registers, the cycle and
// instruction counts, the interrupt marks, the device read log and write queue).
//
// How to drive this:
//   const pair = await Lockstep.create('6502', 'force');
//   pair.each((cpu) => { cpu.ram.set(image); cpu.pc = 0x400; });   // the same set-up on both
//   pair.run(budget);                                              // throws, naming the field, at the first difference
//   pair.host((cpu, reason) => ...)                               // the same host action on both (completeRead, ...)

import { CoreMemory, ExitReason, type Cpu, type JitOption } from '../../src/core/cpu.ts';
import * as L from '../../src/core/layout.ts';
import type { CpuModel } from '../../src/isa/opcodes.ts';

/** The layout's name of a slot offset (the field it falls in), for messages. */
function fieldAt(offset: number): string {
  if (offset < L.PAGE_ATTRS) return `RAM $${offset.toString(16).padStart(4, '0')}`;
  if (offset < L.DIRTY_PAGES) return `page attribute of $${(offset - L.PAGE_ATTRS).toString(16)}xx`;
  if (offset < L.STATE) return `dirty mark of page $${(offset - L.DIRTY_PAGES).toString(16)}xx`;
  let best = 'STATE';
  let at = -1;
  for (const [name, value] of Object.entries(L)) {
    if (name.startsWith('STATE_') && typeof value === 'number' && value <= offset && value > at) {
      best = name;
      at = value;
    }
  }
  return `${best}+${offset - at}`;
}

export class Lockstep {
  runs = 0;
  private constructor(readonly interpreted: Cpu, readonly compiled: Cpu) {}

  static async create(model: CpuModel, jit: JitOption = 'force'): Promise<Lockstep> {
    const core = await CoreMemory.create({ slots: 2, jit: false });
    return new Lockstep(core.cpu(0, model), core.cpu(1, model, { jit }));
  }

  /** Does the same to both VMs. */
  each(f: (cpu: Cpu) => void) {
    f(this.interpreted);
    f(this.compiled);
  }

  /** Throws at the first difference between the two, naming it. */
  compare(what: string) {
    const a = this.interpreted.slot;
    const b = this.compiled.slot;
    if (Buffer.from(a.buffer, a.byteOffset, L.SNAPSHOT_BYTES).equals(Buffer.from(b.buffer, b.byteOffset, L.SNAPSHOT_BYTES))) return;
    for (let i = 0; i < L.SNAPSHOT_BYTES; i++) {
      if (a[i] !== b[i]) {
        const i0 = this.interpreted;
        throw new Error(
          `${what}: ${fieldAt(i)} is ${b[i]} with the JIT, ${a[i]} in the interpreter ` +
            `(interpreter at PC $${i0.pc.toString(16)}, cycle ${i0.cycles}; JIT at PC $${this.compiled.pc.toString(16)}, cycle ${this.compiled.cycles}; run ${this.runs})`,
        );
      }
    }
  }

  /** A run of `budget` cycles on both; their exits and states must be the same. */
  run(budget: number): ExitReason {
    const r1 = this.interpreted.run(budget);
    const r2 = this.compiled.run(budget);
    this.runs++;
    if (r1 !== r2) {
      throw new Error(`run ${this.runs} of ${budget} cycles: the JIT exits with ${ExitReason[r2] ?? r2}, the interpreter with ${ExitReason[r1] ?? r1} (PC $${this.interpreted.pc.toString(16)}, cycle ${this.interpreted.cycles})`);
    }
    this.compare(`run ${this.runs} of ${budget} cycles (${ExitReason[r1]})`);
    return r1;
  }
}

/** A small seeded generator (mulberry32): the same cases on every run of the tests. */
export function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
