// The core never writes outside a VM's slot, whatever that slot's state block
// says (a block the host did not check: random fields, huge trace lengths and
// I/O log counts), in every loop; the Cpu API refuses arguments that would
// reach outside a slot or never return, and changes nothing then.
import { describe, it, expect } from 'vitest';
import { CoreMemory } from '../../src/core/cpu.ts';
import * as L from '../../src/core/layout.ts';
import { CPU_MODELS } from '../../src/isa/opcodes.ts';

const TRACE_LENGTHS = [0x80000400, 0xffff6a00, 0x7fffffff, 0xffffffff, L.TRACE_CAPACITY, L.TRACE_CAPACITY + 1, L.TRACE_CAPACITY + 2, L.TRACE_CAPACITY + 100, L.TRACE_CAPACITY - 1, 0x10000];

describe('a state block the host did not check', () => {
  it('never leads the core outside its slot (random blocks, every model and loop): the neighbours stay byte-identical', async () => {
    const core = await CoreMemory.create({ slots: 3 });
    const bytes = new Uint8Array(core.memory.buffer);
    const base = core.slotAddress(1);
    // The neighbour above is full of trace records of a read of $FFFE: a bait for a core that would rewrite records past its ring.
    new DataView(core.memory.buffer).setUint32(core.slotAddress(2), 0, true);
    const bait = new Uint32Array(core.memory.buffer, core.slotAddress(2), L.VM_SLOT_SIZE / 4);
    bait.fill(0xfffe);
    const before = bytes.slice(0, base); // everything below the slot, its neighbour included
    const after = bytes.slice(base + L.VM_SLOT_SIZE);
    let r = 12345;
    const next = () => (r = (Math.imul(r, 1103515245) + 12345) >>> 0) >>> 8;
    let runs = 0;
    for (let i = 0; i < 1500; i++) {
      const model = CPU_MODELS[i % CPU_MODELS.length];
      const cpu = core.cpu(1, model);
      // Code that does everything an interrupt, a device or the trace touches.
      for (let a = 0; a < 0x10000; a += 97) cpu.ram[a] = next() & 0xff;
      for (let o = L.STATE; o < L.SNAPSHOT_BYTES; o++) cpu.slot[o] = next() & 0xff;
      const view = new DataView(cpu.slot.buffer, cpu.slot.byteOffset, cpu.slot.byteLength);
      view.setUint32(L.STATE_TRACE_LEN, TRACE_LENGTHS[i % TRACE_LENGTHS.length], true);
      view.setUint8(L.STATE_FLAGS, view.getUint8(L.STATE_FLAGS) | L.RUN_TRACE);
      for (let p = 0; p < 256; p++) cpu.pageAttrs[p] = next() & 7;
      cpu.ram[0xfffe] = 0x00; cpu.ram[0xffff] = 0x02;
      switch (i % 4) {
        case 0: cpu.debugRun(200); break;
        case 1: cpu.run(200); break;
        case 2: cpu.reset(); cpu.debugRun(50); break;
        default: cpu.cycles = next(); cpu.nmi(); cpu.setIrq(0, true); cpu.debugRun(100);
      }
      runs++;
    }
    expect(runs).toBe(1500);
    expect(Buffer.compare(bytes.subarray(0, base), before)).toBe(0);
    expect(Buffer.compare(bytes.subarray(base + L.VM_SLOT_SIZE), after)).toBe(0);
  });
});

describe('the Cpu API', () => {
  it('refuses an address that is not a slot of the core, and a runFor that would never return', async () => {
    const core = await CoreMemory.create({ slots: 2 });
    const cpu = core.cpu(0);
    const Ctor = cpu.constructor as new (core: CoreMemory, address: number, model: string) => unknown;
    for (const address of [0, core.slotAddress(0) + 1, core.slotAddress(1) + L.VM_SLOT_SIZE, -core.slotAddress(1), 2 ** 40, NaN]) {
      expect(() => new Ctor(core, address, '6502'), String(address)).toThrow(RangeError);
    }
    expect(() => new Ctor(core, core.slotAddress(1), '6502')).not.toThrow();
    cpu.ram.set([0x4c, 0x00, 0x02], 0x200); // JMP $0200
    cpu.pc = 0x200;
    for (const [max, slice] of [[1000, 0], [1000, 0.5], [1000, -1], [1000, NaN], [Infinity, 1000], [-1, 1000], [NaN, 1000]]) {
      expect(() => cpu.runFor(max, slice), `${max} ${slice}`).toThrow(RangeError);
    }
    expect(cpu.cycles).toBe(0); // nothing ran
    cpu.runFor(1000, 7);
    expect(cpu.cycles).toBeGreaterThanOrEqual(1000);
  });
});
