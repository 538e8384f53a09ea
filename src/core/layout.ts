// The memory layout of one VM slot: the single definition shared by the Wasm
// core (assembly/) and the TypeScript host (src/).
//
// How to drive this: a VM is a block of VM_SLOT_SIZE bytes at some base
// address `vm` in a Wasm memory; every field below is at `vm + OFFSET`. The
// core reads registers from the block when `run` starts and writes them back
// when it returns, so the host may read or change any field between runs. A
// snapshot of a VM is a copy of its block (see SNAPSHOT_BYTES).
//
// This file must stay valid AssemblyScript as well as TypeScript: plain
// integer constants only.

// ---- Regions of a slot -----------------------------------------------------
/** 64 KiB of guest memory: guest address A is at vm + A. */
export const RAM = 0x00000;
/** One attribute byte per 256-byte guest page (ATTR_* flags). */
export const PAGE_ATTRS = 0x10000;
/** One byte per guest page, set to 1 by the core when the page is written. */
export const DIRTY_PAGES = 0x10100;
/** CPU registers and run state (STATE_* fields, relative to the slot); from 0x10300 the run under way (STATE_RUN_*). */
export const STATE = 0x10200;
/** Breakpoint bitmap: bit (A & 7) of byte A >> 3 marks guest address A. Debug runs only. */
export const BREAKPOINTS = 0x10400;
/** Bus trace ring of TRACE_CAPACITY u32 records (TRACE_* encoding). Debug runs only. */
export const TRACE = 0x12400;
export const TRACE_CAPACITY = 1024;
/**
 * Compiled code (src/jit): one u32 per guest page, the index in the JIT's
 * function table of the code compiled for that page, 0 for none. Written by
 * the host; compiled code reads it to go from page to page. Not part of a snapshot.
 */
export const JIT_PAGES = 0x13400;
/** Bytes per VM slot. */
export const VM_SLOT_SIZE = 0x13800;
/** The part of a slot that holds guest-visible state: RAM, attributes, dirty map, registers. */
export const SNAPSHOT_BYTES = 0x10300;

// ---- Page attributes -------------------------------------------------------
/** Reads of the page leave the core (device, watchpoint, unmapped). */
export const ATTR_READ_EXIT = 1;
/** Writes to the page leave the core (device, watchpoint). */
export const ATTR_WRITE_EXIT = 2;
/** Writes to the page are ignored (ROM, unmapped). */
export const ATTR_WRITE_IGNORE = 4;

// ---- Registers and run state (offsets from the slot base) -----------------
export const STATE_PC = 0x10200; // u16
export const STATE_A = 0x10202; // u8
export const STATE_X = 0x10203; // u8
export const STATE_Y = 0x10204; // u8
export const STATE_S = 0x10205; // u8
export const STATE_P = 0x10206; // u8 (bit 5 always reads 1, bit 4 (B) always 0 here)
export const STATE_HALT = 0x10207; // u8: HALT_*
export const STATE_CYCLES = 0x10208; // u64: total cycles executed
export const STATE_INSTRUCTIONS = 0x10210; // u64: total instructions executed
export const STATE_IRQ = 0x10218; // u8: IRQ line, one bit per source; non-zero = asserted (since STATE_IRQ_AT)
export const STATE_NMI = 0x10219; // u8: 1 = an NMI edge is pending (it came at STATE_NMI_AT)
export const STATE_IRQ_LATCH = 0x1021a; // u8: non-zero = the I flag the interrupt poll at the next instruction boundary sees is set
export const STATE_FLAGS = 0x1021b; // u8: RUN_* options
export const STATE_TRAP_OPCODE = 0x1021c; // u8: opcode that traps when RUN_TRAP is set
export const STATE_EXIT_REASON = 0x1021d; // u8: EXIT_* of the last run
export const STATE_EXIT_ADDR = 0x1021e; // u16: address of the access or trap that ended the run
export const STATE_TRACE_LEN = 0x10220; // u32: records in the trace ring (debug runs)
// Device reads are completed by the host and replayed when the core re-executes
// the instruction (see assembly/core.ts): up to IO_READS_MAX reads of one instruction.
export const STATE_IO_STAMP = 0x10228; // u64: cycle count at the start of the instruction the log belongs to
export const STATE_IO_READ_LEN = 0x10230; // u8: reads in the log
export const STATE_IO_READ_POS = 0x10231; // u8: reads replayed so far in this attempt
export const STATE_IO_WRITE_LEN = 0x10232; // u8: queued device writes
export const STATE_POLL = 0x10233; // u8: POLL_* marks of the instruction that ended at the current cycle
export const STATE_IO_READ_ADDR = 0x10234; // u16 x IO_READS_MAX
export const STATE_IO_READ_VALUE = 0x1023c; // u8 x IO_READS_MAX
export const STATE_IO_WRITE_ADDR = 0x10240; // u16 x IO_WRITES_MAX
export const STATE_IO_WRITE_VALUE = 0x10244; // u8 x IO_WRITES_MAX
// Interrupt lines change at exact cycles (see assembly/bus.ts): an assertion
// (or a release) at cycle T is seen by the poll of an instruction that ends at
// T + 2 or later.
export const STATE_IRQ_AT = 0x10248; // u64: cycle since which the IRQ line has been asserted (may be in the future)
export const STATE_NMI_AT = 0x10250; // u64: cycle of the pending NMI edge (may be in the future)
export const STATE_IRQ_UNTIL = 0x10258; // u64: while STATE_IRQ is 0, the cycle at which the line was released
export const IO_READS_MAX = 4;
export const IO_WRITES_MAX = 2;
/** The end of the fields above: the rest of the state block up to SNAPSHOT_BYTES is unused (zero). */
export const STATE_USED_END = 0x10260;

