// ca65 and ld65 (Debian's cc65 package) as the reference assembler, and sim65
// as the reference runner of sim65 programs. Tests that need them skip loudly
// without them.
//
// How to drive this: `if (hasCa65) ca65Bytes(source)` gives the raw bytes
// ca65 + ld65 make of a one-file source that starts with `.org`.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function runs(command: string, ...args: string[]): boolean {
  return spawnSync(command, args, { encoding: 'utf8' }).status === 0;
}

export const hasCa65 = runs('ca65', '--version') && runs('ld65', '--version');
export const hasSim65 = hasCa65 && spawnSync('sim65', [], { encoding: 'utf8' }).error === undefined;

export const ca65SkipReason = 'SKIPPED: ca65/ld65 not found on PATH (apt-get install cc65)';
export const sim65SkipReason = 'SKIPPED: sim65 not found on PATH (apt-get install cc65)';
if (!hasCa65) console.warn(ca65SkipReason);
else if (!hasSim65) console.warn(sim65SkipReason);

/** One memory area from $0000 written whole to the output file; the source's .org places the code. */
const LINKER_CONFIG = `MEMORY { RAM: start = $0000, size = $10000, file = %O; }
SEGMENTS { CODE: load = RAM, type = rw; }
`;

const dir = hasCa65 ? mkdtempSync(join(tmpdir(), 'hyper6502-ca65-')) : '';
let serial = 0;

/** ca65 then ld65 on `source`; throws with their messages when they fail. */
export function ca65Bytes(source: string): Uint8Array {
  const base = join(dir, `t${serial++}`);
  writeFileSync(`${base}.s`, source);
  writeFileSync(join(dir, 'raw.cfg'), LINKER_CONFIG);
  for (const [command, args] of [
    ['ca65', ['-o', `${base}.o`, `${base}.s`]],
    ['ld65', ['-C', join(dir, 'raw.cfg'), '-o', `${base}.bin`, `${base}.o`]],
  ] as const) {
    const r = spawnSync(command, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${command} failed:\n${r.stderr}`);
  }
  return readFileSync(`${base}.bin`);
}

/** Run a sim65 program; sim65's exit code is the program's (A at `jmp $FFF9`). */
export function sim65(program: Uint8Array): { status: number | null; output: string } {
  const path = join(dir, `p${serial++}.prg`);
  writeFileSync(path, program);
  const r = spawnSync('sim65', [path], { encoding: 'utf8' });
  return { status: r.status, output: r.stdout + r.stderr };
}

/** What a project builds to: the binary (and other output files), the label file and the map file. */
export interface Build {
  files: Record<string, Uint8Array>;
  labels: string;
  map: string;
}

/**
 * ca65 on each source (with `args`), then ld65 with `config` on the objects in
 * order; the sources may .include each other by name.
 */
export function ld65Build(sources: Record<string, string>, config: string, args: string[] = []): Build {
  const base = join(dir, `p${serial++}`);
  mkdirSync(base);
  for (const [name, text] of Object.entries(sources)) writeFileSync(join(base, name), text);
  writeFileSync(join(base, 'link.cfg'), config);
  const objects: string[] = [];
  for (const name of Object.keys(sources).filter((n) => n.endsWith('.s'))) {
    const r = spawnSync('ca65', [...args, name, '-o', name.replace(/\.s$/, '.o')], { cwd: base, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ca65 failed:\n${r.stderr}`);
    objects.push(name.replace(/\.s$/, '.o'));
  }
  const r = spawnSync('ld65', ['-C', 'link.cfg', '-o', 'out.bin', '-Ln', 'out.lbl', '-m', 'out.map', ...objects], { cwd: base, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ld65 failed:\n${r.stderr}`);
  const files: Record<string, Uint8Array> = {};
  for (const f of readdirSync(base)) if (!/\.(s|inc|o|cfg|lbl|map)$/.test(f)) files[f] = readFileSync(join(base, f));
  return { files, labels: readFileSync(join(base, 'out.lbl'), 'utf8'), map: readFileSync(join(base, 'out.map'), 'utf8') };
}
