// Access to a host: one bearer token, required on every request.
//
// How to drive this:
//   const token = newToken();                          // or await readTokenFile(path)
//   if (!authorized(req.headers.authorization, token)) -> 401
//   authorized(undefined, token, req.headers['sec-websocket-protocol'])  // a page's WebSocket
// A request carries `Authorization: Bearer TOKEN`. A browser cannot set
// headers on a WebSocket, so a console socket may instead offer the
// subprotocol `bearer.TOKEN` (as Kubernetes takes its tokens). Tokens are
// compared in constant time.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readBoundedFile } from '../node/files.js';

/** The subprotocol prefix a WebSocket offers its token with. */
export const TOKEN_PROTOCOL = 'bearer.';

/** A fresh token: 32 random bytes, in hex. */
export function newToken(): string {
  return randomBytes(32).toString('hex');
}

/** The token in a file (its first line, trimmed): letters, digits and - . _ ~ + / =, 16 to 512 of them. */
export async function readTokenFile(path: string): Promise<string> {
  const text = new TextDecoder().decode(await readBoundedFile(path, 4096, 'token file'));
  const token = text.split(/\r?\n/)[0].trim();
  checkToken(token, `token file ${path}`);
  return token;
}

export function checkToken(token: string, where: string) {
  if (!/^[A-Za-z0-9._~+/=-]{16,512}$/.test(token)) throw new Error(`${where}: a token is 16 to 512 letters, digits or - . _ ~ + / = (a line of its own)`);
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Whether a request's Authorization header (or, for a WebSocket, its offered subprotocols) carries the token. */
export function authorized(header: string | undefined, token: string, protocols?: string): boolean {
  const offered: string[] = [];
  const bearer = /^Bearer +(\S+) *$/i.exec(header ?? '');
  if (bearer) offered.push(bearer[1]);
  for (const p of (protocols ?? '').split(',')) {
    const t = p.trim();
    if (t.startsWith(TOKEN_PROTOCOL)) offered.push(t.slice(TOKEN_PROTOCOL.length));
  }
  const want = digest(token);
  return offered.some((t) => timingSafeEqual(digest(t), want));
}
