// The core's own behaviour beyond the public suites: interrupts and their
// latency, the page-attribute table and device exits, exit reasons, and
// 16-bit wraparound.
import { describe, it, expect, beforeAll } from 'vitest';
import { CoreMemory, ExitReason, PageAttr, type Cpu } from '../../src/core/cpu.ts';
import type { CpuModel } from '../../src/isa/opcodes.ts';

let core: CoreMemory;
beforeAll(async () => { core = await CoreMemory.create({ slots: 2 }); });

/** A fresh CPU with `code` at `org`, PC there, IRQ/NMI vectors at $0300/$0380 (each a JMP to itself). */
function machine(code: number[], org = 0x0200, model: CpuModel = '6502'): Cpu {
  const cpu = core.cpu(0, model);
  cpu.ram.set([0x4c, 0x00, 0x03], 0x0300);
  cpu.ram.set([0x4c, 0x80, 0x03], 0x0380);
  cpu.ram.set(code, org);
  cpu.ram.set([0x00, 0x03], 0xfffe); // IRQ/BRK -> $0300
  cpu.ram.set([0x80, 0x03], 0xfffa); // NMI -> $0380
  cpu.pc = org;
  return cpu;
}

const NOP = 0xea, CLI = 0x58, SEI = 0x78, INX = 0xe8, RTI = 0x40;

