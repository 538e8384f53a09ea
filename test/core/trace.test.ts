// The bus trace of debug runs without any conformance data: one record per
// cycle, dummy accesses included, where the two CPU families differ; the
// interrupt sequence and RESET; the 65C02's $5C; a full trace ring
// (EXIT_TRACE_FULL) that loses nothing.
import { describe, it, expect, beforeAll } from 'vitest';
import { CoreMemory, ExitReason, PageAttr, type BusCycle, type Cpu } from '../../src/core/cpu.ts';
import { TRACE_CAPACITY } from '../../src/core/layout.ts';
import { CPU_MODELS, cpuVariant, type CpuModel } from '../../src/isa/opcodes.ts';

let core: CoreMemory;
beforeAll(async () => { core = await CoreMemory.create(); });

function traced(code: number[], model: CpuModel = '6502', org = 0x0200): Cpu {
  const cpu = core.cpu(0, model);
  cpu.ram.set(code, org);
  cpu.ram.set([0x00, 0x03], 0xfffe);
  cpu.ram.set([0x80, 0x03], 0xfffa);
  cpu.pc = org;
  cpu.tracing = true;
  return cpu;
}

const r = (address: number, value: number): BusCycle => ({ address, value, write: false });
const w = (address: number, value: number): BusCycle => ({ address, value, write: true });

describe('one record per cycle, in bus order', () => {
  it('LDA abs,X across a page: the NMOS dummy read at the unfixed address, the 65C02 one at the last instruction byte', () => {
    for (const [model, dummy] of [['6502', r(0x1200, 0x11)], ['65c02', r(0x0202, 0x12)]] as const) {
      const cpu = traced([0xbd, 0xff, 0x12], model); // LDA $12FF,X
      cpu.x = 1;
      cpu.ram[0x1200] = 0x11;
      cpu.ram[0x1300] = 0x33;
      cpu.step();
      expect(cpu.takeTrace(), model).toEqual([r(0x0200, 0xbd), r(0x0201, 0xff), r(0x0202, 0x12), dummy, r(0x1300, 0x33)]);
      expect(cpu.cycles).toBe(5);
    }
  });

  it('INC zp: NMOS writes the old value back, the 65C02 reads it again', () => {
    for (const [model, middle] of [['6502', w(0x0010, 0x41)], ['65c02', r(0x0010, 0x41)]] as const) {
      const cpu = traced([0xe6, 0x10], model);
      cpu.ram[0x10] = 0x41;
      cpu.step();
      expect(cpu.takeTrace(), model).toEqual([r(0x0200, 0xe6), r(0x0201, 0x10), r(0x0010, 0x41), middle, w(0x0010, 0x42)]);
    }
  });

  it('JSR: the stack read, both pushes, then the high byte', () => {
    const cpu = traced([0x20, 0x34, 0x12]);
    cpu.s = 0xfd;
    cpu.step();
    expect(cpu.takeTrace()).toEqual([r(0x0200, 0x20), r(0x0201, 0x34), r(0x01fd, 0x00), w(0x01fd, 0x02), w(0x01fc, 0x02), r(0x0202, 0x12)]);
  });

  it('the IRQ sequence: two reads at PC, three pushes, the vector', () => {
    const cpu = traced([0xea]);
    cpu.p = 0x20;
    cpu.s = 0xff;
    cpu.setIrq(0, true, 0);
    cpu.cycles = 2;
    cpu.step();
    expect(cpu.takeTrace()).toEqual([r(0x0200, 0xea), r(0x0200, 0xea), w(0x01ff, 0x02), w(0x01fe, 0x00), w(0x01fd, 0x20), r(0xfffe, 0x00), r(0xffff, 0x03)]);
  });

  it('an NMI that takes over the IRQ sequence reads its own vector in the trace, known before it or learnt after', () => {
    for (const learntAfter of [false, true]) {
      const cpu = traced([0xea]);
      cpu.ram[0x0380] = 0xe8; // INX
      cpu.p = 0x20;
      cpu.setIrq(0, true, 0);
      cpu.cycles = 2;
      if (!learntAfter) cpu.nmi(4); // in the sequence's 3rd cycle
      cpu.step(); // the sequence
      if (learntAfter) {
        expect(cpu.pc).toBe(0x0300); // as far as the run knew
        cpu.nmi(4); // as a device ticked after the run would raise it
      }
      cpu.step(); // INX at $0380
      expect({ learntAfter, pc: cpu.pc, x: cpu.x, nmiPending: cpu.nmiPending }).toEqual({ learntAfter, pc: 0x0381, x: 1, nmiPending: false });
      expect(cpu.takeTrace().slice(5)).toEqual([r(0xfffa, 0x80), r(0xfffb, 0x03), r(0x0380, 0xe8), r(0x0381, 0x00)]);
    }
  });

  it('RESET records its 7 cycles: two reads at PC, three stack reads, the vector', () => {
    for (const model of CPU_MODELS) {
      const cpu = traced([0xea], model);
      cpu.ram.set([0x00, 0x04], 0xfffc);
      cpu.s = 0x40;
      cpu.reset();
      expect(cpu.takeTrace(), model).toEqual([r(0x0200, 0xea), r(0x0200, 0xea), r(0x0140, 0), r(0x013f, 0), r(0x013e, 0), r(0xfffc, 0x00), r(0xfffd, 0x04)]);
      expect({ pc: cpu.pc, s: cpu.s, cycles: cpu.cycles }).toEqual({ pc: 0x0400, s: 0x3d, cycles: 7 });
    }
  });

  it('nothing is recorded without tracing, or by the fast loop', () => {
    const cpu = traced([0xe8, 0xe8]);
    cpu.tracing = false;
    cpu.step();
    cpu.reset();
    cpu.tracing = true;
    cpu.run(10);
    expect(cpu.takeTrace()).toEqual([]);
  });
});

