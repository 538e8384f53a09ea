// What hyper6502 needs from its platform, in Node. The browser build
// (scripts/build-web.ts) puts browser.ts in this module's place, so no Node
// built-in reaches a web page.
//
// How to drive this: import from './platform/node.js' in the library; never
// import node: modules anywhere else in src/ that the browser build bundles.

import { readFile } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { availableParallelism } from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

export const platformName = 'node';

/** Compiles the release core (build/hyper6502.wasm next to the package). */
export async function compileCore(): Promise<WebAssembly.Module> {
  const url = new URL('../../build/hyper6502.wasm', import.meta.url);
  let file: Uint8Array;
  try {
    file = await readFile(url);
  } catch (err) {
    throw new Error(`hyper6502: cannot read the Wasm core at ${url.pathname} (run \`npm run build\`): ${(err as Error).message}`);
  }
  return WebAssembly.compile(file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer);
}

/** Node's native CRC-32 (zlib.crc32, Node 20.15+), when there is one. */
export const nativeCrc32: ((bytes: Uint8Array) => number) | undefined = typeof crc32 === 'function' ? crc32 : undefined;

/** One thread per core. */
export async function defaultWorkerCount(): Promise<number> {
  return availableParallelism();
}

export interface ThreadHandle {
  post(message: unknown, transfer: ArrayBuffer[]): void;
  close(): Promise<void>;
}

/**
 * Starts a hypervisor worker thread; `receive` gets its messages, and
 * `{ died: reason }` if the thread fails or exits on its own.
 */
export async function startWorker(index: number, receive: (message: unknown) => void): Promise<ThreadHandle> {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(fromSource ? '../hypervisor/worker.ts' : '../hypervisor/worker.js', import.meta.url);
  // From the TypeScript sources (tests, development) the worker registers tsx first.
  const bootstrap = fromSource
    ? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`
    : null;
  // Workers inherit the process's Node options; --input-type (node -e scripts) is not allowed in one.
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
  const data = { hyper6502Worker: true, index };
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
export function workerPort(): { post(message: unknown, transfer: ArrayBuffer[]): void; listen(handler: (message: unknown) => void): void } | null {
  if (isMainThread || !workerData?.hyper6502Worker || !parentPort) return null;
  const port = parentPort;
  return { post: (m, t) => port.postMessage(m, t), listen: (h) => void port.on('message', h) };
}