describe('interrupt lines through the Cpu API', () => {
  // Timing case by case, through a device, is in interrupts.test.ts; these are
  // the API's own promises, in the flat loop (all pages RAM) and the debug loop.
  it('a line asserted now is seen by the poll of the next instruction: it runs, then the IRQ (7 cycles, B clear, I set)', () => {
    for (const debug of [false, true]) {
      const cpu = machine([NOP, NOP, NOP]);
      cpu.p = 0x20;
      cpu.irq = 1;
      const step = () => (debug ? cpu.step() : cpu.run(1));
      step(); // the NOP: its poll (cycle 0) sees the line asserted in cycle 0
      expect(cpu.pc).toBe(0x0201);
      step(); // the IRQ
      expect({ pc: cpu.pc, cycles: cpu.cycles, i: cpu.p & 0x04 }).toEqual({ pc: 0x0300, cycles: 2 + 7, i: 0x04 });
      const pushedP = cpu.ram[0x100 + ((cpu.s + 1) & 0xff)];
      expect(pushedP & 0x30).toBe(0x20); // B clear for IRQ
      expect(cpu.ram[0x100 + ((cpu.s + 2) & 0xff)] | (cpu.ram[0x100 + ((cpu.s + 3) & 0xff)] << 8)).toBe(0x0201);
    }
  });

  it('a line asserted two cycles back is taken at once; one scheduled ahead waits for its cycle', () => {
    const early = machine([NOP, NOP]);
    early.p = 0x20;
    early.cycles = 100;
    early.setIrq(3, true, 98);
    expect(early.irqSince).toBe(98);
    early.run(1);
    expect(early.pc).toBe(0x0300);

    const later = machine([INX, INX, INX, INX, INX, 0x4c, 0x05, 0x02]);
    later.p = 0x20;
    later.stopOnSelfLoop = true;
    later.setIrq(0, true, 5); // INX 0-1, 2-3, 4-5: the third one's poll (cycle 4) does not see it, the fourth's (6) does
    expect(later.run(100)).toBe(ExitReason.SelfLoop);
    expect({ x: later.x, pc: later.pc, returnTo: later.ram[0x1fc] }).toEqual({ x: 4, pc: 0x0300, returnTo: 0x04 });
  });

  it('sources share one line, asserted since the first of them', () => {
    const cpu = machine([INX]);
    cpu.cycles = 100;
    cpu.setIrq(0, true, 90);
    cpu.setIrq(1, true, 95);
    cpu.setIrq(0, false, 96);
    expect({ irq: cpu.irq, since: cpu.irqSince }).toEqual({ irq: 2, since: 90 });
    cpu.setIrq(1, false); // released at 100
    cpu.setIrq(2, true, 99); // a source that came before the release: the line never went up
    expect(cpu.irqSince).toBe(90);
    cpu.setIrq(2, false, 100);
    cpu.cycles = 110;
    cpu.setIrq(2, true); // asserted anew
    expect(cpu.irqSince).toBe(110);
  });

  it('a release is seen two cycles later too: an IRQ the poll saw is taken, one released before the poll is not', () => {
    for (const [releasedAt, taken] of [[1, true], [0, false]] as const) {
      const cpu = machine([INX, INX, INX, 0x4c, 0x03, 0x02]);
      cpu.p = 0x20;
      cpu.stopOnSelfLoop = true;
      cpu.setIrq(0, true, 0);
      cpu.run(2); // INX: its poll in cycle 0
      cpu.setIrq(0, false, releasedAt);
      expect(cpu.run(100)).toBe(ExitReason.SelfLoop);
      expect({ releasedAt, pc: cpu.pc }).toEqual({ releasedAt, pc: taken ? 0x0300 : 0x0203 });
    }
  });

  it('an NMI edge is taken with I set, once, and one pending edge absorbs another', () => {
    const cpu = machine([INX, INX, INX, INX]);
    cpu.ram.set([RTI], 0x0380);
    cpu.p = 0x24;
    cpu.nmi(0);
    cpu.nmi(1);
    expect(cpu.nmiPending).toBe(true);
    cpu.run(2); // INX, then the NMI
    cpu.run(1);
    expect(cpu.pc).toBe(0x0380);
    expect(cpu.nmiPending).toBe(false);
    cpu.run(100);
    expect(cpu.x).toBe(4);
  });

  it('the CLI delay holds across a run boundary; SEI lets a pending IRQ in once, with I set in the pushed P', () => {
    const cli = machine([CLI, INX, INX, INX]);
    cli.p = 0x24;
    cli.irq = 1;
    cli.run(1); // CLI, then the run ends
    cli.run(1); // INX still runs: the poll during CLI saw I set
    expect(cli.x).toBe(1);
    cli.run(1);
    expect(cli.pc).toBe(0x0300);

    const sei = machine([SEI, INX]);
    sei.p = 0x20;
    sei.irq = 1;
    sei.run(1); // SEI: its poll saw I clear and the line
    sei.run(1);
    expect(sei.pc).toBe(0x0300);
    expect(sei.ram[0x100 + ((sei.s + 1) & 0xff)] & 0x04).toBe(0x04);
    expect(sei.x).toBe(0);
  });

  it('setting P from the host sets the I flag the next poll sees', () => {
    const cpu = machine([INX, INX]);
    cpu.p = 0x24;
    cpu.irq = 1;
    cpu.run(2);
    cpu.p = 0x20;
    cpu.run(1);
    expect(cpu.pc).toBe(0x0300);
  });

  it('BRK pushes P with B set and returns past its padding byte', () => {
    const cpu = machine([0x00, 0xff, NOP]);
    cpu.ram.set([RTI], 0x0300);
    cpu.p = 0x20;
    cpu.step();
    expect(cpu.pc).toBe(0x0300);
    expect(cpu.ram[0x100 + ((cpu.s + 1) & 0xff)] & 0x30).toBe(0x30);
    cpu.step(); // RTI
    expect(cpu.pc).toBe(0x0202);
  });

  it('rejects interrupt cycles that are not whole non-negative numbers', () => {
    const cpu = machine([NOP]);
    expect(() => cpu.setIrq(0, true, -1)).toThrow(/interrupt cycle -1/);
    expect(() => cpu.nmi(1.5)).toThrow(/interrupt cycle 1.5/);
  });
});

