// sim65's paravirtual device: what programs built with `cl65 -t sim6502` or
// `-t sim65c02` call for their files, stdio, arguments and exit, as cc65's
// sim65 answers them; and the sim65 program format.
//
// How to drive this: the `sim65` machine (src/machines/sim65.ts) loads a
// program with parseSim65 (a Sim65FormatError names what is wrong with a
// file) and has this device, the machine's console for stdin and stdout:
//   const m = await Machine.create({ machine: 'sim65', program: bytes, args: ['x'] });
//   m.run(1e9);                                        // 'exit' with the guest's code
//
// The program's paravirtual calls ($FFF1-$FFF9, see ../shared notes on the
// sim65 ABI) are JSRs or JMPs to the top of memory; the device puts the
// machine's trap opcode there, so each call leaves the core as a trap that
// this device performs, then returns as RTS would. No cycles are charged for
// a call beyond the JSR/JMP itself. Files live in the guest's own descriptor
// table, on a GuestFileSystem the host gives (service `fs`; none by default).

import { cpuVariant, type CpuModel } from '../isa/opcodes.js';
import type { Machine } from '../machine/machine.js';
import { hex } from '../core/cpu.js';
import type { Device, DeviceContext, DeviceType } from './device.js';

export class Sim65FormatError extends Error {}

export interface Sim65Program {
  cpu: CpuModel;
  /** Zero-page address of the C stack pointer. */
  spAddress: number;
  loadAddress: number;
  resetAddress: number;
  body: Uint8Array;
}

/** The first free address above a program: the paravirtual entry points start here. */
const PARAVIRT_BASE = 0xfff0;
const HEADER = [0x73, 0x69, 0x6d, 0x36, 0x35]; // "sim65"

export function isSim65(bytes: Uint8Array): boolean {
  return bytes.length >= 5 && HEADER.every((b, i) => bytes[i] === b);
}

export function parseSim65(bytes: Uint8Array, name = 'program'): Sim65Program {
  if (!isSim65(bytes)) throw new Sim65FormatError(`${name} is not a sim65 program (it does not start with "sim65")`);
  if (bytes.length < 12) throw new Sim65FormatError(`${name}: the sim65 header is truncated (${bytes.length} of 12 bytes)`);
  if (bytes[5] !== 2) throw new Sim65FormatError(`${name}: sim65 format version ${bytes[5]} is not supported (only version 2)`);
  const cpuByte = bytes[6];
  if (cpuByte > 2) throw new Sim65FormatError(`${name}: unknown CPU type ${cpuByte} in the sim65 header (0 = 6502, 1 = 65C02, 2 = 6502 with undocumented opcodes)`);
  const loadAddress = bytes[8] | (bytes[9] << 8);
  const resetAddress = bytes[10] | (bytes[11] << 8);
  const body = bytes.subarray(12);
  if (loadAddress + body.length > PARAVIRT_BASE) {
    throw new Sim65FormatError(`${name}: ${body.length} bytes loaded at $${hex(loadAddress, 4)} would reach $${hex(loadAddress + body.length - 1, loadAddress + body.length > 0x10000 ? 5 : 4)}, past $${hex(PARAVIRT_BASE - 1, 4)} where the paravirtual calls live`);
  }
  return { cpu: cpuByte === 1 ? '65c02' : '6502', spAddress: bytes[7], loadAddress, resetAddress, body };
}

/** A guest's view of files: where `open` may look, and how (see sandbox-fs.ts for Node). */
export interface GuestFileSystem {
  /** Opens `path` (relative, as the guest gave it); a handle, or null when refused or failing. */
  open(path: string, mode: OpenMode): unknown | null;
  read(handle: unknown, count: number): Uint8Array | null;
  /** Bytes written, or -1 (a failure, or a quota that would be passed: nothing is written). */
  write(handle: unknown, bytes: Uint8Array): number;
  /** The new offset (0 to 2^31-1: the guest gets a signed long), or -1. */
  seek(handle: unknown, offset: number, whence: 'cur' | 'end' | 'set'): number;
  close(handle: unknown): void;
  remove(path: string): boolean;
}

