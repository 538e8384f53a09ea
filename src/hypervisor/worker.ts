// One hypervisor worker: a VmHost that answers calls and keeps its running
// VMs scheduled between them. The same code serves a worker thread (Node
// worker_threads, browser Web Workers) and the calling thread (workers: 0).
//
// How to drive this: `new WorkerRuntime(post)`; feed it calls with
// `handle(message)`; it posts replies ({ reply, ok, value | error }) and
// events ({ event }) through `post`. As a worker thread this module wires
// itself to the thread's port.

import { VmHost, type VmEvent } from './vm-host.js';
import { workerPort } from '../platform/node.js';

export interface CallMessage {
  call: number;
  op: string;
  args: unknown[];
}

export type WorkerMessage =
  | { reply: number; ok: true; value: unknown }
  | { reply: number; ok: false; error: { name: string; message: string; code?: string; vm?: string; state?: string; action?: string } }
  | { event: VmEvent };

type Post = (message: WorkerMessage, transfer?: ArrayBuffer[]) => void;

const OPS = [
  'create', 'start', 'pause', 'resume', 'reset', 'shutdown', 'destroy', 'snapshot', 'diffSnapshot', 'restore', 'clone',
  'input', 'closeInput', 'setSchedule', 'metrics', 'runUntil', 'state', 'ids', 'peek',
] as const;

export class WorkerRuntime {
  readonly host: VmHost;
  private looping = false;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly post: Post) {
    this.host = new VmHost({ onEvent: (event) => this.post({ event }, event.type === 'output' ? [event.bytes.buffer as ArrayBuffer] : []) });
  }

  async handle(message: CallMessage) {
    try {
      if (!(OPS as readonly string[]).includes(message.op)) throw new Error(`unknown hypervisor call "${message.op}"`);
      const fn = (this.host as unknown as Record<string, (...a: unknown[]) => unknown>)[message.op];
      const value = await fn.apply(this.host, message.args);
      const transfer = value instanceof Uint8Array ? [value.buffer as ArrayBuffer] : [];
      this.post({ reply: message.call, ok: true, value }, transfer);
    } catch (err) {
      const e = err as Error & { code?: string; vm?: string; state?: string; action?: string };
      this.post({ reply: message.call, ok: false, error: { name: e.name, message: e.message, code: e.code, vm: e.vm, state: e.state, action: e.action } });
    }
    this.schedule();
  }

  /** Keeps the running VMs going, yielding to incoming calls every few milliseconds. */
  private schedule() {
    if (this.looping) return;
    this.looping = true;
    const step = () => {
      this.timer = null;
      this.host.runFor(8);
      if (!this.host.busy) {
        this.looping = false;
        return;
      }
      // Paced VMs not yet due: sleep until the first is (at most 20 ms); otherwise yield and go on.
      this.timer = setTimeout(step, this.host.idleMs === Infinity ? 0 : Math.min(this.host.idleMs, 20));
    };
    this.timer = setTimeout(step, 0);
  }

  stop() {
    if (this.timer) clearTimeout(this.timer);
    this.looping = false;
  }
}

// As a thread (Node worker_threads, a browser Web Worker): answer the hypervisor.
const port = workerPort();
if (port) {
  const runtime = new WorkerRuntime((m, transfer) => port.post(m, transfer ?? []));
  port.listen((m) => void runtime.handle(m as CallMessage));
}
