// Live migration between real host processes on loopback: running guests
// (one dirtying every page, one with VIA interrupts and console output)
// moved back and forth under load end bit-exact with the same guests run
// without moving, their console output whole; a target killed (-9) at any
// point of a migration, or refusing it, leaves the VM running on its source
// as it was; a snapshot taken on one host restores on another; an incoming
// stream is hostile input, refused at its first bad snapshot with nothing
// left behind.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, connect, type Server } from 'node:net';
import WebSocket from 'ws';
import { startHostProcess, stopHosts, scratchDir, type HostProcess } from '../helpers/hosts.ts';
import { GUESTS } from '../helpers/host-guests.ts';
import { specToJson } from '../../src/machine/description.ts';
import { decodeSnapshot, encodeSnapshot } from '../../src/hypervisor/snapshot.ts';
import type { MigrationResult } from '../../src/host/migration.ts';
import { main } from '../../src/cli/main.ts';
import { join } from 'node:path';

let a: HostProcess;
let b: HostProcess;
beforeAll(async () => {
  [a, b] = await Promise.all([startHostProcess(), startHostProcess()]);
});
afterAll(stopHosts);

/** Cycles a second each test VM may run: slow enough that migrations happen while it runs. */
const CAP = 20_000_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function create(h: HostProcess, spec: object, stopAt: number): Promise<string> {
  const { id } = await h.client.json<{ id: string }>('POST', '/vms', specToJson(spec));
  await h.client.json('PUT', `/vms/${id}/schedule`, { cap: CAP, stopAt });
  return id;
}

/** Registers, memory and devices of a VM once it has stopped at its stopAt. */
async function finalState(h: HostProcess, id: string): Promise<string> {
  for (let i = 0; ; i++) {
    const vm = await h.client.json<{ state: string; reason: string }>('GET', `/vms/${id}`);
    if (vm.state === 'paused') {
      expect(vm.reason).toBe('max-cycles');
      break;
    }
    if (i > 600) throw new Error(`VM ${id} did not reach its stop: ${JSON.stringify(vm)}`);
    await sleep(50);
  }
  const snap = decodeSnapshot(new Uint8Array(await h.client.bytes('GET', `/vms/${id}/snapshot`)));
  return ['CORE', 'RAM_', 'DEVS'].map((t) => Buffer.from(snap.section(t)).toString('hex')).join('/');
}

/** The console output of a VM wherever it goes: one socket per host it runs on, in order. */
function consoleLog() {
  const parts: string[] = [];
  return {
    async attach(h: HostProcess, id: string) {
      const ws = await h.client.socket(`/vms/${id}/console`);
      const i = parts.push('') - 1;
      ws.on('message', (d: Buffer, binary: boolean) => binary && (parts[i] += d.toString('latin1')));
      ws.resume();
      return ws;
    },
    get text() {
      return parts.join('');
    },
  };
}

const migrate = (from: HostProcess, id: string, to: { url: string; token: string }) => from.client.json<MigrationResult>('POST', `/vms/${id}/migrate`, { to: to.url, token: to.token });

