// Loads and compiles the core's Wasm module once per process (Node) or page (browser).
//
// How to drive this: `await loadCoreModule()` gives the compiled
// WebAssembly.Module; instantiate it through CoreMemory (src/core/cpu.ts).
// `loadCoreModule(source)` takes the core from elsewhere (a URL, bytes, a
// module: see CoreSource), for this and every later VM of the process or page.

import { compileCore, type CoreSource } from '../platform/node.js';

let compiled: Promise<WebAssembly.Module> | undefined;
let compiledFrom: CoreSource | undefined;

/** The compiled release core, shared by every CoreMemory of this process or page. */
export function loadCoreModule(source?: CoreSource): Promise<WebAssembly.Module> {
  if (compiled && (source === undefined || source === compiledFrom)) return compiled;
  const attempt = compileCore(source);
  compiled = attempt;
  compiledFrom = source;
  // A core that failed to load is tried again next time (the network may be back).
  attempt.catch(() => {
    if (compiled === attempt) compiled = undefined;
  });
  return attempt;
}
