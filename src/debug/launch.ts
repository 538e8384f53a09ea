// Starting a program under the debugger from files (Node): the machine, as
// `hyper6502 run` chooses it, and the program's debug info.
//
// How to drive this:
//   const { machine, symbols, cStackPointer } = await launchProgram({ program: 'hello.prg' });
//   // hello.dbg (ld65 --dbgfile) and hello.lbl (-Ln) beside it are read when they exist.
// A sim65 program runs on the sim65 machine with `args` as its argv; another
// file on `machine` (default raw), loaded at `load`; a .s file is assembled
// first, its labels becoming symbols. Errors are LaunchErrors, one line each.

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Machine } from '../machine/machine.js';
import { findMachine, machineNames, type MachineSpec, type VmSpec } from '../machine/description.js';
import { isSim65, parseSim65 } from '../devices/sim65.js';
import { loadMachineFile } from '../node/files.js';
import { assembleFile, formatAsmErrors, isAssemblerSource, startAddress } from '../cli/asm.js';
import { parseCpu } from '../cli/args.js';
import { DebugSymbols } from './symbols.js';

export class LaunchError extends Error {}

export interface LaunchOptions {
  program?: string;
  /** A built-in machine's name or a description file (.json). */
  machine?: string;
  cpu?: string;
  load?: number;
  start?: number;
  args?: string[];
  /** ld65 debug info; default: the program's name with .dbg, when it exists. */
  dbgfile?: string;
  /** Label files (ld65 -Ln, VICE); default: the program's name with .lbl, when it exists. */
  labels?: string[];
  /** Relative paths are taken from here (default: the process's folder). */
  cwd?: string;
}

export interface Launched {
  machine: Machine;
  symbols: DebugSymbols;
  cStackPointer?: number;
  /** What was loaded, for messages. */
  description: string;
}

export async function launchProgram(o: LaunchOptions): Promise<Launched> {
  const at = (p: string) => resolve(o.cwd ?? process.cwd(), p);
  const spec: VmSpec = {};
  let symbols = new DebugSymbols();
  let cStackPointer: number | undefined;
  let image: Uint8Array | undefined;
  if (o.program !== undefined) {
    const path = at(o.program);
    if (isAssemblerSource(path)) {
      const r = assembleFile(path, o.cpu ? { cpu: parseCpu(o.cpu) } : {});
      if (!r.ok) throw new LaunchError(formatAsmErrors(r.errors).trim().split('\n')[0]);
      image = r.bytes;
      spec.load = o.load ?? r.origin;
      if (!o.machine || o.machine === 'raw') spec.start = o.start ?? startAddress(r);
      if (!o.cpu && r.cpu !== '6502') spec.cpu = r.cpu;
      symbols = DebugSymbols.fromTable(r.labels);
    } else {
      try {
        image = new Uint8Array(readFileSync(path));
      } catch (err) {
        throw new LaunchError(`cannot read ${o.program}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
      }
      if (image.length === 0) throw new LaunchError(`${o.program} is empty`);
    }
  }
  const sim65 = image !== undefined && isSim65(image);
  if (sim65) {
    if (o.machine && o.machine !== 'sim65') throw new LaunchError(`a sim65 program runs on the sim65 machine, not on ${o.machine}`);
    spec.machine = 'sim65';
    spec.args = [o.program!, ...(o.args ?? [])];
    try {
      cStackPointer = parseSim65(image!).spAddress;
    } catch (err) {
      throw new LaunchError((err as Error).message);
    }
  } else {
    spec.machine = await machineOf(o.machine, at);
    if (o.load !== undefined) spec.load ??= o.load;
    if (o.start !== undefined) spec.start = o.start;
    if (o.cpu) spec.cpu = parseCpu(o.cpu);
  }
  if (image) spec.program = image;
  if (!spec.program && !o.machine) throw new LaunchError('give a program to debug, or a machine');
  let machine: Machine;
  try {
    machine = await Machine.create(spec);
  } catch (err) {
    throw new LaunchError((err as Error).message);
  }
  // Debug info: the given files, else those beside the program.
  const beside = (ext: string) => (o.program ? at(o.program).replace(/\.[^./]*$/, '') + ext : undefined);
  const dbg = o.dbgfile !== undefined ? at(o.dbgfile) : beside('.dbg');
  if (dbg && (o.dbgfile !== undefined || existsSync(dbg))) symbols = readSymbols(dbg, (t) => DebugSymbols.fromDebugInfo(t)).merge(symbols);
  const labelFiles = o.labels?.map(at) ?? [beside('.lbl')].filter((p): p is string => !!p && existsSync(p));
  for (const file of labelFiles) symbols.merge(readSymbols(file, (t) => DebugSymbols.fromLabels(t, file)));
  cStackPointer ??= symbols.cStackPointer ?? symbols.address('sp');
  return { machine, symbols, cStackPointer, description: o.program ? `${o.program} on ${machine.spec?.name ?? spec.machine}` : `${machine.spec?.name ?? o.machine}` };
}

function readSymbols(path: string, parse: (text: string) => DebugSymbols): DebugSymbols {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new LaunchError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  try {
    return parse(text);
  } catch (err) {
    throw new LaunchError(`${path}: ${(err as Error).message}`);
  }
}

async function machineOf(name: string | undefined, at: (p: string) => string): Promise<string | MachineSpec> {
  if (name === undefined) return 'raw';
  if (/\.json$/i.test(name) || name.includes('/')) {
    try {
      return await loadMachineFile(at(name));
    } catch (err) {
      throw new LaunchError(`machine ${name}: ${(err as Error).message}`);
    }
  }
  if (!findMachine(name)) throw new LaunchError(`no machine "${name}" (built in: ${machineNames().join(', ')}; or a description in a .json file)`);
  return name;
}
