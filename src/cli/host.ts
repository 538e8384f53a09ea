// `hyper6502 host`: runs a Hypervisor as a long-lived host serving the HTTP
// API of src/host/ (create, run, snapshot, migrate VMs; consoles; metrics).
//
// How to drive this: `hyper6502 host [--listen HOST:PORT | --socket PATH]
// [--token-file FILE] [--workers N] [--max-vms N] [--max-body BYTES]`; it
// prints the token when it made one, then `listening on URL`, and serves
// until SIGINT or SIGTERM. `hyper6502 ctl` is its client.

import { UsageError, parseNumber, parseOptions } from './args.js';
import type { CliIo } from './run.js';
import { startHost, parseListen, isLoopback } from '../host/server.js';
import { readTokenFile } from '../host/auth.js';

export const HOST_USAGE = `Usage: hyper6502 host [--listen HOST:PORT | --socket PATH] [--token-file FILE] [--workers N]
                      [--max-vms N] [--max-body BYTES]

Runs a hypervisor as a host and serves its API (docs: src/host/openapi.json)
on 127.0.0.1:6502, another HOST:PORT (port 0: one the system picks) or a Unix
socket. Every request needs the token: Authorization: Bearer TOKEN. Without
--token-file a new token is made and printed once. Stops on Ctrl-C or SIGTERM.

  --workers N       worker threads for the VMs (default: one per core)
  --max-vms N       VMs at most (default 1000)
  --max-body BYTES  the largest spec, snapshot or migration round taken (default 40 MiB)
  -h, --help        this text`;

export async function hostCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions('host', argv, {
    listen: { type: 'string' },
    socket: { type: 'string' },
    'token-file': { type: 'string' },
    workers: { type: 'string' },
    'max-vms': { type: 'string' },
    'max-body': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout(HOST_USAGE + '\n');
    return 0;
  }
  if (positionals.length) throw new UsageError(`host takes no arguments (got ${positionals[0]})`);
  const workers = values.workers === undefined ? undefined : parseNumber(values.workers, '--workers', 256);
  const maxVms = values['max-vms'] === undefined ? undefined : parseNumber(values['max-vms'], '--max-vms', 1_000_000);
  const maxBody = values['max-body'] === undefined ? undefined : parseNumber(values['max-body'], '--max-body', 2 ** 31);
  if (values.listen !== undefined && values.socket !== undefined) throw new UsageError('host listens on --listen or on --socket, not both');
  if (values.listen !== undefined) {
    let host: string;
    try {
      host = parseListen(values.listen).host;
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (!isLoopback(host)) io.stderr(`hyper6502 host: listening on ${host}, beyond this machine: anyone who can reach it and has the token controls its VMs\n`);
  }
  let token: string | undefined;
  if (values['token-file'] !== undefined) {
    try {
      token = await readTokenFile(values['token-file']);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  let host;
  try {
    host = await startHost({ listen: values.listen, socket: values.socket, token, workers, maxVms, maxBody });
  } catch (err) {
    throw new UsageError(`cannot start the host: ${(err as Error).message}`);
  }
  if (token === undefined) io.stdout(`token: ${host.token}\n`);
  io.stdout(`listening on ${host.url}\n`);
  await new Promise<void>((resolve) => {
    io.signal?.addEventListener('abort', () => resolve(), { once: true });
    process.once('SIGTERM', () => resolve());
  });
  await host.close();
  return 0;
}
