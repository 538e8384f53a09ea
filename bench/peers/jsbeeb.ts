// Benchmark adapter for the npm package `jsbeeb` (1.13.x, BBC Micro emulator,
// pure ESM).
//
// jsbeeb's CPU, `Cpu6502`, is built into a BBC Micro, so it has no standalone
// bus. We use jsbeeb's own test harness instead: `fake6502()` from
// `src/fake6502.js` with its default model TEST_6502. That is an NMOS 6502 in
// which every page, $FC00-$FEFF included, is plain RAM, and the video, sound
// and disc hardware are fakes. jsbeeb's own Dormann test
// (tests/integration/dormann.js) does the same.
// Each run:
//   1. `cpu.reset(true)`: a hard reset. It rebuilds the memory map, resets the
//      peripherals and zeroes the cycle counters.
//   2. Copies the image in with `cpu.writemem()` and sets `cpu.pc = 0x400`.
//   3. Calls `cpu.execute(cap)`. This uses jsbeeb's default cycle-accurate
//      opcode tables, the ones the BBC emulator itself uses.
//
// We use the public `debugInstruction` hook, as jsbeeb's own Dormann test does.
// It runs before each instruction, counts instructions, and returns true to
// stop when an instruction starts at the same PC as the previous one, i.e. the
// previous one left PC unchanged. We read cycles from
// `cycleSeconds * 2e6 + currentCycles`.
//
// Limitation: while any debug hook is installed, jsbeeb takes its slower
// `executeInternal` loop, which also keeps a PC/A/X/Y history. With no hooks it
// takes `executeInternalFast`, but that loop can't count instructions or stop on
// a single instruction. `createKlausRunUnhooked` below measures that fast path:
// it stops only at a slice boundary and reports instructions as NaN.
//
// Cycle count: jsbeeb 1.13.1 reports 96,241,371 cycles, 4 more than real
// hardware's 96,241,367. Its BRK opcode costs 9 cycles, not 7: the generic
// 2-cycle implied-mode tick plus the 7 cycles inside `brk()`. The test runs BRK
// twice. Every other instruction matches cycle for cycle; we checked this
// instruction by instruction against 6502.ts. The instruction count,
// 30,646,177, is exact.
//
// jsbeeb ships no type declarations, so the import below is untyped, and we
// describe the few members we use in a local interface.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
// @ts-ignore -- jsbeeb ships no .d.ts (TS7016 under noImplicitAny)
import { fake6502 } from "jsbeeb/src/fake6502.js";

interface JsbeebCpu {
  pc: number;
  currentCycles: number;
  cycleSeconds: number;
  initialise(): Promise<void>;
  reset(hard: boolean): void;
  writemem(addr: number, value: number): void;
  peekmem(addr: number): number;
  execute(cycles: number): boolean;
  debugInstruction: { add(handler: (addr: number, opcode: number) => boolean): void };
}

const jsbeebVersion: string = (() => {
  try {
    // jsbeeb's "exports" map hides package.json; find it next to src/.
    const entry = createRequire(import.meta.url).resolve("jsbeeb/src/fake6502.js");
    return JSON.parse(readFileSync(join(dirname(entry), "..", "package.json"), "utf8")).version;
  } catch {
    return "1.13.x";
  }
})();

const CYCLE_CAP = 200_000_000;

export const name = `jsbeeb ${jsbeebVersion} (Cpu6502 via fake6502 TEST_6502, cycle-accurate)`;

type KlausResult = { cycles: number; instructions: number; pc: number; peek(address: number): number };

function makeCpu(image: Uint8Array): JsbeebCpu {
  if (image.length !== 0x10000) throw new Error(`expected a 64 KiB image, got ${image.length} bytes`);
  const cpu: JsbeebCpu = fake6502();
  // initialise() is async only because it may load OS/tube ROMs. TEST_6502 has
  // neither, so its body (reset(true) + debugger hookup) runs synchronously
  // before the first await. The returned promise is already resolved.
  void cpu.initialise();
  return cpu;
}

function loadAndReset(cpu: JsbeebCpu, image: Uint8Array, startPc = 0x0400): void {
  cpu.reset(true); // fresh RAM, peripherals, and cycle counters
  for (let i = 0; i < 0x10000; i++) cpu.writemem(i, image[i]);
  cpu.pc = startPc;
}

const totalCycles = (cpu: JsbeebCpu) => cpu.cycleSeconds * 2_000_000 + cpu.currentCycles;

export function createKlausRun(image: Uint8Array): () => KlausResult {
  return createRun(image, 0x0400);
}

/** Like createKlausRun, for any 64 KiB image that ends in a self-loop, starting at `startPc`. */
export function createRun(image: Uint8Array, startPc: number): () => KlausResult {
  const cpu = makeCpu(image);
  const peek = (address: number) => cpu.peekmem(address);
  let prevPc = -1;
  let instructions = 0;
  cpu.debugInstruction.add((addr) => {
    if (addr === prevPc) return true; // previous instruction left PC unchanged: stop before re-executing
    prevPc = addr;
    instructions++;
    return false;
  });

  return () => {
    loadAndReset(cpu, image, startPc);
    prevPc = -1;
    instructions = 0;
    const c0 = totalCycles(cpu);
    cpu.execute(CYCLE_CAP);
    return { cycles: totalCycles(cpu) - c0, instructions, pc: cpu.pc, peek };
  };
}

/**
 * Optional extra, not part of the common adapter contract. It runs jsbeeb's
 * hook-free fast path (`executeInternalFast`), as the emulator does in normal
 * use, in slices of `slice` cycles. It stops at the first slice boundary where
 * PC is parked on a `JMP` to itself, or on a branch to itself that was also
 * there at the previous boundary. It can't count instructions, so it reports
 * NaN, and the cycle count includes up to one slice of extra looping.
 */
export function createKlausRunUnhooked(image: Uint8Array, slice = 100_000, startPc = 0x0400): () => KlausResult {
  const cpu = makeCpu(image);
  const isBranch = (op: number) => (op & 0x1f) === 0x10;
  return () => {
    loadAndReset(cpu, image, startPc);
    const c0 = totalCycles(cpu);
    let lastPc = -1;
    while (totalCycles(cpu) - c0 < CYCLE_CAP) {
      cpu.execute(slice);
      const pc = cpu.pc;
      const op = cpu.peekmem(pc);
      if (op === 0x4c && (cpu.peekmem((pc + 1) & 0xffff) | (cpu.peekmem((pc + 2) & 0xffff) << 8)) === pc) break;
      if (isBranch(op) && cpu.peekmem((pc + 1) & 0xffff) === 0xfe && pc === lastPc) break;
      lastPc = pc;
    }
    return { cycles: totalCycles(cpu) - c0, instructions: NaN, pc: cpu.pc, peek: (a: number) => cpu.peekmem(a) };
  };
}
