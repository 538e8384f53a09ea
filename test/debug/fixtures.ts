// The debugger tests' programs, built with cc65 (cl65 -g, ld65 --dbgfile and
// -Ln) into a fresh folder each run; tests that need them skip loudly when
// cc65 is missing.
//
// How to drive this: `const dir = buildFixtures()` then `join(dir, 'sum.prg')`
// with sum.dbg and sum.lbl beside it (and the sources, copied).

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const hasCl65 = spawnSync('cl65', ['--version'], { encoding: 'utf8' }).status === 0;
export const cl65SkipReason = 'SKIPPED: cl65 not found on PATH (apt-get install cc65)';
if (!hasCl65) console.warn(cl65SkipReason);

const here = dirname(fileURLToPath(import.meta.url));
let built: string | undefined;

/** Builds sum.c and count.s (once per test file) and returns the folder. */
export function buildFixtures(): string {
  if (built) return built;
  const dir = mkdtempSync(join(tmpdir(), 'hyper6502-debug-'));
  for (const [source, options] of [['sum.c', ['-O']], ['count.s', []]] as const) {
    copyFileSync(join(here, 'fixtures', source), join(dir, source));
    const name = source.replace(/\.[cs]$/, '');
    const r = spawnSync('cl65', ['-t', 'sim6502', '-g', ...options, source, '-o', `${name}.prg`, '-Wl', `--dbgfile,${name}.dbg`, '-Ln', `${name}.lbl`], { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cl65 ${source}: ${r.stderr}`);
  }
  return (built = dir);
}
