// What a hypervisor VM is built from: a description that is plain data, so
// it can cross to a worker thread and travel inside a snapshot.
//
// How to drive this:
//   const spec: VmSpec = { profile: 'sim65', program: prgBytes, args: ['x'] };
//   const built = buildVm(spec, core, slot);   // { machine, console }
//   built.console.input('text');               // the guest's stdin / terminal keys
//   built.console.takeOutput();                // what it printed since the last call
//
// Profiles: 'raw' (a binary in 64 KiB of RAM), 'board', 'easy6502', 'sim65'.
// Every VM has a console: guest output goes into a bounded buffer (bytes over
// the limit are dropped and counted, never held), guest input into a queue.

import { Machine } from '../machine/machine.js';
import type { CoreMemory } from '../core/cpu.js';
import { parseCpuModel, type CpuModel } from '../isa/opcodes.js';
import { boardDescription } from '../profiles/board.js';
import { easy6502Description } from '../profiles/easy6502.js';
import { parseSim65, Sim65Host, sim65Description } from '../profiles/sim65.js';
import { MemoryBlockStore } from '../devices/storage.js';
import { StateReader, StateWriter } from '../devices/device.js';

export type VmSpec =
  | { profile: 'raw'; cpu?: CpuModel; image: Uint8Array; load?: number; start?: number; stopOnSelfLoop?: boolean }
  | { profile: 'board'; cpu?: CpuModel; rom: Uint8Array; seed?: number; disk?: Uint8Array }
  | { profile: 'easy6502'; program: Uint8Array; seed?: number }
  | { profile: 'sim65'; program: Uint8Array; args?: string[]; name?: string };

/** Bytes of guest output a VM may hold before the host takes them. */
export const OUTPUT_LIMIT = 64 * 1024;
/** Bytes of input waiting for the guest. */
export const INPUT_LIMIT = 64 * 1024;

export class VmConsole {
  private out = new Uint8Array(256);
  private outLength = 0;
  private inQueue: number[] = [];
  /** Output bytes dropped because the buffer was full. */
  dropped = 0;
  /** All output bytes the guest produced. */
  produced = 0;
  /** No more input will come (stdin at its end). */
  inputClosed = false;
  /** Where the profile wants console input (the ACIA, the keyboard); the queue when unset. */
  inputSink?: (bytes: Uint8Array) => void;

  write(bytes: Uint8Array | number) {
    if (typeof bytes === 'number') {
      // One byte (a UART): the common case, without an array.
      this.produced++;
      if (this.outLength >= OUTPUT_LIMIT) {
        this.dropped++;
        return;
      }
      if (this.outLength === this.out.length) this.grow(this.outLength + 1);
      this.out[this.outLength++] = bytes;
      return;
    }
    const data = bytes;
    this.produced += data.length;
    const room = OUTPUT_LIMIT - this.outLength;
    const take = Math.min(room, data.length);
    this.dropped += data.length - take;
    if (take === 0) return;
    if (this.outLength + take > this.out.length) this.grow(this.outLength + take);
    this.out.set(data.subarray(0, take), this.outLength);
    this.outLength += take;
  }

  private grow(needed: number) {
    const bigger = new Uint8Array(Math.min(OUTPUT_LIMIT, Math.max(this.out.length * 2, needed)));
    bigger.set(this.out.subarray(0, this.outLength));
    this.out = bigger;
  }

  get pendingOutput(): number {
    return this.outLength;
  }

  takeOutput(): Uint8Array {
    const bytes = this.out.slice(0, this.outLength);
    this.outLength = 0;
    return bytes;
  }

  input(data: Uint8Array | string) {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    if (this.inputSink) return this.inputSink(bytes);
    for (const b of bytes) if (this.inQueue.length < INPUT_LIMIT) this.inQueue.push(b);
  }

  closeInput() {
    this.inputClosed = true;
  }

  /** The guest's read of the queue: bytes, null at the end, undefined while it waits. */
  read(max: number): Uint8Array | null | undefined {
    if (this.inQueue.length) return Uint8Array.from(this.inQueue.splice(0, max));
    return this.inputClosed ? null : undefined;
  }

  get waitingInput(): number {
    return this.inQueue.length;
  }

  save(): Uint8Array {
    return new StateWriter().blob(this.out.subarray(0, this.outLength)).blob(Uint8Array.from(this.inQueue)).u53(this.dropped).u53(this.produced).u8(this.inputClosed ? 1 : 0).done();
  }

