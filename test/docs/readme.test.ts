// Every code snippet of README.md, run as it stands: each TypeScript
// snippet is a whole program (checked by a strict TypeScript compile, then
// run: in Node against the sources, or bundled by esbuild and run in Chromium
// when it is for a page), the HTML page runs in Chromium next to a fresh
// browser build, each `$ command` transcript is run and its output compared
// (`...` stands for any lines), each command line of a list runs, each usage
// line names only options the command has, and the JSON machine description
// boots. `// → TEXT` after a line of a snippet is what that line prints.
// The files snippets read (hello.prg, EhBASIC, the Woz Monitor, Klaus's test)
// come from examples/ and the shared third-party folders, read where they
// are; a snippet whose file is missing says it was skipped, and why.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { startServer } from '../../src/cli/serve.ts';
import { assemble } from '../../src/asm/assembler.ts';
import { chromiumMissing, launchChromium, watchedPage } from '../helpers/chromium.ts';
import { guestsPath, guestsSkipReason } from '../helpers/guests.ts';
import { conformancePath, skipReason as conformanceSkipReason } from '../helpers/conformance.ts';

const repo = join(import.meta.dirname, '../..');
const readme = readFileSync(join(repo, 'README.md'), 'utf8');
const work = mkdtempSync(join(tmpdir(), 'hyper6502-readme-'));
const tsx = join(repo, 'node_modules/.bin/tsx');

interface Block {
  lang: string;
  code: string;
  /** Its first line in README.md. */
  line: number;
}
const blocks: Block[] = [...readme.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], code: m[2], line: readme.slice(0, m.index).split('\n').length }));
const where = (b: Block) => `README.md:${b.line}`;

/** The files the snippets read, by the name they use, from where they are. */
const FILES: Record<string, { path: string; missing: string }> = {
  'hello.prg': { path: join(repo, 'examples/hello.prg'), missing: 'examples/hello.prg is missing' },
  'examples/hello.c': { path: join(repo, 'examples/hello.c'), missing: 'examples/hello.c is missing' },
  'examples/timer.s': { path: join(repo, 'examples/timer.s'), missing: 'examples/timer.s is missing' },
  'ehbasic.bin': { path: join(guestsPath, 'ehbasic/ehbasic.bin'), missing: guestsSkipReason },
  'taliforth-py65mon.bin': { path: join(guestsPath, 'taliforth2/taliforth-py65mon.bin'), missing: guestsSkipReason },
  'wozmon.bin': { path: join(guestsPath, 'apple1/wozmon.bin'), missing: guestsSkipReason },
  'a1basic.bin': { path: join(guestsPath, 'apple1/a1basic.bin'), missing: guestsSkipReason },
  '6502_functional_test.bin': { path: join(conformancePath, 'klaus/6502_functional_test.bin'), missing: conformanceSkipReason },
  'sum.c': { path: join(repo, 'test/debug/fixtures/sum.c'), missing: 'test/debug/fixtures/sum.c is missing' },
  'eater.bin': { path: join(guestsPath, 'eater/eater.bin'), missing: `SKIPPED: Ben Eater's ROM (eater.bin) is not among the guests at ${guestsPath}` },
};

/** A folder with the files `text` names (linked where they are; C sources copied, as cl65 writes beside them), or the reason one is missing. */
function folderFor(name: string, text: string): { dir: string; missing: string | null } {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, { path, missing }] of Object.entries(FILES)) {
    if (!text.includes(file)) continue;
    if (!existsSync(path)) return { dir, missing };
    mkdirSync(join(dir, file, '..'), { recursive: true });
    if (existsSync(join(dir, file))) continue;
    if (file.endsWith('.c')) copyFileSync(path, join(dir, file));
    else symlinkSync(path, join(dir, file));
  }
  return { dir, missing: null };
}

/** The lines `// → TEXT` says, in order. */
const promised = (code: string) => [...code.matchAll(/\/\/ → (.*)$/gm)].map((m) => m[1]);

