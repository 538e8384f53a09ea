// The host API on a real `hyper6502 host` process: the token on every
// request, malformed and oversized bodies refused with nothing changed, VMs
// created and driven, consoles attached and detached, a slow console client
// that makes nothing grow, the VM bound, a Unix socket, slow clients cut
// off, and `hyper6502 ctl` for all of it.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { request } from 'node:http';
import { connect } from 'node:net';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import { startHostProcess, stopHosts, scratchDir, CLI, type HostProcess } from '../helpers/hosts.ts';
import { GUESTS } from '../helpers/host-guests.ts';
import { specToJson } from '../../src/machine/description.ts';
import { assemble } from '../../src/asm/assembler.ts';
import { startHost } from '../../src/host/server.ts';
import { CONSOLE_SEND_LIMIT } from '../../src/host/console.ts';
import { main } from '../../src/cli/main.ts';

const MAX_BODY = 256 * 1024;
let host: HostProcess;
const dir = scratchDir();

beforeAll(async () => {
  host = await startHostProcess(['--max-body', String(MAX_BODY), '--max-vms', '6']);
});
afterAll(stopHosts);

/** A raw request, the reply whatever its status. */
function raw(method: string, path: string, headers: Record<string, string>, body?: Buffer | string, chunked = false): Promise<{ status: number; body: string }> {
  const u = new URL(host.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    if (chunked && body) {
      // Sent in pieces, without a Content-Length: the host counts as it reads.
      const b = Buffer.from(body);
      for (let i = 0; i < b.length; i += 64 * 1024) req.write(b.subarray(i, i + 64 * 1024));
      req.end();
    } else req.end(body);
  });
}
const auth = () => ({ authorization: `Bearer ${host.token}` });
const ids = async () => (await host.client.json<Array<{ id: string }>>('GET', '/vms')).map((v) => v.id).sort();

async function ctl(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(['ctl', '--host', host.url, '--token-file', host.tokenFile, ...argv], {
    stdout: (t) => (stdout += typeof t === 'string' ? t : Buffer.from(t).toString('latin1')),
    stderr: (t) => (stderr += t),
  });
  return { code, stdout, stderr };
}

function socket(path: string, headers: Record<string, string> = auth(), protocols?: string[]): Promise<WebSocket> {
  const ws = new WebSocket(host.url.replace('http', 'ws') + path, protocols, { headers });
  outputs.set(ws, output(ws)); // from the first frame on
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_q, res) => reject(new Error(`status ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

const outputs = new Map<WebSocket, ReturnType<typeof output>>();

/** Collects a console socket's output until `until` is in it. */
function output(ws: WebSocket) {
  let text = '';
  const events: Array<Record<string, unknown>> = [];
  ws.on('message', (d: Buffer, binary: boolean) => (binary ? (text += d.toString('latin1')) : events.push(JSON.parse(d.toString()))));
  return {
    get text() {
      return text;
    },
    events,
    async until(s: string, ms = 10_000) {
      const end = Date.now() + ms;
      while (!text.includes(s)) {
        if (Date.now() > end) throw new Error(`no "${s}" in ${JSON.stringify(text)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

describe('access', () => {
  it('refuses a request without the token, or with a wrong one, with 401, and changes nothing', async () => {
    const before = await ids();
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: `Basic ${host.token}` }, { authorization: `Bearer ${host.token}x` }]) {
      expect((await raw('GET', '/vms', headers)).status).toBe(401);
      const r = await raw('POST', '/vms', { ...headers, 'content-type': 'application/json' }, specToJson(GUESTS.echo));
      expect(r.status).toBe(401);
      expect(JSON.parse(r.body).error).toMatch(/needs its token/);
      expect((await raw('DELETE', '/vms/vm1', headers)).status).toBe(401);
      expect((await raw('GET', '/no/such/path', headers)).status).toBe(401); // nothing is told before the token
    }
    await expect(socket('/vms/vm1/console', {})).rejects.toThrow(/401/);
    await expect(socket('/migrations', { authorization: 'Bearer nope-nope-nope-nope' })).rejects.toThrow(/401/);
    expect(await ids()).toEqual(before);
    const m = await host.client.json<{ host: { unauthorized: number } }>('GET', '/metrics');
    expect(m.host.unauthorized).toBeGreaterThanOrEqual(18);
  });

  it('ctl without a token, or with a wrong one, says so', async () => {
    const wrong = join(dir, 'wrong-token');
    writeFileSync(wrong, 'x'.repeat(32) + '\n');
    const r = await main(['ctl', '--host', host.url, '--token-file', wrong, 'list'], { stdout: () => {}, stderr: () => {} });
    expect(r).toBe(1);
    let err = '';
    expect(await main(['ctl', '--host', host.url, 'list'], { stdout: () => {}, stderr: (t) => (err += t) })).toBe(2);
    expect(err).toMatch(/needs the host token/);
  });
});

