// Machines as plain data: the description of a machine (CPU, memory map,
// devices by type, the console, what to load), how a VM spec names or
// extends one, and how a description becomes a Machine.
//
// How to drive this:
//   const m = await Machine.create({ machine: 'apple1', roms: [{ address: 0xff00, image: wozmon }] });
//   const spec = resolveSpec({ machine: 'py65', program: bytes, load: 0xc000 });  // a closed MachineSpec
//   checkMachine(spec);                  // throws a DescriptionError naming the field
// A MachineSpec is JSON-able (bytes are Uint8Arrays, or { base64 } in JSON
// files); the same one builds the same machine in Node, in a worker, in a
// page, and inside a snapshot, which carries the closed spec of its VM.
// Named machines live in src/machines/ (one file of data each); device
// types in src/devices/registry.ts (one file of code each).

import type { CpuModel } from '../isa/opcodes.js';
import { CPU_MODELS } from '../isa/opcodes.js';
import { checkOptions, DescriptionError, parseNumberText, type Device, type DeviceType, type OptionValues } from '../devices/device.js';
import { findDeviceType, deviceTypes } from '../devices/registry.js';
import { MachineConsole, type ConsoleOptions, type LineEnd } from './console.js';
import { parseSim65, sim65TrapOpcode } from '../devices/sim65.js';
import { hex } from '../core/cpu.js';
import type { MachineParts, MemoryKind } from './machine.js';
import { BUILT_IN_MACHINES } from '../machines/index.js';

export { DescriptionError };

/** An address or number as descriptions write it: 49152, "$C000" or "0xC000". */
export type Num = number | string;
/** Bytes: a Uint8Array, or { base64 } in JSON. ({ file } is resolved by the Node front ends before a spec is built.) */
export type Image = Uint8Array | { base64: string } | { file: string };

export interface MemorySpec {
  start: Num;
  /** Last address, inclusive. Regions start and end on page edges ($xx00-$yyFF) and do not overlap. */
  end: Num;
  kind: MemoryKind;
  /** Initial contents from `start` on (a ROM image). */
  image?: Image;
  /** Byte the region holds before anything is loaded (default 0). */
  fill?: number;
  /** What must be loaded here for the machine to work ("Wozmon at $FF00"): building fails, saying so, when nothing is. */
  needs?: string;
}

export interface DeviceSpec {
  /** A device type of the registry ("via6522"). */
  type: string;
  /** How the rest of the description refers to it (default: the type's name). */
  id?: string;
  /** First address of its registers; none for a device off the bus. */
  address?: Num;
  options?: Record<string, unknown>;
  /** Its interrupt output reaches the CPU's IRQ line (default true; the Apple 1 leaves its PIA's unconnected). */
  irq?: boolean;
}

export interface ConsoleSpec extends ConsoleOptions {
  /** The id of the device that is the console (a UART, a keyboard port, py65mon's I/O). */
  device: string;
}

/** Where a VM's program goes on this machine. */
export interface ProgramSpec {
  /** 'bin': raw bytes; 'sim65': a cc65 sim65 program (its header says where it loads and starts). */
  format?: 'bin' | 'sim65';
  /** Load address (a VM spec's `load` overrides it). */
  address?: Num;
  /** Load it so that it ends here (a ROM whose vectors are at its top), when no address is given. */
  end?: Num;
  /** Where the CPU starts: the reset vector (default), the load address, or an address. */
  start?: 'reset' | 'load' | Num;
}

/** What a page shows of a machine. */
export type ViewSpec =
  | { kind: 'terminal' }
  | { kind: 'easy6502-screen'; address: Num }
  | { kind: 'text-screen'; address: Num; columns: number; rows: number }
  | { kind: 'lcd'; device: string };

