// The VMs of a host: the Hypervisor's VMs, each with what the host keeps
// beside it (its console hub, whether it is moving to another host), and
// the bound on how many there are.
//
// How to drive this (the routes and the migration do):
//   const vms = new HostVms(hv, { maxVms: 1000 });
//   const rec = await vms.create(spec);           // or vms.restore([snapshot, ...diffs])
//   vms.get(id)                                   // HttpError 404 when there is none
//   vms.idle(rec, 'pause')                        // HttpError 409 while it moves
//   await vms.input(rec, bytes);                  // in order; held while the VM moves, then sent where it went
//   await vms.destroy(rec);
// A migration reserves a place before its VM exists here (reserve()), so
// that VMs coming in count against the bound from the start.

import type { Hypervisor, Vm } from '../hypervisor/hypervisor.js';
import type { VmSpec } from '../hypervisor/spec.js';
import { ConsoleHub } from './console.js';
import { HttpError } from './http.js';
import { HostClient } from './client.js';

export interface HostVm {
  vm: Vm;
  console: ConsoleHub;
  /** A migration of it to another host is under way: calls that change it are refused. */
  migrating: boolean;
  /** While set, input waits for it (the VM is being stopped and copied). */
  hold: Promise<void> | null;
  /** Where it went, once it did: input that waited is sent there. */
  movedTo?: { url: string; token: string; id: string };
  inputChain: Promise<void>;
}

export class HostVms {
  private readonly records = new Map<string, HostVm>();
  private reserved = 0;

  constructor(readonly hv: Hypervisor, private readonly limits: { maxVms: number }) {}

  get count(): number {
    return this.records.size;
  }

  list(): HostVm[] {
    return [...this.records.values()];
  }

  get(id: string): HostVm {
    const rec = this.records.get(id);
    if (!rec) throw new HttpError(404, `no VM ${id} on this host`);
    return rec;
  }

  /** Refuses a call that would change a VM while it moves to another host. */
  idle(rec: HostVm, action: string) {
    if (rec.migrating) throw new HttpError(409, `cannot ${action} VM ${rec.vm.id}: it is being migrated to another host`, 'migrating');
  }

  /** A place for one more VM, taken until `release` (or the VM it becomes). */
  reserve(): () => void {
    if (this.records.size + this.reserved >= this.limits.maxVms) throw new HttpError(503, `this host is full: it runs at most ${this.limits.maxVms} VMs`, 'full');
    this.reserved++;
    let held = true;
    return () => {
      if (held) this.reserved--;
      held = false;
    };
  }

  async create(spec: VmSpec): Promise<HostVm> {
    const release = this.reserve();
    try {
      return this.add(await this.hv.createVm(spec));
    } finally {
      release();
    }
  }

  /** A VM from a full snapshot and its diffs (all or nothing), in a place reserved before or taken now; `resume` runs it at once. */
  async restore(snapshots: Uint8Array[], options: { reservation?: () => void; resume?: boolean } = {}): Promise<HostVm> {
    const release = options.reservation ?? this.reserve();
    try {
      return this.add(await this.hv.restoreChain(snapshots, { resume: options.resume }));
    } finally {
      release();
    }
  }

  /** The same a snapshot at a time as they come (see Hypervisor.restoreStream), in a place reserved before: end() adds the VM here. */
  restoreStream(reservation: () => void) {
    const stream = this.hv.restoreStream();
    return {
      push: (bytes: Uint8Array) => stream.push(bytes),
      end: async (bytes: Uint8Array, options: { resume?: boolean }): Promise<HostVm> => {
        try {
          return this.add(await stream.end(bytes, options));
        } finally {
          reservation();
        }
      },
      abort: () => (reservation(), stream.abort()),
    };
  }

  private add(vm: Vm): HostVm {
    const rec: HostVm = { vm, console: new ConsoleHub(vm), migrating: false, hold: null, inputChain: Promise.resolve() };
    this.records.set(vm.id, rec);
    return rec;
  }

  async destroy(rec: HostVm, last: Record<string, unknown> = { event: 'destroyed' }) {
    await rec.vm.destroy();
    this.records.delete(rec.vm.id);
    rec.console.close(last);
  }

  /** Input for a VM, in the order it came; while the VM is stopped and copied it waits, and then goes where the VM is. */
  input(rec: HostVm, bytes: Uint8Array): Promise<void> {
    const run = rec.inputChain.then(async () => {
      if (rec.hold) await rec.hold;
      if (rec.movedTo) {
        const { url, token, id } = rec.movedTo;
        await new HostClient(url, token, { timeoutMs: 10_000 }).bytes('POST', `/vms/${encodeURIComponent(id)}/input`, bytes);
        return;
      }
      await rec.vm.input(bytes);
    });
    rec.inputChain = run.catch(() => {});
    return run;
  }
}
