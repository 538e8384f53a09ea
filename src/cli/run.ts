// `hyper6502 run FILE`: run a cc65 sim65 program (header "sim65") as sim65
// does, or a raw binary in a flat 64 KiB RAM machine.
//
// How to drive this: `await runCommand(argv, io)` with argv after "run";
// returns the process exit code. Errors in the input are UsageErrors.

import { parseArgs } from 'node:util';
import type { Readable } from 'node:stream';
import { readFile } from 'node:fs/promises';
import { CoreMemory, ExitReason, EXIT_NAMES, hex, type Cpu } from '../core/cpu.js';
import { parseCpuModel, type CpuModel } from '../isa/opcodes.js';
import { UsageError, parseAddress, parseNumber } from './args.js';
import { isSim65, Sim65FormatError } from '../profiles/sim65.js';
import { runSim65, traceLine } from '../profiles/sim65-run.js';
import { assembleFile, formatAsmErrors, isAssemblerSource, startAddress } from './asm.js';
import { runVmsCommand } from './vms.js';
import { Machine } from '../machine/machine.js';
import { boardDescription } from '../profiles/board.js';

export const RUN_USAGE = `Usage: hyper6502 run [options] FILE [arguments...]

Runs FILE: a cc65 program built for sim65 (cl65 -t sim6502 or -t sim65c02),
which gets the arguments after FILE as its argv, or a raw binary loaded into
64 KiB of RAM.

Options:
  --max-cycles N         stop after N cycles
  --stats                print one JSON line of statistics on stderr at the end
  --trace                print each instruction on stderr (slow)
sim65 programs:
  --cycles               print the number of cycles executed on stderr
  --fs-root DIR          let the program open, create and remove files under DIR
Raw binaries (and .s files, assembled first):
  --profile board        run FILE as the ROM of the board computer: its terminal
                         (the ACIA) is stdin and stdout, its power register the
                         exit status (see the README for its memory map)
  --clock HZ             run in real time at HZ cycles a second (e.g. 1000000)
  --cpu 6502|65c02       CPU model (default 6502)
  --load ADDR            load address (default 0)
  --start ADDR           start address (default: the reset vector at $FFFC)
  --stop-on-self-loop    stop when an instruction jumps or branches to itself
Many VMs:
  --vms N                run N copies side by side on the hypervisor; each
                         output line starts with [vmK]; the status is the largest
  --workers W            worker threads for them (default: one per core)
Numbers are decimal, $hex or 0xhex. A sim65 program's exit status is the
command's; 126 means it ran out of --max-cycles, 127 that it stopped on an
illegal opcode or another emulator error (as sim65 does).`;

export interface CliIo {
  stdout: (text: string | Uint8Array) => void;
  stderr: (text: string) => void;
  /** The guest's standard input (default: none). */
  stdin?: Readable | string;
}

const OPTIONS = {
  cpu: { type: 'string' },
  load: { type: 'string' },
  start: { type: 'string' },
  'max-cycles': { type: 'string' },
  'stop-on-self-loop': { type: 'boolean' },
  stats: { type: 'boolean' },
  trace: { type: 'boolean' },
  cycles: { type: 'boolean' },
  'fs-root': { type: 'string' },
  vms: { type: 'string' },
  workers: { type: 'string' },
  profile: { type: 'string' },
  clock: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function runCommand(argv: string[], io: CliIo): Promise<number> {
  // FILE is the first argument that is neither an option nor an option's value;
  // for a sim65 program, everything after it belongs to the program.
  const { tokens } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: false, tokens: true });
  const fileToken = tokens.find((t) => t.kind === 'positional');
  const fileIndex = fileToken?.index ?? -1;
  const file = fileIndex >= 0 ? argv[fileIndex] : undefined;
  // Options before FILE are ours whatever FILE is: check them before reading it.
  parseArgs({ args: fileIndex >= 0 ? argv.slice(0, fileIndex) : argv, options: OPTIONS, allowPositionals: true, strict: true });
  const image = file === undefined ? undefined : await readProgram(file);
  const sim65 = image !== undefined && isSim65(image);
  const ours = sim65 ? argv.slice(0, fileIndex) : argv.filter((_, i) => i !== fileIndex);
  const { values, positionals } = parseArgs({ args: ours, options: OPTIONS, allowPositionals: true, strict: true });

  if (values.help) {
    io.stdout(RUN_USAGE + '\n');
    return 0;
  }
  if (file === undefined || image === undefined) throw new UsageError('run needs a FILE to run');
  if (positionals.length) throw new UsageError(`run takes one FILE, got ${positionals.length + 1}: ${[file, ...positionals].join(' ')} (arguments go only to sim65 programs)`);
  const maxCycles = values['max-cycles'] === undefined ? Infinity : parseNumber(values['max-cycles'], '--max-cycles');
  if (values.vms !== undefined || values.workers !== undefined) {
    return runMany(file, image, sim65, argv.slice(fileIndex + 1), values, maxCycles, io);
  }
  if (sim65) {
    for (const raw of ['cpu', 'load', 'start', 'stop-on-self-loop'] as const) {
      if (values[raw] !== undefined) throw new UsageError(`--${raw} does not apply to ${file}: a sim65 program's header says where it loads, where it starts and which CPU it needs`);
    }
    return runSim65Command(file, image, argv.slice(fileIndex + 1), values, maxCycles, io);
  }
  for (const opt of ['cycles', 'fs-root'] as const) {
    if (values[opt] !== undefined) throw new UsageError(`--${opt} applies to sim65 programs only; ${file} has no sim65 header`);
  }
  if (values.profile !== undefined && values.profile !== 'board' && values.profile !== 'raw') {
    throw new UsageError(`--profile: "${values.profile}" is not a profile run knows (board, or raw: the default)`);
  }
  if (values.profile === 'board') return runBoard(file, image, values, maxCycles, io);
  if (values.clock !== undefined) throw new UsageError('--clock goes with --profile board');
  return runRaw(file, image, values, maxCycles, io);
}

