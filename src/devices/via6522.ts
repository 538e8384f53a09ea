// A 6522 VIA: two ports and two interval timers with interrupts.
//
// How to drive this: map it at 16 addresses. Registers: 0 ORB/IRB, 1 ORA/IRA,
// 2 DDRB, 3 DDRA, 4-5 T1 counter, 6-7 T1 latch, 8-9 T2 counter, 10 SR,
// 11 ACR, 12 PCR, 13 IFR, 14 IER, 15 ORA without handshake. Timer 1 runs one
// shot or free (ACR bit 6); writing T1C-H loads and starts it; it counts one
// per cycle and sets IFR bit 6 when it passes zero (free-running: every N+2
// cycles). Timer 2 is one-shot (IFR bit 5). IRQ is asserted while
// IFR & IER has a bit set. `portA`/`portB` report output changes; `inputA` /
// `inputB` give the pins the guest reads; a peripheral on the ports (an LCD)
// gives them with `connect`. Time is the machine's cycle count.
// Not modelled: the shift register (a plain register here), CA/CB
// handshakes, PB6 pulse counting, PB7 output.

import { StateReader, StateWriter, type Device, type DeviceContext, type DeviceType } from './device.js';

const IFR_T1 = 0x40;
const IFR_T2 = 0x20;

export interface ViaOptions {
  portA?: (value: number) => void;
  portB?: (value: number) => void;
  inputA?: () => number;
  inputB?: () => number;
}

export class Via6522 implements Device {
  readonly name = 'via';
  private ctx?: DeviceContext;
  private orb = 0;
  private ora = 0;
  private ddrb = 0;
  private ddra = 0;
  private sr = 0;
  private acr = 0;
  private pcr = 0;
  private ifr = 0;
  private ier = 0;
  private t1Latch = 0xffff;
  /** Cycle at which T1 held its latch value (N); the count runs down from there. */
  private t1Base = 0;
  /** The next cycle at which T1 passes zero and may interrupt (Infinity: no more). */
  private t1Next = Infinity;
  private t2LatchLow = 0xff;
  private t2Value = 0xffff;
  private t2Base = 0;
  private t2Next = Infinity;
  private now = 0;

  private readonly options: Required<Pick<ViaOptions, 'inputA' | 'inputB'>> & { portA: Array<(value: number) => void>; portB: Array<(value: number) => void> };

  constructor(options: ViaOptions = {}) {
    this.options = { portA: [], portB: [], inputA: () => 0xff, inputB: () => 0xff };
    this.connect(options);
  }

  /**
   * Wires a peripheral to the ports: it hears every change of the output
   * pins it listens to, and drives the input pins of a port (the last to
   * connect an input of a port drives it).
   */
  connect(peripheral: ViaOptions) {
    if (peripheral.portA) this.options.portA.push(peripheral.portA);
    if (peripheral.portB) this.options.portB.push(peripheral.portB);
    if (peripheral.inputA) this.options.inputA = peripheral.inputA;
    if (peripheral.inputB) this.options.inputB = peripheral.inputB;
  }

  /** The port's output pins (inputs read high), as peripherals see them. */
  outputA(): number {
    return (this.ora & this.ddra) | (~this.ddra & 0xff);
  }
  outputB(): number {
    return (this.orb & this.ddrb) | (~this.ddrb & 0xff);
  }

  attach(ctx: DeviceContext) {
    this.ctx = ctx;
  }

  private t1Counter(cycle: number): number {
    const d = cycle - this.t1Base;
    const n = this.t1Latch;
    if (d <= n + 1 || !(this.acr & 0x40)) return (n - d) & 0xffff;
    return (n - ((d - (n + 2)) % (n + 2))) & 0xffff;
  }

  private t2Counter(cycle: number): number {
    return (this.t2Value - (cycle - this.t2Base)) & 0xffff;
  }

  /** Fires the timer events due by `cycle`; an interrupt they raise is raised at the event's own cycle. */
  tick(cycle: number) {
    this.now = cycle;
    let changed = false;
    let irqAt = cycle;
    if (this.t1Next <= cycle) {
      if (this.ier & IFR_T1 && !(this.ifr & IFR_T1)) irqAt = Math.min(irqAt, this.t1Next);
      this.ifr |= IFR_T1;
      changed = true;
      // Free-running: the next pass after `cycle`, however far behind (a whole number of periods on).
      const period = this.t1Latch + 2;
      this.t1Next = this.acr & 0x40 ? this.t1Next + (Math.floor((cycle - this.t1Next) / period) + 1) * period : Infinity;
    }
    if (this.t2Next <= cycle) {
      if (this.ier & IFR_T2 && !(this.ifr & IFR_T2)) irqAt = Math.min(irqAt, this.t2Next);
      this.ifr |= IFR_T2;
      changed = true;
      this.t2Next = Infinity;
    }
    if (changed) this.updateIrq(irqAt);
  }

  nextEvent(): number {
    // Only events that change the IRQ line need the machine to stop; IFR
    // bits of masked timers are brought up to date before every register access.
    let next = Infinity;
    if (this.ier & IFR_T1 && !(this.ifr & IFR_T1)) next = Math.min(next, this.t1Next);
    if (this.ier & IFR_T2 && !(this.ifr & IFR_T2)) next = Math.min(next, this.t2Next);
    return next;
  }

