// Host benchmark: what a VM exit costs, and a cc65 program under hyper6502
// next to cc65's own sim65.
//
// How to run this: `npm run bench:host` (= npx tsx bench/host.bench.ts), after
// `npm install` has built the core and dist/. Options: --quick (fewer runs).
//
// 1. Exit round trips: a guest loop of `LDA $D000` on a device page (every
//    read leaves the core, the host answers, the core re-executes it), and a
//    loop of hypercalls (JSR to a trap). Reported as exits per second.
// 2. test/programs/sieve.prg (cc65 C, 635 M cycles) run to its end: inside
//    one process with benchmark.js, then as whole processes: `hyper6502 run`
//    and `sim65` (when installed), each the median of several runs.

import Benchmark from 'benchmark';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Machine } from '../src/machine/machine.ts';
import { runSim65 } from '../src/node/run.ts';
import type { Device } from '../src/devices/device.ts';

const quick = process.argv.includes('--quick');
const root = fileURLToPath(new URL('..', import.meta.url));
const sieve = new Uint8Array(readFileSync(`${root}test/programs/sieve.prg`));
const SIEVE_CYCLES = JSON.parse(readFileSync(`${root}test/programs/expected.json`, 'utf8')).programs.sieve.cycles;

console.log('hyper6502 host benchmark');
console.log(`machine: ${cpus()[0].model.trim()}, ${cpus().length} cores, Node ${process.version}\n`);

function measure(name: string, fn: () => void): number {
  const bench = new Benchmark(name, fn, { minSamples: quick ? 5 : 20, maxTime: quick ? 1 : 3 });
  bench.run();
  if (bench.error) throw bench.error;
  return bench.hz;
}

// ---- 1. Exit round trips -------------------------------------------------------
const counter: Device = { name: 'counter', read: () => 0x42 };
const program = (code: number[]) => Uint8Array.from({ length: 0x200 + code.length }, (_, i) => (i < 0x200 ? 0 : code[i - 0x200]));
const deviceLoop = await Machine.fromParts({
  // loop: LDA $D000; JMP loop   (7 cycles, one device read exit per pass)
  image: program([0xad, 0x00, 0xd0, 0x4c, 0x00, 0x02]),
  startAt: 0x0200,
  devices: [{ address: 0xd000, size: 1, device: counter }],
});
const PASSES = 10_000;
const deviceHz = measure('device read exits', () => deviceLoop.run(PASSES * 7));
const deviceExits = deviceHz * PASSES;

const trapLoop = await Machine.fromParts({
  // loop: JSR $0300; JMP loop   $0300: the trap opcode (the handler returns like RTS)
  image: program([0x20, 0x00, 0x03, 0x4c, 0x00, 0x02]),
  startAt: 0x0200,
  trap: {
    opcode: 0x02,
    handler: (m: Machine) => {
      const cpu = m.cpu;
      cpu.s = (cpu.s + 2) & 0xff;
      cpu.pc = ((cpu.ram[0x100 + cpu.s] << 8) | cpu.ram[0x100 + ((cpu.s - 1) & 0xff)]) + 1;
      return 'handled';
    },
  },
});
trapLoop.cpu.ram[0x0300] = 0x02;
const trapHz = measure('hypercall exits', () => trapLoop.run(PASSES * 9));
const trapExits = trapHz * PASSES;
console.log(`device read exit round trip: ${(deviceExits / 1e6).toFixed(2)} M exits/s (${(1e9 / deviceExits).toFixed(0)} ns each, guest code included)`);
console.log(`hypercall round trip:        ${(trapExits / 1e6).toFixed(2)} M exits/s (${(1e9 / trapExits).toFixed(0)} ns each, guest code included)\n`);

// ---- 2. A cc65 program ------------------------------------------------------------
for (let i = 0; i < 2; i++) await runSim65(sieve); // warm up
const inProcess: number[] = [];
for (let i = 0; i < (quick ? 3 : 7); i++) {
  const t0 = performance.now();
  const r = await runSim65(sieve, { stdout: () => {} });
  const s = (performance.now() - t0) / 1000;
  if (r.exitCode !== 0) throw new Error(`sieve exited with ${r.exitCode}`);
  inProcess.push(r.cycles / s / 1e6);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function processMhz(command: string, args: string[]): number | null {
  const times: number[] = [];
  for (let i = 0; i < (quick ? 3 : 5); i++) {
    const t0 = performance.now();
    const r = spawnSync(command, args, { encoding: 'utf8' });
    const s = (performance.now() - t0) / 1000;
    if (r.error || r.status !== 0 || !r.stdout.includes('1899 primes')) return null;
    times.push(s);
  }
  return SIEVE_CYCLES / median(times) / 1e6;
}

const ours = processMhz(process.execPath, [`${root}dist/cli/main.js`, 'run', `${root}test/programs/sieve.prg`]);
const sim65 = processMhz('sim65', [`${root}test/programs/sieve.prg`]);
console.log(`cc65 sieve, ${SIEVE_CYCLES.toLocaleString('en')} cycles:`);
console.log(`  hyper6502, in one process (warm):   ${median(inProcess).toFixed(0)} MHz`);
console.log(`  hyper6502 run, whole process:       ${ours ? ours.toFixed(0) + ' MHz' : 'not measured (build dist/ first: npm run build)'}`);
console.log(`  sim65, whole process:               ${sim65 ? sim65.toFixed(0) + ' MHz' : 'not measured (sim65 is not installed: apt-get install cc65)'}`);
if (ours && sim65) console.log(`  ratio hyper6502 run / sim65:        ${(ours / sim65).toFixed(2)}x (whole processes)`);
