// A two-pass 6502/65C02 assembler for ca65's common syntax, driven by the opcode table.
//
// How to drive this:
//   const program = assemble(source, { cpu: '6502', fileName: 'prog.s', readFile });
//   if (!program.ok) for (const e of program.errors) console.log(formatAsmError(e));
//   cpu.ram.set(program.bytes, program.origin);
//   program.symbols.main             // 0x0200; every symbol, constants too
//   new Debugger(machine, { symbols: program.labels })   // breakpoints and disassembly by label
//   program.listing                  // addresses and bytes beside each source line
//   program.toPrg()                  // a sim65 program
//
// Pass one reads the lines (and the .include files), defines the labels and
// fixes every statement's address and size; pass two evaluates the operands
// and writes the bytes. Each line's first error is collected, with its file,
// line and column, and assembly goes on: `assemble` never throws for bad
// source. Bytes land at their addresses (.org moves the program counter and
// the output with it, where ld65 would write the bytes one after another);
// `bytes` runs from the lowest address written to the highest, with zeros in
// the gaps.
//
// Syntax (ca65's): `label:`, cheap locals `@name:` (scoped between two
// normal labels), unnamed labels `:` with `:+` `:-` `:++`..., `name = expr`,
// `name := expr` (a label), `* = expr` (.org); numbers 12 $0C %1100 'c';
// `z:`/`a:` force zero page or absolute. Directives: .org .byte/.byt .word/.addr
// .dbyt .dword .res .align .ascii .asciiz .include .incbin .setcpu .p02 .pc02
// .psc02 .if/.ifdef/.ifndef/.elseif/.else/.endif .end; .export .exportzp
// .global .globalzp .code and .segment "CODE" are accepted and change nothing. No macros, scopes,
// other segments or linker.

import { parseCpuModel, type CpuModel } from '../isa/opcodes.js';
import { SourceError, tokenize, type Token } from './lexer.js';
import { Cursor, evaluate, parseExpression, type EvalContext, type Expr } from './expression.js';
import { CPU_NAMES, cpuName, explainUnknown, instructionSet, type CpuName, type InstructionSet } from './instructions.js';
import { checkRange, chooseOpcode, encodeInstruction, expectEnd, hexValue, parseOperand, startColumn } from './operands.js';
import { formatListing, sim65Program, type AsmError, type ListingLine } from './output.js';

export type { AsmError } from './output.js';

export interface AsmOptions {
  /** The CPU at the start (default 6502); `.setcpu` changes it. */
  cpu?: CpuModel;
  /** Allow the undocumented NMOS opcodes (ca65's 6502X); no effect on the 65C02. */
  undocumented?: boolean;
  /** The source's name in errors and the listing, and where relative .include paths start (default "input.s"). */
  fileName?: string;
  /** Reads .include and .incbin files, given a path relative to the including file's folder. Without it they are errors. */
  readFile?: (path: string) => Uint8Array | string;
  /** The program counter before the first .org (default 0). */
  org?: number;
}

export interface AsmResult {
  /** No errors. */
  ok: boolean;
  errors: AsmError[];
  /** The CPU at the end of the source (after any .setcpu). */
  cpu: CpuModel;
  /** The address of bytes[0]. */
  origin: number;
  /** From the lowest address written to the highest; gaps are zero. */
  bytes: Uint8Array;
  /** Every symbol with a value, in definition order; cheap locals as "global@local". */
  symbols: Record<string, number>;
  /** The labels alone (no constants): names of addresses, for a debugger's breakpoints and disassembly. */
  labels: Record<string, number>;
  /** Each source line with its address and bytes (and its errors). */
  listing: string;
  /** The bytes as a sim65 program; reset defaults to the origin. */
  toPrg(options?: { reset?: number }): Uint8Array;
}

export function assemble(source: string, options: AsmOptions = {}): AsmResult {
  return new Assembly(options).run(source, options.fileName ?? 'input.s');
}