export interface MachineSpec {
  /** A short name (the registry's key: "apple1"). */
  name?: string;
  /** One line saying what it is. */
  title?: string;
  cpu?: CpuModel;
  /** The memory map; addresses no region covers are unmapped. Without one: 64 KiB of RAM. */
  memory?: MemorySpec[];
  devices?: DeviceSpec[];
  console?: ConsoleSpec;
  program?: ProgramSpec;
  /** Images to place in memory (ROM or RAM alike) before the CPU starts; `rom` makes their pages read-only. */
  load?: Array<{ address: Num; image: Image; rom?: boolean }>;
  /** Where the CPU starts (default: the reset vector). */
  start?: 'reset' | Num;
  /** Registers after loading (defaults: S=$FD, P=$24). */
  registers?: Partial<Record<'a' | 'x' | 'y' | 's' | 'p', number>>;
  /** What ends the run besides the devices' own power-off: 'brk' (py65mon returns to its prompt at BRK). */
  powerOff?: 'brk' | 'none';
  /** End the run when an instruction jumps or branches to itself. */
  stopOnSelfLoop?: boolean;
  /** The real machine's clock, for front ends that run it in real time. */
  clockHz?: number;
  views?: ViewSpec[];
}

/**
 * What a VM is made of: a machine (by name, or described in full) and what to
 * run on it. Everything but `machine` is optional and overrides or adds to
 * the machine's description.
 */
export interface VmSpec {
  machine?: string | MachineSpec;
  cpu?: CpuModel;
  /** The program, placed as the machine's `program` says (or at `load`). */
  program?: Uint8Array;
  load?: number;
  start?: number;
  /** ROM images: placed at their addresses, their pages made read-only. */
  roms?: Array<{ address: number; image: Uint8Array }>;
  /** More images to load into memory (RAM or ROM alike). */
  images?: Array<{ address: number; image: Uint8Array }>;
  /** A sim65 program's arguments and argv[0]. */
  args?: string[];
  name?: string;
  /** Device options by device id: `{ rng: { seed: 7 } }`. */
  options?: Record<string, Record<string, unknown>>;
  console?: Partial<ConsoleOptions>;
  stopOnSelfLoop?: boolean;
  /** The spec forms of hyper6502 0.1: `{ profile: 'sim65' | 'raw' | 'board' | 'easy6502', ... }`. */
  profile?: 'raw' | 'board' | 'easy6502' | 'sim65';
  image?: Uint8Array;
  rom?: Uint8Array;
  seed?: number;
  disk?: Uint8Array;
}

// ---- The registry of machines ------------------------------------------------------

const machines = new Map<string, MachineSpec>();

/** Adds a named machine (its `name` is the key). */
export function registerMachine(spec: MachineSpec) {
  if (!spec.name || !/^[a-z][a-z0-9-]*$/.test(spec.name)) throw new DescriptionError('name', `a registered machine needs a lower-case name, got ${JSON.stringify(spec.name)}`);
  if (machines.has(spec.name)) throw new DescriptionError('name', `a machine "${spec.name}" is registered already`);
  checkMachine(spec, { partial: true });
  machines.set(spec.name, spec);
}

export function findMachine(name: string): MachineSpec | undefined {
  return machines.get(name);
}

export function machineNames(): string[] {
  return [...machines.keys()];
}

// ---- Checking a description ----------------------------------------------------------

/** A description with every number parsed and every image in bytes: what `buildParts` takes. */
export interface CheckedMachine {
  name: string;
  cpu: CpuModel;
  memory: Array<{ start: number; end: number; kind: MemoryKind; image?: Uint8Array; fill: number; needs?: string }>;
  devices: Array<{ type: DeviceType; id: string; address?: number; options: OptionValues; irq: boolean }>;
  console?: ConsoleSpec;
  program: { format: 'bin' | 'sim65'; address?: number; end?: number; start: 'reset' | 'load' | number };
  load: Array<{ address: number; image: Uint8Array; rom: boolean }>;
  start: 'reset' | number;
  registers: Partial<Record<'a' | 'x' | 'y' | 's' | 'p', number>>;
  powerOff: 'brk' | 'none';
  stopOnSelfLoop: boolean;
}

