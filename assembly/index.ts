// The hyper6502 CPU core: cycle-exact CPUs (the variants of src/isa/opcodes.ts:
// NMOS 6502, WDC 65C02, Rockwell R65C02) that run inside one Wasm module and
// know nothing of devices or JavaScript.
//
// How to drive this (the host does it in src/core/cpu.ts):
//   1. The module imports its memory (`env.memory`); the host sizes it once and
//      never grows it. Every VM is a slot of VM_SLOT_SIZE bytes at an address
//      `vm` >= firstSlot(), laid out as src/core/layout.ts says.
//   2. `reset(vm, cmos)` performs the reset sequence (or the host writes the
//      registers itself).
//   3. `run_<model>(vm, budget)` (run_6502, run_65c02, run_r65c02) executes
//      instructions until `budget` cycles are spent or something needs the
//      host, and returns an EXIT_* reason. `runFlat_<model>` is the same loop
//      for a VM whose pages are all plain RAM (no attribute checks: faster);
//      `debug_<model>` adds breakpoints and, when RUN_TRACE is set, a record of
//      every bus cycle. The host sets the interrupt lines between runs
//      (STATE_IRQ/STATE_IRQ_AT, STATE_NMI/STATE_NMI_AT).
//   4. On EXIT_DEVICE_READ the host performs the read at STATE_EXIT_ADDR,
//      appends the value to the read log and runs again; on EXIT_DEVICE_WRITE
//      it performs the queued writes and clears the queue.

import {
  STATE_PC, STATE_S, STATE_P, STATE_HALT, STATE_CYCLES, STATE_IRQ_LATCH, STATE_POLL, STATE_IO_READ_LEN,
  STATE_IO_READ_POS, STATE_IO_WRITE_LEN, STATE_NMI, STATE_FLAGS, STATE_TRACE_LEN, RUN_TRACE, TRACE_CAPACITY,
  HALT_NONE, VM_SLOT_SIZE,
} from '../src/core/layout';
import { traceDummy } from './bus';

export * from './generated/cpu';

// What code compiled at run time (src/jit) calls: it runs as a run of the loops
// above does (beginRun, endRun), and calls the same out-of-line helpers.
export { beginRun, endRun, markIFlag } from './interrupts';
export { adcDecimalNmos, adcDecimalCmos, sbcDecimalNmos, sbcDecimalCmos, arr } from './alu';
export { ioWrite } from './bus';

/** The lowest address at which the host may place a VM slot (64 KiB aligned). */
export function firstSlot(): usize {
  return (__heap_base + 0xFFFF) & ~(<usize>0xFFFF);
}

/** Bytes per VM slot. */
export function slotSize(): usize {
  return VM_SLOT_SIZE;
}

/**
 * The RESET sequence: 7 cycles, three stack decrements without writes, I set
 * (and D cleared on the 65C02), PC from $FFFC. A halted CPU restarts. With
 * RUN_TRACE set (and room in the ring) its 7 bus cycles are recorded: two
 * reads at PC, three stack reads, the vector.
 */
export function reset(vm: usize, cmos: bool): void {
  const s = <i32>load<u8>(vm, STATE_S);
  const tpos = <i32>load<u32>(vm, STATE_TRACE_LEN);
  if (load<u8>(vm, STATE_FLAGS) & RUN_TRACE && tpos + 7 <= TRACE_CAPACITY) {
    const pc = <i32>load<u16>(vm, STATE_PC);
    let t = traceDummy(vm, tpos, pc);
    t = traceDummy(vm, t, pc);
    for (let i = 0; i < 3; i++) t = traceDummy(vm, t, 0x100 | ((s - i) & 0xFF));
    t = traceDummy(vm, t, 0xFFFC);
    t = traceDummy(vm, t, 0xFFFD);
    store<u32>(vm, t, STATE_TRACE_LEN);
  }
  store<u8>(vm, (s - 3) & 0xFF, STATE_S);
  let p = <i32>load<u8>(vm, STATE_P) | 0x24;
  if (cmos) p &= ~0x08;
  store<u8>(vm, p & ~0x10, STATE_P);
  store<u16>(vm, load<u16>(vm + 0xFFFC), STATE_PC);
  store<u8>(vm, HALT_NONE, STATE_HALT);
  store<u8>(vm, 1, STATE_IRQ_LATCH);
  store<u8>(vm, 0, STATE_POLL);
  store<u8>(vm, 0, STATE_NMI);
  store<u8>(vm, 0, STATE_IO_READ_LEN);
  store<u8>(vm, 0, STATE_IO_READ_POS);
  store<u8>(vm, 0, STATE_IO_WRITE_LEN);
  store<u64>(vm, load<u64>(vm, STATE_CYCLES) + 7, STATE_CYCLES);
}