/** Each promised line appears in `printed`, whole, in the same order. */
function expectPrinted(printed: string[], code: string, block: Block) {
  let at = 0;
  for (const line of promised(code)) {
    const found = printed.indexOf(line, at);
    expect(found, `${where(block)}: "${line}" printed (it printed: ${JSON.stringify(printed)})`).toBeGreaterThanOrEqual(0);
    at = found + 1;
  }
}

// `npx hyper6502` in a snippet is this checkout's CLI, from its sources: a `hyper6502` on the PATH.
const shims = join(work, 'bin');
mkdirSync(shims);
writeFileSync(join(shims, 'hyper6502'), `#!/bin/sh\nexec "${tsx}" "${join(repo, 'src/cli/main.ts')}" "$@"\n`);
chmodSync(join(shims, 'hyper6502'), 0o755);
const shellEnv = { ...process.env, PATH: `${shims}:${process.env.PATH}` };
const asShell = (command: string) => command.replace(/\bnpx hyper6502\b/g, 'hyper6502');

const tsBlocks = blocks.filter((b) => b.lang === 'ts');
const forPages = (b: Block) => /from 'hyper6502\/browser'/.test(b.code);
const nodeSnippets = tsBlocks.filter((b) => !forPages(b));
const pageSnippets = tsBlocks.filter(forPages);

