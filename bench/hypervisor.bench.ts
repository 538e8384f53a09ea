// Hypervisor benchmark: what VMs cost to create, snapshot and restore, how
// many fit in memory, and how the scheduler and the workers scale.
//
// How to run this: `npm run bench:hv` (= npx tsx bench/hypervisor.bench.ts),
// after `npm install`. Options: --quick (fewer and shorter runs).
//
// Figures, with the targets they are held against:
//   VM creation (module compiled)          < 50 us
//   snapshot + restore of a 64 KiB VM      < 20 us
//   diff snapshot                          in proportion to dirty pages
//   10,000 VMs resident                    < 2 GiB
//   1,000 VMs time-sliced on one thread    >= 90% of one VM's MHz
//   two workers on two cores               >= 1.8x one worker

import Benchmark from 'benchmark';
import { cpus } from 'node:os';
import { VmHost } from '../src/hypervisor/vm-host.ts';
import { Hypervisor } from '../src/hypervisor/hypervisor.ts';
import type { VmSpec } from '../src/hypervisor/spec.ts';
import { BUSY_GUEST } from '../src/cli/vms.ts';
import { crc32, decodeSnapshot } from '../src/hypervisor/snapshot.ts';

const quick = process.argv.includes('--quick');
console.log('hyper6502 hypervisor benchmark');
console.log(`machine: ${cpus()[0].model.trim()}, ${cpus().length} cores, Node ${process.version}\n`);

// A guest that changes a byte in every page from $03 to $FF, endlessly.
const busy: VmSpec = { profile: 'raw', image: BUSY_GUEST, load: 0x0200, start: 0x0200 };

function measure(name: string, fn: (deferred: { resolve(): void }) => void, defer = false): number {
  const bench = new Benchmark(name, fn, { defer, minSamples: quick ? 5 : 30, maxTime: quick ? 1 : 3 });
  bench.run();
  if (bench.error) throw bench.error;
  return 1e6 / bench.hz; // microseconds per call
}

const verdict = (ok: boolean) => (ok ? 'meets the target' : 'MISSES the target');

// ---- Creation, snapshot and restore ---------------------------------------------------
const host = new VmHost();
await host.create(busy); // compile and instantiate once
const createIds: string[] = [];
const t0 = performance.now();
const CREATE = quick ? 500 : 2000;
for (let i = 0; i < CREATE; i++) createIds.push(await host.create(busy));
const createUs = ((performance.now() - t0) * 1000) / CREATE;
for (const id of createIds) host.destroy(id);
console.log(`VM creation:                 ${createUs.toFixed(1)} us (target < 50 us: ${verdict(createUs < 50)})`);

const vm = await host.create(busy);
host.runUntil(vm, 1_000_000);
const snap = host.snapshot(vm);
async function timeUs(rounds: number, fn: () => Promise<void> | void): Promise<number> {
  for (let i = 0; i < 50; i++) await fn();
  const start = performance.now();
  for (let i = 0; i < rounds; i++) await fn();
  return ((performance.now() - start) * 1000) / rounds;
}
const roundTrip = await timeUs(quick ? 500 : 2000, async () => {
  const id = await host.restore([host.snapshot(vm)]);
  host.destroy(id);
});
console.log(`snapshot + restore (64 KiB): ${roundTrip.toFixed(1)} us for ${snap.length} bytes (target < 20 us: ${verdict(roundTrip < 20)})`);
const snapshotOnly = measure('snapshot', () => host.snapshot(vm));
console.log(`  of which the snapshot:     ${snapshotOnly.toFixed(1)} us`);
// What bounds it, part by part: the CRC-32 over 64 KiB (once to write, once to read), the checks, building a VM.
const crcUs = measure('crc32', () => crc32(snap));
const decodeUs = measure('decode', () => decodeSnapshot(snap));
const restoreUs = await timeUs(quick ? 500 : 2000, async () => host.destroy(await host.restore([snap])));
const buildUs = await timeUs(quick ? 500 : 2000, async () => host.destroy(await host.create(busy)));
const into = new Uint8Array(0x10000);
const ram = decodeSnapshot(snap).section('RAM_');
const copyUs = measure('copy', () => into.set(ram));
console.log(`  the CRC-32 of 64 KiB:      ${crcUs.toFixed(1)} us (${(snap.length / crcUs / 1000).toFixed(1)} GB/s), twice in a round trip; decoding (CRC included): ${decodeUs.toFixed(1)} us`);
console.log(`  copying 64 KiB:            ${copyUs.toFixed(1)} us, twice in a round trip (into the file, out of it)`);
console.log(`  restore + destroy:         ${restoreUs.toFixed(1)} us, of which building a VM (create + destroy): ${buildUs.toFixed(1)} us`);
const floor = 2 * crcUs + 2 * copyUs + buildUs;
console.log(`  bound: 2 CRCs + 2 copies + a VM built = ${floor.toFixed(1)} us, before anything is checked: ${floor < 20 ? 'under' : 'over'} the 20 us target by itself`);

for (const pages of [1, 16, 256]) {
  const base = host.snapshot(vm);
  void base;
  const us = measure(`diff ${pages}`, () => {
    const cpu = (host as unknown as { vm(id: string): { built: { machine: { cpu: { dirtyPages: Uint8Array } } } } }).vm(vm).built.machine.cpu;
    cpu.dirtyPages.fill(1, 0, pages);
    host.diffSnapshot(vm);
  });
  console.log(`diff snapshot, ${String(pages).padStart(3)} dirty pages: ${us.toFixed(1)} us`);
}