// ---- The run under way (not part of a snapshot) -------------------------------
// The interrupt state of a run, in cycles from its start: assembly/interrupts.ts
// sets it up from the STATE_IRQ*/STATE_NMI* fields and STATE_POLL when a run
// starts, and keeps the marks in STATE_POLL and STATE_IRQ_LATCH when it ends.
export const STATE_RUN_INT_AT = 0x10300; // i32: the first boundary at which a poll may see a line
export const STATE_RUN_IRQ_SEEN = 0x10304; // i32: the first boundary whose poll sees the IRQ line asserted
export const STATE_RUN_IRQ_GONE = 0x10308; // i32: the first whose poll sees it released again
export const STATE_RUN_NMI_SEEN = 0x1030c; // i32: the first whose poll sees the NMI edge
export const STATE_RUN_LATE_AT = 0x10310; // i32: a taken branch within its page ended here (polled a cycle early)
export const STATE_RUN_SEQ_AT = 0x10314; // i32: an interrupt sequence (or NMOS BRK) ended here (no poll)
export const STATE_RUN_I_AT = 0x10318; // i32: CLI, SEI or PLP ended here...
export const STATE_RUN_I_OLD = 0x1031c; // u8: ...and this was the I flag their poll saw
export const STATE_RUN_HOLD = 0x1031d; // u8: the first instruction replays device reads: no poll before it

// ---- STATE_HALT -------------------------------------------------------------
export const HALT_NONE = 0;
export const HALT_JAM = 1; // NMOS JAM opcode: only a reset restarts the CPU
export const HALT_STP = 2; // 65C02 STP: only a reset restarts the CPU
export const HALT_WAI = 3; // 65C02 WAI: waiting for an interrupt

// ---- STATE_POLL ---------------------------------------------------------------
/** A taken branch that stayed in its page ended here: it polled one cycle early (before its extra cycle). */
export const POLL_LATE = 1;
/** An interrupt sequence (or an NMOS BRK) ended here: it does not poll; an NMI by its 4th cycle takes its vector. */
export const POLL_SEQUENCE = 2;

// ---- STATE_FLAGS ------------------------------------------------------------
/** End the run when an instruction jumps or branches to itself (after executing it once). */
export const RUN_STOP_ON_SELF_LOOP = 1;
/** The opcode in STATE_TRAP_OPCODE traps to the host instead of executing (hypercall). */
export const RUN_TRAP = 2;
/** Debug runs record every bus cycle in the trace ring. */
export const RUN_TRACE = 4;
/** Debug runs: do not stop at a breakpoint on the first instruction (resuming from it). */
export const RUN_SKIP_BREAKPOINT = 8;

// ---- Exit reasons (returned by run and kept in STATE_EXIT_REASON) -----------
export const EXIT_BUDGET = 1; // the cycle budget is spent
export const EXIT_SELF_LOOP = 2; // an instruction jumped or branched to itself
export const EXIT_JAM = 3; // NMOS JAM opcode: the CPU is halted (PC at the JAM)
export const EXIT_STP = 4; // 65C02 STP: the CPU is stopped
export const EXIT_WAI = 5; // 65C02 WAI with no interrupt pending
export const EXIT_BREAKPOINT = 6; // debug runs: PC reached a breakpoint (not executed)
export const EXIT_DEVICE_READ = 7; // a read of a READ_EXIT page needs the host (instruction not executed)
export const EXIT_DEVICE_WRITE = 8; // writes to WRITE_EXIT pages are queued (instruction executed)
export const EXIT_TRAP = 9; // the trap opcode was reached (PC at it, not executed)
export const EXIT_TRACE_FULL = 10; // debug runs: the trace ring is full
// Why compiled code (src/jit) gave the run back; the host's JIT handles these, Cpu.run never returns them.
export const EXIT_JIT_LEAVE = 32; // PC is where compiled code stops: the interpreter (or other compiled code) goes on from there
export const EXIT_JIT_STALE = 33; // the code at PC is no longer what was compiled (it was written since)

// ---- Bus trace records ------------------------------------------------------
// bits 0-15 address, bits 16-23 value, bit 24 set for a write.
export const TRACE_WRITE = 0x1000000;

// ---- Status register bits ----------------------------------------------------
export const FLAG_C = 0x01;
export const FLAG_Z = 0x02;
export const FLAG_I = 0x04;
export const FLAG_D = 0x08;
export const FLAG_B = 0x10;
export const FLAG_U = 0x20;
export const FLAG_V = 0x40;
export const FLAG_N = 0x80;
