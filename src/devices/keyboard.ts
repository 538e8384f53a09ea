// A keyboard input queue: the keys typed on the machine's console.
//
// How to drive this: map it at 2 addresses and give it the machine's console
// (a ConsolePort). Registers: 0 the next key (reading takes it; 0 when none),
// 1 status (bit 7: a key is waiting; bits 0-6: how many, up to 127).
// Options: `irq` asserts IRQ while a key waits; `lastKeyAddress` instead
// writes each key, as it is typed, to that RAM address (easy6502 programs
// read $FF): the device is then off the bus.

import { type Device, type DeviceContext, type DeviceType } from './device.js';
import type { ConsolePort } from '../machine/console.js';

export interface KeyboardOptions {
  console?: ConsolePort;
  irq?: boolean;
  lastKeyAddress?: number;
}

export class Keyboard implements Device {
  readonly name = 'keyboard';
  private ctx?: DeviceContext;

  constructor(private readonly options: KeyboardOptions = {}) {
    options.console?.onInput(() => this.update());
  }

  attach(ctx: DeviceContext) {
    this.ctx = ctx;
    this.update();
  }

  private get waiting(): number {
    return this.options.console?.available ?? 0;
  }

  private update() {
    const { console, lastKeyAddress } = this.options;
    if (lastKeyAddress !== undefined && console && this.ctx) {
      for (let key = console.read(); key >= 0; key = console.read()) this.ctx.poke(lastKeyAddress, key);
    }
    if (this.options.irq) this.ctx?.setIrq(this.waiting > 0);
  }

  read(offset: number): number {
    const waiting = this.waiting;
    if (!waiting) this.ctx?.idlePoll();
    if (offset & 1) return (waiting ? 0x80 : 0) | Math.min(waiting, 0x7f);
    const key = this.options.console?.read() ?? -1;
    this.update();
    return key < 0 ? 0 : key;
  }

  reset() {
    this.update();
  }
}

export const KEYBOARD: DeviceType = {
  type: 'keyboard',
  summary: 'key queue: 0 next key (0: none), 1 status (bit 7 a key waits); or each key written to lastKeyAddress',
  size: 2,
  console: true,
  options: {
    irq: { kind: 'boolean', default: false, doc: 'assert IRQ while a key waits' },
    lastKeyAddress: { kind: 'integer', min: 0, max: 0xffff, doc: 'write each key to this RAM address as it is typed (off the bus)' },
  },
  create: (o, env) => new Keyboard({ console: env.console, irq: o.irq as boolean, lastKeyAddress: o.lastKeyAddress as number | undefined }),
};
