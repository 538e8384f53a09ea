// Where the public conformance data lives, and how tests skip loudly without it.
//
// How to drive this: `const data = conformanceDir()` is the folder
// (HYPER6502_CONFORMANCE, else ../shared/conformance next to the repo) or
// null; `skipReason` says why tests were skipped. Never copy the data into
// the project: it is third-party test data.

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

export const skipReason = `SKIPPED: conformance data not found at ${conformancePath} (set HYPER6502_CONFORMANCE to the folder that holds klaus/, suites/, harte-6502/ ...)`;

if (!conformanceDir()) console.warn(skipReason);

export function readData(relative: string): Uint8Array {
  return readFileSync(join(conformancePath, relative));
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
  return JSON.parse(gunzipSync(readFileSync(join(conformancePath, relative))).toString('utf8'));
}

/** "$0400" or 1024 -> 1024. */
export function parseAddress(v: string | number): number {
  return typeof v === 'number' ? v : parseInt(v.replace(/^\$/, ''), 16);
}
