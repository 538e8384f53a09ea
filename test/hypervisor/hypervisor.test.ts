// The Hypervisor API, on this thread and on worker threads: life cycle,
// typed errors across threads, snapshots and diffs, clones, migration of
// running VMs, determinism across workers, metrics.
import { describe, it, expect, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hypervisor, type Vm } from '../../src/hypervisor/hypervisor.ts';
import { VmStateError } from '../../src/hypervisor/vm-host.ts';
import { SnapshotError, decodeSnapshot } from '../../src/hypervisor/snapshot.ts';
import type { VmSpec } from '../../src/hypervisor/spec.ts';

const programs = join(import.meta.dirname, '../programs');
const argsSpec: VmSpec = { profile: 'sim65', program: new Uint8Array(readFileSync(join(programs, 'args.prg'))), args: ['a', 'b'], name: 'args' };
const sieveSpec: VmSpec = { profile: 'sim65', program: new Uint8Array(readFileSync(join(programs, 'sieve.prg'))), name: 'sieve' };

/** Board ROM: VIA T1 interrupts every 1002 cycles; each prints a letter on the terminal. */
function timerRom(): Uint8Array {
  const code = [
    0x78, 0xa9, 0x40, 0x8d, 0x1b, 0xc0, 0xa9, 0xc0, 0x8d, 0x1e, 0xc0, 0xa9, 0xe8, 0x8d, 0x14, 0xc0, 0xa9, 0x03, 0x8d, 0x15, 0xc0,
    0x58, 0x4c, 0x16, 0xe0, 0xad, 0x14, 0xc0, 0xe6, 0x10, 0xa5, 0x10, 0x29, 0x0f, 0x09, 0x40, 0x8d, 0x00, 0xc0, 0x40,
  ];
  const rom = new Uint8Array(0x2000);
  rom.set(code);
  rom.set([0x00, 0xe0, 0x00, 0xe0, 0x19, 0xe0], 0x1ffa);
  return rom;
}
const boardSpec: VmSpec = { profile: 'board', rom: timerRom() };

function until(vm: Vm, state: string): Promise<void> {
  return new Promise((resolve) => {
    if (vm.state === state) return resolve();
    vm.onState((s) => s === state && resolve());
  });
}

async function guest(vm: Vm) {
  const s = decodeSnapshot(await vm.snapshot());
  return ['CORE', 'RAM_', 'DEVS', 'CONS'].map((t) => Buffer.from(s.section(t)).toString('base64'));
}

const pools: Hypervisor[] = [];
afterAll(async () => Promise.all(pools.map((p) => p.close())));
async function pool(workers: number) {
  const hv = await Hypervisor.create({ workers });
  pools.push(hv);
  return hv;
}

for (const workers of [0, 2]) {
  describe(`with ${workers === 0 ? 'no worker threads' : `${workers} worker threads`}`, () => {
    it('runs a guest to its exit, with its output and exit code', async () => {
      const hv = await pool(workers);
      const vm = await hv.createVm(argsSpec);
      let out = '';
      vm.onOutput((b) => (out += new TextDecoder().decode(b)));
      const done = until(vm, 'halted');
      await vm.start();
      await done;
      expect(out).toBe('argc = 3\nargv[1] = "a"\nargv[2] = "b"\n');
      expect(vm.exitCode).toBe(2);
      expect(vm.reason).toBe('exit');
    });

    it('keeps error types across threads', async () => {
      const hv = await pool(workers);
      const vm = await hv.createVm(boardSpec);
      await expect(vm.resume()).rejects.toBeInstanceOf(VmStateError);
      await vm.start();
      await expect(vm.snapshot()).rejects.toThrow(/cannot snapshot VM vm\d+: it is running/);
      await vm.pause();
      const snap = await vm.snapshot();
      snap[100] ^= 1;
      const rejected = await hv.restoreVm(snap).catch((e) => e);
      expect(rejected).toBeInstanceOf(SnapshotError);
      expect(rejected.code).toBe('bad-crc');
      expect(hv.list().map((v) => v.id)).toEqual([vm.id]);
      await expect(hv.createVm({ profile: 'zx81' } as unknown as VmSpec)).rejects.toThrow(/"zx81" is not a profile of hyper6502 0\.1/);
    });

    it('clones, snapshots with diffs, and restores', async () => {
      const hv = await pool(workers);
      const vm = await hv.createVm(boardSpec);
      await vm.runUntil(20_000);
      const base = await vm.snapshot();
      await vm.runUntil(40_000);
      const diff = await vm.diffSnapshot();
      expect(diff.length).toBeLessThan(base.length);
      const copy = await vm.clone();
      const restored = await hv.restoreVm(base, diff);
      expect(await guest(copy)).toEqual(await guest(vm));
      expect(await guest(restored)).toEqual(await guest(vm));
      expect(copy.id).not.toBe(vm.id);
      const m = await hv.metrics();
      expect(m.vms).toBe(3);
      expect(m.cycles).toBeGreaterThan(3 * 40_000 - 10);
    });
  });
}

describe('across workers', () => {
  for (const [k, total] of [[1, 1_500], [7, 6_000], [3_000, 100_000]]) {
    it(`a VM migrated between worker threads every ${k} cycles ends exactly like one run straight`, async () => {
      const hv = await pool(2);
      const straight = await hv.createVm(boardSpec, { worker: 0 });
      await straight.runUntil(total);
      const moving = await hv.createVm(boardSpec, { worker: 0 });
      for (let t = k; t < total; t += k) {
        await moving.runUntil(t);
        await hv.migrate(moving, 1 - moving.worker);
      }
      await moving.runUntil(total);
      expect(await guest(moving)).toEqual(await guest(straight));
      expect(straight.takeOutput()).toEqual(moving.takeOutput());
    }, 60_000);
  }

  it('a running VM keeps running after a migration, and its output keeps flowing', async () => {
    const hv = await pool(2);
    const vm = await hv.createVm(boardSpec, { worker: 0 });
    let out = '';
    vm.onOutput((b) => (out += new TextDecoder().decode(b)));
    await vm.start();
    await new Promise((r) => setTimeout(r, 50));
    await hv.migrate(vm, 1);
    expect(vm.worker).toBe(1);
    expect(vm.state).toBe('running');
    const before = (await vm.metrics()).cycles;
    await new Promise((r) => setTimeout(r, 50));
    expect((await vm.metrics()).cycles).toBeGreaterThan(before);
    await vm.pause();
    expect(out.length).toBeGreaterThan(10);
    expect(out).toMatch(/^[A-O@]+$/); // the ticks, none lost or doubled in sequence
    const letters = [...out].map((c) => c.charCodeAt(0) & 15);
    letters.forEach((v, i) => i && expect(v).toBe((letters[i - 1] + 1) & 15));
  });

  it('two workers run two CPU-bound guests at once', async () => {
    const hv = await pool(2);
    const vms = [await hv.createVm(sieveSpec), await hv.createVm(sieveSpec)];
    expect(new Set(vms.map((v) => v.worker)).size).toBe(2);
    const done = vms.map((v) => until(v, 'halted'));
    const outs = vms.map(() => '');
    vms.forEach((v, i) => v.onOutput((b) => (outs[i] += new TextDecoder().decode(b))));
    await Promise.all(vms.map((v) => v.start()));
    await Promise.all(done);
    expect(outs).toEqual(['1899 primes\n', '1899 primes\n']);
  }, 30_000);
});
