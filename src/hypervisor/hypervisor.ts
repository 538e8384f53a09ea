// The hypervisor: many isolated VMs on a pool of worker threads.
//
// How to drive this:
//   const hv = await Hypervisor.create({ workers: 2 });   // 0: everything on this thread
//   const vm = await hv.createVm({ profile: 'sim65', program: bytes }, { schedule: { weight: 2 } });
//   vm.onOutput((bytes) => process.stdout.write(bytes));
//   await vm.start();
//   await vm.pause();
//   const snap = await vm.snapshot();                  // Uint8Array
//   const copy = await hv.restoreVm(snap);             // a new VM (paused)
//   await hv.migrate(vm, 1);                           // continues on worker 1
//   await hv.close();                                  // ends the worker threads
//
// Each worker runs a VmHost (vm-host.ts) with its own Wasm memories and its
// own scheduler; calls travel as messages. A VM's `state` here is the last
// one its worker reported. Errors keep their type: VmStateError for a call in
// the wrong state, SnapshotError for a snapshot that is rejected.

import type { VmSpec } from './spec.js';
import { OUTPUT_LIMIT } from '../machine/console.js';
import { VmStateError, type PrecopyRound, type Schedule, type VmEvent, type VmMetrics, type VmState } from './vm-host.js';
import { SnapshotError, type SnapshotErrorCode } from './snapshot.js';
import { WorkerRuntime, HEARTBEAT_MS, type CallMessage, type HostMessage, type WorkerMessage } from './worker.js';
import { startWorker, defaultWorkerCount, type CoreSource, type StartWorkerOptions, type WorkerSource } from '../platform/node.js';
import { loadCoreModule } from '../core/wasm.js';
import type { MachineExit } from '../machine/machine.js';

/** A call to a worker that failed because the worker did (it died, stopped answering, or was replaced). */
export class WorkerError extends Error {
  constructor(readonly worker: number, readonly cause: string) {
    super(`hyper6502 worker ${worker} ${cause}`);
    this.name = 'WorkerError';
  }
}

/** Most worker threads a hypervisor starts. */
export const MAX_WORKERS = 256;
/** A worker thread that says nothing for this long while it has work is taken for stuck (default). */
export const WATCHDOG_MS = 10_000;
/** Cycles one runUntil call to a worker runs at most: longer runs are sliced, so that the worker answers meanwhile. */
const RUN_UNTIL_CHUNK = 50_000_000;

type Reply = Extract<WorkerMessage, { ok: true }>;

