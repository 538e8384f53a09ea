// Object files: what `hyper6502 asm FILE -o FILE.o` writes and `hyper6502 link` reads.
//
// How to drive this:
//   const text = writeObject(program.object);     // JSON, one module
//   const module = readObject(text, 'main.o');    // checks the format; throws ObjectError naming the problem
//
// A module holds its segments (bytes, alignment, address size) with the
// fixups the linker patches in (an expression over segment starts and
// imports, a size, a range check), its imports and exports, its assertions,
// its source files and, for debug info, its line spans, scopes and symbols.

import type { LinkExpr } from './expression.js';

export const OBJECT_FORMAT = 'hyper6502-object';
export const OBJECT_VERSION = 1;

/** Address sizes, as ca65 counts them. */
export type AddrSize = 'zeropage' | 'absolute' | 'far';

/** Where something was written: index into `files`, 1-based line and column. */
export type Pos = [file: number, line: number, column: number];

export interface ObjFixup {
  /** Offset in the segment. */
  offset: number;
  /** 1 to 4 bytes; -2: a big-endian word (.dbyt). */
  size: number;
  expr: LinkExpr;
  /** How the value is checked: 'unsigned' fits in size bytes, 'branch' -128..127, 'any' is truncated. */
  check: 'unsigned' | 'branch' | 'any';
  pos: Pos;
}

export interface ObjSegment {
  name: string;
  addrSize: AddrSize;
  /** The largest .align of this module's part. */
  align: number;
  /** Hex bytes (zeros where fixups go); a .bss-like part is zeros too. */
  data: string;
  fixups: ObjFixup[];
  /** [offset, size] ranges from .res and .align without a fill value: the linker writes them with the segment's fill value. */
  fills?: Array<[number, number]>;
}

export interface ObjSymbol {
  name: string;
  addrSize: AddrSize;
  value: LinkExpr;
  /** A label (an address) rather than a constant. */
  label: boolean;
  pos: Pos;
  /** Entries of the linker's tables (.constructor: type 0, .destructor 1, .interruptor 2, .condes any 0-6). */
  condes?: Array<{ type: number; priority: number }>;
}

export interface ObjImport {
  name: string;
  addrSize: AddrSize;
  pos: Pos[];
}

export interface ObjAssertion {
  expr: LinkExpr;
  action: 'warning' | 'error';
  message: string;
  pos: Pos;
}

/** A stretch of bytes that one source line made, for debug info. */
export interface ObjSpan {
  segment: string;
  offset: number;
  size: number;
  pos: Pos;
  /** A line of a macro's body (depth: how many expansions deep): 'macro'; a line of the source itself: 'asm'. */
  type: 'asm' | 'macro';
  depth?: number;
  /** A line that called a macro: which call, so that the bytes of one call make one span. */
  call?: number;
}

export interface ObjScope {
  /** '' for the module's file scope. */
  name: string;
  kind: 'global' | 'scope' | 'proc' | 'struct' | 'enum';
  parent: number;
  /** For .proc and .scope with code: the segment, offset and size they cover. */
  segment?: string;
  offset?: number;
  size: number;
  /** The bytes it covers in each segment: [segment, offset, size]. */
  spans?: Array<[string, number, number]>;
}

export interface ObjDebugSymbol {
  name: string;
  scope: number;
  addrSize: AddrSize;
  value: LinkExpr;
  label: boolean;
  pos: Pos;
  /** Labels: the bytes of the line that defines them. */
  size?: number;
  /** Cheap locals: the index (in this list) of the label they belong to. */
  parent?: number;
  /** The lines that use it (a line in a macro body: with its depth). */
  refs?: Array<{ pos: Pos; depth?: number }>;
  /** Imported ('import') or exported ('export') as well as local. */
  visibility: 'local' | 'export' | 'import';
}

export interface ObjectModule {
  format: typeof OBJECT_FORMAT;
  version: typeof OBJECT_VERSION;
  /** The main source file's name. */
  source: string;
  files: Array<{ name: string; size: number; mtime: number }>;
  segments: ObjSegment[];
  imports: ObjImport[];
  exports: ObjSymbol[];
  assertions: ObjAssertion[];
  /** Present when assembled with debug info (-g). */
  debug?: { spans: ObjSpan[]; scopes: ObjScope[]; symbols: ObjDebugSymbol[] };
}

export class ObjectError extends Error {}

export function writeObject(module: ObjectModule): string {
  return JSON.stringify(module) + '\n';
}

export function readObject(text: string, name: string): ObjectModule {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ObjectError(`${name} is not a ${OBJECT_FORMAT} object file (made by hyper6502 asm -o FILE.o)`);
  }
  const m = data as ObjectModule;
  if (!m || typeof m !== 'object' || m.format !== OBJECT_FORMAT) throw new ObjectError(`${name} is not a ${OBJECT_FORMAT} object file (made by hyper6502 asm -o FILE.o)`);
  if (m.version !== OBJECT_VERSION) throw new ObjectError(`${name} is object format version ${m.version}; this linker reads version ${OBJECT_VERSION}`);
  if (!Array.isArray(m.segments) || !Array.isArray(m.imports) || !Array.isArray(m.exports) || !Array.isArray(m.files)) {
    throw new ObjectError(`${name} is damaged: it lacks its segments, imports, exports or files`);
  }
  for (const s of m.segments) {
    if (typeof s.data !== 'string' || s.data.length % 2 !== 0 || !/^[0-9a-f]*$/.test(s.data)) throw new ObjectError(`${name} is damaged: segment ${s.name} has bad data`);
  }
  m.assertions ??= [];
  return m;
}

const HEX = Array.from({ length: 256 }, (_, i) => (i < 16 ? '0' : '') + i.toString(16));

export function hexBytes(bytes: ArrayLike<number>): string {
  const parts = new Array<string>(bytes.length);
  for (let i = 0; i < bytes.length; i++) parts[i] = HEX[bytes[i]];
  return parts.join('');
}

function nibble(c: number): number {
  return c <= 57 ? c - 48 : c - 87;
}

export function bytesOfHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = (nibble(hex.charCodeAt(2 * i)) << 4) | nibble(hex.charCodeAt(2 * i + 1));
  return out;
}

/** A value into bytes: little-endian, `size` bytes; -2 is a big-endian word (.dbyt). */
export function writeValue(bytes: { [i: number]: number }, offset: number, size: number, v: number): void {
  if (size === -2) {
    bytes[offset] = (v >> 8) & 0xff;
    bytes[offset + 1] = v & 0xff;
    return;
  }
  for (let i = 0; i < size; i++) bytes[offset + i] = (v >>> (8 * i)) & 0xff;
}
