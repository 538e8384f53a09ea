// `hyper6502 ctl`: a thin client of a host's API (src/host/), so that no one
// has to write curl lines.
//
// How to drive this: `hyper6502 ctl [--host URL] [--token-file FILE] COMMAND
// [ARGS]` (hyper6502 ctl --help lists the commands); `ctlCommand(argv, io)`
// returns the exit code: 0, 1 when the host refused (its message on
// stderr), 2 for a mistake on the command line.

import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { UsageError, parseNumber, parseOptions } from './args.js';
import type { CliIo } from './run.js';
import { HostClient, HostApiError } from '../host/client.js';
import { readTokenFile } from '../host/auth.js';
import { readBoundedFile, readImages } from '../node/files.js';
import { specFromJson, specToJson } from '../machine/description.js';
import { ESCAPE_KEY } from '../node/run.js';

export const CTL_USAGE = `Usage: hyper6502 ctl [--host URL] [--token-file FILE] COMMAND

Drives a host (hyper6502 host) through its API. URL: http://HOST:PORT or
unix:/path/to.sock (default $HYPER6502_HOST or http://127.0.0.1:6502); the
token comes from --token-file or $HYPER6502_TOKEN.

Commands:
  list                         the VMs and their states (JSON)
  create SPEC.json             a VM from a spec (the JSON a createVm takes; { "file": ... }
                               images are read next to SPEC.json); prints its id
  start|pause|resume|reset|shutdown|destroy ID
  snapshot ID -o FILE          a paused VM's snapshot, to FILE
  restore FILE                 a new VM (paused) from a snapshot; prints its id
  console ID                   the VM's console on this terminal (Ctrl-A x leaves); from
                               a pipe, input goes in and output comes out until the
                               output has been quiet for --quiet-ms (default 300) after
                               the input ended
  metrics [ID] [--prometheus]  the host's metrics (or one VM's) as JSON, or in
                               Prometheus' text format
  migrate ID --to URL [--to-token-file FILE]
                               moves a running VM to the host at URL (its token from the
                               file, or this host's); prints one JSON line: id,
                               downtimeMs, totalMs, rounds, bytes, stopCopyMs, targetMs

  -h, --help                   this text`;

