// Pre-copy: snapshots of a VM taken while it runs (full, then the pages
// dirtied since each), a last one that stops it, restore as a chain into a
// VM identical to the source; the VM's own diff chain survives a pre-copy
// that ends with the VM staying where it is.
import { describe, it, expect } from 'vitest';
import { Hypervisor, type Vm } from '../../src/hypervisor/hypervisor.ts';
import { decodeSnapshot } from '../../src/hypervisor/snapshot.ts';
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
