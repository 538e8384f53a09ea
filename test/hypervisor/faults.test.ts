// Faults stay contained and every call settles: a worker that dies or is
// restarted faults its VMs and rejects what waited for it, a new worker takes
// its place; a listener that throws is reported, never fatal; calls after
// close() reject at once; ids never collide; input is never lost and output
// never reaches another VM through migrations and clones; failing calls leave
// nothing behind; calls are answered within a slice, whatever the shares.
import { describe, it, expect } from 'vitest';
import { Hypervisor, WorkerError, type Vm } from '../../src/hypervisor/hypervisor.ts';
import { VmStateError } from '../../src/hypervisor/vm-host.ts';
import { SnapshotError } from '../../src/hypervisor/snapshot.ts';
import { WorkerRuntime, OUTPUT_IN_FLIGHT } from '../../src/hypervisor/worker.ts';
import { OUTPUT_LIMIT } from '../../src/machine/console.ts';
import { assemble } from '../../src/asm/assembler.ts';
import type { VmSpec } from '../../src/machine/description.ts';

const asm = (source: string) => assemble(source, { fileName: 'guest.s' }).bytes;

// py65: echoes each key it reads; an idle wait between keys.
const ECHO: VmSpec = { machine: 'py65', program: asm('  .org $0200\nw: lda $F004\n  beq w\n  sta $F001\n  jmp w\n'), load: 0x200, start: 0x200 };
// raw: busy for ever.
const BUSY: VmSpec = { machine: 'raw', program: asm('  .org $0200\nl: inc $10\n  inc $1000,x\n  inx\n  jmp l\n'), load: 0x200, start: 0x200 };
// py65: prints its secret for ever.
const secret = (s: string): VmSpec => ({ machine: 'py65', program: asm(`  .org $0200\nl: ldx #0\nn: lda msg,x\n  beq l\n  sta $F001\n  inx\n  bne n\nmsg: .asciiz "${s}"\n`), load: 0x200, start: 0x200 });

describe('a worker that dies', () => {
  it('faults its VMs with the reason, rejects what waited for it, and another worker takes its place', async () => {
    const hv = await Hypervisor.create({ workers: 2 });
    const errors: string[] = [];
    hv.onError((e) => errors.push(e.message));
    try {
      const doomed = await hv.createVm(BUSY, { worker: 0 });
      const waiting = await hv.createVm(ECHO, { worker: 0 });
      const other = await hv.createVm(BUSY, { worker: 1 });
      await Promise.all([doomed.start(), waiting.start(), other.start()]);
      const faults: string[] = [];
      doomed.onState((s, info) => s === 'faulted' && faults.push(info.error ?? ''));
      const pendingWait = waiting.whenWaiting().then(() => waiting.input('x'), (e) => e); // in flight when the worker goes
      const restarted = hv.restartWorker(0, 'was killed');
      await restarted;
      expect(doomed.state).toBe('faulted');
      expect(faults).toEqual(['hyper6502 worker 0 was killed']);
      expect(errors).toContain('hyper6502 worker 0 was killed');
      await expect(doomed.pause()).rejects.toThrow(WorkerError);
      await expect(doomed.metrics()).rejects.toThrow(/worker 0 was killed/);
      await pendingWait; // settled one way or the other
      // The others go on; the new worker takes VMs; the pool's metrics answer.
      expect((await other.metrics()).state).toBe('running');
      const fresh = await hv.createVm(BUSY, { worker: 0 });
      await fresh.start();
      await fresh.pause();
      expect((await fresh.metrics()).cycles).toBeGreaterThanOrEqual(0);
      const pool = await hv.metrics();
      expect(pool.vms).toBe(2); // the faulted ones have no worker to answer for them
      await doomed.destroy(); // a lost VM can still be let go
      expect(hv.list().map((v) => v.id)).not.toContain(doomed.id);
    } finally {
      await hv.close();
    }
  });
});