export interface OpenMode {
  read: boolean;
  write: boolean;
  create: boolean;
  truncate: boolean;
  append: boolean;
  exclusive: boolean;
}

/**
 * The guest's standard input: `read(max)` returns up to max bytes, an empty
 * array or null at end of input, or undefined when no input is there yet (the
 * machine then stops with 'wait' and the same call is retried later).
 */
export interface InputSource {
  read(max: number): Uint8Array | null | undefined;
}

export interface Sim65HostOptions {
  /** argv, argv[0] the program's name. */
  args?: string[];
  stdin?: InputSource;
  stdout?: (bytes: Uint8Array) => void;
  stderr?: (bytes: Uint8Array) => void;
  /** Where the guest may open files; without one, only fds 0-2 exist. */
  fs?: GuestFileSystem;
  /** Most files open at once, stdio included (default 16). */
  maxOpenFiles?: number;
}

type Fd = { kind: 'stdin' } | { kind: 'stdout' } | { kind: 'stderr' } | { kind: 'file'; handle: unknown };

/** The host side of the paravirtual calls of one guest. */
export class Sim65Host {
  private readonly fds = new Map<number, Fd>([
    [0, { kind: 'stdin' }],
    [1, { kind: 'stdout' }],
    [2, { kind: 'stderr' }],
  ]);
  constructor(readonly options: Sim65HostOptions = {}) {}

  /** The descriptor table, for a debugger that rewinds the guest (open files' handles are shared, not copied). */
  saveDescriptors(): unknown {
    return new Map(this.fds);
  }
  loadDescriptors(saved: unknown) {
    this.fds.clear();
    for (const [fd, f] of saved as Map<number, Fd>) this.fds.set(fd, f);
  }

  /** Closes every file the guest left open. */
  closeAll() {
    for (const [fd, f] of this.fds) {
      if (f.kind === 'file') this.options.fs?.close(f.handle);
      this.fds.delete(fd);
    }
  }

  handle(m: Machine, program: Pick<Sim65Program, 'spAddress'>): 'handled' | 'wait' | 'unhandled' {
    const cpu = m.cpu;
    const ram = cpu.ram;
    const word = (a: number) => ram[a & 0xffff] | (ram[(a + 1) & 0xffff] << 8);
    const setWord = (a: number, v: number) => {
      cpu.poke(a, v & 0xff);
      cpu.poke(a + 1, (v >> 8) & 0xff);
    };
    const sp = () => word(program.spAddress);
    const setSp = (v: number) => setWord(program.spAddress, v & 0xffff);
    /** Reads the word at sp, then moves sp up by `size`. */
    const pop = (size: number) => {
      const v = word(sp());
      setSp(sp() + size);
      return v;
    };
    const ax = () => cpu.a | (cpu.x << 8);
    const setAx = (v: number) => {
      cpu.a = v & 0xff;
      cpu.x = (v >> 8) & 0xff;
    };
    const cString = (a: number) => {
      const bytes: number[] = [];
      for (let i = 0; i < 1024; i++) {
        const c = ram[(a + i) & 0xffff];
        if (c === 0) break;
        bytes.push(c);
      }
      return new TextDecoder().decode(Uint8Array.from(bytes));
    };
    const copyOut = (a: number, bytes: Uint8Array) => {
      for (let i = 0; i < bytes.length; i++) cpu.poke(a + i, bytes[i]);
    };
    const copyIn = (a: number, n: number) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = ram[(a + i) & 0xffff];
      return out;
    };