// ---- 10,000 VMs ------------------------------------------------------------------------
const MANY = quick ? 2000 : 10_000;
(globalThis as { gc?: () => void }).gc?.();
const rssBefore = process.memoryUsage().rss;
const many = new VmHost();
// Each VM runs long enough to write every page of its memory, so all of it is resident.
for (let i = 0; i < MANY; i++) many.runUntil(await many.create(busy), 20_000);
const rssAfter = process.memoryUsage().rss;
const perVm = (rssAfter - rssBefore) / MANY;
console.log(`\n${MANY.toLocaleString('en')} VMs resident: ${((rssAfter - rssBefore) / 2 ** 20).toFixed(0)} MiB (${(perVm / 1024).toFixed(0)} KiB each; 10,000 would take ${((perVm * 10_000) / 2 ** 30).toFixed(2)} GiB: target < 2 GiB: ${verdict(perVm * 10_000 < 2 ** 31)})`);

// ---- Time-slicing 1,000 VMs on one thread ---------------------------------------------------
async function threadMhz(count: number, ms: number, spec: VmSpec): Promise<number> {
  const h = new VmHost();
  for (let i = 0; i < count; i++) h.start(await h.create(spec));
  h.runFor(quick ? 200 : 500); // warm up
  const start = performance.now();
  let cycles = 0;
  while (performance.now() - start < ms) cycles += h.runFor(50);
  return cycles / (performance.now() - start) / 1000;
}
const spin: VmSpec = { profile: 'raw', image: Uint8Array.from([0xe8, 0xc8, 0x18, 0x69, 0x01, 0x4c, 0x00, 0x02]), load: 0x0200, start: 0x0200 };
for (const [what, spec] of [['a guest rewriting all 64 KiB of its memory', busy], ['a guest working in registers', spin]] as const) {
  const one = await threadMhz(1, quick ? 1000 : 3000, spec);
  const thousand = await threadMhz(1000, quick ? 1000 : 3000, spec);
  console.log(`\n${what}:`);
  console.log(`  one VM on one thread:      ${one.toFixed(0)} MHz`);
  console.log(`  1,000 VMs on one thread:   ${thousand.toFixed(0)} MHz in all: ${((thousand / one) * 100).toFixed(0)}% of one VM's (target >= 90%: ${verdict(thousand / one >= 0.9)})`);
}

// ---- Isolation: bad neighbours take no more than their share ----------------------------------
{
  const h = new VmHost({ onEvent: () => {} });
  const good: string[] = [];
  for (let i = 0; i < 4; i++) good.push(await h.create(spin));
  const alone = async () => {
    for (const id of good) (h.state(id) === 'created' ? h.start(id) : h.resume(id));
    h.runFor(300);
    const c0 = good.map((id) => h.metrics(id).cycles);
    const t = performance.now();
    h.runFor(quick ? 1000 : 3000);
    const mhz = good.reduce((n, id, i) => n + h.metrics(id).cycles - c0[i], 0) / (performance.now() - t) / 1000;
    for (const id of good) h.pause(id);
    return mhz;
  };
  const base = await alone();
  const rom = (code: number[]) => {
    const r = new Uint8Array(0x2000);
    r.set(code);
    r.set([0x00, 0xe0, 0x00, 0xe0, 0x00, 0xe0], 0x1ffa);
    return r;
  };
  const bad = [
    await h.create({ profile: 'board', rom: rom([0xad, 0x01, 0xc0, 0x4c, 0x00, 0xe0]) }), // a device exit per pass
    await h.create({ profile: 'board', rom: rom([0x8d, 0x00, 0xc0, 0x4c, 0x00, 0xe0]) }), // output as fast as it can
    await h.create({ profile: 'raw', image: Uint8Array.from([0x02]), load: 0x200, start: 0x200 }), // jams at once
  ];
  for (const id of bad) h.start(id);
  const shared = await alone();
  // With 6 VMs sharing the thread (the jammed one halts), the 4 good ones are owed 4/6 of it.
  const fair = (base * 4) / 6;
  console.log(`\n4 well-behaved VMs alone: ${base.toFixed(0)} MHz; beside an exit flood, an output flood and a JAM: ${shared.toFixed(0)} MHz, ${((shared / fair) * 100).toFixed(0)}% of their fair share (target >= 90%: ${verdict(shared / fair >= 0.9)})`);
}

// ---- Workers ---------------------------------------------------------------------------------
async function poolMhz(workers: number, vms: number, seconds: number): Promise<number> {
  const hv = await Hypervisor.create({ workers });
  const list = [];
  for (let i = 0; i < vms; i++) list.push(await hv.createVm(busy));
  await Promise.all(list.map((v) => v.start()));
  await new Promise((r) => setTimeout(r, 500));
  const a = await hv.metrics();
  const t = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const b = await hv.metrics();
  const mhz = (b.cycles - a.cycles) / (performance.now() - t) / 1000;
  await hv.close();
  return mhz;
}
const w1 = await poolMhz(1, 8, quick ? 1 : 3);
const w2 = await poolMhz(2, 8, quick ? 1 : 3);
console.log(`\n8 VMs on 1 worker:           ${w1.toFixed(0)} MHz`);
console.log(`8 VMs on 2 workers:          ${w2.toFixed(0)} MHz: ${(w2 / w1).toFixed(2)}x (target >= 1.8x: ${verdict(w2 / w1 >= 1.8)})`);