describe('listeners that throw', () => {
  for (const workers of [0, 2]) {
    it(`are reported, and nothing else is affected (${workers} workers)`, async () => {
      const hv = await Hypervisor.create({ workers });
      const reported: string[] = [];
      hv.onError((e, about) => reported.push(`${about.vm}: ${e.message}`));
      try {
        const vm = await hv.createVm(ECHO);
        let got = '';
        vm.onOutput(() => {
          throw new Error('listener on fire');
        });
        vm.onOutput((b) => (got += new TextDecoder().decode(b)));
        vm.onState(() => {
          throw new Error('state listener on fire');
        });
        await vm.start();
        await vm.whenWaiting();
        await vm.input('ok');
        await vm.whenWaiting();
        await new Promise((r) => setTimeout(r, 20));
        expect(got).toBe('ok');
        expect(reported).toContain(`${vm.id}: listener on fire`);
        expect(reported).toContain(`${vm.id}: state listener on fire`);
      } finally {
        await hv.close();
      }
    });
  }
});

describe('every call settles', () => {
  it('calls after close() reject at once; a call waiting at close() rejects', async () => {
    for (const workers of [0, 1]) {
      const hv = await Hypervisor.create({ workers });
      const vm = await hv.createVm(BUSY);
      await vm.start();
      const waitingAtClose = vm.whenWaiting(); // never waits: it is busy
      const inFlight = vm.metrics();
      await hv.close();
      const settled = (p: Promise<unknown>) => Promise.race([p.then(() => 'resolved', () => 'rejected'), new Promise((r) => setTimeout(() => r('hung'), 2000))]);
      expect(await settled(inFlight)).not.toBe('hung');
      expect(await settled(waitingAtClose)).toBe('rejected');
      await expect(vm.pause()).rejects.toThrow(/closed/);
      await expect(hv.createVm(BUSY)).rejects.toThrow(/the hypervisor is closed/);
      await expect(hv.restoreVm(new Uint8Array(10))).rejects.toThrow(/the hypervisor is closed/);
      await hv.close(); // again: nothing happens
    }
  });

  it('refuses what cannot run: infinite runs, vanishing weights, a thousand million workers', async () => {
    await expect(Hypervisor.create({ workers: 1e9 })).rejects.toThrow(/workers must be a whole number from 0 to 256/);
    const hv = await Hypervisor.create({ workers: 0 });
    try {
      const vm = await hv.createVm(BUSY);
      await expect(vm.runUntil(Infinity)).rejects.toThrow(RangeError);
      await expect(vm.setSchedule({ weight: 1e-300 })).rejects.toThrow(/weight must be a number from 0.01 to 1000/);
      await expect(hv.createVm(BUSY, { schedule: { weight: 1e9 } })).rejects.toThrow(/weight/);
      await expect(hv.createVm(BUSY, { id: 'x'.repeat(100) })).rejects.toThrow(/a VM id is 1 to 64/);
      await expect(hv.createVm(BUSY, { worker: 3 })).rejects.toThrow(/no worker 3/);
      expect(hv.list()).toEqual([vm]);
    } finally {
      await hv.close();
    }
  });

  it('failing calls leave nothing behind', async () => {
    const hv = await Hypervisor.create({ workers: 1 });
    try {
      const vm = await hv.createVm(BUSY);
      const internals = hv as unknown as { channels: Array<{ pending: Map<number, unknown> }>; vms: Map<string, Vm> };
      const rss0 = process.memoryUsage().rss;
      for (let i = 0; i < 400; i++) {
        await Promise.allSettled([vm.snapshot().then(() => vm.resume()), hv.restoreVm(new Uint8Array(20)), hv.createVm({ machine: 'nope' }), vm.input(new Uint8Array(2 * 1024 * 1024))]);
      }
      expect(internals.channels[0].pending.size).toBe(0);
      expect([...internals.vms.keys()]).toEqual([vm.id]);
      expect(process.memoryUsage().rss - rss0).toBeLessThan(256 * 2 ** 20); // a kept input would be 800 MiB
    } finally {
      await hv.close();
    }
  });
});

