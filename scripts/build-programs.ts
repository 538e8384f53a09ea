// Builds the cc65 test programs (test/programs/*.prg) and records what sim65
// does with them (test/programs/expected.json).
//
// How to drive this: `npm run build:programs` (needs cc65: `apt-get install
// cc65`); `npm run check:programs` (part of `npm test`) rebuilds them in a
// temporary folder and fails when a committed .prg or a recorded result is not
// what cc65 and sim65 give now; without cc65 it says so and checks nothing.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROGRAMS } from '../test/programs/programs.ts';

const dir = fileURLToPath(new URL('../test/programs/', import.meta.url));
const check = process.argv.includes('--check');

function have(tool: string): boolean {
  return spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0 || spawnSync('which', [tool], { stdio: 'ignore' }).status === 0;
}

if (!have('cl65') || !have('sim65')) {
  console.log(`SKIPPED: cc65 is not installed (cl65 and sim65 are needed to ${check ? 'check' : 'build'} test/programs; apt-get install cc65)`);
  process.exit(check ? 0 : 1);
}

const work = mkdtempSync(join(tmpdir(), 'hyper6502-programs-'));
const expected: Record<string, { stdout: string; exitCode: number; cycles: number }> = {};
const stale: string[] = [];
try {
  for (const p of PROGRAMS) {
    const out = join(work, `${p.name}.prg`);
    copyFileSync(join(dir, p.source), join(work, p.source));
    execFileSync('cl65', ['-t', p.target, '-O', '-o', out, p.source], { cwd: work, stdio: 'inherit' });
    const built = readFileSync(out);
    const committed = join(dir, `${p.name}.prg`);
    if (check) {
      if (!existsSync(committed) || !readFileSync(committed).equals(built)) stale.push(`${p.name}.prg`);
    } else {
      writeFileSync(committed, built);
    }
    if (p.sim65 === false) continue;
    const cwd = mkdtempSync(join(work, `${p.name}-run-`));
    const run = spawnSync('sim65', ['-c', out, ...(p.args ?? [])], { cwd, input: p.stdin ?? '', encoding: 'latin1' });
    // sim65 -c prints "N cycles" on stdout after the program's own output.
    const m = /(\d+) cycles\n$/.exec(run.stdout);
    if (!m) throw new Error(`sim65 printed no cycle count for ${p.name}: ${run.stderr}`);
    expected[p.name] = { stdout: run.stdout.slice(0, m.index), exitCode: run.status ?? -1, cycles: Number(m[1]) };
  }
  const json = JSON.stringify({ generatedBy: 'scripts/build-programs.ts (cl65 -O and sim65 -c of the Debian cc65 package)', programs: expected }, null, 2) + '\n';
  const expectedPath = join(dir, 'expected.json');
  if (check) {
    if (!existsSync(expectedPath) || readFileSync(expectedPath, 'utf8') !== json) stale.push('expected.json');
    if (stale.length) {
      console.error(`test/programs is out of date (${stale.join(', ')}): run \`npm run build:programs\` and commit the result.`);
      process.exit(1);
    }
    console.log(`test/programs is current (${PROGRAMS.length} programs)`);
  } else {
    writeFileSync(expectedPath, json);
    console.log(`built ${PROGRAMS.length} programs into test/programs`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