const KINDS: readonly MemoryKind[] = ['ram', 'rom', 'unmapped'];
const LINE_ENDS: readonly LineEnd[] = ['cr', 'lf', 'crlf', 'none'];
const MACHINE_KEYS = ['name', 'title', 'cpu', 'memory', 'devices', 'console', 'program', 'load', 'start', 'registers', 'powerOff', 'stopOnSelfLoop', 'clockHz', 'views'];

function num(v: unknown, field: string, max = 0xffff): number {
  const n = typeof v === 'string' ? parseNumberText(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) {
    throw new DescriptionError(field, `must be ${max === 0xffff ? 'an address from $0000 to $FFFF' : `a whole number from 0 to ${max}`} (a number, "$C000" or "0xC000"), got ${JSON.stringify(v)}`);
  }
  return n;
}

function bytes(v: unknown, field: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (v && typeof v === 'object' && typeof (v as { base64?: unknown }).base64 === 'string') {
    try {
      return fromBase64((v as { base64: string }).base64);
    } catch {
      throw new DescriptionError(field, 'is not valid base64');
    }
  }
  if (v && typeof v === 'object' && typeof (v as { file?: unknown }).file === 'string') {
    throw new DescriptionError(field, `names a file (${(v as { file: string }).file}) that was not read: only the command line and hyper6502/node read files`);
  }
  throw new DescriptionError(field, 'must be bytes (a Uint8Array, or { "base64": "..." } in JSON)');
}

function object(v: unknown, field: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) throw new DescriptionError(field, 'must be an object');
  return v as Record<string, unknown>;
}

function list(v: unknown, field: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new DescriptionError(field, 'must be a list');
  return v;
}

function range(start: number, end: number): string {
  return `$${hex(start, 4)}-$${hex(end, 4)}`;
}

/**
 * Checks a machine description; returns it with numbers parsed and images in
 * bytes. Throws a DescriptionError naming the first field that is wrong.
 * `partial` accepts a machine that still needs a program (a registry entry).
 */
