// The routes of the host API: one table, each route a method, a path and
// what it does. The server dispatches through it; openapi.json describes
// the same routes (a test holds the two together).
//
// How to drive this: `matchRoute(method, path)` gives the route and its
// parameters ({ id }), or why none matches (404, 405); a route's `handle`
// (plain requests) or `upgrade` (WebSockets) does the work with a
// HostContext.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type WebSocket from 'ws';
import type { VmSpec } from '../hypervisor/spec.js';
import type { Schedule } from '../hypervisor/vm-host.js';
import type { HostVm, HostVms } from './vms.js';
import { HttpError, objectBody, readBytes, readJson, sendJson } from './http.js';
import { collectMetrics, prometheusText, type HostCounters } from './metrics.js';
import { acceptMigration, migrateOut, type IncomingSessions } from './migration.js';

export interface HostContext {
  vms: HostVms;
  sessions: IncomingSessions;
  counters: HostCounters;
  /** The largest body (a spec, a snapshot, a migration stream) this host takes. */
  maxBody: number;
}

export interface Call {
  ctx: HostContext;
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** With {name} for a parameter (one path segment). */
  path: string;
  handle?: (call: Call) => Promise<void>;
  /** A WebSocket route: called once the socket is open. */
  upgrade?: (ws: WebSocket, call: Omit<Call, 'res'>) => void;
}

const info = (rec: HostVm) => {
  const vm = rec.vm;
  return { id: vm.id, state: vm.state, worker: vm.worker, waiting: vm.waiting, reason: vm.reason ?? null, exitCode: vm.exitCode, ...(vm.error ? { error: vm.error } : {}) };
};

/** A call that changes a VM's life: refused while it migrates; its state after. */
const lifecycle = (action: 'start' | 'pause' | 'resume' | 'reset' | 'shutdown'): Route => ({
  method: 'POST',
  path: `/vms/{id}/${action}`,
  async handle({ ctx, params, res }) {
    const rec = ctx.vms.get(params.id);
    ctx.vms.idle(rec, action);
    await rec.vm[action]();
    sendJson(res, 200, info(rec));
  },
});

