// What a device is to a Machine: one interface for every part.
//
// How to drive this: implement `Device` (see via6522.ts for a full example);
// the Machine calls `attach` once with a context, then `read`/`write` for the
// addresses of its range (offset from the range's start), `nextEvent`/`tick`
// to advance its clock, `reset` on a machine reset, and `save`/`load` to move
// its state in and out of snapshots. Time is the machine's cycle counter:
// devices never look at the wall clock unless they are made to.

export interface DeviceContext {
  /**
   * Asserts or releases this device's IRQ source at `cycle` (default: now, the
   * machine's cycle count). A device that raises it for an event in its past
   * (a timer that ran out before its tick) names the event's cycle: the CPU
   * sees the line from the poll of an instruction ending 2 cycles later.
   */
  setIrq(asserted: boolean, cycle?: number): void;
  /** Sends an NMI edge to the CPU at `cycle` (default: now). */
  nmi(cycle?: number): void;
  /** The machine's cycle counter now. */
  cycles(): number;
  /** Guest memory (64 KiB), for devices that do DMA or live in RAM: read it here, write it with poke. */
  readonly ram: Uint8Array;
  /** Writes a byte of guest memory, marking its page dirty for snapshots. */
  poke(address: number, value: number): void;
  /** Ends the machine's run: the guest powered off with an exit code. */
  powerOff(code: number): void;
}

export interface Device {
  /** A short name for messages ("acia", "via"). */
  readonly name: string;
  attach?(context: DeviceContext): void;
  /** Reads register `offset` at `cycle`. */
  read?(offset: number, cycle: number): number;
  /** Writes register `offset` at `cycle`. */
  write?(offset: number, value: number, cycle: number): void;
  /** The absolute cycle of this device's next event (a timer running out), or Infinity. */
  nextEvent?(): number;
  /** Brings the device's clock up to `cycle`, firing the events due by then. */
  tick?(cycle: number): void;
  /** Back to the power-on state (a machine reset). */
  reset?(): void;
  /** The device's state as bytes; `load` takes them back. */
  save?(): Uint8Array;
  load?(state: Uint8Array): void;
}

/** A little-endian byte writer/reader for device state sections. */
export class StateWriter {
  private bytes: number[] = [];
  u8(v: number) { this.bytes.push(v & 0xff); return this; }
  u16(v: number) { return this.u8(v).u8(v >>> 8); }
  u32(v: number) { return this.u16(v).u16(v >>> 16); }
  /** A non-negative integer up to 2^53 (cycle counts); Infinity is stored as 2^53. */
  u53(v: number) { const n = Number.isFinite(v) ? v : 2 ** 53; return this.u32(n % 2 ** 32).u32(Math.floor(n / 2 ** 32)); }
  blob(b: Uint8Array) { this.u32(b.length); for (const x of b) this.bytes.push(x); return this; }
  done(): Uint8Array { return Uint8Array.from(this.bytes); }
}

export class StateReader {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array, private readonly what: string) {}
  private need(n: number) {
    if (this.pos + n > this.bytes.length) throw new Error(`${this.what} state is truncated`);
  }
  u8() { this.need(1); return this.bytes[this.pos++]; }
  u16() { return this.u8() | (this.u8() << 8); }
  u32() { return (this.u16() | (this.u16() << 16)) >>> 0; }
  u53() { const lo = this.u32(); const hi = this.u32(); const n = hi * 2 ** 32 + lo; return n >= 2 ** 53 ? Infinity : n; }
  blob() { const n = this.u32(); this.need(n); const b = this.bytes.slice(this.pos, this.pos + n); this.pos += n; return b; }
  end() { if (this.pos !== this.bytes.length) throw new Error(`${this.what} state has ${this.bytes.length - this.pos} unexpected bytes`); }
}