/** A worker reached through messages: a thread, or this thread (workers: 0). */
class WorkerChannel {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: unknown) => void }>();
  private closeFn: () => Promise<void> = async () => {};
  /** Until the worker is wired, messages wait here. */
  private early: Array<[HostMessage, ArrayBuffer[]]> = [];
  private postFn: (m: HostMessage, transfer: ArrayBuffer[]) => void = (m, t) => void this.early.push([m, t]);
  /** Why calls can no longer reach the worker, once they cannot. */
  dead: WorkerError | null = null;
  lastHeard = performance.now();
  /** The worker has said it is ready (a replacement, once it has). */
  ready = false;
  /** Output bytes received and not yet acknowledged. */
  private unacked = 0;

  constructor(
    readonly index: number,
    private readonly onEvent: (e: VmEvent) => void,
    private readonly onDeath: (channel: WorkerChannel) => void,
  ) {}

  /** Wires the channel to its worker; resolves once the worker says it is ready. Calls made before wait until then. */
  open(start: (receive: (m: unknown) => void) => Promise<{ post: (m: HostMessage, transfer: ArrayBuffer[]) => void; close: () => Promise<void> }>, waitReady: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      let ready = !waitReady;
      let opened: { post: (m: HostMessage, transfer: ArrayBuffer[]) => void } | null = null;
      const wire = () => {
        if (!ready || !opened) return;
        this.postFn = opened.post;
        for (const [m, t] of this.early.splice(0)) opened.post(m, t);
        resolve();
      };
      const receive = (m: unknown) => {
        this.lastHeard = performance.now();
        const msg = m as WorkerMessage | { died: string };
        if ('died' in msg) {
          if (!ready) reject(new WorkerError(this.index, `did not start: ${msg.died}`));
          this.fail(msg.died);
          return;
        }
        if ('ready' in msg) {
          ready = true;
          return wire();
        }
        this.receive(msg);
      };
      start(receive).then(
        (o) => {
          opened = o;
          this.closeFn = o.close;
          wire();
        },
        (err) => reject(new WorkerError(this.index, `did not start: ${(err as Error).message}`)),
      );
    });
  }

  private receive(m: WorkerMessage) {
    if ('heartbeat' in m || 'ready' in m) return;
    if ('event' in m) {
      if (m.event.type === 'output') this.acknowledge(m.event.bytes.length);
      return this.onEvent(m.event);
    }
    const p = this.pending.get(m.reply);
    if (!p) return;
    this.pending.delete(m.reply);
    if (m.ok) p.resolve(m);
    else p.reject(Object.assign(reviveError(m.error), { vmState: m.state }));
  }

  /** Gives the worker back credit for output taken (in batches: one message per turn of this thread). */
  private acknowledge(bytes: number) {
    if (this.unacked === 0) queueMicrotask(() => {
      const n = this.unacked;
      this.unacked = 0;
      if (!this.dead) this.postFn({ ack: n }, []);
    });
    this.unacked += bytes;
  }

  call(op: string, args: unknown[], transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (this.dead) return Promise.reject(this.dead);
    const call = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(call, { resolve, reject });
      try {
        this.postFn({ call, op, args }, transfer);
      } catch (err) {
        this.pending.delete(call);
        reject(err);
      }
    });
  }

  get busy(): boolean {
    return this.pending.size > 0;
  }

  /** The worker is gone: every call waiting for it, and every call from now on, rejects with why. */
  fail(reason: string) {
    if (this.dead) return;
    this.dead = new WorkerError(this.index, reason);
    for (const p of this.pending.values()) p.reject(this.dead);
    this.pending.clear();
    this.onDeath(this);
  }

  /** Ends the worker (a thread is terminated, whatever it is doing); calls waiting and calls to come reject. */
  async close(reason = 'was closed with the hypervisor') {
    this.dead ??= new WorkerError(this.index, reason);
    for (const p of this.pending.values()) p.reject(this.dead);
    this.pending.clear();
    await this.closeFn().catch(() => {});
  }
}

function reviveError(e: { name: string; message: string; code?: string; vm?: string; state?: string; action?: string }): Error {
  if (e.name === 'VmStateError') return new VmStateError(e.vm!, e.state as VmState, e.action!);
  if (e.name === 'SnapshotError') {
    const err = new SnapshotError(e.code as SnapshotErrorCode, '');
    err.message = e.message;
    return err;
  }
  const err = e.name === 'RangeError' ? new RangeError(e.message) : new Error(e.message);
  if (e.name !== 'RangeError') err.name = e.name;
  return err;
}

export interface HypervisorOptions {
  /** Worker threads (default: one per core, at most MAX_WORKERS); 0 runs every VM on the calling thread. */
  workers?: number;
  /** A worker that says nothing for this long while it has calls or running VMs is stopped and replaced (default WATCHDOG_MS; at least 4 heartbeats, 2000). */
  watchdogMs?: number;
  /** The Wasm core (default: hyper6502.wasm of the package or next to the browser bundle); compiled here once, handed to every worker. */
  wasm?: CoreSource;
  /** The worker script (default: the package's own), or in a browser a function that makes the Worker. */
  worker?: WorkerSource;
}

export interface PoolMetrics {
  vms: number;
  cycles: number;
  instructions: number;
  exits: Record<string, number>;
  dirtyPages: number;
  snapshotBytes: number;
  /** Sum of the VMs' emulated MHz. */
  mhz: number;
  perWorker: Array<{ vms: number; cycles: number }>;
}

