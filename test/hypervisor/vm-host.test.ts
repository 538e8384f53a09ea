// The guarantees of the hypervisor's VM host: the state machine, bit-exact
// determinism across snapshots, clones, diffs and moves, all-or-nothing
// restore of damaged snapshots, proportional shares, isolation.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VmHost, VmStateError, QUANTUM, type VmEvent } from '../../src/hypervisor/vm-host.ts';
import { decodeSnapshot, encodeSnapshot, crc32, SnapshotError, type Section } from '../../src/hypervisor/snapshot.ts';
import type { VmSpec } from '../../src/hypervisor/spec.ts';
import { MachineConsole, OUTPUT_LIMIT } from '../../src/machine/console.ts';

const programs = join(import.meta.dirname, '../programs');

// A guest that keeps changing a byte in every page from $03 to $FF (code in page 2):
//        LDY #0
// sweep: LDA #0 ; STA $00 ; LDX #3
// page:  STX $01 ; LDA ($00),Y ; CLC ; ADC #1 ; STA ($00),Y ; INX ; BNE page
//        INY ; JMP sweep
const EVERY_PAGE = Uint8Array.from([
  0xa0, 0x00, 0xa9, 0x00, 0x85, 0x00, 0xa2, 0x03, 0x86, 0x01, 0xb1, 0x00, 0x18, 0x69, 0x01, 0x91, 0x00, 0xe8, 0xd0, 0xf4, 0xc8, 0x4c, 0x02, 0x02,
]);
const rawSpec: VmSpec = { profile: 'raw', image: EVERY_PAGE, load: 0x0200, start: 0x0200 };

/** The board ROM of the machine tests: VIA T1 interrupts every 1002 cycles, echoing each tick count to the terminal. */
function timerRom(): Uint8Array {
  const code = [
    0x78, 0xa9, 0x40, 0x8d, 0x1b, 0xc0, 0xa9, 0xc0, 0x8d, 0x1e, 0xc0, 0xa9, 0xe8, 0x8d, 0x14, 0xc0, 0xa9, 0x03, 0x8d, 0x15, 0xc0,
    0x58, 0x4c, 0x16, 0xe0, //                         E015 CLI; E016 JMP $E016
    0xad, 0x14, 0xc0, 0xe6, 0x10, 0xa5, 0x10, //       E019 LDA $C014; INC $10; LDA $10
    0x09, 0x40, 0x8d, 0x00, 0xc0, //                   E020 ORA #$40; STA $C000 (print)
    0x40, //                                           E025 RTI
  ];
  const rom = new Uint8Array(0x2000);
  rom.set(code);
  rom.set([0x00, 0xe0, 0x00, 0xe0, 0x19, 0xe0], 0x1ffa);
  return rom;
}
const boardSpec: VmSpec = { profile: 'board', rom: timerRom(), seed: 3 };
const sim65Spec: VmSpec = { profile: 'sim65', program: new Uint8Array(readFileSync(join(programs, 'stdin.prg'))), name: 'stdin' };

/** All the output of the VMs a test runs, in order (one VM at a time, whatever its id). */
function collector() {
  const output: number[] = [];
  const onEvent = (e: VmEvent) => {
    if (e.type === 'output') output.push(...e.bytes);
  };
  return { output, onEvent };
}

/** The guest-visible state of a VM, as its snapshot holds it (no identities). */
function guestState(host: VmHost, id: string) {
  const snap = decodeSnapshot(host.snapshot(id));
  const hex = (tag: string) => Buffer.from(snap.section(tag)).toString('hex');
  return { core: hex('CORE'), ram: hex('RAM_'), devices: hex('DEVS'), console: hex('CONS') };
}

async function prepared(host: VmHost, spec: VmSpec, id: string) {
  await host.create(spec, { id });
  if (spec.profile === 'sim65') {
    host.input(id, 'the quick brown fox\njumps over\n');
    host.closeInput(id);
  }
  return id;
}

