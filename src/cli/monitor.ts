// `hyper6502 monitor [--machine NAME|FILE.json] [FILE]`: a machine-language
// monitor (src/debug/monitor.ts) on a program and its debug info.
//
// How to drive this: `await monitorCommand(argv, io)` with argv after
// "monitor". On a terminal it is interactive (line editing and history);
// with --commands FILE, or commands piped on stdin, it runs them one by one,
// echoing each after the prompt (a transcript), and ends after the last.

import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { UsageError, parseAddress, parseOptions } from './args.js';
import type { CliIo } from './run.js';
import { launchProgram, LaunchError } from '../debug/launch.js';
import { DebugSession } from '../debug/session.js';
import { Monitor } from '../debug/monitor.js';

export const MONITOR_USAGE = `Usage: hyper6502 monitor [options] [FILE [arguments...]]

A machine-language monitor with py65mon's commands and output (mem, fill,
assemble, disassemble, registers, goto, step, return, cycles, labels, radix,
load, save), VICE's (break/watch with conditions, until, next, trace,
history, backtrace) and stepping backwards (back, rcontinue). help lists
them all. FILE is a sim65 program, a binary or a .s source; its debug info
(FILE.dbg from ld65 --dbgfile, FILE.lbl from -Ln) is read when it is there.

Options:
  --machine NAME|FILE.json  the machine (default: sim65 for a sim65 program, else raw)
  --cpu 6502|65c02          CPU model
  --load ADDR               where FILE goes
  --start ADDR              start address (default: the reset vector)
  --dbgfile FILE            ld65 debug info
  --labels FILE             a label file (ld65 -Ln or VICE); more than one may be given
  --commands FILE           run the commands in FILE, then leave (piped stdin does the same)
  -h, --help                this text`;

const OPTIONS = {
  machine: { type: 'string' },
  cpu: { type: 'string' },
  load: { type: 'string' },
  start: { type: 'string' },
  dbgfile: { type: 'string' },
  labels: { type: 'string', multiple: true },
  commands: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function monitorCommand(argv: string[], io: CliIo): Promise<number> {
  const first = argv.findIndex((a, i) => !a.startsWith('-') && !(i > 0 && argv[i - 1].startsWith('--') && !argv[i - 1].includes('=') && argv[i - 1] !== '--help'));
  const ours = first >= 0 ? argv.slice(0, first) : argv;
  const { values } = parseOptions('monitor', ours, OPTIONS);
  if (values.help) {
    io.stdout(MONITOR_USAGE + '\n');
    return 0;
  }
  const program = first >= 0 ? argv[first] : undefined;
  let launched;
  try {
    launched = await launchProgram({
      program,
      args: first >= 0 ? argv.slice(first + 1) : [],
      machine: values.machine ?? (program ? undefined : 'raw'),
      cpu: values.cpu,
      load: values.load === undefined ? undefined : parseAddress(values.load, '--load'),
      start: values.start === undefined ? undefined : parseAddress(values.start, '--start'),
      dbgfile: values.dbgfile,
      labels: values.labels,
    });
  } catch (err) {
    if (err instanceof LaunchError) throw new UsageError(err.message);
    throw err;
  }
  const write = (text: string) => io.stdout(text);
  const session = new DebugSession(launched.machine, {
    symbols: launched.symbols,
    cStackPointer: launched.cStackPointer,
    output: (bytes) => io.stdout(bytes),
  });
  const monitor = new Monitor(session, {
    write,
    readFile: (p) => new Uint8Array(readFileSync(p)),
    writeFile: (p, bytes) => writeFileSync(p, bytes),
    yieldTurn: () => new Promise((r) => setImmediate(r)),
  });
  let script: string[] | undefined;
  if (values.commands !== undefined) {
    try {
      script = readFileSync(values.commands, 'utf8').split(/\r?\n/);
    } catch (err) {
      throw new UsageError(`cannot read ${values.commands}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
  }
  const stdin = typeof io.stdin === 'string' ? io.stdin : io.stdin;
  const tty = !script && typeof stdin !== 'string' && !!(stdin as Readable & { isTTY?: boolean })?.isTTY;
  if (!tty) {
    // Script mode: each command echoed after the prompt, as a transcript.
    const lines = script ?? (typeof stdin === 'string' ? stdin.split(/\r?\n/) : stdin ? await readAll(stdin) : []);
    while (lines.length && lines[lines.length - 1] === '') lines.pop();
    for (const line of lines) {
      write(`${monitor.prompt}${line}\n`);
      await monitor.run(line);
      if (monitor.done) break;
    }
    return 0;
  }
  const rl = createInterface({ input: stdin as Readable, output: io.stdoutStream ?? process.stdout, prompt: monitor.prompt, historySize: 500, terminal: true });
  rl.on('SIGINT', () => monitor.interrupt());
  write(`hyper6502 monitor: ${launched.description} (help lists the commands)\n`);
  rl.prompt();
  for await (const line of rl) {
    await monitor.run(line);
    if (monitor.done) break;
    rl.prompt();
  }
  rl.close();
  return 0;
}

async function readAll(stream: Readable): Promise<string[]> {
  let text = '';
  for await (const chunk of stream) text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  return text.split(/\r?\n/);
}
