// Where the third-party system software of ../shared/guests lives, and how
// tests type a session into it.
//
// How to drive this: `guestsDir()` is the folder (HYPER6502_GUESTS, else
// ../shared/guests next to the repo) or null; `GUESTS` lists the guests the
// tests boot, with their machine and what they must print. Never copy the
// data into the project: it is third-party software, for testing only.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import type { VmSpec } from '../../src/machine/description.ts';

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../..');
export const guestsPath = resolve(process.env.HYPER6502_GUESTS ?? join(repoRoot, '..', 'shared', 'guests'));

/**
 * The guests folder, or null when the tests that need it are to be skipped:
 * it is absent and not required (CI sets HYPER6502_REQUIRE_GUESTS=1, and
 * then those tests run and fail without it).
 */
export function guestsDir(): string | null {
  return existsSync(join(guestsPath, 'README.md')) || process.env.HYPER6502_REQUIRE_GUESTS === '1' ? guestsPath : null;
}

export const guestsSkipReason = `SKIPPED: guest software not found at ${guestsPath} (set HYPER6502_GUESTS to the folder that holds ehbasic/, taliforth2/, apple1/)`;
if (!guestsDir()) console.warn(guestsSkipReason);

export const guestFile = (relative: string) => new Uint8Array(readFileSync(join(guestsPath, relative)));
export const guestText = (relative: string) => readFileSync(join(guestsPath, relative), 'latin1');

export interface Guest {
  name: string;
  /** What boots it: the spec, and the same as `hyper6502 run` arguments (paths inside the guests folder). */
  spec: () => VmSpec;
  cli: string[];
  /** The keys of the session. */
  keys: string;
  /** Checks what the guest printed (as the command line prints it to a file). */
  check: (output: string) => void;
  /** Lines of the session after which it is snapshotted and moved, in the hypervisor test. */
  moveAfter: number;
}

/** The transcript as c65 printed it, for comparing: c65's own cycle counts and its newline at exit set aside. */
export function normalizeTali(text: string): string {
  return text.replace(/CYCLES: +\d+/g, 'CYCLES: n').replace(/\n$/, '');
}

/** Splits typed keys into lines as a person types them: each with its line end. */
export function typedLines(keys: string): string[] {
  return keys.match(/[^\r\n]*(\r\n|\r|\n)|[^\r\n]+$/g) ?? [];
}

export const GUESTS: Guest[] = [
  {
    name: 'EhBASIC 2.22p5 on py65',
    spec: () => ({ machine: 'py65', program: guestFile('ehbasic/ehbasic.bin'), load: 0xc000 }),
    cli: ['--machine', 'py65', '--load', '0xC000', 'ehbasic/ehbasic.bin'],
    keys: 'ehbasic/session.keys',
    check: (out) => {
      if (out !== guestText('ehbasic/reference-c65.txt')) throw new Error(`EhBASIC printed what c65 does not:\n${out}`);
    },
    moveAfter: 5,
  },
  {
    name: 'Tali Forth 2 on py65 (65C02), its own test suite',
    spec: () => ({ machine: 'py65', cpu: '65c02', program: guestFile('taliforth2/taliforth-py65mon.bin'), load: 0x8000 }),
    cli: ['--machine', 'py65', '--cpu', '65c02', '--load', '0x8000', 'taliforth2/taliforth-py65mon.bin'],
    keys: 'taliforth2/alltests.in',
    check: (out) => {
      const want = normalizeTali(guestText('taliforth2/reference-c65.txt'));
      const got = normalizeTali(out);
      if (got !== want) {
        const a = got.split('\n');
        const b = want.split('\n');
        const i = a.findIndex((line, k) => line !== b[k]);
        throw new Error(`Tali Forth 2 differs from its expected results at line ${i + 1}:\n  got:  ${a[i]}\n  want: ${b[i]}`);
      }
    },
    moveAfter: 1500,
  },
  {
    name: 'Woz Monitor and Apple 1 BASIC on apple1',
    spec: () => ({ machine: 'apple1', roms: [{ address: 0xff00, image: guestFile('apple1/wozmon.bin') }], program: guestFile('apple1/a1basic.bin'), load: 0xe000 }),
    cli: ['--machine', 'apple1', '--rom', 'apple1/wozmon.bin@0xFF00', '--load', '0xE000', 'apple1/a1basic.bin'],
    keys: 'apple1/session.keys',
    check: (out) => {
      // The answers ../shared/guests/README.md gives, in order.
      const want = ['\\\n', '0300: A9 C8 20 EF FF 4C 1F FF', 'E000: 4C\n>', ...[1, 2, 3, 4, 5].map((i) => `${i}       ${i * i}\n`), '3 -1 5 -1\n', 'ELL 5\n', '   20 PRINT I,I*I\n   30 NEXT I\n'];
      let at = 0;
      for (const w of want) {
        const i = out.indexOf(w, at);
        if (i < 0) throw new Error(`the Apple 1 session lacks ${JSON.stringify(w)} after offset ${at}:\n${out}`);
        at = i + w.length;
      }
    },
    moveAfter: 6,
  },
];