    switch (cpu.pc) {
      case 0xfff1: { // lseek(fd, offset, whence): off_t, a long
        const whence = ax();
        const offset = (word(sp()) | (word(sp() + 2) << 16)) | 0;
        setSp(sp() + 4);
        const fd = pop(2);
        const f = this.fds.get(fd);
        const w = whence === 0 ? 'cur' : whence === 1 ? 'end' : whence === 2 ? 'set' : null;
        const got = f?.kind === 'file' && w && this.options.fs ? this.options.fs.seek(f.handle, offset, w) : -1;
        const result = Number.isInteger(got) && got >= 0 && got <= 0x7fffffff ? got : -1;
        // cc65 returns a long with its low word in A/X and its high word in
        // `sreg`, the zero-page word cc65's runtime keeps right after `sp`.
        // (sim65 sets A/X only and uses only the offset's low word.)
        setAx(result);
        cpu.poke((program.spAddress + 2) & 0xff, (result >> 16) & 0xff);
        cpu.poke((program.spAddress + 3) & 0xff, (result >> 24) & 0xff);
        break;
      }
      case 0xfff2: { // remove(name)
        const name = cString(ax());
        setAx(this.options.fs?.remove(name) ? 0 : -1);
        break;
      }
      case 0xfff3: // maperrno: nothing to map
        setAx(0);
        break;
      case 0xfff4: { // open(name, flags, ...)
        const argBytes = cpu.y;
        pop(argBytes - 4); // the mode, when given: unused
        const flags = pop(2);
        const name = cString(pop(2));
        setAx(this.open(name, flags));
        break;
      }
      case 0xfff5: { // close(fd)
        const fd = ax();
        const f = this.fds.get(fd);
        if (f?.kind === 'file') this.options.fs?.close(f.handle);
        setAx(this.fds.delete(fd) ? 0 : -1);
        break;
      }
      case 0xfff6: { // read(fd, buf, count)
        const count = ax();
        const buf = word(sp());
        const fd = word(sp() + 2);
        const f = this.fds.get(fd);
        let data: Uint8Array | null | undefined;
        if (f?.kind === 'stdin') {
          data = this.options.stdin ? this.options.stdin.read(count) : null;
          if (data === undefined) return 'wait'; // retried once input arrives; nothing changed yet
          data ??= new Uint8Array(0);
        } else if (f?.kind === 'file') {
          data = this.options.fs!.read(f.handle, count);
        } else {
          data = null;
        }
        setSp(sp() + 4);
        if (data === null) setAx(-1);
        else {
          const n = Math.min(data.length, count);
          copyOut(buf, data.subarray(0, n));
          setAx(n);
        }
        break;
      }
      case 0xfff7: { // write(fd, buf, count)
        const count = ax();
        const buf = pop(2);
        const fd = pop(2);
        const f = this.fds.get(fd);
        const bytes = copyIn(buf, count);
        if (f?.kind === 'stdout') { this.options.stdout?.(bytes); setAx(count); }
        else if (f?.kind === 'stderr') { this.options.stderr?.(bytes); setAx(count); }
        else if (f?.kind === 'file') setAx(this.options.fs!.write(f.handle, bytes));
        else setAx(-1);
        break;
      }
      case 0xfff8: { // args(&argv): strings and the pointer array go below sp
        const args = this.options.args ?? ['program'];
        const argvVar = ax();
        let p = sp();
        const array = (p - (args.length + 1) * 2) & 0xffff;
        setWord(argvVar, array);
        p = array;
        let slot = array;
        for (const arg of args) {
          const bytes = new TextEncoder().encode(arg);
          p = (p - bytes.length - 1) & 0xffff;
          copyOut(p, bytes);
          cpu.poke(p + bytes.length, 0);
          setWord(slot, p);
          slot += 2;
        }
        setWord(slot, 0);
        setSp(p);
        setAx(args.length);
        break;
      }
      case 0xfff9: // exit(status)
        m.powerOff(cpu.a);
        this.closeAll();
        return 'handled';
      default:
        return 'unhandled';
    }
    // Return as RTS would: pull the return address (S wraps in page 1), go past it.
    cpu.s = (cpu.s + 1) & 0xff;
    const lo = ram[0x100 + cpu.s];
    cpu.s = (cpu.s + 1) & 0xff;
    const hi = ram[0x100 + cpu.s];
    cpu.pc = ((lo | (hi << 8)) + 1) & 0xffff;
    return 'handled';
  }

  private open(name: string, flags: number): number {
    const fs = this.options.fs;
    if (!fs) return -1;
    const access = flags & 3;
    if (access === 0) return -1;
    if (this.fds.size >= (this.options.maxOpenFiles ?? 16)) return -1;
    const handle = fs.open(name, {
      read: access === 1 || access === 3,
      write: access === 2 || access === 3,
      create: (flags & 0x10) !== 0,
      truncate: (flags & 0x20) !== 0,
      append: (flags & 0x40) !== 0,
      exclusive: (flags & 0x80) !== 0,
    });
    if (handle === null) return -1;
    let fd = 3;
    while (this.fds.has(fd)) fd++;
    this.fds.set(fd, { kind: 'file', handle });
    return fd;
  }
}


