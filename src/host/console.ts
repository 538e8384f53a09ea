// The console of a host's VM as WebSockets: clients attach and detach while
// the VM runs; output fans out to all of them, input from any goes to the VM.
//
// How to drive this (the host does, one hub per VM):
//   const hub = new ConsoleHub(vm);                 // takes the VM's output from now on
//   hub.attach(ws, (bytes) => vms.input(rec, bytes));
//   hub.close({ event: 'migrated', to, id });       // a last word to every client, then close
// On the socket: binary frames from the host are guest output; text frames
// are events as JSON ({"event":"state","state":"halted",...},
// {"event":"dropped","bytes":N}, {"event":"input-refused","error":...},
// {"event":"migrated"|"destroyed",...}); every frame from a client is input.
//
// Nothing grows without bound: while no client is attached the newest
// CONSOLE_BACKLOG bytes are kept (and sent to the next client that attaches);
// a client that reads slower than the guest prints gets nothing more once
// CONSOLE_SEND_LIMIT bytes wait for it, and what it missed is counted and
// told; a client that types faster than the guest reads is paused (TCP holds
// it back) once CONSOLE_INPUT_PENDING bytes wait.

import type WebSocket from 'ws';
import type { Vm } from '../hypervisor/hypervisor.js';
import { OUTPUT_LIMIT } from '../machine/console.js';

/** Bytes of output kept for the next client while none is attached. */
export const CONSOLE_BACKLOG = OUTPUT_LIMIT;
/** Bytes waiting to be sent to one client beyond which its output is dropped (and counted). */
export const CONSOLE_SEND_LIMIT = 256 * 1024;
/** Bytes of one client's input waiting for the VM beyond which the client is paused. */
export const CONSOLE_INPUT_PENDING = 64 * 1024;
/** The largest frame a console client may send. */
export const CONSOLE_FRAME_MAX = 64 * 1024;

interface Client {
  ws: WebSocket;
  /** Output bytes dropped since the client was last told. */
  untold: number;
}

export class ConsoleHub {
  private readonly clients = new Set<Client>();
  private backlog: Uint8Array[] = [];
  private backlogBytes = 0;
  /** Output bytes that reached no client: dropped from the backlog, or not sent to a slow client. */
  dropped = 0;
  private closed = false;

  constructor(vm: Vm) {
    vm.onOutput((bytes) => this.output(bytes));
    vm.onState((state, info) => this.event({ event: 'state', state, ...info }));
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Output kept for the next client now. */
  get backlogged(): number {
    return this.backlogBytes;
  }

  /** Bytes waiting to be sent to the clients, all together. */
  get buffered(): number {
    let n = 0;
    for (const c of this.clients) n += c.ws.bufferedAmount;
    return n;
  }

  private output(bytes: Uint8Array) {
    if (this.closed) return;
    let open = 0;
    for (const c of this.clients) if (c.ws.readyState === 1) open++;
    if (!open) {
      this.backlog.push(bytes);
      this.backlogBytes += bytes.length;
      while (this.backlogBytes > CONSOLE_BACKLOG) {
        const over = this.backlogBytes - CONSOLE_BACKLOG;
        const first = this.backlog[0];
        if (first.length <= over) {
          this.backlog.shift();
          this.backlogBytes -= first.length;
          this.dropped += first.length;
        } else {
          this.backlog[0] = first.subarray(over);
          this.backlogBytes -= over;
          this.dropped += over;
        }
      }
      return;
    }
    for (const c of this.clients) this.sendTo(c, bytes);
  }

  private sendTo(c: Client, bytes: Uint8Array) {
    if (c.ws.readyState !== 1) return;
    if (c.ws.bufferedAmount + bytes.length > CONSOLE_SEND_LIMIT) {
      c.untold += bytes.length;
      this.dropped += bytes.length;
      return;
    }
    if (c.untold) {
      c.ws.send(JSON.stringify({ event: 'dropped', bytes: c.untold }));
      c.untold = 0;
    }
    c.ws.send(bytes);
  }

  private event(e: Record<string, unknown>) {
    const text = JSON.stringify(e);
    for (const c of this.clients) if (c.ws.readyState === 1 && c.ws.bufferedAmount + text.length <= CONSOLE_SEND_LIMIT) c.ws.send(text);
  }

  /** A client attaches: it gets the backlog, then the output as it comes; what it sends is input (through `input`). */
  attach(ws: WebSocket, input: (bytes: Uint8Array) => Promise<void>) {
    if (this.closed) {
      ws.close(1001, 'the VM is gone');
      return;
    }
    const client: Client = { ws, untold: 0 };
    this.clients.add(client);
    for (const b of this.backlog) this.sendTo(client, b);
    this.backlog = [];
    this.backlogBytes = 0;
    let pending = 0;
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      pending += bytes.length;
      if (pending > CONSOLE_INPUT_PENDING) ws.pause();
      input(new Uint8Array(bytes)).then(
        () => {},
        (err: Error) => ws.readyState === 1 && ws.send(JSON.stringify({ event: 'input-refused', bytes: bytes.length, error: err.message })),
      ).finally(() => {
        pending -= bytes.length;
        if (ws.isPaused && pending <= CONSOLE_INPUT_PENDING / 2) ws.resume();
      });
    });
    ws.on('close', () => this.clients.delete(client));
    ws.on('error', () => this.clients.delete(client));
  }

  /** The VM left (destroyed, migrated): every client hears why, and is closed. */
  close(last: Record<string, unknown>) {
    this.event(last);
    this.closed = true;
    for (const c of this.clients) c.ws.close(1000, String(last.event));
    this.clients.clear();
    this.backlog = [];
  }
}