  private updateIrq(cycle = this.now) {
    this.ctx?.setIrq((this.ifr & this.ier & 0x7f) !== 0, cycle);
  }

  read(offset: number, cycle: number): number {
    this.tick(cycle);
    switch (offset & 15) {
      case 0: {
        const pins = this.options.inputB();
        return (this.orb & this.ddrb) | (pins & ~this.ddrb & 0xff);
      }
      case 1:
      case 15: {
        const pins = this.options.inputA();
        return (this.ora & this.ddra) | (pins & ~this.ddra & 0xff);
      }
      case 2: return this.ddrb;
      case 3: return this.ddra;
      case 4:
        this.ifr &= ~IFR_T1;
        this.updateIrq();
        return this.t1Counter(cycle) & 0xff;
      case 5: return this.t1Counter(cycle) >> 8;
      case 6: return this.t1Latch & 0xff;
      case 7: return this.t1Latch >> 8;
      case 8:
        this.ifr &= ~IFR_T2;
        this.updateIrq();
        return this.t2Counter(cycle) & 0xff;
      case 9: return this.t2Counter(cycle) >> 8;
      case 10: return this.sr;
      case 11: return this.acr;
      case 12: return this.pcr;
      case 13: return this.ifr | (this.ifr & this.ier & 0x7f ? 0x80 : 0);
      default: return this.ier | 0x80;
    }
  }

  write(offset: number, value: number, cycle: number) {
    this.tick(cycle);
    switch (offset & 15) {
      case 0:
        this.orb = value;
        for (const l of this.options.portB) l(this.outputB());
        break;
      case 1:
      case 15:
        this.ora = value;
        for (const l of this.options.portA) l(this.outputA());
        break;
      case 2:
        this.ddrb = value;
        for (const l of this.options.portB) l(this.outputB());
        break;
      case 3:
        this.ddra = value;
        for (const l of this.options.portA) l(this.outputA());
        break;
      case 4:
      case 6:
        this.t1Latch = (this.t1Latch & 0xff00) | value;
        break;
      case 5:
        // Load and start: the counter holds N from the next cycle on.
        this.t1Latch = (this.t1Latch & 0xff) | (value << 8);
        this.ifr &= ~IFR_T1;
        this.t1Base = cycle + 1;
        this.t1Next = this.t1Base + this.t1Latch + 1;
        this.updateIrq();
        break;
      case 7:
        this.t1Latch = (this.t1Latch & 0xff) | (value << 8);
        this.ifr &= ~IFR_T1;
        this.updateIrq();
        break;
      case 8:
        this.t2LatchLow = value;
        break;
      case 9:
        this.t2Value = this.t2LatchLow | (value << 8);
        this.t2Base = cycle + 1;
        this.t2Next = this.t2Base + this.t2Value + 1;
        this.ifr &= ~IFR_T2;
        this.updateIrq();
        break;
      case 10: this.sr = value; break;
      case 11: {
        const wasFree = this.acr & 0x40;
        this.acr = value;
        // Switching T1 to free-running after it ran out re-arms it from its current count.
        if (!wasFree && value & 0x40 && this.t1Next === Infinity) {
          const count = this.t1Counter(cycle);
          this.t1Next = cycle + count + 1;
          this.t1Base = this.t1Next - this.t1Latch - 1;
        }
        break;
      }
      case 12: this.pcr = value; break;
      case 13:
        this.ifr &= ~(value & 0x7f);
        this.updateIrq();
        break;
      default:
        if (value & 0x80) this.ier |= value & 0x7f;
        else this.ier &= ~(value & 0x7f);
        this.updateIrq();
    }
  }

  reset() {
    this.orb = this.ora = this.ddrb = this.ddra = this.sr = this.acr = this.pcr = this.ifr = this.ier = 0;
    this.t1Next = this.t2Next = Infinity;
    this.updateIrq();
  }

  save(): Uint8Array {
    const w = new StateWriter();
    for (const b of [this.orb, this.ora, this.ddrb, this.ddra, this.sr, this.acr, this.pcr, this.ifr, this.ier]) w.u8(b);
    return w.u16(this.t1Latch).u53(this.t1Base).u53(this.t1Next).u8(this.t2LatchLow).u16(this.t2Value).u53(this.t2Base).u53(this.t2Next).u53(this.now).done();
  }

  load(state: Uint8Array) {
    const r = new StateReader(state, 'via');
    [this.orb, this.ora, this.ddrb, this.ddra, this.sr, this.acr, this.pcr, this.ifr, this.ier] = Array.from({ length: 9 }, () => r.u8());
    this.t1Latch = r.u16();
    this.t1Base = r.u53();
    this.t1Next = r.u53();
    this.t2LatchLow = r.u8();
    this.t2Value = r.u16();
    this.t2Base = r.u53();
    this.t2Next = r.u53();
    this.now = r.u53();
    r.end();
    if (this.ifr > 0x7f || this.ier > 0x7f) throw new Error('via state: IFR or IER out of range');
    if (![this.t1Base, this.t2Base, this.now].every(Number.isFinite)) throw new Error('via state: a timer base is past 2^53');
    this.updateIrq();
  }
}

export const VIA6522: DeviceType = {
  type: 'via6522',
  summary: '6522 VIA: ports A and B, timers T1 (one-shot or free-running) and T2, IFR/IER, IRQ',
  size: 16,
  create: () => new Via6522(),
};