async function readProgram(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message}`);
  }
}

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'string' ? string : boolean };

async function runSim65Command(file: string, image: Uint8Array, args: string[], values: Values, maxCycles: number, io: CliIo): Promise<number> {
  const t0 = performance.now();
  let run;
  try {
    run = await runSim65(image, {
      name: file,
      args,
      stdin: io.stdin,
      stdout: (bytes) => io.stdout(bytes),
      stderr: (bytes) => io.stderr(new TextDecoder().decode(bytes)),
      fsRoot: values['fs-root'],
      maxCycles,
      trace: values.trace ? (line) => io.stderr(line + '\n') : undefined,
    });
  } catch (err) {
    if (err instanceof Sim65FormatError || /--fs-root/.test((err as Error).message)) throw new UsageError((err as Error).message);
    throw err;
  }
  const seconds = (performance.now() - t0) / 1000;
  if (values.cycles) io.stderr(`${run.cycles} cycles\n`);
  if (values.stats) io.stderr(statsLine(run.reason, run.machine.cpu, seconds) + '\n');
  if (run.exitCode !== null) return run.exitCode;
  const pc = `$${hex(run.exit.pc, 4)}`;
  if (run.reason === 'max-cycles') {
    io.stderr(`hyper6502: ${file} stopped after ${run.cycles} cycles (--max-cycles)\n`);
    return 126;
  }
  const why: Record<string, string> = {
    jam: `illegal opcode $${hex(run.machine.cpu.ram[run.exit.pc], 2)} at ${pc}`,
    trap: `illegal opcode $${hex(run.machine.cpu.ram[run.exit.pc], 2)} at ${pc}`,
    stp: `the CPU stopped (STP) at ${pc}`,
    wai: `the CPU waits (WAI) at ${pc} for an interrupt that never comes`,
    fault: `emulator error: ${run.exit.error?.message}`,
  };
  io.stderr(`hyper6502: ${file}: ${why[run.reason] ?? run.reason}\n`);
  return 127;
}

async function runMany(file: string, image: Uint8Array, sim65: boolean, args: string[], values: Values, maxCycles: number, io: CliIo): Promise<number> {
  const vms = values.vms === undefined ? 1 : parseNumber(values.vms, '--vms', 100_000);
  if (vms < 1) throw new UsageError('--vms must be at least 1');
  const workers = values.workers === undefined ? undefined : parseNumber(values.workers, '--workers', 256);
  for (const opt of ['trace', 'stats', 'cycles', 'fs-root'] as const) {
    if (values[opt] !== undefined) throw new UsageError(`--${opt} does not work with --vms`);
  }
  const limit = Number.isFinite(maxCycles) ? { maxCycles } : {};
  if (sim65) {
    if (values.cpu || values.load || values.start || values['stop-on-self-loop']) throw new UsageError(`--cpu, --load, --start and --stop-on-self-loop do not apply to ${file}: a sim65 program`);
    return runVmsCommand({ profile: 'sim65', program: image, args, name: file }, { vms, workers, ...limit }, io);
  }
  const raw = rawProgram(file, image, values, io);
  if (!raw) return 1;
  const spec = { profile: 'raw' as const, cpu: raw.cpu, image: raw.image, load: raw.load, start: raw.start, stopOnSelfLoop: values['stop-on-self-loop'] ?? false };
  return runVmsCommand(spec, { vms, workers, ...limit }, io);
}

/**
 * A raw binary or an assembly source, with the CPU, load address and start
 * the options (or the source) give; null after printing assembly errors.
 */
function rawProgram(file: string, image: Uint8Array, values: Values, io: CliIo): { image: Uint8Array; cpu: CpuModel; load: number; start?: number } | null {
  let cpu: CpuModel = parseCpuModel(values.cpu ?? '6502', (why) => new UsageError(`--cpu: ${why}`));
  let load = values.load === undefined ? 0 : parseAddress(values.load, '--load');
  let start = values.start === undefined ? undefined : parseAddress(values.start, '--start');
  if (isAssemblerSource(file)) {
    // Assemble, then run from the reset vector the source sets, else from its first byte.
    const program = assembleFile(file, { cpu: cpu as CpuModel });
    if (!program.ok) {
      io.stderr(formatAsmErrors(program.errors));
      return null;
    }
    ({ bytes: image, cpu } = program);
    if (values.load === undefined) load = program.origin;
    start ??= startAddress(program);
  }
  if (image.length === 0) throw new UsageError(`${file} is empty`);
  if (load + image.length > 0x10000) {
    throw new UsageError(`${file} (${image.length} bytes) does not fit at $${hex(load, 4)}: it would end at $${hex(load + image.length - 1, 5)}, past $FFFF`);
  }
  return { image, cpu: cpu as CpuModel, load, start };
}

/** A ROM on the board computer, its ACIA on stdin/stdout, until it powers off (or --max-cycles). */
async function runBoard(file: string, image: Uint8Array, values: Values, maxCycles: number, io: CliIo): Promise<number> {
  for (const opt of ['load', 'start', 'stop-on-self-loop', 'trace'] as const) {
    if (values[opt] !== undefined) throw new UsageError(`--${opt} does not apply with --profile board: the ROM's reset vector starts it`);
  }
  const raw = rawProgram(file, image, { ...values, load: undefined }, io);
  if (!raw) return 1;
  if (raw.image.length > 0x2000) throw new UsageError(`${file} (${raw.image.length} bytes) is more than the board's 8 KiB ROM`);
  const clock = values.clock === undefined ? undefined : parseNumber(values.clock, '--clock');
  if (clock === 0) throw new UsageError('--clock must be more than 0');
  const board = boardDescription({ cpu: raw.cpu, rom: raw.image, output: (b) => io.stdout(Uint8Array.of(b)) });
  const machine = await Machine.create(board.description);
  const stdin = io.stdin;
  if (typeof stdin === 'string') board.acia.input(stdin);
  else if (stdin) {
    stdin.on('data', (chunk: Buffer | string) => board.acia.input(typeof chunk === 'string' ? chunk : new Uint8Array(chunk)));
  }
  const t0 = performance.now();
  try {
    for (;;) {
      const left = maxCycles - machine.cpu.cycles;
      if (left <= 0) break;
      let budget = Math.min(left, 1_000_000);
      if (clock) {
        const due = ((performance.now() - t0) / 1000) * clock - machine.cpu.cycles;
        if (due < 1) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        budget = Math.min(budget, Math.ceil(due));
      }
      const exit = machine.run(budget);
      if (exit.reason === 'exit') return exit.code ?? 0;
      if (exit.reason !== 'budget') {
        io.stderr(`hyper6502: ${file}: ${exit.reason === 'fault' ? `emulator error: ${exit.error?.message}` : `stopped (${exit.reason}) at $${hex(exit.pc, 4)}`}\n`);
        return 127;
      }
      await new Promise((r) => setImmediate(r)); // let the terminal's input arrive
    }
  } finally {
    if (stdin && typeof stdin !== 'string') stdin.pause();
  }
  if (values.stats) io.stderr(statsLine('max-cycles', machine.cpu, (performance.now() - t0) / 1000) + '\n');
  return 0;
}