/** Where `path` is, written in `fromFile`: relative paths start at that file's folder. */
export function resolveInclude(fromFile: string, path: string): string {
  if (/^([/\\]|[A-Za-z]:[/\\])/.test(path)) return path;
  const slash = Math.max(fromFile.lastIndexOf('/'), fromFile.lastIndexOf('\\'));
  return fromFile.slice(0, slash + 1) + path;
}

interface SymbolDef {
  kind: 'label' | 'constant';
  file: string;
  line: number;
  value?: number;
  /** Constants: the expression and where it was written, evaluated when first needed. */
  expr?: Expr;
  at?: Position;
  resolving?: boolean;
}

/** What an expression's meaning depends on besides the symbols. */
interface Position {
  pc: number;
  /** The normal label that scopes cheap locals here. */
  scope: string;
  /** How many unnamed labels come before this point. */
  unnamedBefore: number;
}

interface Statement extends Position {
  size: number;
  listing: ListingLine;
  /** Pass two: the statement's bytes (exactly `size` of them), or a SourceError. */
  encode(context: EvalContext): number[];
}

interface Conditional {
  /** The .if line. */
  listing: ListingLine;
  /** This branch is assembled. */
  active: boolean;
  /** Some branch of this .if was taken (or the enclosing one is skipped). */
  done: boolean;
  sawElse: boolean;
}

const MAX_INCLUDE_DEPTH = 16;
const CONDITIONALS = new Set(['.IF', '.IFDEF', '.IFNDEF', '.ELSEIF', '.ELSE', '.ENDIF']);
const UNSUPPORTED = new Set(
  ('.MACRO .MAC .ENDMACRO .ENDMAC .PROC .ENDPROC .SCOPE .ENDSCOPE .REPEAT .REPT .ENDREP .ENDREPEAT .STRUCT .ENDSTRUCT ' +
    '.UNION .ENDUNION .ENUM .ENDENUM .DEFINE .UNDEFINE .CHARMAP .FEATURE .MACPACK .LOCAL .SET .TAG .LOBYTES .HIBYTES ' +
    '.FARADDR .ASSERT .ERROR .WARNING .OUT .DATA .RODATA .BSS .ZEROPAGE .IMPORT .IMPORTZP .P816 .P4510').split(' '),
);

class Assembly {
  /** Errors, with the index of their line in `lines` to sort them in source order. */
  private readonly errors: Array<{ order: number; error: AsmError }> = [];
  private readonly symbols = new Map<string, SymbolDef>();
  private readonly unnamed: number[] = [];
  private readonly statements: Statement[] = [];
  private readonly lines: ListingLine[] = [];
  private readonly conditionals: Conditional[] = [];
  private set: InstructionSet;
  private pc: number;
  private scope = '';
  private includeDepth = 0;
  private ended = false;

  constructor(private readonly options: AsmOptions) {
    const cpu = options.cpu ?? '6502';
    parseCpuModel(cpu);
    this.set = instructionSet(cpuName(cpu, options.undocumented ?? false));
    this.pc = options.org ?? 0;
  }

  run(source: string, fileName: string): AsmResult {
    this.passOne(source, fileName);
    for (const c of this.conditionals) this.error(c.listing, 1, 'this .if has no .endif');
    const image = this.passTwo();
    const symbols: Record<string, number> = {};
    const labels: Record<string, number> = {};
    for (const [name, def] of this.symbols) {
      const value = this.valueOf(name);
      if (value === undefined) continue;
      symbols[name] = value;
      if (def.kind === 'label') labels[name] = value;
    }
    const { origin, bytes } = image;
    const cpu = this.set.cpu;
    const errors = this.errors.sort((a, b) => a.order - b.order || a.error.column - b.error.column).map((e) => e.error);
    return {
      ok: errors.length === 0,
      errors,
      cpu,
      origin,
      bytes,
      symbols,
      labels,
      listing: formatListing(this.lines),
      toPrg: (opts = {}) => sim65Program(bytes, origin, cpu, opts.reset ?? origin),
    };
  }