let web = '';
let browser: Browser | undefined;
beforeAll(async () => {
  // The snippets import 'hyper6502' as users do; here that is this checkout's sources.
  const ts = join(work, 'ts');
  mkdirSync(ts);
  writeFileSync(join(ts, 'package.json'), JSON.stringify({ type: 'module' }));
  const paths = { hyper6502: [join(repo, 'src/index.ts')], 'hyper6502/node': [join(repo, 'src/node.ts')], 'hyper6502/browser': [join(repo, 'src/browser.ts')] };
  const strict = { target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, allowImportingTsExtensions: true, baseUrl: '.', paths, typeRoots: [join(repo, 'node_modules/@types')] };
  writeFileSync(join(ts, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...strict, module: 'NodeNext', types: ['node'] }, include: ['node-*.ts'] }));
  // (The sources behind 'hyper6502' need Node's types even here; test/package checks a page against the package's own .d.ts without them.)
  writeFileSync(join(ts, 'tsconfig.page.json'), JSON.stringify({ compilerOptions: { ...strict, module: 'ESNext', moduleResolution: 'bundler', lib: ['ES2022', 'DOM'], types: ['node'] }, include: ['page-*.ts', 'assets.d.ts'] }));
  writeFileSync(join(ts, 'assets.d.ts'), "declare module '*.wasm' { const url: string; export default url; }\n");
  nodeSnippets.forEach((b) => writeFileSync(join(ts, `node-${b.line}.ts`), b.code));
  pageSnippets.forEach((b) => writeFileSync(join(ts, `page-${b.line}.ts`), b.code));
  // The browser build as the sources say it now.
  web = join(work, 'web');
  execFileSync(tsx, [join(repo, 'scripts/build-web.ts'), '--out', web], { stdio: 'pipe' });
  if (!chromiumMissing) browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('README.md', () => {
  it('has its snippets where this test looks for them (ts, html, json, sh), each handled below', () => {
    expect(blocks.length).toBeGreaterThan(15);
    for (const b of blocks) expect(['ts', 'html', 'json', 'sh'], where(b)).toContain(b.lang);
    expect(pageSnippets.length).toBeGreaterThan(0);
  });

  it('every TypeScript snippet passes a strict type check', () => {
    const ts = join(work, 'ts');
    for (const config of ['tsconfig.json', 'tsconfig.page.json']) {
      const r = spawnSync(join(repo, 'node_modules/.bin/tsc'), ['-p', config], { cwd: ts, encoding: 'utf8' });
      expect(r.stdout.replace(/node-(\d+)\.ts|page-(\d+)\.ts/g, (_, a, b) => `README.md snippet at line ${a ?? b}`), config).toBe('');
      expect(r.status).toBe(0);
    }
  });

  describe.each(nodeSnippets.map((b) => [b.line, b] as const))('the Node snippet at line %i', (_, block) => {
    it('runs as it stands and prints what it says', (ctx) => {
      const { dir, missing } = folderFor(`node-${block.line}`, block.code);
      ctx.skip(missing !== null, missing ?? '');
      copyFileSync(join(work, 'ts', `node-${block.line}.ts`), join(dir, 'snippet.ts'));
      for (const f of ['package.json', 'tsconfig.json']) copyFileSync(join(work, 'ts', f), join(dir, f));
      // What a user would type at it: a line for the monitor, a name for hello.
      const input = /wozmon/.test(block.code) ? 'FF00.FF03\n' : /hello\.prg/.test(block.code) ? 'Ada\n' : '';
      const r = spawnSync(tsx, ['snippet.ts'], { cwd: dir, input, encoding: 'latin1', timeout: 60_000 });
      expect(r.stderr, where(block)).toBe('');
      expect(r.status, where(block)).toBe(0);
      expectPrinted(r.stdout.split('\n'), block.code, block);
    });
  });

  describe.each(pageSnippets.map((b) => [b.line, b] as const))('the page snippet at line %i', (_, block) => {
    it('bundled by esbuild as it says, runs in Chromium and prints what it says', async (ctx) => {
      ctx.skip(chromiumMissing !== null, `SKIPPED: ${chromiumMissing}`);
      const out = join(work, `page-${block.line}`);
      await build({
        entryPoints: [join(work, 'ts', `page-${block.line}.ts`)],
        bundle: true, format: 'esm', platform: 'browser', target: 'es2022', loader: { '.wasm': 'file' }, outfile: join(out, 'main.js'), logLevel: 'silent',
        alias: { 'hyper6502/browser': join(web, 'browser/hyper6502.js'), 'hyper6502/hyper6502.wasm': join(web, 'browser/hyper6502.wasm'), hyper6502: join(web, 'browser/hyper6502.js') },
      });
      cpSync(join(web, 'browser/worker.js'), join(out, 'lib/worker.js'));
      writeFileSync(join(out, 'index.html'), '<!doctype html><meta charset="utf-8"><div id="emu"></div><script type="module" src="main.js"></script>\n');
      const { server, url } = await startServer({ port: 0, dir: out });
      const { page, errors } = await watchedPage(browser!);
      const printed: string[] = [];
      page.on('console', (m) => void (m.type() === 'log' && printed.push(m.text())));
      try {
        await page.goto(url);
        await page.waitForFunction((n) => n, promised(block.code).length, { timeout: 100 }).catch(() => {});
        for (let i = 0; i < 100 && printed.length < promised(block.code).length && !errors.length; i++) await page.waitForTimeout(100);
        expect(errors).toEqual([]);
        expectPrinted(printed, block.code, block);
      } finally {
        await page.context().close();
        server.close();
      }
    });
  });

});