describe('identities', () => {
  it('a restore or a clone never takes an id the caller chose, and a failed restore leaves the caller\'s VM alone', async () => {
    const hv = await Hypervisor.create({ workers: 0 });
    try {
      const mine = await hv.createVm(ECHO, { id: 'vm1' });
      const other = await hv.createVm(ECHO, { id: 'vm2' });
      await other.pause().catch(() => {});
      const bytes = await other.snapshot();
      await expect(hv.restoreVm(bytes.subarray(0, 30))).rejects.toThrow(SnapshotError);
      const copy = await hv.restoreVm(bytes);
      const twin = await other.clone();
      expect(new Set([mine.id, other.id, copy.id, twin.id]).size).toBe(4);
      expect((await mine.metrics()).id).toBe('vm1');
      await expect(hv.createVm(ECHO, { id: 'vm1' })).rejects.toThrow(/a VM vm1 exists already/);
      expect((await mine.metrics()).state).toBe('created');
    } finally {
      await hv.close();
    }
  });
});

describe('migrations under load', () => {
  it('input is never lost and output never reaches another VM, with random movers racing each other', async () => {
    const hv = await Hypervisor.create({ workers: 2 });
    try {
      const echoes: Vm[] = [];
      const typed = new Map<string, string>();
      const heard = new Map<string, string>();
      for (let i = 0; i < 12; i++) {
        const vm = await hv.createVm(ECHO);
        typed.set(vm.id, '');
        heard.set(vm.id, '');
        vm.onOutput((b) => heard.set(vm.id, heard.get(vm.id)! + new TextDecoder().decode(b)));
        await vm.start();
        echoes.push(vm);
      }
      // VMs that print their own secret: none of it may reach an echo VM.
      const secrets = await Promise.all([0, 1].map((i) => hv.createVm(secret(`SECRET${i}`))));
      await Promise.all(secrets.map((s) => s.start()));
      let failures = 0;
      let r = 7;
      const next = (n: number) => ((r = (r * 1103515245 + 12345) >>> 0) % n);
      const work: Promise<unknown>[] = [];
      for (let round = 0; round < 60; round++) {
        const vm = echoes[next(echoes.length)];
        const key = String.fromCharCode(0x61 + next(26));
        typed.set(vm.id, typed.get(vm.id)! + key);
        work.push(vm.input(key));
        work.push(hv.migrate(echoes[next(echoes.length)], next(2)).catch(() => failures++));
        work.push(hv.migrate(secrets[next(2)], next(2)).catch(() => failures++));
        if (round % 10 === 0) work.push(hv.metrics());
      }
      await Promise.all(work);
      // Every echo VM has echoed all it was given.
      for (const vm of echoes) {
        for (let i = 0; i < 100 && heard.get(vm.id) !== typed.get(vm.id); i++) await new Promise((res) => setTimeout(res, 20));
        expect(heard.get(vm.id), vm.id).toBe(typed.get(vm.id));
        expect(vm.state).toBe('running');
      }
      expect(failures).toBe(0);
      expect(secrets.every((s) => s.state === 'running')).toBe(true);
    } finally {
      await hv.close();
    }
  });
});

describe('scheduling', () => {
  it('answers a call within a slice, beside VMs with the largest shares', async () => {
    const hv = await Hypervisor.create({ workers: 1 });
    try {
      for (let i = 0; i < 20; i++) {
        const vm = await hv.createVm(BUSY, { schedule: { weight: 1000 } });
        await vm.start();
      }
      const probe = await hv.createVm(BUSY);
      await new Promise((r) => setTimeout(r, 100));
      const t0 = performance.now();
      await probe.metrics();
      const ms = performance.now() - t0;
      // A round of these twenty is 5,000 M cycles, seconds of work; a call waits for one slice of 4 M.
      expect(ms).toBeLessThan(1500);
    } finally {
      await hv.close();
    }
  });

  it('creating VMs does not slow down as the pool grows', async () => {
    const hv = await Hypervisor.create({ workers: 1 });
    try {
      const blocks: number[] = [];
      for (let b = 0; b < 4; b++) {
        const t0 = performance.now();
        await Promise.all(Array.from({ length: 500 }, () => hv.createVm(ECHO)));
        blocks.push(performance.now() - t0);
      }
      expect(blocks[3] / blocks[1]).toBeLessThan(2);
    } finally {
      await hv.close();
    }
  });
});