async function runRaw(file: string, image: Uint8Array, values: Values, maxCycles: number, io: CliIo): Promise<number> {
  const raw = rawProgram(file, image, values, io);
  if (!raw) return 1;
  const { cpu: model, load, start } = raw;
  image = raw.image;

  const core = await CoreMemory.create();
  const cpu = core.cpu(0, model as CpuModel);
  cpu.ram.set(image, load);
  cpu.pc = start ?? cpu.ram[0xfffc] | (cpu.ram[0xfffd] << 8);
  cpu.stopOnSelfLoop = values['stop-on-self-loop'] ?? false;

  const t0 = performance.now();
  let reason: ExitReason;
  for (;;) {
    const left = maxCycles - cpu.cycles;
    if (left <= 0) {
      reason = ExitReason.Budget;
      break;
    }
    if (values.trace) io.stderr(traceLine(cpu) + '\n');
    reason = cpu.run(values.trace ? 1 : Math.min(left, 1_000_000));
    if (reason !== ExitReason.Budget) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  if (values.stats) io.stderr(statsLine(reason === ExitReason.Budget ? 'max-cycles' : EXIT_NAMES[reason], cpu, seconds) + '\n');
  return 0;
}

function statsLine(reason: string, cpu: Cpu, seconds: number): string {
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
  });
}
