// What hyper6502 needs from its platform, in a web browser: the browser
// build (scripts/build-web.ts) puts this module in the place of node.ts.
//
// How to drive this: as node.ts; the Wasm core and the worker script sit
// next to the bundle (hyper6502.wasm, worker.js).

export const platformName = 'browser';

/** Compiles the core with streaming compilation (falling back when the server sends the wrong type). */
export async function compileCore(): Promise<WebAssembly.Module> {
  const url = new URL('./hyper6502.wasm', import.meta.url);
  const response = await fetch(url);
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

export interface ThreadHandle {
  post(message: unknown, transfer: ArrayBuffer[]): void;
  close(): Promise<void>;
}

export async function startWorker(index: number, receive: (message: unknown) => void): Promise<ThreadHandle> {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: `hyper6502-${index}` });
  worker.onmessage = (e) => receive(e.data);
  worker.onerror = (e) => receive({ died: `failed: ${e.message || 'the worker script did not load'}` });
  return { post: (m, transfer) => worker.postMessage(m, transfer), close: async () => worker.terminate() };
}

export function workerPort(): { post(message: unknown, transfer: ArrayBuffer[]): void; listen(handler: (message: unknown) => void): void } | null {
  const scope = globalThis as unknown as { WorkerGlobalScope?: unknown; postMessage(m: unknown, t: ArrayBuffer[]): void; onmessage: ((e: MessageEvent) => void) | null };
  if (typeof scope.WorkerGlobalScope === 'undefined') return null;
  return { post: (m, t) => scope.postMessage(m, t), listen: (h) => void (scope.onmessage = (e) => h(e.data)) };
}
