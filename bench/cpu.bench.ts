// CPU benchmark: hyper6502's Wasm core against two JavaScript 6502 emulators,
// 6502.ts and jsbeeb (adapters in bench/peers/), on two whole-program workloads.
//
// How to run this:
//   npx asc --config asconfig.json --target release   # once, if build/hyper6502.wasm is missing
//   npm run bench                                      # = npx tsx bench/cpu.bench.ts
//   npx tsx bench/cpu.bench.ts --quick                 # few samples: a smoke run
//   npx tsx bench/cpu.bench.ts --json results.json     # also write the results as JSON
// The "klaus" workload needs Klaus Dormann's 6502_functional_test.bin in
// $HYPER6502_CONFORMANCE/klaus/ (default: ../shared/conformance next to the repo).
//
// Each emulator runs each workload from a fresh load to its `JMP *` end. A run
// counts only if it stops at the expected PC (and, for the sieve, leaves the
// expected prime count); otherwise that emulator gets an error, not a speed.
// Each emulator is warmed up (JITs, V8's Wasm tier-up) before benchmark.js
// times it. Speeds are emulated MHz (6502 cycles per second) and millions of
// instructions per second.

import Benchmark from 'benchmark';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { CoreMemory, EXIT_NAMES, ExitReason } from '../src/core/cpu.ts';
import * as peer6502ts from './peers/6502ts.ts';
import * as peerJsbeeb from './peers/jsbeeb.ts';
import { SIEVE, flatImage } from './programs/sieve.ts';

interface Workload {
  name: string;
  image: Uint8Array; // 64 KiB
  startPc: number;
  endPc: number;
  cycles: number;
  instructions: number;
  /** A 16-bit little-endian result the run must leave in memory. */
  result?: { address: number; expected: number };
}

interface RunResult {
  cycles: number;
  instructions: number;
  pc: number;
  peek(address: number): number;
}

interface Emulator {
  label: string; // short, for the table
  name: string;
  create(w: Workload): () => RunResult;
}

interface Row {
  workload: string;
  emulator: string;
  error?: string;
  note?: string;
  cycles?: number;
  instructions?: number;
  mhz?: number;
  mips?: number;
  rmePercent?: number;
  samples?: number;
  ratio?: number; // hyper6502 MHz / this emulator's MHz
}

const CYCLE_CAP = 200_000_000;

// ---- Options ---------------------------------------------------------------
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const jsonIndex = args.indexOf('--json');
const jsonFile = jsonIndex >= 0 ? args[jsonIndex + 1] : undefined;
if (jsonIndex >= 0 && !jsonFile) throw new Error('--json needs a file name');
const timing = quick
  ? { warmupRuns: 1, warmupSeconds: 0, minSamples: 2, maxTime: 0.5 }
  : { warmupRuns: 3, warmupSeconds: 1.5, minSamples: 5, maxTime: 5 };

// ---- Workloads -------------------------------------------------------------
const conformance =
  process.env.HYPER6502_CONFORMANCE ?? fileURLToPath(new URL('../../shared/conformance', import.meta.url));
const klausPath = `${conformance}/klaus/6502_functional_test.bin`;

const workloads: Workload[] = [];
const skipped: Array<{ workload: string; reason: string }> = [];
if (existsSync(klausPath)) {
  workloads.push({
    name: 'klaus',
    image: new Uint8Array(readFileSync(klausPath)),
    startPc: 0x0400,
    endPc: 0x3469,
    cycles: 96_241_367,
    instructions: 30_646_177,
  });
} else {
  skipped.push({ workload: 'klaus', reason: `${klausPath} not found (set HYPER6502_CONFORMANCE to the conformance directory)` });
}
workloads.push({
  name: SIEVE.name,
  image: flatImage(SIEVE.bytes, SIEVE.loadAddress),
  startPc: SIEVE.startPc,
  endPc: SIEVE.endPc,
  cycles: SIEVE.expectedCycles,
  instructions: SIEVE.expectedInstructions,
  result: { address: SIEVE.resultAddress, expected: SIEVE.expectedResult },
});

// ---- Emulators -------------------------------------------------------------
const core = await CoreMemory.create();
const hyper6502: Emulator = {
  label: 'hyper6502',
  name: 'hyper6502 (Wasm core, build/hyper6502.wasm)',
  create: (w) => () => {
    const cpu = core.cpu(0, '6502'); // fresh: memory zeroed, power-on registers
    cpu.ram.set(w.image);
    cpu.pc = w.startPc;
    cpu.stopOnSelfLoop = true;
    const reason = cpu.runFor(CYCLE_CAP);
    if (reason !== ExitReason.SelfLoop) throw new Error(`stopped by ${EXIT_NAMES[reason]} at $${hex(cpu.pc)}`);
    return { cycles: cpu.cycles, instructions: cpu.instructions, pc: cpu.pc, peek: (a) => cpu.ram[a] };
  },
};
const emulators: Emulator[] = [
  hyper6502,
  { label: '6502.ts', name: peer6502ts.name, create: (w) => peer6502ts.createRun(w.image, w.startPc) },
  { label: 'jsbeeb', name: peerJsbeeb.name, create: (w) => peerJsbeeb.createRun(w.image, w.startPc) },
  {
    label: 'jsbeeb-fast',
    name: 'jsbeeb without the debug hook (its fast path; stops at a 100,000-cycle slice end)',
    create: (w) => peerJsbeeb.createKlausRunUnhooked(w.image, 100_000, w.startPc),
  },
];

