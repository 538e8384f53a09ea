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
import type { Cpu } from '../../src/core/cpu.ts';
import { opcodeTable, type CpuModel } from '../../src/isa/opcodes.ts';

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

/** The SingleStepTests subsets, and their opcode files: one per documented opcode (the WDC set has no WAI or STP). */
export const HARTE_SETS = [
  { model: '6502', folder: 'harte-6502', count: 151 },
  { model: '65c02', folder: 'harte-wdc65c02', count: 210 },
] as const;

export function harteFiles(model: CpuModel): string[] {
  return opcodeTable(model)
    .filter((info) => !info.undocumented && info.mnemonic !== 'WAI' && info.mnemonic !== 'STP')
    .map((info) => `${info.opcode.toString(16).padStart(2, '0')}.json.gz`);
}

/** Puts a vector's initial state into `cpu` (cycles from 0). */
export function loadHarte(cpu: Cpu, t: HarteTest) {
  const i = t.initial;
  for (const [a, v] of i.ram) cpu.ram[a] = v;
  cpu.pc = i.pc; cpu.s = i.s; cpu.a = i.a; cpu.x = i.x; cpu.y = i.y; cpu.p = i.p;
  cpu.cycles = 0;
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/** How `cpu`, after `cycles`, differs from a vector's final state (registers, memory, cycle count). */
export function harteDiff(cpu: Cpu, t: HarteTest, cycles: number): string[] {
  const f = t.final;
  const out: string[] = [];
  const regs: Array<[string, number, number]> = [
    ['pc', cpu.pc, f.pc], ['s', cpu.s, f.s], ['a', cpu.a, f.a], ['x', cpu.x, f.x], ['y', cpu.y, f.y],
    // B and bit 5 are not stored in the status register: compare the others.
    ['p', cpu.p & 0xcf, f.p & 0xcf],
  ];
  for (const [name, got, want] of regs) if (got !== want) out.push(`${name}=${hex2(got)} want ${hex2(want)}`);
  for (const [a, v] of f.ram) if (cpu.ram[a] !== v) out.push(`ram[${a.toString(16)}]=${hex2(cpu.ram[a])} want ${hex2(v)}`);
  if (cycles !== t.cycles.length) out.push(`cycles=${cycles} want ${t.cycles.length}`);
  return out;
}

/** "$0400" or 1024 -> 1024. */
export function parseAddress(v: string | number): number {
  return typeof v === 'number' ? v : parseInt(v.replace(/^\$/, ''), 16);
}
