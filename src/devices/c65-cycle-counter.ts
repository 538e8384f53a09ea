// c65's cycle counter (Tali Forth 2's simulator): how Tali's test suite
// measures the cycles a word takes.
//
// How to drive this: map it at $F006, 6 addresses. A read of offset 0 starts
// the count, a read of offset 1 stops it; offsets 2-5 then hold the count, a
// 32-bit number in c65's byte order "NUXI": offset 2 bits 16-23, offset 3
// bits 24-31, offset 4 bits 0-7, offset 5 bits 8-15. Reads of 0 and 1 give 0.

import { StateReader, StateWriter, type Device, type DeviceType } from './device.js';

const SHIFT = [16, 24, 0, 8];

export class C65CycleCounter implements Device {
  readonly name = 'c65-cycle-counter';
  private started = 0;
  private count = 0;

  read(offset: number, cycle: number): number {
    if (offset === 0) this.started = cycle;
    else if (offset === 1) this.count = (cycle - this.started) >>> 0;
    else return (this.count >>> SHIFT[offset - 2]) & 0xff;
    return 0;
  }

  reset() {
    this.started = this.count = 0;
  }

  save(): Uint8Array {
    return new StateWriter().u53(this.started).u32(this.count).done();
  }

  load(state: Uint8Array) {
    const r = new StateReader(state, 'c65-cycle-counter');
    this.started = r.u53();
    this.count = r.u32();
    r.end();
  }
}

export const C65_CYCLE_COUNTER: DeviceType = {
  type: 'c65-cycle-counter',
  summary: "c65's cycle counter at $F006: read +0 start, +1 stop; +2..+5 the count (bytes 2, 3, 0, 1)",
  size: 6,
  create: () => new C65CycleCounter(),
};