export function checkMachine(given: unknown, how: { partial?: boolean } = {}): CheckedMachine {
  const d = object(given, 'machine');
  for (const key of Object.keys(d)) if (!MACHINE_KEYS.includes(key)) throw new DescriptionError(key, `is not part of a machine description (its parts: ${MACHINE_KEYS.join(', ')})`);
  const cpu = (d.cpu ?? '6502') as CpuModel;
  if (!(CPU_MODELS as readonly string[]).includes(cpu)) throw new DescriptionError('cpu', `"${String(d.cpu)}" is not a CPU model (${CPU_MODELS.join(', ')})`);

  // Memory: page-aligned regions that do not overlap.
  const memory: CheckedMachine['memory'] = [];
  const given_memory = d.memory === undefined ? [{ start: 0, end: 0xffff, kind: 'ram' }] : list(d.memory, 'memory');
  given_memory.forEach((r, i) => {
    const f = `memory[${i}]`;
    const o = object(r, f);
    const start = num(o.start, `${f}.start`);
    const end = num(o.end, `${f}.end`);
    if ((start & 0xff) !== 0 || (end & 0xff) !== 0xff || start > end) throw new DescriptionError(f, `${range(start, end)} must start and end on page edges ($xx00-$yyFF)`);
    const kind = o.kind as MemoryKind;
    if (!KINDS.includes(kind)) throw new DescriptionError(`${f}.kind`, `"${String(o.kind)}" is not ram, rom or unmapped`);
    const image = o.image === undefined ? undefined : bytes(o.image, `${f}.image`);
    if (image && image.length > end - start + 1) throw new DescriptionError(`${f}.image`, `${image.length} bytes do not fit in ${range(start, end)} (${end - start + 1} bytes)`);
    const fill = o.fill === undefined ? 0 : num(o.fill, `${f}.fill`, 0xff);
    if (o.needs !== undefined && typeof o.needs !== 'string') throw new DescriptionError(`${f}.needs`, 'must be a string');
    for (const [j, other] of memory.entries()) {
      if (start <= other.end && other.start <= end) throw new DescriptionError(f, `${range(start, end)} overlaps memory[${j}] (${range(other.start, other.end)})`);
    }
    memory.push({ start, end, kind, image, fill, needs: o.needs as string | undefined });
  });

  // Devices: known types, unique ids, ranges that fit and do not overlap.
  const devices: CheckedMachine['devices'] = [];
  list(d.devices, 'devices').forEach((dev, i) => {
    const f = `devices[${i}]`;
    const o = object(dev, f);
    const type = typeof o.type === 'string' ? findDeviceType(o.type) : undefined;
    if (!type) throw new DescriptionError(`${f}.type`, `no device type ${JSON.stringify(o.type)} (known: ${deviceTypes().map((t) => t.type).join(', ')})`);
    const id = o.id === undefined ? type.type : o.id;
    if (typeof id !== 'string' || !/^[A-Za-z][A-Za-z0-9_-]*$/.test(id)) throw new DescriptionError(`${f}.id`, `must be a name of letters, digits, - and _, got ${JSON.stringify(o.id)}`);
    const taken = devices.findIndex((x) => x.id === id);
    if (taken >= 0) throw new DescriptionError(`${f}.id`, `"${id}" is the id of devices[${taken}] already: give one of them another id`);
    const address = o.address === undefined ? undefined : num(o.address, `${f}.address`);
    if (address !== undefined) {
      if (type.size === 0) throw new DescriptionError(`${f}.address`, `a ${type.type} is not on the bus: it takes no address`);
      const last = address + type.size - 1;
      if (last > 0xffff) throw new DescriptionError(`${f}.address`, `${type.size} registers at $${hex(address, 4)} run past $FFFF`);
      for (const [j, other] of devices.entries()) {
        if (other.address === undefined) continue;
        const otherLast = other.address + other.type.size - 1;
        if (address <= otherLast && other.address <= last) throw new DescriptionError(`${f}.address`, `${range(address, last)} overlaps devices[${j}] (${other.id}, ${range(other.address, otherLast)})`);
      }
    }
    for (const key of Object.keys(o)) if (!['type', 'id', 'address', 'options', 'irq'].includes(key)) throw new DescriptionError(`${f}.${key}`, 'is not part of a device (type, id, address, options, irq)');
    if (o.irq !== undefined && typeof o.irq !== 'boolean') throw new DescriptionError(`${f}.irq`, 'must be true or false');
    devices.push({ type, id, address, options: checkOptions(type, o.options, `${f}.options`), irq: o.irq !== false });
  });
  // Options that name devices must name earlier ones (they are made in order).
  devices.forEach((dev, i) => {
    for (const [key, spec] of Object.entries(dev.type.options ?? {})) {
      if (spec.kind !== 'device' || dev.options[key] === undefined) continue;
      const target = devices.findIndex((x) => x.id === dev.options[key]);
      if (target < 0 || target >= i) throw new DescriptionError(`devices[${i}].options.${key}`, `"${String(dev.options[key])}" is not ${target < 0 ? 'the id of a device' : 'a device listed before this one'}`);
    }
  });

  let console: ConsoleSpec | undefined;
  if (d.console !== undefined) {
    const o = object(d.console, 'console');
    const dev = devices.find((x) => x.id === o.device);
    if (!dev) throw new DescriptionError('console.device', `${JSON.stringify(o.device)} is not the id of a device (ids: ${devices.map((x) => x.id).join(', ') || 'none'})`);
    if (!dev.type.console) throw new DescriptionError('console.device', `a ${dev.type.type} cannot be a console (those that can: ${deviceTypes().filter((t) => t.console).map((t) => t.type).join(', ')})`);
    if (o.lineEnd !== undefined && !LINE_ENDS.includes(o.lineEnd as LineEnd)) throw new DescriptionError('console.lineEnd', `"${String(o.lineEnd)}" is not ${LINE_ENDS.join(', ')}`);
    for (const flag of ['echo', 'upperCase', 'crIsNewline'] as const) {
      if (o[flag] !== undefined && typeof o[flag] !== 'boolean') throw new DescriptionError(`console.${flag}`, 'must be true or false');
    }
    for (const key of Object.keys(o)) if (!['device', 'lineEnd', 'echo', 'upperCase', 'crIsNewline'].includes(key)) throw new DescriptionError(`console.${key}`, 'is not a console option (device, lineEnd, echo, upperCase, crIsNewline)');
    console = o as unknown as ConsoleSpec;
  }

  const p = d.program === undefined ? {} : object(d.program, 'program');
  const format = (p.format ?? 'bin') as 'bin' | 'sim65';
  if (format !== 'bin' && format !== 'sim65') throw new DescriptionError('program.format', `"${String(p.format)}" is not bin or sim65`);
  const programStart = p.start === undefined || p.start === 'reset' || p.start === 'load' ? ((p.start ?? 'reset') as 'reset' | 'load') : num(p.start, 'program.start');
  const program = {
    format,
    address: p.address === undefined ? undefined : num(p.address, 'program.address'),
    end: p.end === undefined ? undefined : num(p.end, 'program.end'),
    start: programStart,
  };

  const load = list(d.load, 'load').map((l, i) => {
    const o = object(l, `load[${i}]`);
    const address = num(o.address, `load[${i}].address`);
    const image = bytes(o.image, `load[${i}].image`);
    if (address + image.length > 0x10000) throw new DescriptionError(`load[${i}]`, `${image.length} bytes at $${hex(address, 4)} run past $FFFF (to $${hex(address + image.length - 1, 5)})`);
    if (o.rom !== undefined && typeof o.rom !== 'boolean') throw new DescriptionError(`load[${i}].rom`, 'must be true or false');
    return { address, image, rom: o.rom === true };
  });
  if (!how.partial) {
    // Every image lands on memory that can hold it.
    load.forEach((l, i) => {
      if (l.image.length === 0) return;
      const last = l.address + l.image.length - 1;
      for (let page = l.address >> 8; page <= last >> 8; page++) {
        const region = memory.find((r) => page >= r.start >> 8 && page <= r.end >> 8);
        if (!region || region.kind === 'unmapped') {
          throw new DescriptionError(`load[${i}]`, `${l.image.length} bytes at $${hex(l.address, 4)} reach $${hex(Math.max(page << 8, l.address), 4)}, where the machine has no memory${memory.length ? ` (its memory: ${memory.filter((r) => r.kind !== 'unmapped').map((r) => `${r.kind.toUpperCase()} ${range(r.start, r.end)}`).join(', ')})` : ''}`);
        }
      }
    });
    memory.forEach((r, i) => {
      if (!r.needs || r.image) return;
      const filled = load.some((l) => l.image.length && l.address <= r.end && l.address + l.image.length - 1 >= r.start);
      if (!filled) throw new DescriptionError(`memory[${i}]`, `${range(r.start, r.end)} needs ${r.needs}`);
    });
  }

  const start = d.start === undefined || d.start === 'reset' ? 'reset' : num(d.start, 'start');
  const registers: CheckedMachine['registers'] = {};
  if (d.registers !== undefined) {
    for (const [k, v] of Object.entries(object(d.registers, 'registers'))) {
      if (!['a', 'x', 'y', 's', 'p'].includes(k)) throw new DescriptionError(`registers.${k}`, 'is not a register (a, x, y, s, p)');
      registers[k as 'a'] = num(v, `registers.${k}`, 0xff);
    }
  }
  if (d.powerOff !== undefined && d.powerOff !== 'brk' && d.powerOff !== 'none') throw new DescriptionError('powerOff', `"${String(d.powerOff)}" is not brk or none`);
  if (d.stopOnSelfLoop !== undefined && typeof d.stopOnSelfLoop !== 'boolean') throw new DescriptionError('stopOnSelfLoop', 'must be true or false');
  if (d.clockHz !== undefined && !(typeof d.clockHz === 'number' && d.clockHz > 0 && Number.isFinite(d.clockHz))) throw new DescriptionError('clockHz', 'must be a positive number of cycles a second');
  if (d.name !== undefined && typeof d.name !== 'string') throw new DescriptionError('name', 'must be a string');
  return {
    name: (d.name as string | undefined) ?? 'custom',
    cpu,
    memory,
    devices,
    console,
    program,
    load,
    start,
    registers,
    powerOff: (d.powerOff as 'brk' | 'none' | undefined) ?? 'none',
    stopOnSelfLoop: d.stopOnSelfLoop === true,
  };
}

