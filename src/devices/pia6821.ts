// A 6821 PIA: two 8-bit ports with data-direction registers, and the CA1/CB1
// control lines that set interrupt flags.
//
// How to drive this: map it at 4 addresses. Registers: 0 port A data or
// DDRA (CRA bit 2 chooses), 1 CRA, 2 port B data or DDRB (CRB bit 2), 3 CRB.
// Control register bits: 7 the CA1/CB1 flag (set by an active transition of
// the line, cleared by a read of the port's data), 1 the active edge (1:
// rising), 0 its IRQ enable; 6 the CA2/CB2 flag (CA2/CB2 as inputs, which
// nothing here drives). A peripheral wires itself to the pins with `connect`
// and moves CA1/CB1 with `ca1(level)`/`cb1(level)`. IRQA and IRQB are one
// IRQ source. A read of a control register whose flags are clear is an idle
// poll: nothing changes it but a peripheral, which only input moves.

import { StateReader, StateWriter, type Device, type DeviceContext, type DeviceType } from './device.js';

export interface PiaPeripheral {
  /** The pins of port A / B the guest reads (its inputs). */
  inputA?: () => number;
  inputB?: () => number;
  /** The port's output pins changed (a write of its data or DDR register). */
  outputA?: (value: number) => void;
  outputB?: (value: number) => void;
  /** The guest read port A's / B's data register. */
  readA?: () => void;
  readB?: () => void;
  /** The guest is about to read CRA / CRB (a peripheral may move CA1 / CB1 first). */
  pollA?: () => void;
  pollB?: () => void;
  /** The guest wrote port A's / B's data register (the Apple 1's display takes a character so). */
  writtenA?: (value: number) => void;
  writtenB?: (value: number) => void;
}

export class Pia6821 implements Device {
  readonly name = 'pia';
  private ctx?: DeviceContext;
  private ora = 0;
  private orb = 0;
  private ddra = 0;
  private ddrb = 0;
  private cra = 0;
  private crb = 0;
  private ca1Level = 0;
  private cb1Level = 0;
  private peripheral: PiaPeripheral = {};

  attach(ctx: DeviceContext) {
    this.ctx = ctx;
  }

  /** Control register A (for peripherals: which CA1 edge is active). */
  get controlA(): number {
    return this.cra;
  }

  connect(peripheral: PiaPeripheral) {
    this.peripheral = { ...this.peripheral, ...peripheral };
  }

  /** Sets CA1; an active transition sets CRA bit 7. */
  ca1(level: 0 | 1) {
    if (level !== this.ca1Level && level === ((this.cra >> 1) & 1)) this.cra |= 0x80;
    this.ca1Level = level;
    this.updateIrq();
  }

  cb1(level: 0 | 1) {
    if (level !== this.cb1Level && level === ((this.crb >> 1) & 1)) this.crb |= 0x80;
    this.cb1Level = level;
    this.updateIrq();
  }

  private updateIrq() {
    const irq = (cr: number) => (cr & 0x80 && cr & 0x01) || (cr & 0x40 && cr & 0x08 && !(cr & 0x20));
    this.ctx?.setIrq(!!(irq(this.cra) || irq(this.crb)));
  }

  read(offset: number): number {
    switch (offset & 3) {
      case 0:
        if (!(this.cra & 0x04)) return this.ddra;
        return this.readData(0);
      case 1:
        this.peripheral.pollA?.();
        if (!(this.cra & 0xc0)) this.ctx?.idlePoll();
        return this.cra;
      case 2:
        if (!(this.crb & 0x04)) return this.ddrb;
        return this.readData(1);
      default:
        this.peripheral.pollB?.();
        if (!(this.crb & 0xc0)) this.ctx?.idlePoll();
        return this.crb;
    }
  }

  /** A read of port A's or B's data: the pins, then the flags clear and the peripheral hears of it. */
  private readData(port: 0 | 1): number {
    const p = this.peripheral;
    const value =
      port === 0
        ? (this.ora & this.ddra) | ((p.inputA?.() ?? 0xff) & ~this.ddra & 0xff)
        : (this.orb & this.ddrb) | ((p.inputB?.() ?? 0xff) & ~this.ddrb & 0xff);
    if (port === 0) this.cra &= 0x3f;
    else this.crb &= 0x3f;
    this.updateIrq();
    if (port === 0) p.readA?.();
    else p.readB?.();
    return value;
  }

  write(offset: number, value: number) {
    switch (offset & 3) {
      case 0:
        if (this.cra & 0x04) {
          this.ora = value;
          this.peripheral.writtenA?.(value);
        } else this.ddra = value;
        this.peripheral.outputA?.((this.ora & this.ddra) | (~this.ddra & 0xff));
        break;
      case 1:
        this.cra = (this.cra & 0xc0) | (value & 0x3f);
        this.updateIrq();
        break;
      case 2:
        if (this.crb & 0x04) {
          this.orb = value;
          this.peripheral.writtenB?.(value);
        } else this.ddrb = value;
        this.peripheral.outputB?.((this.orb & this.ddrb) | (~this.ddrb & 0xff));
        break;
      default:
        this.crb = (this.crb & 0xc0) | (value & 0x3f);
        this.updateIrq();
    }
  }

  reset() {
    this.ora = this.orb = this.ddra = this.ddrb = this.cra = this.crb = 0;
    this.updateIrq();
  }

  save(): Uint8Array {
    return new StateWriter().u8(this.ora).u8(this.orb).u8(this.ddra).u8(this.ddrb).u8(this.cra).u8(this.crb).u8(this.ca1Level | (this.cb1Level << 1)).done();
  }

  load(state: Uint8Array) {
    const r = new StateReader(state, 'pia');
    [this.ora, this.orb, this.ddra, this.ddrb, this.cra, this.crb] = Array.from({ length: 6 }, () => r.u8());
    const lines = r.u8();
    r.end();
    if (lines > 3) throw new Error('pia state: bad control line levels');
    this.ca1Level = lines & 1;
    this.cb1Level = lines >> 1;
    this.updateIrq();
  }
}

export const PIA6821: DeviceType = {
  type: 'pia6821',
  summary: '6821 PIA: 0 port A / DDRA, 1 CRA, 2 port B / DDRB, 3 CRB; CA1/CB1 flags and IRQ',
  size: 4,
  create: () => new Pia6821(),
};
