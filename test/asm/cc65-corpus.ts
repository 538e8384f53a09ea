// cc65's own sources as a third-party corpus: its test/asm cases and its
// libsrc runtime, assembled and linked by ca65 + ld65 and by hyper6502, byte
// for byte. The sources come from Debian's cc65 source package
// (scripts/cc65-sources.sh) into $HYPER6502_CC65_SRC; nothing of them is in
// the repository.
//
// How to drive this: `if (cc65Sources) compareLibsrcFile(path)` gives both
// linkings' bytes; `testAsmCases()` lists cc65's test/asm cases.

import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { assemble, type AsmResult } from '../../src/asm/assembler.ts';
import { link } from '../../src/asm/linker.ts';
import { parseLinkerConfig } from '../../src/asm/ldconfig.ts';
import { readSourceFile } from '../../src/cli/asm.ts';
import { hasCa65 } from './ca65.ts';

export const CC65_SRC = process.env.HYPER6502_CC65_SRC ?? join(tmpdir(), 'hyper6502-cc65-src');
export const cc65Sources = existsSync(join(CC65_SRC, 'test/asm/cpudetect.s')) && existsSync(join(CC65_SRC, 'libsrc/runtime'));
export const cc65SkipReason = `SKIPPED: cc65's sources are not in ${CC65_SRC} (bash scripts/cc65-sources.sh fetches them; HYPER6502_CC65_SRC moves them)`;
if (!cc65Sources) console.warn(cc65SkipReason);

const dir = hasCa65 ? mkdtempSync(join(tmpdir(), 'hyper6502-cc65-corpus-')) : '';
let serial = 0;

function run(command: string, args: string[]): void {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${r.stderr}${r.stdout}`);
}

export function assembleWith(path: string, options: { cpu?: string; defines?: Record<string, number>; includeDirs?: string[] } = {}): AsmResult {
  return assemble(readFileSync(path, 'utf8'), { fileName: path, readFile: (p, max) => readSourceFile(p, max), ...options });
}

/** A test/asm case: a source, the CPU it is assembled for, and the reference binary. */
export interface TestAsmCase {
  name: string;
  source: string;
  cpu: string;
  ref: string;
}

/** cc65's test/asm cases, as its Makefile makes them: each X-opcodes.ref from X-opcodes.s, each X-cpudetect.ref from cpudetect.s. */
export function testAsmCases(): TestAsmCase[] {
  const folder = join(CC65_SRC, 'test/asm');
  const cases: TestAsmCase[] = [];
  for (const f of readdirSync(folder).sort()) {
    const m = /^(.*)-(opcodes|cpudetect)\.ref$/.exec(f);
    if (!m) continue;
    cases.push({ name: f.replace(/\.ref$/, ''), source: join(folder, m[2] === 'opcodes' ? `${m[1]}-opcodes.s` : 'cpudetect.s'), cpu: m[1], ref: join(folder, f) });
  }
  return cases;
}

/** A test/asm case through hyper6502: assembled for its CPU, linked with cc65's none.cfg (what `cl65 -t none` uses). */
export function hyperTestAsm(c: TestAsmCase): Uint8Array {
  const program = assembleWith(c.source, { cpu: c.cpu });
  if (program.errors.length - program.imageErrors.length > 0) throw new Error(program.errors.map((e) => `${e.file}:${e.line}: ${e.message}`).join('\n'));
  const cfg = join(CC65_SRC, 'cfg/none.cfg');
  const result = link([program.object], parseLinkerConfig(readFileSync(cfg, 'utf8'), cfg), { output: 'out.bin' });
  if (result.errors.length) throw new Error(result.errors.join('\n'));
  return result.files.get('out.bin')!;
}

/** The same case through cl65, as cc65's own Makefile runs it. */
export function cl65TestAsm(c: TestAsmCase): Uint8Array {
  const out = join(dir, `t${serial++}.bin`);
  run('cl65', ['--cpu', c.cpu, '-t', 'none', '-o', out, c.source]);
  return readFileSync(out);
}

/** The folders of libsrc whose files are not tied to one target. */
export const LIBSRC_FOLDERS = ['runtime', 'common', 'sim6502', 'conio', 'em', 'joystick', 'mouse', 'serial', 'tgi', 'zlib', 'dbg'];

export function libsrcFiles(): string[] {
  const files: string[] = [];
  for (const folder of LIBSRC_FOLDERS) {
    const path = join(CC65_SRC, 'libsrc', folder);
    if (!existsSync(path)) continue;
    for (const f of readdirSync(path).sort()) if (f.endsWith('.s')) files.push(join(path, f));
  }
  return files;
}

/**
 * One libsrc file, assembled as for the sim6502 target, linked with a stub
 * module that gives each import a distinct value: [ld65's bytes, ours].
 */
export function compareLibsrcFile(path: string): { ours: Uint8Array; theirs: Uint8Array } {
  const options = { cpu: '6502', defines: { __SIM6502__: 1 }, includeDirs: [join(CC65_SRC, 'asminc')] };
  const program = assembleWith(path, options);
  const own = program.errors.filter((e) => !program.imageErrors.includes(e));
  if (own.length) throw new Error(own.map((e) => `${e.file}:${e.line}:${e.column}: ${e.message}`).join('\n'));
  // Zero-page imports two bytes apart in name order (ptr3 then ptr4, as cc65's zeropage.s has them).
  let stub = '';
  const zp = program.object.imports.filter((i) => i.addrSize === 'zeropage').map((i) => i.name).sort();
  zp.forEach((name, i) => (stub += `.exportzp ${name} = $${(0x80 + ((2 * i) % 0x78)).toString(16)}\n`));
  program.object.imports.filter((i) => i.addrSize !== 'zeropage').forEach((imp, i) => (stub += `.export ${imp.name} = $${(0x4000 + 16 * i).toString(16)}\n`));
  const segments = program.object.segments.map((s) => s.name);
  const cfg = `MEMORY {
  ZP: start = $0000, size = $0100, type = rw, file = "";
  MAIN: start = $1000, size = $E000, type = rw, file = %O, fillval = $A5;
}
SEGMENTS {
${segments.map((s) => `  ${s}: load = ${s === 'ZEROPAGE' || s === 'EXTZP' ? 'ZP, type = zp' : 'MAIN, type = rw'}, optional = yes;`).join('\n')}
}
`;
  const base = join(dir, `${basename(path, '.s')}-${serial++}`);
  writeFileSync(`${base}.cfg`, cfg);
  writeFileSync(`${base}-stub.s`, stub);
  run('ca65', ['-t', 'sim6502', '-I', join(CC65_SRC, 'asminc'), '-o', `${base}.o`, path]);
  run('ca65', ['-o', `${base}-stub.o`, `${base}-stub.s`]);
  run('ld65', ['-C', `${base}.cfg`, '-o', `${base}.bin`, `${base}.o`, `${base}-stub.o`]);
  const theirs = readFileSync(`${base}.bin`);
  const stubProgram = assemble(stub, { fileName: `${base}-stub.s` });
  const result = link([program.object, stubProgram.object], parseLinkerConfig(cfg, `${base}.cfg`), { output: 'out.bin' });
  if (result.errors.length) throw new Error(result.errors.join('\n'));
  return { ours: result.files.get('out.bin') ?? new Uint8Array(0), theirs };
}