describe('VM states', () => {
  it('illegal transitions are typed errors that change nothing', async () => {
    const host = new VmHost();
    const id = await host.create(rawSpec);
    expect(() => host.pause(id)).toThrow(VmStateError);
    expect(() => host.resume(id)).toThrow(/cannot resume VM vm1: it is created/);
    host.start(id);
    expect(() => host.snapshot(id)).toThrow(/cannot snapshot VM vm1: it is running/);
    expect(host.state(id)).toBe('running');
    host.pause(id);
    host.shutdown(id);
    expect(() => host.resume(id)).toThrow(VmStateError);
    expect(() => host.start(id)).toThrow(VmStateError);
    expect(host.state(id)).toBe('stopped');
    host.destroy(id);
    expect(() => host.state(id)).toThrow(/no VM vm1/);
    await expect(host.create({ profile: 'nope' } as unknown as VmSpec)).rejects.toThrow(/"nope" is not a profile of hyper6502 0\.1/);
  });

  it('a guest that ends halts with its exit code; one that faults is faulted', async () => {
    const events: VmEvent[] = [];
    const host = new VmHost({ onEvent: (e) => events.push(e) });
    const sim = await prepared(host, sim65Spec, 'sim');
    host.start(sim);
    while (host.busy) host.runRound();
    expect(host.state(sim)).toBe('halted');
    expect(events).toContainEqual({ type: 'state', vm: 'sim', state: 'halted', reason: 'exit', exitCode: 0, error: undefined });

    // A board whose ACIA throws when the guest reads it (LDA $C000).
    const broken = await host.create({ profile: 'board', rom: romOf([0xad, 0x00, 0xc0, 0x4c, 0x00, 0xe0]) }, { id: 'broken' });
    const internals = host as unknown as { vm(id: string): { built: { machine: { devices: Array<{ read?: unknown }> } } } };
    internals.vm(broken).built.machine.devices[0].read = () => {
      throw new Error('device on fire');
    };
    host.start(broken);
    while (host.busy) host.runRound();
    expect(host.state(broken)).toBe('faulted');
    expect(events).toContainEqual({ type: 'state', vm: 'broken', state: 'faulted', reason: 'fault', exitCode: null, error: 'device on fire' });
    expect(() => host.resume(broken)).toThrow(VmStateError);
  });
});

describe('determinism', () => {
  const specs: Array<[string, VmSpec, number]> = [
    ['raw (a byte in every page)', rawSpec, 60_000],
    ['board (VIA timer IRQs, terminal output)', boardSpec, 60_000],
    ['sim65 (stdin, stdout)', sim65Spec, 60_000],
  ];
  for (const [what, spec, n] of specs) {
    for (const k of [1, 7, 1000, 50_000]) {
      const total = k === 1 ? 2000 : k === 7 ? 12_000 : n;
      it(`${what}: ${total} cycles straight = with snapshot/restore, clone, diffs and moves every ${k}`, async () => {
        const a = collector();
        const straight = new VmHost({ onEvent: a.onEvent });
        await prepared(straight, spec, 'x');
        straight.runUntil('x', total);

        const b = collector();
        const hosts = [new VmHost({ onEvent: b.onEvent }), new VmHost({ onEvent: b.onEvent })];
        let host = hosts[0];
        let id = await prepared(host, spec, 'x');
        let chain: Uint8Array[] = [host.snapshot(id)];
        let step = 0;
        for (let target = k; ; target += k) {
          host.runUntil(id, Math.min(target, total));
          if (target >= total || host.state(id) === 'halted') break;
          switch (step++ % 4) {
            case 0: { // full snapshot, destroy, restore
              const bytes = host.snapshot(id);
              host.destroy(id);
              id = await host.restore([bytes], { keepId: true });
              chain = [host.snapshot(id)];
              break;
            }
            case 1: { // clone, go on with the clone
              const copy = await host.clone(id, { id: 'x' + step });
              host.destroy(id);
              id = copy;
              chain = [host.snapshot(id)];
              break;
            }
            case 2: { // a diff, then rebuild from the whole chain
              chain.push(host.diffSnapshot(id));
              host.destroy(id);
              id = await host.restore(chain, { keepId: true });
              break;
            }
            default: { // move to the other host
              const bytes = host.snapshot(id);
              host.destroy(id);
              host = host === hosts[0] ? hosts[1] : hosts[0];
              id = await host.restore([bytes], { keepId: true });
              chain = [bytes];
            }
          }
        }
        host.runUntil(id, total);
        expect(guestState(host, id)).toEqual(guestState(straight, 'x'));
        expect(b.output).toEqual(a.output);
        if (spec.profile !== 'raw' && total >= 12_000) expect(a.output.length).toBeGreaterThan(0);
      });
    }
  }
});