/** The sums of VMs' metrics, each with the worker it runs on (of `workers`): what Hypervisor.metrics() says. */
export function poolMetrics(vms: Array<VmMetrics & { worker: number }>, workers: number): PoolMetrics {
  const pool: PoolMetrics = { vms: 0, cycles: 0, instructions: 0, exits: {}, dirtyPages: 0, snapshotBytes: 0, mhz: 0, perWorker: Array.from({ length: workers }, () => ({ vms: 0, cycles: 0 })) };
  for (const m of vms) {
    pool.vms++;
    pool.cycles += m.cycles;
    pool.instructions += m.instructions;
    pool.dirtyPages += m.dirtyPages;
    pool.snapshotBytes += m.snapshotBytes;
    pool.mhz += m.mhz;
    for (const [k, v] of Object.entries(m.exits)) pool.exits[k] = (pool.exits[k] ?? 0) + v;
    pool.perWorker[m.worker].vms++;
    pool.perWorker[m.worker].cycles += m.cycles;
  }
  return pool;
}

/** What went wrong around the VMs that nothing else reports: a listener that threw, a worker that died. */
export type HypervisorErrorListener = (error: Error, about: { vm?: string; worker?: number }) => void;

export class Hypervisor {
  private readonly vms = new Map<string, Vm>();
  private nextId = 1;
  private closed = false;
  private readonly counts: number[];
  private readonly errorListeners: HypervisorErrorListener[] = [];
  private watchdog: ReturnType<typeof setInterval> | null = null;

  private constructor(
    private readonly channels: WorkerChannel[],
    private readonly threads: boolean,
    private readonly watchdogMs: number,
    /** What a worker thread starts from: its script, and the core compiled once, here. */
    private readonly workerStart: StartWorkerOptions,
  ) {
    this.counts = channels.map(() => 0);
  }

  static async create(options: HypervisorOptions = {}): Promise<Hypervisor> {
    const workers = options.workers ?? Math.min(MAX_WORKERS, await defaultWorkerCount());
    if (!Number.isInteger(workers) || workers < 0 || workers > MAX_WORKERS) throw new RangeError(`workers must be a whole number from 0 to ${MAX_WORKERS}, got ${workers}`);
    const watchdogMs = options.watchdogMs ?? WATCHDOG_MS;
    // A worker says something at least every HEARTBEAT_MS: a shorter watch would take a busy worker for a stuck one.
    if (!(watchdogMs >= 4 * HEARTBEAT_MS && watchdogMs <= 3_600_000)) throw new RangeError(`watchdogMs must be from ${4 * HEARTBEAT_MS} to 3600000, got ${watchdogMs}`);
    let hv: Hypervisor | null = null;
    const onEvent = (e: VmEvent) => hv?.route(e);
    const onDeath = (c: WorkerChannel) => hv?.workerDied(c);
    const channels = Array.from({ length: Math.max(1, workers) }, (_, i) => new WorkerChannel(i, onEvent, onDeath));
    const core = await loadCoreModule(options.wasm);
    hv = new Hypervisor(channels, workers > 0, watchdogMs, { script: options.worker, core });
    try {
      await Promise.all(channels.map((c) => hv!.openChannel(c).then(() => (c.ready = true))));
    } catch (err) {
      await Promise.all(channels.map((c) => c.close('was stopped: another worker did not start')));
      throw err;
    }
    if (workers > 0) hv.startWatchdog();
    return hv;
  }

  private openChannel(c: WorkerChannel): Promise<void> {
    if (!this.threads) {
      return c.open(async (receive) => {
        const runtime = new WorkerRuntime((m) => queueMicrotask(() => receive(m)));
        return { post: (m) => void runtime.handle(m), close: async () => runtime.stop() };
      }, false);
    }
    return c.open(async (receive) => {
      const thread = await startWorker(c.index, receive, this.workerStart);
      return { post: (m, transfer) => thread.post(m, transfer), close: () => thread.close() };
    }, true);
  }

