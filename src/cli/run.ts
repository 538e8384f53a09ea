// `hyper6502 run [--machine NAME|FILE.json] FILE`: run a program on a
// machine with its console on stdin and stdout: a cc65 sim65 program as
// sim65 does, a binary on a raw 64 KiB machine, or system software (BASIC,
// Forth, a monitor) on the machine it was written for.
//
// How to drive this: `await runCommand(argv, io)` with argv after "run";
// returns the process exit code. Errors in the input are UsageErrors.

import { parseArgs } from 'node:util';
import type { Readable, Writable } from 'node:stream';
import { hex, type Cpu } from '../core/cpu.js';
import { jitProcessStats } from '../jit/engine.js';
import { UsageError, parseAddress, parseCpu, parseNumber, parseOptions, packageVersion } from './args.js';
import { isSim65, parseSim65, Sim65FormatError } from '../devices/sim65.js';
import { runMachine, type RunMachineResult } from '../node/run.js';
import { loadMachineFile, readBoundedFile } from '../node/files.js';
import { assembleFile, formatAsmErrors, isAssemblerSource, startAddress } from './asm.js';
import { atMost, runVmsCommand, vmLimit, workerLimit } from './vms.js';
import { DescriptionError, findMachine, machineNames, resolveSpec, type MachineSpec, type VmSpec } from '../machine/description.js';

export const RUN_USAGE = `Usage: hyper6502 run [options] [FILE [arguments...]]

Runs FILE on a machine, with the machine's console on stdin and stdout: a cc65
program built for sim65 (cl65 -t sim6502 or -t sim65c02), which gets the
arguments after FILE as its argv; a raw binary in 64 KiB of RAM; or, with
--machine, system software on the machine it was written for:

  hyper6502 run --machine py65 --load 0xC000 ehbasic.bin
  hyper6502 run --machine py65 --cpu 65c02 --load 0x8000 taliforth-py65mon.bin
  hyper6502 run --machine apple1 --rom wozmon.bin@0xFF00 --load 0xE000 a1basic.bin
  hyper6502 run --machine eater eater.bin

Options:
  --machine NAME|FILE    a built-in machine (hyper6502 machines lists them) or a
                         machine description in JSON
  --cpu 6502|65c02|r65c02  CPU model (default: the machine's)
  --load ADDR            where FILE goes (into RAM or ROM alike)
  --rom IMAGE@ADDR       a ROM image at ADDR, read-only (more than one may be given)
  --start ADDR           start address (default: the reset vector)
  --clock HZ             run in real time at HZ cycles a second (e.g. 1000000)
  -x, --max-cycles N     stop after N cycles
  --stats                print one JSON line of statistics on stderr at the end
  --trace                print each instruction on stderr (slow)
  --stop-on-self-loop    stop when an instruction jumps or branches to itself
  --jit, --no-jit        run hot code compiled to WebAssembly at run time, or
                         only the interpreter (the default; HYPER6502_JIT=on|off)
  -v, --verbose          say on stderr where FILE loaded and starts, and how it ended
  -V, --version          the version
  -h, --help             this text
sim65 programs (sim65's options, spelt as sim65 spells them: a drop-in for it):
  -c, --cycles           print the number of cycles executed, on stdout after the
                         program's output (as sim65 does)
  --fs-root DIR          let the program open, create and remove files under DIR
  --fs-quota BYTES       how much its files may grow in the run (default 64 MiB)
Many VMs:
  --vms N                run N copies side by side on the hypervisor; each
                         output line starts with [vmK]; the status is the largest
                         (at most as many as half this machine's memory holds)
  --workers W            worker threads for them (default: one per core)

On a terminal, keys go to the guest as typed (Ctrl-C too); Ctrl-A x leaves.
From a pipe or a file, input waits for the guest (none is lost), LF becomes the
machine's line end, and the run ends once the guest has read everything and
waits for more. A .s FILE is assembled first. Numbers are decimal, $hex or
0xhex. A sim65 program's exit status is the command's; 126 means it ran out
of --max-cycles, 127 that it stopped on an illegal opcode or another
emulator error (as sim65 does); a machine's power-off code is the status.`;

export interface CliIo {
  stdout: (text: string | Uint8Array) => void;
  stderr: (text: string) => void;
  /** The guest's standard input (default: none). */
  stdin?: Readable | string;
  /** The process's stdout stream, when there is one: for backpressure and TTY detection. */
  stdoutStream?: Writable;
  /** Ends a run from outside (SIGINT): its statistics are still printed. */
  signal?: AbortSignal;
}

