// An HD44780 character LCD (16x2) on a 6522 VIA's ports, as on Ben Eater's
// breadboard computer.
//
// How to drive this: off the bus; options name the VIA and the wiring: the
// port (`port`, A or B) and the bits of E, RW and RS on it, and the data
// lines: `dataLines` 4 (D4-D7 on bits dataBit..dataBit+3, Ben's BASIC ROM)
// or 8 (D0-D7 on the other port, his first programs: `dataPort`). The LCD
// takes a byte (or, in 4-bit mode, a nibble) on the falling edge of E; with
// RW high it drives the data lines with its status (busy flag clear, the
// address counter) or RAM. Instructions: clear, home, entry mode, display
// on/off, cursor/display shift, function set (8/4-bit), CGRAM and DDRAM
// address. `lines()` gives what the 16x2 screen shows; `onChange` fires
// when it changes.

import { StateReader, StateWriter, type Device, type DeviceType } from './device.js';
import { Via6522 } from './via6522.js';

export interface Hd44780Wiring {
  port: 'A' | 'B';
  e: number;
  rw: number;
  rs: number;
  dataLines: 4 | 8;
  /** The port bit of the lowest data line (D4 with 4 lines, D0 with 8). */
  dataBit: number;
  /** The port of the data lines (default: `port`). */
  dataPort?: 'A' | 'B';
}

const COLUMNS = 16;
const ROWS = 2;

export class Hd44780 implements Device {
  readonly name = 'lcd';
  private ddram = new Uint8Array(128).fill(0x20);
  private cgram = new Uint8Array(64);
  private address = 0;
  private toCgram = false;
  private increment = true;
  private shiftDisplay = false;
  private displayOn = false;
  private cursorOn = false;
  private shift = 0;
  private eightBit = true;
  private twoLines = true;
  /** In 4-bit mode: the high nibble already received (or -1), and the read phase. */
  private pendingNibble = -1;
  private readPhase = 0;
  private lastControl = 0;
  private portValues = { A: 0xff, B: 0xff };
  /** Called when what the screen shows may have changed. */
  onChange?: () => void;

  constructor(via: Via6522, private readonly wiring: Hd44780Wiring) {
    const dataPort = wiring.dataPort ?? wiring.port;
    const watch = (port: 'A' | 'B') => (value: number) => {
      this.portValues[port] = value;
      if (port === wiring.port) this.control(value);
    };
    const drive = (port: 'A' | 'B') => () => (port === dataPort ? this.drive() : 0xff);
    via.connect(wiring.port === 'A' || dataPort === 'A' ? { portA: watch('A'), inputA: drive('A') } : {});
    via.connect(wiring.port === 'B' || dataPort === 'B' ? { portB: watch('B'), inputB: drive('B') } : {});
  }

  private bit(value: number, n: number): number {
    return (value >> n) & 1;
  }

  /** The control lines changed: a falling edge of E with RW low writes. */
  private control(value: number) {
    const { e, rw } = this.wiring;
    const fell = this.bit(this.lastControl, e) === 1 && this.bit(value, e) === 0;
    const rose = this.bit(this.lastControl, e) === 0 && this.bit(value, e) === 1;
    this.lastControl = value;
    if (rose && this.bit(value, rw)) this.readPhase ^= this.eightBit ? 0 : 1;
    if (!fell || this.bit(value, rw)) return;
    const data = this.portValues[this.wiring.dataPort ?? this.wiring.port];
    const rs = this.bit(value, this.wiring.rs);
    if (this.wiring.dataLines === 8) return this.take(rs, (data >> this.wiring.dataBit) & 0xff);
    const nibble = (data >> this.wiring.dataBit) & 0x0f;
    if (this.eightBit) return this.take(rs, nibble << 4); // D0-D3 are not wired: they read 0
    if (this.pendingNibble < 0) {
      this.pendingNibble = nibble;
      return;
    }
    const byte = (this.pendingNibble << 4) | nibble;
    this.pendingNibble = -1;
    this.take(rs, byte);
  }

  /** What the LCD drives on the data lines while RW is high (the busy flag is never set). */
  private drive(): number {
    const control = this.lastControl;
    if (!this.bit(control, this.wiring.rw) || !this.bit(control, this.wiring.e)) return 0xff;
    const status = this.address & 0x7f;
    if (this.wiring.dataLines === 8) return status << this.wiring.dataBit;
    const nibble = this.eightBit || this.readPhase === 1 ? status >> 4 : status & 0x0f;
    return (nibble << this.wiring.dataBit) | (~(0x0f << this.wiring.dataBit) & 0xff);
  }

  private take(rs: number, byte: number) {
    if (rs) {
      if (this.toCgram) this.cgram[this.address & 0x3f] = byte;
      else this.ddram[this.address & 0x7f] = byte;
      this.step();
    } else this.instruction(byte);
    this.onChange?.();
  }

  private step() {
    this.address = (this.address + (this.increment ? 1 : -1)) & 0x7f;
    if (this.shiftDisplay && !this.toCgram) this.shift += this.increment ? 1 : -1;
  }

