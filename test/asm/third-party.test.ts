// Public ca65 projects, measured when a checkout is given (opt-in; nothing of
// them is in the repository): each build through ca65 + ld65 and through
// hyper6502 asm + link, compared byte for byte, label file and map file too.
//
//   HYPER6502_MSBASIC=/path/to/msbasic npx vitest run test/asm/third-party.test.ts
//
// Origin: github.com/mist64/msbasic at ef822f46cd20b08d90a78805e29b66bd15d553ac
// (Microsoft BASIC for 6502, nine targets) or its fork github.com/beneater/msbasic
// at f41cac4b064fa7c0bd20c8c33387b2a1c32a8da1 (ten, with Ben Eater's), built as
// their make.sh does: `ca65 -D TARGET msbasic.s`, `ld65 -C TARGET.cfg ... -Ln`;
// the targets are read from make.sh. Results: THIRD-PARTY.md.
import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { main } from '../../src/cli/main.ts';
import { hasCa65 } from './ca65.ts';

const MSBASIC = process.env.HYPER6502_MSBASIC;
const present = !!MSBASIC && existsSync(join(MSBASIC, 'msbasic.s'));
if (!present) console.warn('SKIPPED (opt-in): set HYPER6502_MSBASIC to a checkout of mist64/msbasic (ef822f4) to compare its builds with ca65 + ld65');

/** The targets make.sh builds: "for i in cbmbasic1 cbmbasic2 ...; do". */
const TARGETS = present ? (/for i in ([^;]*);/.exec(readFileSync(join(MSBASIC!, 'make.sh'), 'utf8'))?.[1].trim().split(/\s+/) ?? []) : [];

async function hyper(argv: string[]): Promise<string> {
  let err = '';
  const code = await main(argv, { stdout: () => {}, stderr: (t) => void (err += t) });
  if (code !== 0) throw new Error(`hyper6502 ${argv.join(' ')}: exit ${code}\n${err}`);
  return err;
}

describe.runIf(present && hasCa65)('mist64/msbasic', () => {
  const out = present ? mkdtempSync(join(tmpdir(), 'hyper6502-msbasic-')) : '';
  it.each(TARGETS)('%s: binary, label file and map file as ld65 writes them', async (target) => {
    const cwd = process.cwd();
    process.chdir(MSBASIC!);
    try {
      const ref = join(out, `ref-${target}`);
      const ours = join(out, `ours-${target}`);
      for (const [cmd, args] of [
        ['ca65', ['-D', target, 'msbasic.s', '-o', `${ref}.o`]],
        ['ld65', ['-C', `${target}.cfg`, `${ref}.o`, '-o', `${ref}.bin`, '-Ln', `${ref}.lbl`, '-m', `${ref}.map`]],
      ] as const) {
        const r = spawnSync(cmd, args, { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
      }
      await hyper(['asm', '-D', target, 'msbasic.s', '-o', `${ours}.o`]);
      await hyper(['link', '-C', `${target}.cfg`, `${ours}.o`, '-o', `${ours}.bin`, '-Ln', `${ours}.lbl`, '-m', `${ours}.map`]);
      expect(readFileSync(`${ours}.bin`).equals(readFileSync(`${ref}.bin`))).toBe(true);
      expect(readFileSync(`${ours}.lbl`, 'utf8')).toBe(readFileSync(`${ref}.lbl`, 'utf8'));
      // The map names the object files; ours are named like ld65's (ours-X.o vs ref-X.o).
      expect(readFileSync(`${ours}.map`, 'utf8').replaceAll(`ours-${target}.o`, 'X.o')).toBe(readFileSync(`${ref}.map`, 'utf8').replaceAll(`ref-${target}.o`, 'X.o'));
    } finally {
      process.chdir(cwd);
    }
  }, 60_000);
});
