// Live migration of a running VM to another host: iterative pre-copy of its
// memory while it runs, a short stop-and-copy, and the target resumes it.
//
// How to drive this:
//   source: const r = await migrateOut(vms, rec, { url, token });  // { id, downtimeMs, totalMs, rounds, bytes }
//   target: acceptMigration(ws, vms, sessions)   // each WebSocket on GET /migrations
//           sessions.status(id)                  // GET /migrations/{session}
//
// The source pushes over one WebSocket to the target, with the target's token:
//   source -> {"type":"begin","session":S,"version":1}     target -> {"type":"ready"}
//   source -> a full snapshot taken while the VM runs       target -> {"type":"ack"}
//   source -> diffs of the pages dirtied meanwhile, each    target -> {"type":"ack"}
//             (while they halve: at most MAX_ROUNDS in all)
//   source stops the VM (in the call that would take the next round, once
//   the rounds stop halving), sends {"type":"last","run":true} and the last
//   diff (the last dirty pages, the registers, the devices, the console)
//   target loads the last diff (all or nothing: it is validated as a
//   snapshot is) and resumes the VM, in one call to its worker -> {"type":"started","id":ID,"loadMs":MS}
//   source destroys its VM.
// The target's worker checks each pre-copy snapshot as it comes (CRC,
// structure, kind, its place in the chain) and loads it at once into a
// paused VM that no one sees or runs (the full one builds it), so that the
// stop costs only the last diff; it refuses the stream at the first bad one
// ({"type":"refused"}) and keeps nothing of a stream that is refused or
// ends before the commit (the last snapshot): that VM goes. Until "started"
// the VM is the source's: a target that dies, refuses, or a connection that
// breaks, leaves it running on the source as it was (its own diff base
// too). If the connection breaks after the commit, the source asks the
// target (GET /migrations/S) whether it started the VM before it resumes
// its own: a target that cannot be reached then is taken not to have.

import { randomUUID } from 'node:crypto';
import type WebSocket from 'ws';
import type { SnapshotError } from '../hypervisor/snapshot.js';
import { HostClient, HostApiError } from './client.js';
import { HttpError } from './http.js';
import type { HostVm, HostVms } from './vms.js';

export const MIGRATION_VERSION = 1;
/** Pre-copy rounds at most (the full copy counts as the first). */
export const MAX_ROUNDS = 8;
/** Stop and copy once a round leaves this many dirty pages or fewer. */
export const STOP_PAGES = 8;
/** How long the source waits for each answer of the target. */
export const ANSWER_MS = 10_000;

export interface MigrationResult {
  /** The VM's id on the target. */
  id: string;
  /** From the VM's stop on the source to the target's word that it runs (an upper bound of its pause); 0 for a VM that was not running. */
  downtimeMs: number;
  totalMs: number;
  /** Pre-copy rounds while the VM ran (the full copy is the first); the stop-and-copy is not counted. */
  rounds: number;
  /** Snapshot bytes sent, all rounds and the stop-and-copy. */
  bytes: number;
  /** Of the downtime, this host's part: from the stop to the last diff sent (0 for a VM that was not running). */
  stopCopyMs: number;
  /** Of the downtime, the target's part, on its clock: from the last diff received to its worker's word that the VM runs (NaN when it did not say); the rest is the network, both ways. */
  targetMs: number;
}

const now = () => performance.timeOrigin + performance.now();

