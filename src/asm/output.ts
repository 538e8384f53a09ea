// What the assembler writes besides raw bytes: sim65 programs, listings, symbol files, error lines.
//
// How to drive this:
//   sim65Program(bytes, 0x0200, '65c02')      // 12-byte sim65 header + bytes
//   formatListing(lines)                       // "0200  A9 05        lda #5"
//   formatSymbols(symbols)                     // "main = $0200" per line
//   formatAsmError(error)                      // "prog.s:3:5: error: ..." (+ "note:" lines for macros)

import type { CpuModel } from '../isa/opcodes.js';

export interface AsmError {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  message: string;
  /** Inside macros or .repeat: where each expansion was called, innermost first. */
  notes?: Note[];
}

/** A line that explains an error: "in expansion of macro 'm'" at the call. */
export interface Note {
  file: string;
  line: number;
  column: number;
  message: string;
  /** The file's index in the object module's files, and which expansion this is (for debug info). */
  fileIndex?: number;
  expansion?: number;
}

/** One source line as the listing shows it. */
export interface ListingLine {
  file: string;
  line: number;
  text: string;
  /** The program counter at the line; undefined in a skipped .if branch. */
  address?: number;
  /** Where the line's bytes went: the segment, the offset in it, how many. */
  segment?: string;
  offset?: number;
  size?: number;
  /** Filled in when the listing is made. */
  bytes?: number[];
  errors?: string[];
}

/** "file:line:col: error: message", then a "note:" line for each macro expansion it is inside. */
export function formatAsmError(e: AsmError): string {
  return formatDiagnostic(e, 'error');
}

export function formatAsmWarning(e: AsmError): string {
  return formatDiagnostic(e, 'warning');
}

const MAX_NOTES = 10;

function formatDiagnostic(e: AsmError, kind: 'error' | 'warning'): string {
  let text = `${e.file}:${e.line}:${e.column}: ${kind}: ${e.message}`;
  const notes = e.notes ?? [];
  // A deep recursion shows its first and last expansions.
  const shown = notes.length > MAX_NOTES ? [...notes.slice(0, MAX_NOTES / 2), undefined, ...notes.slice(-MAX_NOTES / 2)] : notes;
  for (const n of shown) {
    text += n ? `\n${n.file}:${n.line}:${n.column}: note: ${n.message}` : `\n... ${notes.length - MAX_NOTES} more expansions ...`;
  }
  return text;
}

const BYTES_PER_ROW = 4;
/** Longer data (a .res, an .incbin) shows this many bytes, then how many more. */
const MAX_ROWS = 4;
const hex = (n: number, digits: number) => n.toString(16).toUpperCase().padStart(digits, '0');

/** Address, up to four bytes, then the source line; longer data continues on rows of its own. */
export function formatListing(lines: readonly ListingLine[]): string {
  const out: string[] = [];
  for (const l of lines) {
    const bytes = l.bytes ?? [];
    const address = l.address === undefined ? '    ' : hex(l.address, 4);
    const row = (i: number) => bytes.slice(i, i + BYTES_PER_ROW).map((b) => hex(b, 2)).join(' ').padEnd(BYTES_PER_ROW * 3 - 1);
    out.push(`${address}  ${row(0)}  ${l.text}`.trimEnd());
    for (let i = BYTES_PER_ROW; i < bytes.length; i += BYTES_PER_ROW) {
      const rowAddress = hex((l.address! + i) & 0xffff, 4);
      if (i === MAX_ROWS * BYTES_PER_ROW) {
        out.push(`${rowAddress}  ... ${bytes.length - i} more bytes`);
        break;
      }
      out.push(`${rowAddress}  ${row(i)}`.trimEnd());
    }
    for (const e of l.errors ?? []) out.push(`*** error: ${e}`);
  }
  return out.join('\n') + '\n';
}

/** "name = $XXXX", one symbol a line, in definition order. */
export function formatSymbols(symbols: Readonly<Record<string, number>>): string {
  let text = '';
  for (const [name, value] of Object.entries(symbols)) text += `${name} = ${value < 0 ? value : '$' + hex(value, value > 0xffff ? 8 : 4)}\n`;
  return text;
}

/**
 * A program for cc65's sim65: "sim65", version 2, the CPU (0 6502, 1 65C02),
 * the zero-page address of the C stack pointer (0 here), the load address and
 * the reset address (little-endian words), then the bytes.
 */
export function sim65Program(bytes: Uint8Array, load: number, cpu: CpuModel, reset = load): Uint8Array {
  const header = [0x73, 0x69, 0x6d, 0x36, 0x35, 2, cpu === '65c02' ? 1 : 0, 0, load & 0xff, load >> 8, reset & 0xff, reset >> 8];
  const out = new Uint8Array(header.length + bytes.length);
  out.set(header);
  out.set(bytes, header.length);
  return out;
}
