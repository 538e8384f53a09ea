// A host's metrics: each VM's (from the Hypervisor) and the host's own, as
// JSON and in Prometheus' text format.
//
// How to drive this:
//   const m = await collectMetrics(vms, counters, sessions);   // { host: {...}, vms: [...] }
//   res.end(prometheusText(m));                      // text/plain; version=0.0.4

import type { VmMetrics } from '../hypervisor/vm-host.js';
import { poolMetrics } from '../hypervisor/hypervisor.js';
import type { HostVms } from './vms.js';

/** What the host counts of its own. */
export interface HostCounters {
  startedAt: number;
  requests: number;
  unauthorized: number;
  migrationsOut: number;
  migrationsOutFailed: number;
}

export interface VmEntry extends VmMetrics {
  worker: number;
  consoleClients: number;
  /** Console output that reached no client (backlog full, or a client too slow). */
  consoleDropped: number;
  /** Bytes waiting to be sent to its console clients now. */
  consoleBuffered: number;
}

export interface HostMetrics {
  host: {
    uptimeSeconds: number;
    workers: number;
    vms: number;
    vmsByState: Record<string, number>;
    cycles: number;
    instructions: number;
    mhz: number;
    exits: Record<string, number>;
    consoleClients: number;
    consoleDropped: number;
    rssBytes: number;
    migrationsIn: number;
    migrationsInFailed: number;
  } & Omit<HostCounters, 'startedAt'>;
  vms: VmEntry[];
}

export async function collectMetrics(vms: HostVms, counters: HostCounters, incoming: { started: number; failed: number }): Promise<HostMetrics> {
  const entries = await Promise.all(
    vms.list().map(async (rec): Promise<VmEntry | null> => {
      try {
        const m = await rec.vm.metrics();
        return { ...m, worker: rec.vm.worker, consoleClients: rec.console.clientCount, consoleDropped: rec.console.dropped, consoleBuffered: rec.console.buffered };
      } catch {
        return null; // gone meanwhile, or its worker is
      }
    }),
  );
  const list = entries.filter((e): e is VmEntry => e !== null);
  const { startedAt, ...counted } = counters;
  const pool = poolMetrics(list, vms.hv.workerCount);
  const host: HostMetrics['host'] = {
    uptimeSeconds: (performance.now() - startedAt) / 1000,
    workers: vms.hv.workerCount,
    vms: vms.count,
    vmsByState: {},
    cycles: pool.cycles,
    instructions: pool.instructions,
    mhz: pool.mhz,
    exits: pool.exits,
    consoleClients: 0,
    consoleDropped: 0,
    rssBytes: process.memoryUsage.rss(),
    migrationsIn: incoming.started,
    migrationsInFailed: incoming.failed,
    ...counted,
  };
  for (const rec of vms.list()) host.vmsByState[rec.vm.state] = (host.vmsByState[rec.vm.state] ?? 0) + 1;
  for (const m of list) {
    host.consoleClients += m.consoleClients;
    host.consoleDropped += m.consoleDropped;
  }
  return { host, vms: list };
}

const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** The metrics in Prometheus' text exposition format (version 0.0.4). */
export function prometheusText(m: HostMetrics): string {
  const out: string[] = [];
  const metric = (name: string, type: 'gauge' | 'counter', help: string, samples: Array<[Record<string, string>, number]>) => {
    out.push(`# HELP hyper6502_${name} ${help}`, `# TYPE hyper6502_${name} ${type}`);
    for (const [labels, value] of samples) {
      const l = Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`).join(',');
      out.push(`hyper6502_${name}${l ? `{${l}}` : ''} ${Number.isFinite(value) ? value : 0}`);
    }
  };
  const h = m.host;
  metric('up_seconds', 'gauge', 'Seconds since the host started.', [[{}, h.uptimeSeconds]]);
  metric('workers', 'gauge', 'Worker threads running VMs.', [[{}, h.workers]]);
  metric('vms', 'gauge', 'VMs on this host, by state.', Object.entries(h.vmsByState).map(([state, n]) => [{ state }, n]));
  metric('resident_memory_bytes', 'gauge', 'Resident memory of the host process.', [[{}, h.rssBytes]]);
  metric('http_requests_total', 'counter', 'API requests received.', [[{}, h.requests]]);
  metric('http_unauthorized_total', 'counter', 'API requests refused for a missing or wrong token.', [[{}, h.unauthorized]]);
  metric('migrations_total', 'counter', 'Live migrations, by direction and result.', [
    [{ direction: 'out', result: 'ok' }, h.migrationsOut],
    [{ direction: 'out', result: 'failed' }, h.migrationsOutFailed],
    [{ direction: 'in', result: 'ok' }, h.migrationsIn],
    [{ direction: 'in', result: 'failed' }, h.migrationsInFailed],
  ]);
  const vm = (f: (e: VmEntry) => number) => m.vms.map((e): [Record<string, string>, number] => [{ vm: e.id }, f(e)]);
  metric('vm_cycles_total', 'counter', 'Cycles the VM has run.', vm((e) => e.cycles));
  metric('vm_instructions_total', 'counter', 'Instructions the VM has run.', vm((e) => e.instructions));
  metric('vm_mhz', 'gauge', 'Emulated MHz over the time the VM ran.', vm((e) => e.mhz));
  metric('vm_dirty_pages', 'gauge', 'Pages written since the last snapshot.', vm((e) => e.dirtyPages));
  metric('vm_waiting', 'gauge', '1 while the guest waits for input, costing nothing.', vm((e) => (e.waiting ? 1 : 0)));
  metric('vm_running', 'gauge', '1 while the VM is running.', vm((e) => (e.state === 'running' ? 1 : 0)));
  metric('vm_output_dropped_bytes_total', 'counter', 'Guest output dropped in the VM (its console buffer was full).', vm((e) => e.outputDropped));
  metric('vm_console_clients', 'gauge', 'Console clients attached.', vm((e) => e.consoleClients));
  metric('vm_console_dropped_bytes_total', 'counter', 'Console output that reached no client.', vm((e) => e.consoleDropped));
  metric('vm_console_buffered_bytes', 'gauge', 'Console output waiting to be sent to clients.', vm((e) => e.consoleBuffered));
  metric('vm_exits_total', 'counter', 'VM exits, by reason.', m.vms.flatMap((e) => Object.entries(e.exits).map(([reason, n]): [Record<string, string>, number] => [{ vm: e.id, reason }, n])));
  return out.join('\n') + '\n';
}