// ---- Checking and timing -----------------------------------------------------
/** Why a run is wrong, or null. */
function checkRun(w: Workload, r: RunResult): string | null {
  if (r.pc !== w.endPc) return `ended at $${hex(r.pc)}, expected $${hex(w.endPc)}`;
  if (w.result) {
    const got = r.peek(w.result.address) | (r.peek(w.result.address + 1) << 8);
    if (got !== w.result.expected) return `result ${got} at $${hex(w.result.address)}, expected ${w.result.expected}`;
  }
  return null;
}

/** Differences from the reference counts that do not make the run wrong. */
function countNote(w: Workload, r: RunResult): string | undefined {
  const notes = [];
  if (r.cycles !== w.cycles) notes.push(`${fmtInt(r.cycles)} cycles (reference ${fmtInt(w.cycles)})`);
  if (!Number.isNaN(r.instructions) && r.instructions !== w.instructions) {
    notes.push(`${fmtInt(r.instructions)} instructions (reference ${fmtInt(w.instructions)})`);
  }
  return notes.length ? notes.join(', ') : undefined;
}

async function measure(w: Workload, emu: Emulator): Promise<Row> {
  const row: Row = { workload: w.name, emulator: emu.label };
  let run: () => RunResult;
  let last: RunResult;
  try {
    run = emu.create(w);
    // Warm-up, checking every run.
    const t0 = performance.now();
    let n = 0;
    do {
      last = run();
      const bad = checkRun(w, last);
      if (bad) throw new Error(bad);
      n++;
    } while (n < timing.warmupRuns || performance.now() - t0 < timing.warmupSeconds * 1000);
  } catch (e) {
    return { ...row, error: (e as Error).message };
  }

  let failure: string | null = null;
  const bench = new Benchmark(`${w.name} ${emu.label}`, {
    defer: true, // no extra untimed "pretest" call per sample
    minSamples: timing.minSamples,
    maxTime: timing.maxTime,
    fn(deferred: Benchmark.Deferred) {
      try {
        failure ??= checkRun(w, run());
      } catch (e) {
        failure ??= (e as Error).message;
      }
      deferred.resolve();
    },
  });
  await new Promise((resolve) => bench.on('complete', resolve).run({ async: true }));
  if (failure) return { ...row, error: failure };
  if (bench.error) return { ...row, error: String(bench.error) };

  const seconds = bench.stats.mean;
  return {
    ...row,
    note: countNote(w, last),
    cycles: last.cycles,
    instructions: Number.isNaN(last.instructions) ? undefined : last.instructions,
    mhz: last.cycles / seconds / 1e6,
    mips: Number.isNaN(last.instructions) ? undefined : last.instructions / seconds / 1e6,
    rmePercent: bench.stats.rme,
    samples: bench.stats.sample.length,
  };
}

// ---- Output ------------------------------------------------------------------
function hex(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}
function fmtInt(n: number): string {
  return n.toLocaleString('en-US');
}
const fmt = (n: number | undefined, digits = 1) => (n === undefined ? '-' : n.toFixed(digits));

const cpus = os.cpus();
const machine = { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, node: process.version, platform: `${os.platform()} ${os.arch()}` };
console.log(`hyper6502 CPU benchmark${quick ? ' (--quick: few samples, rough figures)' : ''}`);
console.log(`machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.platform}`);
for (const e of emulators) console.log(`  ${e.label.padEnd(11)} ${e.name}`);
for (const s of skipped) console.log(`\nSKIPPED workload "${s.workload}": ${s.reason}`);

const rows: Row[] = [];
for (const w of workloads) {
  console.log(`\n${w.name}: ${fmtInt(w.cycles)} cycles, ${fmtInt(w.instructions)} instructions per run`);
  const wRows: Row[] = [];
  for (const emu of emulators) {
    const row = await measure(w, emu);
    wRows.push(row);
    if (row.error) console.log(`  ${emu.label.padEnd(11)} ERROR: ${row.error}`);
    else {
      console.log(
        `  ${emu.label.padEnd(11)} ${fmt(row.mhz)} MHz, ${fmt(row.mips)} MIPS (±${fmt(row.rmePercent)}%, ${row.samples} runs)` +
          (row.note ? ` [${row.note}]` : ''),
      );
    }
  }
  const hyperMhz = wRows[0].mhz;
  for (const row of wRows.slice(1)) if (hyperMhz && row.mhz) row.ratio = hyperMhz / row.mhz;
  rows.push(...wRows);
}

console.log('\nSummary (ratio = hyper6502 MHz / emulator MHz)');
const table = rows.map((r) => [
  r.workload,
  r.emulator,
  r.error ? 'ERROR' : fmt(r.mhz),
  r.error ? '' : fmt(r.mips),
  r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}x`,
]);
const header = ['workload', 'emulator', 'MHz', 'MIPS', 'ratio'];
const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
const line = (cells: string[]) =>
  cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
console.log(line(header));
for (const t of table) console.log(line(t));

if (jsonFile) {
  writeFileSync(jsonFile, JSON.stringify({ date: new Date().toISOString(), machine, quick, timing, skipped, results: rows }, null, 2) + '\n');
  console.log(`\nwrote ${jsonFile}`);
}
if (rows.some((r) => r.error)) process.exitCode = 1;
