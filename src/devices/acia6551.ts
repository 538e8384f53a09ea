// A 6551 ACIA-compatible serial port: the console UART.
//
// How to drive this: map it at 4 addresses and give it the machine's console
// (a ConsolePort): each byte the guest transmits is printed there, and the
// console's input is what it receives. Registers: 0 data (read: received
// byte, write: transmit), 1 status (read; a write is a programmed reset),
// 2 command, 3 control. Status bits: 7 IRQ, 4 transmitter empty (always:
// transmission is instant), 3 receiver full. With the receive interrupt
// enabled (command bit 1 clear, DTR bit 0 set), a waiting byte asserts IRQ
// until the status register is read or the byte is. With `rts` (a VIA pin,
// as on Ben Eater's computer), the line's sender holds its bytes while the
// guest drives that pin high: input waits in the console, none is lost.

import { StateReader, StateWriter, type Device, type DeviceContext, type DeviceType } from './device.js';
import type { ConsolePort } from '../machine/console.js';
import { Via6522 } from './via6522.js';

const STATUS_IRQ = 0x80;
const STATUS_TX_EMPTY = 0x10;
const STATUS_RX_FULL = 0x08;

export interface AciaOptions {
  /** The terminal on the other end of the line. */
  console?: ConsolePort;
  /** The pin that is the line's RTS: the sender holds while it is high. */
  rts?: { via: Via6522; port: 'A' | 'B'; bit: number };
}

export class Acia6551 implements Device {
  readonly name = 'acia';
  private ctx?: DeviceContext;
  private command = 0;
  private control = 0;
  private irqFlag = false;
  /** The receive data register: the byte received and not yet read, or -1. */
  private rx = -1;
  /** The last byte received (the data register reads it again when nothing new came). */
  private last = 0;
  private readonly console?: ConsolePort;
  private readonly rts?: AciaOptions['rts'];

  constructor(options: AciaOptions = {}) {
    this.console = options.console;
    this.console?.onInput(() => this.receive());
    this.rts = options.rts;
    if (this.rts) this.rts.via.connect({ [this.rts.port === 'A' ? 'portA' : 'portB']: () => this.receive() });
  }

  attach(ctx: DeviceContext) {
    this.ctx = ctx;
    this.receive();
  }

  /** The sender may send: RTS is low (or not wired). */
  private get clearToSend(): boolean {
    const rts = this.rts;
    if (!rts) return true;
    return (((rts.port === 'A' ? rts.via.outputA() : rts.via.outputB()) >> rts.bit) & 1) === 0;
  }

  private get rxIrqEnabled(): boolean {
    return (this.command & 0x02) === 0 && (this.command & 0x01) !== 0;
  }

  /** The next byte comes down the line when the data register is free and the sender may send. */
  private receive() {
    if (this.rx < 0 && this.console && this.console.available && this.clearToSend) {
      this.rx = this.console.read();
      if (this.rxIrqEnabled) this.irqFlag = true;
    }
    this.ctx?.setIrq(this.irqFlag);
  }

  read(offset: number): number {
    switch (offset & 3) {
      case 0: {
        if (this.rx < 0) this.ctx?.idlePoll();
        else this.last = this.rx;
        this.rx = -1;
        this.irqFlag = false;
        this.receive();
        return this.last;
      }
      case 1: {
        const status = (this.irqFlag ? STATUS_IRQ : 0) | STATUS_TX_EMPTY | (this.rx >= 0 ? STATUS_RX_FULL : 0);
        if (this.rx < 0 && !this.irqFlag) this.ctx?.idlePoll();
        this.irqFlag = false;
        this.ctx?.setIrq(false);
        return status;
      }
      case 2:
        return this.command;
      default:
        return this.control;
    }
  }

  write(offset: number, value: number) {
    switch (offset & 3) {
      case 0:
        this.console?.write(value);
        break;
      case 1: // programmed reset
        this.command &= 0xe0;
        this.irqFlag = false;
        break;
      case 2:
        this.command = value;
        if (this.rx >= 0 && this.rxIrqEnabled) this.irqFlag = true;
        break;
      default:
        this.control = value;
    }
    this.receive();
  }

  reset() {
    this.command = 0;
    this.control = 0;
    this.irqFlag = false;
    this.ctx?.setIrq(false);
  }

  save(): Uint8Array {
    return new StateWriter().u8(this.command).u8(this.control).u8(this.irqFlag ? 1 : 0).u16(this.rx < 0 ? 0xffff : this.rx).u8(this.last).done();
  }

  load(state: Uint8Array) {
    const r = new StateReader(state, 'acia');
    this.command = r.u8();
    this.control = r.u8();
    const irq = r.u8();
    const rx = r.u16();
    this.last = r.u8();
    r.end();
    if (irq > 1 || (rx > 0xff && rx !== 0xffff)) throw new Error('acia state is out of range');
    this.irqFlag = irq === 1;
    this.rx = rx === 0xffff ? -1 : rx;
    this.ctx?.setIrq(this.irqFlag);
  }
}

export const ACIA6551: DeviceType = {
  type: 'acia6551',
  summary: '6551 ACIA serial port: 0 data, 1 status, 2 command, 3 control; receive IRQ',
  size: 4,
  console: true,
  options: {
    rts: { kind: 'device', doc: "the VIA whose pin is the line's RTS (the sender holds while it is high)" },
    rtsPort: { kind: 'string', values: ['A', 'B'], default: 'A', doc: 'the port of the RTS pin' },
    rtsBit: { kind: 'integer', min: 0, max: 7, default: 0, doc: 'the bit of the RTS pin' },
  },
  create(o, env) {
    let rts: AciaOptions['rts'];
    if (o.rts !== undefined) {
      const via = env.device(o.rts as string);
      if (!(via instanceof Via6522)) throw new Error(`device "${String(o.rts)}" is not a 6522 VIA`);
      rts = { via, port: o.rtsPort as 'A' | 'B', bit: o.rtsBit as number };
    }
    return new Acia6551({ console: env.console, rts });
  },
};
