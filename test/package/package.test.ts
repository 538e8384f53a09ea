// The package as a user gets it: packed by npm from a fresh build of the
// sources (the TypeScript and the browser bundles built here; the Wasm core
// as the rest of the suite runs it, build/hyper6502.wasm), installed into a
// new project under a path with a space and an accented letter, and used
// there: the CLI (node_modules/.bin and npx), the Node API (checked by a strict
// TypeScript compile, then run), and a page that mounts a machine and starts
// a Hypervisor, bundled by Vite and by esbuild (with the core's and the
// worker's URLs given, and with the files copied next to the bundle) and
// loaded in Chromium. The project installs vite, esbuild, typescript and
// @types/node from the npm registry (the versions the repository uses, so
// that npm's cache usually has them); without the registry these tests say
// they were skipped, and why.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startServer } from '../../src/cli/serve.ts';
import { chromiumMissing, launchChromium, watchedPage } from '../helpers/chromium.ts';

const repo = join(import.meta.dirname, '../..');
const bin = (name: string) => join(repo, 'node_modules/.bin', name);
const version = (name: string) => JSON.parse(readFileSync(join(repo, 'node_modules', name, 'package.json'), 'utf8')).version;
const work = mkdtempSync(join(tmpdir(), 'hyper6502-package-'));
/** The user's project: a space and an accented letter in its path, as a file URL encodes them. */
const project = mkdtempSync(join(tmpdir(), 'hyper6502 café '));
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));

let tarball = '';
const unpacked = join(work, 'unpacked');
let files: Array<{ path: string; size: number }> = [];
let packedSize = 0;
/** Why the tests that need the installed project cannot run (the registry unreachable), or null. */
let noInstall: string | null = null;
let browser: Browser | undefined;

function run(command: string, args: string[], options: { cwd: string; input?: string; env?: NodeJS.ProcessEnv }) {
  const r = spawnSync(command, args, { cwd: options.cwd, input: options.input, encoding: 'utf8', env: options.env ?? process.env, timeout: 180_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

beforeAll(async () => {
  // A package of its own, from this build: tsc, the browser bundles and the bundled command into a staging folder, packed as npm packs.
  const stage = join(work, 'stage');
  execFileSync(bin('tsc'), ['-p', join(repo, 'tsconfig.build.json'), '--outDir', join(stage, 'dist')], { cwd: repo, stdio: 'pipe' });
  execFileSync(bin('tsx'), [join(repo, 'scripts/build-web.ts'), '--out', join(stage, 'dist')], { cwd: repo, stdio: 'pipe' });
  execFileSync(bin('tsx'), [join(repo, 'scripts/build-cli.ts'), '--out', join(stage, 'dist/cli')], { cwd: repo, stdio: 'pipe' });
  for (const f of ['package.json', 'README.md', 'LICENSE']) copyFileSync(join(repo, f), join(stage, f));
  const packed = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: stage, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }))[0];
  tarball = join(work, packed.filename);
  files = packed.files;
  mkdirSync(unpacked);
  execFileSync('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1']);
  packedSize = packed.size;
  console.log(`package: ${(packed.size / 1024).toFixed(0)} KiB packed, ${(packed.unpackedSize / 1024).toFixed(0)} KiB unpacked, ${packed.entryCount} files`);

  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-app', private: true, type: 'module' }, null, 2));
  const deps = [tarball, `vite@${version('vite')}`, `esbuild@${version('esbuild')}`, `typescript@${version('typescript')}`, `@types/node@${version('@types/node')}`];
  const install = run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...deps], { cwd: project });
  if (install.status !== 0) {
    if (/E(NOTFOUND|AI_AGAIN|CONNREFUSED|CONNRESET|TIMEDOUT)|network|proxy/i.test(install.stderr)) noInstall = `the npm registry cannot be reached: ${install.stderr.trim().split('\n')[0]}`;
    else throw new Error(`npm install of the package failed:\n${install.stderr}`);
  }
  if (!chromiumMissing) browser = await launchChromium();
}, 420_000);

