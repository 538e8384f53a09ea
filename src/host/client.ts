// A client of a host's API, over TCP or a Unix socket: what `hyper6502 ctl`
// and a migrating host use.
//
// How to drive this:
//   const host = new HostClient('http://127.0.0.1:6502', token);   // or 'unix:/run/hyper6502.sock'
//   const { id } = await host.json<{ id: string }>('POST', '/vms', specJson);
//   const bytes = await host.bytes('GET', `/vms/${id}/snapshot`);
//   const ws = await host.socket(`/vms/${id}/console`);          // a WebSocket (ws), paused:
//   ws.on('message', ...); ws.resume();
// A reply that is not 2xx rejects with a HostApiError carrying the status
// and the host's message.

import { request, type IncomingHttpHeaders } from 'node:http';
import WebSocket from 'ws';

export class HostApiError extends Error {
  constructor(readonly status: number, message: string, readonly code?: string) {
    super(message);
    this.name = 'HostApiError';
  }
}

/** Where a host is: `http://HOST:PORT` or `unix:/path/to.sock`. */
export interface HostEndpoint {
  /** http://HOST:PORT for TCP; for a Unix socket, the socket's path. */
  origin?: string;
  socketPath?: string;
}

export function parseHostUrl(url: string): HostEndpoint {
  if (url.startsWith('unix:')) {
    const socketPath = url.slice(5);
    if (!socketPath) throw new Error(`"${url}" names no socket (write unix:/path/to.sock)`);
    return { socketPath };
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`"${url}" is not a host address (write http://127.0.0.1:6502 or unix:/path/to.sock)`);
  }
  if (u.protocol !== 'http:' || u.pathname !== '/' || u.search || u.username) throw new Error(`"${url}" is not a host address (write http://HOST:PORT or unix:/path/to.sock)`);
  return { origin: u.origin };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export class HostClient {
  readonly endpoint: HostEndpoint;

  constructor(readonly url: string, private readonly token: string, private readonly options: { timeoutMs?: number } = {}) {
    this.endpoint = parseHostUrl(url);
  }

  /** One request; the reply whatever its status. */
  request(method: string, path: string, body?: { type: string; data: Uint8Array | string }): Promise<Reply> {
    const headers: Record<string, string | number> = { authorization: `Bearer ${this.token}` };
    if (body) {
      headers['content-type'] = body.type;
      headers['content-length'] = typeof body.data === 'string' ? Buffer.byteLength(body.data) : body.data.length;
    }
    const where = this.endpoint.socketPath ? { socketPath: this.endpoint.socketPath, path } : { ...urlParts(this.endpoint.origin! + path) };
    return new Promise((resolve, reject) => {
      const req = request({ ...where, method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.setTimeout(this.options.timeoutMs ?? 60_000, () => req.destroy(new Error(`${this.url} did not answer ${method} ${path} in time`)));
      req.on('error', (err) => reject(new Error(`cannot reach ${this.url}: ${err.message}`)));
      req.end(body?.data);
    });
  }

  /** A request whose reply is JSON (or nothing: 204); a status that is not 2xx rejects. */
  async json<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const reply = await this.request(method, path, body === undefined ? undefined : { type: 'application/json', data: typeof body === 'string' ? body : JSON.stringify(body) });
    check(reply);
    return (reply.body.length ? JSON.parse(reply.body.toString('utf8')) : undefined) as T;
  }

  /** A request that sends or fetches bytes; a status that is not 2xx rejects. */
  async bytes(method: string, path: string, data?: Uint8Array): Promise<Buffer> {
    const reply = await this.request(method, path, data === undefined ? undefined : { type: 'application/octet-stream', data });
    check(reply);
    return reply.body;
  }

  /**
   * A WebSocket on `path`, paused: what came with the handshake (a console's
   * backlog) waits until the caller has its listeners on and calls
   * `ws.resume()`. A refusal (401, 404, ...) rejects with the host's status
   * and message. `unmasked` sends frames with a zero mask, which both
   * ends then skip: masking protects browsers' proxies from crafted frames,
   * and costs a pass over every byte a migration sends.
   */
  socket(path: string, options: { maxPayload?: number; unmasked?: boolean } = {}): Promise<WebSocket> {
    const address = this.endpoint.socketPath ? `ws+unix:${this.endpoint.socketPath}:${path}` : this.endpoint.origin!.replace(/^http/, 'ws') + path;
    const ws = new WebSocket(address, { headers: { authorization: `Bearer ${this.token}` }, maxPayload: options.maxPayload, handshakeTimeout: this.options.timeoutMs ?? 10_000,
      ...(options.unmasked ? { generateMask: (mask: Buffer) => void mask.fill(0) } : {}),
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        ws.pause();
        resolve(ws);
      });
      ws.once('unexpected-response', (_req, res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          ws.terminate();
          reject(replyError({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        });
      });
      ws.once('error', (err) => reject(new Error(`cannot reach ${this.url}: ${err.message}`)));
    });
  }
}

function urlParts(url: string) {
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port || 80, path: u.pathname + u.search };
}

function check(reply: Reply) {
  if (reply.status < 200 || reply.status > 299) throw replyError(reply);
}

function replyError(reply: Reply): HostApiError {
  let message = `${reply.status}`;
  let code: string | undefined;
  try {
    const parsed = JSON.parse(reply.body.toString('utf8'));
    message = `${reply.status}: ${parsed.error}`;
    code = parsed.code;
  } catch {
    if (reply.body.length) message = `${reply.status}: ${reply.body.toString('utf8').slice(0, 200)}`;
  }
  return new HostApiError(reply.status, message, code);
}
