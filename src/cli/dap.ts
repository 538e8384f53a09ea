// `hyper6502 dap [--port N]`: the Debug Adapter Protocol server
// (src/dap/adapter.ts) on stdin and stdout, or on a TCP port of the loopback
// interface, one client at a time (as editors start it in server mode).
//
// How to drive this: `await dapCommand(argv, io)` with argv after "dap";
// on stdio it returns when the client closes stdin.

import { createServer } from 'node:net';
import type { Readable } from 'node:stream';
import { UsageError, parseNumber, parseOptions } from './args.js';
import type { CliIo } from './run.js';
import { serveDap } from '../dap/adapter.js';

export const DAP_USAGE = `Usage: hyper6502 dap [--port N]

Speaks the Debug Adapter Protocol on stdin and stdout (or, with --port, to
clients connecting to 127.0.0.1:N), for VS Code and other editors. Launch
arguments: program, dbgfile, labels, machine, cpu, load, start, args,
stopOnEntry, input, sourceRoot, history.

Options:
  --port N      serve clients on 127.0.0.1:N instead of stdin and stdout
  -h, --help    this text`;

export async function dapCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions('dap', argv, { port: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    io.stdout(DAP_USAGE + '\n');
    return 0;
  }
  if (positionals.length) throw new UsageError(`dap takes no arguments (got ${positionals[0]}): the client says what to launch`);
  if (values.port !== undefined) {
    const port = parseNumber(values.port, '--port', 65535);
    const server = createServer((socket) => serveDap(socket, socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new UsageError(`--port ${port}: ${err.message}`)));
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    io.stderr(`hyper6502 dap: listening on 127.0.0.1:${typeof address === 'object' && address ? address.port : port}\n`);
    await new Promise<void>((resolve) => {
      server.on('close', resolve);
      io.signal?.addEventListener('abort', () => server.close());
    });
    return 0;
  }
  const stdin = io.stdin;
  if (!stdin || typeof stdin === 'string') throw new UsageError('dap needs a client on stdin (or --port)');
  serveDap(stdin as Readable, io.stdoutStream ?? process.stdout);
  await new Promise<void>((resolve) => (stdin as Readable).on('end', resolve).on('close', resolve));
  return 0;
}