// ---- From a VM spec to a closed description -----------------------------------------------

/** The 0.1 forms of a spec, as today's. */
function fromProfile(s: VmSpec): VmSpec {
  const { profile, image, rom, seed, disk, ...rest } = s;
  switch (profile) {
    case undefined:
      return s;
    case 'raw':
      return { ...rest, machine: 'raw', program: image };
    case 'board':
      return { ...rest, machine: 'board', program: rom, options: { ...(seed === undefined ? {} : { rng: { seed } }), ...(disk ? { storage: { image: disk } } : {}), ...rest.options } };
    case 'easy6502':
      return { ...rest, machine: 'easy6502', options: { ...(seed === undefined ? {} : { rng: { seed } }), ...rest.options } };
    case 'sim65':
      return { ...rest, machine: 'sim65' };
    default:
      throw new DescriptionError('profile', `"${String(profile)}" is not a profile of hyper6502 0.1 (raw, board, easy6502, sim65); name a machine instead`);
  }
}

const VM_KEYS = ['machine', 'cpu', 'program', 'load', 'start', 'roms', 'images', 'args', 'name', 'options', 'console', 'stopOnSelfLoop', 'profile', 'image', 'rom', 'seed', 'disk'];

/**
 * The closed machine description of a VM spec: the named (or given) machine
 * with the spec's program, images and overrides in it, so that it builds the
 * same machine anywhere with nothing else. Throws a DescriptionError.
 */