  /** A worker thread that has work and has said nothing for watchdogMs is stuck: stop it (its VMs fault) and start another. */
  private startWatchdog() {
    this.watchdog = setInterval(() => {
      const now = performance.now();
      this.channels.forEach((c, i) => {
        if (c.dead || now - c.lastHeard < this.watchdogMs) return;
        if (!c.busy && this.counts[i] === 0) return;
        c.fail(`stopped answering for ${Math.round(now - c.lastHeard)} ms (stuck in a guest's device or handler?)`);
      });
    }, Math.min(this.watchdogMs / 4, Math.max(HEARTBEAT_MS, 250)));
    (this.watchdog as { unref?: () => void }).unref?.();
  }

  /** A worker died: its VMs fault with the reason, and a new worker takes its place. */
  private workerDied(c: WorkerChannel) {
    for (const vm of this.vms.values()) if (vm.worker === c.index) vm.lost(c.dead!.cause);
    this.counts[c.index] = 0;
    this.report(c.dead!, { worker: c.index });
    if (this.closed) return;
    void c.close(c.dead!.cause).then(() => {
      if (this.closed) return;
      const fresh = new WorkerChannel(c.index, (e) => this.route(e), (d) => this.workerDied(d));
      this.channels[c.index] = fresh;
      this.openChannel(fresh).then(
        () => (fresh.ready = true),
        (err) => this.report(err as Error, { worker: c.index }),
      );
    });
  }

  /**
   * Stops worker `index` whatever it is doing (terminates its thread) and
   * starts another in its place: its VMs fault, with `reason`. For a worker
   * an operator finds wedged (the watchdog does the same on its own).
   */
  async restartWorker(index: number, reason = 'was restarted'): Promise<void> {
    const c = this.channel(index);
    if (!this.threads) throw new Error('restartWorker needs worker threads (this hypervisor runs its VMs on the calling thread)');
    c.fail(reason);
    await this.replaced(index);
  }

