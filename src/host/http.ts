// HTTP plumbing of the host: bounded request bodies, JSON replies, and the
// errors of the API as status codes.
//
// How to drive this:
//   const spec = await readJson(req, limit);        // HttpError 400 (not JSON), 413 (too big), 415
//   const bytes = await readBytes(req, limit);
//   sendJson(res, 201, { id });
//   sendError(res, err);                            // any error: its status and { error, code }
// A body is refused by its Content-Length before a byte of it is read, and
// a body without one is counted as it comes and cut off at the limit.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { specFromJson } from '../machine/description.js';

/** A refused body larger than this is not read to its end: the connection closes instead. */
export const DRAIN_MAX = 64 * 1024 * 1024;

export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly code?: string) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The body's bytes, at most `limit` of them. */
export function readBytes(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    return Promise.reject(new HttpError(413, `the body is ${declared} bytes, more than this host takes (${limit})`));
  }
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      // Refused; the rest is read and let go (so that the client reads the reply), within the request's time.
      if (size - chunk.length <= limit) reject(new HttpError(413, `the body is more than this host takes (${limit} bytes)`));
      chunks = [];
    });
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', reject);
    req.on('aborted', () => reject(new HttpError(400, 'the request was cut short')));
  });
}

/** A JSON body (images as { base64 }), at most `limit` bytes. */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = req.headers['content-type'] ?? 'application/json';
  if (!/^application\/json\b/i.test(type)) throw new HttpError(415, `the body must be application/json, not ${type}`);
  const bytes = await readBytes(req, limit);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, 'the body is not UTF-8 text');
  }
  try {
    return specFromJson(text);
  } catch (err) {
    throw new HttpError(400, `the body is not valid JSON: ${(err as Error).message}`);
  }
}

/** An object body's own fields, each checked by the caller; anything else is a 400. */
export function objectBody(value: unknown, what: string): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) throw new HttpError(400, `${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

export function sendJson(res: ServerResponse, status: number, value: unknown) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** The status an error of the library stands for: the caller's mistake (4xx) or the host's (5xx). */
export function statusOf(err: unknown): number {
  const e = err as { name?: string; status?: number };
  if (err instanceof HttpError) return err.status;
  switch (e?.name) {
    case 'VmStateError':
      return 409;
    case 'SnapshotError':
    case 'DescriptionError':
    case 'RangeError':
    case 'Sim65FormatError':
      return 400;
    case 'WorkerError':
      return 503;
    default:
      return 500;
  }
}

export function sendError(res: ServerResponse, err: unknown) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const status = statusOf(err);
  const e = err as { message?: string; code?: string };
  // A body the request still carries is read and let go after the reply (Node does), unless it says it is huge.
  if (!res.req.complete && Number(res.req.headers['content-length']) > DRAIN_MAX) res.setHeader('connection', 'close');
  sendJson(res, status, { error: e?.message ?? String(err), ...(typeof e?.code === 'string' ? { code: e.code } : {}) });
}
