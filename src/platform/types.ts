// The types node.ts and browser.ts share: what each offers the library
// under the same names (the browser build swaps one file for the other).
//
// How to drive this: import the types from './platform/node.js', which
// re-exports them; nothing here runs.

/**
 * Where the Wasm core comes from: a URL (in Node also a file path), its bytes,
 * or a module compiled already. By default it is `hyper6502.wasm` next to the
 * browser bundle, or in the installed package.
 */
export type CoreSource = string | URL | BufferSource | WebAssembly.Module;

/** A Web Worker, as far as the hypervisor uses one (typed loosely so that Node's types need no DOM). */
export interface WorkerLike {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  terminate(): void;
  addEventListener(type: 'message' | 'error', listener: (event: { data?: unknown; message?: string }) => void): void;
}

/**
 * What a hypervisor worker runs: its script's URL (in Node also a path), or,
 * in a browser, a function that makes the Worker (as a bundler's worker import
 * gives: `import HyperWorker from 'hyper6502/worker?worker'`, then
 * `() => new HyperWorker()`). By default it is `worker.js` next to the
 * browser bundle, or the package's own worker in Node.
 */
export type WorkerSource = string | URL | (() => WorkerLike);

export interface ThreadHandle {
  post(message: unknown, transfer: ArrayBuffer[]): void;
  close(): Promise<void>;
}

export interface StartWorkerOptions {
  script?: WorkerSource;
  /** The compiled core, handed to the worker so that it neither fetches nor compiles it again. */
  core?: WebAssembly.Module;
}

export interface WorkerPort {
  post(message: unknown, transfer: ArrayBuffer[]): void;
  listen(handler: (message: unknown) => void): void;
}
