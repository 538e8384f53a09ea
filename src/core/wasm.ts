// Loads and compiles the core's Wasm module once per process (Node) or page (browser).
//
// How to drive this: `await loadCoreModule()` gives the compiled
// WebAssembly.Module; instantiate it through CoreMemory (src/core/cpu.ts).

let compiled: Promise<WebAssembly.Module> | undefined;

/** The compiled release core, shared by every CoreMemory of this process. */
export function loadCoreModule(): Promise<WebAssembly.Module> {
  compiled ??= compileCore();
  return compiled;
}

const WASM_URL = new URL('../../build/hyper6502.wasm', import.meta.url);

async function compileCore(): Promise<WebAssembly.Module> {
  if (WASM_URL.protocol === 'file:') {
    const { readFile } = await import('node:fs/promises');
    let bytes: ArrayBuffer;
    try {
      const file = await readFile(WASM_URL);
      bytes = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer;
    } catch (err) {
      throw new Error(`hyper6502: cannot read the Wasm core at ${WASM_URL.pathname} (run \`npm run build\`): ${(err as Error).message}`);
    }
    return WebAssembly.compile(bytes);
  }
  return WebAssembly.compileStreaming(fetch(WASM_URL));
}