const OPTIONS = {
  machine: { type: 'string' },
  profile: { type: 'string' },
  cpu: { type: 'string' },
  load: { type: 'string' },
  rom: { type: 'string', multiple: true },
  start: { type: 'string' },
  'max-cycles': { type: 'string', short: 'x' },
  'stop-on-self-loop': { type: 'boolean' },
  jit: { type: 'boolean' },
  'no-jit': { type: 'boolean' },
  stats: { type: 'boolean' },
  trace: { type: 'boolean' },
  cycles: { type: 'boolean', short: 'c' },
  verbose: { type: 'boolean', short: 'v', multiple: true },
  version: { type: 'boolean', short: 'V' },
  'fs-root': { type: 'string' },
  'fs-quota': { type: 'string' },
  vms: { type: 'string' },
  workers: { type: 'string' },
  clock: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseOptions<typeof OPTIONS>>['values'];

/** The largest program file run reads: 64 KiB and a sim65 header (a source: 4 MiB). */
const PROGRAM_MAX = 0x10000 + 12;
const SOURCE_MAX = 4 * 1024 * 1024;

export async function runCommand(argv: string[], io: CliIo): Promise<number> {
  // FILE is the first argument that is neither an option nor an option's value;
  // for a sim65 program, everything after it belongs to the program.
  const { tokens } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: false, tokens: true });
  const fileToken = tokens.find((t) => t.kind === 'positional');
  const fileIndex = fileToken?.index ?? -1;
  const file = fileIndex >= 0 ? argv[fileIndex] : undefined;
  // Options before FILE are ours whatever FILE is: check them before reading it.
  const before = parseOptions('run', fileIndex >= 0 ? argv.slice(0, fileIndex) : argv, OPTIONS).values;
  if (before.help || before.version) return helpOrVersion(before, io);
  numbers(before);
  const image = file === undefined ? undefined : await readProgram(file);
  const sim65 = image !== undefined && isSim65(image) && !isAssemblerSource(file!);
  const ours = sim65 ? argv.slice(0, fileIndex) : argv.filter((_, i) => i !== fileIndex);
  const { values: v, positionals } = parseOptions('run', ours, OPTIONS);
  const values: Values = { ...v };
  if (values.help || values.version) return helpOrVersion(values, io);
  if (positionals.length) throw new UsageError(`run takes one FILE, got ${positionals.length + 1}: ${[file, ...positionals].join(' ')} (arguments go only to sim65 programs)`);
  if (values.profile !== undefined) {
    if (values.machine !== undefined) throw new UsageError('give --machine or --profile (its old name), not both');
    values.machine = values.profile;
  }
  const { maxCycles, clock, vms, workers, fsQuota } = numbers(values);
  if (values.jit && values['no-jit']) throw new UsageError('give --jit or --no-jit, not both');
  // The process's VMs (and those of the workers it starts) take their JIT mode from here.
  if (values.jit || values['no-jit']) process.env.HYPER6502_JIT = values.jit ? 'on' : 'off';
  if (fsQuota !== undefined && values['fs-root'] === undefined) throw new UsageError('--fs-quota limits the files under --fs-root: give --fs-root DIR too');
  if (file === undefined && values.machine === undefined) throw new UsageError('run needs a FILE to run (or a --machine with its ROMs)');

  const machine = await machineOf(values.machine, sim65);
  const spec = await specOf(file, image, sim65, machine, values, io);
  if (!spec) return 1; // assembly errors, printed
  if (sim65) spec.args = argv.slice(fileIndex + 1);
  for (const opt of ['cycles', 'fs-root', 'fs-quota'] as const) {
    if (values[opt] !== undefined && !sim65) throw new UsageError(`--${opt} applies to sim65 programs only; ${file ?? 'the machine'} is not one`);
  }
  let closed: MachineSpec;
  try {
    closed = resolveSpec(spec);
  } catch (err) {
    throw new UsageError(describeSpecError(err, file));
  }
  if (values.vms !== undefined || values.workers !== undefined) {
    for (const opt of ['trace', 'stats', 'cycles', 'fs-root', 'fs-quota', 'clock', 'verbose'] as const) {
      if (values[opt] !== undefined) throw new UsageError(`--${opt} does not work with --vms`);
    }
    return runVmsCommand({ machine: closed }, { vms: vms ?? 1, workers, ...(maxCycles === undefined ? {} : { maxCycles }), closeInput: sim65 }, io);
  }

  const name = file ?? closed.name ?? 'machine';
  if (values.verbose) io.stderr(loadedLines(file, image, sim65, closed));
  let result: RunMachineResult;
  try {
    result = await runMachine(
      { machine: closed },
      {
        stdin: io.stdin,
        stdout: io.stdoutStream ?? ((bytes) => io.stdout(bytes)),
        stderr: sim65 ? (bytes) => io.stderr(new TextDecoder().decode(bytes)) : undefined,
        fsRoot: values['fs-root'],
        fsQuota,
        maxCycles,
        clockHz: clock,
        trace: values.trace ? (line) => io.stderr(line + '\n') : undefined,
        signal: io.signal,
      },
    );
  } catch (err) {
    if (err instanceof Sim65FormatError || err instanceof DescriptionError || /--fs-root/.test((err as Error).message)) throw new UsageError((err as Error).message);
    throw err;
  }
  const cpu = result.machine.cpu;
  if (values.verbose && result.reason === 'exit') io.stderr(`${sim65 ? 'PVExit' : 'Exit'} ($${hex(result.exitCode ?? 0, 2)})\n`);
  if (values.cycles) io.stdout(`${result.cycles} cycles\n`); // on stdout, after the program's output, as sim65 prints it
  if (values.stats) io.stderr(statsLine(result.reason, cpu, result.seconds) + '\n');
  if (result.reason === 'exit') return result.exitCode ?? 0;
  const pc = `$${hex(result.exit.pc, 4)}`;
  if (result.reason === 'max-cycles') {
    if (!sim65) return 0;
    io.stderr(`hyper6502: ${name} stopped after ${result.cycles} cycles (--max-cycles)\n`);
    return 126;
  }
  if (['eof', 'quit', 'self-loop'].includes(result.reason)) return 0;
  if (result.reason === 'interrupted') return 130; // as a shell reports SIGINT
  // The raw machine has nothing but its CPU: a program that stops it has ended.
  if (closed.name === 'raw' && ['jam', 'stp', 'wai'].includes(result.reason)) return 0;
  const opcode = `$${hex(cpu.ram[result.exit.pc], 2)}`;
  const why: Record<string, string> = {
    jam: `illegal opcode ${opcode} at ${pc}`,
    trap: `illegal opcode ${opcode} at ${pc}`,
    stp: `the CPU stopped (STP) at ${pc}`,
    wai: `the CPU waits (WAI) at ${pc} for an interrupt that never comes`,
    fault: `emulator error: ${result.exit.error?.message}`,
  };
  io.stderr(`hyper6502: ${name}: ${why[result.reason] ?? `stopped (${result.reason}) at ${pc}`}\n`);
  return 127;
}

