// `hyper6502 asm FILE`: assemble a ca65 source into an object file for
// `hyper6502 link`, or in one step into a raw binary or a sim65 program.
//
// How to drive this: `await asmCommand(argv, io)` with argv after "asm";
// returns the exit code: 0, or 1 when the source has errors (printed as
// "file:line:col: error: message", one a line, with a "note:" line for each
// macro expansion). Bad options or an unreadable FILE are UsageErrors (one
// line, exit 2, printed by main). `assembleFile(path, options)` is the same
// assembly for other commands (`run FILE.s`: see isAssemblerSource and
// startAddress). `readSourceFile` is the file reader both give the assembler:
// it refuses what is not a regular file, or is too big, before reading it.

import { closeSync, constants, fstatSync, openSync, statSync, writeFileSync } from 'node:fs';
import { readAtMost } from '../node/files.js';
import { assemble, type AsmError, type AsmOptions, type AsmResult } from '../asm/assembler.js';
import { formatAsmError, formatAsmWarning, formatSymbols } from '../asm/output.js';
import { writeObject } from '../asm/object.js';
import { CPU_NAMES } from '../asm/instructions.js';
import { UsageError, parseNumber, parseOptions } from './args.js';
import type { CliIo } from './run.js';

export const ASM_USAGE = `Usage: hyper6502 asm FILE [-o OUT] [options]

Assembles FILE (ca65 syntax). With -o FILE.o (or --format obj) it writes an
object file for \`hyper6502 link\`; otherwise it links the one file itself into
a raw binary or a sim65 program (default OUT: FILE with .bin or .prg).

Options:
  -o, --output OUT       the output file
  -D NAME[=VALUE]        define a symbol (VALUE: 1024, $400 or 0x400; default 0, as ca65)
  -I DIR                 look for .include and .incbin files in DIR too
  --cpu CPU              6502, 6502X, 65SC02 or 65C02 (default 6502; .setcpu changes it)
  --undocumented         allow the undocumented NMOS opcodes (as --cpu 6502X)
  -g, --debug-info       keep line and symbol information for link --dbgfile and -Ln
  --format bin|prg|obj   raw bytes from the lowest address written (default), a
                         sim65 program, or an object file (the default for -o X.o)
  --dialect ca65|easy6502  easy6502: the tutorial's syntax (define, dcb), code at $0600
  --listing FILE         write a listing: addresses and bytes beside each line
  --symbols FILE         write the symbols, one "name = $XXXX" a line
  -h, --help             this text

FILE and what it includes are read only if each is a regular file of at most
16 MiB: a device, a pipe or a bigger file is refused before it is read.`;

/** The largest file .include or .incbin reads. */
export const MAX_SOURCE_BYTES = 16 << 20;

/**
 * Reads a file for the assembler, refusing a device, a pipe, a folder or one
 * over maxBytes before reading it (checked on the open descriptor, which is
 * opened non-blocking so that a FIFO is not waited on). A missing file throws
 * with code ENOENT, as the assembler's include search wants.
 */
export function readSourceFile(path: string, maxBytes = MAX_SOURCE_BYTES): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = fstatSync(fd);
    if (info.isDirectory()) throw Object.assign(new Error(`${path} is a directory`), { code: 'EISDIR' });
    if (!info.isFile()) throw new Error(`${path} is not a regular file (a device or a pipe has no end to read to)`);
    if (info.size > maxBytes) throw new Error(`${path} is ${info.size} bytes, more than the ${maxBytes} a source may read`);
    const bytes = readAtMost(fd, info.size, maxBytes);
    if (!bytes) throw new Error(`${path} is more than the ${maxBytes} bytes a source may read`);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  } finally {
    closeSync(fd);
  }
}

function fileInfo(path: string): { size: number; mtime: number } | undefined {
  try {
    const s = statSync(path);
    return { size: s.size, mtime: Math.floor(s.mtimeMs / 1000) };
  } catch {
    return undefined;
  }
}

