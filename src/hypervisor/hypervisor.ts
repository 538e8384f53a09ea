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
import { VmStateError, type Schedule, type VmEvent, type VmMetrics, type VmState } from './vm-host.js';
import { SnapshotError, type SnapshotErrorCode } from './snapshot.js';
import { WorkerRuntime, type CallMessage, type WorkerMessage } from './worker.js';
import { startWorker, defaultWorkerCount, type CoreSource, type StartWorkerOptions, type WorkerSource } from '../platform/node.js';
import { loadCoreModule } from '../core/wasm.js';
import type { MachineExit } from '../machine/machine.js';

interface Channel {
  call(op: string, args: unknown[], transfer?: ArrayBuffer[]): Promise<unknown>;
  close(): Promise<void>;
}

/** A worker reached through messages: a thread, or this thread (workers: 0). */
class WorkerChannel implements Channel {
  private next = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private closeFn: () => Promise<void>;
  private postFn: (m: CallMessage, transfer: ArrayBuffer[]) => void;

  constructor(open: (receive: (m: WorkerMessage) => void) => { post: (m: CallMessage, transfer: ArrayBuffer[]) => void; close: () => Promise<void> }, private readonly onEvent: (e: VmEvent) => void) {
    const opened = open((m) => this.receive(m));
    this.postFn = opened.post;
    this.closeFn = opened.close;
  }

  private receive(m: WorkerMessage) {
    if ('event' in m) return this.onEvent(m.event);
    const p = this.pending.get(m.reply);
    if (!p) return;
    this.pending.delete(m.reply);
    if (m.ok) p.resolve(m.value);
    else p.reject(reviveError(m.error));
  }

  call(op: string, args: unknown[], transfer: ArrayBuffer[] = []): Promise<unknown> {
    const call = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(call, { resolve, reject });
      this.postFn({ call, op, args }, transfer);
    });
  }

  async close() {
    for (const p of this.pending.values()) p.reject(new Error('the hypervisor was closed'));
    this.pending.clear();
    await this.closeFn();
  }
}