/** The numbers among the options, checked (before FILE is read, for the options before it). */
function numbers(values: Values) {
  const number = (name: 'max-cycles' | 'fs-quota' | 'clock' | 'vms' | 'workers', min = 0, max?: number) => (values[name] === undefined ? undefined : parseNumber(values[name], `--${name}`, max, min));
  return {
    maxCycles: number('max-cycles'),
    fsQuota: number('fs-quota'),
    clock: number('clock', 1),
    vms: atMost(number('vms', 1), vmLimit(), '--vms', 'VMs'),
    workers: atMost(number('workers'), workerLimit(), '--workers', 'worker threads'),
    load: values.load === undefined ? undefined : parseAddress(values.load, '--load'),
    start: values.start === undefined ? undefined : parseAddress(values.start, '--start'),
  };
}

function helpOrVersion(values: Values, io: CliIo): Promise<number> {
  if (values.help) io.stdout(RUN_USAGE + '\n');
  else io.stdout(`hyper6502 ${packageVersion()}\n`);
  return Promise.resolve(0);
}

/** What -v says before the run, as sim65 -v says it: where the program loaded, and where it starts. */
function loadedLines(file: string | undefined, image: Uint8Array | undefined, sim65: boolean, machine: MachineSpec): string {
  const lines: string[] = [];
  if (sim65 && image && file) {
    const p = parseSim65(image, file);
    lines.push(`Loaded '${file}' at $${hex(p.loadAddress, 4)}-$${hex(p.loadAddress + p.body.length - 1, 4)}`, `File version: ${image[5]}`, `Reset: $${hex(p.resetAddress, 4)}`);
  } else {
    for (const l of machine.load ?? []) {
      const size = l.image instanceof Uint8Array ? l.image.length : 0;
      const start = typeof l.address === 'number' ? l.address : Number(l.address);
      if (size) lines.push(`Loaded ${l.rom ? 'ROM' : `'${file ?? 'image'}'`} at $${hex(start, 4)}-$${hex(start + size - 1, 4)}`);
    }
    lines.push(`Machine: ${machine.name ?? 'machine'}`, `Start: ${typeof machine.start === 'number' ? `$${hex(machine.start, 4)}` : 'the reset vector'}`);
  }
  return lines.map((l) => l + '\n').join('');
}