  // ---- pass one: lines, labels, sizes

  private passOne(text: string, file: string): void {
    const lines = text.split(/\r\n|\n|\r/);
    if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
    for (let i = 0; i < lines.length && !this.ended; i++) {
      const active = this.conditionals.every((c) => c.active);
      const listing: ListingLine = { file, line: i + 1, text: lines[i], address: active ? this.pc : undefined, bytes: [], errors: [] };
      this.lines.push(listing);
      try {
        const cursor = new Cursor(tokenize(lines[i]), lines[i].length + 1);
        if (active) this.statement(cursor, listing);
        else if (cursor.peek()?.kind === 'directive' && CONDITIONALS.has(cursor.peek()!.text.toUpperCase())) this.directive(cursor, listing);
      } catch (err) {
        if (!(err instanceof SourceError)) throw err;
        this.error(listing, err.column, err.message);
      }
      if (this.conditionals.every((c) => c.active)) listing.address ??= this.pc; // an .endif or .else that resumes
    }
  }

  private error(listing: ListingLine, column: number, message: string): void {
    this.errors.push({ order: this.lines.indexOf(listing), error: { file: listing.file, line: listing.line, column, message } });
    listing.errors.push(message);
  }

  private statement(cursor: Cursor, listing: ListingLine): void {
    // Labels first: "name:", "@local:", ":" (unnamed), several on a line if need be.
    for (;;) {
      const t = cursor.peek();
      if (t?.kind === 'ident' && cursor.at(':', 1)) {
        cursor.index += 2;
        this.define(t, 'label', listing, { value: this.pc });
      } else if (cursor.at(':')) {
        cursor.next();
        this.unnamed.push(this.pc);
      } else break;
    }
    if (cursor.done) return;
    const t = cursor.next();
    if (t.kind === 'ident' && (cursor.at('=') || cursor.at(':='))) {
      const kind = cursor.next().text === ':=' ? 'label' : 'constant';
      const expr = parseExpression(cursor);
      expectEnd(cursor);
      this.define(t, kind, listing, { expr, at: this.position() });
      this.emit(listing, 0, (context) => {
        evaluate(expr, context, true); // reports what the value needs
        return [];
      });
    } else if (t.kind === 'op' && t.text === '*' && cursor.accept('=')) {
      this.org(cursor);
    } else if (t.kind === 'directive') {
      cursor.index--;
      this.directive(cursor, listing);
    } else if (t.kind === 'ident') {
      this.instruction(t, cursor, listing);
    } else {
      throw new SourceError(`expected a label, an instruction or a directive, found '${t.text}'`, t.column);
    }
  }

  private key(name: string, scope: string): string {
    return name.startsWith('@') ? scope + name : name;
  }

  private define(t: Token, kind: SymbolDef['kind'], listing: ListingLine, def: Partial<SymbolDef>): void {
    const key = this.key(t.text, this.scope);
    const held = this.symbols.get(key);
    if (held) throw new SourceError(`duplicate symbol '${t.text}': already defined at ${held.file}:${held.line}`, t.column);
    this.symbols.set(key, { kind, file: listing.file, line: listing.line, ...def });
    if (kind === 'label' && !t.text.startsWith('@')) this.scope = t.text;
  }

  private position(): Position {
    return { pc: this.pc, scope: this.scope, unnamedBefore: this.unnamed.length };
  }

  /** A symbol's value, or undefined while it (or something its definition needs) is unknown. */
  private valueOf(key: string): number | undefined {
    const def = this.symbols.get(key);
    if (!def || def.value !== undefined || !def.expr || def.resolving) return def?.value;
    def.resolving = true;
    try {
      const value = evaluate(def.expr, this.context(def.at!));
      if (value !== undefined) def.value = value;
      return value;
    } catch (err) {
      if (err instanceof SourceError) return undefined; // reported at the definition
      throw err;
    } finally {
      def.resolving = false;
    }
  }

