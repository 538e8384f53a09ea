// A keyboard input queue.
//
// How to drive this: map it at 2 addresses; `press(key)` queues a key code
// (an ASCII byte). Registers: 0 the next key (reading takes it; 0 when none),
// 1 status (bit 7: a key is waiting; bits 0-6: how many, up to 127).
// Options: `irq` asserts IRQ while a key waits; `lastKeyAddress` also writes
// each pressed key to that RAM address (easy6502 programs read $FF).

import { StateReader, StateWriter, type Device, type DeviceContext } from './device.js';

export interface KeyboardOptions {
  irq?: boolean;
  lastKeyAddress?: number;
  /** Most keys waiting; more are dropped (default 64). */
  limit?: number;
}

export class Keyboard implements Device {
  readonly name = 'keyboard';
  private ctx?: DeviceContext;
  private keys: number[] = [];

  constructor(private readonly options: KeyboardOptions = {}) {}

  attach(ctx: DeviceContext) {
    this.ctx = ctx;
  }

  press(key: number | string) {
    const code = typeof key === 'string' ? key.charCodeAt(0) : key;
    if (this.keys.length < (this.options.limit ?? 64)) this.keys.push(code & 0xff);
    if (this.options.lastKeyAddress !== undefined && this.ctx) this.ctx.poke(this.options.lastKeyAddress, code & 0xff);
    this.update();
  }

  private update() {
    if (this.options.irq) this.ctx?.setIrq(this.keys.length > 0);
  }

  read(offset: number): number {
    if (offset & 1) return (this.keys.length ? 0x80 : 0) | Math.min(this.keys.length, 0x7f);
    const key = this.keys.shift() ?? 0;
    this.update();
    return key;
  }

  reset() {
    this.keys = [];
    this.update();
  }

  save(): Uint8Array {
    return new StateWriter().blob(Uint8Array.from(this.keys)).done();
  }

  load(state: Uint8Array) {
    const r = new StateReader(state, 'keyboard');
    this.keys = [...r.blob()];
    r.end();
    this.update();
  }
}
