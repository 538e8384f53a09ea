// Start-up benchmark: how long a `hyper6502 run` process takes before the
// guest's first instruction, and many short cc65 programs run one process
// each (as a test suite in CI runs them) under hyper6502 and under sim65.
//
// How to run this: `npm run bench:startup` (= npx tsx bench/startup.bench.ts),
// after `npm run build` (it times the built command, dist/cli/hyper6502.cjs,
// the package's bin); --quick for fewer runs; --json FILE to keep the figures.
//
// 1. Start-up, the median of several processes: Node alone (an empty script:
//    the floor no Node program starts under), `hyper6502 run hello.prg` by the
//    package's bin and by the unbundled ES modules (dist/cli/main.js), and
//    sim65. "First run" is when the process first ran guest code, read from
//    the mark src/core/cpu.ts sets (bench/startup-probe.cjs prints it).
// 2. Many short runs: the short programs of test/programs (all but the
//    sieve and those that need files), each in its own process, round after
//    round; every run's output and exit status are checked against sim65's
//    (test/programs/expected.json). Total wall time, hyper6502 against sim65.
//
// NODE_EXTRA_CA_CERTS, when set, makes every Node process read and parse a
// certificate bundle before it runs a line of JavaScript (tens of ms); the
// timed processes run without it, and the floor is shown both ways.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { PROGRAMS } from '../test/programs/programs.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const jsonIndex = args.indexOf('--json');
const jsonFile = jsonIndex >= 0 ? args[jsonIndex + 1] : undefined;
const root = fileURLToPath(new URL('..', import.meta.url));
const probe = `${root}bench/startup-probe.cjs`;
const bin = `${root}dist/cli/hyper6502.cjs`;
const esm = `${root}dist/cli/main.js`;
const expected = JSON.parse(readFileSync(`${root}test/programs/expected.json`, 'utf8')).programs as Record<string, { stdout: string; exitCode: number }>;
for (const f of [bin, esm]) if (!existsSync(f)) throw new Error(`${f} is missing: run \`npm run build\` first`);

const cleanEnv = { ...process.env };
delete cleanEnv.NODE_EXTRA_CA_CERTS;

interface Timed {
  ms: number;
  status: number | null;
  stdout: string;
  firstRunMs: number | null;
}

function time(command: string, argv: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Timed {
  const t0 = performance.now();
  const r = spawnSync(command, argv, { input: options.input ?? '', encoding: 'utf8', env: options.env ?? cleanEnv });
  const ms = performance.now() - t0;
  if (r.error) throw r.error;
  const line = /hyper6502-startup (\{.*\})/.exec(r.stderr);
  return { ms, status: r.status, stdout: r.stdout, firstRunMs: line ? JSON.parse(line[1]).firstRunMs : null };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const hasSim65 = spawnSync('sim65', ['--version']).error === undefined;
const hello = `${root}test/programs/hello.prg`;
const rounds = quick ? 5 : 15;

console.log('hyper6502 start-up benchmark' + (quick ? ' (--quick: few runs, rough figures)' : ''));
console.log(`machine: ${cpus()[0]?.model.trim()}, ${cpus().length} cores, Node ${process.version}\n`);

// ---- 1. Start-up -----------------------------------------------------------------
type Case = { name: string; run: () => Timed };
const cases: Case[] = [
  { name: 'node, an empty script', run: () => time(process.execPath, ['-e', '0']) },
  ...(process.env.NODE_EXTRA_CA_CERTS ? [{ name: 'node, an empty script, NODE_EXTRA_CA_CERTS as set', run: () => time(process.execPath, ['-e', '0'], { env: process.env }) }] : []),
  { name: 'hyper6502 run hello.prg (bin: dist/cli/hyper6502.cjs)', run: () => time(process.execPath, ['--require', probe, bin, 'run', hello]) },
  { name: 'hyper6502 run hello.prg (ES modules: dist/cli/main.js)', run: () => time(process.execPath, ['--require', probe, esm, 'run', hello]) },
  ...(hasSim65 ? [{ name: 'sim65 hello.prg', run: () => time('sim65', [hello]) }] : []),
];
const startup: Array<{ name: string; processMs: number; firstRunMs: number | null }> = [];
const samples = new Map<string, Timed[]>(cases.map((c) => [c.name, []]));
for (let i = 0; i < rounds; i++) for (const c of cases) samples.get(c.name)!.push(c.run()); // interleaved: load changes hit all alike
console.log(`Start-up (median of ${rounds} processes each):`);
for (const c of cases) {
  const runs = samples.get(c.name)!;
  const firsts = runs.map((r) => r.firstRunMs).filter((x): x is number => x !== null);
  const row = { name: c.name, processMs: median(runs.map((r) => r.ms)), firstRunMs: firsts.length ? median(firsts) : null };
  startup.push(row);
  console.log(`  ${c.name.padEnd(58)} ${row.firstRunMs === null ? '' : `first guest instruction at ${row.firstRunMs.toFixed(1)} ms, `}whole process ${row.processMs.toFixed(1)} ms`);
}

// ---- 2. Many short runs -------------------------------------------------------------
const short = PROGRAMS.filter((p) => !p.files && p.sim65 !== false && p.name !== 'sieve');
const shortRounds = quick ? 3 : 10;
function suite(run: (p: (typeof short)[number], file: string) => Timed): { totalMs: number; runs: number; error?: string } {
  let totalMs = 0;
  let runs = 0;
  for (let round = 0; round < shortRounds; round++) {
    for (const p of short) {
      const r = run(p, `${root}test/programs/${p.name}.prg`);
      const want = expected[p.name];
      if (r.status !== want.exitCode || r.stdout !== want.stdout) return { totalMs, runs, error: `${p.name}: exit ${r.status}, output ${JSON.stringify(r.stdout.slice(0, 80))}` };
      totalMs += r.ms;
      runs++;
    }
  }
  return { totalMs, runs };
}
console.log(`\nMany short runs: ${short.length} cc65 programs (${short.map((p) => p.name).join(', ')}) x ${shortRounds} rounds, one process each:`);
const ours = suite((p, file) => time(process.execPath, [bin, 'run', file, ...(p.args ?? [])], { input: p.stdin }));
const theirs = hasSim65 ? suite((p, file) => time('sim65', [file, ...(p.args ?? [])], { input: p.stdin })) : null;
const line = (name: string, s: { totalMs: number; runs: number; error?: string }) =>
  console.log(`  ${name.padEnd(16)} ${s.error ? `ERROR: ${s.error}` : `${(s.totalMs / 1000).toFixed(2)} s in all, ${(s.totalMs / s.runs).toFixed(1)} ms a run`}`);
line('hyper6502 run', ours);
if (theirs) line('sim65', theirs);
else console.log('  sim65            not measured (sim65 is not installed: apt-get install cc65)');
if (theirs && !ours.error && !theirs.error) console.log(`  ratio hyper6502 / sim65: ${(ours.totalMs / theirs.totalMs).toFixed(2)}x the time`);

if (jsonFile) {
  writeFileSync(jsonFile, JSON.stringify({ date: new Date().toISOString(), node: process.version, quick, startup, shortRuns: { programs: short.map((p) => p.name), rounds: shortRounds, hyper6502: ours, sim65: theirs } }, null, 2) + '\n');
  console.log(`\nwrote ${jsonFile}`);
}
if (ours.error || theirs?.error) process.exitCode = 1;