  load(state: Uint8Array) {
    const r = new StateReader(state, 'console');
    const out = r.blob();
    const queue = r.blob();
    const dropped = r.u53();
    const produced = r.u53();
    const closed = r.u8();
    r.end();
    if (out.length > OUTPUT_LIMIT || queue.length > INPUT_LIMIT || closed > 1) throw new Error('console state is out of range');
    this.out = new Uint8Array(Math.max(256, out.length));
    this.out.set(out);
    this.outLength = out.length;
    this.inQueue = [...queue];
    this.dropped = dropped;
    this.produced = produced;
    this.inputClosed = closed === 1;
  }
}

export interface BuiltVm {
  machine: Machine;
  console: VmConsole;
}

/** Checks a spec (it may come from a snapshot or another thread); throws a message naming the problem. */
export function checkSpec(spec: unknown): asserts spec is VmSpec {
  const s = spec as Record<string, unknown>;
  if (!s || typeof s !== 'object') throw new Error('a VM spec must be an object');
  const bytes = (name: string, max: number) => {
    if (!(s[name] instanceof Uint8Array)) throw new Error(`spec.${name} must be bytes (Uint8Array)`);
    if ((s[name] as Uint8Array).length > max) throw new Error(`spec.${name} is ${(s[name] as Uint8Array).length} bytes, more than ${max}`);
  };
  if (s.cpu !== undefined) parseCpuModel(s.cpu, (why) => new Error(`spec.cpu: ${why}`));
  switch (s.profile) {
    case 'raw':
      bytes('image', 0x10000);
      return;
    case 'board':
      bytes('rom', 0x2000);
      if (s.disk !== undefined) bytes('disk', 16 * 1024 * 1024);
      return;
    case 'easy6502':
      bytes('program', 0xf000);
      return;
    case 'sim65':
      bytes('program', 0x10000);
      if (s.args !== undefined && !(Array.isArray(s.args) && s.args.every((a) => typeof a === 'string'))) throw new Error('spec.args must be an array of strings');
      return;
    default:
      throw new Error(`unknown VM profile "${String(s.profile)}" (raw, board, easy6502 or sim65)`);
  }
}

/** Builds the machine a spec describes, in `slot` of `core` (a slot that is all zero). */
export async function buildVm(spec: VmSpec, core: CoreMemory, slot: number): Promise<BuiltVm> {
  checkSpec(spec);
  const console = new VmConsole();
  const where = { core, slot, zeroed: true };
  switch (spec.profile) {
    case 'raw': {
      const load = spec.load ?? 0;
      const machine = await Machine.create({ cpu: spec.cpu, program: { bytes: spec.image, address: load, start: spec.start } }, where);
      machine.cpu.stopOnSelfLoop = spec.stopOnSelfLoop ?? false;
      return { machine, console };
    }
    case 'board': {
      const board = boardDescription({
        cpu: spec.cpu,
        rom: spec.rom,
        seed: spec.seed,
        output: (b) => console.write(b),
        storage: new MemoryBlockStore(spec.disk ? spec.disk.slice() : new Uint8Array(64 * 512)),
      });
      console.inputSink = (bytes) => void board.acia.input(bytes);
      return { machine: await Machine.create(board.description, where), console };
    }
    case 'easy6502': {
      const e = easy6502Description(spec.program, { seed: spec.seed });
      console.inputSink = (bytes) => bytes.forEach((b) => e.keyboard.press(b));
      return { machine: await Machine.create(e.description, where), console };
    }
    case 'sim65': {
      const program = parseSim65(spec.program, spec.name ?? 'program');
      const host = new Sim65Host({
        args: [spec.name ?? 'program', ...(spec.args ?? [])],
        stdin: console,
        stdout: (b) => console.write(b),
        stderr: (b) => console.write(b),
      });
      return { machine: await Machine.create(sim65Description(program, host), where), console };
    }
  }
}

// ---- Specs as JSON (bytes as base64), for snapshots ---------------------------------

export function specToJson(spec: VmSpec): string {
  return JSON.stringify(spec, (_k, v) => (v instanceof Uint8Array ? { $bytes: toBase64(v) } : v));
}

export function specFromJson(text: string): VmSpec {
  const spec = JSON.parse(text, (_k, v) => (v && typeof v === 'object' && typeof v.$bytes === 'string' ? fromBase64(v.$bytes) : v));
  checkSpec(spec);
  return spec;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function toBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[n >> 18] + B64[(n >> 12) & 63] + (i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < bytes.length ? B64[n & 63] : '=');
  }
  return out;
}

function fromBase64(text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4) throw new Error('bad base64 in a VM spec');
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  for (let i = 0, o = 0; i < text.length; i += 4) {
    const n = (B64.indexOf(text[i]) << 18) | (B64.indexOf(text[i + 1]) << 12) | ((B64.indexOf(text[i + 2]) & 63) << 6) | (B64.indexOf(text[i + 3]) & 63);
    if (o < out.length) out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 0xff;
    if (o < out.length) out[o++] = n & 0xff;
  }
  return out;
}
