#!/usr/bin/env node
// The `hyper6502` command line.
//
// How to drive this: `hyper6502 <command> [options]`; `hyper6502 --help`.
// Every error in the user's input ends in one line on stderr and exit code 2;
// a failure of the emulator itself in exit code 1.

import { readFileSync, realpathSync } from 'node:fs';
import { runCommand, type CliIo } from './run.js';
import { disasmCommand } from './disasm.js';
import { asmCommand } from './asm.js';
import { linkCommand } from './link.js';
import { benchCommand } from './vms.js';
import { serveCommand } from './serve.js';
import { machinesCommand } from './machines.js';
import { monitorCommand } from './monitor.js';
import { dapCommand } from './dap.js';
import { UsageError } from './args.js';

const USAGE = `Usage: hyper6502 <command> [options]

Commands:
  run FILE      run a program on a machine: a cc65 sim65 program, a raw binary,
                or BASIC, Forth, a monitor on its machine (hyper6502 run --help)
  machines      the built-in machines and their memory maps
  disasm FILE   list the instructions of a program (hyper6502 disasm --help)
  asm FILE      assemble a 6502/65C02 source, ca65 syntax (hyper6502 asm --help)
  link OBJ...   link object files by an ld65 config (hyper6502 link --help)
  monitor FILE  a machine-language monitor on a program (hyper6502 monitor --help)
  dap           a debug adapter (DAP) for editors (hyper6502 dap --help)
  bench         emulated MHz of a pool of VMs (hyper6502 bench --help)
  serve         serve the demo page on localhost (npm start)

Options:
  --help        this text
  --version     the version`;

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run':
        return await runCommand(rest, io);
      case 'disasm':
        return await disasmCommand(rest, io);
      case 'asm':
        return await asmCommand(rest, io);
      case 'link':
        return await linkCommand(rest, io);
      case 'bench':
        return await benchCommand(rest, io);
      case 'serve':
        return await serveCommand(rest, io);
      case 'machines':
        return machinesCommand(rest, io);
      case 'monitor':
        return await monitorCommand(rest, io);
      case 'dap':
        return await dapCommand(rest, io);
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.stdout(USAGE + '\n');
        return command === undefined ? 2 : 0;
      case '--version':
      case '-v': {
        const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
        io.stdout(`hyper6502 ${pkg.version}\n`);
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${command}" (commands: run, machines, monitor, dap, disasm, asm, link, bench, serve)`);
    }
  } catch (err) {
    if (err instanceof UsageError || isParseArgsError(err)) {
      io.stderr(`hyper6502: ${(err as Error).message}\n`);
      return 2;
    }
    io.stderr(`hyper6502: internal error: ${(err as Error).message ?? err}\n`);
    return 1;
  }
}

function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

// No top-level await: the command line is also bundled as one CommonJS file (scripts/build-cli.ts).
const isEntry = process.argv[1] && new URL(import.meta.url).pathname === realpathSync(process.argv[1]);
if (isEntry) {
  // A reader that goes away (`hyper6502 run prog | head`) ends the output quietly, as other tools do.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  // Ctrl-C (when the terminal is not raw) ends a run cleanly: its --stats are still printed.
  const interrupt = new AbortController();
  process.on('SIGINT', () => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort();
  });
  void main(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    stdin: process.stdin,
    stdoutStream: process.stdout,
    signal: interrupt.signal,
  }).then((code) => {
    process.exitCode = code;
    // Nothing of ours keeps running: stdin may still be open (a terminal), so leave.
    process.stdout.write('', () => process.exit(code));
  });
}