export function resolveSpec(given: VmSpec): MachineSpec {
  const o = object(given, 'spec');
  for (const key of Object.keys(o)) if (!VM_KEYS.includes(key)) throw new DescriptionError(key, `is not part of a VM spec (its parts: ${VM_KEYS.slice(0, 12).join(', ')})`);
  const s = fromProfile(given);
  let base: MachineSpec;
  if (s.machine === undefined || typeof s.machine === 'string') {
    const name = s.machine ?? 'raw';
    const found = findMachine(name);
    if (!found) throw new DescriptionError('machine', `no machine "${name}" (built in: ${machineNames().join(', ')})`);
    base = found;
  } else base = object(s.machine, 'machine') as MachineSpec;
  const checked = checkMachine(base, { partial: true });
  const m: MachineSpec = { ...base, devices: (base.devices ?? []).map((dev) => ({ ...dev, options: { ...dev.options } })), load: [...(base.load ?? [])] };
  if (s.cpu !== undefined) m.cpu = s.cpu;
  if (s.stopOnSelfLoop !== undefined) m.stopOnSelfLoop = s.stopOnSelfLoop;
  if (s.console) {
    if (!m.console) throw new DescriptionError('console', `the ${checked.name} machine has no console to set options of`);
    m.console = { ...m.console, ...s.console };
  }
  for (const [id, options] of Object.entries(s.options ?? {})) {
    const dev = m.devices!.find((x) => (x.id ?? x.type) === id);
    if (!dev) throw new DescriptionError(`options.${id}`, `the ${checked.name} machine has no device "${id}" (its devices: ${m.devices!.map((x) => x.id ?? x.type).join(', ') || 'none'})`);
    dev.options = { ...dev.options, ...object(options, `options.${id}`) };
  }

  // The program, as the machine takes it.
  if (s.program !== undefined) {
    const program = bytes(s.program, 'program');
    if (checked.program.format === 'sim65') {
      const p = parseSim65(program, s.name ?? 'program');
      if (s.cpu !== undefined && s.cpu !== p.cpu) throw new DescriptionError('cpu', `the program's sim65 header says ${p.cpu}, not ${s.cpu}`);
      m.cpu = p.cpu;
      m.load!.push({ address: p.loadAddress, image: p.body }, { address: 0xfffc, image: Uint8Array.of(p.resetAddress & 0xff, p.resetAddress >> 8) });
      m.start = p.resetAddress;
      const sim = m.devices!.find((x) => x.type === 'sim65');
      if (sim) sim.options = { ...sim.options, spAddress: p.spAddress, ...(s.args ? { args: s.args } : {}), ...(s.name ? { name: s.name } : {}) };
    } else {
      if (program.length === 0) throw new DescriptionError('program', 'is empty');
      let address = s.load ?? checked.program.address;
      if (address === undefined && checked.program.end !== undefined) address = checked.program.end + 1 - program.length;
      if (address === undefined) throw new DescriptionError('load', `the ${checked.name} machine needs the address the program loads at (--load ADDR)`);
      if (address < 0 || address + program.length > 0x10000) {
        throw new DescriptionError('program', `${program.length} bytes ${s.load === undefined && checked.program.end !== undefined ? `ending at $${hex(checked.program.end, 4)} would start below $0000` : `at $${hex(address, 4)} run past $FFFF (to $${hex(address + program.length - 1, 5)})`}`);
      }
      if (checked.program.address !== undefined && checked.program.end !== undefined && s.load === undefined && address + program.length - 1 > checked.program.end) {
        throw new DescriptionError('program', `${program.length} bytes at $${hex(address, 4)} do not fit below $${hex(checked.program.end + 1, 4)}`);
      }
      m.load!.push({ address, image: program });
      const ps = checked.program.start;
      if (ps === 'load') m.start = address;
      else if (typeof ps === 'number') m.start = ps;
    }
  } else if (s.load !== undefined) throw new DescriptionError('load', 'gives an address for a program, but the spec has no program');
  for (const r of s.roms ?? []) m.load!.push({ address: r.address, image: r.image, rom: true });
  for (const r of s.images ?? []) m.load!.push({ address: r.address, image: r.image });
  if (s.args !== undefined && !m.devices!.some((x) => x.type === 'sim65')) throw new DescriptionError('args', `only sim65 programs take arguments; the ${checked.name} machine runs none`);
  if (s.start !== undefined) m.start = s.start;
  checkMachine(m); // everything in place now
  return m;
}

