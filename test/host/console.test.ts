// The console hub on its own, with sockets that never drain: output past
// CONSOLE_SEND_LIMIT is dropped, counted and told, never queued; the
// backlog kept while no client is attached stays within CONSOLE_BACKLOG and
// keeps the newest bytes; input past CONSOLE_INPUT_PENDING pauses the client.
import { describe, it, expect } from 'vitest';
import { EventEmitter } from 'node:events';
import type WebSocket from 'ws';
import type { Vm } from '../../src/hypervisor/hypervisor.ts';
import { ConsoleHub, CONSOLE_BACKLOG, CONSOLE_SEND_LIMIT, CONSOLE_INPUT_PENDING } from '../../src/host/console.ts';

/** A VM that prints what a test tells it to. */
function fakeVm() {
  let out: (b: Uint8Array) => void = () => {};
  const vm = { onOutput: (l: (b: Uint8Array) => void) => (out = l), onState: () => {} } as unknown as Vm;
  return { vm, print: (n: number, byte = 0x41) => out(new Uint8Array(n).fill(byte)) };
}

/** A socket whose peer never reads: everything sent stays buffered. */
class StalledSocket extends EventEmitter {
  readyState = 1;
  bufferedAmount = 0;
  isPaused = false;
  frames: Array<Uint8Array | string> = [];
  send(data: Uint8Array | string) {
    this.frames.push(data);
    this.bufferedAmount += typeof data === 'string' ? data.length : data.length;
  }
  pause() { this.isPaused = true; }
  resume() { this.isPaused = false; }
  close() { this.readyState = 3; this.emit('close'); }
}

describe('the console hub', () => {
  it('drops and counts what a client that never reads would queue past the limit, and tells it once it can', () => {
    const { vm, print } = fakeVm();
    const hub = new ConsoleHub(vm);
    const ws = new StalledSocket();
    hub.attach(ws as unknown as WebSocket, async () => {});
    for (let i = 0; i < 1000; i++) print(4096); // 4 MB
    expect(ws.bufferedAmount).toBeLessThanOrEqual(CONSOLE_SEND_LIMIT);
    expect(hub.buffered).toBe(ws.bufferedAmount);
    expect(hub.dropped).toBe(4096 * 1000 - ws.bufferedAmount);
    ws.bufferedAmount = 0; // it drained
    print(10);
    expect(ws.frames.at(-2)).toBe(JSON.stringify({ event: 'dropped', bytes: hub.dropped }));
    expect((ws.frames.at(-1) as Uint8Array).length).toBe(10);
  });

  it('keeps the newest CONSOLE_BACKLOG bytes while no client is attached, and gives them to the next', () => {
    const { vm, print } = fakeVm();
    const hub = new ConsoleHub(vm);
    for (let i = 0; i < 100; i++) print(1000, i);
    expect(hub.backlogged).toBe(CONSOLE_BACKLOG);
    expect(hub.dropped).toBe(100_000 - CONSOLE_BACKLOG);
    const ws = new StalledSocket();
    hub.attach(ws as unknown as WebSocket, async () => {});
    const got = Buffer.concat(ws.frames.map((f) => Buffer.from(f as Uint8Array)));
    expect(got.length).toBe(CONSOLE_BACKLOG);
    expect(got.at(-1)).toBe(99);
    expect(hub.backlogged).toBe(0);
  });

  it('pauses a client whose input waits past CONSOLE_INPUT_PENDING, and resumes it as the VM takes it', async () => {
    const { vm } = fakeVm();
    const hub = new ConsoleHub(vm);
    const ws = new StalledSocket();
    const waiting: Array<() => void> = [];
    hub.attach(ws as unknown as WebSocket, () => new Promise<void>((r) => waiting.push(r)));
    for (let i = 0; i < 10; i++) ws.emit('message', Buffer.alloc(CONSOLE_INPUT_PENDING / 4), true);
    expect(ws.isPaused).toBe(true);
    for (const r of waiting.splice(0)) r();
    await new Promise((r) => setTimeout(r, 0));
    expect(ws.isPaused).toBe(false);
  });
});
