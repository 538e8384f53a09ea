// Where the public conformance data lives, and how its tests skip truly without it.
//
// How to drive this: register every data-driven test from a list the project
// holds (opcode tables, file names), never from what the data folder holds,
// and skip it with `skipData`:
//   describe(`Klaus Dormann's tests${skipNote}`, () => {
//     it.skipIf(skipData)('6502_functional_test ...', () => { const bin = readData('klaus/...'); ... });
//   });
// Without the data (HYPER6502_CONFORMANCE, else ../shared/conformance next to
// the repo) each such test reports "skipped", so the count says how many did
// not run. With HYPER6502_REQUIRE_CONFORMANCE=1 (CI) they run and fail
// instead. Never copy the data into the project: it is third-party test data.

import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../..');
const candidate = process.env.HYPER6502_CONFORMANCE ?? join(repoRoot, '..', 'shared', 'conformance');

export const conformancePath = resolve(candidate);

/** The conformance folder, or null when it is absent. */
export function conformanceDir(): string | null {
  return existsSync(join(conformancePath, 'README.md')) ? conformancePath : null;
}

/** Missing data fails the tests instead of skipping them (CI sets this). */
export const dataRequired = process.env.HYPER6502_REQUIRE_CONFORMANCE === '1';

const present = conformanceDir() !== null;

export const skipReason = `SKIPPED: conformance data not found at ${conformancePath} (set HYPER6502_CONFORMANCE to the folder that holds klaus/, suites/, harte-6502/ ...)`;

/** True when the data-driven tests must be skipped (the data is absent and not required). */
export const skipData = !present && !dataRequired;

/** Appended to suite names when they are skipped, so that the report says why. */
export const skipNote = skipData ? ` (${skipReason})` : '';

if (skipData) console.warn(skipReason);

/** Whether a file of the conformance data exists (optional parts of the data). */
export function hasData(relative: string): boolean {
  return existsSync(join(conformancePath, relative));
}

export function readData(relative: string): Uint8Array {
  const path = join(conformancePath, relative);
  if (!existsSync(path)) throw new Error(`conformance data missing: ${path}${present ? '' : ` (${skipReason.replace(/^SKIPPED: /, '')})`}`);
  return readFileSync(path);
}

/** Tom Harte's SingleStepTests vectors of one opcode file (one JSON test per line). */
export interface HarteState {
  pc: number; s: number; a: number; x: number; y: number; p: number;
  ram: Array<[number, number]>;
}
export interface HarteTest {
  name: string;
  initial: HarteState;
  final: HarteState;
  cycles: Array<[number, number, 'read' | 'write']>;
}

export function readHarte(relative: string): HarteTest[] {
  return JSON.parse(gunzipSync(readData(relative)).toString('utf8'));
}

/** "$0400" or 1024 -> 1024. */
export function parseAddress(v: string | number): number {
  return typeof v === 'number' ? v : parseInt(v.replace(/^\$/, ''), 16);
}