describe('output of flooding VMs', () => {
  const flood = asm('  .org $0200\nl: sta $F001\n  jmp l\n'); // a byte each 7 cycles

  it('a worker sends at most its credit until the hypervisor takes it; the rest waits in the bounded consoles, then is dropped and counted', async () => {
    let sent = 0;
    const runtime = new WorkerRuntime((m) => {
      if ('event' in m && m.event.type === 'output') sent += m.event.bytes.length;
    });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        ids.push(await runtime.host.create({ machine: 'py65', program: flood, load: 0x200, start: 0x200 }));
        await runtime.handle({ call: i, op: 'start', args: [ids[i]] });
      }
      const dropped = () => ids.reduce((n, id) => n + runtime.host.metrics(id).outputDropped, 0);
      for (const end = performance.now() + 60_000; dropped() === 0 && performance.now() < end; ) await new Promise((r) => setTimeout(r, 20));
      // Never acknowledged: no more than the credit was sent, the consoles hold at most their limit each.
      expect(dropped()).toBeGreaterThan(0);
      expect(sent).toBeLessThanOrEqual(OUTPUT_IN_FLIGHT);
      expect(sent).toBeGreaterThan(OUTPUT_IN_FLIGHT - 4 * OUTPUT_LIMIT);
      // Taken: the credit comes back and output flows again.
      const before = sent;
      await runtime.handle({ ack: sent });
      for (const end = performance.now() + 60_000; sent === before && performance.now() < end; ) await new Promise((r) => setTimeout(r, 20));
      expect(sent).toBeGreaterThan(before);
    } finally {
      runtime.stop();
    }
  });

  it('through a worker thread beside a busy thread: every byte written is received or counted as dropped, and the burst is bounded', async () => {
    const hv = await Hypervisor.create({ workers: 1 });
    try {
      const vms = await Promise.all(Array.from({ length: 16 }, () => hv.createVm({ machine: 'py65', program: flood, load: 0x200, start: 0x200 })));
      const received = new Map<string, number>();
      for (const vm of vms) vm.onOutput((b) => received.set(vm.id, (received.get(vm.id) ?? 0) + b.length));
      const total = () => [...received.values()].reduce((a, b) => a + b, 0);
      await Promise.all(vms.map((vm) => vm.start()));
      await new Promise((r) => setTimeout(r, 200));
      const r0 = total();
      const until = performance.now() + 1500;
      while (performance.now() < until); // this thread is busy: nothing is received
      // The pauses reach the worker before any acknowledgement of the backlog does, so what arrives
      // from now on was sent during the busy spell (at most the credit) or waited in the consoles.
      await Promise.all(vms.map((vm) => vm.pause()));
      await new Promise((r) => setTimeout(r, 50));
      expect(total() - r0).toBeLessThanOrEqual(OUTPUT_IN_FLIGHT + 16 * OUTPUT_LIMIT);
      for (const vm of vms) {
        const m = await vm.metrics();
        // sta, jmp: one byte each two instructions (the last sta may be the last instruction).
        const written = Math.floor((m.instructions + 1) / 2);
        expect((received.get(vm.id) ?? 0) + m.outputDropped).toBe(written);
      }
    } finally {
      await hv.close();
    }
  });
});

describe('states', () => {
  it('whenWaiting rejects when the VM stops instead of waiting', async () => {
    const hv = await Hypervisor.create({ workers: 0 });
    try {
      const vm = await hv.createVm(BUSY);
      await vm.start();
      const w = vm.whenWaiting();
      await vm.pause();
      await expect(w).rejects.toThrow(VmStateError);
    } finally {
      await hv.close();
    }
  });
});
