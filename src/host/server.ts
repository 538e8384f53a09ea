// hyper6502 as a host: a Hypervisor served over HTTP (JSON, WebSockets for
// consoles and migrations), behind a bearer token.
//
// How to drive this:
//   const host = await startHost({ listen: '127.0.0.1:0', workers: 2 });  // or { socket: '/run/h.sock' }
//   host.url, host.token                 // where it listens, what every request must carry
//   await host.close();                  // stops listening, closes sockets, ends the Hypervisor
// `hyper6502 host` (src/cli/host.ts) runs one from the command line; the
// routes are in routes.ts, described by openapi.json.
//
// Bounds: every request needs the token (401 otherwise, before anything
// else is looked at); bodies are limited (413); a client gets
// HEADERS_TIMEOUT_MS to send its headers and REQUEST_TIMEOUT_MS for all of
// a request (slow clients are cut off); at most MAX_CONNECTIONS at once; at
// most maxVms VMs.

import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { chmod, lstat, unlink } from 'node:fs/promises';
import { WebSocketServer } from 'ws';
import { Hypervisor } from '../hypervisor/hypervisor.js';
import { authorized, newToken, TOKEN_PROTOCOL } from './auth.js';
import { HttpError, sendError, statusOf } from './http.js';
import { matchRoute, type HostContext } from './routes.js';
import { HostVms } from './vms.js';
import { IncomingSessions } from './migration.js';
import { CONSOLE_FRAME_MAX } from './console.js';
import type { HostCounters } from './metrics.js';

export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 120_000;
export const KEEP_ALIVE_MS = 5_000;
export const MAX_CONNECTIONS = 512;
/** The largest body by default: a spec, a snapshot, one round of a migration (a VM with a 16 MiB disk image has two copies of it). */
export const MAX_BODY = 40 * 1024 * 1024;
export const MAX_VMS = 1000;

export interface HostOptions {
  /** HOST:PORT (default 127.0.0.1:6502; port 0: one the system picks). */
  listen?: string;
  /** A Unix socket's path instead of TCP. */
  socket?: string;
  /** The token requests must carry (default: a new one). */
  token?: string;
  workers?: number;
  maxVms?: number;
  maxBody?: number;
  /** Time a client has for its headers, and for a whole request (defaults HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS). */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export interface RunningHost {
  url: string;
  token: string;
  hv: Hypervisor;
  close(): Promise<void>;
}

export function parseListen(text: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(text);
  if (!m || Number(m[2]) > 65535) throw new Error(`--listen takes HOST:PORT (127.0.0.1:6502, [::1]:0), not "${text}"`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export async function startHost(options: HostOptions = {}): Promise<RunningHost> {
  const token = options.token ?? newToken();
  const maxBody = options.maxBody ?? MAX_BODY;
  const where = options.socket ? null : parseListen(options.listen ?? '127.0.0.1:6502');
  const hv = await Hypervisor.create({ workers: options.workers });
  hv.onError((err, about) => console.error(`hyper6502 host: ${about.vm ? `VM ${about.vm}: ` : ''}${err.message}`));
  const counters: HostCounters = { startedAt: performance.now(), requests: 0, unauthorized: 0, migrationsOut: 0, migrationsOutFailed: 0 };
  const sessions = new IncomingSessions();
  const ctx: HostContext = { vms: new HostVms(hv, { maxVms: options.maxVms ?? MAX_VMS }), sessions, counters, maxBody };

  const headersTimeout = options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
  const requestTimeout = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const timeouts = { headersTimeout, requestTimeout, keepAliveTimeout: KEEP_ALIVE_MS, connectionsCheckingInterval: Math.min(1000, headersTimeout / 2) };
  const server = createServer(timeouts, (req, res) => {
    counters.requests++;
    void (async () => {
      try {
        if (!authorized(req.headers.authorization, token)) {
          counters.unauthorized++;
          res.setHeader('www-authenticate', 'Bearer');
          throw new HttpError(401, 'this host needs its token: Authorization: Bearer TOKEN');
        }
        const url = new URL(req.url ?? '/', 'http://host');
        const { route, params } = matchRoute(req.method ?? 'GET', url.pathname);
        if (!route.handle) throw new HttpError(426, `${url.pathname} is a WebSocket: it needs Upgrade: websocket`);
        await route.handle({ ctx, req, res, params });
      } catch (err) {
        if (statusOf(err) >= 500 && !(err instanceof HttpError)) console.error(`hyper6502 host: ${req.method} ${req.url}: ${(err as Error).stack ?? err}`);
        sendError(res, err);
      }
    })();
  });
  server.maxConnections = MAX_CONNECTIONS;

  const consoles = new WebSocketServer({ noServer: true, maxPayload: CONSOLE_FRAME_MAX, handleProtocols: pickProtocol });
  const migrations = new WebSocketServer({ noServer: true, maxPayload: maxBody, handleProtocols: pickProtocol });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    counters.requests++;
    const refuse = (status: number, message: string) => {
      const body = JSON.stringify({ error: message });
      socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Refused'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n${status === 401 ? 'www-authenticate: Bearer\r\n' : ''}\r\n${body}`);
    };
    socket.on('error', () => {});
    if (!authorized(req.headers.authorization, token, req.headers['sec-websocket-protocol'])) {
      counters.unauthorized++;
      return refuse(401, 'this host needs its token: Authorization: Bearer TOKEN (or the subprotocol bearer.TOKEN)');
    }
    let matched;
    try {
      matched = matchRoute(req.method ?? 'GET', new URL(req.url ?? '/', 'http://host').pathname);
      if (!matched.route.upgrade) throw new HttpError(400, `${req.url} is not a WebSocket`);
    } catch (err) {
      return refuse(statusOf(err), (err as Error).message);
    }
    const { route, params } = matched;
    const wss = route.path === '/migrations' ? migrations : consoles;
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => {});
      route.upgrade!(ws, { ctx, req, params });
    });
  });

  const url = await listen(server, options.socket, where);
  return {
    url,
    token,
    hv,
    async close() {
      for (const ws of [...consoles.clients, ...migrations.clients]) ws.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await hv.close();
      if (options.socket) await unlink(options.socket).catch(() => {});
    },
  };
}

/** A page's WebSocket offers its token as a subprotocol beside "hyper6502": the host picks the other one, never echoing the token. */
function pickProtocol(protocols: Set<string>): string | false {
  for (const p of protocols) if (!p.startsWith(TOKEN_PROTOCOL)) return p;
  return false;
}

async function listen(server: Server, socket: string | undefined, where: { host: string; port: number } | null): Promise<string> {
  if (socket) await removeStaleSocket(socket);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (socket) server.listen(socket, resolve);
    else server.listen(where!.port, where!.host, resolve);
  });
  if (socket) {
    await chmod(socket, 0o600);
    return `unix:${socket}`;
  }
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : where!.port;
  const host = where!.host.includes(':') ? `[${where!.host}]` : where!.host;
  return `http://${host}:${port}`;
}

/** A socket file left by a host that is gone (nothing answers on it) is removed; one that answers is in use. */
async function removeStaleSocket(path: string) {
  const info = await lstat(path).catch(() => null);
  if (!info) return;
  if (!info.isSocket()) throw new Error(`${path} exists and is not a socket`);
  const alive = await new Promise<boolean>((resolve) => {
    const c = connect(path);
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`${path} is in use by another host`);
  await unlink(path);
}