/** Assemble a source file; .include and .incbin paths are relative to the including file, then the -I folders. */
export function assembleFile(path: string, options: Omit<AsmOptions, 'fileName' | 'readFile'> = {}): AsmResult {
  let source: string;
  try {
    source = readSourceFile(path).toString('utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${describeFsError(err)}`);
  }
  return assemble(source, { ...options, fileName: path, readFile: (p, max) => readSourceFile(p, max), fileInfo });
}

/** Is FILE assembler source (by its extension: .s, .asm, .a65)? */
export function isAssemblerSource(path: string): boolean {
  return /\.(s|asm|a65)$/i.test(path);
}

/** Where an assembled program starts: the reset vector when it writes $FFFC-$FFFD, else its first byte. */
export function startAddress(program: AsmResult): number {
  const vector = 0xfffc - program.origin;
  if (vector < 0 || vector + 1 >= program.bytes.length) return program.origin;
  return program.bytes[vector] | (program.bytes[vector + 1] << 8);
}

/** The errors as "file:line:col: error: message" lines. */
export function formatAsmErrors(errors: readonly AsmError[]): string {
  return errors.map((e) => formatAsmError(e) + '\n').join('');
}

/** -D NAME[=VALUE] options to symbols. */
export function parseDefines(list: readonly string[]): Record<string, number> {
  const defines: Record<string, number> = {};
  for (const d of list) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(d);
    if (!m) throw new UsageError(`-D ${d}: expected NAME or NAME=VALUE`);
    defines[m[1]] = m[2] === undefined ? 0 : parseNumber(m[2], `-D ${m[1]}`, 0xffffffff) | 0; // ca65: no value is 0
  }
  return defines;
}

export async function asmCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions('asm', argv, {
    output: { type: 'string', short: 'o' },
    define: { type: 'string', short: 'D', multiple: true, default: [] },
    include: { type: 'string', short: 'I', multiple: true, default: [] },
    cpu: { type: 'string', default: '6502' },
    undocumented: { type: 'boolean', default: false },
    'debug-info': { type: 'boolean', short: 'g', default: false },
    format: { type: 'string' },
    dialect: { type: 'string', default: 'ca65' },
    listing: { type: 'string' },
    symbols: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    io.stdout(ASM_USAGE + '\n');
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `asm takes one FILE, got ${positionals.length}: ${positionals.join(' ')}` : 'asm needs a FILE to assemble');
  const file = positionals[0];
  const cpu = values.cpu.toUpperCase();
  if (!CPU_NAMES.includes(cpu as (typeof CPU_NAMES)[number])) throw new UsageError(`--cpu: unknown CPU "${values.cpu}" (use ${CPU_NAMES.join(', ')})`);
  const format = (values.format ?? (values.output && /\.o$/i.test(values.output) ? 'obj' : 'bin')).toLowerCase();
  if (format !== 'bin' && format !== 'prg' && format !== 'obj') throw new UsageError(`--format: unknown format "${values.format}" (use bin, prg or obj)`);
  const dialect = values.dialect.toLowerCase();
  if (dialect !== 'ca65' && dialect !== 'easy6502') throw new UsageError(`--dialect: unknown dialect "${values.dialect}" (use ca65 or easy6502)`);
  const output = values.output ?? file.replace(/(\.[^./\\]*)?$/, '.' + (format === 'obj' ? 'o' : format));
  if (output === file) throw new UsageError(`the output ${output} would overwrite the source; name another with -o`);

  const result = assembleFile(file, {
    cpu, undocumented: values.undocumented, defines: parseDefines(values.define), includeDirs: values.include,
    debugInfo: values['debug-info'], dialect,
  });
  if (values.listing !== undefined) write(values.listing, result.listing);
  io.stderr(result.warnings.map((w) => (w.column ? formatAsmWarning(w) : w.message) + '\n').join(''));
  // An object file keeps its imports for the linker; the one-step image must resolve everything.
  const errors = format === 'obj' ? result.errors.filter((e) => !result.imageErrors.includes(e)) : result.errors;
  if (errors.length) {
    io.stderr(formatAsmErrors(errors));
    return 1;
  }
  write(output, format === 'obj' ? writeObject(result.object) : format === 'prg' ? result.toPrg() : result.bytes);
  if (values.symbols !== undefined) write(values.symbols, formatSymbols(result.symbols));
  return 0;
}

export function write(path: string, data: string | Uint8Array): void {
  try {
    writeFileSync(path, data);
  } catch (err) {
    throw new UsageError(`cannot write ${path}: ${describeFsError(err)}`);
  }
}

export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file or folder' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
}
