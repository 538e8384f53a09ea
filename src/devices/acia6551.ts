// A 6551 ACIA-compatible serial port: the console UART.
//
// How to drive this: map it at 4 addresses; `output` receives each byte the
// guest transmits; `input(bytes)` queues bytes for the guest to receive.
// Registers: 0 data (read: received byte, write: transmit), 1 status (read;
// a write is a programmed reset), 2 command, 3 control. Status bits: 7 IRQ,
// 4 transmitter empty (always: transmission is instant), 3 receiver full.
// With the receive interrupt enabled (command bit 1 clear, DTR bit 0 set), a
// waiting byte asserts IRQ until the status register is read or the byte is.

import { StateReader, StateWriter, type Device, type DeviceContext } from './device.js';

const STATUS_IRQ = 0x80;
const STATUS_TX_EMPTY = 0x10;
const STATUS_RX_FULL = 0x08;

export interface AciaOptions {
  output?: (byte: number) => void;
  /** Most bytes waiting to be received; more are dropped and counted (default 4096). */
  inputLimit?: number;
}

export class Acia6551 implements Device {
  readonly name = 'acia';
  private ctx?: DeviceContext;
  private queue: number[] = [];
  private command = 0;
  private control = 0;
  private irqFlag = false;
  /** Received bytes dropped because the input queue was full. */
  dropped = 0;

  constructor(private readonly options: AciaOptions = {}) {}

  attach(ctx: DeviceContext) {
    this.ctx = ctx;
  }

  /** Queues bytes for the guest; returns how many were accepted. */
  input(bytes: Iterable<number> | string): number {
    const limit = this.options.inputLimit ?? 4096;
    let accepted = 0;
    const list = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
    for (const b of list) {
      if (this.queue.length >= limit) this.dropped++;
      else {
        this.queue.push(b & 0xff);
        accepted++;
      }
    }
    this.update();
    return accepted;
  }

  /** Bytes waiting to be received. */
  get pending(): number {
    return this.queue.length;
  }

  private get rxIrqEnabled(): boolean {
    return (this.command & 0x02) === 0 && (this.command & 0x01) !== 0;
  }

  private update() {
    if (this.queue.length && this.rxIrqEnabled) this.irqFlag = true;
    this.ctx?.setIrq(this.irqFlag);
  }

  read(offset: number): number {
    switch (offset & 3) {
      case 0: {
        const byte = this.queue.shift() ?? 0;
        this.irqFlag = false;
        this.update();
        return byte;
      }
      case 1: {
        const status = (this.irqFlag ? STATUS_IRQ : 0) | STATUS_TX_EMPTY | (this.queue.length ? STATUS_RX_FULL : 0);
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
        this.options.output?.(value);
        break;
      case 1: // programmed reset
        this.command &= 0xe0;
        this.irqFlag = false;
        break;
      case 2:
        this.command = value;
        break;
      default:
        this.control = value;
    }
    this.update();
  }

  reset() {
    this.command = 0;
    this.control = 0;
    this.irqFlag = false;
    this.queue = [];
    this.ctx?.setIrq(false);
  }

  save(): Uint8Array {
    return new StateWriter().u8(this.command).u8(this.control).u8(this.irqFlag ? 1 : 0).u32(this.dropped).blob(Uint8Array.from(this.queue)).done();
  }

  load(state: Uint8Array) {
    const r = new StateReader(state, 'acia');
    this.command = r.u8();
    this.control = r.u8();
    this.irqFlag = r.u8() !== 0;
    this.dropped = r.u32();
    this.queue = [...r.blob()];
    r.end();
    this.ctx?.setIrq(this.irqFlag);
  }
}