  private context(at: Position): EvalContext {
    return {
      pc: at.pc,
      symbol: (name) => this.valueOf(this.key(name, at.scope)),
      defined: (name) => this.symbols.has(this.key(name, at.scope)),
      unnamed: (offset) => this.unnamed[at.unnamedBefore + (offset > 0 ? offset - 1 : offset)],
    };
  }

  /** A value that pass one needs (a size, an address, a condition): no forward references. */
  private knownNow(expr: Expr, what: string): number {
    const context = this.context(this.position());
    const value = evaluate(expr, context);
    if (value === undefined) {
      try {
        evaluate(expr, context, true); // throws, naming what is unknown
      } catch (err) {
        if (!(err instanceof SourceError)) throw err;
        throw new SourceError(`${what} must be known on this line (no forward references): ${err.message}`, err.column);
      }
    }
    return value!;
  }

  private emit(listing: ListingLine, size: number, encode: Statement['encode']): void {
    if (this.pc + size > 0x10000) {
      throw new SourceError(`${size} bytes at ${hexValue(this.pc)} run past $FFFF`, 1);
    }
    this.statements.push({ ...this.position(), size, listing, encode });
    this.pc += size;
  }

  private instruction(mnemonic: Token, cursor: Cursor, listing: ListingLine): void {
    if (!this.set.modes(mnemonic.text)) throw new SourceError(explainUnknown(mnemonic.text, this.set), mnemonic.column);
    const operand = parseOperand(cursor);
    const firstPass = this.context(this.position());
    const info = chooseOpcode(mnemonic.text.toUpperCase(), operand, this.set, (e) => {
      try {
        return evaluate(e, firstPass);
      } catch {
        return undefined; // reported in pass two
      }
    });
    this.emit(listing, info.bytes, (context) =>
      encodeInstruction(info, operand, context.pc, (e) => evaluate(e, context, true)!),
    );
  }

  // ---- pass two: bytes

  private passTwo(): { origin: number; bytes: Uint8Array } {
    const image = new Uint8Array(0x10000);
    const writer = new Array<Statement | undefined>(0x10000);
    let low = 0x10000;
    let high = -1;
    for (const s of this.statements) {
      let bytes: number[];
      try {
        bytes = s.encode(this.context(s));
      } catch (err) {
        if (!(err instanceof SourceError)) throw err;
        this.error(s.listing, err.column, err.message);
        continue;
      }
      if (bytes.length !== s.size) throw new Error(`${s.listing.file}:${s.listing.line}: ${bytes.length} bytes where pass one counted ${s.size}`);
      s.listing.bytes = bytes;
      const clash = bytes.findIndex((_, i) => writer[s.pc + i]);
      if (clash >= 0) {
        const first = writer[s.pc + clash]!.listing;
        this.error(s.listing, 1, `${hexValue(s.pc + clash)} is written twice: first by ${first.file}:${first.line}`);
        continue;
      }
      image.set(bytes, s.pc);
      writer.fill(s, s.pc, s.pc + bytes.length);
      if (bytes.length) {
        low = Math.min(low, s.pc);
        high = Math.max(high, s.pc + bytes.length - 1);
      }
    }
    return high < 0 ? { origin: this.options.org ?? 0, bytes: new Uint8Array(0) } : { origin: low, bytes: image.slice(low, high + 1) };
  }

  // ---- directives

