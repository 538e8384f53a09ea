// Builds what the tests run: the Wasm core (build/), the TypeScript (dist/),
// the bundled command (dist/cli/hyper6502.cjs) and the browser build
// (dist/browser, dist/demo), each stamped with a hash of its inputs, so that a
// stale output is rebuilt (or refused), never tested.
//
// How to drive this:
//   npm run build                      # every output (npm install runs it too)
//   npm run build:wasm                 # one of them: build:wasm, build:ts, build:cli, build:web
//   npx tsx scripts/build.ts --stale   # only the outputs whose inputs changed (npm test does this)
//   npx tsx scripts/build.ts --check   # fail, naming them, if any output is stale (vitest does this)

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

interface Target {
  /** Its name on the command line. */
  id: 'wasm' | 'ts' | 'cli' | 'web';
  name: string;
  /** The command that builds it. */
  command: string[];
  /** Files and folders whose contents it is made from. */
  inputs: string[];
  /** Where its stamp lives (inside what it builds), and a file it must have made. */
  stamp: string;
  output: string;
}

const TARGETS: Target[] = [
  {
    id: 'wasm',
    name: 'the Wasm core',
    command: ['npx', 'asc', '--config', 'asconfig.json', '--target', 'release'],
    inputs: ['asconfig.json', 'assembly', 'src/core/layout.ts', 'node_modules/assemblyscript/package.json'],
    stamp: 'build/.inputs',
    output: 'build/hyper6502.wasm',
  },
  {
    id: 'ts',
    name: 'the TypeScript (dist/)',
    command: ['npx', 'tsc', '-p', 'tsconfig.build.json'],
    inputs: ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json'],
    stamp: 'dist/.inputs',
    output: 'dist/cli/main.js',
  },
  {
    id: 'web',
    name: 'the browser build (dist/browser, dist/demo)',
    command: ['npx', 'tsx', 'scripts/build-web.ts'],
    inputs: ['src', 'web', 'examples', 'scripts/build-web.ts', 'build/hyper6502.wasm', 'node_modules/@xterm/xterm/package.json', 'node_modules/esbuild/package.json'],
    stamp: 'dist/browser/.inputs',
    output: 'dist/demo/demo.js',
  },
  {
    id: 'cli',
    name: 'the bundled command (dist/cli/hyper6502.cjs)',
    command: ['npx', 'tsx', 'scripts/build-cli.ts'],
    // Its code cache is made by a run of hello.prg on the Wasm core the package ships (the browser build's copy, made before it).
    inputs: ['src', 'scripts/build-cli.ts', 'build/hyper6502.wasm', 'test/programs/hello.prg', 'package.json', 'node_modules/esbuild/package.json'],
    stamp: 'dist/cli/.bundle-inputs',
    output: 'dist/cli/hyper6502.bundle.cache',
  },
];

function files(path: string): string[] {
  const full = join(root, path);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full)
    .sort()
    .flatMap((f) => files(join(path, f)));
}

function inputHash(t: Target): string {
  const h = createHash('sha256');
  for (const f of t.inputs.flatMap(files)) h.update(relative(root, join(root, f))).update('\0').update(readFileSync(join(root, f))).update('\0');
  return h.digest('hex');
}

function isFresh(t: Target): boolean {
  const stamp = join(root, t.stamp);
  return existsSync(join(root, t.output)) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === inputHash(t);
}

/** The outputs that are missing or older than their inputs. */
export function staleOutputs(): string[] {
  return TARGETS.filter((t) => !isFresh(t)).map((t) => t.name);
}

function main(args: string[]) {
  const mode = args.includes('--check') ? 'check' : args.includes('--stale') ? 'stale' : 'build';
  const named = args.filter((a) => !a.startsWith('--'));
  for (const n of named) if (!TARGETS.some((t) => t.id === n)) throw new Error(`unknown build target "${n}" (use ${TARGETS.map((t) => t.id).join(', ')})`);
  const stale: string[] = [];
  // In order: the browser build takes the Wasm core that the first step makes, the bundled command the browser build's copy of it.
  for (const t of TARGETS.filter((t) => !named.length || named.includes(t.id))) {
    if (mode !== 'build' && isFresh(t)) continue;
    if (mode === 'check') {
      stale.push(t.name);
      continue;
    }
    console.log(`building ${t.name}: ${t.command.slice(1).join(' ')}`);
    execFileSync(t.command[0], t.command.slice(1), { cwd: root, stdio: 'inherit' });
    writeFileSync(join(root, t.stamp), inputHash(t) + '\n');
  }
  if (stale.length) {
    console.error(`stale: ${stale.join('; ')}: built from other inputs than the tree has; run \`npm run build\` (npm test does)`);
    process.exit(1);
  }
  if (mode !== 'build') console.log('built outputs are current');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main(process.argv.slice(2));
