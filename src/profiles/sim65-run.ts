// Running a cc65 sim65 program from Node, with streams or callbacks for its
// standard input and output.
//
// How to drive this:
//   const r = await runSim65(readFileSync('prog.prg'), {
//     args: ['a', 'b'],                    // argv[1..]; argv[0] is `name`
//     stdin: process.stdin,                // a Readable, a string, bytes, or an InputSource
//     stdout: (bytes) => process.stdout.write(bytes),
//     fsRoot: './sandbox',                 // optional: files the guest may use
//   });
//   r.exitCode                             // the guest's exit status, or null if it did not exit

import type { Readable, Writable } from 'node:stream';
import { Machine, type MachineExit } from '../machine/machine.js';
import { parseSim65, Sim65Host, sim65Description, type InputSource } from './sim65.js';
import { SandboxFs } from './sandbox-fs.js';
import { disassemble, formatInstruction } from '../isa/disasm.js';
import type { Cpu } from '../core/cpu.js';

export interface RunSim65Options {
  /** The guest's argv[1..]. */
  args?: string[];
  /** argv[0] (default "program"). */
  name?: string;
  stdin?: Readable | InputSource | string | Uint8Array;
  stdout?: Writable | ((bytes: Uint8Array) => void);
  stderr?: Writable | ((bytes: Uint8Array) => void);
  /** A directory the guest may open files in; without it the guest has only stdio. */
  fsRoot?: string;
  maxOpenFiles?: number;
  /** Stop after this many cycles (reason 'max-cycles'). */
  maxCycles?: number;
  /** Called before each instruction with one trace line (slow). */
  trace?: (line: string) => void;
}

export interface RunSim65Result {
  /** The guest's exit status when it exited, else null. */
  exitCode: number | null;
  /** 'exit', 'max-cycles', or the machine exit that ended the run ('jam', 'trap', 'fault', ...). */
  reason: string;
  exit: MachineExit;
  cycles: number;
  instructions: number;
  machine: Machine;
}

export async function runSim65(bytes: Uint8Array, options: RunSim65Options = {}): Promise<RunSim65Result> {
  const name = options.name ?? 'program';
  const program = parseSim65(bytes, name);
  const input = toInputSource(options.stdin);
  const host = new Sim65Host({
    args: [name, ...(options.args ?? [])],
    stdin: input.source,
    stdout: toSink(options.stdout),
    stderr: toSink(options.stderr),
    fs: options.fsRoot !== undefined ? new SandboxFs(options.fsRoot) : undefined,
    maxOpenFiles: options.maxOpenFiles,
  });
  const machine = await Machine.create(sim65Description(program, host));
  const cpu = machine.cpu;
  const maxCycles = options.maxCycles ?? Infinity;
  let lastYield = performance.now();
  try {
    for (;;) {
      const left = maxCycles - cpu.cycles;
      if (left <= 0) return result('max-cycles', machine, { reason: 'budget', pc: cpu.pc, cycles: cpu.cycles });
      if (options.trace) options.trace(traceLine(cpu));
      const exit = machine.run(options.trace ? 1 : Math.min(left, 1_000_000));
      if (exit.reason === 'budget') {
        if (performance.now() - lastYield > 50) {
          await new Promise((r) => setImmediate(r)); // let output drain and input arrive
          lastYield = performance.now();
        }
        continue;
      }
      if (exit.reason === 'wait') {
        await input.ready();
        lastYield = performance.now();
        continue;
      }
      return result(exit.reason, machine, exit);
    }
  } finally {
    host.closeAll();
    input.close();
  }
}

function result(reason: string, machine: Machine, exit: MachineExit): RunSim65Result {
  return { exitCode: machine.exitCode, reason, exit, cycles: machine.cpu.cycles, instructions: machine.cpu.instructions, machine };
}

/** One line of --trace: address, bytes, disassembly, registers, cycles. */
export function traceLine(cpu: Cpu): string {
  const ins = formatInstruction(disassemble(cpu.ram, cpu.pc, cpu.model)).padEnd(30);
  const p = cpu.p;
  const flags = 'NV-BDIZC'.split('').map((f, i) => (p & (0x80 >> i) ? f : f.toLowerCase())).join('');
  const h = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');
  return `${ins} A=${h(cpu.a)} X=${h(cpu.x)} Y=${h(cpu.y)} S=${h(cpu.s)} P=${flags} CYC=${cpu.cycles}`;
}

function toSink(out: RunSim65Options['stdout']): ((bytes: Uint8Array) => void) | undefined {
  if (!out) return undefined;
  if (typeof out === 'function') return out;
  return (bytes) => void out.write(bytes);
}

/** Adapts what the caller gave as stdin to the guest's InputSource, with a way to wait for more. */
function toInputSource(stdin: RunSim65Options['stdin']): { source: InputSource; ready: () => Promise<void>; close: () => void } {
  if (stdin === undefined) return { source: { read: () => null }, ready: async () => {}, close: () => {} };
  if (typeof stdin === 'string' || stdin instanceof Uint8Array) {
    let data = typeof stdin === 'string' ? new TextEncoder().encode(stdin) : stdin;
    return {
      source: {
        read(max) {
          if (data.length === 0) return null;
          const chunk = data.subarray(0, max);
          data = data.subarray(chunk.length);
          return chunk;
        },
      },
      ready: async () => {},
      close: () => {},
    };
  }
  if ('read' in stdin && typeof (stdin as InputSource).read === 'function' && !('on' in stdin)) {
    return { source: stdin as InputSource, ready: () => new Promise((r) => setTimeout(r, 10)), close: () => {} };
  }
  const stream = stdin as Readable;
  const chunks: Uint8Array[] = [];
  let ended = false;
  let wake: (() => void) | null = null;
  const onData = (chunk: Buffer | string) => {
    chunks.push(typeof chunk === 'string' ? new TextEncoder().encode(chunk) : new Uint8Array(chunk));
    wake?.();
  };
  const onEnd = () => {
    ended = true;
    wake?.();
  };
  stream.on('data', onData);
  stream.on('end', onEnd);
  stream.on('error', onEnd);
  return {
    source: {
      read(max) {
        if (chunks.length === 0) return ended ? null : undefined;
        const first = chunks[0];
        const take = first.subarray(0, max);
        if (take.length === first.length) chunks.shift();
        else chunks[0] = first.subarray(take.length);
        return take;
      },
    },
    ready: () =>
      new Promise<void>((resolve) => {
        if (chunks.length || ended) return resolve();
        wake = () => {
          wake = null;
          resolve();
        };
      }),
    close: () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onEnd);
      stream.pause();
    },
  };
}