/** The messages of one WebSocket, one at a time, with a timeout; a closed socket rejects. */
class Link {
  private queue: Array<{ data: Buffer; binary: boolean }> = [];
  private waiter: { resolve: (m: { data: Buffer; binary: boolean }) => void; reject: (e: Error) => void } | null = null;
  closed: Error | null = null;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, binary: boolean) => {
      const m = { data, binary };
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w.resolve(m);
      } else this.queue.push(m);
    });
    const end = (why: string) => {
      this.closed ??= new Error(why);
      this.waiter?.reject(this.closed);
      this.waiter = null;
    };
    ws.on('close', (code: number, reason: Buffer) => end(`the connection closed (${code}${reason.length ? `: ${reason}` : ''})`));
    ws.on('error', (err: Error) => end(`the connection failed: ${err.message}`));
    ws.resume();
  }

  next(ms: number): Promise<{ data: Buffer; binary: boolean }> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Error(`no answer in ${ms} ms`));
      }, ms);
      this.waiter = {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
    });
  }

  /** The next message, which must be JSON of one of `types`; "refused" rejects with the target's reason. */
  async expect(types: string[], ms = ANSWER_MS): Promise<Record<string, unknown>> {
    const m = await this.next(ms);
    let msg: Record<string, unknown>;
    try {
      if (m.binary) throw new Error();
      msg = JSON.parse(m.data.toString('utf8'));
    } catch {
      throw new Error('the peer sent something that is not a migration message');
    }
    if (msg.type === 'refused') throw new RefusedError(String(msg.error));
    if (!types.includes(String(msg.type))) throw new Error(`the peer sent "${String(msg.type)}" where ${types.join(' or ')} was due`);
    return msg;
  }

  send(data: Uint8Array | Record<string, unknown>) {
    if (this.closed) throw this.closed;
    this.ws.send(data instanceof Uint8Array ? data : JSON.stringify(data));
  }
}

class RefusedError extends Error {}

// ---- The source ----------------------------------------------------------------------------------

/**
 * Moves a VM of this host to the host at `target.url`. Resolves once it runs
 * there and is gone from here; rejects (an HttpError 502 naming what went
 * wrong) with the VM still here, in the state it was in, when it cannot.
 */
export async function migrateOut(vms: HostVms, rec: HostVm, target: { url: string; token: string }): Promise<MigrationResult> {
  vms.idle(rec, 'migrate');
  const vm = rec.vm;
  if (!['created', 'running', 'paused', 'halted'].includes(vm.state)) throw new HttpError(409, `cannot migrate VM ${vm.id}: it is ${vm.state}`, 'state');
  rec.migrating = true;
  const t0 = now();
  const session = randomUUID();
  const client = new HostClient(target.url, target.token, { timeoutMs: ANSWER_MS });
  let link: Link | null = null;
  let copying = false;
  let stoppedHere = false;
  let committed = false;
  let release = () => {};
  let rounds = 0;
  let bytes = 0;
  const send = (b: Uint8Array) => {
    link!.send(b);
    bytes += b.length;
  };
  try {
    try {
      link = new Link(await client.socket('/migrations', { maxPayload: 1024, unmasked: true }));
      link.send({ type: 'begin', session, version: MIGRATION_VERSION });
      await link.expect(['ready']);
      // Pre-copy: everything, then what the VM dirtied meanwhile while that
      // halves each round; then stop and copy the rest. Input waits from the
      // second round on (any round may be the last), and then goes where the VM is.
      copying = true;
      let round = await vm.precopy();
      let stoppedAt: number | undefined;
      for (;;) {
        if (round.final) break;
        send(round.bytes);
        rounds++;
        await link.expect(['ack']);
        const stop = rounds >= MAX_ROUNDS || round.pages <= STOP_PAGES || vm.state !== 'running';
        rec.hold ??= new Promise<void>((resolve) => (release = resolve));
        round = await vm.precopy({ stop, stopAbove: Math.max(STOP_PAGES, round.pages / 2) });
        stoppedAt = round.stoppedAt;
        stoppedHere = stoppedAt !== undefined;
      }
      link.send({ type: 'last', run: stoppedHere });
      send(round.bytes);
      const stopCopyMs = stoppedAt !== undefined ? now() - stoppedAt : 0;
      committed = true;
      const started = await link.expect(['started']);
      const id = String(started.id);
      const downtimeMs = stoppedAt !== undefined ? now() - stoppedAt : 0;
      await finish(vms, rec, target, id);
      return { id, downtimeMs, totalMs: now() - t0, rounds, bytes, stopCopyMs, targetMs: typeof started.loadMs === 'number' ? started.loadMs : NaN };
    } catch (err) {
      // After the commit the target may have started it: ask before resuming here.
      if (committed && !(err instanceof RefusedError)) {
        link?.ws.terminate();
        const id = await startedThere(client, session);
        if (id) {
          await finish(vms, rec, target, id);
          return { id, downtimeMs: NaN, totalMs: now() - t0, rounds, bytes, stopCopyMs: NaN, targetMs: NaN };
        }
      }
      throw err;
    }
  } catch (err) {
    // The VM stays: as it was, running if it ran.
    if (copying) await vm.endPrecopy().catch(() => {});
    if (stoppedHere) await vm.resume().catch(() => {});
    const why = err instanceof HostApiError ? `the target refused: ${err.message}` : err instanceof RefusedError ? `the target refused the VM: ${err.message}` : `${(err as Error).message}`;
    throw new HttpError(502, `migration of VM ${vm.id} to ${target.url} failed (it goes on here): ${why}`, 'migration-failed');
  } finally {
    rec.migrating = false;
    rec.hold = null;
    release();
    link?.ws.close();
  }
}