export const ROUTES: Route[] = [
  {
    method: 'GET',
    path: '/vms',
    async handle({ ctx, res }) {
      sendJson(res, 200, ctx.vms.list().map(info));
    },
  },
  {
    method: 'POST',
    path: '/vms',
    async handle({ ctx, req, res }) {
      const spec = objectBody(await readJson(req, ctx.maxBody), 'a VM spec') as VmSpec;
      let rec: HostVm;
      try {
        rec = await ctx.vms.create(spec);
      } catch (err) {
        const e = err as Error;
        if (e instanceof HttpError || e.name === 'WorkerError') throw e;
        throw new HttpError(400, `the spec does not describe a VM: ${e.message}`, 'bad-spec');
      }
      sendJson(res, 201, info(rec));
    },
  },
  {
    method: 'POST',
    path: '/vms/restore',
    async handle({ ctx, req, res }) {
      const bytes = await readBytes(req, ctx.maxBody);
      sendJson(res, 201, info(await ctx.vms.restore([new Uint8Array(bytes)])));
    },
  },
  {
    method: 'GET',
    path: '/vms/{id}',
    async handle({ ctx, params, res }) {
      sendJson(res, 200, info(ctx.vms.get(params.id)));
    },
  },
  {
    method: 'DELETE',
    path: '/vms/{id}',
    async handle({ ctx, params, res }) {
      const rec = ctx.vms.get(params.id);
      ctx.vms.idle(rec, 'destroy');
      await ctx.vms.destroy(rec);
      res.writeHead(204).end();
    },
  },
  lifecycle('start'),
  lifecycle('pause'),
  lifecycle('resume'),
  lifecycle('reset'),
  lifecycle('shutdown'),
  {
    method: 'PUT',
    path: '/vms/{id}/schedule',
    async handle({ ctx, params, req, res }) {
      const rec = ctx.vms.get(params.id);
      const schedule = objectBody(await readJson(req, 4096), 'a schedule') as Schedule;
      ctx.vms.idle(rec, 'reschedule');
      await rec.vm.setSchedule(schedule);
      sendJson(res, 200, info(rec));
    },
  },
  {
    method: 'POST',
    path: '/vms/{id}/input',
    async handle({ ctx, params, req, res }) {
      const rec = ctx.vms.get(params.id);
      await ctx.vms.input(rec, new Uint8Array(await readBytes(req, ctx.maxBody)));
      res.writeHead(204).end();
    },
  },
  {
    method: 'GET',
    path: '/vms/{id}/snapshot',
    async handle({ ctx, params, res }) {
      const rec = ctx.vms.get(params.id);
      ctx.vms.idle(rec, 'snapshot');
      const bytes = await rec.vm.snapshot();
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length, 'content-disposition': `attachment; filename="${rec.vm.id}.snapshot"` });
      res.end(bytes);
    },
  },
  {
    method: 'GET',
    path: '/vms/{id}/metrics',
    async handle({ ctx, params, res }) {
      const rec = ctx.vms.get(params.id);
      const m = await rec.vm.metrics();
      sendJson(res, 200, { ...m, worker: rec.vm.worker, consoleClients: rec.console.clientCount, consoleDropped: rec.console.dropped, consoleBuffered: rec.console.buffered });
    },
  },
  {
    method: 'GET',
    path: '/vms/{id}/console',
    upgrade(ws, { ctx, params }) {
      let rec: HostVm;
      try {
        rec = ctx.vms.get(params.id);
      } catch {
        ws.close(1008, `no VM ${params.id}`);
        return;
      }
      rec.console.attach(ws, (bytes) => ctx.vms.input(rec, bytes));
    },
  },
  {
    method: 'POST',
    path: '/vms/{id}/migrate',
    async handle({ ctx, params, req, res }) {
      const rec = ctx.vms.get(params.id);
      const body = objectBody(await readJson(req, 8192), 'a migration request');
      if (typeof body.to !== 'string') throw new HttpError(400, 'a migration request names its target: { "to": "http://HOST:PORT", "token": "..." }');
      if (typeof body.token !== 'string') throw new HttpError(400, "a migration request carries the target's token: { \"to\": ..., \"token\": \"...\" }");
      try {
        const result = await migrateOut(ctx.vms, rec, { url: body.to, token: body.token });
        ctx.counters.migrationsOut++;
        sendJson(res, 200, result);
      } catch (err) {
        if ((err as HttpError).code === 'migration-failed') ctx.counters.migrationsOutFailed++;
        throw err;
      }
    },
  },
  {
    method: 'GET',
    path: '/migrations',
    upgrade(ws, { ctx }) {
      acceptMigration(ws, ctx.vms, ctx.sessions, ctx.maxBody * 4);
    },
  },
  {
    method: 'GET',
    path: '/migrations/{session}',
    async handle({ ctx, params, res }) {
      sendJson(res, 200, ctx.sessions.status(params.session));
    },
  },
  {
    method: 'GET',
    path: '/metrics',
    async handle({ ctx, res }) {
      sendJson(res, 200, await collectMetrics(ctx.vms, ctx.counters, ctx.sessions));
    },
  },
  {
    method: 'GET',
    path: '/metrics/prometheus',
    async handle({ ctx, res }) {
      const text = prometheusText(await collectMetrics(ctx.vms, ctx.counters, ctx.sessions));
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    },
  },
];

const PARAM = /^[A-Za-z0-9_.:-]{1,64}$/;
const compiled = ROUTES.map((route) => ({ route, segments: route.path.split('/').slice(1) }));

/** The route for a request, with its parameters; an HttpError 404 or 405 when there is none. */
export function matchRoute(method: string, pathname: string): { route: Route; params: Record<string, string> } {
  const parts = pathname.split('/').slice(1);
  const allowed: string[] = [];
  for (const { route, segments } of compiled) {
    if (segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < segments.length && ok; i++) {
      const s = segments[i];
      if (s.startsWith('{')) {
        let value: string;
        try {
          value = decodeURIComponent(parts[i]);
        } catch {
          value = '';
        }
        ok = PARAM.test(value);
        params[s.slice(1, -1)] = value;
      } else ok = s === parts[i];
    }
    if (!ok) continue;
    // A fixed path wins over a parameter (/vms/restore is not VM "restore").
    if (route.method === method) return { route, params };
    allowed.push(route.method);
  }
  if (allowed.length) throw new HttpError(405, `${method} is not allowed on ${pathname} (${[...new Set(allowed)].join(', ')})`);
  throw new HttpError(404, `no such API path: ${pathname}`);
}
