// When the run loops (assembly/generated/cpu.ts) take an interrupt, to the cycle.
//
// The chip samples IRQ and NMI in the second-to-last cycle of each instruction
// (phase 2): a line asserted (or released) in cycle T is seen by the poll of an
// instruction that ends at T + 2 or later, and the interrupt sequence starts
// where that instruction ends. A few instructions poll otherwise, and leave a
// mark at their end: a taken branch that stays in its page polls before its
// extra cycle; CLI, SEI and PLP poll the I flag from before them; an interrupt
// sequence (and the NMOS BRK, which is one) does not poll at all, and an NMI
// by its 4th cycle takes over its vector.
//
// How to drive this: a loop calls beginRun before it loads the registers,
// checks `cycles >= intAt` at each instruction boundary and then asks pollAt
// which vector to take (reloading intAt from STATE_RUN_INT_AT), marks the
// instructions above in STATE_RUN_* as they run, and calls endRun last. All
// cycle counts here are relative to the start of the run; the host's lines
// (STATE_IRQ*, STATE_NMI*) and the marks (STATE_POLL, STATE_IRQ_LATCH) are
// absolute or belong to the boundary where a run stops, so a run may be cut
// anywhere.

import {
  STATE_PC, STATE_CYCLES, STATE_FLAGS, STATE_IRQ, STATE_NMI, STATE_IRQ_AT, STATE_IRQ_UNTIL, STATE_NMI_AT,
  STATE_IRQ_LATCH, STATE_POLL, STATE_IO_READ_LEN, STATE_IO_STAMP, STATE_TRACE_LEN, POLL_LATE, POLL_SEQUENCE,
  STATE_RUN_INT_AT, STATE_RUN_IRQ_SEEN, STATE_RUN_IRQ_GONE, STATE_RUN_NMI_SEEN, STATE_RUN_LATE_AT,
  STATE_RUN_SEQ_AT, STATE_RUN_I_AT, STATE_RUN_I_OLD, STATE_RUN_HOLD, RUN_TRACE, TRACE, TRACE_WRITE, TRACE_CAPACITY,
} from '../src/core/layout';

/** A boundary no run reaches: the line is not asserted. */
export const NEVER: i32 = i32.MAX_VALUE;

/** The run-relative boundary from which a poll sees a change at absolute cycle `at`. */
function seenFrom(at: u64, runStart: u64): i32 {
  const d = <i64>at - <i64>runStart + 2;
  if (d < -0x40000000) return -0x40000000;
  if (d >= <i64>NEVER) return NEVER - 1;
  return <i32>d;
}

function updateIntAt(vm: usize): void {
  store<i32>(vm, min(load<i32>(vm, STATE_RUN_IRQ_SEEN), load<i32>(vm, STATE_RUN_NMI_SEEN)), STATE_RUN_INT_AT);
}

/** The pending NMI is taken: its edge is spent. */
function takeNmi(vm: usize): i32 {
  store<i32>(vm, NEVER, STATE_RUN_NMI_SEEN);
  store<u8>(vm, 0, STATE_NMI);
  updateIntAt(vm);
  return 0xFFFA;
}

/**
 * Sets up the interrupt state of a run from the lines and the marks; returns
 * the first boundary at which a poll may see a line. A run that starts right
 * after an interrupt sequence lets an NMI that the host learnt of since, and
 * that came by the sequence's 4th cycle, take over its vector: PC in the
 * state (and the trace's last two records) become the NMI's.
 */
export function beginRun(vm: usize): i32 {
  const start = load<u64>(vm, STATE_CYCLES);
  let irqSeen = seenFrom(load<u64>(vm, STATE_IRQ_AT), start);
  let irqGone = NEVER;
  if (!load<u8>(vm, STATE_IRQ)) {
    irqGone = seenFrom(load<u64>(vm, STATE_IRQ_UNTIL), start);
    if (irqGone < 0 || irqSeen >= irqGone) irqSeen = irqGone = NEVER;
  }
  store<i32>(vm, irqSeen, STATE_RUN_IRQ_SEEN);
  store<i32>(vm, irqGone, STATE_RUN_IRQ_GONE);
  store<i32>(vm, load<u8>(vm, STATE_NMI) ? seenFrom(load<u64>(vm, STATE_NMI_AT), start) : NEVER, STATE_RUN_NMI_SEEN);
  const poll = <i32>load<u8>(vm, STATE_POLL);
  store<i32>(vm, poll & POLL_LATE ? 0 : -1, STATE_RUN_LATE_AT);
  store<i32>(vm, poll & POLL_SEQUENCE ? 0 : -1, STATE_RUN_SEQ_AT);
  store<i32>(vm, 0, STATE_RUN_I_AT);
  store<u8>(vm, load<u8>(vm, STATE_IRQ_LATCH), STATE_RUN_I_OLD);
  // An instruction whose device reads are being replayed is finished before any interrupt.
  store<u8>(vm, <u8>(load<u8>(vm, STATE_IO_READ_LEN) != 0 && load<u64>(vm, STATE_IO_STAMP) == start), STATE_RUN_HOLD);
  updateIntAt(vm);
  if (poll & POLL_SEQUENCE && load<i32>(vm, STATE_RUN_NMI_SEEN) <= -2) {
    takeNmi(vm);
    store<u16>(vm, load<u16>(vm + 0xFFFA), STATE_PC);
    if (load<u8>(vm, STATE_FLAGS) & RUN_TRACE) retraceVector(vm);
  }
  return load<i32>(vm, STATE_RUN_INT_AT);
}

