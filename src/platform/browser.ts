// What hyper6502 needs from its platform, in a web browser: the browser
// build (scripts/build-web.ts) puts this module in the place of node.ts.
//
// How to drive this: as node.ts. By default the Wasm core and the worker
// script sit next to the bundle (hyper6502.wasm, worker.js), written as
// `new URL('./x', import.meta.url)` so that bundlers that follow the pattern
// (Vite, webpack, Parcel) emit them; pages built otherwise pass their URLs
// (or a compiled module, a function that makes the Worker).

import type { CoreSource, StartWorkerOptions, ThreadHandle, WorkerLike, WorkerPort } from './types.js';

export type { CoreSource, WorkerSource, WorkerLike, ThreadHandle, StartWorkerOptions } from './types.js';

/** The core a hypervisor handed this worker (the first message it sends). */
let handedCore: WebAssembly.Module | undefined;

/** Compiles the core with streaming compilation (falling back when the server sends the wrong type). */
export async function compileCore(source?: CoreSource): Promise<WebAssembly.Module> {
  if (source === undefined && handedCore) return handedCore;
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return WebAssembly.compile(source as BufferSource);
  const url = source === undefined ? new URL('./hyper6502.wasm', import.meta.url) : new URL(source, location.href);
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new Error(`hyper6502: cannot load the Wasm core from ${url}: ${(err as Error).message}`);
  }
  if (!response.ok) throw new Error(`hyper6502: cannot load the Wasm core from ${url} (HTTP ${response.status})`);
  try {
    return await WebAssembly.compileStreaming(response.clone());
  } catch {
    return WebAssembly.compile(await response.arrayBuffer());
  }
}

export const nativeCrc32: ((bytes: Uint8Array) => number) | undefined = undefined;

export async function defaultWorkerCount(): Promise<number> {
  return Math.max(1, navigator.hardwareConcurrency || 1);
}

/** A module worker running `url`; one from another origin (a CDN) starts through a same-origin stub that imports it. */
function moduleWorker(url: URL): Worker {
  if (url.origin === location.origin || url.protocol === 'blob:' || url.protocol === 'data:') return new Worker(url, { type: 'module', name: 'hyper6502' });
  const stub = URL.createObjectURL(new Blob([`import ${JSON.stringify(url.href)};`], { type: 'text/javascript' }));
  return new Worker(stub, { type: 'module', name: 'hyper6502' });
}

/** Starts a hypervisor worker; `receive` gets its messages, and `{ died: reason }` if it fails. */
export async function startWorker(_index: number, receive: (message: unknown) => void, options: StartWorkerOptions = {}): Promise<ThreadHandle> {
  const worker: WorkerLike =
    typeof options.script === 'function'
      ? options.script()
      : options.script !== undefined
        ? moduleWorker(new URL(options.script, location.href))
        : // Written out in full, with options a bundler can read, so that bundlers that follow it bundle the worker.
          new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'hyper6502' });
  worker.addEventListener('message', (e) => receive(e.data));
  worker.addEventListener('error', (e) => receive({ died: `failed: ${e.message || 'the worker script did not load'}` }));
  if (options.core) worker.postMessage({ hyper6502Core: options.core }, []);
  return { post: (m, transfer) => worker.postMessage(m, transfer), close: async () => worker.terminate() };
}

export function workerPort(): WorkerPort | null {
  const scope = globalThis as unknown as { WorkerGlobalScope?: unknown; postMessage(m: unknown, t: ArrayBuffer[]): void; onmessage: ((e: MessageEvent) => void) | null };
  if (typeof scope.WorkerGlobalScope === 'undefined') return null;
  return {
    post: (m, t) => scope.postMessage(m, t),
    listen: (h) =>
      void (scope.onmessage = (e) => {
        const core = (e.data as { hyper6502Core?: unknown } | null)?.hyper6502Core;
        if (core instanceof WebAssembly.Module) handedCore = core;
        else h(e.data);
      }),
  };
}