describe('bodies', () => {
  it('refuses malformed bodies with a clear 400 (or 415), and changes nothing', async () => {
    const before = await ids();
    const post = (path: string, body: string, type = 'application/json') => raw('POST', path, { ...auth(), 'content-type': type }, body);
    const cases: Array<[Promise<{ status: number; body: string }>, number, RegExp]> = [
      [post('/vms', '{"machine": "py65",'), 400, /not valid JSON/],
      [post('/vms', '[1, 2]'), 400, /a VM spec must be a JSON object/],
      [post('/vms', '{"machine": "no-such-machine"}'), 400, /does not describe a VM.*no-such-machine/],
      [post('/vms', '{"machine": "py65", "program": {"file": "/etc/passwd"}}'), 400, /names a file/],
      [post('/vms', specToJson(GUESTS.echo), 'text/plain'), 415, /application\/json/],
      [post('/vms/restore', 'not a snapshot', 'application/octet-stream'), 400, /wrong magic|snapshot/],
      [post('/vms/restore', '', 'application/octet-stream'), 400, /empty/],
      [post('/vms/vm999/migrate', '{}'), 404, /no VM vm999/],
      [raw('PUT', '/vms/vm999/schedule', { ...auth(), 'content-type': 'application/json' }, '{}'), 404, /no VM/],
      [raw('PATCH', '/vms', auth()), 405, /not allowed/],
      [raw('GET', '/vms/bad%20id', auth()), 404, /no such API path/],
    ];
    for (const [reply, status, message] of cases) {
      const r = await reply;
      expect([r.status, r.body]).toEqual([status, expect.stringMatching(message)]);
    }
    const { id } = await host.client.json<{ id: string }>('POST', '/vms', specToJson(GUESTS.echo));
    for (const [body, message] of [['{"weight": -1}', /weight must be/], ['{"speed": 1}', /has no "speed"/], ['7', /must be a JSON object/]] as const) {
      const r = await raw('PUT', `/vms/${id}/schedule`, { ...auth(), 'content-type': 'application/json' }, body);
      expect([r.status, JSON.parse(r.body).error]).toEqual([400, expect.stringMatching(message)]);
    }
    const m = await raw('POST', `/vms/${id}/migrate`, { ...auth(), 'content-type': 'application/json' }, '{"token": "x"}');
    expect([m.status, m.body]).toEqual([400, expect.stringMatching(/names its target/)]);
    expect((await host.client.json<{ state: string }>('GET', `/vms/${id}`)).state).toBe('created');
    await host.client.json('DELETE', `/vms/${id}`);
    expect(await ids()).toEqual(before);
  });

  it('refuses an oversized upload by its length, or as it comes without one (413), and goes on serving', async () => {
    const before = await ids();
    const big = Buffer.alloc(MAX_BODY + 1, 0x41);
    const declared = await raw('POST', '/vms/restore', { ...auth(), 'content-type': 'application/octet-stream', 'content-length': String(big.length) }, big);
    expect([declared.status, declared.body]).toEqual([413, expect.stringMatching(/more than this host takes/)]);
    const chunked = await raw('POST', '/vms', { ...auth(), 'content-type': 'application/json' }, Buffer.alloc(4 * MAX_BODY, 0x20), true);
    expect(chunked.status).toBe(413);
    expect(await ids()).toEqual(before);
    const rss = (await host.client.json<{ host: { rssBytes: number } }>('GET', '/metrics')).host.rssBytes;
    expect(rss).toBeLessThan(1024 * 2 ** 20);
  });

  it('refuses VMs past --max-vms (503), and takes them again once there is room', async () => {
    const made: string[] = [];
    let status = 0;
    for (let i = 0; i < 8 && status === 0; i++) {
      const r = await raw('POST', '/vms', { ...auth(), 'content-type': 'application/json' }, specToJson(GUESTS.echo));
      if (r.status === 201) made.push(JSON.parse(r.body).id);
      else {
        status = r.status;
        expect(r.body).toMatch(/at most 6 VMs/);
      }
    }
    expect(status).toBe(503);
    expect(await ids()).toHaveLength(6);
    for (const id of made) await host.client.json('DELETE', `/vms/${id}`);
    expect((await ctl('create', writeSpec('again.json', GUESTS.echo))).code).toBe(0);
    await host.client.json('DELETE', `/vms/${(await ids())[0]}`);
  });
});

