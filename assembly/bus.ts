// The bus, as the generated run loops (assembly/generated/cpu.ts) use it:
// page-attribute checks, the dirty map, device accesses that leave the core,
// the stack, and the bus trace of debug runs.
//
// How to drive this: nothing here is called by the host. The @inline helpers
// compile into the loops exactly as if written there; the others are called.

import {
  PAGE_ATTRS, DIRTY_PAGES, TRACE, TRACE_CAPACITY, TRACE_WRITE, ATTR_READ_EXIT, ATTR_WRITE_EXIT, ATTR_WRITE_IGNORE,
  STATE_CYCLES, STATE_EXIT_ADDR, STATE_IO_STAMP, STATE_IO_READ_LEN, STATE_IO_READ_POS,
  STATE_IO_READ_ADDR, STATE_IO_READ_VALUE, STATE_IO_WRITE_LEN, STATE_IO_WRITE_ADDR,
  STATE_IO_WRITE_VALUE, IO_WRITES_MAX,
} from '../src/core/layout';

// ---- Memory --------------------------------------------------------------------

/** Marks the page of `addr` as written (for diff snapshots). */
@inline export function markDirty(vm: usize, addr: i32): void {
  store<u8>(vm + DIRTY_PAGES + (addr >> 8), 1);
}

/** A write to memory known to be RAM. */
@inline export function ramWrite(vm: usize, addr: i32, value: i32): void {
  store<u8>(vm + addr, value);
  markDirty(vm, addr);
}

/** A data read: RAM and ROM inline; a page marked ATTR_READ_EXIT through the host (-1: the host must read it first). */
@inline export function busRead(vm: usize, addr: i32, cycles: i32): i32 {
  if (load<u8>(vm + PAGE_ATTRS + (addr >> 8)) & ATTR_READ_EXIT) return ioRead(vm, addr, cycles);
  return load<u8>(vm + addr);
}

/**
 * A data write: RAM inline (marking the page dirty), ROM ignored, a page
 * marked ATTR_WRITE_EXIT queued for the host. True when a write was queued:
 * the run then ends after the instruction.
 */
@inline export function busWrite(vm: usize, addr: i32, value: i32): bool {
  const attr = load<u8>(vm + PAGE_ATTRS + (addr >> 8));
  if (!(attr & (ATTR_WRITE_EXIT | ATTR_WRITE_IGNORE))) {
    ramWrite(vm, addr, value);
    return false;
  }
  if (!(attr & ATTR_WRITE_EXIT)) return false;
  ioWrite(vm, addr, value);
  return true;
}

/** The two write cycles of an NMOS read-modify-write: the old value, then the new one (only the last reaches RAM). */
@inline export function busWriteTwice(vm: usize, addr: i32, old: i32, value: i32): bool {
  if (load<u8>(vm + PAGE_ATTRS + (addr >> 8)) & ATTR_WRITE_EXIT) ioWrite(vm, addr, old);
  return busWrite(vm, addr, value);
}

/** Pushes `value` at $0100 + s; returns the new stack pointer. */
@inline export function push(vm: usize, s: i32, value: i32): i32 {
  store<u8>(vm + 0x100 + s, value);
  store<u8>(vm + DIRTY_PAGES + 1, 1);
  return (s - 1) & 0xFF;
}

// ---- The bus trace (debug runs) ------------------------------------------------
// `tpos` is the next free record of the trace ring, or -1 when the run does not
// trace. The debug loops stop (EXIT_TRACE_FULL) before an instruction could
// overflow the ring; a record past its end is dropped, never written.

/** Records one bus cycle (TRACE_* encoding); returns the new `tpos`. */
function trace(vm: usize, tpos: i32, record: u32): i32 {
  if (<u32>tpos >= <u32>TRACE_CAPACITY) return tpos; // not tracing (-1), or full
  store<u32>(vm + TRACE + (<usize>tpos << 2), record);
  return tpos + 1;
}

/** Records a read cycle; returns the new `tpos`. */
export function traceRead(vm: usize, tpos: i32, addr: i32, value: i32): i32 {
  return trace(vm, tpos, addr | (value << 16));
}

/** Records a read whose value the CPU ignores (a dummy read); returns the new `tpos`. */
export function traceDummy(vm: usize, tpos: i32, addr: i32): i32 {
  return trace(vm, tpos, addr | (<i32>load<u8>(vm + addr) << 16));
}

/** Records a write cycle; returns the new `tpos`. */
export function traceWrite(vm: usize, tpos: i32, addr: i32, value: i32): i32 {
  return trace(vm, tpos, addr | (value << 16) | TRACE_WRITE);
}

// ---- Device accesses ----------------------------------------------------------
// A read of a page marked ATTR_READ_EXIT cannot be answered inside the core. The
// core abandons the instruction (nothing of it is committed), exits with
// EXIT_DEVICE_READ and the address; the host performs the read and appends the
// value to the read log; the next run re-executes the instruction, which now
// finds its reads in the log, in order. The log belongs to the instruction that
// starts at the cycle count STATE_IO_STAMP and is discarded after it.

/** The value of a device read, or -1 when the host has to perform it first. */
export function ioRead(vm: usize, addr: i32, cycles: i32): i32 {
  const stamp = load<u64>(vm, STATE_CYCLES) + <u64>cycles;
  if (load<u64>(vm, STATE_IO_STAMP) != stamp) {
    store<u64>(vm, stamp, STATE_IO_STAMP);
    store<u8>(vm, 0, STATE_IO_READ_LEN);
    store<u8>(vm, 0, STATE_IO_READ_POS);
  }
  const pos = <i32>load<u8>(vm, STATE_IO_READ_POS);
  const len = <i32>load<u8>(vm, STATE_IO_READ_LEN);
  if (pos < len && <i32>load<u16>(vm + STATE_IO_READ_ADDR + (pos << 1)) == addr) {
    store<u8>(vm, pos + 1, STATE_IO_READ_POS);
    return load<u8>(vm + STATE_IO_READ_VALUE + pos);
  }
  // Not performed yet, or the log no longer matches this attempt: keep what matched.
  store<u8>(vm, pos, STATE_IO_READ_LEN);
  store<u8>(vm, 0, STATE_IO_READ_POS);
  store<u16>(vm, addr, STATE_EXIT_ADDR);
  return -1;
}

/** Queues a write to a page marked ATTR_WRITE_EXIT; the run ends after the instruction. */
export function ioWrite(vm: usize, addr: i32, value: i32): void {
  const n = <i32>load<u8>(vm, STATE_IO_WRITE_LEN);
  if (n < IO_WRITES_MAX) {
    store<u16>(vm + STATE_IO_WRITE_ADDR + (n << 1), addr);
    store<u8>(vm + STATE_IO_WRITE_VALUE + n, value);
    store<u8>(vm, n + 1, STATE_IO_WRITE_LEN);
  }
  store<u16>(vm, addr, STATE_EXIT_ADDR);
}