afterAll(async () => {
  await browser?.close();
  rmSync(work, { recursive: true, force: true });
  rmSync(project, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('holds what a user needs and nothing else: LICENSE, one copy of the Wasm core, no source maps, no demo, no sources', () => {
    const paths = files.map((f) => f.path).sort();
    for (const f of ['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/browser/hyper6502.js', 'dist/browser/worker.js']) expect(paths).toContain(f);
    expect(paths.filter((p) => p.endsWith('.wasm'))).toEqual(['dist/browser/hyper6502.wasm']);
    expect(paths.filter((p) => p.endsWith('.map'))).toEqual([]);
    expect(paths.filter((p) => !p.startsWith('dist/') && !['LICENSE', 'README.md', 'package.json'].includes(p))).toEqual([]);
    expect(paths.filter((p) => p.startsWith('dist/demo/') || /(^|\/)\./.test(p))).toEqual([]);
    expect(readFileSync(join(repo, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n/);
    expect(pkg.license).toBe('MIT');
    // Every file the package names (exports, bin) is in it.
    const targets = (v: unknown): string[] => (typeof v === 'string' ? [v] : Object.values(v as object).flatMap(targets));
    for (const target of [...targets(pkg.exports), ...targets(pkg.bin)]) expect(paths, target).toContain(target.replace(/^\.\//, ''));
    // 480 KiB or so, and the command bundled in one file with V8's code cache (scripts/build-cli.ts: some 300 KiB packed).
    expect(packedSize).toBeLessThan(1024 * 1024);
  });

  it('has no source map reference left in what it ships', () => {
    for (const f of files.filter((f) => f.path.endsWith('.js'))) expect(readFileSync(join(unpacked, f.path), 'utf8'), f.path).not.toMatch(/sourceMappingURL/);
  });

  it('says truly which Node it needs: engines for the package, devEngines for working on it', () => {
    expect(pkg.engines).toEqual({ node: '>=20' });
    expect(pkg.devEngines.runtime).toMatchObject({ name: 'node', version: JSON.parse(readFileSync(join(repo, 'node_modules/vite/package.json'), 'utf8')).engines.node });
    // Nothing in the package imports by name a Node built-in export that Node 20.0 lacks (zlib.crc32 came in 20.15).
    for (const f of files.filter((f) => f.path.endsWith('.js'))) expect(readFileSync(join(unpacked, f.path), 'utf8'), f.path).not.toMatch(/import\s*\{[^}]*\bcrc32\b[^}]*\}\s*from\s*'node:zlib'/);
  });
});

describe('installed into a project under a path with a space', () => {
  type Ctx = { skip: (condition: boolean, note?: string) => void };
  const needsInstall = (ctx: Ctx) => ctx.skip(noInstall !== null, `SKIPPED: ${noInstall}`);
  const hello = join(repo, 'examples/hello.prg');

  it('runs the CLI: the bin link, npx, worker threads from the installed path', (ctx) => {
    needsInstall(ctx);
    copyFileSync(hello, join(project, 'hello.prg'));
    const v = run(join(project, 'node_modules/.bin/hyper6502'), ['--version'], { cwd: project });
    expect(v).toMatchObject({ status: 0, stdout: `hyper6502 ${pkg.version}\n` });
    const r = run('npx', ['--no-install', 'hyper6502', 'run', 'hello.prg'], { cwd: project, input: 'Ada\n' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^What is your name\? Hello, Ada!\n[\s\S]* 9 \|  9 18 27 36 45 54 63 72 81\n\nGoodbye, Ada\.\n$/);
    expect(r.status).toBe(0);
    const vms = run(join(project, 'node_modules/.bin/hyper6502'), ['run', '--vms', '2', '--workers', '2', 'hello.prg'], { cwd: project });
    expect(vms.stdout.split('\n').filter((l) => /Goodbye, stranger\./.test(l)).sort()).toEqual(['[vm1] Goodbye, stranger.', '[vm2] Goodbye, stranger.']);
    const serve = run(join(project, 'node_modules/.bin/hyper6502'), ['serve'], { cwd: project });
    expect(serve.status).toBe(2);
    expect(serve.stderr).toMatch(/^hyper6502: the demo page is not built here \(the package does not ship it/);
  });

  it('passes a strict TypeScript check and runs as a Node program: a Machine, a Hypervisor in worker threads, runSim65, one library however imported', (ctx) => {
    needsInstall(ctx);
    copyFileSync(hello, join(project, 'hello.prg'));
    writeFileSync(join(project, 'app.ts'), NODE_APP);
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', strict: true, skipLibCheck: false, types: ['node'], outDir: 'out', noUnusedLocals: true, exactOptionalPropertyTypes: true, noImplicitOverride: true },
      files: ['app.ts'],
    }));
    const tsc = run(join(project, 'node_modules/.bin/tsc'), ['-p', '.'], { cwd: project });
    expect(tsc.stdout + tsc.stderr).toBe('');
    const app = run(process.execPath, ['out/app.js'], { cwd: project });
    expect(app.stderr).toBe('');
    expect(JSON.parse(app.stdout)).toEqual({ exit: 'exit', printed: [42], vm: 'halted', exitCode: 0, oneLibrary: true });
  });

  /** Serves the bundled page in `out`, loads it, and returns what it reported and every error it met. */
  async function pageResult(out: string) {
    const { server, url } = await startServer({ port: 0, dir: out });
    const { page, errors } = await watchedPage(browser!);
    try {
      await page.goto(url);
      await page.waitForFunction(() => (window as unknown as { result?: unknown }).result, undefined, { timeout: 30_000 }).catch(() => {});
      const result = await page.evaluate(() => (window as unknown as { result?: unknown }).result);
      return { result, errors };
    } finally {
      await page.context().close();
      server.close();
    }
  }
  const expected = { oneLibrary: true, pixel: 5, canvasWidth: 320, output: 'hello from a worker', state: 'halted' };
  const needsBrowser = (ctx: Ctx) => {
    needsInstall(ctx);
    ctx.skip(chromiumMissing !== null, `SKIPPED: ${chromiumMissing}`);
  };

  it('a page that mounts a machine and starts a Hypervisor: type-checked, bundled by Vite (which emits the core and the worker), loaded in Chromium', async (ctx) => {
    needsBrowser(ctx);
    const page = join(project, 'vite-page');
    mkdirSync(page, { recursive: true });
    writeFileSync(join(page, 'index.html'), PAGE_HTML('./main.ts'));
    writeFileSync(join(page, 'main.ts'), pageSource(''));
    writeFileSync(join(project, 'tsconfig.page.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'bundler', lib: ['ES2022', 'DOM'], strict: true, skipLibCheck: false, noEmit: true, types: [] },
      files: ['vite-page/main.ts'],
    }));
    const tsc = run(join(project, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.page.json'], { cwd: project });
    expect(tsc.stdout + tsc.stderr).toBe('');
    const out = join(project, 'vite-out');
    const vite = run(join(project, 'node_modules/.bin/vite'), ['build', '--outDir', out, '--emptyOutDir', '--logLevel', 'warn'], { cwd: page });
    expect(vite.stderr).toBe('');
    expect(vite.status).toBe(0);
    expect(await pageResult(out)).toEqual({ result: expected, errors: [] });
  });

  it('the same page bundled by esbuild, given the core\'s and the worker\'s URLs, and with the two files copied next to the bundle', async (ctx) => {
    needsBrowser(ctx);
    const src = join(project, 'esbuild-page');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'assets.d.ts'), "declare module '*.wasm' { const url: string; export default url; }\n");
    // With options: the .wasm imported as a file (esbuild's file loader gives its URL), the worker script by URL.
    writeFileSync(join(src, 'options.ts'), pageSource("import wasm from 'hyper6502/hyper6502.wasm';\nconst options = { wasm, worker: new URL('./lib/worker.js', import.meta.url) };\n"));
    writeFileSync(join(src, 'copied.ts'), pageSource(''));
    writeFileSync(join(project, 'tsconfig.esbuild.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'bundler', lib: ['ES2022', 'DOM'], strict: true, skipLibCheck: false, noEmit: true, types: [] },
      files: ['esbuild-page/options.ts', 'esbuild-page/copied.ts', 'esbuild-page/assets.d.ts'],
    }));
    const tsc = run(join(project, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.esbuild.json'], { cwd: project });
    expect(tsc.stdout + tsc.stderr).toBe('');
    const browserFiles = join(project, 'node_modules/hyper6502/dist/browser');
    for (const variant of ['options', 'copied']) {
      const out = join(project, `esbuild-${variant}`);
      mkdirSync(out, { recursive: true });
      const esbuild = run(join(project, 'node_modules/.bin/esbuild'), [join(src, `${variant}.ts`), '--bundle', '--format=esm', '--loader:.wasm=file', `--outfile=${join(out, 'main.js')}`, '--log-level=warning'], { cwd: project });
      expect(esbuild.stderr).toBe('');
      writeFileSync(join(out, 'index.html'), PAGE_HTML('./main.js'));
      if (variant === 'options') cpSync(join(browserFiles, 'worker.js'), join(out, 'lib/worker.js'));
      else for (const f of ['hyper6502.wasm', 'worker.js']) copyFileSync(join(browserFiles, f), join(out, f));
      expect(await pageResult(out), variant).toEqual({ result: expected, errors: [] });
    }
  });
});

const PAGE_HTML = (script: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hyper6502 in a bundle</title></head>
<body><div id="emu"></div><script type="module" src="${script}"></script></body></html>
`;

/**
 * A page: the easy6502 machine mounted (a pixel set), and a Hypervisor whose
 * worker runs a py65 guest that prints a line; `prelude` may define
 * `options` ({ wasm, worker }): the core for both, the worker's script.
 */
function pageSource(prelude: string): string {
  return `import { mountMachine, Hypervisor, assemble } from 'hyper6502/browser';
import { Hypervisor as HypervisorAgain, SnapshotError } from 'hyper6502';
import { SnapshotError as SnapshotErrorAgain } from 'hyper6502/browser';
${prelude || 'const options: { wasm?: string; worker?: URL } = {};\n'}
const screen = assemble('  .org $0600\\n  lda #5\\n  sta $0200\\nloop: jmp loop\\n').bytes;
const element = document.getElementById('emu')!;
const em = await mountMachine(element, { machine: 'easy6502', program: screen, wasm: options.wasm });
const hello = assemble('  .org $0200\\n  ldx #0\\nnext: lda text,x\\n  beq done\\n  sta $F001\\n  inx\\n  bne next\\ndone: brk\\ntext: .asciiz "hello from a worker"\\n');
const hv = await Hypervisor.create({ workers: 1, ...options });
const vm = await hv.createVm({ machine: 'py65', program: hello.bytes, load: 0x0200, start: 0x0200 });
let output = '';
vm.onOutput((bytes) => (output += new TextDecoder().decode(bytes)));
const ended = new Promise<string>((resolve) => vm.onState((state) => state !== 'running' && resolve(state)));
await vm.start();
const state = await ended;
await hv.close();
em.pause();
(window as unknown as { result: unknown }).result = {
  oneLibrary: HypervisorAgain === Hypervisor && SnapshotErrorAgain === SnapshotError,
  pixel: em.machine.cpu.ram[0x0200],
  canvasWidth: element.querySelector('canvas')!.clientWidth,
  output,
  state,
};
`;
}

const NODE_APP = `import { readFileSync } from 'node:fs';
import { Machine, Hypervisor, SnapshotError, assemble, type MachineExit } from 'hyper6502';
import { SnapshotError as SnapshotErrorAgain, Machine as MachineAgain } from 'hyper6502/browser';
import { runSim65 } from 'hyper6502/node';

const program = assemble('  .org $0200\\n  lda #42\\n  sta $F001\\n  brk\\n');
const m = await Machine.create({ machine: 'py65', program: program.bytes, load: 0x0200, start: 0x0200 });
const exit: MachineExit = m.run(1000);
const hv = await Hypervisor.create({ workers: 1 });
const vm = await hv.createVm({ machine: 'sim65', program: readFileSync('hello.prg') });
await vm.closeInput();
const ended = new Promise<string>((resolve) => vm.onState((state) => state !== 'running' && resolve(state)));
await vm.start();
const vmState = await ended;
await hv.close();
const { exitCode } = await runSim65(readFileSync('hello.prg'), { stdin: 'Ada\\n', stdout: () => {} });
console.log(JSON.stringify({
  exit: exit.reason,
  printed: [...m.console.takeOutput()],
  vm: vmState,
  exitCode,
  oneLibrary: SnapshotError === SnapshotErrorAgain && Machine === MachineAgain,
}));
`;
