// Running a machine from Node with its console on streams: the command
// line's `run`, and `runSim65` for cc65 programs.
//
// How to drive this:
//   const r = await runMachine({ machine: 'py65', program: ehbasic, load: 0xc000 }, {
//     stdin: process.stdin, stdout: process.stdout,     // a TTY is put in raw mode
//   });
//   r.reason                               // 'exit', 'eof', 'quit', 'max-cycles', or the exit that ended it
//   const s = await runSim65(readFileSync('prog.prg'), { args: ['a'], stdin: process.stdin, stdout: process.stdout });
//   s.exitCode                             // the guest's exit status, or null if it did not exit
//
// Input waits for the guest, never dropped: the stream is paused while the
// console holds more than HIGH_WATER bytes, and resumed as the guest reads.
// Output respects the stream's backpressure. When stdin ends, the run ends
// cleanly ('eof') once the guest has read everything and waits for more. On
// a TTY, keys go to the guest as typed (Ctrl-C too); Ctrl-A x leaves
// ('quit'), Ctrl-A Ctrl-A types a Ctrl-A.

import type { Readable, Writable } from 'node:stream';
import { Machine, type MachineExit } from '../machine/machine.js';
import { hostOutput, type MachineConsole } from '../machine/console.js';
import type { VmSpec } from '../machine/description.js';
import { SandboxFs } from './sandbox-fs.js';
import { disassemble, formatInstruction } from '../isa/disasm.js';
import type { Cpu } from '../core/cpu.js';

/** Input bytes the console may hold before the stream is paused. */
export const HIGH_WATER = 64 * 1024;
/** The key that, followed by x, leaves a run on a TTY (Ctrl-A, as in QEMU). */
export const ESCAPE_KEY = 0x01;

export interface RunMachineOptions {
  /** The guest's keyboard: a stream (a TTY is put in raw mode), a string or bytes (then its end). */
  stdin?: Readable | string | Uint8Array;
  /** The guest's screen: a stream or a callback. */
  stdout?: Writable | ((bytes: Uint8Array) => void);
  /** Where a sim65 program's stderr goes (default: with stdout). */
  stderr?: Writable | ((bytes: Uint8Array) => void);
  /** A directory a sim65 program may open files in; without it the guest has only stdio. */
  fsRoot?: string;
  /** Bytes the guest's files under fsRoot may grow by in this run (default DEFAULT_FS_QUOTA, 64 MiB). */
  fsQuota?: number;
  /** Stop after this many cycles (reason 'max-cycles'). */
  maxCycles?: number;
  /** Run in real time at this clock rate, in Hz. */
  clockHz?: number;
  /** Called before each instruction with one trace line (slow). */
  trace?: (line: string) => void;
  /** Ends the run from outside (reason 'quit'): e.g. on SIGINT. */
  signal?: AbortSignal;
  /** Treat stdin and stdout as a terminal (default: whether they are TTYs). */
  terminal?: boolean;
}

export interface RunMachineResult {
  /** 'exit', 'eof' (stdin ended and the guest waits for more), 'quit' (Ctrl-A x), 'interrupted' (the signal), 'max-cycles', or the exit that ended the run. */
  reason: string;
  /** The guest's exit status when it powered off, else null. */
  exitCode: number | null;
  exit: MachineExit;
  cycles: number;
  instructions: number;
  seconds: number;
  machine: Machine;
}

/** Builds the machine of `spec` and runs it with its console on the given streams. */
export async function runMachine(spec: VmSpec, options: RunMachineOptions = {}): Promise<RunMachineResult> {
  const services: Record<string, unknown> = {};
  if (options.fsRoot !== undefined) services.fs = new SandboxFs(options.fsRoot, { quota: options.fsQuota });
  if (options.stderr) services.stderr = toSink(options.stderr).write;
  const machine = await Machine.create(spec, { services });
  return runOn(machine, options);
}

