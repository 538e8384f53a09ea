// Host processes for tests and benches: `hyper6502 host` (the built CLI,
// dist/cli/main.js) started on a port the system picks, its token read from
// what it prints; every one started is killed when the process exits, and
// by stopHosts().
//
// How to drive this:
//   const a = await startHostProcess();           // { url, token, tokenFile, client, child }
//   await a.client.json('POST', '/vms', spec);
//   a.child.kill('SIGKILL');                      // a host that dies
//   await stopHosts();                            // in afterAll

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostClient } from '../../src/host/client.ts';

export const CLI = join(import.meta.dirname, '../../dist/cli/main.js');

export interface HostProcess {
  url: string;
  token: string;
  tokenFile: string;
  client: HostClient;
  child: ChildProcess;
  /** What it printed on stderr so far. */
  stderr(): string;
  /** Resolves when the process has ended. */
  exited: Promise<void>;
}

const running = new Set<ChildProcess>();
const dirs: string[] = [];
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A scratch folder, removed at stopHosts() (or exit). */
export function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hyper6502-host-'));
  dirs.push(dir);
  return dir;
}

export async function startHostProcess(args: string[] = []): Promise<HostProcess> {
  const listen = args.includes('--socket') ? [] : ['--listen', '127.0.0.1:0'];
  const child = spawn(process.execPath, [CLI, 'host', ...listen, '--workers', '1', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => (running.delete(child), resolve())));
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const ready = await new Promise<{ url: string; token?: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the host did not start in 30 s: ${out}${err}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const url = /^listening on (\S+)$/m.exec(out)?.[1];
      if (!url) return;
      clearTimeout(timer);
      resolve({ url, token: /^token: (\S+)$/m.exec(out)?.[1] });
    });
    child.once('exit', (code) => reject(new Error(`the host exited (${code}) before it listened: ${out}${err}`)));
  });
  const fileArg = args.indexOf('--token-file');
  const tokenFile = fileArg >= 0 ? args[fileArg + 1] : join(scratchDir(), 'token');
  const token = ready.token ?? (await import('node:fs')).readFileSync(tokenFile, 'utf8').trim();
  if (fileArg < 0) writeFileSync(tokenFile, token + '\n');
  return { url: ready.url, token, tokenFile, client: new HostClient(ready.url, token), child, stderr: () => err, exited };
}

/** Ends every host started (SIGTERM, then SIGKILL after 5 s) and removes the scratch folders. */
export async function stopHosts() {
  await Promise.all(
    [...running].map(
      (c) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
          c.once('exit', () => (clearTimeout(timer), resolve()));
          c.kill('SIGTERM');
        }),
    ),
  );
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}