describe('halts and waits', () => {
  it('JAM halts the NMOS CPU until reset', () => {
    const cpu = machine([INX, 0x02, INX]);
    cpu.ram.set([0x00, 0x02], 0xfffc);
    expect(cpu.run(100)).toBe(ExitReason.Jam);
    expect(cpu.pc).toBe(0x0201);
    expect(cpu.halted).toBe('jam');
    const c = cpu.cycles;
    expect(cpu.run(100)).toBe(ExitReason.Jam);
    expect(cpu.cycles).toBe(c);
    cpu.reset();
    expect(cpu.halted).toBe(null);
    expect(cpu.pc).toBe(0x0200);
    expect(cpu.cycles).toBe(c + 7);
  });

  it('STP stops the 65C02 until reset', () => {
    const cpu = machine([0xdb, INX], 0x0200, '65c02');
    expect(cpu.run(100)).toBe(ExitReason.Stp);
    expect(cpu.run(100)).toBe(ExitReason.Stp);
    expect(cpu.x).toBe(0);
  });

  it('WAI waits for an interrupt (spending the budget), then takes it or continues when I is set', () => {
    const cpu = machine([0xcb, INX], 0x0200, '65c02');
    cpu.p = 0x20;
    expect(cpu.run(100)).toBe(ExitReason.Wai);
    const c = cpu.cycles;
    expect(cpu.run(50)).toBe(ExitReason.Wai);
    expect(cpu.cycles).toBe(c + 50);
    cpu.irq = 1; // seen two cycles from now: the interrupt sequence starts then
    cpu.run(9);
    expect(cpu.pc).toBe(0x0300);
    expect(cpu.cycles).toBe(c + 50 + 2 + 7);

    const masked = machine([0xcb, INX], 0x0200, '65c02');
    masked.p = 0x24;
    expect(masked.run(100)).toBe(ExitReason.Wai);
    masked.irq = 1;
    masked.run(3);
    expect(masked.x).toBe(1);
  });

  it('WAI with a line scheduled ahead idles until its poll sees it, inside one run or across runs', () => {
    for (const budget of [1000, 4, 1]) {
      const cpu = machine([0xcb, INX], 0x0200, '65c02');
      cpu.p = 0x20;
      cpu.stopOnSelfLoop = true;
      cpu.setIrq(0, true, 40); // seen from cycle 42
      let reason;
      while ((reason = cpu.run(budget)) === ExitReason.Budget);
      // The sequence in cycles 42-48, the handler's JMP * once.
      expect({ budget, reason, pc: cpu.pc, cycles: cpu.cycles }).toEqual({ budget, reason: ExitReason.SelfLoop, pc: 0x0300, cycles: 42 + 7 + 3 });
    }
  });
});

describe('exit reasons', () => {
  it('a budget ends the run after the instruction that reaches it', () => {
    const cpu = machine([0xad, 0, 0x10, 0xad, 0, 0x10]); // LDA $1000 twice (4 cycles each)
    expect(cpu.run(5)).toBe(ExitReason.Budget);
    expect(cpu.cycles).toBe(8);
    expect(cpu.instructions).toBe(2);
  });

  it('stop on self-loop counts the looping instruction once', () => {
    const cpu = machine([INX, 0x4c, 0x01, 0x02]); // INX; JMP *
    cpu.stopOnSelfLoop = true;
    expect(cpu.run(1000)).toBe(ExitReason.SelfLoop);
    expect(cpu.pc).toBe(0x0201);
    expect(cpu.cycles).toBe(2 + 3);
    const branch = machine([0xd0, 0xfe]); // BNE * (Z clear)
    branch.p = 0x20;
    branch.stopOnSelfLoop = true;
    expect(branch.run(1000)).toBe(ExitReason.SelfLoop);
    expect(branch.cycles).toBe(3);
  });

  it('the trap opcode exits with PC at it, charging nothing', () => {
    const cpu = machine([INX, 0x02, INX]);
    cpu.trapOpcode = 0x02;
    expect(cpu.run(100)).toBe(ExitReason.Trap);
    expect(cpu.pc).toBe(0x0201);
    expect(cpu.cycles).toBe(2);
    expect(cpu.exitAddress).toBe(0x0201);
    expect(() => (cpu.trapOpcode = 0xea)).toThrow(/cannot be the trap opcode/);
    const cmos = machine([0x03], 0x0200, '65c02');
    cmos.trapOpcode = 0x03;
    expect(cmos.run(10)).toBe(ExitReason.Trap);
  });

  it('a breakpoint stops a debug run before the instruction; resuming steps over it', () => {
    const cpu = machine([INX, INX, INX, 0x4c, 0x00, 0x02]);
    cpu.setBreakpoint(0x0202);
    expect(cpu.debugRun(1000)).toBe(ExitReason.Breakpoint);
    expect(cpu.pc).toBe(0x0202);
    expect(cpu.x).toBe(2);
    cpu.skipBreakpointOnce();
    expect(cpu.debugRun(1000)).toBe(ExitReason.Breakpoint);
    expect(cpu.x).toBe(5);
    cpu.clearBreakpoints();
    expect(cpu.debugRun(100)).toBe(ExitReason.Budget);
  });

  it('the fast run ignores breakpoints', () => {
    const cpu = machine([INX, INX]);
    cpu.setBreakpoint(0x0201);
    cpu.run(4);
    expect(cpu.x).toBe(2);
  });
});

