// What hyper6502 needs from its platform, in Node. The browser build
// (scripts/build-web.ts) puts browser.ts in this module's place, so no Node
// built-in reaches a web page.
//
// How to drive this: import from './platform/node.js' in the library; never
// import node: modules anywhere else in src/ that the browser build bundles.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';
import { availableParallelism } from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { CoreSource, StartWorkerOptions, ThreadHandle, WorkerPort } from './types.js';

export type { CoreSource, WorkerSource, WorkerLike, ThreadHandle, StartWorkerOptions } from './types.js';

const fromSource = import.meta.url.endsWith('.ts');

/**
 * The release core: from the TypeScript sources build/hyper6502.wasm, from
 * the built package the one copy it ships (dist/browser/hyper6502.wasm).
 */
export const defaultCoreUrl = new URL(fromSource ? '../../build/hyper6502.wasm' : '../browser/hyper6502.wasm', import.meta.url);

/** Compiles the core from `source` (default: the package's own); a hypervisor worker takes the one its hypervisor handed it. */
export async function compileCore(source?: CoreSource): Promise<WebAssembly.Module> {
  if (source === undefined && workerData?.hyper6502Core instanceof WebAssembly.Module) return workerData.hyper6502Core;
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return WebAssembly.compile(source as BufferSource);
  const where = source === undefined ? defaultCoreUrl : typeof source === 'string' && !/^[a-z][a-z0-9+.-]+:/i.test(source) ? source : new URL(source);
  if (where instanceof URL && where.protocol !== 'file:') {
    const response = await fetch(where);
    if (!response.ok) throw new Error(`hyper6502: cannot load the Wasm core from ${where} (HTTP ${response.status})`);
    return WebAssembly.compile(await response.arrayBuffer());
  }
  let file: Uint8Array;
  try {
    file = await readFile(where);
  } catch (err) {
    const path = where instanceof URL ? fileURLToPath(where) : where;
    throw new Error(`hyper6502: cannot read the Wasm core at ${path}${source === undefined ? ' (run `npm run build`)' : ''}: ${(err as Error).message}`);
  }
  return WebAssembly.compile(file as Uint8Array<ArrayBuffer>);
}

/** Node's native CRC-32 (zlib.crc32, Node 20.15+), when there is one. */
// (Read from the namespace: a named import would fail to load on an older Node.)
export const nativeCrc32: ((bytes: Uint8Array) => number) | undefined = typeof zlib.crc32 === 'function' ? zlib.crc32 : undefined;

/** One thread per core. */
export async function defaultWorkerCount(): Promise<number> {
  return availableParallelism();
}

/**
 * Starts a hypervisor worker thread; `receive` gets its messages, and
 * `{ died: reason }` if the thread fails or exits on its own.
 */
export async function startWorker(index: number, receive: (message: unknown) => void, options: StartWorkerOptions = {}): Promise<ThreadHandle> {
  if (typeof options.script === 'function') throw new TypeError('worker: in Node, give the worker script as a path or a URL (a function that makes a Worker is for browsers)');
  const url = options.script ?? new URL(fromSource ? '../hypervisor/worker.ts' : '../hypervisor/worker.js', import.meta.url);
  // From the TypeScript sources (tests, development) the worker registers tsx first.
  const bootstrap = fromSource && options.script === undefined
    ? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify((url as URL).href)}); });`
    : null;
  // Workers inherit the process's Node options; --input-type (node -e scripts) is not allowed in one.
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
  const data = { hyper6502Worker: true, index, hyper6502Core: options.core };
  const worker = bootstrap ? new Worker(bootstrap, { eval: true, execArgv, workerData: data }) : new Worker(url, { execArgv, workerData: data });
  let closing = false;
  worker.on('message', receive);
  worker.on('error', (err) => receive({ died: `failed: ${err?.message ?? String(err)}` }));
  worker.on('exit', (code) => {
    if (!closing) receive({ died: `exited (code ${code})` });
  });
  return {
    post: (m, transfer) => worker.postMessage(m, transfer),
    close: async () => {
      closing = true;
      await worker.terminate();
    },
  };
}

/** Inside a hypervisor worker thread: its port to the hypervisor; null elsewhere. */
export function workerPort(): WorkerPort | null {
  if (isMainThread || !workerData?.hyper6502Worker || !parentPort) return null;
  const port = parentPort;
  return { post: (m, t) => port.postMessage(m, t), listen: (h) => void port.on('message', h) };
}