/** The trap opcode the device places at the paravirtual entry points. */
export function sim65TrapOpcode(cpu: CpuModel): number {
  return cpuVariant(cpu).family === 'cmos' ? 0xfb : 0x02; // a one-byte CMOS NOP; an NMOS JAM
}

/** The paravirtual device of a sim65 machine: its calls, on the machine's console and the host's files. */
export class Sim65Device implements Device {
  readonly name = 'sim65';
  readonly trapOpcode: number;
  private ctx?: DeviceContext;

  constructor(
    readonly host: Sim65Host,
    private readonly program: Pick<Sim65Program, 'cpu' | 'spAddress'>,
  ) {
    this.trapOpcode = sim65TrapOpcode(program.cpu);
  }

  attach(ctx: DeviceContext) {
    this.ctx = ctx;
    for (let a = PARAVIRT_BASE + 1; a < 0xfffa; a++) if (ctx.ram[a] !== this.trapOpcode) ctx.poke(a, this.trapOpcode);
  }

  trap(m: Machine): 'handled' | 'wait' | 'unhandled' {
    const outcome = this.host.handle(m, this.program);
    if (outcome === 'unhandled' && this.trapOpcode !== 0x02 && m.cpu.ram[m.cpu.pc] === this.trapOpcode) {
      // The guest ran the trap opcode elsewhere: it is a one-byte, one-cycle NOP.
      m.cpu.pc = (m.cpu.pc + 1) & 0xffff;
      m.cpu.cycles += 1;
      m.cpu.instructions += 1;
      return 'handled';
    }
    return outcome;
  }

  reset() {
    this.host.closeAll();
    if (this.ctx) this.attach(this.ctx);
  }
}

export const SIM65: DeviceType = {
  type: 'sim65',
  summary: "sim65's paravirtual calls ($FFF1-$FFF9): stdio on the console, files on the host's fs, argv, exit",
  size: 0,
  console: true,
  options: {
    args: { kind: 'strings', doc: "the program's argv[1..]" },
    name: { kind: 'string', default: 'program', doc: 'argv[0]' },
    maxOpenFiles: { kind: 'integer', min: 3, max: 255, default: 16, doc: 'most files open at once, stdio included' },
    spAddress: { kind: 'integer', min: 0, max: 0xff, doc: "zero-page address of the C stack pointer (from the program's header)" },
  },
  create(o, env) {
    if (o.spAddress === undefined) throw new Error('a sim65 device needs the stack pointer address of a sim65 program (option spAddress): give the machine a sim65 program');
    const console = env.console;
    const stderr = env.services.stderr as ((bytes: Uint8Array) => void) | undefined;
    const host = new Sim65Host({
      args: [o.name as string, ...((o.args as string[] | undefined) ?? [])],
      stdin: console?.readBytes ? { read: (max) => console.readBytes!(max) } : undefined,
      stdout: console ? (bytes) => console.write(bytes) : undefined,
      stderr: stderr ?? (console ? (bytes) => console.write(bytes) : undefined),
      fs: env.services.fs as GuestFileSystem | undefined,
      maxOpenFiles: o.maxOpenFiles as number,
    });
    return new Sim65Device(host, { cpu: env.cpu, spAddress: o.spAddress as number });
  },
};
