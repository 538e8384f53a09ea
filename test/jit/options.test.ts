// The JIT is switched per VM where VMs are made: `{ jit }` on Machine.create
// and Machine.fromParts, on the VM host's create and restore (and so on
// hv.createVm, hv.restoreChain and mountMachine, which go through it). With
// it on, a hot loop runs in compiled code (cycles compiled > 0); with it off,
// the VM has no JIT at all; without it, HYPER6502_JIT decides (off unless on).
// A setting given travels in the VM's snapshots: restored, cloned or migrated
// to another worker thread, the VM keeps it; a VM without one takes the
// default of the thread it lands on.
import { describe, it, expect, afterEach } from 'vitest';
import { Machine } from '../../src/machine/machine.ts';
import { VmHost } from '../../src/hypervisor/vm-host.ts';
import { Hypervisor } from '../../src/hypervisor/hypervisor.ts';
import { decodeSnapshot, encodeSnapshot } from '../../src/hypervisor/snapshot.ts';
import type { VmSpec } from '../../src/hypervisor/spec.ts';

/** $0200: LDX #0; loop: INX; BNE loop; INY; JMP $0200 -- one hot page. */
const LOOP = Uint8Array.of(0xa2, 0x00, 0xe8, 0xd0, 0xfd, 0xc8, 0x4c, 0x00, 0x02);
const SPEC: VmSpec = { machine: 'raw', program: LOOP, load: 0x200, start: 0x200 };
const CYCLES = 2_000_000;

const envBefore = process.env.HYPER6502_JIT;
afterEach(() => {
  if (envBefore === undefined) delete process.env.HYPER6502_JIT;
  else process.env.HYPER6502_JIT = envBefore;
});

function runMachine(m: Machine) {
  while (m.cpu.cycles < CYCLES) expect(m.run(CYCLES - m.cpu.cycles, { idle: 'off' }).reason).toBe('budget');
  return { pc: m.cpu.pc, x: m.cpu.x, y: m.cpu.y, cycles: m.cpu.cycles, instructions: m.cpu.instructions };
}

describe('Machine.create / fromParts { jit }', () => {
  it('true runs the hot loop compiled, false only interprets, and both end alike', async () => {
    const on = await Machine.create(SPEC, { jit: true });
    const off = await Machine.create(SPEC, { jit: false });
    const a = runMachine(on);
    const b = runMachine(off);
    expect(a).toEqual(b);
    expect(on.cpu.jitMetrics!.compiledCycles).toBeGreaterThan(CYCLES / 2);
    expect(on.cpu.jitMetrics!.pagesCompiled).toBeGreaterThan(0);
    expect(off.cpu.jitMetrics).toBeNull();
  });

  it('without it, HYPER6502_JIT decides, off unless it says on', async () => {
    delete process.env.HYPER6502_JIT;
    expect((await Machine.create(SPEC)).cpu.jitMetrics).toBeNull();
    process.env.HYPER6502_JIT = 'on';
    const m = await Machine.create(SPEC);
    runMachine(m);
    expect(m.cpu.jitMetrics!.compiledCycles).toBeGreaterThan(0);
    expect((await Machine.create(SPEC, { jit: false })).cpu.jitMetrics).toBeNull();
  });

  it('fromParts takes it too', async () => {
    const image = new Uint8Array(0x10000);
    image.set(LOOP, 0x200);
    const m = await Machine.fromParts({ image, startAt: 0x200 }, undefined, { jit: true });
    runMachine(m);
    expect(m.cpu.jitMetrics!.compiledCycles).toBeGreaterThan(0);
  });
});