/** The machine --machine names (a built-in or a JSON file), or the default for FILE. */
async function machineOf(given: string | undefined, sim65: boolean): Promise<string | MachineSpec> {
  if (given === undefined) return sim65 ? 'sim65' : 'raw';
  if (/\.json$/i.test(given) || given.includes('/')) {
    try {
      return await loadMachineFile(given);
    } catch (err) {
      throw new UsageError(`--machine ${given}: ${(err as Error).message}`);
    }
  }
  if (!findMachine(given)) throw new UsageError(`--machine: no machine "${given}" (built in: ${machineNames().join(', ')}; or a description in a .json file)`);
  if (sim65 && given !== 'sim65') throw new UsageError(`a sim65 program runs on the sim65 machine, not on ${given}`);
  return given;
}

/** The VM spec of FILE on `machine`, with the options; null after printing assembly errors. */
async function specOf(file: string | undefined, image: Uint8Array | undefined, sim65: boolean, machine: string | MachineSpec, values: Values, io: CliIo): Promise<VmSpec | null> {
  const spec: VmSpec = { machine, name: file };
  if (values.cpu !== undefined) spec.cpu = parseCpu(values.cpu);
  if (sim65) {
    for (const raw of ['cpu', 'load', 'start', 'stop-on-self-loop', 'rom'] as const) {
      if (values[raw] !== undefined) throw new UsageError(`--${raw} does not apply to ${file}: a sim65 program's header says where it loads, where it starts and which CPU it needs`);
    }
    spec.program = image;
    return spec;
  }
  delete spec.name;
  const { load, start } = numbers(values);
  if (load !== undefined) spec.load = load;
  if (start !== undefined) spec.start = start;
  if (values['stop-on-self-loop']) spec.stopOnSelfLoop = true;
  spec.roms = [];
  for (const rom of values.rom ?? []) {
    const at = rom.lastIndexOf('@');
    if (at <= 0) throw new UsageError(`--rom ${rom}: write IMAGE@ADDR (e.g. wozmon.bin@0xFF00)`);
    const address = parseAddress(rom.slice(at + 1), `--rom ${rom}`);
    const bytes = await readImage(rom.slice(0, at));
    if (bytes.length === 0) throw new UsageError(`--rom ${rom}: the image is empty`);
    if (address + bytes.length > 0x10000) throw new UsageError(`--rom ${rom}: ${bytes.length} bytes at $${hex(address, 4)} run past $FFFF`);
    spec.roms.push({ address, image: bytes });
  }
  if (file === undefined || image === undefined) return spec;
  if (isAssemblerSource(file)) {
    // Assemble, then run from the reset vector the source sets, else from its first byte.
    const program = assembleFile(file, { cpu: spec.cpu });
    if (!program.ok) {
      io.stderr(formatAsmErrors(program.errors));
      return null;
    }
    spec.program = program.bytes;
    if (spec.cpu === undefined && program.cpu !== '6502') spec.cpu = program.cpu;
    spec.load ??= program.origin;
    if (machine === 'raw') spec.start ??= startAddress(program);
    return spec;
  }
  if (image.length === 0) throw new UsageError(`${file} is empty`);
  spec.program = image;
  return spec;
}

function describeSpecError(err: unknown, file: string | undefined): string {
  if (!(err instanceof DescriptionError)) return (err as Error).message;
  const f = err.field;
  const problem = err.message.slice(f.length + 2);
  if (f === 'program' && file) return `${file}: ${problem}`;
  if (f === 'load') return `--load: ${problem}`;
  if (/^load\[\d+\]$/.test(f) && file) return `${file}: ${problem}`;
  return err.message;
}

async function readProgram(file: string): Promise<Uint8Array> {
  try {
    return await readBoundedFile(file, isAssemblerSource(file) ? SOURCE_MAX : PROGRAM_MAX, 'program');
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^cannot read program /, 'cannot read '));
  }
}

async function readImage(file: string): Promise<Uint8Array> {
  try {
    return await readBoundedFile(file, 0x10000, 'ROM image');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function statsLine(reason: string, cpu: Cpu, seconds: number): string {
  return JSON.stringify({
    reason,
    pc: cpu.pc,
    a: cpu.a,
    x: cpu.x,
    y: cpu.y,
    s: cpu.s,
    p: cpu.p,
    cycles: cpu.cycles,
    instructions: cpu.instructions,
    seconds: Number(seconds.toFixed(6)),
    mhz: Number((seconds > 0 ? cpu.cycles / seconds / 1e6 : 0).toFixed(2)),
    ...(cpu.jitMetrics ? { jit: { ...cpu.jitMetrics, compileMs: Number(jitProcessStats.compileMs.toFixed(3)), modulesCompiled: jitProcessStats.modulesCompiled, blocksCompiled: jitProcessStats.blocksCompiled } } : {}),
  });
}
