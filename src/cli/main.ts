#!/usr/bin/env node
// The `hyper6502` command line.
//
// How to drive this: `hyper6502 <command> [options]`; `hyper6502 --help`.
// Every error in the user's input ends in one line on stderr and exit code 2;
// a failure of the emulator itself in exit code 1.

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runCommand, RUN_USAGE, type CliIo } from './run.js';
import { disasmCommand, DISASM_USAGE } from './disasm.js';
import { asmCommand, ASM_USAGE } from './asm.js';
import { linkCommand, LINK_USAGE } from './link.js';
import { benchCommand, BENCH_USAGE } from './vms.js';
import { serveCommand, SERVE_USAGE } from './serve.js';
import { machinesCommand, MACHINES_USAGE } from './machines.js';
import { monitorCommand, MONITOR_USAGE } from './monitor.js';
import { dapCommand, DAP_USAGE } from './dap.js';
import { hostCommand, HOST_USAGE } from './host.js';
import { ctlCommand, CTL_USAGE } from './ctl.js';
import { UsageError, packageVersion } from './args.js';

interface Command {
  /** One line for the list of commands. */
  summary: string;
  /** What `hyper6502 COMMAND --help` and `hyper6502 help COMMAND` print. */
  usage: string;
  run(argv: string[], io: CliIo): number | Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  run: { summary: 'run a program on a machine: a cc65 sim65 program, a raw binary,\nor BASIC, Forth, a monitor on its machine', usage: RUN_USAGE, run: runCommand },
  machines: { summary: 'the built-in machines and their memory maps', usage: MACHINES_USAGE, run: machinesCommand },
  disasm: { summary: 'list the instructions of a program', usage: DISASM_USAGE, run: disasmCommand },
  asm: { summary: 'assemble a 6502/65C02 source, ca65 syntax', usage: ASM_USAGE, run: asmCommand },
  link: { summary: 'link object files by an ld65 config', usage: LINK_USAGE, run: linkCommand },
  monitor: { summary: 'a machine-language monitor on a program', usage: MONITOR_USAGE, run: monitorCommand },
  dap: { summary: 'a debug adapter (DAP) for editors', usage: DAP_USAGE, run: dapCommand },
  bench: { summary: 'emulated MHz of a pool of VMs', usage: BENCH_USAGE, run: benchCommand },
  serve: { summary: 'serve the demo page (or a folder) on localhost', usage: SERVE_USAGE, run: serveCommand },
  host: { summary: 'run VMs as a host, with an HTTP API', usage: HOST_USAGE, run: hostCommand },
  ctl: { summary: 'drive a host: create, start, console, snapshot, migrate', usage: CTL_USAGE, run: ctlCommand },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).flatMap(([name, c]) => c.summary.split('\n').map((line, i) => `  ${(i === 0 ? name : '').padEnd(12)}${line}`));
  return `Usage: hyper6502 <command> [options]

Commands:
${lines.join('\n')}

Options:
  -h, --help    this text; hyper6502 help COMMAND (or COMMAND --help) for a command's
  -V, --version the version`;
}

function unknownCommand(name: string): UsageError {
  return new UsageError(`unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(', ')}; hyper6502 --help says more)`);
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
        io.stderr(usage() + '\n');
        return 2;
      case '--help':
      case '-h':
      case 'help': {
        if (command === 'help' && rest.length > 1) throw new UsageError(`help takes one COMMAND, got ${rest.join(' ')}`);
        const topic = command === 'help' ? rest[0] : undefined;
        if (topic === undefined) io.stdout(usage() + '\n');
        else if (Object.hasOwn(COMMANDS, topic)) io.stdout(COMMANDS[topic].usage + '\n');
        else throw unknownCommand(topic);
        return 0;
      }
      case '--version':
      case '-V':
      case '-v':
        io.stdout(`hyper6502 ${packageVersion()}\n`);
        return 0;
      default:
        if (!Object.hasOwn(COMMANDS, command)) throw command.startsWith('-') ? new UsageError(`unknown option ${command} (hyper6502 --help lists the commands)`) : unknownCommand(command);
        return await COMMANDS[command].run(rest, io);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`hyper6502: ${err.message}\n`);
      return 2;
    }
    io.stderr(`hyper6502: internal error: ${(err as Error).message ?? err}\n`);
    return 1;
  }
}

/** Run as a program (node main.js, the bin link, npx), wherever it is installed: compared as paths, never as URL text. */
function isEntry(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(fileURLToPath(import.meta.url)) === realpathSync(process.argv[1]);
  } catch {
    return false;
  }
}

// No top-level await: the command line is also bundled as one CommonJS file (scripts/build-cli.ts).
if (isEntry()) {
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
