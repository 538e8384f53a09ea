// Builds the hello example from examples/hello.c with cc65 (Debian's 2.19):
// hello.prg, hello.s (the assembly cc65 makes of the C), hello.dbg (ld65's
// debug info: which bytes come from which line of hello.c and of hello.s, the
// C functions and their locals) and hello.lbl (ld65's label file: the names
// of the library's routines too), which the demo page's debugger reads.
//
// How to drive this: `npx tsx scripts/build-hello.ts` writes the three files
// into examples/ (commit them); `--check` builds them in a temporary folder
// and fails, naming them, when a committed one is not what cc65 makes now
// (test/examples/examples.test.ts runs `staleHelloFiles` the same way). cl65 -O
// makes the same hello.prg; the steps are taken one by one here so that
// hello.s is kept, and with fixed file times, which ld65 writes into the
// debug info, so that a rebuild gives the same bytes.

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const examples = fileURLToPath(new URL('../examples/', import.meta.url));

/** The files this script makes, in examples/. */
export const HELLO_FILES = ['hello.prg', 'hello.s', 'hello.dbg', 'hello.lbl'] as const;

/** The time the sources are given (2000-01-01): ld65 writes it into hello.dbg. */
const SOURCE_TIME = 946_684_800;

const HEADER = '; hello.s: made from hello.c by scripts/build-hello.ts (cc65 -t sim6502 -O -g): edit hello.c and run the script, not this file.\n';

/** Builds HELLO_FILES from examples/hello.c into `dir`; throws with cc65's message when a step fails. */
export function buildHello(dir: string) {
  const run = (tool: string, args: string[]) => execFileSync(tool, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  copyFileSync(join(examples, 'hello.c'), join(dir, 'hello.c'));
  utimesSync(join(dir, 'hello.c'), SOURCE_TIME, SOURCE_TIME);
  run('cc65', ['-t', 'sim6502', '-O', '-g', 'hello.c', '-o', 'hello.s']);
  writeFileSync(join(dir, 'hello.s'), HEADER + readFileSync(join(dir, 'hello.s'), 'utf8'));
  utimesSync(join(dir, 'hello.s'), SOURCE_TIME, SOURCE_TIME);
  run('ca65', ['-t', 'sim6502', '-g', 'hello.s', '-o', 'hello.o']);
  run('ld65', ['-t', 'sim6502', '-o', 'hello.prg', '--dbgfile', 'hello.dbg', '-Ln', 'hello.lbl', 'hello.o', 'sim6502.lib']);
}

/** The committed files that differ from a fresh build. */
export function staleHelloFiles(): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'hyper6502-hello-'));
  try {
    buildHello(dir);
    return HELLO_FILES.filter((f) => {
      try {
        return !readFileSync(join(examples, f)).equals(readFileSync(join(dir, f)));
      } catch {
        return true;
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--check')) {
    const stale = staleHelloFiles();
    if (stale.length) {
      console.error(`examples/ is out of date (${stale.join(', ')}): run \`npx tsx scripts/build-hello.ts\` and commit the result.`);
      process.exit(1);
    }
    console.log(`examples/${HELLO_FILES.join(', ')} are current`);
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'hyper6502-hello-'));
    try {
      buildHello(dir);
      for (const f of HELLO_FILES) copyFileSync(join(dir, f), join(examples, f));
      console.log(`built examples/${HELLO_FILES.join(', ')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