/** The VM runs on the target: it goes from here, and the input that waited follows it. */
async function finish(vms: HostVms, rec: HostVm, target: { url: string; token: string }, id: string) {
  rec.movedTo = { ...target, id };
  await vms.destroy(rec, { event: 'migrated', to: target.url, id });
}

/** Whether the target started the VM of `session` (asked again while it is still restoring it, for a few seconds). */
async function startedThere(client: HostClient, session: string): Promise<string | null> {
  for (let i = 0; i < 50; i++) {
    try {
      const s = await client.json<{ state: string; id?: string }>('GET', `/migrations/${session}`);
      if (s.state === 'started' && s.id) return s.id;
      if (s.state !== 'committing') return null;
    } catch {
      return null;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

// ---- The target ----------------------------------------------------------------------------------

export type SessionState = 'receiving' | 'committing' | 'started' | 'failed';

/** The migrations this host took part in as a target, the last SESSIONS_KEPT of them. */
export class IncomingSessions {
  static readonly KEPT = 64;
  private readonly all = new Map<string, { state: SessionState; id?: string; error?: string }>();
  active = 0;
  started = 0;
  failed = 0;

  set(session: string, state: SessionState, extra: { id?: string; error?: string } = {}) {
    this.all.delete(session);
    this.all.set(session, { state, ...extra });
    if (state === 'started') this.started++;
    if (state === 'failed') this.failed++;
    while (this.all.size > IncomingSessions.KEPT) this.all.delete(this.all.keys().next().value!);
  }

  has(session: string): boolean {
    return this.all.has(session);
  }

  status(session: string) {
    const s = this.all.get(session);
    if (!s) throw new HttpError(404, `no migration ${session} on this host`);
    return { session, ...s };
  }
}

/** Migrations coming in at once at most. */
export const MAX_INCOMING = 4;

/**
 * Takes a VM pushed by another host over `ws` (already authorized). It is
 * no VM of this host's until the last snapshot is loaded; it is refused, and
 * nothing kept, at the first snapshot that does not check out, past
 * `limit` bytes in all, or when the stream ends before its commit.
 */
export function acceptMigration(ws: WebSocket, vms: HostVms, sessions: IncomingSessions, limit: number) {
  let session: string | null = null;
  // The VM, loaded (paused, seen by no one) from each snapshot as it comes.
  let stream: ReturnType<HostVms['restoreStream']> | null = null;
  let loaded = 0;
  let total = 0;
  let state: SessionState | 'new' = 'new';
  const refuse = (error: string, code?: string) => {
    if (ws.readyState === 1) ws.send(JSON.stringify({ type: 'refused', error, ...(code ? { code } : {}) }));
    end(error);
    ws.close(1008, 'refused');
  };
  const end = (error: string) => {
    if (session && (state === 'receiving' || state === 'new')) sessions.set(session, 'failed', { error });
    if (state !== 'started') state = 'failed';
    void stream?.abort();
    stream = null;
  };
  ws.on('close', () => {
    if (state === 'new' || state === 'receiving') end('the stream ended before its commit');
    if (session) sessions.active = Math.max(0, sessions.active - (counted ? 1 : 0));
    counted = false;
  });
  let counted = false;
  let last: { run: boolean } | null = null;
  // One message at a time, in order: each snapshot is loaded before the next message is looked at.
  let queue = Promise.resolve();
  ws.on('message', (data: Buffer, binary: boolean) => {
    queue = queue.then(async () => {
      if (state === 'failed' || state === 'started' || state === 'committing') return refuse('nothing more was due');
      if (binary) {
        if (state !== 'receiving') return refuse('a snapshot came before "begin"');
        total += data.length;
        if (total > limit) return refuse(`the stream is more than this host takes (${limit} bytes)`, 'too-large');
        const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
        if (last) return void commit(bytes, last.run);
        try {
          await stream!.push(bytes);
        } catch (err) {
          if (state === 'receiving') refuse((err as Error).message, (err as SnapshotError).code);
          return;
        }
        loaded++;
        if (state === 'receiving') ws.send(JSON.stringify({ type: 'ack' }));
        return;
      }
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(data.toString('utf8'));
      } catch {
        return refuse('a message that is not JSON');
      }
      if (state === 'new') {
        if (msg.type !== 'begin') return refuse('the stream must start with "begin"');
        if (msg.version !== MIGRATION_VERSION) return refuse(`migration version ${String(msg.version)} is not supported (this host speaks ${MIGRATION_VERSION})`);
        if (typeof msg.session !== 'string' || !/^[0-9a-f-]{36}$/.test(msg.session) || sessions.has(msg.session)) return refuse('a session id must be a new UUID');
        session = msg.session;
        if (sessions.active >= MAX_INCOMING) return refuse(`this host takes ${MAX_INCOMING} migrations at once`, 'busy');
        try {
          stream = vms.restoreStream(vms.reserve());
        } catch (err) {
          return refuse((err as Error).message, 'full');
        }
        sessions.active++;
        counted = true;
        state = 'receiving';
        sessions.set(session, 'receiving');
        ws.send(JSON.stringify({ type: 'ready' }));
        return;
      }
      if (msg.type !== 'last' || typeof msg.run !== 'boolean' || loaded === 0 || last) return refuse('expected "last" after the pre-copy');
      last = { run: msg.run };
    }).catch((err: Error) => refuse(err.message));
  });

  /** The last snapshot: loaded into the VM, all or nothing, and the VM runs here. */
  const commit = async (final: Uint8Array, run: boolean) => {
    state = 'committing';
    sessions.set(session!, 'committing');
    let rec: HostVm;
    const lastAt = now();
    try {
      rec = await stream!.end(final, { resume: run });
    } catch (err) {
      state = 'receiving'; // so that end() records the failure
      return refuse((err as Error).message, (err as SnapshotError).code);
    } finally {
      stream = null;
    }
    // The source gave up meanwhile: it keeps the VM; this copy goes.
    if (ws.readyState !== 1) {
      await vms.destroy(rec).catch(() => {});
      sessions.set(session!, 'failed', { error: 'the source went away before the VM started here' });
      state = 'failed';
      return;
    }
    state = 'started';
    sessions.set(session!, 'started', { id: rec.vm.id });
    ws.send(JSON.stringify({ type: 'started', id: rec.vm.id, state: rec.vm.state, loadMs: now() - lastAt }));
  };
}