describe('snapshots that are damaged or not snapshots', () => {
  /** A full snapshot and a small diff after it (a raw VM: no device state to make the diff big). */
  async function baseline(spec: VmSpec = rawSpec) {
    const host = new VmHost();
    const id = await prepared(host, spec, 'b');
    host.runUntil(id, 5000);
    const full = host.snapshot(id);
    host.runUntil(id, 5300);
    const diff = host.diffSnapshot(id);
    return { host, id, full, diff };
  }

  async function rejects(host: VmHost, bytes: Uint8Array[], code?: string) {
    const before = host.ids().length;
    let error: unknown;
    try {
      await host.restore(bytes);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SnapshotError);
    if (code) expect((error as SnapshotError).code).toBe(code);
    expect(host.ids().length).toBe(before);
  }

  /** Re-encodes a snapshot's sections with a valid CRC, after `edit`. */
  function recrc(bytes: Uint8Array, edit: (b: Uint8Array) => void): Uint8Array {
    const copy = bytes.slice();
    edit(copy);
    new DataView(copy.buffer).setUint32(copy.length - 4, crc32(copy.subarray(0, copy.length - 4)), true);
    return copy;
  }

  it('restores a good chain, and rejects an empty file, wrong magic, a broken chain', async () => {
    const { host, full, diff } = await baseline(boardSpec);
    const id = await host.restore([full, diff]);
    expect(host.state(id)).toBe('created');
    await rejects(host, [new Uint8Array(0)], 'empty');
    await rejects(host, [new TextEncoder().encode('GIF89a, not a snapshot at all')], 'bad-magic');
    await rejects(host, [diff], 'bad-diff-chain');
    await rejects(host, [full, diff, diff], 'bad-diff-chain');
    await rejects(host, [full, full], 'bad-diff-chain');
  });

  it('rejects a snapshot truncated at every byte', async () => {
    const { host, full, diff } = await baseline();
    for (let n = 0; n < diff.length; n++) await rejects(host, [full, diff.subarray(0, n)]);
    for (let n = 0; n < full.length; n += n < 64 ? 1 : 97) await rejects(host, [full.subarray(0, n)]);
  });

  it('rejects every flipped bit of a diff, and thousands of random ones in a full snapshot', async () => {
    const { host, full, diff } = await baseline();
    expect(diff.length).toBeLessThan(8000);
    for (let i = 0; i < diff.length * 8; i++) {
      const bad = diff.slice();
      bad[i >> 3] ^= 1 << (i & 7);
      await rejects(host, [full, bad], i < 64 ? undefined : 'bad-crc');
    }
    let seed = 12345;
    for (let i = 0; i < 3000; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const bad = full.slice();
      bad[seed % bad.length] ^= 1 << ((seed >>> 16) & 7);
      await rejects(host, [bad]);
    }
  }, 60_000);

  it('names a wrong version, an unknown section, an oversized length, bad contents', async () => {
    const { host, full } = await baseline(boardSpec);
    await rejects(host, [recrc(full, (b) => (b[8] = 9))], 'unsupported-version');
    const snap = decodeSnapshot(full);
    const sections = [...snap.sections.values()];
    await rejects(host, [encodeSnapshot('full', [...sections, { tag: 'XTRA', version: 1, data: new Uint8Array(3) }] as Section[])], 'unknown-section');
    await rejects(host, [encodeSnapshot('full', sections.map((s) => (s.tag === 'CORE' ? { ...s, version: 2 } : s)))], 'unsupported-version');
    await rejects(host, [encodeSnapshot('full', sections.filter((s) => s.tag !== 'DEVS'))], 'missing-section');
    await rejects(host, [encodeSnapshot('full', [...sections, sections[0]])], 'duplicate-section');
    await rejects(host, [recrc(full, (b) => new DataView(b.buffer).setUint32(14 + 6, 0x7fffffff, true))], 'bad-length');
    await rejects(host, [encodeSnapshot('full', sections.map((s) => (s.tag === 'RAM_' ? { ...s, data: s.data.subarray(0, 100) } : s)))], 'bad-section');
    await rejects(host, [encodeSnapshot('full', sections.map((s) => (s.tag === 'SPEC' ? { ...s, data: new TextEncoder().encode('{"profile":"zx81"}') } : s)))], 'bad-section');
    await rejects(host, [encodeSnapshot('full', sections.map((s) => (s.tag === 'DEVS' ? { ...s, data: s.data.subarray(0, 20) } : s)))], 'bad-section');
    await rejects(host, [encodeSnapshot('full', sections.map((s) => (s.tag === 'CORE' ? { ...s, data: s.data.map((v, i) => (i === 7 ? 9 : v)) } : s)))], 'bad-section');
  });
});