/** Runs a built machine with its console on the given streams. */
export async function runOn(machine: Machine, options: RunMachineOptions = {}): Promise<RunMachineResult> {
  const cpu = machine.cpu;
  const console = machine.console;
  const interactive = machine.spec?.console !== undefined && machine.spec.devices?.every((d) => d.type !== 'sim65');
  const stdinTty = isTty(options.stdin);
  const terminal = options.terminal ?? (stdinTty && isTty(options.stdout));
  const out = toSink(options.stdout);
  const outState = { lastCr: false, held: false };
  const crIsNewline = console.options.crIsNewline;
  console.sink = (bytes) => out.write(hostOutput(bytes, { mode: terminal ? 'tty' : 'file', crIsNewline }, outState));
  const input = new InputFeeder(console, options.stdin, !interactive ? 'stream' : stdinTty ? 'keys' : 'lines');
  input.step(false, machine);
  const maxCycles = options.maxCycles ?? Infinity;
  const clock = options.clockHz;
  const t0 = performance.now();
  const start = { cycles: cpu.cycles, ms: t0 };
  let lastYield = t0;
  const done = (reason: string, exit: MachineExit): RunMachineResult => ({
    reason,
    exitCode: machine.exitCode,
    exit,
    cycles: cpu.cycles,
    instructions: cpu.instructions,
    seconds: (performance.now() - t0) / 1000,
    machine,
  });
  const here = (): MachineExit => ({ reason: 'budget', pc: cpu.pc, cycles: cpu.cycles });
  const waitFor = (p: Promise<void>) => Promise.race([p, options.signal ? aborted(options.signal) : p]);
  try {
    for (;;) {
      if (input.quit) return done('quit', here());
      if (options.signal?.aborted) return done('interrupted', here());
      const left = maxCycles - cpu.cycles;
      if (left <= 0) return done('max-cycles', here());
      let budget = Math.min(left, options.trace ? 1 : 1_000_000);
      if (clock) {
        const due = start.cycles + ((performance.now() - start.ms) / 1000) * clock - cpu.cycles;
        if (due < 1) {
          await Promise.race([sleep(Math.min(20, ((1 - due) / clock) * 1000 + 1)), input.arrival()]);
          continue;
        }
        budget = Math.min(budget, Math.ceil(due));
      }
      if (options.trace) options.trace(traceLine(cpu));
      const exit = machine.run(budget, { idle: clock ? 'advance' : 'stop' });
      const typed = input.step(exit.reason === 'wait', machine);
      if (out.full) await out.drained();
      switch (exit.reason) {
        case 'budget':
          if (performance.now() - lastYield > 20) {
            await new Promise((r) => setImmediate(r)); // let output drain, input and signals arrive
            lastYield = performance.now();
          }
          continue;
        case 'idle':
          // It waits for input, changing nothing: for more input, unless a device event will wake it first.
          if (typed || console.waiting > 0) continue;
          if (console.inputClosed) return done('eof', exit);
          await waitFor(input.arrival());
          lastYield = performance.now();
          continue;
        case 'wait': // a hypercall waits for input
          if (console.waiting === 0 && !console.inputClosed) await waitFor(input.arrival());
          lastYield = performance.now();
          continue;
        case 'exit':
          return done('exit', exit);
        default:
          return done(exit.reason, exit);
      }
    }
  } finally {
    input.close();
    if (outState.held) out.write(Uint8Array.of(0x0d));
    console.sink = undefined;
  }
}

// ---- cc65 programs -----------------------------------------------------------------

export interface RunSim65Options extends Omit<RunMachineOptions, 'clockHz'> {
  /** The guest's argv[1..]. */
  args?: string[];
  /** argv[0] (default "program"). */
  name?: string;
  maxOpenFiles?: number;
}

export type RunSim65Result = RunMachineResult;

