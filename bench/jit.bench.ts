// JIT benchmark: the same workloads on the interpreter and with the JIT, in
// one run, and the ratio.
//
// How to run this:
//   npm run bench:jit                     # = npx tsx bench/jit.bench.ts
//   npx tsx bench/jit.bench.ts --quick    # few samples: a smoke run
// Workloads: "sieve" (bench/programs/sieve.ts: hot loops in one page, the
// JIT's best case) and "klaus" (Klaus Dormann's functional test: 30 million
// instructions over 50 pages, much of it run once, self-modifying: its worst).
// Each run starts from a fresh load and must end at the workload's `JMP *` with
// the interpreter's exact cycle count. The first JIT run of a workload in the
// process includes compiling (printed as "cold", with the compile time); the
// timed runs then find the compiled modules in the process's cache, as a VM
// that runs the same code again does. The interpreter's runs and the JIT's
// alternate (a shared machine's load falls on both alike); each speed is the
// median of its runs, the ratio JIT MHz / interpreter MHz.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CoreMemory, ExitReason, type JitOption } from '../src/core/cpu.ts';
import { jitProcessStats } from '../src/jit/engine.ts';
import { SIEVE, flatImage } from './programs/sieve.ts';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 5 : 21;

interface Workload { name: string; image: Uint8Array; start: number; end: number; cycles: number }
const workloads: Workload[] = [{ name: 'sieve', image: flatImage(SIEVE.bytes, SIEVE.loadAddress), start: SIEVE.startPc, end: SIEVE.endPc, cycles: SIEVE.expectedCycles }];
const conformance = process.env.HYPER6502_CONFORMANCE ?? fileURLToPath(new URL('../../shared/conformance', import.meta.url));
const klaus = `${conformance}/klaus/6502_functional_test.bin`;
if (existsSync(klaus)) workloads.push({ name: 'klaus', image: new Uint8Array(readFileSync(klaus)), start: 0x0400, end: 0x3469, cycles: 96_241_367 });
else console.log(`klaus: skipped (no ${klaus})`);

const cores = { interpreter: await CoreMemory.create({ jit: false }), jit: await CoreMemory.create({ jit: true }) };

function runOnce(w: Workload, jit: JitOption) {
  const cpu = (jit ? cores.jit : cores.interpreter).cpu(0, '6502');
  cpu.ram.set(w.image);
  cpu.pc = w.start;
  cpu.stopOnSelfLoop = true;
  const reason = cpu.runFor(200_000_000);
  if (reason !== ExitReason.SelfLoop || cpu.pc !== w.end || cpu.cycles !== w.cycles) {
    throw new Error(`${w.name} (${jit ? 'JIT' : 'interpreter'}): ended by ${ExitReason[reason]} at $${cpu.pc.toString(16)} after ${cpu.cycles} cycles`);
  }
  return cpu;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** Median MHz of the interpreter and of the JIT, their runs alternating. */
function speeds(w: Workload): { interpreter: number; jit: number } {
  for (let i = 0; i < 3; i++) runOnce(w, false), runOnce(w, true); // warm-up: V8's tiers, the JIT's modules
  const times: Record<'interpreter' | 'jit', number[]> = { interpreter: [], jit: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const jit of [false, true]) {
      const t0 = performance.now();
      runOnce(w, jit);
      times[jit ? 'jit' : 'interpreter'].push(performance.now() - t0);
    }
  }
  return { interpreter: w.cycles / median(times.interpreter) / 1000, jit: w.cycles / median(times.jit) / 1000 };
}

for (const w of workloads) {
  const ms0 = jitProcessStats.compileMs;
  const t0 = performance.now();
  const cold = runOnce(w, true);
  const coldMs = performance.now() - t0;
  const m = cold.jitMetrics!;
  const { interpreter, jit } = speeds(w);
  const share = m.compiledCycles / (m.compiledCycles + m.interpretedCycles);
  console.log(
    `${w.name.padEnd(6)} interpreter ${interpreter.toFixed(0).padStart(5)} MHz   JIT ${jit.toFixed(0).padStart(5)} MHz   ratio ${(jit / interpreter).toFixed(2)}x   ` +
      `cold JIT run ${coldMs.toFixed(0)} ms (compiling ${(jitProcessStats.compileMs - ms0).toFixed(0)} ms, ${m.installs} installs, ${m.blocks} blocks, ` +
      `${m.invalidations} invalidations, ${(share * 100).toFixed(1)}% of cycles compiled)`,
  );
}