describe('scheduling', () => {
  it('shares a thread in proportion to the weights, in whole quanta', async () => {
    const host = new VmHost();
    const ids = [];
    for (const weight of [1, 2, 3]) {
      const id = await host.create({ profile: 'raw', image: Uint8Array.from([0xe8, 0x4c, 0x00, 0x02]), load: 0x200, start: 0x200 }, { schedule: { weight } });
      host.start(id);
      ids.push(id);
    }
    for (let i = 0; i < 50; i++) host.runRound();
    const cycles = ids.map((id) => host.metrics(id).cycles);
    const total = cycles.reduce((a, b) => a + b, 0);
    cycles.forEach((c, i) => expect(Math.abs(c / total - (i + 1) / 6)).toBeLessThan(0.05 / 6));
    expect(cycles[0]).toBeGreaterThanOrEqual(50 * QUANTUM);
  });

  // The rounds below are given their time (runRound(now), in ms): the rates are checked exactly, not on a wall clock.
  it('holds a VM to its cap in cycles per second, no more and no less, while an uncapped one takes the rest', async () => {
    const host = new VmHost();
    const capped = await host.create({ profile: 'raw', image: Uint8Array.from([0xe8, 0x4c, 0x00, 0x02]), load: 0x200, start: 0x200 }, { schedule: { cap: 2_000_000 } });
    const free = await host.create({ profile: 'raw', image: Uint8Array.from([0xe8, 0x4c, 0x00, 0x02]), load: 0x200, start: 0x200 });
    host.start(capped);
    host.start(free);
    for (let ms = 0; ms <= 60; ms += 0.5) host.runRound(ms);
    const allowed = 0.06 * 2_000_000;
    expect(host.metrics(capped).cycles).toBeGreaterThanOrEqual(allowed - 5); // an instruction at most short
    expect(host.metrics(capped).cycles).toBeLessThanOrEqual(allowed + 5); // and at most one over
    expect(host.metrics(free).cycles).toBeGreaterThanOrEqual(121 * QUANTUM);
  });

  it('paces a VM at a clock rate: as many cycles as the time allows, and idles between', async () => {
    const host = new VmHost();
    const id = await host.create({ profile: 'raw', image: Uint8Array.from([0xe8, 0x4c, 0x00, 0x02]), load: 0x200, start: 0x200 }, { schedule: { clockHz: 1_000_000 } });
    host.start(id);
    for (let ms = 0; ms <= 50; ms += 1) {
      host.runRound(ms);
      const due = ms * 1000;
      expect(host.metrics(id).cycles).toBeGreaterThanOrEqual(due - 5);
      expect(host.metrics(id).cycles).toBeLessThanOrEqual(due + 5);
    }
    const round = host.runRound(50); // nothing is due yet at the same moment
    expect(round.cycles).toBe(0);
    expect(round.idleMs).toBeGreaterThan(0);
    expect(round.idleMs).toBeLessThanOrEqual(0.01);
  });
});

