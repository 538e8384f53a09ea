// `hyper6502 serve`: compressed answers (brotli, gzip, none, as the browser
// accepts), ETags and 304s, and an answer to every bad request (a broken
// percent escape, a request line Node cannot parse, a way out of the folder,
// a FIFO, another method) without the server going down.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { spawnSync } from 'node:child_process';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { Server } from 'node:http';
import { startServer, chooseEncoding } from '../../src/cli/serve.ts';

const dir = mkdtempSync(join(tmpdir(), 'hyper6502-serve-'));
const script = 'export const x = 1;\n'.repeat(2000);
writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>' + '<p>hello</p>'.repeat(200));
writeFileSync(join(dir, 'app.js'), script);
writeFileSync(join(dir, 'tiny.css'), 'p{}');
mkdirSync(join(dir, 'sub'));
writeFileSync(join(dir, 'sub', 'index.html'), 'sub');
const hasFifo = spawnSync('mkfifo', [join(dir, 'pipe.js')]).status === 0;

let server: Server;
let base: string;
beforeAll(async () => {
  ({ server, url: base } = await startServer({ port: 0, dir }));
});
afterAll(() => server?.close());

const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => fetch(new URL(path, base), { headers, method, redirect: 'manual' });

/** Sends raw bytes and returns the first line of the answer. */
function raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const url = new URL(base);
    const socket = connect(Number(url.port), url.hostname, () => socket.write(request));
    let answer = '';
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('end', () => resolve(answer.split('\r\n')[0]));
    socket.on('error', reject);
    socket.setTimeout(5000, () => reject(new Error(`no answer to ${JSON.stringify(request)}`)));
  });
}

describe('hyper6502 serve', () => {
  it('compresses with brotli or gzip as the browser accepts, and sends what it would not compress as it is', async () => {
    // fetch() asks for gzip, deflate, br and decodes: read the bytes through headers it cannot send itself.
    const br = await get('/app.js', { 'accept-encoding': 'gzip, br' });
    expect(br.status).toBe(200);
    expect(br.headers.get('content-encoding')).toBe('br');
    expect(br.headers.get('vary')).toBe('Accept-Encoding');
    expect(br.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await br.text()).toBe(script);
    const gz = await get('/app.js', { 'accept-encoding': 'gzip;q=1, br;q=0' });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(await gz.text()).toBe(script);
    const plain = await get('/app.js', { 'accept-encoding': 'identity' });
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(Number(plain.headers.get('content-length'))).toBe(script.length);
    expect((await get('/tiny.css', { 'accept-encoding': 'br' })).headers.get('content-encoding')).toBeNull(); // too small to gain
    expect(chooseEncoding('gzip, deflate, br')).toBe('br');
    expect(chooseEncoding('*;q=0.5')).toBe('br');
    expect(chooseEncoding('br;q=0, gzip;q=0')).toBeNull();
    expect(chooseEncoding(undefined)).toBeNull();
  });

  it('the compressed bytes are brotli and gzip of the file, several times smaller', async () => {
    const { request } = await import('node:http');
    const body = (encoding: string) =>
      new Promise<Buffer>((resolve, reject) => {
        request(new URL('/app.js', base), { headers: { 'accept-encoding': encoding } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks)));
        }).on('error', reject).end();
      });
    const br = await body('br');
    const gz = await body('gzip');
    expect(brotliDecompressSync(br).toString()).toBe(script);
    expect(gunzipSync(gz).toString()).toBe(script);
    expect(br.length * 10).toBeLessThan(script.length);
  });

  it('ETags: a reload with If-None-Match gets 304 and no body; each encoding has its own tag; a changed file a new one', async () => {
    const first = await get('/index.html', { 'accept-encoding': 'br' });
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+-br"$/);
    expect(first.headers.get('cache-control')).toBe('no-cache');
    const again = await get('/index.html', { 'accept-encoding': 'br', 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(again.headers.get('etag')).toBe(etag);
    const gz = await get('/index.html', { 'accept-encoding': 'gzip', 'if-none-match': etag });
    expect(gz.status).toBe(200); // another representation
    expect((await get('/', { 'accept-encoding': 'br', 'if-none-match': `"other", W/${etag}` })).status).toBe(304);
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>' + '<p>changed</p>'.repeat(200));
    const changed = await get('/index.html', { 'accept-encoding': 'br', 'if-none-match': etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(await changed.text()).toContain('changed');
  });

  it('answers bad requests with 400 and keeps serving: a broken escape, an unparsable request line', async () => {
    const broken = await get('/%E0%A4%A');
    expect(broken.status).toBe(400);
    expect(await broken.text()).toMatch(/^bad request: a malformed path/);
    expect(await raw('GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: banana\r\n\r\n')).toBe('HTTP/1.1 400 Bad Request');
    expect(await raw('\x00\x01\x02 garbage\r\n\r\n')).toBe('HTTP/1.1 400 Bad Request');
    expect((await get('/%00')).status).toBe(400);
    expect((await get('/app.js')).status).toBe(200); // still up
  });

  it('never leaves the folder, never waits on a FIFO, and takes only GET and HEAD', async () => {
    expect((await get('/%2e%2e/%2e%2e/etc/passwd')).status).toBe(404); // the URL's own dot segments stay inside: /etc/passwd of the folder
    expect((await get('/..%2f..%2fetc/passwd')).status).toBe(403);
    expect((await get('/nothing.js')).status).toBe(404);
    if (hasFifo) expect((await get('/pipe.js')).status).toBe(404);
    const post = await get('/app.js', {}, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await get('/app.js', { 'accept-encoding': 'identity' }, 'HEAD');
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(script.length);
    expect(await head.text()).toBe('');
    const folder = await get('/sub');
    expect(folder.status).toBe(301);
    expect(folder.headers.get('location')).toBe('/sub/');
    expect(await (await get('/sub/')).text()).toBe('sub');
  });
});