/** Runs a cc65 sim65 program (a Sim65FormatError names what is wrong with a bad file). */
export function runSim65(bytes: Uint8Array, options: RunSim65Options = {}): Promise<RunSim65Result> {
  const { args, name, maxOpenFiles, ...run } = options;
  return runMachine({ machine: 'sim65', program: bytes, args, name, options: maxOpenFiles ? { sim65: { maxOpenFiles } } : undefined }, { ...run, terminal: false });
}

/** One line of --trace: address, bytes, disassembly, registers, cycles. */
export function traceLine(cpu: Cpu): string {
  const ins = formatInstruction(disassemble(cpu.ram, cpu.pc, cpu.model)).padEnd(30);
  const p = cpu.p;
  const flags = 'NV-BDIZC'.split('').map((f, i) => (p & (0x80 >> i) ? f : f.toLowerCase())).join('');
  const h = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');
  return `${ins} A=${h(cpu.a)} X=${h(cpu.x)} Y=${h(cpu.y)} S=${h(cpu.s)} P=${flags} CYC=${cpu.cycles}`;
}

// ---- Streams -----------------------------------------------------------------------------

function isTty(s: unknown): boolean {
  return !!(s && typeof s === 'object' && (s as { isTTY?: boolean }).isTTY);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));
}

interface Sink {
  write(bytes: Uint8Array): void;
  /** The stream asked us to wait. */
  readonly full: boolean;
  drained(): Promise<void>;
}

function toSink(out: RunMachineOptions['stdout']): Sink {
  if (!out) return { write() {}, full: false, drained: async () => {} };
  if (typeof out === 'function') return { write: (b) => out(b), full: false, drained: async () => {} };
  let full = false;
  return {
    write(bytes) {
      if (bytes.length && !out.write(bytes)) full = true;
    },
    get full() {
      return full;
    },
    drained: () =>
      new Promise<void>((resolve) => {
        const go = () => {
          full = false;
          resolve();
        };
        if (!out.writableNeedDrain) return go();
        out.once('drain', go);
        out.once('close', go);
      }),
  };
}

/**
 * Feeds stdin to the console, in one of three ways:
 * - 'keys' (a terminal): keys go as they are typed;
 * - 'lines' (an interactive machine's console fed from a pipe, a file or a
 *   string): lines go one at a time, each once the guest waits for input
 *   (`guestWaits`), as a person types at a prompt: a guest that reads the
 *   keyboard while it runs (BASIC looking for Ctrl-C) then does not eat the
 *   lines meant for its next prompt. A guest whose wait is not seen still
 *   gets its next line when it has been quiet for QUIET_MS;
 * - 'stream' (a sim65 program's stdin): bytes go as the guest reads them.
 * The stream is paused while more than HIGH_WATER bytes are held.
 */
class InputFeeder {
  quit = false;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private ended = false;
  private wake: (() => void) | null = null;
  private stream?: Readable & { setRawMode?: (on: boolean) => void; isRaw?: boolean };
  private wasRaw?: boolean;
  private escape = false;
  private drainedAt = 0;
  private drainedCycle = 0;

  private readonly raw: boolean;

  constructor(
    private readonly console: MachineConsole,
    stdin: RunMachineOptions['stdin'],
    private readonly mode: 'keys' | 'lines' | 'stream',
  ) {
    this.raw = mode === 'keys';
    if (stdin === undefined) {
      this.ended = true;
      console.closeInput();
      return;
    }
    if (typeof stdin === 'string' || stdin instanceof Uint8Array) {
      this.add(typeof stdin === 'string' ? new TextEncoder().encode(stdin) : stdin);
      this.ended = true;
      return;
    }
    const stream = (this.stream = stdin as typeof this.stream & Readable);
    this.wasRaw = stream.isRaw;
    if (this.raw && stream.setRawMode) stream.setRawMode(true);
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('error', this.onEnd);
    stream.resume();
  }