describe('isolation', () => {
  it('a VM that jams, spins, floods exits or output, or whose device throws leaves the others exactly as they would be alone', async () => {
    const target = 3 * QUANTUM + 12_345;
    const alone = new VmHost();
    await prepared(alone, boardSpec, 'ref');
    alone.runUntil('ref', target);
    const expected = guestState(alone, 'ref');

    const host = new VmHost({ onEvent: () => {} });
    await prepared(host, boardSpec, 'ref');
    const bad: Record<string, VmSpec> = {
      jam: { profile: 'raw', image: Uint8Array.from([0x02]), load: 0x200, start: 0x200 },
      spin: { profile: 'raw', image: Uint8Array.from([0x4c, 0x00, 0x02]), load: 0x200, start: 0x200 },
      exits: { profile: 'board', rom: romOf([0xad, 0x30, 0xc0, 0x4c, 0x00, 0xe0]) }, // LDA $C030 (random); JMP: an exit per pass
      flood: { profile: 'board', rom: romOf([0x8d, 0x00, 0xc0, 0x4c, 0x00, 0xe0]) }, // STA $C000 forever
      throws: { profile: 'board', rom: romOf([0xad, 0x00, 0xc0, 0x4c, 0x00, 0xe0]) },
    };
    for (const [id, spec] of Object.entries(bad)) await host.create(spec, { id });
    const internals = host as unknown as { vm(id: string): { built: { machine: { devices: Array<{ read?: unknown }> } } } };
    internals.vm('throws').built.machine.devices[0].read = () => {
      throw new Error('device on fire');
    };
    for (const id of host.ids()) host.start(id);
    while (host.metrics('ref').cycles < target - QUANTUM) host.runRound();
    host.pause('ref');
    host.runUntil('ref', target);
    // CPU, memory and devices as alone (the console's undelivered output depends on who listens).
    const { console: _shared, ...state } = guestState(host, 'ref');
    const { console: _alone, ...wanted } = expected;
    expect(state).toEqual(wanted);
    expect(host.state('jam')).toBe('halted');
    expect(host.state('throws')).toBe('faulted');
    expect(host.state('spin')).toBe('running');
    expect(host.metrics('flood').exits['budget']).toBeGreaterThan(0);
    expect(host.metrics('exits').exits['budget']).toBeGreaterThan(0);
  });
});

describe('guest output', () => {
  it('is held in a bounded buffer: what does not fit is dropped and counted', () => {
    const c = new MachineConsole();
    for (let i = 0; i < OUTPUT_LIMIT + 100; i++) c.write(0x41);
    c.write(new Uint8Array(50));
    expect(c.pendingOutput).toBe(OUTPUT_LIMIT);
    expect(c.dropped).toBe(150);
    expect(c.produced).toBe(OUTPUT_LIMIT + 150);
    expect(c.takeOutput().length).toBe(OUTPUT_LIMIT);
    expect(c.pendingOutput).toBe(0);
  });
});

function romOf(code: number[]): Uint8Array {
  const rom = new Uint8Array(0x2000);
  rom.set(code);
  rom.set([0x00, 0xe0, 0x00, 0xe0, 0x00, 0xe0], 0x1ffa);
  return rom;
}