  private instruction(b: number) {
    if (b & 0x80) {
      this.address = b & 0x7f;
      this.toCgram = false;
    } else if (b & 0x40) {
      this.address = b & 0x3f;
      this.toCgram = true;
    } else if (b & 0x20) {
      this.eightBit = (b & 0x10) !== 0;
      this.twoLines = (b & 0x08) !== 0;
      this.pendingNibble = -1;
    } else if (b & 0x10) {
      const right = (b & 0x04) !== 0;
      if (b & 0x08) this.shift += right ? -1 : 1;
      else this.address = (this.address + (right ? 1 : -1)) & 0x7f;
    } else if (b & 0x08) {
      this.displayOn = (b & 0x04) !== 0;
      this.cursorOn = (b & 0x02) !== 0;
    } else if (b & 0x04) {
      this.increment = (b & 0x02) !== 0;
      this.shiftDisplay = (b & 0x01) !== 0;
    } else if (b & 0x02) {
      this.address = 0;
      this.shift = 0;
      this.toCgram = false;
    } else if (b & 0x01) {
      this.ddram.fill(0x20);
      this.address = 0;
      this.shift = 0;
      this.increment = true;
      this.toCgram = false;
    }
  }

  /** The characters the screen shows, a string per row (blank while the display is off). */
  lines(): string[] {
    const rows: string[] = [];
    for (let r = 0; r < (this.twoLines ? ROWS : 1); r++) {
      let line = '';
      for (let c = 0; c < COLUMNS; c++) {
        const code = this.ddram[(r * 0x40 + ((c + this.shift) % 40 + 40) % 40) & 0x7f];
        line += !this.displayOn ? ' ' : code >= 0x20 && code < 0x7f ? String.fromCharCode(code) : ' ';
      }
      rows.push(line);
    }
    return rows;
  }

  /** Where the cursor is on screen, when it shows. */
  get cursor(): { row: number; column: number } | null {
    if (!this.displayOn || !this.cursorOn || this.toCgram) return null;
    const row = this.address >= 0x40 ? 1 : 0;
    const column = (this.address & 0x3f) - this.shift;
    return column >= 0 && column < COLUMNS ? { row, column } : null;
  }

  reset() {
    // The LCD has no reset line: a machine reset leaves it as it is.
  }

  save(): Uint8Array {
    const flags = (this.toCgram ? 1 : 0) | (this.increment ? 2 : 0) | (this.shiftDisplay ? 4 : 0) | (this.displayOn ? 8 : 0) | (this.cursorOn ? 16 : 0) | (this.eightBit ? 32 : 0) | (this.twoLines ? 64 : 0);
    return new StateWriter().blob(this.ddram).blob(this.cgram).u8(this.address).u8(flags).u8(this.shift & 0xff).u8(this.pendingNibble & 0xff).u8(this.readPhase).u8(this.lastControl).u8(this.portValues.A).u8(this.portValues.B).done();
  }

  load(state: Uint8Array) {
    const r = new StateReader(state, 'lcd');
    const ddram = r.blob();
    const cgram = r.blob();
    const address = r.u8();
    const flags = r.u8();
    const shift = (r.u8() << 24) >> 24;
    const nibble = r.u8();
    const readPhase = r.u8();
    const lastControl = r.u8();
    const a = r.u8();
    const b = r.u8();
    r.end();
    if (ddram.length !== 128 || cgram.length !== 64 || address > 0x7f || flags > 0x7f || (nibble > 0x0f && nibble !== 0xff) || readPhase > 1) throw new Error('lcd state is out of range');
    this.ddram = ddram;
    this.cgram = cgram;
    this.address = address;
    [this.toCgram, this.increment, this.shiftDisplay, this.displayOn, this.cursorOn, this.eightBit, this.twoLines] = [1, 2, 4, 8, 16, 32, 64].map((m) => (flags & m) !== 0);
    this.shift = shift;
    this.pendingNibble = nibble === 0xff ? -1 : nibble;
    this.readPhase = readPhase;
    this.lastControl = lastControl;
    this.portValues = { A: a, B: b };
    this.onChange?.();
  }
}

const bitOption = (doc: string, value: number) => ({ kind: 'integer', min: 0, max: 7, default: value, doc }) as const;

export const HD44780: DeviceType = {
  type: 'hd44780',
  summary: 'HD44780 16x2 character LCD on a 6522 VIA (4- or 8-bit wiring)',
  size: 0,
  options: {
    via: { kind: 'device', default: 'via', doc: 'the id of the VIA it is wired to' },
    port: { kind: 'string', values: ['A', 'B'], default: 'B', doc: 'the port of E, RW and RS' },
    e: bitOption('port bit of E', 6),
    rw: bitOption('port bit of RW', 5),
    rs: bitOption('port bit of RS', 4),
    dataLines: { kind: 'integer', min: 4, max: 8, default: 4, doc: '4 (D4-D7) or 8 (D0-D7) data lines' },
    dataBit: bitOption('port bit of the lowest data line', 0),
    dataPort: { kind: 'string', values: ['A', 'B'], doc: 'the port of the data lines (default: port)' },
  },
  create(o, env) {
    const via = env.device(o.via as string);
    if (!(via instanceof Via6522)) throw new Error(`device "${String(o.via)}" is not a 6522 VIA`);
    if (o.dataLines !== 4 && o.dataLines !== 8) throw new Error(`dataLines must be 4 or 8, not ${String(o.dataLines)}`);
    return new Hd44780(via, o as unknown as Hd44780Wiring);
  },
};
