// The Apple 1's keyboard and display, as wired to its 6821 PIA: the
// machine's console.
//
// How to drive this: off the bus; option `pia` names the PIA device. Each
// typed key goes to port A with bit 7 set and raises CA1, which sets the
// "key waiting" flag (bit 7 of KBDCR, $D011); reading KBD ($D010) clears it,
// and the next waiting key follows. Port B's seven low bits are the display:
// a write of the data register prints the character (CR ends a line; other
// control characters are not shown), and PB7 reads 0: the display is never
// busy. A key is strobed only once the guest has set up CA1 for it (as
// Wozmon does at reset): keys typed ahead wait in the console, none is lost.

import { StateReader, StateWriter, type Device, type DeviceType } from './device.js';
import { Pia6821 } from './pia6821.js';
import type { ConsolePort } from '../machine/console.js';

export class Apple1Terminal implements Device {
  readonly name = 'apple1-terminal';
  /** The key on port A: the one the guest reads next, or -1. */
  private key = -1;

  constructor(
    private readonly pia: Pia6821,
    private readonly console?: ConsolePort,
  ) {
    pia.connect({
      inputA: () => (this.key < 0 ? 0 : this.key) | 0x80,
      readA: () => {
        this.key = -1;
        this.next();
      },
      pollA: () => this.next(),
      inputB: () => 0x00,
      writtenB: (value) => this.print(value & 0x7f),
    });
    console?.onInput(() => this.next());
  }

  attach() {
    this.next();
  }

  private print(c: number) {
    if (c === 0x0d || (c >= 0x20 && c < 0x7f)) this.console?.write(c);
  }

  /** Puts the next typed key on the port and strobes CA1. */
  private next() {
    if (this.key >= 0 || !this.console || !(this.pia.controlA & 0x02)) return;
    const key = this.console.read();
    if (key < 0) return;
    this.key = key & 0x7f;
    this.pia.ca1(0);
    this.pia.ca1(1);
  }

  reset() {
    this.key = -1;
    this.next();
  }

  save(): Uint8Array {
    return new StateWriter().u8(this.key < 0 ? 0xff : this.key).done();
  }

  load(state: Uint8Array) {
    const r = new StateReader(state, 'apple1-terminal');
    const key = r.u8();
    r.end();
    if (key > 0x7f && key !== 0xff) throw new Error('apple1-terminal state: bad key');
    this.key = key === 0xff ? -1 : key;
  }
}

export const APPLE1_TERMINAL: DeviceType = {
  type: 'apple1-terminal',
  summary: "the Apple 1's keyboard (port A, CA1) and display (port B) on a 6821 PIA",
  size: 0,
  console: true,
  options: { pia: { kind: 'device', default: 'pia', doc: 'the id of the 6821 PIA the terminal is wired to' } },
  create(o, env) {
    const pia = env.device(o.pia as string);
    if (!(pia instanceof Pia6821)) throw new Error(`device "${String(o.pia)}" is not a 6821 PIA`);
    return new Apple1Terminal(pia, env.console);
  },
};