function reviveError(e: { name: string; message: string; code?: string; vm?: string; state?: string; action?: string }): Error {
  if (e.name === 'VmStateError') return new VmStateError(e.vm!, e.state as VmState, e.action!);
  if (e.name === 'SnapshotError') {
    const err = new SnapshotError(e.code as SnapshotErrorCode, '');
    err.message = e.message;
    return err;
  }
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

async function threadChannel(index: number, onEvent: (e: VmEvent) => void, options: StartWorkerOptions): Promise<Channel> {
  let receiveInto: (m: WorkerMessage) => void = () => {};
  const thread = await startWorker(index, (m) => receiveInto(m as WorkerMessage), options);
  return new WorkerChannel((receive) => {
    receiveInto = receive;
    return { post: (m, transfer) => thread.post(m, transfer), close: () => thread.close() };
  }, onEvent);
}

function localChannel(onEvent: (e: VmEvent) => void): Channel {
  return new WorkerChannel((receive) => {
    const runtime = new WorkerRuntime((m) => queueMicrotask(() => receive(m)));
    return { post: (m) => void runtime.handle(m), close: async () => runtime.stop() };
  }, onEvent);
}

export interface HypervisorOptions {
  /** Worker threads (default: one per core); 0 runs every VM on the calling thread. */
  workers?: number;
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

export class Hypervisor {
  private readonly vms = new Map<string, Vm>();
  private nextId = 1;

  private constructor(private readonly channels: Channel[]) {}

  static async create(options: HypervisorOptions = {}): Promise<Hypervisor> {
    const workers = options.workers ?? (await defaultWorkerCount());
    if (!Number.isInteger(workers) || workers < 0) throw new RangeError(`workers must be a whole number >= 0, got ${workers}`);
    // The hypervisor's own event router: a VM's events reach its handle whatever worker it is on.
    let route: (e: VmEvent) => void = () => {};
    const onEvent = (e: VmEvent) => route(e);
    const core = await loadCoreModule(options.wasm);
    const channels = workers === 0 ? [localChannel(onEvent)] : await Promise.all(Array.from({ length: workers }, (_, i) => threadChannel(i, onEvent, { script: options.worker, core })));
    const hv = new Hypervisor(channels);
    route = (e) => hv.vms.get(e.vm)?.receive(e);
    return hv;
  }

  get workerCount(): number {
    return this.channels.length;
  }

  private channel(index: number): Channel {
    const c = this.channels[index];
    if (!c) throw new RangeError(`no worker ${index} (this hypervisor has ${this.channels.length})`);
    return c;
  }

  /** The worker with the fewest VMs. */
  private leastLoaded(): number {
    const counts = this.channels.map(() => 0);
    for (const vm of this.vms.values()) counts[vm.worker]++;
    return counts.indexOf(Math.min(...counts));
  }

  private newId(): string {
    return `vm${this.nextId++}`;
  }

  async createVm(spec: VmSpec, options: { worker?: number; schedule?: Schedule; id?: string } = {}): Promise<Vm> {
    const worker = options.worker ?? this.leastLoaded();
    const id = options.id ?? this.newId();
    if (this.vms.has(id)) throw new Error(`a VM ${id} exists already`);
    const vm = new Vm(this, id, worker, 'created');
    this.vms.set(id, vm);
    try {
      await this.channel(worker).call('create', [spec, { id, schedule: options.schedule }]);
    } catch (err) {
      this.vms.delete(id);
      throw err;
    }
    return vm;
  }

  /** A new VM from a full snapshot and the diffs after it. Nothing is created when any of them is rejected. */
  async restoreVm(snapshot: Uint8Array, ...diffs: Uint8Array[]): Promise<Vm> {
    return this.restoreOn(this.leastLoaded(), [snapshot, ...diffs], this.newId(), false);
  }

  private async restoreOn(worker: number, snapshots: Uint8Array[], id: string, keepId: boolean): Promise<Vm> {
    const vm = new Vm(this, id, worker, 'paused');
    this.vms.set(id, vm);
    try {
      const copies = snapshots.map((s) => s.slice());
      const restored = (await this.channel(worker).call('restore', [copies, { id, keepId }], copies.map((c) => c.buffer as ArrayBuffer))) as string;
      vm.setState((await this.channel(worker).call('state', [restored])) as VmState);
    } catch (err) {
      this.vms.delete(id);
      throw err;
    }
    return vm;
  }

  /** A copy of a VM that is not running, with a new identity, on the same worker (paused). */
  async cloneVm(vm: Vm): Promise<Vm> {
    const id = this.newId();
    const copy = new Vm(this, id, vm.worker, 'paused');
    this.vms.set(id, copy);
    try {
      await this.call(vm, 'clone', [vm.id, { id }]);
      copy.setState((await this.call(copy, 'state', [id])) as VmState);
    } catch (err) {
      this.vms.delete(id);
      throw err;
    }
    return copy;
  }

  /** Moves a VM to another worker; a running VM goes on running there. */
  async migrate(vm: Vm, worker: number): Promise<void> {
    this.channel(worker);
    if (worker === vm.worker) return;
    const wasRunning = vm.state === 'running';
    if (wasRunning) await vm.pause();
    const bytes = (await this.call(vm, 'snapshot', [vm.id])) as Uint8Array;
    const source = vm.worker;
    // Restore first: if the target refuses, the VM is still whole on its source.
    try {
      await this.channel(worker).call('restore', [[bytes], { keepId: true }], [bytes.buffer as ArrayBuffer]);
    } catch (err) {
      if (wasRunning) await vm.resume();
      throw err;
    }
    await this.channel(source).call('destroy', [vm.id]);
    vm.worker = worker;
    if (wasRunning) await vm.resume();
  }

  /** @internal */
  call(vm: Vm, op: string, args: unknown[]): Promise<unknown> {
    return this.channel(vm.worker).call(op, args);
  }

  /** @internal */
  forget(vm: Vm) {
    this.vms.delete(vm.id);
  }

  list(): Vm[] {
    return [...this.vms.values()];
  }

  async metrics(): Promise<PoolMetrics> {
    const all = await Promise.all(this.list().map(async (vm) => ({ worker: vm.worker, m: await vm.metrics() })));
    const pool: PoolMetrics = { vms: all.length, cycles: 0, instructions: 0, exits: {}, dirtyPages: 0, snapshotBytes: 0, mhz: 0, perWorker: this.channels.map(() => ({ vms: 0, cycles: 0 })) };
    for (const { worker, m } of all) {
      pool.cycles += m.cycles;
      pool.instructions += m.instructions;
      pool.dirtyPages += m.dirtyPages;
      pool.snapshotBytes += m.snapshotBytes;
      pool.mhz += m.mhz;
      for (const [k, v] of Object.entries(m.exits)) pool.exits[k] = (pool.exits[k] ?? 0) + v;
      pool.perWorker[worker].vms++;
      pool.perWorker[worker].cycles += m.cycles;
    }
    return pool;
  }

  async close(): Promise<void> {
    await Promise.all(this.channels.map((c) => c.close()));
    this.vms.clear();
  }
}

export type OutputListener = (bytes: Uint8Array) => void;
export type StateListener = (state: VmState, info: { reason?: string; exitCode?: number | null; error?: string }) => void;

/** A VM of the hypervisor. Calls are asynchronous: they travel to its worker. */
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

  /** @internal */
  receive(e: VmEvent) {
    if (e.type === 'waiting') {
      this.isWaiting = true;
      for (const w of this.waiters.splice(0)) w();
      return;
    }
    if (e.type === 'output') {
      if (this.outputListeners.length) for (const l of this.outputListeners) l(e.bytes);
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
    for (const l of this.stateListeners) l(e.state, { reason: e.reason, exitCode: e.exitCode, error: e.error });
  }

  /** Whether the guest waits for input now (as its worker last said). */
  get waiting(): boolean {
    return this.isWaiting && this.current === 'running';
  }
  private isWaiting = false;
  private waiters: Array<() => void> = [];

  /**
   * Resolves once the guest waits for input (a prompt): at once if it does
   * now. Typing a line only then is how a person types, and what keeps a
   * guest that looks at the keyboard while it runs from eating it.
   */
  whenWaiting(): Promise<void> {
    if (this.waiting) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Receives the guest's output from now on (and what was buffered before). */
  onOutput(listener: OutputListener) {
    this.outputListeners.push(listener);
    for (const b of this.buffered) listener(b);
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

  private async op(op: string, args: unknown[] = []): Promise<unknown> {
    const value = await this.hv.call(this, op, [this.id, ...args]);
    this.current = (await this.hv.call(this, 'state', [this.id])) as VmState;
    return value;
  }

  start() { return this.op('start') as Promise<void>; }
  pause() { return this.op('pause') as Promise<void>; }
  resume() { return this.op('resume') as Promise<void>; }
  reset() { return this.op('reset') as Promise<void>; }
  shutdown() { return this.op('shutdown') as Promise<void>; }

  async destroy(): Promise<void> {
    await this.hv.call(this, 'destroy', [this.id]);
    this.hv.forget(this);
    this.current = 'stopped';
  }

  /** A full snapshot (the VM must not be running: pause it first). */
  snapshot(): Promise<Uint8Array> { return this.op('snapshot') as Promise<Uint8Array>; }
  /** The pages dirtied since the last snapshot, plus the small state. */
  diffSnapshot(): Promise<Uint8Array> { return this.op('diffSnapshot') as Promise<Uint8Array>; }

  /** A copy with a new identity, on the same worker; it starts paused. */
  clone(): Promise<Vm> {
    return this.hv.cloneVm(this);
  }

  input(data: Uint8Array | string) {
    this.isWaiting = false;
    return this.op('input', [data]) as Promise<void>;
  }
  closeInput() { return this.op('closeInput') as Promise<void>; }
  setSchedule(schedule: Schedule) { return this.op('setSchedule', [schedule]) as Promise<void>; }
  metrics() { return this.hv.call(this, 'metrics', [this.id]) as Promise<VmMetrics>; }
  /** `length` bytes of the VM's memory from `address` (e.g. to draw its screen). */
  peek(address: number, length: number) { return this.hv.call(this, 'peek', [this.id, address, length]) as Promise<Uint8Array>; }
  /** Runs a VM that is not running until its cycle counter reaches `cycles` (for tests and stepping). */
  runUntil(cycles: number) { return this.op('runUntil', [cycles]) as Promise<MachineExit | null>; }
}
