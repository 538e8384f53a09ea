// `hyper6502 serve [DIR]`: serves the demo page (dist/demo), or any folder of
// static files, on localhost: compressed (brotli or gzip, as the browser
// accepts), with ETags so that a reload asks "changed?" and gets 304, and an
// answer for every request (a malformed one gets 400, never a crash).
//
// How to drive this: `npm start`, or `hyper6502 serve [DIR] [--port N]
// [--host H]`; `startServer({ port, host, dir })` for tests. Any static
// server works as well: the page is plain files.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createReadStream, existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { extname, join, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, gzip, constants as zlib } from 'node:zlib';
import { UsageError, parseNumber, parseOptions } from './args.js';
import type { CliIo } from './run.js';

export const SERVE_USAGE = `Usage: hyper6502 serve [DIR] [--port N] [--host H]

Serves the demo page (built by npm run build in a clone of the project; the
package does not ship it), or the static files of DIR, on http://127.0.0.1:8080/.
Files go out compressed (brotli or gzip) with an ETag, so that a reload costs a
304; Ctrl-C stops the server.

Options:
  --port N      the port (default 8080; 0: any free port)
  --host H      the address to listen on (default 127.0.0.1; 0.0.0.0: every interface)
  -h, --help    this text`;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
  '.s': 'text/plain; charset=utf-8',
  '.c': 'text/plain; charset=utf-8',
  '.prg': 'application/octet-stream',
  '.bin': 'application/octet-stream',
};
const COMPRESSIBLE = /^(text\/|application\/(json|wasm)|image\/svg)/;
/** Files up to this size are read, compressed once and kept; larger ones go out as they are. */
const CACHED_MAX = 32 * 1024 * 1024;

export const DEMO_DIR = fileURLToPath(new URL('../../dist/demo/', import.meta.url));

interface Entry {
  mtimeMs: number;
  size: number;
  body: Buffer;
  hash: string;
  encoded: Map<string, Promise<Buffer>>;
}

const compressors: Record<string, (b: Buffer) => Promise<Buffer>> = {
  br: (b) => promisify(brotliCompress)(b, { params: { [zlib.BROTLI_PARAM_QUALITY]: 9, [zlib.BROTLI_PARAM_SIZE_HINT]: b.length } }),
  gzip: (b) => promisify(gzip)(b, { level: 9 }),
};

/** The encoding to send: brotli, else gzip, as far as Accept-Encoding allows (q=0 refuses one). */
export function chooseEncoding(accept: string | undefined): 'br' | 'gzip' | null {
  const q = new Map<string, number>();
  for (const part of (accept ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    q.set(name, qp ? Number(qp.slice(2)) || 0 : 1);
  }
  const allowed = (e: string) => (q.get(e) ?? q.get('*') ?? 0) > 0;
  return allowed('br') ? 'br' : allowed('gzip') ? 'gzip' : null;
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

class BadRequest extends Error {}

export function startServer(options: { port?: number; host?: string; dir?: string } = {}): Promise<{ server: Server; url: string }> {
  const root = resolve(options.dir ?? DEMO_DIR);
  const cache = new Map<string, Entry>();

  async function entryOf(file: string, info: { mtimeMs: number; size: number }): Promise<Entry> {
    const known = cache.get(file);
    if (known && known.mtimeMs === info.mtimeMs && known.size === info.size) return known;
    const body = await readFile(file);
    const entry = { mtimeMs: info.mtimeMs, size: info.size, body, hash: createHash('sha256').update(body).digest('base64url').slice(0, 22), encoded: new Map() };
    cache.set(file, entry);
    return entry;
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('only GET and HEAD\n');
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      throw new BadRequest(`a malformed path: ${req.url}`);
    }
    if (path.includes('\0')) throw new BadRequest('a NUL in the path');
    const file = resolve(root, '.' + (path.endsWith('/') ? path + 'index.html' : path));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end('forbidden\n');
      return;
    }
    const info = await stat(file).catch(() => null);
    if (info?.isDirectory()) {
      res.writeHead(301, { location: encodeURI(path + '/') }).end();
      return;
    }
    if (!info?.isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found: ${path}\n`);
      return;
    }
    const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    const headers: Record<string, string | number> = { 'content-type': type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' };
    if (info.size > CACHED_MAX) {
      res.writeHead(200, { ...headers, 'content-length': info.size });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).on('error', () => res.destroy()).pipe(res);
      return;
    }
    const entry = await entryOf(file, info);
    const compressible = COMPRESSIBLE.test(type) && entry.body.length > 1024;
    const encoding = compressible ? chooseEncoding(req.headers['accept-encoding']) : null;
    const etag = `"${entry.hash}${encoding ? `-${encoding}` : ''}"`;
    Object.assign(headers, { etag }, compressible ? { vary: 'Accept-Encoding' } : {});
    if (etagMatches(req.headers['if-none-match'], etag)) {
      res.writeHead(304, headers).end();
      return;
    }
    let body = entry.body;
    if (encoding) {
      if (!entry.encoded.has(encoding)) entry.encoded.set(encoding, compressors[encoding](entry.body));
      body = await entry.encoded.get(encoding)!;
      headers['content-encoding'] = encoding;
    }
    res.writeHead(200, { ...headers, 'content-length': body.length }).end(req.method === 'HEAD' ? undefined : body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      const status = err instanceof BadRequest ? 400 : 500;
      if (!res.headersSent) res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${status === 400 ? 'bad request' : 'server error'}: ${(err as Error).message}\n`);
      else res.destroy();
    });
  });
  // A request Node cannot even parse: answer it, and keep serving.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  return new Promise((resolveStart, reject) => {
    server.on('error', reject);
    server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => {
      const a = server.address();
      const port = typeof a === 'object' && a ? a.port : options.port;
      const host = options.host ?? '127.0.0.1';
      resolveStart({ server, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/` });
    });
  });
}

export async function serveCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions('serve', argv, { port: { type: 'string' }, host: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    io.stdout(SERVE_USAGE + '\n');
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`serve takes one DIR, got ${positionals.join(' ')}`);
  const dir = positionals[0];
  if (dir === undefined && !existsSync(join(DEMO_DIR, 'index.html'))) {
    throw new UsageError('the demo page is not built here (the package does not ship it: run npm start in a clone of hyper6502), or give a DIR to serve');
  }
  if (dir !== undefined) {
    const info = await stat(dir).catch(() => null);
    if (!info?.isDirectory()) throw new UsageError(`serve: ${dir} is not a folder`);
  }
  const port = values.port === undefined ? 8080 : parseNumber(values.port, '--port', 65535);
  let started;
  try {
    started = await startServer({ port, host: values.host, dir });
  } catch (err) {
    throw new UsageError(`cannot listen on ${values.host ?? '127.0.0.1'} port ${port}: ${(err as Error).message}`);
  }
  io.stdout(`hyper6502 ${dir === undefined ? 'demo' : `serving ${dir}`}: ${started.url} (Ctrl-C to stop)\n`);
  // Serves until the process is stopped (Ctrl-C).
  await new Promise<void>((resolve) => io.signal?.addEventListener('abort', () => resolve(), { once: true }));
  await new Promise((resolve) => started.server.close(resolve));
  return 0;
}