describe('page attributes and device exits', () => {
  it('ROM pages ignore writes; dirty pages record RAM writes', () => {
    const cpu = machine([0xa9, 0x55, 0x8d, 0x00, 0xe0, 0x8d, 0x00, 0x10]); // LDA #$55; STA $E000; STA $1000
    cpu.ram[0xe000] = 0x11;
    cpu.mapPages(0xe0, 0xff, PageAttr.ROM);
    cpu.run(10);
    expect(cpu.ram[0xe000]).toBe(0x11);
    expect(cpu.ram[0x1000]).toBe(0x55);
    expect(cpu.dirtyPages[0x10]).toBe(1);
    expect(cpu.dirtyPages[0xe0]).toBe(0);
  });

  it('a device read leaves the core before the instruction and is replayed on the next run', () => {
    const cpu = machine([0xad, 0x00, 0xd0, INX]); // LDA $D000
    cpu.mapPages(0xd0, 0xd0, PageAttr.DEVICE);
    expect(cpu.run(100)).toBe(ExitReason.DeviceRead);
    expect({ pc: cpu.pc, addr: cpu.exitAddress, cycles: cpu.cycles }).toEqual({ pc: 0x0200, addr: 0xd000, cycles: 0 });
    cpu.completeRead(0x42);
    cpu.run(4);
    expect({ a: cpu.a, pc: cpu.pc, cycles: cpu.cycles }).toEqual({ a: 0x42, pc: 0x0203, cycles: 4 });
  });

  it('an indexed device read that crosses a page replays with the right cycle count', () => {
    const cpu = machine([0xbd, 0xf0, 0xcf, INX]); // LDA $CFF0,X with X=$20 -> $D010
    cpu.mapPages(0xd0, 0xd0, PageAttr.DEVICE);
    cpu.x = 0x20;
    expect(cpu.run(100)).toBe(ExitReason.DeviceRead);
    expect({ addr: cpu.exitAddress, cycles: cpu.cycles }).toEqual({ addr: 0xd010, cycles: 0 });
    cpu.completeRead(0x5a);
    cpu.run(5);
    expect({ a: cpu.a, pc: cpu.pc, cycles: cpu.cycles, instructions: cpu.instructions }).toEqual({ a: 0x5a, pc: 0x0203, cycles: 5, instructions: 1 });
  });

  it('an undocumented read-modify-write on a device (run out of line) exits and replays too', () => {
    const cpu = machine([0x0f, 0x00, 0xd0]); // SLO $D000
    cpu.mapPages(0xd0, 0xd0, PageAttr.DEVICE);
    cpu.a = 0x01;
    expect(cpu.run(100)).toBe(ExitReason.DeviceRead);
    expect({ pc: cpu.pc, cycles: cpu.cycles, instructions: cpu.instructions }).toEqual({ pc: 0x0200, cycles: 0, instructions: 0 });
    cpu.completeRead(0x40);
    expect(cpu.run(100)).toBe(ExitReason.DeviceWrite);
    expect(cpu.takeWrites()).toEqual([{ address: 0xd000, value: 0x40 }, { address: 0xd000, value: 0x80 }]);
    expect({ a: cpu.a, cycles: cpu.cycles, instructions: cpu.instructions }).toEqual({ a: 0x81, cycles: 6, instructions: 1 });
  });

  it('a device write is queued and the run ends after the instruction', () => {
    const cpu = machine([0xa9, 0x77, 0x8d, 0x01, 0xd0, INX]);
    cpu.mapPages(0xd0, 0xd0, PageAttr.DEVICE);
    expect(cpu.run(100)).toBe(ExitReason.DeviceWrite);
    expect(cpu.pc).toBe(0x0205);
    expect(cpu.takeWrites()).toEqual([{ address: 0xd001, value: 0x77 }]);
    expect(cpu.ram[0xd001]).toBe(0);
    expect(cpu.takeWrites()).toEqual([]);
  });

  it('read-modify-write on a device: NMOS writes the old value then the new one, the 65C02 only the new', () => {
    for (const [model, writes] of [['6502', [5, 6]], ['65c02', [6]]] as const) {
      const cpu = machine([0xee, 0x00, 0xd0], 0x0200, model); // INC $D000
      cpu.mapPages(0xd0, 0xd0, PageAttr.DEVICE);
      expect(cpu.run(100)).toBe(ExitReason.DeviceRead);
      cpu.completeRead(5);
      expect(cpu.run(100)).toBe(ExitReason.DeviceWrite);
      expect(cpu.takeWrites().map((w) => w.value), model).toEqual(writes);
      expect(cpu.cycles).toBe(6);
    }
  });

  it('no interrupt slips between a device read exit and the replay of its instruction', () => {
    const cpu = machine([0xad, 0x00, 0xd0, INX]);
    cpu.mapPages(0xd0, 0xd0, PageAttr.DEVICE);
    cpu.p = 0x20;
    expect(cpu.run(100)).toBe(ExitReason.DeviceRead);
    cpu.irq = 1; // a device raises IRQ while the host handles the read
    cpu.completeRead(9);
    cpu.step();
    expect({ a: cpu.a, pc: cpu.pc }).toEqual({ a: 9, pc: 0x0203 });
    cpu.step();
    expect(cpu.pc).toBe(0x0300);
  });

  it('unmapped pages exit on reads and ignore writes', () => {
    const cpu = machine([0x8d, 0x00, 0x90, 0xad, 0x00, 0x90]);
    cpu.mapPages(0x90, 0x9f, PageAttr.UNMAPPED);
    expect(cpu.run(100)).toBe(ExitReason.DeviceRead);
    expect(cpu.pc).toBe(0x0203);
    expect(cpu.ram[0x9000]).toBe(0);
  });
});