describe('README.md: the HTML page', () => {
  const pages = blocks.filter((b) => b.lang === 'html');
  it.for(pages.map((b) => [b.line, b] as const))('at line %i runs next to the browser build: the screen scaled up crisp to 320 pixels, the program running again after em.reset()', async ([, block], ctx) => {
    ctx.skip(chromiumMissing !== null, `SKIPPED: ${chromiumMissing}`);
    const dir = join(work, `html-${block.line}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'index.html'), block.code);
    for (const f of ['hyper6502.js', 'worker.js', 'hyper6502.wasm']) copyFileSync(join(web, 'browser', f), join(dir, f));
    const { server, url } = await startServer({ port: 0, dir });
    const { page, errors } = await watchedPage(browser!);
    try {
      await page.goto(url);
      await page.waitForSelector('canvas.hyper6502-screen');
      const look = await page.evaluate(() => {
        const c = document.querySelector('canvas')!;
        return { width: c.clientWidth, height: c.clientHeight, rendering: getComputedStyle(c).imageRendering };
      });
      expect(look).toEqual({ width: 320, height: 320, rendering: 'pixelated' });
      // The top-left pixel runs through the colours: the program runs (after the snippet's reset and restore).
      const colours = new Set<string>();
      for (let i = 0; i < 20 && colours.size < 3; i++) {
        colours.add(await page.evaluate(() => [...document.querySelector('canvas')!.getContext('2d')!.getImageData(0, 0, 1, 1).data].join(',')));
        await page.waitForTimeout(50);
      }
      expect(colours.size).toBeGreaterThanOrEqual(3);
      expect(errors).toEqual([]);
    } finally {
      await page.context().close();
      server.close();
    }
  });
});

// ---- The command lines ------------------------------------------------------------------
const shBlocks = blocks.filter((b) => b.lang === 'sh');
const transcripts = shBlocks.filter((b) => /^\$ /m.test(b.code));
/** The lines of the other sh blocks, without their comments; an indented line continues the one before. */
const shLines = shBlocks
  .filter((b) => !transcripts.includes(b))
  .flatMap((b) => b.code.replace(/\n[ \t]+/g, ' ').split('\n').map((text) => ({ block: b, text: text.replace(/\s+#.*$/, '').trim() })))
  .filter((l) => l.text);
/** Usage lines: they name their arguments in capitals or brackets. */
const isUsage = (text: string) => /\[|\b(FILE|NAME|ADDR|OBJ|OUT|COMMAND|DIR|CPU|N)\b/.test(text);
const setUp = shLines.filter((l) => /^npm /.test(l.text));
const usages = shLines.filter((l) => !setUp.includes(l) && isUsage(l.text));
const commands = shLines.filter((l) => !setUp.includes(l) && !usages.includes(l));

/** What each command of a list shows first when it boots, by the file it runs. */
const BOOTS: Record<string, RegExp> = {
  '--help': /^Usage: hyper6502 <command> \[options\]\n/,
  'ehbasic.bin': /6502 EhBASIC \[C\]old\/\[W\]arm \?/,
  'taliforth-py65mon.bin': /Tali Forth 2 .*\n[\s\S]*Type 'bye' to exit/,
  'a1basic.bin': /^\\$/m,
  'eater.bin': /\S/,
  'examples/timer.s': /^hyper6502 board: a tick a second at 1 MHz; type to echo\ntick 1\n/,
  'tiny.json': /^tiny\n/,
};

/** The JSON machine of the README and the ROM it names (a monitor that greets and echoes, assembled here). */
function tinyMachine(dir: string) {
  const json = blocks.find((b) => b.lang === 'json' && /"name": "tiny"/.test(b.code))!;
  writeFileSync(join(dir, 'tiny.json'), json.code);
  const rom = assemble(`
        .setcpu "65C02"
        .org $F000
reset:  ldx #0
next:   lda greeting,x
        beq wait
        sta $8000
        inx
        bra next
wait:   lda $8001
        and #$08            ; a byte received
        beq wait
        lda $8000
        sta $8000
        bra wait
greeting: .byte "tiny", $0D, 0
        .res $FFFC - *
        .word reset, reset
`, { fileName: 'monitor.s' });
  expect(rom.errors).toEqual([]);
  writeFileSync(join(dir, 'monitor.rom'), rom.bytes);
}

/** Runs `command` in a shell in `dir`; resolves with what it printed once `until` matches it (then stops it) or it ends. */
function runShell(command: string, dir: string, until?: RegExp, input = ''): Promise<{ status: number | null; out: string; err: string; stopped: boolean }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', command], { cwd: dir, env: shellEnv, detached: true });
    let out = '';
    let err = '';
    let stopped = false;
    const stop = () => {
      stopped = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* ended already */
      }
    };
    const timer = setTimeout(stop, 60_000);
    let raw = '';
    child.stdout.on('data', (d) => {
      raw += d.toString('latin1');
      out = raw.replace(/\r\n?/g, '\n'); // as a terminal shows it (a CR LF may come in two pieces)
      if (until?.test(out)) stop();
    });
    child.stderr.on('data', (d) => (err += d.toString('latin1')));
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, out, err, stopped });
    });
    child.stdin.end(input);
  });
}

/** Statistics that change from run to run (time, MHz), made comparable. */
const steady = (text: string) => text.replace(/"seconds":[\d.]+,"mhz":[\d.]+/g, '"seconds":S,"mhz":M');

describe('README.md: the command lines', () => {
  it.for(transcripts.map((b) => [b.line, b] as const))('the transcript at line %i prints what it shows', async ([, block], ctx) => {
    const lines = block.code.replace(/\n$/, '').split('\n');
    const commandLines = lines.filter((l) => l.startsWith('$ ')).map((l) => asShell(l.slice(2)));
    const expected = lines.slice(lines.map((l) => l.startsWith('$ ')).lastIndexOf(true) + 1);
    if (commandLines.some((c) => /^cl65 /.test(c))) ctx.skip(spawnSync('cl65', ['--version']).status !== 0, 'SKIPPED: cl65 not installed (apt-get install cc65)');
    const { dir, missing } = folderFor(`transcript-${block.line}`, block.code);
    ctx.skip(missing !== null, missing ?? '');
    // As a terminal shows them: stderr (--stats, --cycles) among the output.
    const r = await runShell(`set -e -o pipefail\nexec 2>&1\n${commandLines.join('\n')}`, dir, undefined, '');
    expect(r.status, `${where(block)}: ${r.out}`).toBe(0);
    if (!expected.length) return; // it shows the commands only
    const pattern = expected.map((l) => (l === '...' ? '[\\s\\S]*?' : steady(l).replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('\n');
    expect(steady(r.out), where(block)).toMatch(new RegExp(`^${pattern}\n$`));
  });

  it.for(commands.map((l) => [l.block.line, l.text, l] as const))('the command at line %i runs as it stands: %s', async ([, text, line], ctx) => {
    const key = Object.keys(BOOTS).find((k) => text.includes(k));
    expect(key, `${where(line.block)}: say in BOOTS what "${text}" shows`).toBeDefined();
    const { dir, missing } = folderFor(`command-${line.block.line}-${key}`, text);
    ctx.skip(missing !== null, missing ?? '');
    if (key === 'tiny.json') tinyMachine(dir);
    const r = await runShell(asShell(text), dir, BOOTS[key!]);
    expect(r.err, text).toBe('');
    if (!r.stopped) expect(r.status, text).toBe(0); // it ended by itself: it read everything and waited for more
    expect(r.out, text).toMatch(BOOTS[key!]);
  });

  it.each(usages.map((l) => [l.block.line, l.text, l] as const))('the usage at line %i names only options the command has: %s', async (_, text) => {
    const { main } = await import('../../src/cli/main.ts');
    const words = text.replace(/^npx hyper6502\s+/, '').split(/\s+/);
    const help = async (argv: string[]) => {
      let stdout = '';
      const code = await main(argv, { stdout: (t) => (stdout += String(t)), stderr: () => {} });
      return { code, stdout };
    };
    const usage = words[0] === 'help' ? await help(['help', 'run']) : await help([words[0], '--help']);
    expect(usage.code).toBe(0);
    expect(usage.stdout).toMatch(/^Usage: hyper6502 /);
    for (const option of text.match(/(?<![\w-])--?[A-Za-z][\w-]*/g) ?? []) expect(usage.stdout, `${words[0]} ${option}`).toContain(option);
  });

  it('each set-up command is one npm runs: npm install, or a script of package.json', () => {
    const scripts = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).scripts;
    expect(setUp.length).toBeGreaterThan(0);
    for (const { text } of setUp) {
      const [, verb, arg] = /^npm (\w+)(?: (.+))?$/.exec(text)!;
      if (verb === 'install') expect([undefined, 'hyper6502']).toContain(arg);
      else expect(Object.keys(scripts), text).toContain(verb === 'run' ? arg : verb);
    }
  });
});
