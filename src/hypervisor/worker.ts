// One hypervisor worker: a VmHost that answers calls and keeps its running
// VMs scheduled between them. The same code serves a worker thread (Node
// worker_threads, browser Web Workers) and the calling thread (workers: 0).
//
// How to drive this: `new WorkerRuntime(post)`; feed it messages with
// `handle(message)`: calls ({ call, op, args }) and output credit ({ ack });
// it posts replies ({ reply, ok, value | error, state }) and events
// ({ event }) through `post`. As a worker thread this module wires itself to
// the thread's port, says { ready } once it is, and { heartbeat } every
// HEARTBEAT_MS while its thread turns, so that a stuck thread is noticed.
//
// Output is handed over only while the hypervisor has taken what was sent
// before (OUTPUT_IN_FLIGHT bytes at most, acknowledged with { ack }): a busy
// receiving thread holds the guests' output back in their bounded consoles,
// never in a queue of messages that grows.

import { VmHost, type VmEvent } from './vm-host.js';
import { workerPort } from '../platform/node.js';

export interface CallMessage {
  call: number;
  op: string;
  args: unknown[];
}

/** Bytes of output a worker sends before the hypervisor acknowledges them. */
export const OUTPUT_IN_FLIGHT = 4 * 1024 * 1024;
/** How long a worker runs its VMs before it looks at its calls again. */
export const STEP_MS = 4;
/** How often a worker thread says it is alive. */
export const HEARTBEAT_MS = 500;

export type WorkerMessage =
  | { reply: number; ok: true; value: unknown; state?: string }
  | { reply: number; ok: false; error: { name: string; message: string; code?: string; vm?: string; state?: string; action?: string }; state?: string }
  | { event: VmEvent }
  | { ready: true }
  | { heartbeat: number };

export type HostMessage = CallMessage | { ack: number };

type Post = (message: WorkerMessage, transfer?: ArrayBuffer[]) => void;

const OPS = [
  'create', 'start', 'pause', 'resume', 'reset', 'shutdown', 'destroy', 'snapshot', 'diffSnapshot', 'restore', 'applyDiff', 'clone',
  'input', 'closeInput', 'setSchedule', 'metrics', 'runUntil', 'state', 'ids', 'peek', 'precopy', 'endPrecopy',
] as const;

export class WorkerRuntime {
  readonly host: VmHost;
  private looping = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private immediate: ReturnType<typeof setImmediate> | null = null;
  private inFlight = 0;

  constructor(private readonly post: Post) {
    this.host = new VmHost({
      onEvent: (event) => {
        if (event.type === 'output') this.inFlight += event.bytes.length;
        this.post({ event }, event.type === 'output' ? [event.bytes.buffer as ArrayBuffer] : []);
      },
      outputRoom: () => OUTPUT_IN_FLIGHT - this.inFlight,
    });
  }

  async handle(message: HostMessage) {
    if ('ack' in message) {
      this.inFlight = Math.max(0, this.inFlight - message.ack);
      this.host.flushAll();
      return this.schedule();
    }
    const vm = typeof message.args?.[0] === 'string' ? (message.args[0] as string) : null;
    try {
      if (!(OPS as readonly string[]).includes(message.op)) throw new Error(`unknown hypervisor call "${message.op}"`);
      const fn = (this.host as unknown as Record<string, (...a: unknown[]) => unknown>)[message.op];
      const value = await fn.apply(this.host, message.args);
      const bytes = value instanceof Uint8Array ? value : (value as { bytes?: unknown } | null)?.bytes;
      const transfer = bytes instanceof Uint8Array ? [bytes.buffer as ArrayBuffer] : [];
      // A restore answers with the new VM's state too (its id is the value).
      this.post({ reply: message.call, ok: true, value, state: this.stateOf(message.op === 'restore' ? (value as string) : vm) }, transfer);
    } catch (err) {
      const e = err as Error & { code?: string; vm?: string; state?: string; action?: string };
      this.post({ reply: message.call, ok: false, error: { name: e.name, message: e.message, code: e.code, vm: e.vm, state: e.state, action: e.action }, state: this.stateOf(vm) });
    }
    this.schedule();
  }

  /** The state of VM `id` after a call, when there is such a VM (it saves the caller a second call). */
  private stateOf(id: string | null): string | undefined {
    return id !== null && this.host.has(id) ? this.host.state(id) : undefined;
  }

  /**
   * Keeps the running VMs going, yielding to incoming calls every STEP_MS
   * (a call waits for the step under way, no more). Where there is
   * setImmediate (Node), the next step follows the calls at once; a timer
   * of 0 would wait a millisecond each time.
   */
  private schedule() {
    if (this.looping) return;
    this.looping = true;
    const step = () => {
      this.timer = null;
      this.immediate = null;
      this.host.runFor(STEP_MS);
      if (!this.host.busy) {
        this.looping = false;
        return;
      }
      // Paced VMs not yet due: sleep until the first is (at most 20 ms); otherwise yield and go on.
      const wait = this.host.idleMs === Infinity ? 0 : Math.min(this.host.idleMs, 20);
      if (wait === 0 && typeof setImmediate === 'function') this.immediate = setImmediate(step);
      else this.timer = setTimeout(step, wait);
    };
    this.timer = setTimeout(step, 0);
  }

  stop() {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.looping = false;
  }
}

// As a thread (Node worker_threads, a browser Web Worker): answer the hypervisor.
const port = workerPort();
if (port) {
  const runtime = new WorkerRuntime((m, transfer) => port.post(m, transfer ?? []));
  port.listen((m) => void runtime.handle(m as HostMessage));
  let beat = 0;
  setInterval(() => port.post({ heartbeat: ++beat }, []), HEARTBEAT_MS);
  port.post({ ready: true }, []);
}
