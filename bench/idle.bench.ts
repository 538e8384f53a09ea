// Idle guests: what a BASIC waiting at its prompt costs the host.
//
// How to run this: `npm run bench:idle` (= npx tsx bench/idle.bench.ts),
// after `npm install`. Options: --quick (fewer VMs, shorter windows),
// --vms N (default 1000), --workers W (default 1: idle VMs need no more).
//
// Figures, with the targets they are held against:
//   one BASIC VM at its prompt, `hyper6502 run` process      < 1% of a core
//   1,000 BASIC VMs at their prompts, one Hypervisor          < 5% of a core, < 200 MiB
//   (and, for scale, the same guest's prompt loop spinning:   the share of a core it takes)
// The guest is EhBASIC's py65mon build from ../shared/guests (or
// HYPER6502_GUESTS) when it is there; else the project's own poll loop.
// CPU is measured as process CPU time (all threads) over a window of wall
// time, after the guests have reached their prompts.

import { cpus } from 'node:os';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { Hypervisor, type Vm } from '../src/hypervisor/hypervisor.ts';
import { Machine } from '../src/machine/machine.ts';
import type { VmSpec } from '../src/machine/description.ts';

const quick = process.argv.includes('--quick');
const vmsArg = process.argv.indexOf('--vms');
const VMS = vmsArg > 0 ? Number(process.argv[vmsArg + 1]) : quick ? 200 : 1000;
const WINDOW_MS = quick ? 2000 : 5000;
const workersArg = process.argv.indexOf('--workers');
const WORKERS = workersArg > 0 ? Number(process.argv[workersArg + 1]) : 1;
const root = resolve(fileURLToPath(import.meta.url), '../..');
const guests = resolve(process.env.HYPER6502_GUESTS ?? join(root, '..', 'shared', 'guests'));
const ehbasicPath = join(guests, 'ehbasic/ehbasic.bin');
const haveBasic = existsSync(ehbasicPath);

// The project's own stand-in: waits for a key at $F004 (JSR getc; BEQ), as EhBASIC's prompt does.
const POLL = Uint8Array.from([0x20, 0x08, 0x02, 0xf0, 0xfb, 0x4c, 0x00, 0x02, 0xad, 0x04, 0xf0, 0x60]);
const spec: VmSpec = haveBasic ? { machine: 'py65', program: new Uint8Array(readFileSync(ehbasicPath)), load: 0xc000 } : { machine: 'py65', program: POLL, load: 0x0200, start: 0x0200 };
/** What boots the guest to its prompt: EhBASIC asks cold or warm start, then the memory size. */
const BOOT = haveBasic ? ['C', '\r'] : [];

console.log('hyper6502 idle benchmark');
console.log(`machine: ${cpus()[0].model.trim()}, ${cpus().length} cores, Node ${process.version}`);
console.log(`guest: ${haveBasic ? `EhBASIC 2.22p5 (py65mon build) from ${guests}` : `the project's poll loop (EhBASIC not found at ${ehbasicPath})`}\n`);

const share = (cpuMicros: number, wallMs: number) => (cpuMicros / 1000 / wallMs) * 100;
const verdict = (ok: boolean) => (ok ? 'meets the target' : 'MISSES the target');

// ---- 1. The prompt loop spinning, for scale -----------------------------------------------
{
  const m = await Machine.create(spec);
  for (const key of BOOT) {
    m.run(20_000_000, { idle: 'off' });
    m.console.input(key);
  }
  m.run(20_000_000, { idle: 'off' });
  const t0 = performance.now();
  let cycles = 0;
  while (performance.now() - t0 < 1000) {
    const before = m.cpu.cycles;
    m.run(1_000_000, { idle: 'off' });
    cycles += m.cpu.cycles - before;
  }
  const ms = performance.now() - t0;
  console.log(`the prompt loop, spinning as it is: ${(cycles / ms / 1000).toFixed(0)} emulated MHz, 100% of a core (what every waiting VM would cost without idle detection)`);
}

// ---- 2. One VM at its prompt in a `hyper6502 run` process ------------------------------------
{
  const bin = join(root, 'dist/cli/main.js');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build`);
  const args = haveBasic ? ['run', '--machine', 'py65', '--load', '0xC000', ehbasicPath] : ['run', '--machine', 'raw'];
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stdin.write(BOOT.join(''));
  const ready = haveBasic ? /Ready\r\n$/ : /$/;
  const t0 = performance.now();
  while (!ready.test(out) && performance.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 500));
  const ticks = () => {
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(stat[11]) + Number(stat[12]); // utime + stime, in clock ticks (1/100 s)
  };
  const a = ticks();
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  const b = ticks();
  const wall = performance.now() - w0;
  const pct = share((b - a) * 10_000, wall);
  child.stdin.end();
  await new Promise((r) => child.on('exit', r));
  console.log(`one BASIC VM at its prompt (hyper6502 run, ${(wall / 1000).toFixed(1)} s): ${pct.toFixed(2)}% of a core (target < 1%: ${verdict(pct < 1)})`);
}

// ---- 3. Many VMs at their prompts in one Hypervisor ---------------------------------------------
{
  const hv = await Hypervisor.create({ workers: WORKERS });
  const rss0 = process.memoryUsage().rss;
  const vms: Vm[] = [];
  const t0 = performance.now();
  for (let i = 0; i < VMS; i++) vms.push(await hv.createVm(spec));
  await Promise.all(vms.map((vm) => vm.start()));
  for (const key of BOOT) {
    await Promise.all(vms.map((vm) => vm.whenWaiting()));
    await Promise.all(vms.map((vm) => vm.input(key)));
  }
  await Promise.all(vms.map((vm) => vm.whenWaiting()));
  const bootMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 500));
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  const c1 = process.cpuUsage(c0);
  const wall = performance.now() - w0;
  const pct = share(c1.user + c1.system, wall);
  const rss = process.memoryUsage().rss;
  const metrics = await hv.metrics();
  const waiting = (await Promise.all(vms.map((vm) => vm.metrics()))).filter((m) => m.waiting).length;
  const mib = (rss - rss0) / 2 ** 20;
  console.log(`${VMS} BASIC VMs booted to their prompts on ${WORKERS} worker${WORKERS === 1 ? '' : 's'} in ${(bootMs / 1000).toFixed(1)} s; ${waiting} waiting for input`);
  console.log(`  at their prompts, ${(wall / 1000).toFixed(1)} s: ${pct.toFixed(2)}% of a core (target < 5%: ${verdict(pct < 5)}), process CPU time over wall time, all threads`);
  console.log(`  memory: ${mib.toFixed(0)} MiB more resident than the started hypervisor (target < 200 MiB: ${verdict(mib < 200)}), the core's compilation in each worker included; ${(metrics.cycles / 1e6).toFixed(0)} M cycles run in all`);
  await hv.close();
}