  private directive(cursor: Cursor, listing: ListingLine): void {
    const t = cursor.next();
    const name = t.text.toUpperCase();
    switch (name) {
      case '.BYTE': case '.BYT': case '.ASCII':
        return this.data(cursor, listing, 1);
      case '.ASCIIZ':
        return this.data(cursor, listing, 1, true);
      case '.WORD': case '.ADDR':
        return this.data(cursor, listing, 2);
      case '.DBYT':
        return this.data(cursor, listing, -2);
      case '.DWORD':
        return this.data(cursor, listing, 4);
      case '.ORG':
        return this.org(cursor);
      case '.RES':
        return this.fill(cursor, listing, this.knownArgument(cursor, 'the size of .res', 0, 0x10000));
      case '.ALIGN': {
        const boundary = this.knownArgument(cursor, 'the boundary of .align', 1, 0x10000);
        return this.fill(cursor, listing, (boundary - (this.pc % boundary)) % boundary);
      }
      case '.INCLUDE': {
        const path = this.stringArgument(cursor, '.include');
        expectEnd(cursor);
        if (this.includeDepth >= MAX_INCLUDE_DEPTH) throw new SourceError(`.include nested more than ${MAX_INCLUDE_DEPTH} deep (does a file include itself?)`, path.column);
        const { path: included, contents } = this.read(listing.file, path);
        this.includeDepth++;
        this.passOne(typeof contents === 'string' ? contents : new TextDecoder().decode(contents), included);
        this.includeDepth--;
        return;
      }
      case '.INCBIN': {
        const path = this.stringArgument(cursor, '.incbin');
        const { contents } = this.read(listing.file, path);
        const bytes = typeof contents === 'string' ? new TextEncoder().encode(contents) : contents;
        const start = cursor.accept(',') ? this.knownArgument(cursor, 'the start of .incbin', 0, bytes.length) : 0;
        const size = cursor.accept(',') ? this.knownArgument(cursor, 'the size of .incbin', 0, bytes.length) : bytes.length - start;
        expectEnd(cursor);
        if (start + size > bytes.length) {
          throw new SourceError(`.incbin "${path.text}": start ${start} and size ${size} do not fit in its ${bytes.length} bytes`, path.column);
        }
        const slice = Array.from(bytes.subarray(start, start + size));
        return this.emit(listing, size, () => slice);
      }
      case '.SETCPU': {
        const cpu = this.stringArgument(cursor, '.setcpu');
        expectEnd(cursor);
        const chosen = CPU_NAMES.find((n) => n === cpu.text.toUpperCase());
        if (!chosen) throw new SourceError(`.setcpu "${cpu.text}": this assembler knows ${CPU_NAMES.map((n) => `"${n}"`).join(', ')}`, cpu.column);
        this.set = instructionSet(chosen);
        return;
      }
      case '.P02': case '.PC02': case '.PSC02':
        expectEnd(cursor);
        this.set = instructionSet(({ '.P02': '6502', '.PC02': '65C02', '.PSC02': '65SC02' } as Record<string, CpuName>)[name]);
        return;
      case '.IF': case '.IFDEF': case '.IFNDEF': {
        const c: Conditional = { listing, active: false, done: true, sawElse: false };
        this.conditionals.push(c); // even when the condition is bad, so that its .endif matches
        if (this.conditionals.every((other) => other === c || other.active)) {
          c.active = c.done = this.condition(name, cursor);
        }
        return;
      }
      case '.ELSEIF': case '.ELSE': {
        const c = this.conditionals[this.conditionals.length - 1];
        if (!c) throw new SourceError(`${t.text} without .if`, t.column);
        if (c.sawElse) throw new SourceError(`${t.text} after .else (the .if is at ${c.listing.file}:${c.listing.line})`, t.column);
        c.sawElse = name === '.ELSE';
        const condition = !c.done && (name === '.ELSE' || this.condition('.IF', cursor));
        if (name === '.ELSE') expectEnd(cursor);
        c.active = condition;
        c.done ||= condition;
        return;
      }
      case '.ENDIF':
        if (!this.conditionals.pop()) throw new SourceError('.endif without .if', t.column);
        expectEnd(cursor);
        return;
      case '.END':
        this.ended = true;
        return;
      case '.EXPORT': case '.EXPORTZP': case '.GLOBAL': case '.GLOBALZP': case '.CODE':
        return; // one file, no linker: nothing to do
      case '.SEGMENT': {
        const segment = this.stringArgument(cursor, '.segment');
        if (segment.text !== 'CODE') throw new SourceError(`.segment "${segment.text}": this assembler has no linker, only the CODE segment; place data with .org`, segment.column);
        expectEnd(cursor);
        return;
      }
    }
    if (UNSUPPORTED.has(name)) throw new SourceError(`${t.text} is a ca65 directive this assembler does not support (it has no macros, scopes, segments or linker)`, t.column);
    throw new SourceError(`unknown directive '${t.text}'`, t.column);
  }