// ---- Building -----------------------------------------------------------------------------

/** Services only the host gives a machine: files for a sim65 guest, stderr, a host block store. */
export type HostServices = Record<string, unknown>;

/** The code-level parts of a machine described by `spec` (a closed description: see resolveSpec). */
export function buildParts(spec: MachineSpec, services: HostServices = {}): MachineParts & { console?: MachineConsole } {
  const m = checkMachine(spec);
  // Memory as writes into the guest's (zeroed) memory, in order: no 64 KiB copy per machine.
  const contents: NonNullable<MachineParts['contents']> = [];
  const kinds = new Array<MemoryKind>(256).fill('unmapped');
  for (const r of m.memory) {
    if (r.fill) contents.push({ address: r.start, fill: r.fill, length: r.end - r.start + 1 });
    if (r.image) contents.push({ address: r.start, bytes: r.image });
    kinds.fill(r.kind, r.start >> 8, (r.end >> 8) + 1);
  }
  for (const l of m.load) {
    contents.push({ address: l.address, bytes: l.image });
    if (l.rom && l.image.length) kinds.fill('rom', l.address >> 8, ((l.address + l.image.length - 1) >> 8) + 1);
  }
  const console = m.console ? new MachineConsole(m.console) : undefined;
  const made = new Map<string, Device>();
  const devices = m.devices.map((d, i) => {
    let device: Device;
    try {
      device = d.type.create(d.options, {
        console: console && m.console!.device === d.id ? console : undefined,
        device: (id) => made.get(id)!,
        cpu: m.cpu,
        services,
      });
    } catch (err) {
      if (err instanceof DescriptionError) throw err;
      throw new DescriptionError(`devices[${i}]`, (err as Error).message);
    }
    (device as { name: string }).name = d.id;
    made.set(d.id, device);
    return { address: d.address, size: d.address === undefined ? undefined : d.type.size, device, irq: d.irq };
  });

  // One trap opcode serves the devices' hypercalls and BRK as a power-off.
  const trapping = devices.filter((d) => d.device.trapOpcode !== undefined);
  const opcodes = new Set(trapping.map((d) => d.device.trapOpcode!));
  if (m.powerOff === 'brk') opcodes.add(0x00);
  if (opcodes.size > 1) throw new DescriptionError('devices', `the machine needs ${opcodes.size} trap opcodes (${[...opcodes].map((o) => '$' + hex(o, 2)).join(', ')}): a machine has one`);
  const trap: MachineParts['trap'] = opcodes.size
    ? {
        opcode: [...opcodes][0],
        handler: (machine) => {
          if (m.powerOff === 'brk' && machine.cpu.ram[machine.cpu.pc] === 0x00) {
            machine.powerOff(0);
            return 'handled';
          }
          for (const d of trapping) {
            const outcome = d.device.trap!(machine);
            if (outcome !== 'unhandled') return outcome;
          }
          return 'unhandled';
        },
      }
    : undefined;

  const regions: MachineParts['memory'] = [];
  for (let page = 0; page < 256; ) {
    let last = page;
    while (last < 255 && kinds[last + 1] === kinds[page]) last++;
    regions.push({ start: page << 8, end: (last << 8) | 0xff, kind: kinds[page] });
    page = last + 1;
  }
  return {
    cpu: m.cpu,
    memory: regions,
    contents,
    devices,
    startAt: m.start,
    registers: m.registers,
    trap,
    stopOnSelfLoop: m.stopOnSelfLoop,
    console,
    spec,
  };
}

/** The built-in machines' trap opcode for sim65 programs (for tools that place it themselves). */
export { sim65TrapOpcode };

// ---- Base64 (JSON files and snapshots) -----------------------------------------------------------

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export function toBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[n >> 18] + B64[(n >> 12) & 63] + (i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < bytes.length ? B64[n & 63] : '=');
  }
  return out;
}

export function fromBase64(text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4) throw new Error('bad base64');
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

/** A description or spec as JSON: bytes become { base64 }. */
export function specToJson(spec: unknown): string {
  return JSON.stringify(spec, (_k, v) => (v instanceof Uint8Array ? { base64: toBase64(v) } : v));
}

/** JSON back to a description or spec: { base64 } (and the 0.1 form { $bytes }) become bytes. */
export function specFromJson(text: string): unknown {
  return JSON.parse(text, (_k, v) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && typeof v.base64 === 'string') return fromBase64(v.base64);
      if (keys.length === 1 && typeof v.$bytes === 'string') return fromBase64(v.$bytes);
    }
    return v;
  });
}

// The built-in machines (src/machines/), checked once at load.
for (const m of BUILT_IN_MACHINES) registerMachine(m);
