// What sim65 2.19 counts, from a run on hyper6502: the cycle counts differ
// from the hardware tables (which hyper6502 follows) in exactly two ways,
// both errors of sim65 2.19:
//
// 1. The JSR or JMP that calls exit ($FFF9) is not counted: sim65 leaves the
//    process inside that instruction, before adding its cycles.
// 2. A taken branch's page crossing is measured from the branch's own address
//    instead of the next instruction's: a branch in the last two bytes of a
//    page gains or loses a cycle depending on where it lands.
//
// How to drive this: `const t = await sim65Timing(machine)` runs a sim65
// machine to its end and returns our cycle count and sim65's.

import type { Machine, MachineExit } from '../../src/machine/machine.ts';
import { opcodeTable } from '../../src/isa/opcodes.ts';

export async function sim65Timing(machine: Machine): Promise<{ ours: number; sim65: number; exit: MachineExit }> {
  const cpu = machine.cpu;
  const table = opcodeTable(cpu.model);
  // Only two kinds of instruction matter: watch them with breakpoints.
  const watched = new Set<number>();
  for (let a = 0; a < 0xfff0; a++) {
    const info = table[cpu.ram[a]];
    const branchAtPageEnd = info.mode === 'rel' && (a & 0xff) >= 0xfe;
    const exitCall = (cpu.ram[a] === 0x20 || cpu.ram[a] === 0x4c) && cpu.ram[a + 1] === 0xf9 && cpu.ram[a + 2] === 0xff;
    if (branchAtPageEnd || exitCall) watched.add(a);
  }
  for (const a of watched) machine.addBreakpoint(a);
  let adjust = 0;
  let exitCallCycles = 0;
  for (;;) {
    let exit = machine.run(1e9);
    if (exit.reason === 'breakpoint') {
      const pc = cpu.pc;
      const info = table[cpu.ram[pc]];
      const before = cpu.cycles;
      exit = machine.run(1); // the watched instruction
      if (info.mode === 'rel') {
        const next = (pc + 2) & 0xffff;
        if (cpu.pc !== next) adjust += Number(cpu.pc >> 8 !== pc >> 8) - Number(cpu.pc >> 8 !== next >> 8);
      } else {
        exitCallCycles = cpu.cycles - before;
      }
    }
    if (exit.reason === 'exit') return { ours: cpu.cycles, sim65: cpu.cycles - exitCallCycles + adjust, exit };
    if (exit.reason !== 'budget' && exit.reason !== 'breakpoint') return { ours: cpu.cycles, sim65: NaN, exit };
  }
}
