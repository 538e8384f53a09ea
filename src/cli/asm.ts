// `hyper6502 asm FILE`: assemble a ca65-style source into a raw binary or a sim65 program.
//
// How to drive this: `await asmCommand(argv, io)` with argv after "asm";
// returns the exit code: 0, or 1 when the source has errors (printed as
// "file:line:col: error: message", one a line). Bad options or an unreadable
// FILE are UsageErrors (one line, exit 2, printed by main).
// `assembleFile(path, options)` is the same assembly for other commands
// (`run FILE.s`: see isAssemblerSource and startAddress).

import { parseArgs } from 'node:util';
import { readFileSync, writeFileSync } from 'node:fs';
import { assemble, type AsmError, type AsmOptions, type AsmResult } from '../asm/assembler.js';
import { formatAsmError, formatSymbols } from '../asm/output.js';
import { parseCpuModel, type CpuModel } from '../isa/opcodes.js';
import { UsageError } from './args.js';
import type { CliIo } from './run.js';

export const ASM_USAGE = `Usage: hyper6502 asm FILE [-o OUT] [options]

Assembles FILE (ca65 syntax) into OUT (default: FILE with .bin or .prg).

Options:
  -o, --output OUT       the output file
  --cpu 6502|65c02       CPU model (default 6502; .setcpu in the source changes it)
  --undocumented         allow the undocumented NMOS opcodes (as .setcpu "6502X")
  --format bin|prg       raw bytes from the lowest address written (default), or a
                         sim65 program (header with load and reset address)
  --listing FILE         write a listing: addresses and bytes beside each line
  --symbols FILE         write the symbols, one "name = $XXXX" a line`;

/** Assemble a source file; .include and .incbin paths are relative to the including file. */
export function assembleFile(path: string, options: Omit<AsmOptions, 'fileName' | 'readFile'> = {}): AsmResult {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${describeFsError(err)}`);
  }
  return assemble(source, { ...options, fileName: path, readFile: (p) => readFileSync(p) });
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

export async function asmCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      output: { type: 'string', short: 'o' },
      cpu: { type: 'string', default: '6502' },
      undocumented: { type: 'boolean', default: false },
      format: { type: 'string', default: 'bin' },
      listing: { type: 'string' },
      symbols: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.stdout(ASM_USAGE + '\n');
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `asm takes one FILE, got ${positionals.length}: ${positionals.join(' ')}` : 'asm needs a FILE to assemble');
  const file = positionals[0];
  const cpu = parseCpuModel(values.cpu, (why) => new UsageError(`--cpu: ${why}`));
  const format = values.format.toLowerCase();
  if (format !== 'bin' && format !== 'prg') throw new UsageError(`--format: unknown format "${values.format}" (use bin or prg)`);
  const output = values.output ?? file.replace(/(\.[^./\\]*)?$/, '.' + format);
  if (output === file) throw new UsageError(`the output ${output} would overwrite the source; name another with -o`);

  const result = assembleFile(file, { cpu: cpu as CpuModel, undocumented: values.undocumented });
  if (values.listing !== undefined) write(values.listing, result.listing);
  if (!result.ok) {
    io.stderr(formatAsmErrors(result.errors));
    return 1;
  }
  write(output, format === 'prg' ? result.toPrg() : result.bytes);
  if (values.symbols !== undefined) write(values.symbols, formatSymbols(result.symbols));
  return 0;
}

function write(path: string, data: string | Uint8Array): void {
  try {
    writeFileSync(path, data);
  } catch (err) {
    throw new UsageError(`cannot write ${path}: ${describeFsError(err)}`);
  }
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file or folder' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
}
