// Many VMs from the command line: `hyper6502 run --vms N --workers W FILE`
// runs N copies of a program side by side on the hypervisor, and
// `hyper6502 bench --vms N --workers W` measures a pool of busy VMs.
//
// How to drive this: `runVmsCommand(spec, options, io)` and
// `benchCommand(argv, io)`; both return the exit code.

import { totalmem } from 'node:os';
import { Hypervisor, type Vm } from '../hypervisor/hypervisor.js';
import type { VmSpec } from '../hypervisor/spec.js';
import { UsageError, parseNumber, parseOptions } from './args.js';
import type { CliIo } from './run.js';

export interface VmsOptions {
  vms: number;
  workers?: number;
  maxCycles?: number;
  /** The guests get no input (their stdin is at its end at once). */
  closeInput?: boolean;
}

/** What a VM takes, about (its 64 KiB of guest memory, its slot, its objects: 110-130 KiB measured), and a worker thread (a V8 isolate with the core compiled and optimized: about 90 MiB). */
const VM_BYTES = 160 * 1024;
const WORKER_BYTES = 96 * 1024 * 1024;

/** Memory the process may use: the machine's, or its cgroup's limit where that is lower. */
function usableMemory(): number {
  const limit = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  return Math.min(totalmem(), limit && limit > 0 ? limit : Infinity);
}

/** The most VMs one command starts: as many as half the usable memory holds. */
export function vmLimit(): number {
  return Math.max(1, Math.floor(usableMemory() / 2 / VM_BYTES));
}

/** The most worker threads one command starts: as many as half the usable memory holds, and no more than 256. */
export function workerLimit(): number {
  return Math.max(1, Math.min(256, Math.floor(usableMemory() / 2 / WORKER_BYTES)));
}

/** n, refused when it is more than `limit` (what this machine can start). */
export function atMost<N extends number | undefined>(n: N, limit: number, option: string, what: string): N {
  if (n !== undefined && n > limit) throw new UsageError(`${option}: ${n} is more ${what} than this machine can start (at most ${limit}, as many as half its memory holds)`);
  return n;
}

/** Runs `vms` copies of `spec` until every one has ended; each output line is prefixed "[vmN] ". */
export async function runVmsCommand(spec: VmSpec, options: VmsOptions, io: CliIo): Promise<number> {
  const hv = await Hypervisor.create({ workers: options.workers });
  try {
    const vms: Vm[] = [];
    for (let i = 0; i < options.vms; i++) {
      vms.push(await hv.createVm(spec, { schedule: options.maxCycles === undefined ? {} : { stopAt: options.maxCycles } }));
    }
    const ended = vms.map((vm) => {
      const partial = { text: '' };
      vm.onOutput((bytes) => {
        partial.text += new TextDecoder().decode(bytes);
        const lines = partial.text.split('\n');
        partial.text = lines.pop()!;
        for (const line of lines) io.stdout(`[${vm.id}] ${line}\n`);
      });
      return new Promise<void>((resolve) => {
        vm.onState((state) => {
          if (state === 'running') return;
          if (partial.text) io.stdout(`[${vm.id}] ${partial.text}\n`);
          partial.text = '';
          resolve();
        });
      });
    });
    for (const vm of vms) {
      if (options.closeInput) await vm.closeInput();
      await vm.start();
    }
    await Promise.all(ended);
    let status = 0;
    for (const vm of vms) {
      if (vm.state === 'faulted') io.stderr(`hyper6502: ${vm.id}: ${vm.error}\n`);
      else if (vm.reason && vm.reason !== 'exit' && vm.reason !== 'self-loop') io.stderr(`hyper6502: ${vm.id}: stopped (${vm.reason})\n`);
      status = Math.max(status, vm.state === 'faulted' ? 127 : vm.reason === 'max-cycles' ? 126 : (vm.exitCode ?? 0));
    }
    return status;
  } finally {
    await hv.close();
  }
}

export const BENCH_USAGE = `Usage: hyper6502 bench [--vms N] [--workers W] [--seconds S]

Runs N busy VMs (default 8) on W worker threads (default: one per core; 0:
this thread) for S seconds (default 3) and prints the emulated MHz of the
pool, per worker and per VM. The guest changes a byte in every page of its
memory, endlessly. N is at most what half this machine's memory holds.

Options:
  --vms N       busy VMs (default 8)
  --workers W   worker threads (default: one per core)
  --seconds S   how long to measure (default 3)
  -h, --help    this text`;

// A guest that changes a byte in every page from $03 to $FF, endlessly (code in page 2).
export const BUSY_GUEST = Uint8Array.from([
  0xa0, 0x00, 0xa9, 0x00, 0x85, 0x00, 0xa2, 0x03, 0x86, 0x01, 0xb1, 0x00, 0x18, 0x69, 0x01, 0x91, 0x00, 0xe8, 0xd0, 0xf4, 0xc8, 0x4c, 0x02, 0x02,
]);

export async function benchCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions('bench', argv, { vms: { type: 'string' }, workers: { type: 'string' }, seconds: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    io.stdout(BENCH_USAGE + '\n');
    return 0;
  }
  if (positionals.length) throw new UsageError(`bench takes no FILE (got ${positionals[0]})`);
  const vms = atMost(values.vms === undefined ? 8 : parseNumber(values.vms, '--vms', undefined, 1), vmLimit(), '--vms', 'VMs');
  const workers = atMost(values.workers === undefined ? undefined : parseNumber(values.workers, '--workers'), workerLimit(), '--workers', 'worker threads');
  const seconds = values.seconds === undefined ? 3 : parseNumber(values.seconds, '--seconds', 3600);
  const hv = await Hypervisor.create({ workers });
  try {
    const list: Vm[] = [];
    for (let i = 0; i < vms; i++) list.push(await hv.createVm({ profile: 'raw', image: BUSY_GUEST, load: 0x0200, start: 0x0200 }));
    await Promise.all(list.map((vm) => vm.start()));
    const t0 = performance.now();
    const start = await hv.metrics();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const end = await hv.metrics();
    const elapsed = (performance.now() - t0) / 1000;
    await Promise.all(list.map((vm) => vm.pause()));
    const mhz = (end.cycles - start.cycles) / elapsed / 1e6;
    io.stdout(`${vms} VMs on ${hv.workerCount} worker${hv.workerCount === 1 ? '' : 's'} for ${elapsed.toFixed(1)} s: ${mhz.toFixed(0)} emulated MHz in all, ${(mhz / vms).toFixed(1)} MHz per VM\n`);
    end.perWorker.forEach((w, i) => {
      const before = start.perWorker[i]?.cycles ?? 0;
      io.stdout(`  worker ${i}: ${w.vms} VMs, ${((w.cycles - before) / elapsed / 1e6).toFixed(0)} MHz\n`);
    });
    return 0;
  } finally {
    await hv.close();
  }
}
