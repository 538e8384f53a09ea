// Loads and compiles the core's Wasm module once per process (Node) or page (browser).
//
// How to drive this: `await loadCoreModule()` gives the compiled
// WebAssembly.Module; instantiate it through CoreMemory (src/core/cpu.ts).

import { compileCore } from '../platform/node.js';

let compiled: Promise<WebAssembly.Module> | undefined;

/** The compiled release core, shared by every CoreMemory of this process or page. */
export function loadCoreModule(): Promise<WebAssembly.Module> {
  compiled ??= compileCore();
  return compiled;
}