describe("the 65C02's 8-cycle NOP $5C", () => {
  for (const model of CPU_MODELS.filter((m) => cpuVariant(m).family === 'cmos')) {
    it(`${model}: reads $FFll, then $FFFF four times, and never its operand address`, () => {
      const cpu = traced([0x5c, 0x34, 0xd0, 0xe8], model); // NOP $D034: a device page
      cpu.mapPages(0xd0, 0xd0, PageAttr.DEVICE);
      cpu.ram[0xff34] = 0x77;
      cpu.ram[0xffff] = 0x99;
      expect(cpu.debugRun(8)).toBe(ExitReason.Budget);
      expect(cpu.takeTrace()).toEqual([r(0x0200, 0x5c), r(0x0201, 0x34), r(0x0202, 0xd0), r(0xff34, 0x77), ...Array(4).fill(r(0xffff, 0x99))]);
      expect({ pc: cpu.pc, cycles: cpu.cycles }).toEqual({ pc: 0x0203, cycles: 8 });
      // The fast loop: no device exit either.
      cpu.pc = 0x0200;
      expect(cpu.run(8)).toBe(ExitReason.Budget);
      expect(cpu.pc).toBe(0x0203);
    });
  }
});

describe('a full trace ring', () => {
  it('ends the debug run with TraceFull before it could overflow, and resuming loses no cycle', () => {
    // LDX #0; loop: INC $1000,X; INX; BNE loop; JMP *  (7 + 2 + 3 cycles a round)
    const cpu = traced([0xa2, 0x00, 0xfe, 0x00, 0x10, 0xe8, 0xd0, 0xfa, 0x4c, 0x08, 0x02]);
    cpu.stopOnSelfLoop = true;
    const records: BusCycle[] = [];
    let fulls = 0;
    for (;;) {
      const reason = cpu.debugRun(1_000_000);
      const part = cpu.takeTrace();
      expect(part.length).toBeLessThanOrEqual(TRACE_CAPACITY);
      records.push(...part);
      if (reason !== ExitReason.TraceFull) {
        expect(reason).toBe(ExitReason.SelfLoop);
        break;
      }
      expect(part.length).toBeGreaterThan(TRACE_CAPACITY - 8);
      fulls++;
    }
    expect(fulls).toBeGreaterThan(1);
    expect(records.length).toBe(cpu.cycles); // one record per cycle, none lost or repeated
    expect(records.filter((c) => c.write && c.address >= 0x1000 && c.address < 0x1100)).toHaveLength(2 * 256); // INC abs,X: old value, new value
    expect(records.at(-3)).toEqual(r(0x0208, 0x4c)); // the JMP * last
  });

  it('RESET with the ring full records nothing rather than overflow it', () => {
    const cpu = traced([0xea]);
    cpu.ram.fill(0xea, 0x0200, 0x0a00); // NOPs
    expect(cpu.debugRun(1_000_000)).toBe(ExitReason.TraceFull);
    const before = cpu.cycles;
    cpu.reset();
    expect(cpu.cycles).toBe(before + 7);
    expect(cpu.takeTrace().length).toBeLessThanOrEqual(TRACE_CAPACITY);
  });
});
