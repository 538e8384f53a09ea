// Snapshots are hostile input: crafted ones, with valid CRCs, are either
// refused with a SnapshotError (and nothing is built), or restore into a VM
// that runs its first round in bounded time and memory and leaves its
// neighbours exactly as they would be alone. Mutations here know the
// format: they edit fields of each section and recompute the CRC.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VmHost } from '../../src/hypervisor/vm-host.ts';
import { decodeSnapshot, encodeSnapshot, SnapshotError, type Section } from '../../src/hypervisor/snapshot.ts';
import type { VmSpec } from '../../src/machine/description.ts';
import { STATE, STATE_TRACE_LEN, STATE_CYCLES, STATE_IO_READ_POS, STATE_FLAGS, RUN_TRACE } from '../../src/core/layout.ts';
import { assemble } from '../../src/asm/assembler.ts';

const examples = join(import.meta.dirname, '../../examples');
const asm = (source: string, cpu: '6502' | '65c02' = '6502') => assemble(source, { cpu, fileName: 'guest.s' }).bytes;

/** A guest of each built-in machine, doing what its machine is for. */
const GUESTS: Record<string, VmSpec> = {
  board: { machine: 'board', program: assemble(readFileSync(join(examples, 'timer.s'), 'utf8'), { fileName: 'timer.s' }).bytes },
  easy6502: { machine: 'easy6502', program: assemble(readFileSync(join(examples, 'pixels.s'), 'utf8'), { fileName: 'pixels.s' }).bytes },
  sim65: { machine: 'sim65', program: new Uint8Array(readFileSync(join(import.meta.dirname, '../programs/stdin.prg'))), name: 'stdin' },
  py65: { machine: 'py65', program: asm('  .org $0200\nw: lda $F004\n  beq w\n  sta $F001\n  jmp w\n'), load: 0x200, start: 0x200 },
  apple1: {
    machine: 'apple1',
    roms: [{ address: 0xff00, image: asm('  .org $FF00\nr: lda #$A7\n  sta $D011\n  sta $D013\nw: lda $D011\n  bpl w\n  lda $D010\n  sta $D012\n  jmp w\n  .res $FFFC-*, $EA\n  .word r, r\n') }],
  },
  eater: { machine: 'eater', program: asm('  .org $8000\nr: lda #$89\n  sta $5002\n  lda #$ff\n  sta $6002\n  cli\nw: jmp w\ni: lda $5001\n  lda $5000\n  sta $6000\n  rti\n  .res $FFFA-*, $EA\n  .word r, r, i\n', '65c02') },
  raw: { machine: 'raw', program: asm('  .org $0200\nl: inc $10\n  inc $1000,x\n  inx\n  jmp l\n'), load: 0x200, start: 0x200 },
};

/** A snapshot of a guest mid-run, with input queued and output waiting. */
async function sample(host: VmHost, spec: VmSpec, id: string): Promise<Uint8Array> {
  await host.create(spec, { id });
  host.start(id);
  host.input(id, 'hello\r');
  for (let i = 0; i < 3; i++) host.runRound();
  host.input(id, 'more typed\r');
  host.pause(id);
  return host.snapshot(id);
}

/** A small deterministic random source (the same mutations every run). */
function random(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

const EDGES = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 2 ** 50, 2 ** 53, 2 ** 64 - 2 ** 16];

/** One structure-aware mutation of a snapshot: a field of one section edited, or a length changed; the CRC made valid again. */
function mutate(bytes: Uint8Array, r: (n: number) => number): Uint8Array {
  const decoded = decodeSnapshot(bytes);
  const sections: Section[] = [...decoded.sections.values()].map((s) => ({ ...s, data: s.data.slice() }));
  const s = sections[r(sections.length)];
  const d = s.data;
  const kind = r(6);
  if (kind === 0 && d.length) {
    d[r(d.length)] ^= 1 << r(8); // a bit
  } else if (kind <= 2 && d.length >= 8) {
    // An integer field, at an aligned offset, set to an edge value (u8, u16, u32 or u64).
    const width = [1, 2, 4, 8][r(4)];
    const at = r(Math.floor(d.length / width)) * width;
    const v = EDGES[r(EDGES.length)];
    const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
    if (width === 1) view.setUint8(at, v & 0xff);
    else if (width === 2) view.setUint16(at, v & 0xffff, true);
    else if (width === 4) view.setUint32(at, v >>> 0, true);
    else {
      view.setUint32(at, v % 2 ** 32 >>> 0, true);
      view.setUint32(at + 4, Math.floor(v / 2 ** 32) >>> 0, true);
    }
  } else if (kind === 3 && s.tag === 'CORE') {
    // The fields that once let a snapshot write outside its slot or hang the first round.
    const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
    const pick = r(3);
    if (pick === 0) {
      view.setUint32(STATE_TRACE_LEN - STATE, [0x80000400, 0xffff6a00, 1025, 0x10000][r(4)], true);
      view.setUint8(STATE_FLAGS - STATE, view.getUint8(STATE_FLAGS - STATE) | RUN_TRACE); // and the bus trace on
    }
    else if (pick === 1) view.setUint32(STATE_CYCLES - STATE + 4, [2 ** 18, 0xffff, 0x200000][r(3)], true);
    else view.setUint8(STATE_IO_READ_POS - STATE, r(256));
  } else if (kind === 4) {
    // A length prefix inside a section (the blobs of DEVS and CONS) made huge or small.
    const at = r(Math.max(1, d.length - 4));
    if (d.length >= 4) new DataView(d.buffer, d.byteOffset, d.byteLength).setUint32(at, [0, 1, 0x7fffff, 0x2000000, 0xffffffff][r(5)], true);
  } else {
    // The section cut short or grown.
    s.data = r(2) ? d.subarray(0, r(d.length + 1)) : Uint8Array.from([...d, ...new Uint8Array(r(64))]);
  }
  return encodeSnapshot(decoded.kind, sections);
}

