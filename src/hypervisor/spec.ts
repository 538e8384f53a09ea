// What a hypervisor VM is built from: a VM spec, plain data that names or
// describes a machine (see machine/description.ts), so it can cross to a
// worker thread and travel inside a snapshot.
//
// How to drive this:
//   const spec: VmSpec = { machine: 'py65', program: bytes, load: 0xc000 };
//   const built = await buildVm(spec, core, slot);  // { machine, console, spec: the closed spec }
//   built.console.input('text');                    // the guest's terminal keys
//   built.console.takeOutput();                     // what it printed since the last call
//
// Every VM has a console: guest output goes into a bounded buffer (bytes over
// the limit are dropped and counted, never held), guest input into a queue
// that refuses, never drops, what does not fit.

import { Machine } from '../machine/machine.js';
import type { CoreMemory } from '../core/cpu.js';
import type { MachineConsole } from '../machine/console.js';
import { resolveSpec, specFromJson as parseJson, specToJson, type MachineSpec, type VmSpec } from '../machine/description.js';
import { crc32 } from './snapshot.js';

export type { VmSpec };
export { specToJson };

export interface BuiltVm {
  machine: Machine;
  console: MachineConsole;
  /** The closed spec: the machine described in full, with its program (what snapshots carry). */
  spec: VmSpec;
}

/** The closed form of a spec (throws a DescriptionError naming the field that is wrong). */
export function closeSpec(spec: VmSpec): VmSpec {
  return { machine: shareImages(resolveSpec(spec)) };
}

// Many VMs run the same ROM or program: their closed specs share one copy of each image.
const images = new Map<string, WeakRef<Uint8Array>>();
const forget = new FinalizationRegistry<string>((key) => {
  if (!images.get(key)?.deref()) images.delete(key);
});

function shared(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 1024) return bytes;
  const key = `${bytes.length}:${crc32(bytes)}`;
  const known = images.get(key)?.deref();
  if (known && known.length === bytes.length && known.every((b, i) => b === bytes[i])) return known;
  images.set(key, new WeakRef(bytes));
  forget.register(bytes, key);
  return bytes;
}

function shareImages(m: MachineSpec): MachineSpec {
  return {
    ...m,
    load: m.load?.map((l) => (l.image instanceof Uint8Array ? { ...l, image: shared(l.image) } : l)),
    memory: m.memory?.map((r) => (r.image instanceof Uint8Array ? { ...r, image: shared(r.image) } : r)),
  };
}

/** Builds the machine a spec describes, in `slot` of `core` (a slot that is all zero); `jit` as for Machine.create. */
export async function buildVm(spec: VmSpec, core: CoreMemory, slot: number, jit?: boolean): Promise<BuiltVm> {
  const closed = closeSpec(spec);
  const machine = await Machine.create(closed, { where: { core, slot, zeroed: true }, jit });
  return { machine, console: machine.console, spec: closed };
}

/** A spec from the JSON of a snapshot's SPEC section. */
export function specFromJson(text: string): VmSpec {
  const spec = parseJson(text);
  if (!spec || typeof spec !== 'object') throw new Error('a VM spec must be an object');
  return spec as VmSpec;
}
