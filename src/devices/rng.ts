// A seedable random-number source.
//
// How to drive this: map it at 1 address: each read gives the next random
// byte (xorshift32, so a seed always gives the same bytes). Or, for easy6502
// programs, give `ramAddress` (e.g. $FE): the device then writes a fresh byte
// there every `period` cycles, as easy6502 refreshes $FE.

import { StateReader, StateWriter, type Device, type DeviceContext, type DeviceType } from './device.js';

export interface RngOptions {
  seed?: number;
  ramAddress?: number;
  /** Cycles between refreshes of ramAddress (default 16). */
  period?: number;
}

export class RandomSource implements Device {
  readonly name = 'rng';
  private ctx?: DeviceContext;
  private state: number;
  private nextRefresh = 0;

  constructor(private readonly options: RngOptions = {}) {
    this.state = (options.seed ?? 0x2545f491) >>> 0 || 1;
  }

  attach(ctx: DeviceContext) {
    this.ctx = ctx;
    if (this.options.ramAddress !== undefined) ctx.poke(this.options.ramAddress, this.next());
  }

  /** The next random byte. */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state & 0xff;
  }

  read(): number {
    return this.next();
  }

  nextEvent(): number {
    return this.options.ramAddress === undefined ? Infinity : this.nextRefresh;
  }

  tick(cycle: number) {
    if (this.options.ramAddress === undefined || cycle < this.nextRefresh) return;
    this.ctx!.poke(this.options.ramAddress, this.next());
    this.nextRefresh = cycle + (this.options.period ?? 16);
  }

  save(): Uint8Array {
    return new StateWriter().u32(this.state).u53(this.nextRefresh).done();
  }

  load(state: Uint8Array) {
    const r = new StateReader(state, 'rng');
    this.state = r.u32();
    this.nextRefresh = r.u53();
    r.end();
  }
}

export const RNG: DeviceType = {
  type: 'rng',
  summary: 'random bytes (xorshift32, seedable): each read gives the next; or a fresh byte at ramAddress every period cycles',
  size: 1,
  options: {
    seed: { kind: 'integer', min: 0, max: 0xffffffff, doc: 'the seed (the same seed gives the same bytes)' },
    ramAddress: { kind: 'integer', min: 0, max: 0xffff, doc: 'write a fresh byte to this RAM address every period cycles (easy6502: $FE)' },
    period: { kind: 'integer', min: 1, max: 0xffffffff, default: 16, doc: 'cycles between writes to ramAddress' },
  },
  create: (o) => new RandomSource({ seed: o.seed as number | undefined, ramAddress: o.ramAddress as number | undefined, period: o.period as number }),
};
