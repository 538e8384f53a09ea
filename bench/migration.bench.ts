// Live migration between two host processes on loopback: downtime (the
// VM's pause, from its stop on the source to the target's word that it runs
// there) and total time, with the pre-copy rounds and the bytes sent; and
// the API's request latency (a request's round trip as a client sees it).
//
// How to run this: `npm run bench:migration` (= npx tsx bench/migration.bench.ts),
// after `npm run build` (it runs dist/cli/main.js host). Options: --quick.
//
// Figures, with the targets they are held against:
//   downtime, a 64 KiB guest dirtying every page       < 1 ms
//     (with its parts: the source's stop-and-copy, the target's load of the
//     last diff and resume, and the network there and back)
//   total, the same                                    < 20 ms
//   (and both for an idle guest, parked at its prompt)
// Each VM is migrated back and forth between the two hosts; the first
// migrations warm the hosts up and are not counted.

import { cpus, loadavg } from 'node:os';
import { specToJson } from '../src/machine/description.ts';
import { staleOutputs } from '../scripts/build.ts';
import { startHostProcess, stopHosts, type HostProcess } from '../test/helpers/hosts.ts';
import { GUESTS } from '../test/helpers/host-guests.ts';
import type { MigrationResult } from '../src/host/migration.ts';

const quick = process.argv.includes('--quick');
const WARM = quick ? 10 : 20;
const COUNT = quick ? 20 : 60;
const stale = staleOutputs();
if (stale.length) throw new Error(`stale build outputs (${stale.join('; ')}): run npm run build first`);

console.log('hyper6502 live migration benchmark');
console.log(`machine: ${cpus()[0].model.trim()}, ${cpus().length} cores, Node ${process.version}, load average ${loadavg()[0].toFixed(1)}; two host processes, one worker each\n`);

const hosts = [await startHostProcess(), await startHostProcess()];
const verdict = (ok: boolean) => (ok ? 'meets the target' : 'MISSES the target');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

async function migrations(name: string, spec: object, goals?: { downtimeMs: number; totalMs: number }) {
  let at = 0;
  let { id } = await hosts[0].client.json<{ id: string }>('POST', '/vms', specToJson(spec));
  await hosts[0].client.json('POST', `/vms/${id}/start`);
  await new Promise((r) => setTimeout(r, 200));
  const results: MigrationResult[] = [];
  for (let i = 0; i < WARM + COUNT; i++) {
    const from: HostProcess = hosts[at];
    const to: HostProcess = hosts[1 - at];
    const r = await from.client.json<MigrationResult>('POST', `/vms/${id}/migrate`, { to: to.url, token: to.token });
    if (i >= WARM) results.push(r);
    id = r.id;
    at = 1 - at;
    await new Promise((r) => setTimeout(r, 20)); // the guest runs a while on its new host
  }
  const state = await hosts[at].client.json<{ state: string; waiting: boolean }>('GET', `/vms/${id}`);
  await hosts[at].client.json('DELETE', `/vms/${id}`);
  const down = results.map((r) => r.downtimeMs);
  const total = results.map((r) => r.totalMs);
  const rounds = results.map((r) => r.rounds);
  const bytes = results.map((r) => r.bytes);
  console.log(`${name} (${COUNT} migrations, ${state.state}${state.waiting ? ', waiting for input' : ''} at the end):`);
  console.log(`  downtime: median ${median(down).toFixed(2)} ms, best ${Math.min(...down).toFixed(2)} ms, 90% under ${pct(down, 0.9).toFixed(2)} ms${goals ? ` (target < ${goals.downtimeMs} ms: ${verdict(median(down) < goals.downtimeMs)})` : ''}`);
  const stopCopy = median(results.map((r) => r.stopCopyMs));
  const targetPart = median(results.map((r) => r.targetMs));
  const network = median(results.map((r) => r.downtimeMs - r.stopCopyMs - r.targetMs));
  console.log(`    of which (medians): the source's stop-and-copy ${stopCopy.toFixed(2)} ms, the target's load and resume ${targetPart.toFixed(2)} ms (a round trip to its worker), the network both ways ${network.toFixed(2)} ms`);
  console.log(`  total:    median ${median(total).toFixed(2)} ms, best ${Math.min(...total).toFixed(2)} ms, 90% under ${pct(total, 0.9).toFixed(2)} ms${goals ? ` (target < ${goals.totalMs} ms: ${verdict(median(total) < goals.totalMs)})` : ''}`);
  console.log(`  pre-copy rounds: ${Math.min(...rounds)}-${Math.max(...rounds)} (median ${median(rounds)}); bytes sent: median ${median(bytes).toLocaleString('en')} (${Math.min(...bytes).toLocaleString('en')}-${Math.max(...bytes).toLocaleString('en')})\n`);
}

/** Each request's round trip, from the client's call to its parsed reply, on a host that runs a busy VM. */
async function latencies() {
  const h = hosts[0];
  const { id: busy } = await h.client.json<{ id: string }>('POST', '/vms', specToJson(GUESTS.busy));
  await h.client.json('POST', `/vms/${busy}/start`);
  const { id } = await h.client.json<{ id: string }>('POST', '/vms', specToJson(GUESTS.echo));
  await h.client.json('POST', `/vms/${id}/start`);
  const spec = specToJson(GUESTS.echo);
  const requests: Array<[string, () => Promise<unknown>, (() => Promise<unknown>)?]> = [
    ['GET /vms/{id}', () => h.client.json('GET', `/vms/${id}`)],
    ['GET /vms (2 VMs)', () => h.client.json('GET', '/vms')],
    ['POST /vms/{id}/pause, then resume', async () => (await h.client.json('POST', `/vms/${id}/pause`), h.client.json('POST', `/vms/${id}/resume`))],
    ['POST /vms, then DELETE it', async () => h.client.json('DELETE', `/vms/${(await h.client.json<{ id: string }>('POST', '/vms', spec)).id}`)],
    ['GET /metrics', () => h.client.json('GET', '/metrics')],
    ['GET /vms/{id}/snapshot (paused)', () => h.client.bytes('GET', `/vms/${id}/snapshot`), () => h.client.json('POST', `/vms/${id}/pause`)],
  ];
  console.log(`API request latency (${COUNT * 5} of each after ${WARM} to warm up; a busy VM on the host):`);
  for (const [name, call, before] of requests) {
    await before?.();
    const times: number[] = [];
    for (let i = 0; i < WARM + COUNT * 5; i++) {
      const t0 = performance.now();
      await call();
      if (i >= WARM) times.push(performance.now() - t0);
    }
    console.log(`  ${name.padEnd(34)} median ${median(times).toFixed(2)} ms, 90% under ${pct(times, 0.9).toFixed(2)} ms`);
  }
  for (const vm of [busy, id]) await h.client.json('DELETE', `/vms/${vm}`);
}

try {
  await migrations('an idle guest (py65, waiting at its prompt)', GUESTS.echo);
  await migrations('a 64 KiB guest dirtying every page', GUESTS.busy, { downtimeMs: 1, totalMs: 20 });
  await latencies();
} finally {
  await stopHosts();
}