/** The last two trace records, if they are the reads of $FFFE/$FFFF, become those of $FFFA/$FFFB. */
function retraceVector(vm: usize): void {
  const n = <i32>load<u32>(vm, STATE_TRACE_LEN);
  if (n < 2 || n > TRACE_CAPACITY) return; // whatever the state block says, nothing is written outside the ring
  const at = vm + TRACE + (<usize>(n - 2) << 2);
  if ((load<u32>(at) & (0xFFFF | TRACE_WRITE)) != 0xFFFE) return;
  store<u32>(at, 0xFFFA | (<u32>load<u8>(vm + 0xFFFA) << 16));
  store<u32>(at + 4, 0xFFFB | (<u32>load<u8>(vm + 0xFFFB) << 16));
}

/**
 * At the boundary `cycles` (once cycles >= intAt): the vector of the interrupt
 * the previous instruction's poll saw (NMI first), or 0. `p` holds the I flag.
 */
export function pollAt(vm: usize, cycles: i32, p: i32): i32 {
  if (cycles > load<i32>(vm, STATE_RUN_IRQ_GONE)) {
    // No poll sees the released IRQ line any more.
    store<i32>(vm, NEVER, STATE_RUN_IRQ_SEEN);
    store<i32>(vm, NEVER, STATE_RUN_IRQ_GONE);
    updateIntAt(vm);
  }
  if (load<u8>(vm, STATE_RUN_HOLD)) {
    // Only the boundary before the replayed instruction is held: at its end the poll is as always.
    store<u8>(vm, 0, STATE_RUN_HOLD);
    if (cycles == 0) return 0;
  }
  if (cycles == load<i32>(vm, STATE_RUN_SEQ_AT)) return 0;
  const t = cycles == load<i32>(vm, STATE_RUN_LATE_AT) ? cycles - 1 : cycles; // when the poll was
  if (load<i32>(vm, STATE_RUN_NMI_SEEN) <= t) return takeNmi(vm);
  const masked = cycles == load<i32>(vm, STATE_RUN_I_AT) ? <i32>load<u8>(vm, STATE_RUN_I_OLD) : p & 0x04;
  if (masked || load<i32>(vm, STATE_RUN_IRQ_SEEN) > t || t >= load<i32>(vm, STATE_RUN_IRQ_GONE)) return 0;
  return sequenceVector(vm, cycles, 0xFFFE);
}

/** The vector of an interrupt sequence (or NMOS BRK) starting at `cycles`: the NMI's if one is seen by its 4th cycle. */
export function sequenceVector(vm: usize, cycles: i32, vector: i32): i32 {
  return load<i32>(vm, STATE_RUN_NMI_SEEN) <= cycles + 5 ? takeNmi(vm) : vector;
}

/** Marks the end of CLI, SEI or PLP, whose poll saw the I flag of `p` from before them. */
@inline export function markIFlag(vm: usize, end: i32, p: i32): void {
  store<i32>(vm, end, STATE_RUN_I_AT);
  store<u8>(vm, p & 0x04, STATE_RUN_I_OLD);
}

/** Keeps the marks of the boundary where the run stops for the next run. */
export function endRun(vm: usize, cycles: i32, p: i32): void {
  store<u8>(vm, cycles == load<i32>(vm, STATE_RUN_I_AT) ? load<u8>(vm, STATE_RUN_I_OLD) : <u8>(p & 0x04), STATE_IRQ_LATCH);
  let marks = 0;
  if (cycles == load<i32>(vm, STATE_RUN_LATE_AT)) marks |= POLL_LATE;
  if (cycles == load<i32>(vm, STATE_RUN_SEQ_AT)) marks |= POLL_SEQUENCE;
  store<u8>(vm, marks, STATE_POLL);
}
