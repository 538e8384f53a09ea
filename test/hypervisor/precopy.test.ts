// Pre-copy: snapshots of a VM taken while it runs (full, then the pages
// dirtied since each), a last one that stops it, restore as a chain (or a
// snapshot at a time, as a migration's target does) into a VM identical to
// the source; the VM's own diff chain survives a pre-copy
// that ends with the VM staying where it is.
import { describe, it, expect } from 'vitest';
import { Hypervisor, type Vm } from '../../src/hypervisor/hypervisor.ts';
import { decodeSnapshot } from '../../src/hypervisor/snapshot.ts';
import { VmHost } from '../../src/hypervisor/vm-host.ts';
import { GUESTS } from '../helpers/host-guests.ts';

// Changes a byte in every page, endlessly (QEMU's migration test guest, in 6502).
const DIRTY_ALL = GUESTS.busy;

/** What must be equal between two VMs: registers, memory, devices, console. */
async function machineState(vm: Vm): Promise<string> {
  const snap = decodeSnapshot(await vm.snapshot());
  return ['CORE', 'RAM_', 'DEVS', 'CONS'].map((t) => Buffer.from(snap.section(t)).toString('hex')).join('/');
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('pre-copy', () => {
  it('copies a running VM in rounds; the chain restores to exactly the VM it stopped', async () => {
    const hv = await Hypervisor.create({ workers: 1 });
    try {
      const vm = await hv.createVm(DIRTY_ALL);
      await vm.start();
      await pause(20);
      const base = await vm.precopy();
      expect(base.pages).toBe(256);
      expect(vm.state).toBe('running');
      await pause(20);
      const round = await vm.precopy({ stopAbove: 256 });
      expect(round.pages).toBeGreaterThan(250); // it dirties every page from $03 up
      expect(round.final).toBe(false);
      expect(vm.state).toBe('running');
      expect(decodeSnapshot(round.bytes).kind).toBe('diff');
      await pause(20);
      const before = performance.timeOrigin + performance.now();
      const last = await vm.precopy({ stopAbove: 128 }); // not converging: this one stops it
      expect(last.final).toBe(true);
      expect(vm.state).toBe('paused');
      expect(last.stoppedAt).toBeGreaterThanOrEqual(before);
      expect(last.stoppedAt).toBeLessThanOrEqual(performance.timeOrigin + performance.now());
      await expect(vm.snapshot()).rejects.toThrow(/being copied to another host/);
      const copy = await hv.restoreVm(base.bytes, round.bytes, last.bytes);
      expect(copy.state).toBe('paused');
      await vm.endPrecopy();
      expect(await machineState(copy)).toBe(await machineState(vm));
      // Without the middle round the pages it carried are stale: the chain is what makes the copy whole.
      await expect(hv.restoreVm(base.bytes, last.bytes)).rejects.toThrow(/does not follow/);
    } finally {
      await hv.close();
    }
  });

  it('restored a snapshot at a time as they come, the VM is the one the chain restores; a bad one leaves nothing', async () => {
    const hv = await Hypervisor.create({ workers: 1 });
    try {
      const vm = await hv.createVm(DIRTY_ALL);
      await vm.start();
      await pause(10);
      const base = await vm.precopy();
      await pause(10);
      const round = await vm.precopy({ stopAbove: 256 });
      await pause(10);
      const last = await vm.precopy({ stop: true });
      expect(vm.state).toBe('paused');

      const stream = hv.restoreStream();
      await stream.push(base.bytes);
      await stream.push(round.bytes);
      const copy = await stream.end(last.bytes);
      expect(copy.state).toBe('paused');
      const chain = await hv.restoreVm(base.bytes, round.bytes, last.bytes);
      expect(await machineState(copy)).toBe(await machineState(chain));
      await vm.endPrecopy();
      expect(await machineState(copy)).toBe(await machineState(vm));
      // With resume it runs at once, and goes on from there.
      const again = hv.restoreStream();
      await again.push(base.bytes);
      await again.push(round.bytes);
      const running = await again.end(last.bytes, { resume: true });
      expect(running.state).toBe('running');
      await running.pause();

      const vms = hv.list().length;
      const damaged = round.bytes.slice();
      damaged[100] ^= 1;
      for (const [chain, bad] of [[[base.bytes], damaged], [[base.bytes], last.bytes], [[], round.bytes]] as const) {
        const s = hv.restoreStream();
        for (const b of chain) await s.push(b);
        await expect(s.push(bad)).rejects.toThrow(/CRC mismatch|does not follow|must be a full one/);
        expect(hv.list().length).toBe(vms);
        await expect(s.end(last.bytes)).rejects.toThrow();
      }
      const dropped = hv.restoreStream();
      await dropped.push(base.bytes);
      expect(hv.list().length).toBe(vms + 1);
      await dropped.abort();
      expect(hv.list().length).toBe(vms);
    } finally {
      await hv.close();
    }
  });

  it('a diff that does not follow leaves the VM it was for as it was', async () => {
    const host = new VmHost();
    const vm = await host.create(DIRTY_ALL);
    host.runUntil(vm, 20_000);
    const base = host.precopy(vm);
    host.runUntil(vm, 40_000);
    const round = host.precopy(vm, { stopAbove: 256 });
    host.runUntil(vm, 60_000);
    const last = host.precopy(vm, { stop: true });
    const copy = await host.restore([base.bytes]);
    const state = host.state(copy);
    expect(() => host.applyDiff(copy, last.bytes)).toThrow(/does not follow/);
    expect(() => host.applyDiff(copy, base.bytes)).toThrow(/a full snapshot where a diff was due/);
    expect(host.state(copy)).toBe(state);
    const fresh = await host.restore([base.bytes]);
    const core = (id: string) => decodeSnapshot(host.snapshot(id)).section('CORE');
    expect(core(copy)).toEqual(core(fresh));
    // And in order it takes them.
    const whole = await host.restore([base.bytes]);
    host.applyDiff(whole, round.bytes);
    host.applyDiff(whole, last.bytes);
    expect(core(whole)).toEqual(decodeSnapshot(last.bytes).section('CORE'));
  });

  it('ended with the VM staying, its own diffs go on from its own last snapshot, pages dirtied during the copy included', async () => {
    const hv = await Hypervisor.create({ workers: 0 });
    try {
      const vm = await hv.createVm(DIRTY_ALL);
      await vm.runUntil(50_000);
      const own = await vm.snapshot();
      await vm.runUntil(100_000); // dirties pages before the copy
      await vm.precopy();
      await vm.runUntil(150_000); // and during it
      await vm.precopy();
      await vm.endPrecopy();
      const diff = await vm.diffSnapshot();
      const copy = await hv.restoreVm(own, diff);
      expect(await machineState(copy)).toBe(await machineState(vm));
    } finally {
      await hv.close();
    }
  });
});