  private onData = (chunk: Buffer | string) => {
    let bytes: Uint8Array = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.raw) {
      const keep: number[] = [];
      for (const b of bytes) {
        if (this.escape) {
          this.escape = false;
          if (b === 0x78 || b === 0x58) this.quit = true;
          else if (b === ESCAPE_KEY) keep.push(b);
        } else if (b === ESCAPE_KEY) this.escape = true;
        else keep.push(b);
      }
      if (keep.length) this.console.input(Uint8Array.from(keep));
    } else {
      this.add(bytes.slice());
      if (this.pendingBytes >= HIGH_WATER) this.stream!.pause();
    }
    this.arrived();
  };

  private onEnd = () => {
    this.ended = true;
    this.arrived();
  };

  private add(bytes: Uint8Array) {
    if (!bytes.length) return;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
  }

  private arrived() {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Resolves when more input (or its end, or a quit) comes. */
  arrival(): Promise<void> {
    return new Promise((r) => (this.wake = r));
  }

  /** Lines are waiting to be typed. */
  get holding(): boolean {
    return this.pendingBytes > 0;
  }

  /** The next line of what is held, when there is a whole one (or the rest, at the end). */
  private takeLine(): Uint8Array | null {
    const all = new Uint8Array(this.pendingBytes);
    let p = 0;
    for (const c of this.pending) {
      all.set(c, p);
      p += c.length;
    }
    let end = all.findIndex((b) => b === 0x0a || b === 0x0d);
    if (end < 0) {
      // No line end yet: wait for one, unless the input ended or a "line" fills the buffer.
      if (!this.ended && all.length < HIGH_WATER) return null;
      end = all.length - 1;
    } else if (all[end] === 0x0d && all[end + 1] === 0x0a) end++;
    else if (all[end] === 0x0d && end + 1 === all.length && !this.ended) return null; // an LF may follow
    const line = all.slice(0, end + 1);
    const rest = all.subarray(end + 1);
    this.pending = rest.length ? [rest] : [];
    this.pendingBytes = rest.length;
    return line;
  }

  /**
   * After a run: types the next line when it is time: the guest has read the
   * last one and has since been proven to wait for input (idle, or a
   * hypercall waiting).
   */
  step(hypercallWaits: boolean, machine?: Machine): boolean {
    const console = this.console;
    const before = console.consumed + console.waiting;
    if (this.mode === 'stream') {
      while (this.holding && console.waiting < HIGH_WATER) {
        const chunk = this.pending.shift()!;
        const room = HIGH_WATER - console.waiting;
        console.input(chunk.subarray(0, room));
        if (chunk.length > room) this.pending.unshift(chunk.subarray(room));
        this.pendingBytes -= Math.min(room, chunk.length);
      }
    } else this.typeLine(hypercallWaits, machine);
    if (this.stream?.isPaused() && this.pendingBytes < HIGH_WATER / 2 && !this.ended) this.stream.resume();
    if (this.ended && !this.holding && !console.inputClosed) console.closeInput();
    return console.consumed + console.waiting > before;
  }

  private typeLine(hypercallWaits: boolean, machine?: Machine) {
    const console = this.console;
    const cycles = machine?.cpu.cycles ?? 0;
    if (console.waiting > 0) {
      this.drainedAt = 0;
      return;
    }
    const now = performance.now();
    if (!this.drainedAt) {
      this.drainedAt = now;
      this.drainedCycle = cycles;
    }
    const waits = hypercallWaits || (machine !== undefined && machine.lastIdle >= this.drainedCycle);
    if (this.holding && (waits || now - this.drainedAt > QUIET_MS)) {
      const line = this.takeLine();
      if (line) {
        console.input(line);
        this.drainedAt = 0;
      }
    }
  }

  close() {
    const stream = this.stream;
    if (!stream) return;
    stream.off('data', this.onData);
    stream.off('end', this.onEnd);
    stream.off('error', this.onEnd);
    if (this.raw && stream.setRawMode) stream.setRawMode(!!this.wasRaw);
    stream.pause();
  }
}

/** Wall time a guest that is not seen waiting must be quiet before it gets the next line of piped input. */
const QUIET_MS = 2000;
