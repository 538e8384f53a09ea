// Interrupts at chosen cycles, driven through a device the way a timer drives
// them: a Machine with a program at $0200, handlers that record where they
// were entered, and a device that asserts IRQ or pulses NMI at given cycles.
//
// How to drive this:
//   const r = await interruptRun('6502', [0xa5, 0x10, 0xe8], [{ cycle: 0, line: 'irq' }]);
//   r.frames   // the interrupt frames on the stack, innermost first: { pc, p }
//   r.handler  // 'irq' or 'nmi': the handler the CPU ended in
// The IRQ/BRK handler ($0300) and the NMI handler ($0380) are NOP; JMP *: the
// run stops at the JMP (a self-loop), so at least one handler instruction has
// run. `slices` cuts the run into Machine.run calls of those sizes (repeated),
// `debug` runs the debug loops (a breakpoint nobody reaches).

import { Machine } from '../../src/machine/machine.ts';
import type { Device, DeviceContext } from '../../src/devices/device.ts';
import type { CpuModel } from '../../src/isa/opcodes.ts';

export interface LineEvent {
  cycle: number;
  line: 'irq' | 'nmi';
  /** For IRQ: assert (default) or release. */
  on?: boolean;
}

/** Asserts IRQ or pulses NMI at the cycles of its schedule, from its tick, like a timer that ran out. */
export class InterruptSchedule implements Device {
  readonly name = 'schedule';
  private ctx?: DeviceContext;
  private readonly events: LineEvent[];

  constructor(events: LineEvent[]) {
    this.events = [...events].sort((a, b) => a.cycle - b.cycle);
  }
  attach(ctx: DeviceContext) {
    this.ctx = ctx;
  }
  nextEvent(): number {
    return this.events[0]?.cycle ?? Infinity;
  }
  tick(cycle: number) {
    while (this.events.length && this.events[0].cycle <= cycle) {
      const e = this.events.shift()!;
      if (e.line === 'nmi') this.ctx!.nmi(e.cycle);
      else this.ctx!.setIrq(e.on ?? true, e.cycle);
    }
  }
  /** Reading the register acknowledges the IRQ. */
  read(): number {
    this.ctx!.setIrq(false);
    return 0;
  }
}

export const IRQ_HANDLER = 0x0300;
export const NMI_HANDLER = 0x0380;

export interface InterruptRun {
  handler: 'irq' | 'nmi' | 'none';
  /** Interrupt frames on the stack, innermost first. */
  frames: Array<{ pc: number; p: number }>;
  pc: number;
  cycles: number;
  machine: Machine;
}

export interface InterruptRunOptions {
  /** Where the program goes (default $0200). */
  org?: number;
  /** The status register at the start (default $20: I clear). */
  p?: number;
  slices?: number[];
  debug?: boolean;
}

export async function interruptRun(model: CpuModel, program: number[], events: LineEvent[], options: InterruptRunOptions = {}): Promise<InterruptRun> {
  const org = options.org ?? 0x0200;
  const ram = new Uint8Array(0x10000);
  ram.set(program, org);
  ram.set([0xea, 0x4c, 0x01, 0x03], IRQ_HANDLER); // NOP; JMP $0301
  ram.set([0xea, 0x4c, 0x81, 0x03], NMI_HANDLER); // NOP; JMP $0381
  ram.set([0x80, 0x03, 0x00, 0x02, 0x00, 0x03], 0xfffa);
  const m = await Machine.fromParts({
    cpu: model,
    image: ram,
    devices: [{ address: 0xd000, size: 1, device: () => new InterruptSchedule(events) }],
    startAt: org,
    registers: { p: options.p ?? 0x20, s: 0xff },
  });
  m.cpu.stopOnSelfLoop = true;
  if (options.debug) m.addBreakpoint(0xfff0);
  const slices = options.slices ?? [10_000];
  let exit;
  for (let i = 0; ; i++) {
    exit = m.run(slices[i % slices.length]);
    if (exit.reason !== 'budget') break;
    if (m.cpu.cycles > 100_000) throw new Error('the program did not reach a handler');
  }
  if (exit.reason !== 'self-loop') throw new Error(`the run ended with ${exit.reason}`);
  const cpu = m.cpu;
  const frames = [];
  for (let s = cpu.s; s + 3 <= 0xff; s += 3) {
    const at = (k: number) => cpu.ram[0x100 + s + k];
    frames.push({ p: at(1), pc: at(2) | (at(3) << 8) });
  }
  const handler = cpu.pc === IRQ_HANDLER + 1 ? 'irq' : cpu.pc === NMI_HANDLER + 1 ? 'nmi' : 'none';
  return { handler, frames, pc: cpu.pc, cycles: cpu.cycles, machine: m };
}