describe('16-bit wraparound', () => {
  it('PC wraps from $FFFF to $0000, also inside an instruction', () => {
    const cpu = machine([]);
    cpu.ram[0xffff] = 0xa9; // LDA #$5A with its operand at $0000
    cpu.ram[0x0000] = 0x5a;
    cpu.pc = 0xffff;
    cpu.step();
    expect({ a: cpu.a, pc: cpu.pc }).toEqual({ a: 0x5a, pc: 0x0001 });
  });

  it('absolute indexing wraps at $FFFF; zero-page indexing wraps in page 0', () => {
    const cpu = machine([0xbd, 0xff, 0xff, 0xb5, 0xff]); // LDA $FFFF,X; LDA $FF,X
    cpu.x = 2;
    cpu.ram[0x0001] = 0x11;
    cpu.ram[0x0101] = 0x22;
    cpu.step();
    expect(cpu.a).toBe(0x11);
    cpu.step();
    expect(cpu.a).toBe(0x11); // $FF + 2 = $01 in page 0, not $0101
  });

  it('(zp),Y takes its pointer from $FF and $00', () => {
    const cpu = machine([0xb1, 0xff]);
    cpu.ram[0xff] = 0x00;
    cpu.ram[0x00] = 0x30;
    cpu.ram[0x3001] = 0x99;
    cpu.y = 1;
    cpu.step();
    expect(cpu.a).toBe(0x99);
  });

  it('JMP ($10FF) reads its high byte from $1000 on NMOS and from $1100 on the 65C02', () => {
    for (const [model, target] of [['6502', 0x3412], ['65c02', 0x5612]] as const) {
      const cpu = machine([0x6c, 0xff, 0x10], 0x0200, model);
      cpu.ram[0x10ff] = 0x12;
      cpu.ram[0x1000] = 0x34;
      cpu.ram[0x1100] = 0x56;
      cpu.step();
      expect(cpu.pc, model).toBe(target);
    }
  });

  it('the stack pointer wraps within page 1', () => {
    const cpu = machine([0x48, 0x68, 0x68]); // PHA; PLA; PLA
    cpu.s = 0x00;
    cpu.a = 0x77;
    cpu.step();
    expect(cpu.ram[0x100]).toBe(0x77);
    expect(cpu.s).toBe(0xff);
    cpu.ram[0x100] = 0x66;
    cpu.step();
    expect({ a: cpu.a, s: cpu.s }).toEqual({ a: 0x66, s: 0x00 });
  });
});

describe('many VMs in one memory', () => {
  it('slots are isolated', () => {
    const a = core.cpu(0, '6502');
    const b = core.cpu(1, '6502');
    a.ram.set([0xa9, 0x01, 0x8d, 0x00, 0x10]);
    b.ram.set([0xa9, 0x02, 0x8d, 0x00, 0x10]);
    a.run(6);
    b.run(6);
    expect([a.ram[0x1000], b.ram[0x1000]]).toEqual([1, 2]);
    expect(() => core.cpu(2)).toThrow(/slot 2 does not exist/);
  });
});
