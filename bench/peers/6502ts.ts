// Benchmark adapter for the npm package `6502.ts` (1.1.x, CommonJS).
//
// Runs Klaus Dormann's 6502 functional test on 6502.ts's BatchedAccessCpu, the
// faster of its two CPU cores and the one its Atari 2600 front ends
// (Stellerator) use. Memory is the library's own flat 64 KiB RAM bus,
// `machine/vanilla/Memory`. The image is copied in with the public `poke()`.
// To start at $0400 (or `startPc`, in createRun) we call `cpu.reset()`, then
// set the public `state.p` (PC) and `executionState = fetch`, which skips the
// 7-cycle boot that would read the reset vector.
//
// The CPU is clocked one cycle per `cpu.cycle()` call, as the library's own
// `vanilla/Board._tick()` loop does (without its event dispatch). An
// instruction ends on a cycle that leaves `executionState === fetch` (1). At
// that point we compare PC with `getLastInstructionPointer()` to find the
// `JMP *` success trap. Counts are exact: 96,241,367 cycles and 30,646,177
// instructions.
//
// 6502.ts is CommonJS and has no "exports" map. We load it through
// `createRequire` with deep `lib/...` paths and use small local interfaces, so
// this file does not rely on TypeScript's CJS default-import interop settings.
import { createRequire } from "node:module";

interface Bus6502ts {
  read(address: number): number;
  peek(address: number): number;
  readWord(address: number): number;
  write(address: number, value: number): void;
  poke(address: number, value: number): void;
}
interface Cpu6502ts {
  state: { a: number; x: number; y: number; s: number; p: number; flags: number };
  executionState: number; // 0 boot, 1 fetch, 2 execute
  reset(): unknown;
  cycle(): unknown;
  getLastInstructionPointer(): number;
}

const require = createRequire(import.meta.url);
const BatchedAccessCpu: new (bus: Bus6502ts) => Cpu6502ts =
  require("6502.ts/lib/machine/cpu/BatchedAccessCpu").default;
const Memory: new () => Bus6502ts = require("6502.ts/lib/machine/vanilla/Memory").default;
const version: string = require("6502.ts/package.json").version;

const EXEC_FETCH = 1; // CpuInterface.ExecutionState.fetch (a const enum in the .d.ts)
const CYCLE_CAP = 200_000_000;

export const name = `6502.ts ${version} (BatchedAccessCpu)`;

export type RunResult = { cycles: number; instructions: number; pc: number; peek(address: number): number };

export function createKlausRun(image: Uint8Array): () => RunResult {
  return createRun(image, 0x0400);
}

/** Like createKlausRun, for any 64 KiB image that ends in a self-loop, starting at `startPc`. */
export function createRun(image: Uint8Array, startPc: number): () => RunResult {
  if (image.length !== 0x10000) throw new Error(`expected a 64 KiB image, got ${image.length} bytes`);
  const bus = new Memory();
  const cpu = new BatchedAccessCpu(bus);
  const peek = (address: number) => bus.peek(address);

  return () => {
    for (let i = 0; i < 0x10000; i++) bus.poke(i, image[i]);
    cpu.reset();
    cpu.state.p = startPc;
    cpu.executionState = EXEC_FETCH;

    const state = cpu.state;
    let cycles = 0;
    let instructions = 0;
    while (cycles < CYCLE_CAP) {
      cpu.cycle();
      cycles++;
      if (cpu.executionState === EXEC_FETCH) {
        instructions++;
        if (state.p === cpu.getLastInstructionPointer()) break;
      }
    }
    return { cycles, instructions, pc: state.p, peek };
  };
}