describe('live migration', () => {
  it('moves running guests back and forth under load; they end bit-exact with guests that never moved, their output whole', async () => {
    const STOP = 50_000_000; // 2.5 s at CAP
    const busy = await create(a, GUESTS.busy, STOP);
    const busyRef = await create(a, GUESTS.busy, STOP);
    const timer = await create(a, GUESTS.timer, STOP);
    const timerRef = await create(a, GUESTS.timer, STOP);
    const load = await b.client.json<{ id: string }>('POST', '/vms', specToJson(GUESTS.busy)); // B busy too, uncapped
    const log = consoleLog();
    const refLog = consoleLog();
    await log.attach(a, timer);
    await refLog.attach(a, timerRef);
    for (const id of [busy, busyRef, timer, timerRef]) await a.client.json('POST', `/vms/${id}/start`);
    await b.client.json('POST', `/vms/${load.id}/start`);
    const where = { busy: { h: a, id: busy }, timer: { h: a, id: timer } };
    const results: MigrationResult[] = [];
    for (let i = 0; i < 6; i++) {
      for (const name of ['busy', 'timer'] as const) {
        const at = where[name];
        const to = at.h === a ? b : a;
        const r = await migrate(at.h, at.id, to);
        results.push(r);
        where[name] = { h: to, id: r.id };
        if (name === 'timer') await log.attach(to, r.id);
        expect((await at.h.client.request('GET', `/vms/${at.id}`)).status).toBe(404); // gone from the source
      }
      await sleep(120);
    }
    expect(results.filter((r) => r.downtimeMs > 0).length).toBeGreaterThanOrEqual(6); // most moved while they ran
    for (const r of results) expect(r).toMatchObject({ rounds: expect.any(Number), bytes: expect.any(Number), totalMs: expect.any(Number) });
    expect(results.find((r) => r.downtimeMs > 0)!.bytes).toBeGreaterThan(65536);
    const [moved, ref] = await Promise.all([finalState(where.busy.h, where.busy.id), finalState(a, busyRef)]);
    expect(moved === ref).toBe(true);
    const [movedTimer, refTimer] = await Promise.all([finalState(where.timer.h, where.timer.id), finalState(a, timerRef)]);
    expect(movedTimer === refTimer).toBe(true);
    await sleep(100);
    expect(refLog.text).toMatch(/tick 4[5-9]\r\n$/); // VIA interrupts printed their ticks all along
    expect(log.text).toBe(refLog.text);
    for (const [h, id] of [[where.busy.h, where.busy.id], [where.timer.h, where.timer.id], [a, busyRef], [a, timerRef], [b, load.id]] as const) await h.client.json('DELETE', `/vms/${id}`);
  });

  it('a target killed (-9) at any point, or one that refuses, leaves the VM running on its source as it was', async () => {
    const STOP = 60_000_000; // 3 s at CAP
    const targets = await Promise.all([startHostProcess(), startHostProcess(), startHostProcess()]);
    const onB = (await b.client.json<unknown[]>('GET', '/vms')).length;
    const vm = await create(a, GUESTS.busy, STOP);
    const ref = await create(a, GUESTS.busy, STOP);
    await a.client.json('POST', `/vms/${vm}/start`);
    await a.client.json('POST', `/vms/${ref}/start`);
    await sleep(200);
    // Killed while the source asks to connect, in the middle of the full copy, and after it started the VM but before the source heard so.
    for (const [i, point] of [{ upBytes: 60 }, { upBytes: 40_000 }, { down: '"type":"started"' }].entries()) {
      const target = targets[i];
      const proxy = await killingProxy(target, point);
      const failed = await a.client.request('POST', `/vms/${vm}/migrate`, { type: 'application/json', data: JSON.stringify({ to: proxy.url, token: target.token }) });
      expect([failed.status, JSON.parse(failed.body.toString()).error]).toEqual([502, expect.stringMatching(/failed \(it goes on here\)/)]);
      await target.exited;
      proxy.server.close();
      expect(await a.client.json('GET', `/vms/${vm}`)).toMatchObject({ state: 'running' });
    }
    const wrong = await a.client.request('POST', `/vms/${vm}/migrate`, { type: 'application/json', data: JSON.stringify({ to: b.url, token: 'not-the-token-of-b' }) });
    expect([wrong.status, JSON.parse(wrong.body.toString()).error]).toEqual([502, expect.stringMatching(/401/)]);
    const nowhere = await a.client.request('POST', `/vms/${vm}/migrate`, { type: 'application/json', data: JSON.stringify({ to: 'http://127.0.0.1:1', token: b.token }) });
    expect(nowhere.status).toBe(502);
    expect((await b.client.json<unknown[]>('GET', '/vms')).length).toBe(onB); // nothing was left on the target
    expect(await a.client.json('GET', `/vms/${vm}`)).toMatchObject({ state: 'running' });
    const [state, refState] = await Promise.all([finalState(a, vm), finalState(a, ref)]);
    expect(state === refState).toBe(true);
    for (const id of [vm, ref]) await a.client.json('DELETE', `/vms/${id}`);
    const metrics = await a.client.json<{ host: { migrationsOutFailed: number } }>('GET', '/metrics');
    expect(metrics.host.migrationsOutFailed).toBeGreaterThanOrEqual(5);
  });

  it('ctl migrate prints one JSON line; ctl snapshot on one host restores on another', async () => {
    const dir = scratchDir();
    const run = async (h: HostProcess, ...argv: string[]) => {
      let out = '';
      let err = '';
      const code = await main(['ctl', '--host', h.url, '--token-file', h.tokenFile, ...argv], { stdout: (t) => (out += t), stderr: (t) => (err += t) });
      return { code, out, err };
    };
    const { id } = await a.client.json<{ id: string }>('POST', '/vms', specToJson(GUESTS.echo));
    await a.client.json('POST', `/vms/${id}/start`);
    const moved = await run(a, 'migrate', id, '--to', b.url, '--to-token-file', b.tokenFile);
    expect(moved.code).toBe(0);
    const line = JSON.parse(moved.out);
    expect(Object.keys(line)).toEqual(['id', 'downtimeMs', 'totalMs', 'rounds', 'bytes', 'stopCopyMs', 'targetMs']);
    const echo = consoleLog();
    const ws = await echo.attach(b, line.id);
    ws.send('moved ');
    await until(() => echo.text === 'moved ');
    expect((await run(b, 'pause', line.id)).code).toBe(0);
    const file = join(dir, 'echo.snapshot');
    expect((await run(b, 'snapshot', line.id, '-o', file)).code).toBe(0);
    const restored = await run(a, 'restore', file);
    const back = restored.out.trim();
    const sections = async (h: HostProcess, vm: string) => {
      const s = decodeSnapshot(new Uint8Array(await h.client.bytes('GET', `/vms/${vm}/snapshot`)));
      return ['CORE', 'RAM_', 'DEVS', 'CONS'].map((t) => Buffer.from(s.section(t)).toString('hex')).join();
    };
    expect(await sections(a, back)).toBe(await sections(b, line.id));
    expect((await run(a, 'resume', back)).code).toBe(0);
    const again = consoleLog();
    (await again.attach(a, back)).send('and back');
    await until(() => again.text === 'and back');
    await a.client.json('DELETE', `/vms/${back}`);
    await b.client.json('DELETE', `/vms/${line.id}`);
  });

  it('refuses a damaged or cut-off incoming stream at its first bad snapshot, and nothing of it stays', async () => {
    const before = await b.client.json('GET', '/vms');
    const { id } = await a.client.json<{ id: string }>('POST', '/vms', specToJson(GUESTS.echo));
    const good = new Uint8Array(await a.client.bytes('GET', `/vms/${id}/snapshot`));
    await a.client.json('DELETE', `/vms/${id}`);
    const flipped = good.slice();
    flipped[5000] ^= 1;
    const decoded = decodeSnapshot(good);
    const asDiff = encodeSnapshot('diff', [...decoded.sections.values()]);
    const session = () => crypto.randomUUID();
    const cases: Array<{ frames: Array<Uint8Array | object>; refused?: RegExp }> = [
      { frames: [{ type: 'begin', session: session(), version: 1 }, flipped], refused: /CRC mismatch/ },
      { frames: [{ type: 'begin', session: session(), version: 1 }, asDiff], refused: /first snapshot must be a full one/ },
      { frames: [{ type: 'begin', session: session(), version: 1 }, Uint8Array.from([1, 2, 3])], refused: /less than a snapshot header/ },
      { frames: [{ type: 'begin', session: session(), version: 2 }], refused: /version 2 is not supported/ },
      { frames: [good], refused: /before "begin"/ },
      { frames: [{ type: 'begin', session: session(), version: 1 }, good, { type: 'last', run: true }, flipped], refused: /CRC mismatch/ },
      { frames: [{ type: 'begin', session: session(), version: 1 }, good] }, // and then the connection ends
    ];
    for (const { frames, refused } of cases) {
      const ws = await b.client.socket('/migrations');
      const replies: Array<Record<string, unknown>> = [];
      ws.on('message', (d: Buffer) => replies.push(JSON.parse(d.toString())));
      ws.resume();
      for (const f of frames) ws.send(f instanceof Uint8Array ? f : JSON.stringify(f));
      if (refused) {
        await new Promise((r) => ws.once('close', r));
        expect(replies.at(-1)).toEqual(expect.objectContaining({ type: 'refused', error: expect.stringMatching(refused) }));
      } else {
        await until(() => replies.length === 2);
        ws.terminate();
      }
      await sleep(50);
      expect(await b.client.json('GET', '/vms')).toEqual(before);
    }
  });
});

async function until(ok: () => boolean, ms = 10_000) {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(10);
  }
}

/** A TCP proxy to `target` that kills it (SIGKILL) once `upBytes` have gone to it, or when it answers with `down`. */
async function killingProxy(target: HostProcess, when: { upBytes?: number; down?: string }): Promise<{ url: string; server: Server }> {
  const port = Number(new URL(target.url).port);
  let fired = false;
  const fire = () => {
    if (!fired) target.child.kill('SIGKILL');
    fired = true;
  };
  const server = createServer((client) => {
    const up = connect(port, '127.0.0.1');
    let sent = 0;
    client.on('data', (d: Buffer) => {
      if (fired) return;
      if (when.upBytes !== undefined && sent + d.length >= when.upBytes) {
        up.write(d.subarray(0, when.upBytes - sent));
        return fire();
      }
      sent += d.length;
      up.write(d);
    });
    up.on('data', (d: Buffer) => {
      if (fired) return;
      if (when.down && d.includes(when.down)) return fire();
      client.write(d);
    });
    for (const s of [client, up]) s.on('error', () => {});
    up.on('close', () => client.destroy());
    client.on('close', () => up.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  return { url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`, server };
}
