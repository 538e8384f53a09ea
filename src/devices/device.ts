// What a device is to a Machine: one interface for every part, and what a
// device type is to a machine description.
//
// How to drive this: implement `Device` (see via6522.ts for a full example);
// the Machine calls `attach` once with a context, then `read`/`write` for the
// addresses of its range (offset from the range's start), `nextEvent`/`tick`
// to advance its clock, `reset` on a machine reset, and `save`/`load` to move
// its state in and out of snapshots. Time is the machine's cycle counter:
// devices never look at the wall clock unless they are made to.
//
// A `DeviceType` makes a device from plain data (a machine description's
// `{ type, address, options }`): its options are checked against `options`,
// so that a bad description gets one error naming the field. Each device file
// exports its class and its type; registry.ts lists the types.

import type { ConsolePort } from '../machine/console.js';
import type { CpuModel } from '../isa/opcodes.js';

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
  /**
   * Says that the read being answered found no input, and that the guest
   * would read the same again until input arrives: the Machine then looks for
   * an idle loop (see machine/idle.ts).
   */
  idlePoll(): void;
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
  /**
   * Decodes register `offset` of its range? Devices whose registers do not
   * fill their range (py65mon's I/O at $F001 and $F004) leave the others to
   * memory. Default: every offset.
   */
  decodes?(offset: number): boolean;
  /** The trap opcode this device answers (a hypercall), and its handler: see TrapHandler in machine.ts. */
  readonly trapOpcode?: number;
  trap?(machine: import('../machine/machine.js').Machine): 'handled' | 'wait' | 'unhandled';
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
  /** A length-prefixed byte string (a copy); `max` bounds its length (the state's own size always does). */
  blob(max = Infinity) {
    const n = this.u32();
    if (n > max) throw new Error(`${this.what} state: ${n} bytes where at most ${max} belong`);
    this.need(n);
    const b = this.bytes.slice(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  end() { if (this.pos !== this.bytes.length) throw new Error(`${this.what} state has ${this.bytes.length - this.pos} unexpected bytes`); }
}

// ---- Device types: devices from plain data ---------------------------------------

/** One option of a device type, as a description gives it. */
export type OptionSpec =
  | { kind: 'integer'; min: number; max: number; default?: number; doc: string }
  | { kind: 'boolean'; default?: boolean; doc: string }
  | { kind: 'string'; values?: readonly string[]; default?: string; doc: string }
  | { kind: 'strings'; doc: string }
  | { kind: 'bytes'; max: number; doc: string }
  /** The id of another device of the machine, made before this one. */
  | { kind: 'device'; default?: string; doc: string };

export type OptionValues = Record<string, unknown>;

/** What a device type may use while making its device. */
export interface DeviceEnv {
  /** The machine's console, when this device is the one the description names as console. */
  console?: ConsolePort & { readBytes?(max: number): Uint8Array | null | undefined; inputClosed?: boolean };
  /** Another device of the machine, by id (made before this one). */
  device(id: string): Device;
  /** The CPU model of the machine. */
  cpu: CpuModel;
  /** Services only the host can give (files for a sim65 guest). */
  services: Record<string, unknown>;
}

export interface DeviceType {
  /** The name descriptions use ("acia6551"). */
  readonly type: string;
  /** One line for `hyper6502 machines` and the README. */
  readonly summary: string;
  /** Register addresses it takes on the bus; 0 for a device off the bus. */
  readonly size: number;
  /** It can be the machine's console (it reads input and prints through the console). */
  readonly console?: boolean;
  readonly options?: Readonly<Record<string, OptionSpec>>;
  /** Makes the device from checked options (defaults filled in). */
  create(options: OptionValues, env: DeviceEnv): Device;
}

/** A bad machine description: `field` is where ("devices[2].options.seed"), `message` what is wrong. */
export class DescriptionError extends Error {
  constructor(readonly field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.name = 'DescriptionError';
  }
}

/** Checks `given` against a type's options; returns them with defaults filled in. */
export function checkOptions(type: DeviceType, given: unknown, field: string): OptionValues {
  const specs = type.options ?? {};
  if (given === undefined) given = {};
  if (!given || typeof given !== 'object' || Array.isArray(given)) throw new DescriptionError(field, `must be an object of options for ${type.type}`);
  const out: OptionValues = {};
  for (const key of Object.keys(given)) {
    if (!(key in specs)) {
      const known = Object.keys(specs);
      throw new DescriptionError(`${field}.${key}`, `${type.type} has no option "${key}" (${known.length ? `its options: ${known.join(', ')}` : 'it takes none'})`);
    }
  }
  for (const [key, spec] of Object.entries(specs)) {
    const v = (given as OptionValues)[key];
    const where = `${field}.${key}`;
    if (v === undefined) {
      if ('default' in spec && spec.default !== undefined) out[key] = spec.default;
      continue;
    }
    switch (spec.kind) {
      case 'integer': {
        const n = typeof v === 'string' ? parseNumberText(v) : v;
        if (typeof n !== 'number' || !Number.isInteger(n) || n < spec.min || n > spec.max) {
          throw new DescriptionError(where, `must be a whole number from ${spec.min} to ${spec.max}, got ${JSON.stringify(v)}`);
        }
        out[key] = n;
        break;
      }
      case 'boolean':
        if (typeof v !== 'boolean') throw new DescriptionError(where, `must be true or false, got ${JSON.stringify(v)}`);
        out[key] = v;
        break;
      case 'string':
      case 'device':
        if (typeof v !== 'string' || (spec.kind === 'string' && spec.values && !spec.values.includes(v))) {
          throw new DescriptionError(where, `must be ${spec.kind === 'string' && spec.values ? `one of ${spec.values.map((x) => `"${x}"`).join(', ')}` : 'a string'}, got ${JSON.stringify(v)}`);
        }
        out[key] = v;
        break;
      case 'strings':
        if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new DescriptionError(where, 'must be an array of strings');
        out[key] = [...v];
        break;
      case 'bytes':
        if (!(v instanceof Uint8Array)) throw new DescriptionError(where, 'must be bytes');
        if (v.length > spec.max) throw new DescriptionError(where, `is ${v.length} bytes, more than ${spec.max}`);
        out[key] = v;
        break;
    }
  }
  return out;
}

/** "$C000", "0xC000", "49152" -> 49152; anything else NaN. */
export function parseNumberText(text: string): number {
  const t = text.trim().replace(/_/g, '');
  if (/^\$[0-9a-f]+$/i.test(t)) return parseInt(t.slice(1), 16);
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t.slice(2), 16);
  if (/^[0-9]+$/.test(t)) return Number(t);
  return NaN;
}