  private org(cursor: Cursor): void {
    this.pc = this.knownArgument(cursor, 'the address of .org', 0, 0xffff);
    expectEnd(cursor);
  }

  /** `count` bytes of the optional `, fill` argument (default 0): .res and .align. */
  private fill(cursor: Cursor, listing: ListingLine, count: number): void {
    const fill = cursor.accept(',') ? parseExpression(cursor) : undefined;
    expectEnd(cursor);
    this.emit(listing, count, (context) => new Array<number>(count).fill(fill ? checkRange(evaluate(fill, context, true)!, 8, 'fill value', fill) : 0));
  }

  /** An argument that pass one needs, within min..max. */
  private knownArgument(cursor: Cursor, what: string, min: number, max: number): number {
    const e = parseExpression(cursor);
    const value = this.knownNow(e, what);
    if (value < min || value > max) throw new SourceError(`${what} must be ${hexValue(min)} to ${hexValue(max)}, not ${hexValue(value)}`, startColumn(e));
    return value;
  }

  private condition(name: string, cursor: Cursor): boolean {
    if (name === '.IF') {
      const value = this.knownNow(parseExpression(cursor), 'the condition of .if');
      expectEnd(cursor);
      return value !== 0;
    }
    const symbol = cursor.next();
    if (symbol.kind !== 'ident') throw new SourceError(`${name.toLowerCase()} needs a symbol name`, symbol.column);
    expectEnd(cursor);
    return this.symbols.has(this.key(symbol.text, this.scope)) === (name === '.IFDEF');
  }

  private stringArgument(cursor: Cursor, directive: string): Token {
    const t = cursor.peek();
    if (t?.kind !== 'string') throw cursor.unexpected(`a quoted name after ${directive}`);
    return cursor.next();
  }

  private read(fromFile: string, name: Token): { path: string; contents: Uint8Array | string } {
    const path = resolveInclude(fromFile, name.text);
    if (!this.options.readFile) throw new SourceError(`cannot read "${name.text}": no readFile was given to assemble()`, name.column);
    try {
      return { path, contents: this.options.readFile(path) };
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new SourceError(`cannot read "${path}": ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`, name.column);
    }
  }

  /** .byte/.ascii/.asciiz (width 1, strings allowed), .word (2), .dbyt (-2: big-endian), .dword (4). */
  private data(cursor: Cursor, listing: ListingLine, width: 1 | 2 | -2 | 4, zeroTerminated = false): void {
    const items: Array<number[] | Expr> = [];
    do {
      const t = cursor.peek();
      if (width === 1 && t?.kind === 'string' && (cursor.at(',', 1) || cursor.index === cursor.tokens.length - 1)) {
        items.push(Array.from(new TextEncoder().encode(cursor.next().text)));
      } else {
        items.push(parseExpression(cursor));
      }
    } while (cursor.accept(','));
    expectEnd(cursor);
    if (zeroTerminated) items.push([0]);
    const size = items.reduce((n, item) => n + (Array.isArray(item) ? item.length : Math.abs(width)), 0);
    this.emit(listing, size, (context) => {
      const bytes: number[] = [];
      for (const item of items) {
        // `*` is the address of the item itself, as in ca65.
        bytes.push(...(Array.isArray(item) ? item : dataBytes(evaluate(item, { ...context, pc: context.pc + bytes.length }, true)!, width, item)));
      }
      return bytes;
    });
  }
}

function dataBytes(v: number, width: 1 | 2 | -2 | 4, e: Expr): number[] {
  if (width === 1) return [checkRange(v, 8, 'byte value', e)];
  if (width === 4) return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  checkRange(v, 16, 'word value', e);
  return width === 2 ? [v & 0xff, v >> 8] : [v >> 8, v & 0xff];
}
