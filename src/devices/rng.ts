// A seedable random-number source.
//
// How to drive this: map it at 1 address: each read gives the next random
// byte (xorshift32, so a seed always gives the same bytes). Or, for easy6502
// programs, give `ramAddress` (e.g. $FE): the device then writes a fresh byte
// there every `period` cycles, as easy6502 refreshes $FE.

import { StateReader, StateWriter, type Device, type DeviceContext } from './device.js';

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
