// cc65's own sources through hyper6502 and through ca65 + ld65: its test/asm
// cases (against their .ref binaries and cl65) and the target-independent
// files of its libsrc runtime, byte for byte. Missing sources or cc65 tools
// make these tests skip, saying so; under CI (which fetches the sources) a
// missing corpus is a failure.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { CC65_SRC, cc65Sources, cc65SkipReason, cl65TestAsm, compareLibsrcFile, hyperTestAsm, libsrcFiles, testAsmCases } from './cc65-corpus.ts';
import { ca65SkipReason, hasCa65 } from './ca65.ts';
import { CPU_NAMES } from '../../src/asm/instructions.ts';

const ready = cc65Sources && hasCa65;

describe('the cc65 corpus', () => {
  it.runIf(!!process.env.CI)('is there under CI (.ci/run fetches it with scripts/cc65-sources.sh)', () => {
    expect(cc65Sources, cc65SkipReason).toBe(true);
    expect(hasCa65, ca65SkipReason).toBe(true);
  });
  if (!ready) it.skip(cc65Sources ? ca65SkipReason : cc65SkipReason, () => {});
});

describe.runIf(ready)("cc65's test/asm cases", () => {
  const cases = ready ? testAsmCases() : [];
  const supported = cases.filter((c) => CPU_NAMES.includes(c.cpu.toUpperCase() as (typeof CPU_NAMES)[number]));
  const results: string[] = [];

  it('has them all: opcodes and cpudetect, per CPU', () => {
    expect(cases.length).toBeGreaterThanOrEqual(13);
  });

  it.each(supported.map((c) => [c.name, c] as const))('%s is byte-identical to its .ref and to cl65', (_, c) => {
    const ref = readFileSync(c.ref);
    expect(Buffer.from(cl65TestAsm(c)).equals(ref), 'cl65 itself matches the .ref').toBe(true);
    const ours = Buffer.from(hyperTestAsm(c));
    expect(ours.length).toBe(ref.length);
    expect(ours.equals(ref)).toBe(true);
    results.push(c.name);
  });

  // CPUs this assembler does not have (65816, 4510, HuC6280): counted as not passing, not hidden.
  it.skip.each(cases.filter((c) => !supported.includes(c)).map((c) => [c.name, c.cpu]))('%s (needs a %s, which this assembler lacks)', () => {});

  it('tally', () => {
    console.log(`cc65 test/asm: ${results.length} of ${cases.length} cases byte-identical (${cases.length - supported.length} need CPUs this assembler lacks)`);
    expect(results.length).toBe(supported.length);
  });
});

/** libsrc files that use what this assembler does not have, with the reason. */
const KNOWN_DIFFERENT: Record<string, string> = {
  'common/getcpu.s': 'uses .p816 (65816 instructions)',
};

describe.runIf(ready)("cc65's libsrc runtime", () => {
  const files = ready ? libsrcFiles() : [];
  let identical = 0;

  it('has a large set of files', () => {
    expect(files.length).toBeGreaterThan(400);
  });

  it('each file links to the same bytes as with ca65 + ld65', () => {
    const failures: string[] = [];
    const knownStillDifferent: string[] = [];
    for (const path of files) {
      const name = relative(`${CC65_SRC}/libsrc`, path);
      let same = false;
      let why = '';
      try {
        const { ours, theirs } = compareLibsrcFile(path);
        same = Buffer.from(ours).equals(Buffer.from(theirs));
        if (!same) why = `differs (${ours.length} bytes, ld65 ${theirs.length})`;
      } catch (err) {
        why = (err as Error).message.split('\n')[0];
      }
      if (same) identical++;
      if (KNOWN_DIFFERENT[name]) {
        if (!same) knownStillDifferent.push(name);
        continue;
      }
      if (!same) failures.push(`${name}: ${why}`);
    }
    console.log(`cc65 libsrc: ${identical} of ${files.length} files byte-identical to ca65 + ld65; not: ${Object.entries(KNOWN_DIFFERENT).map(([f, why]) => `${f} (${why})`).join(', ')}`);
    expect(failures).toEqual([]);
    // A known difference that went away should leave the list.
    expect(knownStillDifferent).toEqual(Object.keys(KNOWN_DIFFERENT));
  }, 300_000);
});