describe('VmHost create / restore { jit }', () => {
  const compiled = (host: VmHost, id: string) => host.metrics(id).jit?.compiledCycles ?? null;

  it('switches compiled code on and off, says so in the metrics, and refuses what is not a boolean', async () => {
    delete process.env.HYPER6502_JIT;
    const host = new VmHost();
    const on = await host.create(SPEC, { jit: true });
    const off = await host.create(SPEC, { jit: false });
    const plain = await host.create(SPEC);
    for (const id of [on, off, plain]) host.runUntil(id, CYCLES);
    expect(compiled(host, on)).toBeGreaterThan(CYCLES / 2);
    expect(compiled(host, off)).toBeNull();
    expect(compiled(host, plain)).toBeNull();
    expect(host.metrics(on).cycles).toBe(host.metrics(off).cycles);
    await expect(host.create(SPEC, { jit: 'yes' as never })).rejects.toThrow(/jit must be true or false, got "yes"/);
  });

  it('a restored VM keeps its setting, unless restore says otherwise; one without takes the default where it lands', async () => {
    delete process.env.HYPER6502_JIT;
    const host = new VmHost();
    const on = await host.create(SPEC, { jit: true });
    const plain = await host.create(SPEC);
    host.runUntil(on, CYCLES / 2);
    host.runUntil(plain, CYCLES / 2);
    const snapOn = host.snapshot(on);
    const snapPlain = host.snapshot(plain);

    const kept = await host.restore([snapOn]);
    host.runUntil(kept, CYCLES);
    expect(compiled(host, kept)).toBeGreaterThan(0);
    // and its own snapshots carry it on
    const again = await host.restore([host.snapshot(kept)]);
    host.runUntil(again, CYCLES * 1.5);
    expect(compiled(host, again)).toBeGreaterThan(0);

    const overridden = await host.restore([snapOn], { jit: false });
    host.runUntil(overridden, CYCLES);
    expect(compiled(host, overridden)).toBeNull();
    expect(host.machine(overridden).cpu.pc).toBe(host.machine(kept).cpu.pc);

    const plainHere = await host.restore([snapPlain]);
    host.runUntil(plainHere, CYCLES);
    expect(compiled(host, plainHere)).toBeNull();
    process.env.HYPER6502_JIT = 'on'; // another thread's default: a slab made now takes it
    const elsewhere = new VmHost();
    const plainThere = await elsewhere.restore([snapPlain]);
    elsewhere.runUntil(plainThere, CYCLES);
    expect(compiled(elsewhere, plainThere)).toBeGreaterThan(0);
    // and a VM that said false stays off there
    const off = await host.create(SPEC, { jit: false });
    const offThere = await elsewhere.restore([host.snapshot(off)]);
    elsewhere.runUntil(offThere, CYCLES);
    expect(compiled(elsewhere, offThere)).toBeNull();
  });

  it('a snapshot whose META has a jit that is not a boolean is refused', async () => {
    const host = new VmHost();
    const id = await host.create(SPEC, { jit: true });
    const snap = decodeSnapshot(host.snapshot(id));
    const meta = JSON.parse(new TextDecoder().decode(snap.section('META')));
    const sections = [...snap.sections.values()].map((s) => (s.tag === 'META' ? { ...s, data: new TextEncoder().encode(JSON.stringify({ ...meta, jit: 'on' })) } : s));
    await expect(host.restore([encodeSnapshot('full', sections)])).rejects.toThrow(/section META is missing fields or has bad values/);
  });
});

describe('hv.createVm { jit } on worker threads', () => {
  let hv: Hypervisor | undefined;
  afterEach(async () => {
    await hv?.close();
    hv = undefined;
  });

  it('compiles on the worker, and keeps the setting when migrated, cloned and restored', async () => {
    delete process.env.HYPER6502_JIT;
    hv = await Hypervisor.create({ workers: 2 });
    const on = await hv.createVm(SPEC, { worker: 0, jit: true });
    const off = await hv.createVm(SPEC, { worker: 0, jit: false });
    await on.runUntil(CYCLES);
    await off.runUntil(CYCLES);
    expect((await on.metrics()).jit!.compiledCycles).toBeGreaterThan(CYCLES / 2);
    expect((await off.metrics()).jit).toBeNull();

    await hv.migrate(on, 1);
    await hv.migrate(off, 1);
    expect(on.worker).toBe(1);
    await on.runUntil(CYCLES * 2);
    await off.runUntil(CYCLES * 2);
    // the metrics of the JIT are the new worker's: it compiled again there
    expect((await on.metrics()).jit!.compiledCycles).toBeGreaterThan(CYCLES / 2);
    expect((await off.metrics()).jit).toBeNull();
    expect((await on.metrics()).cycles).toBe((await off.metrics()).cycles);

    const copy = await hv.cloneVm(on);
    await copy.runUntil(CYCLES * 3);
    expect((await copy.metrics()).jit!.compiledCycles).toBeGreaterThan(0);
    const restoredOff = await hv.restoreChain([await on.snapshot()], { jit: false });
    await restoredOff.runUntil(CYCLES * 3);
    expect((await restoredOff.metrics()).jit).toBeNull();
  }, 60_000);
});