// py65: prints a line as fast as it can, for ever.
const FLOOD = { machine: 'py65', program: assemble('  .org $0200\nl: ldx #0\nn: lda msg,x\n  beq l\n  sta $F001\n  inx\n  bne n\nmsg: .byte "all work and no play makes jack a dull boy", 13, 10, 0\n', { fileName: 'flood.s' }).bytes, load: 0x200, start: 0x200 };

function writeSpec(name: string, spec: object): string {
  const path = join(dir, name);
  writeFileSync(path, specToJson(spec));
  return path;
}

describe('VMs and consoles', () => {
  it('ctl creates, starts, pauses, snapshots, restores, resumes, lists and destroys', async () => {
    const created = await ctl('create', writeSpec('echo.json', GUESTS.echo));
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const id = created.stdout.trim();
    expect((await ctl('start', id)).code).toBe(0);
    expect((await ctl('pause', id)).code).toBe(0);
    const file = join(dir, 'echo.snapshot');
    expect((await ctl('snapshot', id, '-o', file)).code).toBe(0);
    const copy = (await ctl('restore', file)).stdout.trim();
    expect(copy).toMatch(/^vm\d+$/);
    expect((await ctl('resume', copy)).code).toBe(0);
    const list = JSON.parse((await ctl('list')).stdout);
    expect(list).toEqual(expect.arrayContaining([expect.objectContaining({ id, state: 'paused' }), expect.objectContaining({ id: copy, state: 'running' })]));
    const refused = await ctl('snapshot', copy, '-o', file);
    expect([refused.code, refused.stderr]).toEqual([1, expect.stringMatching(/409: cannot snapshot VM .*: it is running/)]);
    const metrics = JSON.parse((await ctl('metrics', copy)).stdout);
    expect(metrics).toMatchObject({ id: copy, state: 'running', consoleClients: 0 });
    const prom = (await ctl('metrics', '--prometheus')).stdout;
    expect(prom).toMatch(new RegExp(`^hyper6502_vm_cycles_total\\{vm="${copy}"\\} \\d+$`, 'm'));
    expect(prom).toMatch(/^# TYPE hyper6502_vms gauge$/m);
    for (const v of [id, copy]) expect((await ctl('destroy', v)).code).toBe(0);
    expect((await ctl('start', id)).stderr).toMatch(/404: no VM/);
  });

  it('a console attaches and detaches while the VM runs: output as it comes, the backlog to the next client, input from any', async () => {
    const { id } = await host.client.json<{ id: string }>('POST', '/vms', specToJson(GUESTS.echo));
    await host.client.json('POST', `/vms/${id}/start`);
    const first = await socket(`/vms/${id}/console`);
    const a = outputs.get(first)!;
    first.send('hello ');
    await a.until('hello ');
    first.close();
    // Detached (once the host has seen it go): what it prints meanwhile waits for the next client.
    for (let i = 0; (await host.client.json<{ consoleClients: number }>('GET', `/vms/${id}/metrics`)).consoleClients; i++) {
      if (i > 200) throw new Error('the console client did not go');
      await new Promise((r) => setTimeout(r, 10));
    }
    await host.client.bytes('POST', `/vms/${id}/input`, new TextEncoder().encode('while away '));
    await new Promise((r) => setTimeout(r, 100));
    // A page offers its token as a subprotocol (it cannot set headers).
    const second = await socket(`/vms/${id}/console`, {}, ['hyper6502', `bearer.${host.token}`]);
    expect(second.protocol).toBe('hyper6502');
    const b = outputs.get(second)!;
    await b.until('while away ');
    second.send('back');
    await b.until('while away back');
    expect(a.text).toBe('hello ');
    // ctl console from a pipe, as a real process: input in, output out, then it leaves.
    const child = spawn(process.execPath, [CLI, 'ctl', '--host', host.url, '--token-file', host.tokenFile, 'console', id, '--quiet-ms', '300'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stdin.end('piped');
    const code = await new Promise((r) => child.once('exit', r));
    expect([code, out]).toEqual([0, 'piped']);
    await b.until('backpiped');
    await host.client.json('DELETE', `/vms/${id}`);
    await new Promise((r) => second.once('close', r));
    expect(b.events.at(-1)).toEqual({ event: 'destroyed' });
  });

  it('a console client that reads nothing makes nothing grow in the host', async () => {
    // py65: prints a line as fast as it can, for ever (1 MiB/s of it reaches the host).
    const { id } = await host.client.json<{ id: string }>('POST', '/vms', specToJson(FLOOD));
    // A client that upgrades and then never reads its socket.
    const u = new URL(host.url);
    const stalled = connect(Number(u.port), u.hostname);
    await new Promise((r) => stalled.once('connect', r));
    stalled.write(`GET /vms/${id}/console HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${Buffer.alloc(16, 7).toString('base64')}\r\nAuthorization: Bearer ${host.token}\r\n\r\n`);
    await new Promise((r) => stalled.once('data', r));
    stalled.pause();
    await host.client.json('POST', `/vms/${id}/start`);
    const samples: Array<{ consoleBuffered: number; consoleClients: number; outputDropped: number; cycles: number }> = [];
    const rss: number[] = [];
    // Five samples, and more (20 s at most) until the VM's console has dropped: a loaded machine prints slower.
    for (let i = 0; i < 5 || (samples.at(-1)!.outputDropped === 0 && i < 50); i++) {
      await new Promise((r) => setTimeout(r, 400));
      samples.push(await host.client.json('GET', `/vms/${id}/metrics`));
      rss.push((await host.client.json<{ host: { rssBytes: number } }>('GET', '/metrics')).host.rssBytes);
    }
    stalled.destroy();
    await host.client.json('DELETE', `/vms/${id}`);
    expect(samples.every((s) => s.consoleClients === 1)).toBe(true);
    expect(samples.at(-1)!.cycles).toBeGreaterThan(samples[0].cycles); // it went on printing
    expect(samples.at(-1)!.outputDropped).toBeGreaterThan(0); // past 1 MiB/s the VM's own console drops, and counts
    expect(Math.max(...samples.map((s) => s.consoleBuffered))).toBeLessThanOrEqual(CONSOLE_SEND_LIMIT);
    expect(Math.max(...rss) - rss[0]).toBeLessThan(64 * 2 ** 20);
  });
});

describe('listening', () => {
  it('on a Unix socket (mode 0600), driven by ctl', async () => {
    const path = join(dir, 'host.sock');
    const unix = await startHostProcess(['--socket', path, '--token-file', host.tokenFile]);
    expect(unix.url).toBe(`unix:${path}`);
    let out = '';
    const code = await main(['ctl', '--host', unix.url, '--token-file', host.tokenFile, 'list'], { stdout: (t) => (out += t), stderr: () => {} });
    expect([code, out]).toEqual([0, '[]\n']);
    const { statSync } = await import('node:fs');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(host.tokenFile, 'utf8').trim()).toBe(unix.token);
    unix.child.kill('SIGTERM');
    await unix.exited;
  });

  it('cuts off a client that sends its headers too slowly', async () => {
    const h = await startHost({ listen: '127.0.0.1:0', workers: 0, headersTimeoutMs: 400 });
    try {
      const u = new URL(h.url);
      const slow = connect(Number(u.port), u.hostname);
      await new Promise((r) => slow.once('connect', r));
      slow.write('GET /vms HTTP/1.1\r\nHost: x\r\n'); // and never the rest
      const t0 = Date.now();
      const reply = await new Promise<string>((resolve) => {
        let text = '';
        slow.on('data', (d) => (text += d));
        slow.on('close', () => resolve(text));
      });
      expect(reply).toMatch(/^HTTP\/1\.1 408/);
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      await h.close();
    }
  });
});