const OPTIONS = {
  host: { type: 'string' },
  'token-file': { type: 'string' },
  output: { type: 'string', short: 'o' },
  to: { type: 'string' },
  'to-token-file': { type: 'string' },
  prometheus: { type: 'boolean' },
  'quiet-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function token(file: string | undefined, what: string): Promise<string> {
  if (file !== undefined) {
    try {
      return await readTokenFile(file);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const env = process.env.HYPER6502_TOKEN?.trim();
  if (env) return env;
  throw new UsageError(`ctl needs ${what} token: --token-file FILE or $HYPER6502_TOKEN`);
}

export async function ctlCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions('ctl', argv, OPTIONS);
  if (values.help) {
    io.stdout(CTL_USAGE + '\n');
    return 0;
  }
  const [command, ...args] = positionals;
  if (!command) throw new UsageError('ctl needs a command (hyper6502 ctl --help)');
  const quiet = values['quiet-ms'] === undefined ? 300 : parseNumber(values['quiet-ms'], '--quiet-ms', 600_000);
  const want = (n: number, usage: string) => {
    if (args.length !== n) throw new UsageError(`usage: hyper6502 ctl ${command} ${usage}`);
  };
  let client: HostClient;
  try {
    client = new HostClient(values.host ?? process.env.HYPER6502_HOST ?? 'http://127.0.0.1:6502', await token(values['token-file'], 'the host'));
  } catch (err) {
    throw err instanceof UsageError ? err : new UsageError(`--host: ${(err as Error).message}`);
  }
  const vm = (id: string) => `/vms/${encodeURIComponent(id)}`;
  const line = (value: unknown) => io.stdout(JSON.stringify(value) + '\n');
  try {
    switch (command) {
      case 'list':
        want(0, '');
        line(await client.json('GET', '/vms'));
        return 0;
      case 'create': {
        want(1, 'SPEC.json');
        io.stdout((await client.json<{ id: string }>('POST', '/vms', await specFile(args[0]))).id + '\n');
        return 0;
      }
      case 'start':
      case 'pause':
      case 'resume':
      case 'reset':
      case 'shutdown':
        want(1, 'ID');
        await client.json('POST', `${vm(args[0])}/${command}`);
        return 0;
      case 'destroy':
        want(1, 'ID');
        await client.json('DELETE', vm(args[0]));
        return 0;
      case 'snapshot': {
        want(1, 'ID -o FILE');
        if (!values.output) throw new UsageError('usage: hyper6502 ctl snapshot ID -o FILE');
        await writeFile(values.output, await client.bytes('GET', `${vm(args[0])}/snapshot`));
        return 0;
      }
      case 'restore': {
        want(1, 'FILE');
        const bytes = await readBoundedFile(args[0], 2 ** 31, 'snapshot').catch((err: Error) => {
          throw new UsageError(err.message);
        });
        io.stdout(JSON.parse((await client.bytes('POST', '/vms/restore', bytes)).toString('utf8')).id + '\n');
        return 0;
      }
      case 'metrics': {
        if (args.length > 1) throw new UsageError('usage: hyper6502 ctl metrics [ID] [--prometheus]');
        if (values.prometheus) {
          if (args.length) throw new UsageError('--prometheus gives the whole host (no ID)');
          io.stdout((await client.bytes('GET', '/metrics/prometheus')).toString('utf8'));
        } else line(await client.json('GET', args.length ? `${vm(args[0])}/metrics` : '/metrics'));
        return 0;
      }
      case 'migrate': {
        want(1, 'ID --to URL [--to-token-file FILE]');
        if (!values.to) throw new UsageError('usage: hyper6502 ctl migrate ID --to URL [--to-token-file FILE]');
        const targetToken = values['to-token-file'] !== undefined ? await token(values['to-token-file'], 'the target') : await token(values['token-file'], 'the target');
        line(await client.json('POST', `${vm(args[0])}/migrate`, { to: values.to, token: targetToken }));
        return 0;
      }
      case 'console': {
        want(1, 'ID');
        return await attachConsole(client, args[0], io, quiet);
      }
      default:
        throw new UsageError(`ctl has no command "${command}" (list, create, start, pause, resume, reset, shutdown, destroy, snapshot, restore, console, metrics, migrate)`);
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    io.stderr(`hyper6502 ctl: ${err instanceof HostApiError ? `the host refused: ${err.message}` : (err as Error).message}\n`);
    return 1;
  }
}

/** A spec file as the host takes it: JSON with its { file } images read (relative to the file) and sent as { base64 }. */
async function specFile(path: string): Promise<string> {
  try {
    const text = new TextDecoder().decode(await readBoundedFile(path, 64 * 1024 * 1024, 'spec'));
    return specToJson(await readImages(specFromJson(text), dirname(resolve(path))));
  } catch (err) {
    throw new UsageError(`${path}: ${(err as Error).message}`);
  }
}

/** The console: output to stdout, stdin to the VM. On a terminal Ctrl-A x leaves; from a pipe, it leaves once the input is over and the output quiet. */
async function attachConsole(client: HostClient, id: string, io: CliIo, quietMs: number): Promise<number> {
  const ws = await client.socket(`/vms/${encodeURIComponent(id)}/console`);
  const stdin = io.stdin && typeof io.stdin !== 'string' ? (io.stdin as Readable & { isTTY?: boolean; setRawMode?: (on: boolean) => void }) : null;
  const raw = !!stdin?.isTTY && !!stdin.setRawMode;
  let quietTimer: ReturnType<typeof setTimeout> | null = null;
  let inputOver = !stdin;
  return new Promise<number>((done) => {
    let code = 0;
    const leave = () => {
      if (quietTimer) clearTimeout(quietTimer);
      if (raw) stdin!.setRawMode!(false);
      stdin?.pause();
      ws.close();
    };
    const quietly = () => {
      if (!inputOver) return;
      if (quietTimer) clearTimeout(quietTimer);
      quietTimer = setTimeout(leave, quietMs);
    };
    ws.on('message', (data: Buffer, binary: boolean) => {
      if (binary) {
        io.stdout(new Uint8Array(data));
        quietly();
        return;
      }
      const e = JSON.parse(data.toString('utf8')) as { event: string; [k: string]: unknown };
      if (e.event === 'state' && e.state !== 'running') io.stderr(`[hyper6502: VM ${id} is ${String(e.state)}${e.reason ? ` (${String(e.reason)})` : ''}]\n`);
      else if (e.event === 'dropped') io.stderr(`[hyper6502: ${String(e.bytes)} bytes of output were dropped]\n`);
      else if (e.event === 'input-refused') io.stderr(`[hyper6502: input refused: ${String(e.error)}]\n`);
      else if (e.event === 'migrated') io.stderr(`[hyper6502: VM ${id} moved to ${String(e.to)} as ${String(e.id)}]\n`);
      else if (e.event === 'destroyed') io.stderr(`[hyper6502: VM ${id} was destroyed]\n`);
    });
    ws.on('close', () => {
      leave();
      done(code);
    });
    ws.on('error', (err) => {
      io.stderr(`hyper6502 ctl: console: ${err.message}\n`);
      code = 1;
    });
    ws.resume();
    if (!stdin) return;
    if (raw) stdin.setRawMode!(true);
    let escape = false;
    stdin.on('data', (chunk: Buffer | string) => {
      let bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (raw) {
        const keep: number[] = [];
        for (const b of bytes) {
          if (escape) {
            escape = false;
            if (b === 0x78 /* x */) return leave();
            if (b === ESCAPE_KEY) keep.push(b);
            continue;
          }
          if (b === ESCAPE_KEY) escape = true;
          else keep.push(b);
        }
        bytes = Buffer.from(keep);
      }
      if (bytes.length && ws.readyState === 1) ws.send(bytes);
    });
    stdin.on('end', () => {
      inputOver = true;
      quietly();
    });
    stdin.resume();
  });
}
