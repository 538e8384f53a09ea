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
// that runs the same code again does. benchmark.js times each; the ratio is
// JIT MHz / interpreter MHz.

import Benchmark from 'benchmark';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CoreMemory, ExitReason, type JitOption } from '../src/core/cpu.ts';
import { jitProcessStats } from '../src/jit/engine.ts';
import { SIEVE, flatImage } from './programs/sieve.ts';

const quick = process.argv.includes('--quick');
const timing = quick ? { minSamples: 2, maxTime: 0.5 } : { minSamples: 5, maxTime: 4 };

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

function mhz(w: Workload, jit: boolean): number {
  for (let i = 0; i < 3; i++) runOnce(w, jit); // warm-up: V8's tiers, the JIT's modules
  const b = new Benchmark(`${w.name} ${jit ? 'jit' : 'interpreter'}`, () => runOnce(w, jit), timing);
  b.run();
  return (b.hz * w.cycles) / 1e6;
}

for (const w of workloads) {
  const ms0 = jitProcessStats.compileMs;
  const t0 = performance.now();
  const cold = runOnce(w, true);
  const coldMs = performance.now() - t0;
  const m = cold.jitMetrics!;
  const interpreter = mhz(w, false);
  const jit = mhz(w, true);
  const share = m.compiledCycles / (m.compiledCycles + m.interpretedCycles);
  console.log(
    `${w.name.padEnd(6)} interpreter ${interpreter.toFixed(0).padStart(5)} MHz   JIT ${jit.toFixed(0).padStart(5)} MHz   ratio ${(jit / interpreter).toFixed(2)}x   ` +
      `cold JIT run ${coldMs.toFixed(0)} ms (compiling ${(jitProcessStats.compileMs - ms0).toFixed(0)} ms, ${m.installs} installs, ${m.blocks} blocks, ` +
      `${m.invalidations} invalidations, ${(share * 100).toFixed(1)}% of cycles compiled)`,
  );
}
