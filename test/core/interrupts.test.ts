// Interrupt timing to the cycle, on every CPU model, in the fast and the debug
// loops, in one run or in runs of 1 to 3 cycles: a device asserts IRQ or pulses
// NMI at a chosen cycle, and the stack frames show after which instruction the
// CPU took it (the chip polls the lines in each instruction's second-to-last
// cycle: a line asserted in cycle T is seen by an instruction that ends at
// T + 2 or later).
import { describe, it, expect } from 'vitest';
import { CPU_MODELS, cpuVariant } from '../../src/isa/opcodes.ts';
import { interruptRun, IRQ_HANDLER, NMI_HANDLER, type LineEvent, type InterruptRunOptions } from '../helpers/interrupts.ts';

const NOP = 0xea, INX = 0xe8, CLI = 0x58, SEI = 0x78, PLP = 0x28, PHA = 0x48, BRK = 0x00;
const irqAt = (cycle: number): LineEvent => ({ cycle, line: 'irq' });
const nmiAt = (cycle: number): LineEvent => ({ cycle, line: 'nmi' });
const B = 0x10;

for (const model of CPU_MODELS) {
  const cmos = cpuVariant(model).family === 'cmos';
  for (const [debug, slices] of [[false, undefined], [true, undefined], [false, [1]], [true, [1]], [false, [2, 3]]] as const) {
    describe(`${model}, ${debug ? 'debug' : 'fast'} loop${slices ? `, runs of ${slices.join(', ')} cycles` : ''}`, () => {
      const run = (program: number[], events: LineEvent[], options: InterruptRunOptions = {}) =>
        interruptRun(model, program, events, { debug, slices: slices && [...slices], ...options });
      /** The return address of the innermost interrupt frame: the instruction the CPU would have run next. */
      const returnTo = async (program: number[], events: LineEvent[], options?: InterruptRunOptions) => (await run(program, events, options)).frames[0].pc;

      it('an IRQ raised in the first or second cycle of a 3-cycle LDA zp is taken after it; in its last cycle, after the next instruction', async () => {
        const program = [0xa5, 0x10, INX, INX, INX]; // LDA $10 (cycles 0-2), INX (3-4), INX (5-6)
        expect(await returnTo(program, [irqAt(0)])).toBe(0x0202);
        expect(await returnTo(program, [irqAt(1)])).toBe(0x0202);
        expect(await returnTo(program, [irqAt(2)])).toBe(0x0203);
      });

      it('an IRQ raised in the last cycle of INC abs,X is taken after the next instruction; one cycle earlier, after INC', async () => {
        const program = [0xfe, 0x00, 0x10, INX, INX, INX]; // INC $1000,X (cycles 0-6), INX (7-8)
        expect(await returnTo(program, [irqAt(5)])).toBe(0x0203);
        expect(await returnTo(program, [irqAt(6)])).toBe(0x0204);
      });

      it('a taken branch that stays in its page does not poll in its extra cycle: the IRQ waits one instruction more', async () => {
        const program = [0xd0, 0x00, INX, INX, INX]; // BNE +0, taken (Z clear): cycles 0-2; INX (3-4)
        expect(await returnTo(program, [irqAt(0)])).toBe(0x0202);
        expect(await returnTo(program, [irqAt(1)])).toBe(0x0203); // a 3-cycle LDA zp would have seen it
      });

      it('a taken branch across a page polls in its last cycles as other instructions do; a branch not taken too', async () => {
        const across = [0xd0, 0x01, 0x00, INX, INX, INX]; // at $04FD: BNE $0500, 4 cycles (0-3)
        expect(await returnTo(across, [irqAt(2)], { org: 0x04fd })).toBe(0x0500);
        expect(await returnTo(across, [irqAt(3)], { org: 0x04fd })).toBe(0x0501);
        const notTaken = [0xf0, 0x10, INX, INX]; // BEQ, not taken: 2 cycles
        expect(await returnTo(notTaken, [irqAt(0)])).toBe(0x0202);
        expect(await returnTo(notTaken, [irqAt(1)])).toBe(0x0203);
      });

      it('CLI lets one more instruction run before a pending IRQ; SEI lets it in once, with I set in the pushed P', async () => {
        expect(await returnTo([CLI, INX, INX, INX], [irqAt(0)], { p: 0x24 })).toBe(0x0202);
        const sei = await run([SEI, INX, INX], [irqAt(0)]);
        expect(sei.frames[0]).toEqual({ pc: 0x0201, p: 0x24 });
      });

      it('PLP changes I with the same one-instruction delay; RTI without', async () => {
        // LDA #$20; PHA; PLP (I clear from its end on); INX; INX
        expect(await returnTo([0xa9, 0x20, PHA, PLP, INX, INX, INX], [irqAt(0)], { p: 0x24 })).toBe(0x0205);
        // RTI to $0210 with P = $20: the IRQ comes before the instruction there.
        const rti = [0xa9, 0x02, PHA, 0xa9, 0x10, PHA, 0xa9, 0x20, PHA, 0x40]; // push $02, $10, $20; RTI
        const r = await run(rti, [irqAt(0)], { p: 0x24 });
        expect(r.frames[0].pc).toBe(0x0210);
      });

      it('an IRQ is taken in 7 cycles with B clear in the pushed P; the handler runs with I set', async () => {
        const r = await run([INX, INX], [irqAt(0)]);
        expect(r.handler).toBe('irq');
        expect(r.frames).toEqual([{ pc: 0x0201, p: 0x20 }]);
        // INX (0-1), the sequence (2-8), NOP (9-10), JMP once (11-13).
        expect(r.cycles).toBe(14);
      });

      it('an NMI arriving during the IRQ sequence by its 4th cycle takes over its vector: one frame, B clear', async () => {
        // IRQ seen after INX (cycles 0-1): the sequence runs in cycles 2-8.
        for (const t of [2, 3, 4, 5]) {
          const r = await run([INX, INX, INX], [irqAt(0), nmiAt(t)]);
          expect({ t, handler: r.handler, frames: r.frames }).toEqual({ t, handler: 'nmi', frames: [{ pc: 0x0201, p: 0x20 }] });
        }
        // Later, the IRQ handler's first instruction runs (sequences do not poll), then the NMI.
        for (const t of [6, 7, 8]) {
          const r = await run([INX, INX, INX], [irqAt(0), nmiAt(t)]);
          expect({ t, handler: r.handler, frames: r.frames.map((f) => f.pc) }).toEqual({ t, handler: 'nmi', frames: [IRQ_HANDLER + 1, 0x0201] });
        }
      });

      it(cmos ? 'an NMI during BRK: BRK completes, then the NMI is taken' : 'an NMI during BRK by its 4th cycle takes over its vector: one frame, with B set', async () => {
        // NOP (cycles 0-1), BRK (2-8).
        const program = [NOP, BRK, 0xff, INX];
        for (const t of [2, 3, 4, 5]) {
          const r = await run(program, [nmiAt(t)]);
          if (cmos) expect({ t, frames: r.frames }).toEqual({ t, frames: [{ pc: IRQ_HANDLER, p: 0x24 }, { pc: 0x0203, p: 0x20 | B }] });
          else expect({ t, handler: r.handler, frames: r.frames }).toEqual({ t, handler: 'nmi', frames: [{ pc: 0x0203, p: 0x20 | B }] });
        }
        // Past the vector decision: BRK's own vector, its handler's first instruction, then the NMI.
        const late = await run(program, [nmiAt(cmos ? 8 : 6)]);
        expect(late.handler).toBe('nmi');
        expect(late.frames.map((f) => f.pc)).toEqual([IRQ_HANDLER + 1, 0x0203]);
      });

      it('an NMI is taken even with I set, once per edge, and interrupts an IRQ handler', async () => {
        const r = await run([INX, INX, INX], [nmiAt(0)], { p: 0x24 });
        expect(r.handler).toBe('nmi');
        expect(r.frames).toEqual([{ pc: 0x0201, p: 0x24 }]);
        expect(r.cycles).toBe(14);
        expect(r.machine.cpu.nmiPending).toBe(false);
      });

      it(`${cmos ? 'clears' : 'keeps'} D on interrupt entry`, async () => {
        const r = await run([INX, INX], [irqAt(0)], { p: 0x28 });
        expect(r.machine.cpu.p & 0x08).toBe(cmos ? 0 : 0x08);
      });
    });
  }

  it(`${model}: the same interrupts land on the same cycles however the machine's runs are sliced`, async () => {
    const program = [NOP, BRK, 0xff, INX, 0xfe, 0x00, 0x10, 0xd0, 0x00, INX, INX];
    for (const events of [[irqAt(3), nmiAt(5)], [nmiAt(3)], [irqAt(9), nmiAt(12)], [irqAt(14)]]) {
      const whole = await interruptRun(model, program, events, { p: 0x20 });
      for (const slices of [[1], [2], [3], [1, 2, 5], [7, 1]]) {
        for (const debug of [false, true]) {
          const sliced = await interruptRun(model, program, events, { p: 0x20, slices, debug });
          expect({ slices, debug, frames: sliced.frames, cycles: sliced.cycles }).toEqual({ slices, debug, frames: whole.frames, cycles: whole.cycles });
        }
      }
    }
  });
}

it('the handlers of the harness are where the vectors point', () => {
  expect([IRQ_HANDLER, NMI_HANDLER]).toEqual([0x0300, 0x0380]);
});
