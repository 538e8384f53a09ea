// Builds hyper6502 for the browser: the library (dist/browser: hyper6502.js,
// worker.js, hyper6502.wasm) and the demo page (dist/demo).
//
// How to drive this: `npm run build:web` (part of `npm run build`), after the
// Wasm core and the TypeScript are built; `tsx scripts/build-web.ts --demo DIR`
// builds only the demo page, into DIR (the browser tests build the page they
// test); `--out DIR` builds both into DIR/browser and DIR/demo (the package
// test stages a package of its own). dist/browser/hyper6502.wasm is the one
// copy of the core the package ships (Node reads it too). Node-only modules
// never reach a bundle: src/platform/node.ts is replaced by
// src/platform/browser.ts, and the build fails if a `node:` import is left in
// any bundle.

import { build, type BuildOptions, type Plugin } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const browserPlatform: Plugin = {
  name: 'browser-platform',
  setup(b) {
    b.onResolve({ filter: /platform\/node\.js$/ }, () => ({ path: join(root, 'src/platform/browser.ts') }));
  },
};
const common: BuildOptions = { bundle: true, format: 'esm', platform: 'browser', target: 'es2022', minify: true, plugins: [browserPlatform], logLevel: 'warning' };

/** Bundles `entryPoints` into `outdir` with the core beside them; the demo has source maps, the package's bundles none (it ships no sources). */
async function bundle(outdir: string, entryPoints: Record<string, string>, sourcemap: boolean) {
  mkdirSync(outdir, { recursive: true });
  await build({ ...common, outdir, entryPoints, sourcemap });
  copyFileSync(join(root, 'build/hyper6502.wasm'), join(outdir, 'hyper6502.wasm'));
  for (const f of readdirSync(outdir).filter((f) => f.endsWith('.js'))) {
    if (/["'`]node:/.test(readFileSync(join(outdir, f), 'utf8'))) throw new Error(`${outdir}/${f} imports a node: module: it must not reach the browser`);
  }
}

const [flag, dir] = process.argv.slice(2);
if (flag !== undefined && ((flag !== '--demo' && flag !== '--out') || !dir)) throw new Error(`usage: build-web.ts [--demo DIR | --out DIR], got ${process.argv.slice(2).join(' ')}`);
const demoOnly = flag === '--demo';
const out = flag === '--out' ? resolve(dir) : join(root, 'dist');

const lib = join(out, 'browser');
if (!demoOnly) await bundle(lib, { hyper6502: join(root, 'src/browser.ts'), worker: join(root, 'src/hypervisor/worker.ts') }, false);

const demo = demoOnly ? resolve(dir) : join(out, 'demo');
await bundle(demo, { demo: join(root, 'web/demo.ts'), worker: join(root, 'src/hypervisor/worker.ts') }, true);
copyFileSync(join(root, 'web/index.html'), join(demo, 'index.html'));
copyFileSync(join(root, 'web/demo.css'), join(demo, 'demo.css'));
copyFileSync(join(root, 'node_modules/@xterm/xterm/css/xterm.css'), join(demo, 'xterm.css'));
mkdirSync(join(demo, 'examples'), { recursive: true });
if (existsSync(join(root, 'examples'))) {
  for (const f of readdirSync(join(root, 'examples')).filter((f) => /\.(s|prg|c)$/.test(f))) copyFileSync(join(root, 'examples', f), join(demo, 'examples', f));
}

// What a page that embeds hyper6502 downloads.
if (!demoOnly) {
  const size = (f: string) => gzipSync(readFileSync(join(lib, f)), { level: 9 }).length;
  const sizes = { 'hyper6502.js': size('hyper6502.js'), 'worker.js': size('worker.js'), 'hyper6502.wasm': size('hyper6502.wasm') };
  console.log(`browser build: ${Object.entries(sizes).map(([f, n]) => `${f} ${(n / 1024).toFixed(1)} KiB`).join(', ')} (gzip)`);
}
