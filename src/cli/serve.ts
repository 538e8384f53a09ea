// `hyper6502 serve`: serves the demo page (dist/demo) on localhost.
//
// How to drive this: `npm start`, or `hyper6502 serve [--port N] [--host H]`;
// `startServer()` for tests. Any static server works as well: the page is
// plain files.

import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { extname, join, normalize, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError, parseNumber } from './args.js';
import type { CliIo } from './run.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
  '.json': 'application/json',
  '.s': 'text/plain; charset=utf-8',
  '.c': 'text/plain; charset=utf-8',
  '.prg': 'application/octet-stream',
};

export const DEMO_DIR = fileURLToPath(new URL('../../dist/demo/', import.meta.url));

export function startServer(options: { port?: number; host?: string; dir?: string } = {}): Promise<{ server: Server; url: string }> {
  const dir = options.dir ?? DEMO_DIR;
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(dir, path.endsWith('/') ? path + 'index.html' : path));
    if (!file.startsWith(normalize(dir + sep)) && file !== normalize(dir)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
      res.end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
    }
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => {
      const a = server.address();
      const port = typeof a === 'object' && a ? a.port : options.port;
      resolve({ server, url: `http://${options.host ?? '127.0.0.1'}:${port}/` });
    });
  });
}

export async function serveCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options: { port: { type: 'string' }, host: { type: 'string' } } });
  if (positionals.length) throw new UsageError(`serve takes no arguments (got ${positionals[0]})`);
  const port = values.port === undefined ? 8080 : parseNumber(values.port, '--port', 65535);
  let started;
  try {
    started = await startServer({ port, host: values.host });
  } catch (err) {
    throw new UsageError(`cannot listen on port ${port}: ${(err as Error).message}`);
  }
  io.stdout(`hyper6502 demo: ${started.url} (Ctrl-C to stop)\n`);
  // Serves until the process is stopped (Ctrl-C).
  await new Promise<void>((resolve) => io.signal?.addEventListener('abort', () => resolve(), { once: true }));
  await new Promise((resolve) => started.server.close(resolve));
  return 0;
}