  /** Resolves once worker `index` (dead) has been replaced by a fresh one that answers. */
  private async replaced(index: number): Promise<void> {
    for (let i = 0; i < 600 && !this.closed; i++) {
      const c = this.channels[index];
      if (!c.dead && c.ready) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private route(e: VmEvent) {
    this.vms.get(e.vm)?.receive(e);
  }

  /** Hears of errors nothing else reports (a listener that threw, a worker that died). Without a listener they go to console.error. */
  onError(listener: HypervisorErrorListener) {
    this.errorListeners.push(listener);
  }

  /** @internal */
  report(error: Error, about: { vm?: string; worker?: number }) {
    if (!this.errorListeners.length) {
      console.error(`hyper6502: ${about.vm ? `VM ${about.vm}: ` : ''}${error.message}`);
      return;
    }
    for (const l of this.errorListeners) {
      try {
        l(error, about);
      } catch {
        // A listener of errors that throws has nowhere else to report to.
      }
    }
  }

  get workerCount(): number {
    return this.channels.length;
  }

  private channel(index: number): WorkerChannel {
    if (this.closed) throw new Error('the hypervisor is closed');
    const c = this.channels[index];
    if (!c) throw new RangeError(`no worker ${index} (this hypervisor has ${this.channels.length})`);
    return c;
  }

  /** The worker with the fewest VMs. */
  private leastLoaded(): number {
    let best = 0;
    for (let i = 1; i < this.counts.length; i++) if (this.counts[i] < this.counts[best]) best = i;
    return best;
  }

  private newId(): string {
    let id: string;
    do id = `vm${this.nextId++}`;
    while (this.vms.has(id));
    return id;
  }

  /** @internal: a VM handle joins or leaves the pool, or moves. */
  place(vm: Vm, worker: number | null) {
    if (this.vms.get(vm.id) === vm && vm.worker >= 0 && !vm.lostReason) this.counts[vm.worker]--;
    if (worker === null) {
      if (this.vms.get(vm.id) === vm) this.vms.delete(vm.id);
      return;
    }
    this.vms.set(vm.id, vm);
    vm.worker = worker;
    this.counts[worker]++;
  }

  /**
   * A new VM. An id of the caller's own must be free; a worker of the caller's
   * own must exist. `jit: true` runs its hot code compiled, `false` only the
   * interpreter; without it, the worker's default (HYPER6502_JIT: off unless
   * on). A setting given is kept in its snapshots: restored, cloned or migrated,
   * it keeps it; one without takes the default where it lands.
   */
  async createVm(spec: VmSpec, options: { worker?: number; schedule?: Schedule; id?: string; jit?: boolean } = {}): Promise<Vm> {
    if (this.closed) throw new Error('the hypervisor is closed');
    if (options.id !== undefined && (typeof options.id !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(options.id))) throw new RangeError(`a VM id is 1 to 64 letters, digits, _ . : -, got ${JSON.stringify(options.id)}`);
    const worker = options.worker ?? this.leastLoaded();
    const channel = this.channel(worker);
    const id = options.id ?? this.newId();
    if (this.vms.has(id)) throw new Error(`a VM ${id} exists already`);
    const vm = new Vm(this, id, -1, 'created');
    this.place(vm, worker);
    try {
      await channel.call('create', [spec, { id, schedule: options.schedule, jit: options.jit }]);
    } catch (err) {
      this.place(vm, null);
      throw err;
    }
    return vm;
  }

  /** A new VM from a full snapshot and the diffs after it. Nothing is created when any of them is rejected. */
  restoreVm(snapshot: Uint8Array, ...diffs: Uint8Array[]): Promise<Vm> {
    return this.restoreChain([snapshot, ...diffs]);
  }

  /**
   * The same from a list (a full snapshot, then its diffs); with `resume`, a
   * VM that comes back paused runs at once, in the same call to its worker
   * (the end of a live migration, where every call is downtime); with `jit`,
   * that JIT setting instead of the one the snapshot carries (see createVm).
   */
  async restoreChain(snapshots: Uint8Array[], options: { resume?: boolean; jit?: boolean } = {}): Promise<Vm> {
    if (this.closed) throw new Error('the hypervisor is closed');
    const worker = this.leastLoaded();
    const vm = new Vm(this, this.newId(), -1, 'paused');
    this.place(vm, worker);
    try {
      if (!Array.isArray(snapshots)) throw new SnapshotError('empty', 'no snapshot given');
      const copies = snapshots.map((s) => {
        if (!(s instanceof Uint8Array)) throw new SnapshotError('bad-magic', 'a snapshot must be bytes (a Uint8Array)');
        return s.slice();
      });
      const reply = await this.channel(worker).call('restore', [copies, { id: vm.id, resume: options.resume === true, jit: options.jit }], copies.map((c) => c.buffer as ArrayBuffer));
      vm.setState(reply.state as VmState);
    } catch (err) {
      this.place(vm, null);
      throw err;
    }
    return vm;
  }

  /**
   * The same a snapshot at a time, as they come (a migration's target):
   * push() the full snapshot, then each diff after it; each is checked and
   * loaded at once into a paused VM that nothing runs; end() loads the last
   * one and, with `resume`, runs the VM in that same call, so that only the
   * last diff is left to do then. A snapshot that does not check out
   * rejects (a SnapshotError) and leaves nothing, as does abort().
   */
  restoreStream(): RestoreStream {
    if (this.closed) throw new Error('the hypervisor is closed');
    const vm = new Vm(this, this.newId(), -1, 'paused');
    let placed = false;
    let over = false;
    const abort = async () => {
      if (over) return;
      over = true;
      if (!placed) return;
      await this.channel(vm.worker).call('destroy', [vm.id]).catch(() => {});
      this.place(vm, null);
    };
    const load = async (bytes: Uint8Array, resume: boolean) => {
      if (over) throw new Error('this restore is over');
      try {
        if (!(bytes instanceof Uint8Array)) throw new SnapshotError('bad-magic', 'a snapshot must be bytes (a Uint8Array)');
        const copy = bytes.slice();
        const first = !placed;
        if (first) this.place(vm, this.leastLoaded());
        placed = true;
        const reply = await this.channel(vm.worker).call(first ? 'restore' : 'applyDiff', first ? [[copy], { id: vm.id, resume }] : [vm.id, copy, { resume }], [copy.buffer as ArrayBuffer]);
        vm.setState(reply.state as VmState);
      } catch (err) {
        await abort();
        throw err;
      }
    };
    return {
      push: (bytes) => load(bytes, false),
      end: async (bytes, options = {}) => {
        if (!placed) throw new SnapshotError('bad-diff-chain', 'the last snapshot must follow a full one');
        await load(bytes, options.resume === true);
        over = true;
        return vm;
      },
      abort,
    };
  }

  /** A copy of a VM that is not running, with a new identity, on the same worker (paused). */
  cloneVm(vm: Vm): Promise<Vm> {
    return vm.exclusive(async () => {
      const copy = new Vm(this, this.newId(), -1, 'paused');
      this.place(copy, vm.worker);
      try {
        await this.channel(vm.worker).call('clone', [vm.id, { id: copy.id }]);
        copy.setState((await this.channel(copy.worker).call('state', [copy.id])).value as VmState);
      } catch (err) {
        this.place(copy, null);
        throw err;
      }
      return copy;
    });
  }

  /**
   * Moves a VM to another worker; a running VM goes on running there. Calls
   * to the VM meanwhile (input among them) wait, and then reach it where it
   * is: nothing acknowledged is lost. If the target refuses, the VM goes on
   * where it was.
   */
  migrate(vm: Vm, worker: number): Promise<void> {
    this.channel(worker);
    return vm.exclusive(async () => {
      if (worker === vm.worker) return;
      const source = vm.worker;
      const wasRunning = vm.state === 'running';
      if (wasRunning) await vm.direct('pause');
      const bytes = (await this.channel(source).call('snapshot', [vm.id])).value as Uint8Array;
      // Restore first: if the target refuses, the VM is still whole on its source.
      try {
        await this.channel(worker).call('restore', [[bytes], { keepId: true }], [bytes.buffer as ArrayBuffer]);
      } catch (err) {
        if (wasRunning) await vm.direct('resume');
        throw err;
      }
      await this.channel(source).call('destroy', [vm.id]);
      this.place(vm, worker);
      if (wasRunning) await vm.direct('resume');
    });
  }

  /** @internal */
  async call(vm: Vm, op: string, args: unknown[], transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (vm.lostReason) throw new WorkerError(vm.lostWorker, vm.lostReason);
    return this.channel(vm.worker).call(op, args, transfer);
  }

  list(): Vm[] {
    return [...this.vms.values()];
  }

  async metrics(): Promise<PoolMetrics> {
    const all = await Promise.all(
      this.list().map(async (vm) => {
        try {
          return { worker: vm.worker, m: await vm.metrics() };
        } catch {
          return null; // destroyed or lost meanwhile
        }
      }),
    );
    return poolMetrics(all.flatMap((e) => (e ? [{ ...e.m, worker: e.worker }] : [])), this.channels.length);
  }

  /** Ends the workers; every call still waiting rejects, and every call after this rejects at once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.watchdog) clearInterval(this.watchdog);
    await Promise.all(this.channels.map((c) => c.close()));
    for (const vm of this.vms.values()) vm.lost('was closed with the hypervisor', false);
    this.vms.clear();
  }
}

export type OutputListener = (bytes: Uint8Array) => void;
export type StateListener = (state: VmState, info: { reason?: string; exitCode?: number | null; error?: string }) => void;

/**
 * A VM of the hypervisor. Calls are asynchronous: they travel to its worker,
 * one after another in the order they were made (a migration or a clone
 * waits for the calls before it, and the calls after it wait for it).
 */
export class Vm {
  private outputListeners: OutputListener[] = [];
  private stateListeners: StateListener[] = [];
  private buffered: Uint8Array[] = [];
  private bufferedBytes = 0;
  /** Output bytes dropped because nobody took them and the buffer was full. */
  outputDropped = 0;
  /** The guest's exit code, once it exited. */
  exitCode: number | null = null;
  /** Why the VM last stopped (exit, jam, breakpoint, fault, ...). */
  reason?: string;
  error?: string;
  private current: VmState;
  private queue: Promise<unknown> = Promise.resolve();
  /** @internal Why the VM can no longer be reached (its worker died, or the hypervisor closed). */
  lostReason: string | null = null;
  /** @internal */
  lostWorker = -1;

  constructor(
    private readonly hv: Hypervisor,
    readonly id: string,
    public worker: number,
    state: VmState,
  ) {
    this.current = state;
  }

  get state(): VmState {
    return this.current;
  }

  /** @internal */
  setState(state: VmState) {
    this.current = state;
  }

  /** @internal: its worker is gone: the VM is faulted with the reason, and every call rejects. */
  lost(reason: string, tell = true) {
    if (this.lostReason) return;
    this.lostReason = reason;
    this.lostWorker = this.worker;
    if (tell) this.receive({ type: 'state', vm: this.id, state: 'faulted', reason: 'fault', error: new WorkerError(this.worker, reason).message });
    for (const w of this.waiters.splice(0)) w.reject(new WorkerError(this.worker, reason));
  }

  /** Calls a listener; one that throws is reported, never fatal. */
  private tell<A extends unknown[]>(listener: (...a: A) => void, ...args: A) {
    try {
      listener(...args);
    } catch (err) {
      this.hv.report(err instanceof Error ? err : new Error(String(err)), { vm: this.id });
    }
  }

  /** @internal */
  receive(e: VmEvent) {
    if (e.type === 'waiting') {
      this.isWaiting = true;
      for (const w of this.waiters.splice(0)) w.resolve();
      return;
    }
    if (e.type === 'output') {
      if (this.outputListeners.length) for (const l of this.outputListeners) this.tell(l, e.bytes);
      else if (this.bufferedBytes + e.bytes.length <= OUTPUT_LIMIT) {
        this.buffered.push(e.bytes);
        this.bufferedBytes += e.bytes.length;
      } else this.outputDropped += e.bytes.length;
      return;
    }
    this.current = e.state;
    this.reason = e.reason;
    this.exitCode = e.exitCode ?? null;
    this.error = e.error;
    for (const l of this.stateListeners) this.tell(l, e.state, { reason: e.reason, exitCode: e.exitCode, error: e.error });
    if (e.state !== 'running') {
      // It will not wait for input in this state: whoever waits for that hears why.
      for (const w of this.waiters.splice(0)) w.reject(new VmStateError(this.id, e.state, 'wait for input in'));
    }
  }

  /** Whether the guest waits for input now (as its worker last said). */
  get waiting(): boolean {
    return this.isWaiting && this.current === 'running';
  }
  private isWaiting = false;
  private waiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];

  /**
   * Resolves once the guest waits for input (a prompt): at once if it does
   * now. Typing a line only then is how a person types, and what keeps a
   * guest that looks at the keyboard while it runs from eating it. Rejects
   * when the VM stops running instead (it ended, faulted, was paused).
   */
  whenWaiting(): Promise<void> {
    if (this.waiting) return Promise.resolve();
    if (this.lostReason) return Promise.reject(new WorkerError(this.lostWorker, this.lostReason));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Receives the guest's output from now on (and what was buffered before). */
  onOutput(listener: OutputListener) {
    this.outputListeners.push(listener);
    for (const b of this.buffered) this.tell(listener, b);
    this.buffered = [];
    this.bufferedBytes = 0;
  }

  onState(listener: StateListener) {
    this.stateListeners.push(listener);
  }

  /** The output buffered since the last call (when no listener takes it). */
  takeOutput(): Uint8Array {
    const out = new Uint8Array(this.bufferedBytes);
    let p = 0;
    for (const b of this.buffered) {
      out.set(b, p);
      p += b.length;
    }
    this.buffered = [];
    this.bufferedBytes = 0;
    return out;
  }

  /** @internal Runs `task` when the calls made before it are done; the calls after wait for it. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => {});
    return run;
  }

  /** @internal A call to the worker now (inside exclusive), keeping the state it reports. */
  async direct(op: string, args: unknown[] = [], transfer: ArrayBuffer[] = []): Promise<unknown> {
    try {
      const reply = await this.hv.call(this, op, [this.id, ...args], transfer);
      if (reply.state) this.current = reply.state as VmState;
      return reply.value;
    } catch (err) {
      const state = (err as { vmState?: string }).vmState;
      if (state) this.current = state as VmState;
      throw err;
    }
  }

  private op(op: string, args: unknown[] = []): Promise<unknown> {
    return this.exclusive(() => this.direct(op, args));
  }

  start() { return this.op('start') as Promise<void>; }
  pause() { return this.op('pause') as Promise<void>; }
  resume() { return this.op('resume') as Promise<void>; }
  reset() { return this.op('reset') as Promise<void>; }
  shutdown() { return this.op('shutdown') as Promise<void>; }

  destroy(): Promise<void> {
    return this.exclusive(async () => {
      if (!this.lostReason) await this.direct('destroy');
      this.hv.place(this, null);
      this.current = 'stopped';
    });
  }

  /** A full snapshot (the VM must not be running: pause it first). */
  snapshot(): Promise<Uint8Array> { return this.op('snapshot') as Promise<Uint8Array>; }
  /** The pages dirtied since the last snapshot, plus the small state. */
  diffSnapshot(): Promise<Uint8Array> { return this.op('diffSnapshot') as Promise<Uint8Array>; }

  /**
   * Pre-copy, to move the VM to another host (see VmHost.precopy): a snapshot
   * taken while it runs, full the first time, then the pages dirtied since
   * the one before; `stop` pauses it first (the last one), `stopAbove: N`
   * does when more than N pages are dirty. Its own snapshots
   * wait for endPrecopy(), which a VM that stays here needs.
   */
  precopy(options: { stop?: boolean; stopAbove?: number } = {}) { return this.op('precopy', [options]) as Promise<PrecopyRound>; }
  endPrecopy() { return this.op('endPrecopy') as Promise<void>; }

  /** A copy with a new identity, on the same worker; it starts paused. */
  clone(): Promise<Vm> {
    return this.hv.cloneVm(this);
  }

  /** Queues input for the guest; it is not lost however the VM moves. */
  input(data: Uint8Array | string) {
    this.isWaiting = false;
    return this.op('input', [data]) as Promise<void>;
  }
  closeInput() { return this.op('closeInput') as Promise<void>; }
  setSchedule(schedule: Schedule) { return this.op('setSchedule', [schedule]) as Promise<void>; }
  metrics() { return this.op('metrics') as Promise<VmMetrics>; }
  /** `length` bytes of the VM's memory from `address` (e.g. to draw its screen). */
  peek(address: number, length: number) { return this.op('peek', [address, length]) as Promise<Uint8Array>; }

  /**
   * Runs a VM that is not running until its cycle counter reaches `cycles`
   * (for tests and stepping); a long run goes in slices, so that its worker
   * answers other calls meanwhile.
   */
  runUntil(cycles: number): Promise<MachineExit | null> {
    if (typeof cycles !== 'number' || !Number.isFinite(cycles) || cycles < 0 || cycles >= 2 ** 53) {
      return Promise.reject(new RangeError(`runUntil needs a cycle count from 0 to 2^53, got ${String(cycles)}`));
    }
    return this.exclusive(async () => {
      for (;;) {
        const m = (await this.direct('metrics')) as VmMetrics;
        const target = Math.min(cycles, m.cycles + RUN_UNTIL_CHUNK);
        const exit = (await this.direct('runUntil', [target])) as MachineExit | null;
        if (target >= cycles || !exit || exit.reason !== 'budget') return exit;
      }
    });
  }
}

/** A VM restored a snapshot at a time: see Hypervisor.restoreStream(). */
export interface RestoreStream {
  /** The full snapshot first, then each diff after it. */
  push(bytes: Uint8Array): Promise<void>;
  /** The last diff: the VM is this hypervisor's from now on (running, with `resume`, when it comes back paused). */
  end(bytes: Uint8Array, options?: { resume?: boolean }): Promise<Vm>;
  /** Drops what was loaded so far. */
  abort(): Promise<void>;
}