describe('crafted snapshots, with valid CRCs', () => {
  it('are refused, or restore into a VM that runs in bounded time and memory and leaves its neighbour as it would be alone', async () => {
    const host = new VmHost({ onEvent: () => {} });
    const alone = new VmHost({ onEvent: () => {} });
    // The neighbour: a guest on the same Wasm memory as every restored VM.
    await host.create(GUESTS.raw, { id: 'neighbour' });
    await alone.create(GUESTS.raw, { id: 'neighbour' });
    const samples = [];
    for (const [name, spec] of Object.entries(GUESTS)) samples.push({ name, bytes: await sample(host, spec, `sample-${name}`) });
    // Guards in the slots on either side of the one every crafted VM is restored into.
    await host.create(GUESTS.raw, { id: 'below' });
    await host.create(GUESTS.raw, { id: 'hole' });
    await host.create(GUESTS.raw, { id: 'above' });
    host.destroy('hole');
    const guarded = (id: string) => {
      const snap = decodeSnapshot(host.snapshot(id));
      return ['CORE', 'RAM_', 'DEVS', 'CONS'].map((tag) => Buffer.from(snap.section(tag)).toString('hex')).join();
    };
    const guards = { below: guarded('below'), above: guarded('above') };
    const r = random(2026);
    const counts = { tried: 0, refused: 0, restored: 0, crashed: 0, slow: 0, neighbourChanged: 0, memory: 0 };
    const problems: string[] = [];
    const PER_MACHINE = 400;
    const rss0 = process.memoryUsage().rss;
    for (const { name, bytes } of samples) {
      for (let i = 0; i < PER_MACHINE; i++) {
        const crafted = mutate(bytes, r);
        counts.tried++;
        let id: string | null = null;
        try {
          id = await host.restore([crafted], { id: `m${counts.tried}` });
        } catch (err) {
          if (err instanceof SnapshotError) counts.refused++;
          else {
            counts.crashed++;
            problems.push(`${name}: restore threw ${(err as Error).name}: ${(err as Error).message}`);
          }
          continue;
        }
        counts.restored++;
        const t0 = performance.now();
        try {
          host.machine(id).addBreakpoint(0xfff0); // debug runs, which write the bus trace when it is on
          host.resume(id);
          host.runRound();
          host.pause(id);
        } catch (err) {
          // A VM in a state it may be in (halted, say) refuses to resume: that is no crash of the host.
          if (!(err as Error).name.includes('VmStateError')) {
            counts.crashed++;
            problems.push(`${name}: the first round threw ${(err as Error).message}`);
          }
        }
        if (performance.now() - t0 > 1000) {
          counts.slow++;
          problems.push(`${name}: the first round took ${(performance.now() - t0).toFixed(0)} ms`);
        }
        host.destroy(id);
      }
    }
    // The neighbour ran through all of it; alone, it runs the same number of cycles.
    const cycles = host.metrics('neighbour').cycles;
    alone.runUntil('neighbour', cycles);
    const state = (h: VmHost) => Buffer.from(decodeSnapshot(h.snapshot('neighbour')).section('RAM_')).toString('hex');
    if (state(host) !== state(alone)) counts.neighbourChanged++;
    if (guarded('below') !== guards.below || guarded('above') !== guards.above) counts.neighbourChanged++;
    if (process.memoryUsage().rss - rss0 > 512 * 2 ** 20) counts.memory++;
    console.log(`crafted snapshots: ${JSON.stringify(counts)}`);
    expect(problems.slice(0, 5)).toEqual([]);
    expect(counts).toMatchObject({ crashed: 0, slow: 0, neighbourChanged: 0, memory: 0 });
    expect(counts.refused).toBeGreaterThan(counts.tried / 4); // the mutations do reach the checks
    expect(counts.restored).toBeGreaterThan(0);
  });

  it('a trace length past the ring, a cycle counter past 2^53, a read log position past the log: each refused, naming the field', async () => {
    const host = new VmHost({ onEvent: () => {} });
    const bytes = await sample(host, GUESTS.board, 'b');
    const edit = (offset: number, set: (v: DataView, at: number) => void) => {
      const decoded = decodeSnapshot(bytes);
      const sections = [...decoded.sections.values()].map((s) => ({ ...s, data: s.data.slice() }));
      const core = sections.find((s) => s.tag === 'CORE')!;
      set(new DataView(core.data.buffer, core.data.byteOffset, core.data.byteLength), offset - STATE);
      return encodeSnapshot('full', sections);
    };
    for (const len of [0x80000400, 0xffff6a00, 1025]) {
      await expect(host.restore([edit(STATE_TRACE_LEN, (v, at) => v.setUint32(at, len, true))])).rejects.toThrow(/section CORE: the bus trace length is past the trace ring/);
    }
    await expect(host.restore([edit(STATE_CYCLES, (v, at) => v.setUint32(at + 4, 0x200000, true))])).rejects.toThrow(/section CORE: the cycle counter is past 2\^53/);
    await expect(host.restore([edit(STATE_IO_READ_POS, (v, at) => v.setUint8(at, 9))])).rejects.toThrow(/section CORE: the device access log is out of range/);
    expect(host.ids()).toEqual(['b']);
  });
});
