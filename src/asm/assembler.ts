// A 6502/65C02 assembler for ca65 sources: macros, scopes, segments, imports
// and exports, conditional assembly; it writes object modules for the linker
// (linker.ts) and, for one-file programs, links them straight into an image.
//
// How to drive this:
//   const program = assemble(source, { fileName: 'prog.s', readFile, defines: { DEBUG: 1 } });
//   if (!program.ok) for (const e of program.errors) console.log(formatAsmError(e));
//   writeObject(program.object)           // for `link` (several modules, an ld65 config)
//   cpu.ram.set(program.bytes, program.origin);   // the one-step image
//   program.symbols.main                  // 0x0200; labels alone in program.labels
//   program.listing, program.toPrg()
//
// Like ca65 it reads the source once. Each statement's size is fixed when it
// is read: an operand is zero page when what it names is known then to be a
// zero-page address (a constant below $100, a label in a zeropage segment, an
// .importzp); a forward reference is absolute. Expressions that are not known
// by the end of the file (an import, a segment's start) go into the object as
// fixups for the linker. Errors are collected with their file, line, column
// and the chain of macro expansions they happened in; `assemble` never throws
// for bad source.
//
// The one-step image (`bytes`, `origin`): the segments one after another
// from `options.org` (default 0); after `.org` bytes land at their
// addresses, gaps between them zero. `link` with an ld65 config places
// segments the way ld65 does.

import type { CpuModel } from '../isa/opcodes.js';
import { SourceError, tokenize, type LexOptions, type Token } from './lexer.js';
import {
  Cursor, Unknown, applyBinary, constantNow, evaluate, isConstant, parseExpression, startColumn, toLinkExpr,
  type Expr, type Linear, type LinkExpr, type ParseHooks, type Term, type Value,
} from './expression.js';
import { CPU_NAMES, cpuName, explainMode, explainUnknown, instructionSet, MODE_SYNTAX, type CpuName, type InstructionSet } from './instructions.js';
import { hexValue, parseOperand, type Operand } from './operands.js';
import { MACPACKS, cpuBits } from './macpacks.js';
import { formatListing, sim65Program, type AsmError, type ListingLine, type Note } from './output.js';
import { hexBytes, writeValue, type AddrSize, type ObjDebugSymbol, type ObjFixup, type ObjScope, type ObjSpan, type ObjectModule, type Pos } from './object.js';
import { linkImage } from './linker.js';
import { counterToken, matchingParen, splitArguments, unbrace } from './tokens.js';
import { translateEasy6502 } from './easy6502.js';
import type { AddressingMode, OpcodeInfo } from '../isa/opcodes.js';

export type { AsmError } from './output.js';

/** Reads a file the source names; must refuse (throw) one larger than maxBytes without reading it whole. */
export type ReadFile = (path: string, maxBytes: number) => Uint8Array | string;

export interface AsmOptions {
  /** The CPU at the start (default 6502): 6502, 65c02, or a ca65 name (6502X, 65SC02, 65C02); `.setcpu` changes it. */
  cpu?: CpuModel | CpuName | string;
  /** Allow the undocumented NMOS opcodes (ca65's 6502X); no effect on the 65C02. */
  undocumented?: boolean;
  /** The source's name in errors and the listing, and where relative .include paths start (default "input.s"). */
  fileName?: string;
  /** Reads .include and .incbin files by path. Without it they are errors. */
  readFile?: ReadFile;
  /** Folders searched for .include/.incbin after the including file's own (-I). */
  includeDirs?: string[];
  /** Symbols defined before the first line (-D NAME=VALUE). */
  defines?: Record<string, number>;
  /** The one-step image's start (default 0; the easy6502 dialect: $0600). */
  org?: number;
  /** 'easy6502': the tutorial's dialect (define, dcb, code at $0600). */
  dialect?: 'ca65' | 'easy6502';
  /** Keep line spans, scopes and local symbols in the object for the linker's debug info (-g). */
  debugInfo?: boolean;
  /** The source's size and modification time (seconds) for debug info, when known. */
  fileInfo?: (path: string) => { size: number; mtime: number } | undefined;
  /** The largest file .include or .incbin may read (default 16 MiB). */
  maxFileBytes?: number;
}

export interface AsmResult {
  /** No errors. */
  ok: boolean;
  errors: AsmError[];
  /** Those of `errors` that come from making the one-step image (an import, a clash of .org'd bytes); an object file does not have them. */
  imageErrors: AsmError[];
  warnings: AsmError[];
  /** The CPU at the end of the source (after any .setcpu). */
  cpu: CpuModel;
  /** The module for the linker. */
  object: ObjectModule;
  /** The one-step image: the address of bytes[0]. */
  origin: number;
  /** From the lowest address written to the highest; gaps are zero. */
  bytes: Uint8Array;
  /** Every symbol with a value in the image, in definition order; scoped as "scope::name", cheap locals as "label@local". */
  symbols: Record<string, number>;
  /** The labels alone (no constants): names of addresses, for a debugger's breakpoints and disassembly. */
  labels: Record<string, number>;
  /** Each source line with its address and bytes (and its errors). */
  listing: string;
  /** The bytes as a sim65 program; reset defaults to the origin. */
  toPrg(options?: { reset?: number }): Uint8Array;
}

export function assemble(source: string, options: AsmOptions = {}): AsmResult {
  const fileName = options.fileName ?? 'input.s';
  if (options.dialect === 'easy6502') options = { ...options, org: options.org ?? 0x600 };
  return new Assembly(options, fileName).run(source);
}

/** Where `path` is, written in `fromFile`: relative paths start at that file's folder. */
export function resolveInclude(fromFile: string, path: string): string {
  if (/^([/\\]|[A-Za-z]:[/\\])/.test(path)) return path;
  const slash = Math.max(fromFile.lastIndexOf('/'), fromFile.lastIndexOf('\\'));
  return fromFile.slice(0, slash + 1) + path;
}

// ---- the parts of an assembly

const ZP = 1;
const ABS = 2;
const FAR = 3;
const SIZE_NAMES: Record<number, AddrSize> = { 1: 'zeropage', 2: 'absolute', 3: 'far' };

/** Where a line came from, the macro expansions it is inside (innermost first), and its listing line. */
interface Where extends ListingLine {
  /** The how-manieth line read: errors come out in this order. */
  seq: number;
  fileIndex: number;
  chain: Note[];
}

interface SourceLine {
  text: string;
  line: number;
  /** Pre-split tokens (macro bodies), or undefined to lex `text`. */
  tokens?: Token[];
  error?: SourceError;
}

interface Frame {
  kind: 'file' | 'macro' | 'repeat';
  file: string;
  fileIndex: number;
  lines: SourceLine[];
  index: number;
  /** The notes that a line of this frame adds to an error's chain. */
  chain: Note[];
  /** Macro expansion: parameter name -> tokens, .local name -> unique name. */
  params?: Map<string, Token[]>;
  locals?: Map<string, string>;
  paramCount?: number;
  /** Conditional depth when the frame started (.exitmacro unwinds to it). */
  condDepth: number;
  /** .include: a file's own frame. */
  listingLines?: boolean;
  /** A .repeat: how many rounds, how many done, its counter, and its .endrepeat line (for debug info). */
  repeat?: { count: number; done: number; variable?: string; end: { fileIndex: number; line: number; depth: number; call: number } };
}

interface Macro {
  name: string;
  params: string[];
  body: SourceLine[];
  file: string;
  fileIndex: number;
  line: number;
}

interface Define {
  params?: string[];
  body: Token[];
}

interface Conditional {
  where: Where;
  active: boolean;
  done: boolean;
  sawElse: boolean;
}

class Scope {
  readonly symbols = new Map<string, Sym>();
  readonly children = new Map<string, Scope>();
  size?: number;
  segment?: Segment;
  start?: number;
  index = -1;
  /** Each segment's size when the scope opened, and what it grew by when it closed. */
  opened = new Map<Segment, number>();
  spans: Array<[string, number, number]> = [];
  constructor(readonly name: string, readonly kind: ObjScope['kind'], readonly parent?: Scope) {}
  get path(): string {
    return this.parent && this.parent.parent ? `${this.parent.path}::${this.name}` : this.name;
  }
}

let symbolSerial = 0;
const NO_POSITIONS: Pos[] = [];

class Sym {
  /** Creation order: ca65 writes debug symbols newest first. */
  readonly serial = ++symbolSerial;
  value?: Value;
  expr?: Expr;
  addrSize = 0;
  kind: 'none' | 'label' | 'equate' | 'var' = 'none';
  imported?: number;
  /** Where it was imported (.import, .global): made when it is. */
  importPos: Pos[] = NO_POSITIONS;
  exported?: { size: number; pos: Pos };
  global?: { size: number; pos: Pos };
  referenced = false;
  evaluating = false;
  where?: Where;
  /** Labels: the bytes of their line. */
  size?: number;
  /** .constructor and friends: the linker's tables it belongs to. */
  condes?: Array<{ type: number; priority: number }>;
  /** Debug info: the lines that use it. */
  refs?: Map<string, { pos: Pos; depth?: number }>;
  constructor(readonly name: string, readonly scope: Scope) {}
  get defined(): boolean {
    return this.kind !== 'none';
  }
}

/** An expression node naming a symbol (one object, no closures: there is one per reference). */
class SymbolReference {
  readonly kind = 'symbol';
  constructor(
    private readonly assembly: Assembly,
    readonly name: string,
    readonly column: number,
    readonly scope: Scope,
    readonly owner: Sym | undefined,
    public sym: Sym | undefined,
  ) {}
  get(): Value {
    return this.assembly.referenceValue(this);
  }
  addrSize(): number | undefined {
    return this.assembly.referenceSize(this);
  }
}

class Segment {
  readonly bytes: number[] = [];
  readonly fixups: Array<ObjFixup & { where: Where }> = [];
  readonly fills: Array<[number, number]> = [];
  align = 1;
  /** .org: the address at an offset, until .reloc. */
  org?: { address: number; offset: number };
  /** Every .org/.reloc switch: the one-step image places the bytes after it. */
  readonly marks: Array<{ offset: number; address?: number }> = [];
  /** Its base in linear values: 's:NAME'. */
  readonly key: string;
  /** The terms of an address in it: [['s:NAME', 1]] (shared: term lists are never changed). */
  readonly terms: Term[];
  constructor(readonly name: string, readonly addrSize: number, readonly index: number) {
    this.key = 's:' + name;
    this.terms = [[this.key, 1]];
  }
  get size(): number {
    return this.bytes.length;
  }
  /** The next `count` bytes are ca65's fill fragment: the linker writes the fill value there. */
  addFill(count: number): void {
    if (count === 0) return;
    const last = this.fills[this.fills.length - 1];
    if (last && last[0] + last[1] === this.size) last[1] += count;
    else this.fills.push([this.size, count]);
  }
}

interface PendingFixup {
  segment: Segment;
  offset: number;
  size: number;
  expr: Expr;
  check: 'unsigned' | 'branch' | 'any' | 'zp';
  /** Branches: the address the offset counts from. */
  from?: Value;
  what: string;
  column: number;
  where: Where;
}

const DEFAULT_SEGMENTS: Array<[string, number]> = [['CODE', ABS], ['RODATA', ABS], ['BSS', ABS], ['DATA', ABS], ['ZEROPAGE', ZP], ['NULL', ABS]];
const MAX_NESTING = 256;
/** How long a chain of symbols defined by symbols may be. */
const MAX_SYMBOL_DEPTH = 400;
const MAX_ERRORS = 1000;
const DEFAULT_MAX_FILE = 16 << 20;
/** ca65's .feature names this assembler has: some change how it reads (labels_without_colons,
 * dollar_is_pc, string_escapes, force_range), the others are how it always works. */
const FEATURES = new Set(['labels_without_colons', 'dollar_is_pc', 'string_escapes', 'force_range', 'pc_assignment', 'org_per_seg', 'ubiquitous_idents', 'addrsize', 'long_jsr_jmp_rts']);
/** ca65's other features: refused rather than ignored, since a source that needs one would assemble wrongly. */
const OTHER_FEATURES = new Set(['loose_string_term', 'loose_char_term', 'at_in_identifiers', 'dollar_in_identifiers', 'leading_dot_in_identifiers', 'missing_char_term', 'c_comments', 'underline_in_numbers', 'bracket_as_indirect']);
const IGNORED = new Set([
  '.LIST', '.LISTBYTES', '.PAGELENGTH', '.PAGELEN', '.DBG', '.FILEOPT', '.FOPT', '.SMART',
  '.CASE', '.WARNINGS', '.I8', '.I16', '.A8', '.A16', '.LOCALCHAR', '.MACPACK_NONE',
]);

class Assembly {
  private readonly errors: AsmError[] = [];
  private readonly warnings: AsmError[] = [];
  private readonly lines: ListingLine[] = [];
  private readonly frames: Frame[] = [];
  private readonly conditionals: Conditional[] = [];
  private readonly files: Array<{ name: string; size: number; mtime: number }> = [];
  private readonly global = new Scope('', 'global');
  private scope = this.global;
  private readonly scopes: Scope[] = [];
  private cheapOwner: Sym | undefined;
  private readonly cheap = new Map<Sym | undefined, Map<string, Sym>>();
  private readonly unnamed: Value[] = [];
  private readonly unnamedSizes: number[] = [];
  private readonly macros = new Map<string, Macro>();
  private readonly defines = new Map<string, Define>();
  private readonly charmap = new Uint8Array(256).map((_, i) => i);
  private readonly segments = new Map<string, Segment>();
  private segment!: Segment;
  private readonly segmentStack: Segment[] = [];
  private readonly pending: PendingFixup[] = [];
  private readonly assertions: Array<{ expr: Expr; action: 'warning' | 'error'; message: string; where: Where; column: number; ld: boolean }> = [];
  private readonly spans: ObjSpan[] = [];
  private readonly symbolOrder: Sym[] = [];
  private readonly ordered = new Set<Sym>();
  /** A cheap local's owner: the label before it. */
  private readonly cheapOwnerOf = new Map<Sym, Sym>();
  private readonly features = new Set<string>();
  private set: InstructionSet;
  private collecting?: { kind: 'macro' | 'repeat'; macro?: Macro; count?: number; variable?: string; body: SourceLine[]; depth: number; where: Where; column: number };
  private ended = false;
  private where!: Where;
  private localSerial = 0;
  private seq = 0;
  private lineLabels: Sym[] = [];
  private expansions = 0;
  private readonly errorOrder = new Map<AsmError, number>();
  private readonly maxFile: number;
  private debugInfo: boolean;
  private autoImport = false;

  constructor(private readonly options: AsmOptions, private readonly fileName: string) {
    this.set = instructionSet(initialCpu(options));
    for (const [name, size] of DEFAULT_SEGMENTS) this.segments.set(name, new Segment(name, size, this.segments.size));
    this.segment = this.segments.get('CODE')!;
    this.maxFile = options.maxFileBytes ?? DEFAULT_MAX_FILE;
    this.debugInfo = options.debugInfo ?? false;
    this.global.index = 0;
    this.scopes.push(this.global);
  }

  run(source: string): AsmResult {
    for (const [name, value] of Object.entries(this.options.defines ?? {})) {
      const sym = this.symbolIn(this.global, name);
      sym.kind = 'equate';
      sym.value = value | 0;
      sym.addrSize = constSize(value);
    }
    this.pushFile(this.fileName, source);
    this.loop();
    if (this.collecting) this.errorAt(this.collecting.where, this.collecting.column, this.collecting.kind === 'macro' ? `.macro ${this.collecting.macro!.name} has no .endmacro` : '.repeat has no .endrepeat');
    for (const c of this.conditionals) this.errorAt(c.where, 1, 'this .if has no .endif');
    if (this.scope !== this.global) this.errorAt(this.where, 1, `.${this.scope.kind} ${this.scope.name} has no .end${this.scope.kind}`);
    const object = this.finish();
    const image = linkImage(object, this.options.org ?? 0, this.segmentMarks(), (segment, offset) => this.lineAt(segment, offset));
    for (const e of image.errors) this.errors.push(e);
    const errors = this.errors.slice(0, MAX_ERRORS);
    const cpu = this.set.cpu;
    const { origin, bytes } = image;
    // The symbol tables and the listing are made when first asked for.
    let tables: { symbols: Record<string, number>; labels: Record<string, number> } | undefined;
    const symbolTables = () => {
      if (tables) return tables;
      tables = { symbols: {}, labels: {} };
      for (const sym of this.symbolOrder) {
        if (!sym.defined || sym.kind === 'var') continue;
        const value = this.imageValue(sym, image.segmentBase);
        if (value === undefined) continue;
        const name = this.displayName(sym);
        tables.symbols[name] = value;
        if (sym.kind === 'label') tables.labels[name] = value;
      }
      return tables;
    };
    let listingText: string | undefined;
    const listing = () => {
      for (const line of this.lines) {
        if (line.segment !== undefined && line.offset !== undefined) {
          const base = image.segmentBase(line.segment);
          if (line.address === undefined && base !== undefined) line.address = base + line.offset;
          line.bytes = image.bytesOf(line.segment, line.offset, line.size ?? 0);
        }
      }
      return formatListing(this.lines);
    };
    return {
      ok: errors.length === 0,
      errors,
      imageErrors: image.errors,
      warnings: this.warnings,
      cpu,
      object,
      origin,
      bytes,
      get symbols() {
        return symbolTables().symbols;
      },
      get labels() {
        return symbolTables().labels;
      },
      get listing() {
        return (listingText ??= listing());
      },
      toPrg: (opts = {}) => sim65Program(bytes, origin, cpu, opts.reset ?? origin),
    };
  }

  private displayName(sym: Sym): string {
    const owner = this.cheapOwnerOf.get(sym);
    if (owner) return `${this.displayName(owner)}${sym.name}`;
    const path = sym.scope.path;
    return path ? `${path}::${sym.name}` : sym.name;
  }

  private imageValue(sym: Sym, base: (segment: string) => number | undefined): number | undefined {
    let v: Value;
    try {
      v = this.valueOf(sym);
    } catch {
      return undefined;
    }
    if (typeof v === 'number') return v;
    if ('tree' in v) return undefined;
    let total = v.k;
    for (const [key, c] of v.terms) {
      if (!key.startsWith('s:')) return undefined;
      const b = base(key.slice(2));
      if (b === undefined) return undefined;
      total += c * b;
    }
    return total;
  }

  /** The listing line that wrote a segment's byte. */
  private lineAt(segment: string, offset: number): ListingLine | undefined {
    for (const l of this.lines) if (l.segment === segment && l.offset !== undefined && offset >= l.offset && offset < l.offset + (l.size ?? 0)) return l;
    return undefined;
  }

  private segmentMarks(): Map<string, Array<{ offset: number; address?: number }>> {
    const marks = new Map<string, Array<{ offset: number; address?: number }>>();
    for (const s of this.segments.values()) marks.set(s.name, s.marks);
    return marks;
  }

  // ---- input

  private pushFile(file: string, text: string, macpack = false): void {
    // The easy6502 dialect holds in every file of the project.
    if (this.options.dialect === 'easy6502' && !macpack) text = translateEasy6502(text);
    const lines = text.split(/\r\n|\n|\r/);
    if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
    const info = this.options.fileInfo?.(file);
    this.files.push({ name: file, size: info?.size ?? text.length, mtime: info?.mtime ?? 0 });
    this.frames.push({
      kind: 'file', file, fileIndex: this.files.length - 1, lines: lines.map((t, i) => ({ text: t, line: i + 1 })), index: 0,
      chain: this.currentChain(), condDepth: this.conditionals.length, listingLines: true,
    });
  }

  private currentChain(): Note[] {
    return this.frames.length ? this.where?.chain ?? [] : [];
  }

  private lexing: LexOptions = {};

  private lexOptions(): LexOptions {
    return this.lexing;
  }

  private loop(): void {
    while (this.frames.length && !this.ended) {
      const frame = this.frames[this.frames.length - 1];
      if (frame.index >= frame.lines.length) {
        if (!this.nextRound(frame)) this.frames.pop();
        continue;
      }
      const source = frame.lines[frame.index++];
      const where: Where = { seq: ++this.seq, file: frame.file, fileIndex: frame.fileIndex, line: source.line, text: source.text, chain: frame.chain };
      if (frame.listingLines) this.lines.push(where);
      this.where = where;
      this.line(frame, source, where);
    }
  }

  private line(frame: Frame, source: SourceLine, listing: ListingLine): void {
    let tokens: Token[];
    try {
      if (source.error) throw source.error;
      tokens = source.tokens ?? tokenize(source.text, this.lexOptions());
    } catch (err) {
      if (!(err instanceof SourceError)) throw err;
      if (this.collecting || !this.active()) return; // ca65 would not read it either
      this.errorAt(this.where, err.column, err.message);
      return;
    }
    const endColumn = source.text.length + 1;
    if (this.collecting) {
      // A body inside a macro gets the macro's arguments now, as ca65 replays its tokens.
      if (frame.params || frame.locals) tokens = this.substitute(tokens, frame, true);
      return this.collect(tokens, source);
    }
    if (!this.active()) {
      const first = tokens[0];
      if (first?.kind === 'directive' && isConditional(first.text)) {
        this.guarded(() => {
          // An .elseif may be taken: its condition sees the macro's arguments and the .defines.
          if (frame.params || frame.locals) tokens = this.substitute(tokens, frame, true);
          this.conditional(new Cursor(this.expandDefines(tokens, 0), endColumn), first.text.toUpperCase());
        });
      }
      if (this.active()) {
        listing.segment = this.segment.name;
        listing.offset = this.segment.size;
      }
      return;
    }
    try {
      if (frame.params || frame.locals) tokens = this.substitute(tokens, frame);
      tokens = this.expandDefines(tokens, 0);
      const start = this.segment.size;
      const segment = this.segment;
      const cursor = new Cursor(tokens, endColumn);
      listing.segment = segment.name;
      listing.offset = start;
      if (segment.org) listing.address = segment.org.address + start - segment.org.offset;
      this.lineLabels = [];
      this.statement(cursor, frame);
      if (this.segment === segment && segment.size > start) {
        listing.size = segment.size - start;
        for (const l of this.lineLabels) l.size = segment.size - start;
        if (this.debugInfo) this.debugSpan(segment, start, frame);
      }
    } catch (err) {
      this.report(err);
    }
  }

  /**
   * The bytes a line made, for debug info: a line of the source itself, or
   * a line of a macro's body, and each line that called the macros it is in.
   */
  private debugSpan(segment: Segment, start: number, frame: Frame): void {
    const chain = this.where.chain;
    const span = { segment: segment.name, offset: start, size: segment.size - start };
    // A line of a .repeat body counts as a line of the source (at its macro depth), as in ca65.
    const inMacro = chain.length > 0 && frame.kind !== 'repeat';
    if (!this.where.file.startsWith('<macpack')) {
      this.spans.push({ ...span, pos: this.pos(1), type: inMacro ? 'macro' : 'asm', ...(chain.length ? { depth: chain.length } : {}) });
    }
    // Each line that called a macro holds the bytes of its expansion too, and so does each .endrepeat line.
    chain.forEach((site, k) => {
      const depth = chain.length - 1 - k;
      if (site.fileIndex === undefined || site.file.startsWith('<macpack')) return;
      this.spans.push({ ...span, pos: [site.fileIndex, site.line, site.column], type: depth ? 'macro' : 'asm', ...(depth ? { depth } : {}), call: site.expansion });
    });
    for (let i = this.frames.length - 1; i >= 0 && this.frames[i].kind !== 'file'; i--) {
      const end = this.frames[i].repeat?.end;
      if (end) this.spans.push({ ...span, pos: [end.fileIndex, end.line, 1], type: end.depth ? 'macro' : 'asm', ...(end.depth ? { depth: end.depth } : {}), call: end.call });
    }
  }

  private guarded(work: () => void): void {
    try {
      work();
    } catch (err) {
      this.report(err);
    }
  }

  private report(err: unknown): void {
    if (err instanceof SourceError) this.errorAt(this.where, err.column, err.message);
    else if (err instanceof Unknown) this.errorAt(this.where, err.column, err.what);
    else throw err;
  }

  private active(): boolean {
    const c = this.conditionals;
    return c.length === 0 || c[c.length - 1].active;
  }

  private errorAt(where: Where, column: number, message: string): void {
    const e: AsmError = { file: where.file, line: where.line, column, message, notes: where.chain.length ? where.chain : undefined };
    this.errorOrder.set(e, where.seq);
    this.errors.push(e);
    (where.errors ??= []).push(message);
  }

  private warn(column: number, message: string): void {
    const w = this.where;
    this.warnings.push({ file: w.file, line: w.line, column, message, notes: w.chain.length ? w.chain : undefined });
  }

  private pos(column: number, where = this.where): Pos {
    return [where.fileIndex, where.line, column];
  }

  // ---- macros and .repeat bodies

  private collect(tokens: Token[], source: SourceLine): void {
    const c = this.collecting!;
    const first = tokens[0]?.kind === 'directive' ? tokens[0].text.toUpperCase() : tokens[1]?.kind === 'directive' && tokens[0].kind === 'ident' ? tokens[1].text.toUpperCase() : '';
    const opens = c.kind === 'macro' ? ['.MACRO', '.MAC'] : ['.REPEAT', '.REPT'];
    const closes = c.kind === 'macro' ? ['.ENDMACRO', '.ENDMAC'] : ['.ENDREPEAT', '.ENDREP'];
    if (opens.includes(first)) c.depth++;
    else if (closes.includes(first) && c.depth-- === 0) {
      this.collecting = undefined;
      if (c.kind === 'macro') this.macros.set(c.macro!.name, { ...c.macro!, body: c.body });
      else this.repeat(c.count!, c.variable, c.body, c.where, this.where);
      return;
    }
    c.body.push({ text: source.text, line: source.line, tokens });
  }

  /** A .repeat: one frame that replays its body `count` times. `end` is the .endrepeat line. */
  private repeat(count: number, variable: string | undefined, body: SourceLine[], where: Where, end: Where): void {
    if (count === 0) return;
    const frame = this.frames[this.frames.length - 1];
    this.pushFrame({
      kind: 'repeat', file: frame.file, fileIndex: frame.fileIndex, lines: body, index: 0, chain: where.chain,
      params: variable ? new Map([[variable, [counterToken(0)]]]) : undefined,
      condDepth: this.conditionals.length,
      repeat: { count, done: 0, variable, end: { fileIndex: end.fileIndex, line: end.line, depth: end.chain.length, call: ++this.expansions } },
    });
  }

  /** At the end of a .repeat body: the next round, if there is one. */
  private nextRound(frame: Frame): boolean {
    const r = frame.repeat;
    if (!r || ++r.done >= r.count) return false;
    frame.index = 0;
    if (r.variable) frame.params = new Map([[r.variable, [counterToken(r.done)]]]);
    this.conditionals.length = frame.condDepth;
    return true;
  }

  private pushFrame(frame: Frame): void {
    if (this.frames.length >= MAX_NESTING) throw new SourceError(`macros, .repeat and .include nested more than ${MAX_NESTING} deep (does one call itself?)`, 1);
    this.frames.push(frame);
  }

  private expandMacro(macro: Macro, nameToken: Token, cursor: Cursor): void {
    const args = splitArguments(cursor);
    if (args.length > macro.params.length) throw new SourceError(`macro '${macro.name}' takes ${macro.params.length} parameter${macro.params.length === 1 ? '' : 's'}, got ${args.length}`, nameToken.column);
    const params = new Map<string, Token[]>();
    macro.params.forEach((p, i) => params.set(p, args[i] ?? []));
    const chain: Note[] = [{ file: this.where.file, line: this.where.line, column: nameToken.column, message: `in expansion of macro '${macro.name}'`, fileIndex: this.where.fileIndex, expansion: ++this.expansions }, ...this.where.chain];
    this.pushFrame({
      kind: 'macro', file: macro.file, fileIndex: macro.fileIndex, lines: macro.body, index: 0, chain, params,
      locals: new Map(), paramCount: args.length, condDepth: this.conditionals.length,
    });
  }

  /** Macro parameters, .local names and .paramcount replaced in a line of a macro or .repeat. */
  private substitute(tokens: Token[], frame: Frame, collecting = false): Token[] {
    const out: Token[] = [];
    const first = tokens[0];
    if (!collecting && first?.kind === 'directive' && first.text.toUpperCase() === '.LOCAL' && frame.locals) {
      for (const t of tokens.slice(1)) if (t.kind === 'ident') frame.locals.set(t.text, `LOCAL-MACRO_SYMBOL-${(++this.localSerial).toString(16).toUpperCase().padStart(4, '0')}`);
      return [];
    }
    for (const t of tokens) {
      if (t.kind === 'ident') {
        const arg = frame.params?.get(t.text);
        if (arg) {
          for (const a of arg) out.push({ ...a, column: t.column });
          continue;
        }
        const local = frame.locals?.get(t.text);
        if (local) {
          out.push({ ...t, text: local });
          continue;
        }
      } else if (t.kind === 'directive' && frame.kind === 'macro' && t.text.toUpperCase() === '.PARAMCOUNT') {
        out.push({ kind: 'number', text: String(frame.paramCount), value: frame.paramCount!, column: t.column });
        continue;
      }
      out.push(t);
    }
    return out;
  }

  /** .define names replaced by their tokens, and the token functions (.concat, .string, .ident, .left...). */
  private expandDefines(tokens: Token[], depth: number, except?: Set<string>): Token[] {
    if (this.defines.size === 0) {
      let any = false;
      for (const t of tokens) if (t.kind === 'directive' && TOKEN_FUNCTION.test(t.text)) any = true;
      if (!any) return tokens;
    }
    if (depth > 64) throw new SourceError('.define macros nested more than 64 deep (does one use itself?)', tokens[0]?.column ?? 1);
    const out: Token[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      const prev = out[out.length - 1];
      const protectedName = prev?.kind === 'directive' && ['.DEFINE', '.UNDEFINE', '.UNDEF', '.IFDEF', '.IFNDEF', '.DEFINEDMACRO'].includes(prev.text.toUpperCase());
      if (t.kind === 'ident' && !protectedName && this.defines.has(t.text) && !except?.has(t.text)) {
        const def = this.defines.get(t.text)!;
        let body = def.body;
        if (def.params) {
          let args: Token[][] = [];
          if (tokens[i + 1]?.kind === 'op' && tokens[i + 1].text === '(') {
            const close = matchingParen(tokens, i + 1);
            args = splitArguments(new Cursor(tokens.slice(i + 2, close)));
            i = close;
          } else if (def.params.length) {
            args = splitArguments(new Cursor(tokens.slice(i + 1)));
            i = tokens.length;
          }
          // Arguments are expanded first: ADD(1, ADD(2, 3)).
          const map = new Map(def.params.map((p, k) => [p, this.expandDefines(args[k] ?? [], depth + 1, except)]));
          body = body.flatMap((b) => (b.kind === 'ident' && map.has(b.text) ? map.get(b.text)! : [b]));
        }
        const inner = new Set(except);
        inner.add(t.text);
        for (const b of this.expandDefines(body, depth + 1, inner)) out.push({ ...b, column: t.column });
        continue;
      }
      if (t.kind === 'directive' && TOKEN_FUNCTIONS.has(t.text.toUpperCase()) && tokens[i + 1]?.text === '(') {
        const close = matchingParen(tokens, i + 1);
        const inner = this.expandDefines(tokens.slice(i + 2, close), depth + 1, except);
        for (const r of this.tokenFunction(t, inner)) out.push(r);
        i = close;
        continue;
      }
      out.push(t);
    }
    return out;
  }

  private tokenFunction(t: Token, args: Token[]): Token[] {
    const name = t.text.toUpperCase();
    const parts = splitArguments(new Cursor(args));
    const number = (tokens: Token[] | undefined) => {
      const v = constantNow(parseExpression(new Cursor(tokens ?? []), this.hooks()));
      if (v === undefined) throw new SourceError(`${t.text} needs a constant count`, t.column);
      return v;
    };
    switch (name) {
      case '.CONCAT': {
        let text = '';
        for (const p of parts) {
          if (p.length !== 1 || p[0].kind !== 'string') throw new SourceError('.concat takes strings', p[0]?.column ?? t.column);
          text += p[0].text;
        }
        return [{ kind: 'string', text, value: 0, column: t.column }];
      }
      case '.STRING': {
        const text = args.map((a) => (a.kind === 'string' ? a.text : a.text)).join('');
        return [{ kind: 'string', text, value: 0, column: t.column }];
      }
      case '.IDENT': {
        if (parts.length !== 1 || parts[0].length !== 1 || parts[0][0].kind !== 'string') throw new SourceError('.ident takes one string', t.column);
        const text = parts[0][0].text;
        return [{ kind: /^[@A-Za-z_][A-Za-z0-9_]*$/.test(text) ? 'ident' : 'directive', text, value: 0, column: t.column }];
      }
      case '.LEFT': case '.RIGHT': {
        const n = number(parts[0]);
        const list = unbrace(parts[1] ?? []);
        return name === '.LEFT' ? list.slice(0, Math.max(0, n)) : list.slice(Math.max(0, list.length - n));
      }
      case '.MID': {
        const start = number(parts[0]);
        const count = number(parts[1]);
        return unbrace(parts[2] ?? []).slice(start, start + count);
      }
    }
    return [];
  }

  // ---- statements

  private statement(cursor: Cursor, frame: Frame): void {
    // Labels first: "name:", "@local:", ":" (unnamed).
    for (;;) {
      const t = cursor.peek();
      if (t?.kind === 'ident' && cursor.at(':', 1)) {
        cursor.index += 2;
        this.defineLabel(t);
      } else if (cursor.at(':')) {
        cursor.next();
        this.unnamed.push(this.pcValue());
        this.unnamedSizes.push(this.segment.addrSize);
      } else break;
    }
    if (cursor.done) return;
    const t = cursor.next();
    if (t.kind === 'ident' && (cursor.at('=') || cursor.at(':='))) {
      this.definitionTarget(t); // the name exists before what its value names, as in ca65
      const label = cursor.next().text === ':=';
      const expr = this.expression(cursor);
      this.expectEnd(cursor);
      return this.defineEquate(t, expr, label ? 'label' : 'equate');
    }
    if (t.kind === 'ident' && cursor.at('.SET')) {
      this.definitionTarget(t);
      cursor.next();
      const expr = this.expression(cursor);
      this.expectEnd(cursor);
      return this.defineEquate(t, expr, 'var');
    }
    if (t.kind === 'op' && t.text === '*' && cursor.accept('=')) return this.org(cursor);
    if (t.kind === 'directive') {
      const macro = this.macros.get(t.text);
      if (macro) return this.expandMacro(macro, t, cursor);
      return this.directive(t, cursor, frame);
    }
    if (t.kind === 'ident') {
      const macro = this.macros.get(t.text);
      if (macro) return this.expandMacro(macro, t, cursor);
      if (t.column === 1 && this.features.has('labels_without_colons') && !this.set.modes(t.text)) {
        this.defineLabel(t);
        if (cursor.done) return;
        return this.statement(cursor, frame);
      }
      return this.instruction(t, cursor);
    }
    throw new SourceError(`expected a label, an instruction or a directive, found '${t.text}'`, t.column);
  }

  private expectEnd(cursor: Cursor): void {
    if (!cursor.done) throw cursor.unexpected('the end of the line');
  }

  // ---- symbols

  private symbolIn(scope: Scope, name: string): Sym {
    let sym = scope.symbols.get(name);
    if (!sym) {
      sym = new Sym(name, scope);
      scope.symbols.set(name, sym);
    }
    return sym;
  }

  /** The symbol a definition of `name` here names: a cheap local of the last label, or one in the current scope. */
  private definitionTarget(t: Token): Sym {
    if (t.text.startsWith('@')) {
      let map = this.cheap.get(this.cheapOwner);
      if (!map) this.cheap.set(this.cheapOwner, (map = new Map()));
      let sym = map.get(t.text);
      if (!sym) {
        sym = new Sym(t.text, this.scope);
        map.set(t.text, sym);
        if (this.cheapOwner) this.cheapOwnerOf.set(sym, this.cheapOwner);
      }
      return sym;
    }
    return this.symbolIn(this.scope, t.text);
  }

  private checkRedefinition(sym: Sym, t: Token, kind: Sym['kind']): void {
    if (sym.imported !== undefined) throw new SourceError(`symbol '${t.text}' is already an import`, t.column);
    if (sym.defined && !(sym.kind === 'var' && kind === 'var')) {
      const at = sym.where ? `: already defined at ${sym.where.file}:${sym.where.line}` : ' (on the command line)';
      throw new SourceError(sym.kind === 'var' || kind === 'var' ? `symbol '${t.text}' is already a different kind${at}` : `duplicate symbol '${t.text}'${at}`, t.column);
    }
  }

  private defineLabel(t: Token): void {
    const sym = this.definitionTarget(t);
    this.checkRedefinition(sym, t, 'label');
    sym.kind = 'label';
    sym.value = this.pcValue();
    sym.addrSize = this.segment.org ? constSize(sym.value as number) : this.segment.addrSize;
    this.defined(sym, t);
    this.lineLabels.push(sym);
  }

  private order(sym: Sym): void {
    if (this.ordered.has(sym)) return;
    this.ordered.add(sym);
    this.symbolOrder.push(sym);
  }

  private defined(sym: Sym, t: Token): void {
    sym.where = this.where;
    if (!t.text.startsWith('@')) {
      if (sym.kind === 'label') this.cheapOwner = sym;
    }
    this.order(sym);
    if (sym.global) {
      sym.exported = sym.global;
      sym.global = undefined;
    }
    void t;
  }

  private defineEquate(t: Token, expr: Expr, kind: 'label' | 'equate' | 'var'): void {
    const sym = this.definitionTarget(t);
    this.checkRedefinition(sym, t, kind);
    const wasVar = sym.kind === 'var';
    sym.kind = kind;
    sym.value = undefined;
    sym.expr = undefined;
    try {
      sym.value = evaluate(expr);
    } catch (err) {
      if (!(err instanceof Unknown)) throw err;
      if (kind === 'var') throw new SourceError(`the value of .set must be known on this line: ${err.what}`, err.column);
      sym.expr = expr;
    }
    sym.addrSize = sym.value !== undefined ? this.sizeOfValue(sym.value) : this.treeSize(expr);
    if (expr.kind === 'value' && expr.size) sym.addrSize = expr.size;
    if (!wasVar) this.defined(sym, t);
    else sym.where = this.where;
    if (kind === 'label' && !t.text.startsWith('@')) this.cheapOwner = sym;
  }

  private valueDepth = 0;

  /** A symbol's value; throws Unknown while it has none. */
  private valueOf(sym: Sym, column = 1): Value {
    if (sym.value !== undefined) return sym.value;
    if (sym.expr) {
      if (sym.evaluating) throw new Unknown(`'${sym.name}' has no value: its definition uses an undefined symbol, or itself`, column);
      if (this.valueDepth >= MAX_SYMBOL_DEPTH) throw new SourceError(`'${sym.name}' is defined through more than ${MAX_SYMBOL_DEPTH} other symbols`, column);
      sym.evaluating = true;
      this.valueDepth++;
      try {
        // Known once, known for good: symbols other than .set ones are not redefined.
        sym.value = evaluate(sym.expr);
        // An address size left open by a forward reference is settled by the value, as ca65 does at the end.
        if (!sym.addrSize) sym.addrSize = this.sizeOfValue(sym.value);
        return sym.value;
      } catch (err) {
        if (err instanceof Unknown) throw new Unknown(`'${sym.name}' has no value: its definition uses an undefined symbol, or itself`, column, err.undefinedName);
        throw err;
      } finally {
        sym.evaluating = false;
        this.valueDepth--;
      }
    }
    if (sym.imported !== undefined) return { k: 0, terms: [['i:' + sym.name, 1]] };
    throw new Unknown(`undefined symbol '${sym.name}'`, column, sym.name);
  }

  /** The symbol `path` names from `scope`, looking outwards; undefined if none is known (yet). */
  private lookup(path: string, scope: Scope, owner: Sym | undefined, create: boolean): Sym | undefined {
    if (path.startsWith('@')) {
      let map = this.cheap.get(owner);
      if (!map && create) this.cheap.set(owner, (map = new Map()));
      let sym = map?.get(path);
      if (!sym && create) {
        sym = new Sym(path, scope);
        map!.set(path, sym);
        if (owner) this.cheapOwnerOf.set(sym, owner);
      }
      return sym;
    }
    if (path.indexOf('::') < 0) {
      for (let s: Scope | undefined = scope; s; s = s.parent) {
        const sym = s.symbols.get(path);
        if (sym && (sym.defined || sym.imported !== undefined || sym.global || sym.exported)) return sym;
      }
      return create ? this.symbolIn(scope, path) : undefined;
    }
    const parts = path.split('::');
    let at: Scope | undefined;
    if (parts[0] === '') at = this.global;
    else {
      for (let s: Scope | undefined = scope; s && !at; s = s.parent) at = s.children.get(parts[0]);
      if (!at) return undefined;
    }
    for (const p of parts.slice(1, -1)) {
      at = at.children.get(p);
      if (!at) return undefined;
    }
    const name = parts[parts.length - 1];
    return create ? this.symbolIn(at, name) : at.symbols.get(name);
  }

  private scopeNamed(path: string, from: Scope): Scope | undefined {
    const parts = path.split('::');
    let at: Scope | undefined;
    if (parts[0] === '') {
      at = this.global;
      parts.shift();
    } else {
      for (let s: Scope | undefined = from; s && !at; s = s.parent) at = s.children.get(parts[0]);
      if (!at) return undefined;
      parts.shift();
    }
    for (const p of parts) {
      at = at?.children.get(p);
      if (!at) return undefined;
    }
    return at;
  }

  private hooksCache?: ParseHooks;

  private hooks(): ParseHooks {
    return (this.hooksCache ??= {
      symbol: (path, t) => this.symbolReference(path, t),
      pc: (t) => ({ kind: 'value', value: this.pcValue(), column: t.column, size: this.segment.org ? undefined : this.segment.addrSize }),
      unnamed: (t) => {
        const index = t.value > 0 ? this.unnamed.length + t.value - 1 : this.unnamed.length + t.value;
        if (index < 0) throw new SourceError(`no unnamed label before this line for '${t.text}'`, t.column);
        return {
          kind: 'symbol', name: t.text, column: t.column,
          get: () => {
            const v = this.unnamed[index];
            if (v === undefined) throw new Unknown(`no unnamed label after this line for '${t.text}'`, t.column);
            return v;
          },
          addrSize: () => (this.unnamed[index] === undefined ? undefined : this.unnamedSizes[index]),
        };
      },
      char: (t) => this.charmap[t.value & 0xff] ?? t.value,
      func: (t, cursor) => this.builtin(t, cursor),
    });
  }

  private symbolReference(path: string, t: Token): Expr {
    const sym = this.lookup(path, this.scope, this.cheapOwner, false);
    if (sym?.kind === 'var') return { kind: 'value', value: sym.value!, column: t.column };
    // Remember the reference so that .ifref, the import list and the debug info see it.
    const used = sym ?? this.lookup(path, this.scope, this.cheapOwner, true);
    if (used) {
      used.referenced = true;
      this.noteReference(used, t.column);
    }
    return new SymbolReference(this, path, t.column, this.scope, this.cheapOwner, sym);
  }

  /** Debug info: this line uses the symbol. */
  private noteReference(sym: Sym, column: number): void {
    if (!this.debugInfo) return;
    // Inside a macro, ca65 names the source line that called it.
    const chain = this.where.chain;
    const site = chain[chain.length - 1];
    const pos: Pos = site?.fileIndex !== undefined ? [site.fileIndex, site.line, site.column] : this.pos(column);
    const key = `${pos[0]}:${pos[1]}`;
    if (!sym.refs?.has(key)) (sym.refs ??= new Map()).set(key, { pos });
  }

  /** A referenced symbol, found now or later (a forward reference), looking outwards from where it was written. */
  resolveReference(ref: SymbolReference): Sym | undefined {
    const sym = ref.sym;
    if (sym && (sym.defined || sym.imported !== undefined)) return sym;
    const found = this.lookup(ref.name, ref.scope, ref.owner, false);
    if (found) {
      found.referenced = true;
      if (found.defined || found.imported !== undefined) ref.sym = found;
    }
    return found;
  }

  referenceValue(ref: SymbolReference): Value {
    const s = this.resolveReference(ref);
    if (!s) throw new Unknown(`undefined symbol '${ref.name}'`, ref.column, ref.name);
    return this.valueOf(s, ref.column);
  }

  referenceSize(ref: SymbolReference): number | undefined {
    const s = this.resolveReference(ref);
    if (!s) return undefined;
    if (s.imported !== undefined && !s.defined) return s.imported;
    if (s.global && !s.defined) return s.global.size || ABS;
    if (s.addrSize) return s.addrSize;
    if (s.expr && !s.evaluating && this.valueDepth < MAX_SYMBOL_DEPTH) {
      s.evaluating = true;
      this.valueDepth++;
      try {
        return this.treeSize(s.expr) || undefined;
      } finally {
        s.evaluating = false;
        this.valueDepth--;
      }
    }
    return undefined;
  }

  // ---- built-in functions in expressions

  private builtin(t: Token, cursor: Cursor): Expr | undefined {
    const name = t.text.toUpperCase();
    const column = t.column;
    const number = (value: number): Expr => ({ kind: 'number', value, column });
    const inParens = <T>(read: () => T): T => {
      cursor.expect('(', `'(' after ${t.text}`);
      const v = read();
      cursor.expect(')', "')'");
      return v;
    };
    const rawArgument = (): Token[] => {
      const start = cursor.index;
      let depth = 0;
      while (!cursor.done) {
        const x = cursor.peek()!;
        if (x.kind === 'op' && (x.text === '(' || x.text === '{')) depth++;
        if (x.kind === 'op' && (x.text === ')' || x.text === '}')) {
          if (depth === 0) break;
          depth--;
        }
        if (x.kind === 'op' && x.text === ',' && depth === 0) break;
        cursor.next();
      }
      return unbrace(cursor.tokens.slice(start, cursor.index));
    };
    const symbolName = (): string => {
      let path = '';
      if (cursor.accept('::')) path = '::';
      const s = cursor.next();
      if (s.kind !== 'ident') throw new SourceError(`expected a symbol name in ${t.text}(...)`, s.column);
      path += s.text;
      while (cursor.at('::') && cursor.peek(1)?.kind === 'ident') {
        cursor.next();
        path += '::' + cursor.next().text;
      }
      return path;
    };
    switch (name) {
      case '.DEFINED': case '.DEF': {
        const path = inParens(symbolName);
        const sym = this.lookup(path, this.scope, this.cheapOwner, false);
        return number(sym && (sym.defined || sym.imported !== undefined) ? 1 : 0);
      }
      case '.REFERENCED': case '.REF': {
        const path = inParens(symbolName);
        const sym = this.lookup(path, this.scope, this.cheapOwner, false);
        return number(sym?.referenced ? 1 : 0);
      }
      case '.DEFINEDMACRO': {
        const n = inParens(() => cursor.next());
        return number(this.macros.has(n.text) ? 1 : 0);
      }
      case '.ISMNEMONIC': case '.ISMNEM': {
        const n = inParens(() => cursor.next());
        return number(this.set.modes(n.text) ? 1 : 0);
      }
      case '.BLANK':
        return number(inParens(rawArgument).length === 0 ? 1 : 0);
      case '.TCOUNT':
        return number(inParens(rawArgument).length);
      case '.MATCH': case '.XMATCH': {
        const [a, b] = inParens(() => {
          const a = rawArgument();
          cursor.expect(',', "','");
          return [a, rawArgument()];
        });
        const same = (x: Token, y: Token) => {
          if (x.kind !== y.kind && !(x.kind === 'ident' && y.kind === 'ident')) return false;
          if (name === '.MATCH') return x.kind !== 'ident' && x.kind !== 'directive' ? x.text === y.text : x.kind === y.kind;
          return x.text === y.text && x.value === y.value;
        };
        const sameKind = (x: Token, y: Token) => (x.kind === 'number' || x.kind === 'char' ? y.kind === x.kind : x.kind === 'op' || x.kind === 'directive' ? x.text.toUpperCase() === y.text.toUpperCase() : x.kind === y.kind);
        const eq = a.length === b.length && a.every((x, i) => (name === '.MATCH' ? sameKind(x, b[i]) : same(x, b[i])));
        return number(eq ? 1 : 0);
      }
      case '.CONST': {
        const e = inParens(() => this.expression(cursor));
        return number(constantNow(e) !== undefined ? 1 : 0);
      }
      case '.STRAT': {
        const [str, index] = inParens(() => {
          const str = cursor.next();
          if (str.kind !== 'string') throw new SourceError('.strat takes a string and an index', str.column);
          cursor.expect(',', "','");
          return [str, this.constant(cursor, 'the index of .strat')] as const;
        });
        if (index < 0 || index >= str.text.length) throw new SourceError(`.strat: index ${index} is outside "${str.text}"`, column);
        return number(this.charmap[str.text.charCodeAt(index) & 0xff]);
      }
      case '.STRLEN': {
        const s = inParens(() => cursor.next());
        if (s.kind !== 'string') throw new SourceError('.strlen takes a string', s.column);
        return number(s.text.length);
      }
      case '.CPU':
        return number(cpuBits(this.set.name));
      case '.VERSION':
        return number(0x2190);
      case '.TIME':
        return number(0);
      case '.PARAMCOUNT':
        throw new SourceError('.paramcount is only known inside a macro', column);
      case '.ASIZE': case '.ISIZE':
        return number(8);
      case '.BANK':
        return inParens(() => {
          const e = this.expression(cursor);
          return { kind: 'lazy', column, get: () => ({ tree: ['bank', toLinkExpr(evaluate(e))] }) } as Expr;
        });
      case '.MAX': case '.MIN': {
        const [a, b] = inParens(() => {
          const a = this.expression(cursor);
          cursor.expect(',', "','");
          return [a, this.expression(cursor)];
        });
        const op = name === '.MAX' ? 'max' : 'min';
        return { kind: 'lazy', column, get: () => applyBinary(op, evaluate(a), evaluate(b), column) };
      }
      case '.SIZEOF': {
        const path = inParens(symbolName);
        const scope = this.scope;
        const owner = this.cheapOwner;
        return {
          kind: 'lazy', column,
          get: () => {
            const target = this.scopeNamed(path, scope);
            if (target?.size !== undefined) return target.size;
            const sym = this.lookup(path, scope, owner, false);
            if (sym?.size !== undefined) return sym.size;
            throw new Unknown(`.sizeof(${path}): no scope, struct or sized symbol of that name (yet)`, column);
          },
        };
      }
      case '.ADDRSIZE': {
        const path = inParens(symbolName);
        const sym = this.lookup(path, this.scope, this.cheapOwner, false);
        return number(sym ? (sym.imported ?? sym.addrSize) || 0 : 0);
      }
      case '.HIBYTE': case '.LOBYTE': case '.BANKBYTE': case '.LOWORD': case '.HIWORD': case '.BITNOT':
        return undefined; // unary operators, parsed as such
    }
    return undefined;
  }

  private expression(cursor: Cursor): Expr {
    return parseExpression(cursor, this.hooks());
  }

  /** An expression whose value must be a number now (a size, a count, a condition). */
  private constant(cursor: Cursor, what: string): number {
    const e = this.expression(cursor);
    return this.constantOf(e, what);
  }

  private constantOf(e: Expr, what: string): number {
    let v: Value;
    try {
      v = evaluate(e);
    } catch (err) {
      if (err instanceof Unknown) throw new SourceError(`${what} must be known on this line (no forward references): ${err.what}`, err.column);
      throw err;
    }
    if (typeof v !== 'number') throw new SourceError(`${what} must be a constant, not an address the linker places`, startColumn(e));
    return v;
  }

  private pcValue(): Value {
    const s = this.segment;
    if (s.org) return (s.org.address + s.size - s.org.offset) | 0;
    return { k: s.size, terms: s.terms };
  }

  private sizeOfValue(v: Value): number {
    if (typeof v === 'number') return constSize(v);
    if ('tree' in v) return 0;
    let size = 0;
    for (const [key] of v.terms) {
      const s = key.startsWith('s:') ? this.segments.get(key.slice(2))?.addrSize ?? ABS : this.importSize(key.slice(2));
      size = Math.max(size, s);
    }
    return size || constSize(v.k);
  }

  private importSize(name: string): number {
    for (const s of this.allSymbols()) if (s.name === name && s.imported !== undefined) return s.imported;
    return ABS;
  }

  private *allSymbols(): Iterable<Sym> {
    const walk = function* (scope: Scope): Iterable<Sym> {
      yield* scope.symbols.values();
      for (const c of scope.children.values()) yield* walk(c);
    };
    yield* walk(this.global);
  }

  /** ca65's address size of an operand: 1 zero page, 2 absolute, 0 unknown (a forward reference). */
  private addrSizeOf(e: Expr): number {
    try {
      const v = evaluate(e);
      return this.sizeOfValue(v) || this.treeSize(e);
    } catch (err) {
      if (!(err instanceof Unknown)) throw err;
      return this.treeSize(e);
    }
  }

  /** The address size from the shape of the expression, as ca65 works it out while it is not fully known. */
  private treeSize(e: Expr): number {
    switch (e.kind) {
      case 'number': return constSize(e.value);
      case 'value': return e.size ?? this.sizeOfValue(e.value);
      case 'symbol': return e.addrSize() ?? 0;
      case 'lazy': return 0;
      case 'unary':
        if (e.op === '<' || e.op === '>' || e.op === '^') return ZP;
        if (e.op === 'loword' || e.op === 'hiword') return ABS;
        return this.treeSize(e.operand);
      case 'binary': {
        const a = this.treeSize(e.left);
        const b = this.treeSize(e.right);
        return a === 0 || b === 0 ? 0 : Math.max(a, b);
      }
    }
  }

  // ---- emitting

  private emitBytes(bytes: number[]): void {
    const s = this.segment;
    this.checkRoom(bytes.length);
    for (const b of bytes) s.bytes.push(b & 0xff);
  }

  private checkRoom(n: number): void {
    const s = this.segment;
    if (s.org && s.org.address + s.size - s.org.offset + n > 0x10000) {
      throw new SourceError(`${n} bytes at ${hexValue(s.org.address + s.size - s.org.offset)} run past $FFFF`, 1);
    }
    if (s.size + n > 0x1000000) throw new SourceError(`segment ${s.name} grows past 16 MiB`, 1);
  }

  /** `size` bytes whose value is an expression: known now, at the end of the file, or by the linker. */
  private emitExpr(expr: Expr, size: number, check: PendingFixup['check'], what: string, from?: Value): void {
    const s = this.segment;
    this.checkRoom(Math.abs(size));
    const offset = s.size;
    for (let i = 0; i < Math.abs(size); i++) s.bytes.push(0);
    this.pending.push({ segment: s, offset, size, expr, check, from, what, column: startColumn(expr), where: this.where });
  }

  // ---- instructions

  private instruction(mnemonic: Token, cursor: Cursor): void {
    const modes = this.set.modes(mnemonic.text);
    if (!modes) throw new SourceError(explainUnknown(mnemonic.text, this.set), mnemonic.column);
    if (modes.has('zpr')) return this.bitBranch(modes.get('zpr')!, cursor);
    const operand = parseOperand(cursor, this.hooks());
    const upper = mnemonic.text.toUpperCase();
    const info = this.chooseOpcode(upper, modes, operand);
    this.checkRoom(info.bytes);
    this.emitBytes([info.opcode]);
    if (operand.form === 'none' || operand.form === 'acc') return;
    switch (info.mode) {
      case 'imm':
        return this.emitExpr(this.bounded(operand.value, 1), 1, 'unsigned', 'immediate value');
      case 'zp': case 'zpx': case 'zpy': case 'izx': case 'izy': case 'izp':
        return this.emitExpr(operand.value, 1, 'zp', `${info.mnemonic} ${MODE_SYNTAX[info.mode]}`);
      case 'abs': case 'abx': case 'aby': case 'ind': case 'iax':
        return this.emitExpr(operand.value, 2, 'unsigned', 'address');
      case 'rel':
        return this.emitExpr(operand.value, 1, 'branch', 'branch target', this.pcAfter(1));
      case 'zpr':
        if (operand.form !== 'bit-branch') throw new Error('zpr without a target');
        this.emitExpr(operand.value, 1, 'zp', `${info.mnemonic}`);
        return this.emitExpr(operand.target, 1, 'branch', 'branch target', this.pcAfter(1));
    }
  }

  /**
   * BBR/BBS zp, target: as in ca65, each operand is read after the bytes before
   * it are out, so `*` in the target is the address of the offset byte.
   */
  private bitBranch(info: OpcodeInfo, cursor: Cursor): void {
    this.checkRoom(3);
    this.emitBytes([info.opcode]);
    this.emitExpr(this.expression(cursor), 1, 'zp', info.mnemonic);
    cursor.expect(',', "',' and the branch target");
    const target = this.expression(cursor);
    this.expectEnd(cursor);
    this.emitExpr(target, 1, 'branch', 'branch target', this.pcAfter(1));
  }

  /** With .feature force_range, a value is cut to the size it goes into (ca65's bounded expressions). */
  private bounded(e: Expr, size: number): Expr {
    if (!this.features.has('force_range') || size > 2) return e;
    return { kind: 'unary', op: size === 1 ? '<' : 'loword', operand: e, column: e.column };
  }

  private pcAfter(n: number): Value {
    const pc = this.pcValue();
    return typeof pc === 'number' ? pc + n : { k: (pc as Linear).k + n, terms: (pc as Linear).terms };
  }

  /** The opcode of a mode the instruction must have; else the error says which CPU has it. */
  private need(modes: ReadonlyMap<AddressingMode, OpcodeInfo>, mnemonic: string, operand: Operand, mode: AddressingMode): OpcodeInfo {
    const info = modes.get(mode);
    if (!info) throw new SourceError(explainMode(mnemonic, mode, this.set), operand.column);
    return info;
  }

  private chooseOpcode(mnemonic: string, modes: ReadonlyMap<AddressingMode, OpcodeInfo>, operand: Operand): OpcodeInfo {
    switch (operand.form) {
      case 'none':
        return modes.get('imp') ?? modes.get('acc') ?? this.need(modes, mnemonic, operand, 'imp');
      case 'acc':
        return this.need(modes, mnemonic, operand, 'acc');
      case 'imm':
        return this.need(modes, mnemonic, operand, 'imm');
      case 'bit-branch':
        if (!modes.has('zpr')) throw new SourceError(`only X or Y may follow the ',' in ${mnemonic}'s operand`, startColumn(operand.target));
        return this.need(modes, mnemonic, operand, 'zpr');
      case 'indirect': {
        if (operand.index === 'Y') return this.need(modes, mnemonic, operand, 'izy');
        if (operand.index === 'X') {
          const zp = modes.get('izx');
          const abs = modes.get('iax');
          if (zp && abs) return this.addrSizeOf(operand.value) === ZP ? zp : abs;
          return zp ?? abs ?? this.need(modes, mnemonic, operand, instructionSet('65C02').modes(mnemonic)?.has('iax') ? 'iax' : 'izx');
        }
        const zp = modes.get('izp');
        const abs = modes.get('ind');
        if (zp && abs) return this.addrSizeOf(operand.value) === ZP ? zp : abs;
        return abs ?? zp ?? this.need(modes, mnemonic, operand, 'izp');
      }
      case 'direct': {
        if (!operand.index && modes.has('rel')) return modes.get('rel')!;
        const [zpMode, absMode] = ZP_OR_ABS[operand.index ?? '-'];
        if (operand.force) return this.need(modes, mnemonic, operand, operand.force === 'zp' ? zpMode : absMode);
        const zp = modes.get(zpMode);
        const abs = modes.get(absMode);
        if (zp && abs) return this.addrSizeOf(operand.value) === ZP ? zp : abs;
        if (zp && !abs) {
          const size = this.addrSizeOf(operand.value);
          if (size === ABS || size === FAR) {
            const v = constantNow(operand.value);
            if (v !== undefined) throw new SourceError(`${mnemonic} ${MODE_SYNTAX[zpMode]} needs a zero-page address ($00 to $FF), got ${hexValue(v)}`, operand.column);
            throw new SourceError(explainMode(mnemonic, absMode, this.set), operand.column);
          }
          return zp;
        }
        return abs ?? this.need(modes, mnemonic, operand, absMode);
      }
    }
  }

  // ---- directives

  private directive(t: Token, cursor: Cursor, frame: Frame): void {
    const name = t.text.toUpperCase();
    switch (name) {
      case '.BYTE': case '.BYT': case '.ASCII':
        return this.data(cursor, 1);
      case '.ASCIIZ':
        this.data(cursor, 1);
        return this.emitBytes([0]);
      case '.WORD': case '.ADDR':
        return this.data(cursor, 2);
      case '.DBYT':
        return this.data(cursor, -2);
      case '.DWORD':
        return this.data(cursor, 4);
      case '.FARADDR':
        return this.data(cursor, 3);
      case '.LOBYTES': case '.HIBYTES': case '.BANKBYTES':
        return this.data(cursor, 1, name === '.LOBYTES' ? '<' : name === '.HIBYTES' ? '>' : '^');
      case '.RES': {
        const count = this.constant(cursor, 'the size of .res');
        if (count < 0 || count > 0x1000000) throw new SourceError(`the size of .res must be $00 to $1000000, not ${hexValue(count)}`, t.column + 5);
        const given = cursor.accept(',');
        const fill = given ? this.fillValue(cursor) : 0;
        this.expectEnd(cursor);
        this.checkRoom(count);
        if (!given) this.segment.addFill(count);
        for (let i = 0; i < count; i++) this.segment.bytes.push(fill);
        return;
      }
      case '.ALIGN': {
        const boundary = this.constant(cursor, 'the boundary of .align');
        if (boundary < 1 || boundary > 0x10000 || (boundary & (boundary - 1)) !== 0) throw new SourceError(`the boundary of .align must be a power of two from 1 to $10000, not ${hexValue(boundary)}`, t.column);
        const given = cursor.accept(',');
        const fill = given ? this.fillValue(cursor) : 0;
        this.expectEnd(cursor);
        const s = this.segment;
        const at = s.org ? s.org.address + s.size - s.org.offset : s.size;
        if (!s.org) s.align = Math.max(s.align, boundary);
        const count = (boundary - (at % boundary)) % boundary;
        this.checkRoom(count);
        if (!given) s.addFill(count);
        for (let i = 0; i < count; i++) s.bytes.push(fill);
        return;
      }
      case '.ORG':
        return this.org(cursor);
      case '.RELOC': {
        this.expectEnd(cursor);
        this.segment.org = undefined;
        this.segment.marks.push({ offset: this.segment.size });
        return;
      }
      case '.INCLUDE': {
        const path = this.stringArgument(cursor, '.include');
        this.expectEnd(cursor);
        const { path: found, contents } = this.read(path);
        const text = typeof contents === 'string' ? contents : new TextDecoder().decode(contents);
        if (this.frames.length >= MAX_NESTING) throw new SourceError(`.include nested more than ${MAX_NESTING} deep (does a file include itself?)`, path.column);
        const includes = this.frames.filter((f) => f.kind === 'file').length;
        if (includes > 16) throw new SourceError(`.include nested more than 16 deep (does a file include itself?)`, path.column);
        return this.pushFile(found, text);
      }
      case '.INCBIN': {
        const path = this.stringArgument(cursor, '.incbin');
        const { path: found, contents } = this.read(path);
        if (!this.files.some((f) => f.name === found)) {
          const info = this.options.fileInfo?.(found);
          this.files.push({ name: found, size: info?.size ?? contents.length, mtime: info?.mtime ?? 0 });
        }
        const bytes = typeof contents === 'string' ? new TextEncoder().encode(contents) : contents;
        const start = cursor.accept(',') ? this.constant(cursor, 'the start of .incbin') : 0;
        const size = cursor.accept(',') ? this.constant(cursor, 'the size of .incbin') : bytes.length - start;
        this.expectEnd(cursor);
        if (start < 0 || size < 0 || start + size > bytes.length) throw new SourceError(`.incbin "${path.text}": start ${start} and size ${size} do not fit in its ${bytes.length} bytes`, path.column);
        return this.emitBytes(Array.from(bytes.subarray(start, start + size)));
      }
      case '.SETCPU': {
        const cpu = this.stringArgument(cursor, '.setcpu');
        this.expectEnd(cursor);
        const chosen = CPU_NAMES.find((n) => n === cpu.text.toUpperCase());
        if (!chosen) throw new SourceError(`.setcpu "${cpu.text}": this assembler knows ${CPU_NAMES.map((n) => `"${n}"`).join(', ')}`, cpu.column);
        this.set = instructionSet(chosen);
        return;
      }
      case '.P02': case '.PC02': case '.PSC02':
        this.expectEnd(cursor);
        this.set = instructionSet(({ '.P02': '6502', '.PC02': '65C02', '.PSC02': '65SC02' } as Record<string, CpuName>)[name]);
        return;
      case '.PUSHCPU':
        this.expectEnd(cursor);
        this.cpuStack.push(this.set);
        return;
      case '.POPCPU': {
        this.expectEnd(cursor);
        const set = this.cpuStack.pop();
        if (!set) throw new SourceError('.popcpu without .pushcpu', t.column);
        this.set = set;
        return;
      }
      case '.DEBUGINFO': case '.AUTOIMPORT': {
        // .debuginfo [+|-|on|off]: as -g. .autoimport: undefined symbols become imports.
        const arg = cursor.done ? '+' : cursor.next().text.toLowerCase();
        this.expectEnd(cursor);
        if (!['+', '-', 'on', 'off'].includes(arg)) throw new SourceError(`${t.text} takes +, -, on or off, not '${arg}'`, t.column);
        if (name === '.DEBUGINFO') this.debugInfo = arg === '+' || arg === 'on';
        else this.autoImport = arg === '+' || arg === 'on';
        return;
      }
      case '.FORCEWORD':
        return this.data(cursor, 2);
      case '.P816': case '.P4510':
        throw new SourceError(`${t.text}: this assembler knows the 6502, 6502X, 65SC02 and 65C02`, t.column);
      case '.END':
        this.ended = true;
        return;
      case '.SEGMENT': {
        const seg = this.stringArgument(cursor, '.segment');
        let size = 0;
        if (cursor.accept(':')) size = this.addrSizeName(cursor);
        this.expectEnd(cursor);
        return this.useSegment(seg.text, size, seg.column);
      }
      case '.CODE': case '.RODATA': case '.DATA': case '.BSS': case '.ZEROPAGE': case '.NULL':
        this.expectEnd(cursor);
        return this.useSegment(name.slice(1), 0, t.column);
      case '.PUSHSEG':
        this.segmentStack.push(this.segment);
        return;
      case '.POPSEG': {
        const s = this.segmentStack.pop();
        if (!s) throw new SourceError('.popseg without .pushseg', t.column);
        this.segment = s;
        return;
      }
      case '.IMPORT': case '.IMPORTZP': case '.FORCEIMPORT':
        return this.symbolList(cursor, (sym, tok, size) => this.declareImport(sym, tok, size), name === '.IMPORTZP' ? ZP : ABS);
      case '.EXPORT': case '.EXPORTZP':
        return this.exportList(cursor, name === '.EXPORTZP' ? ZP : 0);
      case '.GLOBAL': case '.GLOBALZP':
        return this.symbolList(cursor, (sym, tok, size) => {
          if (sym.defined) sym.exported = { size: size || sym.addrSize, pos: this.pos(tok.column) };
          else sym.global = { size, pos: this.pos(tok.column) };
        }, name === '.GLOBALZP' ? ZP : 0);
      case '.PROC': return this.proc(cursor, t);
      case '.ENDPROC': return this.endScope('proc', t, cursor);
      case '.SCOPE':
        this.openScope(cursor, t);
        return;
      case '.ENDSCOPE': return this.endScope('scope', t, cursor);
      case '.STRUCT': case '.UNION': return this.struct(cursor, t, name === '.UNION');
      case '.ENUM': return this.enumeration(cursor, t);
      case '.TAG': {
        const path = cursor.next();
        const target = this.scopeNamed(path.text, this.scope);
        if (target?.size === undefined) throw new SourceError(`.tag ${path.text}: no struct of that name`, path.column);
        this.expectEnd(cursor);
        this.checkRoom(target.size);
        this.segment.addFill(target.size);
        return this.emitBytes(new Array(target.size).fill(0));
      }
      case '.MACRO': case '.MAC': {
        const n = cursor.next();
        if (n.kind !== 'ident' && n.kind !== 'directive') throw new SourceError('.macro needs a name', n.column);
        const params: string[] = [];
        while (!cursor.done) {
          const p = cursor.next();
          if (p.kind !== 'ident') throw new SourceError(`a macro parameter must be a name, not '${p.text}'`, p.column);
          params.push(p.text);
          if (!cursor.done) cursor.expect(',', "',' between parameters");
        }
        if (this.macros.has(n.text)) throw new SourceError(`macro '${n.text}' is already defined`, n.column);
        this.collecting = { kind: 'macro', macro: { name: n.text, params, body: [], file: this.where.file, fileIndex: this.where.fileIndex, line: this.where.line }, body: [], depth: 0, where: this.where, column: t.column };
        return;
      }
      case '.DELMACRO': case '.DELMAC': {
        const n = cursor.next();
        if (!this.macros.delete(n.text)) throw new SourceError(`no macro '${n.text}' to delete`, n.column);
        return;
      }
      case '.ENDMACRO': case '.ENDMAC':
        throw new SourceError(`${t.text} without .macro`, t.column);
      case '.EXITMACRO': case '.EXITMAC': {
        let i = this.frames.length - 1;
        while (i >= 0 && this.frames[i].kind !== 'macro') i--;
        if (i < 0) throw new SourceError('.exitmacro outside a macro', t.column);
        const condDepth = this.frames[i].condDepth;
        this.frames.length = i;
        this.conditionals.length = condDepth;
        return;
      }
      case '.REPEAT': case '.REPT': {
        const count = this.constant(cursor, 'the count of .repeat');
        let variable: string | undefined;
        if (cursor.accept(',')) {
          const v = cursor.next();
          if (v.kind !== 'ident') throw new SourceError('the .repeat counter must be a name', v.column);
          variable = v.text;
        }
        this.expectEnd(cursor);
        if (count < 0 || count > 0x100000) throw new SourceError(`the count of .repeat must be 0 to 1048576, not ${count}`, t.column);
        this.collecting = { kind: 'repeat', count, variable, body: [], depth: 0, where: this.where, column: t.column };
        return;
      }
      case '.ENDREPEAT': case '.ENDREP':
        throw new SourceError(`${t.text} without .repeat`, t.column);
      case '.DEFINE': {
        const n = cursor.next();
        if (n.kind !== 'ident') throw new SourceError('.define needs a name', n.column);
        let params: string[] | undefined;
        if (cursor.at('(') && cursor.peek()!.column === n.column + n.text.length) {
          cursor.next();
          params = [];
          while (!cursor.accept(')')) {
            const p = cursor.next();
            if (p.kind !== 'ident') throw new SourceError(`a .define parameter must be a name, not '${p.text}'`, p.column);
            params.push(p.text);
            cursor.accept(',');
          }
        }
        const body = unbrace(cursor.tokens.slice(cursor.index));
        this.defines.set(n.text, { params, body });
        return;
      }
      case '.UNDEFINE': case '.UNDEF': {
        const n = cursor.next();
        this.defines.delete(n.text);
        return;
      }
      case '.LOCAL':
        throw new SourceError('.local outside a macro', t.column);
      case '.MACPACK': {
        const n = cursor.next();
        const text = MACPACKS[n.text.toLowerCase()];
        if (text === undefined) throw new SourceError(`.macpack ${n.text}: this assembler has ${Object.keys(MACPACKS).join(', ')}`, n.column);
        this.expectEnd(cursor);
        if (this.loadedPacks.has(n.text.toLowerCase())) return;
        this.loadedPacks.add(n.text.toLowerCase());
        this.pushFile(`<macpack ${n.text.toLowerCase()}>`, text, true);
        this.frames[this.frames.length - 1].listingLines = false;
        this.files.pop();
        this.frames[this.frames.length - 1].fileIndex = this.where.fileIndex;
        return;
      }
      case '.FEATURE':
        do {
          const f = cursor.next();
          const feature = f.text.toLowerCase();
          if (OTHER_FEATURES.has(feature)) throw new SourceError(`.feature ${feature}: this assembler does not have it`, f.column);
          if (!FEATURES.has(feature)) throw new SourceError(`unknown feature '${f.text}'`, f.column);
          let on = true;
          if (cursor.at('+')) cursor.next();
          else if (cursor.at('-')) {
            cursor.next();
            on = false;
          }
          if (on) this.features.add(feature);
          else this.features.delete(feature);
          this.lexing = { dollarIsPc: this.features.has('dollar_is_pc'), stringEscapes: this.features.has('string_escapes') };
        } while (cursor.accept(','));
        this.expectEnd(cursor);
        return;
      case '.CHARMAP': {
        const from = this.constant(cursor, 'the character of .charmap');
        cursor.expect(',', "','");
        const to = this.constant(cursor, 'the code of .charmap');
        this.expectEnd(cursor);
        if (from < 0 || from > 255 || to < 0 || to > 255) throw new SourceError('.charmap takes a character and a code, 0 to 255', t.column);
        this.charmap[from] = to;
        return;
      }
      case '.ASSERT': {
        const expr = this.expression(cursor);
        cursor.expect(',', "',' and an action (error, warning, ldwarning, lderror)");
        const action = cursor.next().text.toLowerCase();
        if (!['error', 'warning', 'ldwarning', 'lderror'].includes(action)) throw new SourceError(`.assert: unknown action '${action}' (error, warning, ldwarning, lderror)`, t.column);
        let message = 'assertion failed';
        if (cursor.accept(',')) message = this.stringArgument(cursor, '.assert').text;
        this.expectEnd(cursor);
        this.assertions.push({ expr, action: action.endsWith('warning') ? 'warning' : 'error', message, where: this.where, column: startColumn(expr), ld: action.startsWith('ld') });
        return;
      }
      case '.OUT': case '.WARNING': case '.ERROR': case '.FATAL': {
        const text = this.stringArgument(cursor, t.text.toLowerCase()).text;
        this.expectEnd(cursor);
        if (name === '.OUT') return void this.warnings.push({ file: this.where.file, line: this.where.line, column: 0, message: text });
        if (name === '.WARNING') return this.warn(t.column, text);
        this.errorAt(this.where, t.column, text);
        if (name === '.FATAL') this.ended = true;
        return;
      }
      case '.CONSTRUCTOR': case '.DESTRUCTOR': case '.INTERRUPTOR': case '.CONDES': {
        // An entry of a table the linker builds (FEATURES CONDES): the symbol is exported with its type and priority.
        const n = cursor.next();
        if (n.kind !== 'ident') throw new SourceError(`${t.text} needs a symbol name`, n.column);
        let type = CONDES_TYPES.indexOf(name.slice(1).toLowerCase());
        if (name === '.CONDES') {
          cursor.expect(',', "',' and a type (constructor, destructor, interruptor or a number)");
          const tt = cursor.peek();
          if (tt?.kind === 'ident' && CONDES_TYPES.includes(tt.text.toLowerCase())) {
            cursor.next();
            type = CONDES_TYPES.indexOf(tt.text.toLowerCase());
          } else type = this.constant(cursor, 'the type of .condes');
          if (type < 0 || type > 6) throw new SourceError(`the type of .condes must be 0 to 6, not ${type}`, t.column);
        }
        const priority = cursor.accept(',') ? this.constant(cursor, `the priority of ${t.text}`) : 7;
        if (priority < 1 || priority > 32) throw new SourceError(`the priority of ${t.text} must be 1 to 32, not ${priority}`, t.column);
        this.expectEnd(cursor);
        const sym = this.symbolIn(this.scope, n.text);
        if (sym.imported !== undefined) throw new SourceError(`symbol '${n.text}' is imported: it cannot be a ${CONDES_TYPES[type] ?? 'condes'} entry`, n.column);
        sym.exported ??= { size: 0, pos: this.pos(n.column) };
        (sym.condes ??= []).push({ type, priority });
        return;
      }
    }
    if (isConditional(name)) return this.conditional(cursor, name, t);
    if (IGNORED.has(name)) return;
    throw new SourceError(`unknown directive '${t.text}'`, t.column);
  }

  private readonly loadedPacks = new Set<string>();
  private readonly cpuStack: InstructionSet[] = [];

  private useSegment(name: string, size: number, column: number): void {
    let s = this.segments.get(name);
    if (!s) {
      s = new Segment(name, size || ABS, this.segments.size);
      this.segments.set(name, s);
    } else if (size && size !== s.addrSize) {
      throw new SourceError(`segment ${name} is ${SIZE_NAMES[s.addrSize]}, not ${SIZE_NAMES[size]}`, column);
    }
    this.segment = s;
  }

  private addrSizeName(cursor: Cursor): number {
    const t = cursor.next();
    const n = t.text.toLowerCase();
    if (n === 'zeropage' || n === 'zp' || n === 'direct') return ZP;
    if (n === 'absolute' || n === 'abs' || n === 'near') return ABS;
    if (n === 'far' || n === 'long') return FAR;
    throw new SourceError(`unknown address size '${t.text}' (zeropage, absolute or far)`, t.column);
  }

  private org(cursor: Cursor): void {
    const address = this.constant(cursor, 'the address of .org');
    this.expectEnd(cursor);
    if (address < 0 || address > 0xffff) throw new SourceError(`the address of .org must be $00 to $FFFF, not ${hexValue(address)}`, cursor.tokens[1]?.column ?? 1);
    this.segment.org = { address, offset: this.segment.size };
    this.segment.marks.push({ offset: this.segment.size, address });
  }

  private fillValue(cursor: Cursor): number {
    const v = this.constant(cursor, 'the fill value');
    if (v < -128 || v > 255) throw new SourceError(`fill value ${hexValue(v)} is out of range (0 to $FF)`, cursor.column);
    return v & 0xff;
  }

  private stringArgument(cursor: Cursor, directive: string): Token {
    const t = cursor.peek();
    if (t?.kind !== 'string') throw cursor.unexpected(`a quoted name after ${directive}`);
    return cursor.next();
  }

  private read(name: Token): { path: string; contents: Uint8Array | string } {
    const read = this.options.readFile;
    if (!read) throw new SourceError(`cannot read "${name.text}": no readFile was given to assemble()`, name.column);
    const candidates = [resolveInclude(this.where.file.startsWith('<') ? this.fileName : this.where.file, name.text)];
    // As ca65: the including file's folder, then the current one, then the -I folders.
    if (!/^([/\\]|[A-Za-z]:[/\\])/.test(name.text)) {
      if (!candidates.includes(name.text)) candidates.push(name.text);
      for (const dir of this.options.includeDirs ?? []) candidates.push(resolveInclude(dir.replace(/[/\\]?$/, '/'), name.text));
    }
    let firstError: unknown;
    for (const path of candidates) {
      try {
        return { path, contents: read(path, this.maxFile) };
      } catch (err) {
        firstError ??= err;
        if ((err as { code?: string }).code !== 'ENOENT') break;
      }
    }
    const code = (firstError as { code?: string }).code;
    throw new SourceError(`cannot read "${candidates[0]}": ${code === 'ENOENT' ? 'no such file' : (firstError as Error).message}`, name.column);
  }

  /** .byte/.ascii (width 1, strings allowed), .word (2), .dbyt (-2: big-endian), .faraddr (3), .dword (4). */
  private data(cursor: Cursor, width: number, byteOf?: string): void {
    do {
      const t = cursor.peek();
      if (width === 1 && !byteOf && t?.kind === 'string' && (cursor.at(',', 1) || cursor.index === cursor.tokens.length - 1)) {
        cursor.next();
        const codes: number[] = [];
        for (let i = 0; i < t.text.length; i++) codes.push(this.charmap[t.text.charCodeAt(i) & 0xff]);
        this.emitBytes(codes);
        continue;
      }
      let e = this.expression(cursor);
      if (byteOf) e = { kind: 'unary', op: byteOf, operand: e, column: e.column };
      else e = this.bounded(e, Math.abs(width));
      this.emitExpr(e, width, width === 4 ? 'any' : 'unsigned', width === 1 ? 'byte value' : width === 3 ? 'far address' : 'word value');
    } while (cursor.accept(','));
    this.expectEnd(cursor);
  }

  // ---- imports, exports

  private symbolList(cursor: Cursor, each: (sym: Sym, t: Token, size: number) => void, size: number): void {
    do {
      const t = cursor.next();
      if (t.kind !== 'ident') throw new SourceError(`expected a symbol name, found '${t.text}'`, t.column);
      let s = size;
      if (cursor.accept(':')) s = this.addrSizeName(cursor);
      each(this.symbolIn(this.scope, t.text), t, s);
    } while (cursor.accept(','));
    this.expectEnd(cursor);
  }

  private declareImport(sym: Sym, t: Token, size: number): void {
    if (sym.defined) throw new SourceError(`symbol '${t.text}' is already defined here: it cannot be imported too`, t.column);
    if (sym.imported !== undefined && sym.imported !== size) throw new SourceError(`symbol '${t.text}' was imported with another address size`, t.column);
    sym.imported = size;
    sym.importPos = [...sym.importPos, this.pos(t.column)];
    this.order(sym);
  }

  private exportList(cursor: Cursor, size: number): void {
    do {
      const t = cursor.next();
      if (t.kind !== 'ident') throw new SourceError(`expected a symbol name, found '${t.text}'`, t.column);
      let s = size;
      if (cursor.accept(':')) s = this.addrSizeName(cursor);
      const sym = this.symbolIn(this.scope, t.text);
      if (cursor.at('=') || cursor.at(':=')) {
        const label = cursor.next().text === ':=';
        this.defineEquate(t, this.expression(cursor), label ? 'label' : 'equate');
      }
      if (sym.imported !== undefined) throw new SourceError(`symbol '${t.text}' is imported: it cannot be exported too`, t.column);
      sym.exported = { size: s, pos: this.pos(t.column) };
      this.noteReference(sym, t.column); // ca65 counts an .export as a use
    } while (cursor.accept(','));
    this.expectEnd(cursor);
  }

  // ---- scopes

  private openScope(cursor: Cursor, t: Token, kind: 'scope' | 'proc' = 'scope'): Scope {
    let name = '';
    if (cursor.peek()?.kind === 'ident') name = cursor.next().text;
    if (kind === 'proc' && !name) throw new SourceError('.proc needs a name', t.column);
    let size = 0;
    if (cursor.accept(':')) size = this.addrSizeName(cursor);
    this.expectEnd(cursor);
    const anon = name || `__anon${this.scopes.length}`;
    if (this.scope.children.has(anon)) throw new SourceError(`scope '${name}' is already defined here`, t.column);
    const scope = new Scope(name, kind, this.scope);
    if (name) this.scope.children.set(name, scope);
    scope.segment = this.segment;
    scope.start = this.segment.size;
    for (const seg of this.segments.values()) scope.opened.set(seg, seg.size);
    scope.index = this.scopes.length;
    this.scopes.push(scope);
    // `.proc name: zeropage`: the label's address size.
    const label = this.lineLabels[this.lineLabels.length - 1];
    if (size && kind === 'proc' && label) label.addrSize = size;
    this.scope = scope;
    return scope;
  }

  /** A scope's size (what its first segment grew by) and the bytes it covers in each segment. */
  private closeSpans(scope: Scope): void {
    for (const seg of this.segments.values()) {
      const from = scope.opened.get(seg) ?? 0;
      if (seg.size > from) scope.spans.push([seg.name, from, seg.size - from]);
    }
    scope.size = scope.segment ? scope.segment.size - (scope.opened.get(scope.segment) ?? 0) : 0;
  }

  private proc(cursor: Cursor, t: Token): void {
    const n = cursor.peek();
    if (n?.kind !== 'ident') throw new SourceError('.proc needs a name', t.column);
    this.defineLabel(n);
    this.openScope(cursor, t, 'proc');
  }

  private endScope(kind: 'scope' | 'proc', t: Token, cursor: Cursor): void {
    this.expectEnd(cursor);
    const scope = this.scope;
    if (scope.kind !== kind || !scope.parent) throw new SourceError(`${t.text} without .${kind}`, t.column);
    this.closeSpans(scope);
    this.scope = scope.parent;
  }

  private struct(cursor: Cursor, t: Token, union: boolean): void {
    const n = cursor.peek()?.kind === 'ident' ? cursor.next() : undefined;
    this.expectEnd(cursor);
    let scope = this.scope;
    if (n) {
      scope = new Scope(n.text, 'struct', this.scope);
      this.scope.children.set(n.text, scope);
      scope.index = this.scopes.length;
      this.scopes.push(scope);
    }
    const size = this.structBody(scope, 0, union, t);
    if (n) scope.size = size;
  }

  /** The next source line of the current frame, as tokens (struct and enum bodies read their lines themselves). */
  private nextLine(): Cursor | undefined {
    const frame = this.frames[this.frames.length - 1];
    if (frame.index >= frame.lines.length) return undefined;
    const source = frame.lines[frame.index++];
    const where: Where = { seq: ++this.seq, file: frame.file, fileIndex: frame.fileIndex, line: source.line, text: source.text, chain: frame.chain };
    if (frame.listingLines) this.lines.push(where);
    this.where = where;
    let tokens = source.tokens ?? tokenize(source.text, this.lexOptions());
    if (frame.params || frame.locals) tokens = this.substitute(tokens, frame);
    return new Cursor(this.expandDefines(tokens, 0), source.text.length + 1);
  }

  /**
   * Members of a struct or union, until its end: "name .byte [n]", .word, .addr, .dword,
   * .faraddr, .res n, .tag s, and nested .struct/.union whose members join this scope.
   * Returns the size.
   */
  private structBody(scope: Scope, base: number, union: boolean, t: Token): number {
    let offset = 0;
    let size = 0;
    for (let c = this.nextLine(); c; c = this.nextLine()) {
      if (c.done) continue;
      if (c.at('.ENDSTRUCT') || c.at('.ENDUNION')) return union ? size : offset;
      const member = c.peek()!.kind === 'ident' ? c.next() : undefined;
      let bytes = 0;
      if (!c.done) {
        const d = c.next();
        const dn = d.text.toUpperCase();
        const count = () => (c.done ? 1 : this.constant(c, 'the count'));
        if (dn === '.BYTE' || dn === '.BYT') bytes = count();
        else if (dn === '.WORD' || dn === '.ADDR') bytes = 2 * count();
        else if (dn === '.DWORD') bytes = 4 * count();
        else if (dn === '.FARADDR') bytes = 3 * count();
        else if (dn === '.RES') bytes = this.constant(c, 'the size of .res');
        else if (dn === '.TAG') {
          const tag = c.next();
          const target = this.scopeNamed(tag.text, this.scope);
          if (target?.size === undefined) throw new SourceError(`.tag ${tag.text}: no struct of that name`, tag.column);
          bytes = target.size * (c.accept(',') ? this.constant(c, 'the count') : 1);
        } else if (dn === '.STRUCT' || dn === '.UNION') {
          bytes = this.structBody(scope, base + (union ? 0 : offset), dn === '.UNION', d);
        } else throw new SourceError(`${d.text} cannot be a struct member (use .byte, .word, .dword, .faraddr, .res or .tag)`, d.column);
      }
      if (member) {
        const sym = this.symbolIn(scope, member.text);
        this.checkRedefinition(sym, member, 'equate');
        sym.kind = 'equate';
        sym.value = base + (union ? 0 : offset);
        sym.addrSize = constSize(sym.value as number);
        sym.size = bytes;
        sym.where = this.where;
      }
      if (union) size = Math.max(size, bytes);
      else offset += bytes;
    }
    throw new SourceError(`${t.text} has no .end${union ? 'union' : 'struct'}`, t.column);
  }

  private enumeration(cursor: Cursor, t: Token): void {
    const n = cursor.peek()?.kind === 'ident' ? cursor.next() : undefined;
    this.expectEnd(cursor);
    let target = this.scope;
    if (n) {
      target = new Scope(n.text, 'enum', this.scope);
      this.scope.children.set(n.text, target);
      target.index = this.scopes.length;
      this.scopes.push(target);
    }
    let next = 0;
    const frame = this.frames[this.frames.length - 1];
    while (frame.index < frame.lines.length) {
      const source = frame.lines[frame.index++];
      const where: Where = { seq: ++this.seq, file: frame.file, fileIndex: frame.fileIndex, line: source.line, text: source.text, chain: frame.chain };
      if (frame.listingLines) this.lines.push(where);
      this.where = where;
      const tokens = this.expandDefines(source.tokens ?? tokenize(source.text, this.lexOptions()), 0);
      if (!tokens.length) continue;
      const c = new Cursor(tokens, source.text.length + 1);
      if (c.at('.ENDENUM')) return;
      const member = c.next();
      if (member.kind !== 'ident') throw new SourceError(`an enum member must be a name, not '${member.text}'`, member.column);
      if (c.accept('=')) {
        const saved = this.scope;
        this.scope = target;
        try {
          next = this.constant(c, 'the value of an enum member');
        } finally {
          this.scope = saved;
        }
      }
      this.expectEnd(c);
      const sym = this.symbolIn(target, member.text);
      this.checkRedefinition(sym, member, 'equate');
      sym.kind = 'equate';
      sym.value = next;
      sym.addrSize = constSize(next);
      sym.where = this.where;
      this.order(sym);
      next++;
    }
    throw new SourceError(`${t.text} has no .endenum`, t.column);
  }

  // ---- conditionals

  private conditional(cursor: Cursor, name: string, t?: Token): void {
    if (!t) t = cursor.next();
    switch (name) {
      case '.ELSE': case '.ELSEIF': {
        const c = this.conditionals[this.conditionals.length - 1];
        if (!c || this.conditionals.length <= this.frameCondBase()) throw new SourceError(`${t.text} without .if`, t.column);
        if (c.sawElse) throw new SourceError(`${t.text} after .else (the .if is at ${c.where.file}:${c.where.line})`, t.column);
        c.sawElse = name === '.ELSE';
        const parentActive = this.conditionals.length < 2 || this.conditionals[this.conditionals.length - 2].active;
        if (c.done || !parentActive) {
          c.active = false;
          return;
        }
        const taken = name === '.ELSE' || this.condition('.IF', cursor);
        if (name === '.ELSE') this.expectEnd(cursor);
        c.active = taken;
        c.done ||= taken;
        return;
      }
      case '.ENDIF':
        if (this.conditionals.length <= this.frameCondBase()) throw new SourceError('.endif without .if', t.column);
        this.conditionals.pop();
        this.expectEnd(cursor);
        return;
    }
    const c: Conditional = { where: this.where, active: false, done: true, sawElse: false };
    const outer = this.active();
    this.conditionals.push(c); // even when the condition is bad, so that its .endif matches
    if (outer) c.active = c.done = this.condition(name, cursor);
  }

  private frameCondBase(): number {
    const f = this.frames[this.frames.length - 1];
    return f && f.kind !== 'file' ? f.condDepth : 0;
  }

  private condition(name: string, cursor: Cursor): boolean {
    const rest = () => unbrace(cursor.tokens.slice(cursor.index));
    switch (name) {
      case '.IF': {
        const v = this.constant(cursor, 'the condition of .if');
        this.expectEnd(cursor);
        return v !== 0;
      }
      case '.IFDEF': case '.IFNDEF': case '.IFREF': case '.IFNREF': {
        const s = cursor.next();
        if (s.kind !== 'ident') throw new SourceError(`${name.toLowerCase()} needs a symbol name`, s.column);
        let path = s.text;
        while (cursor.at('::')) {
          cursor.next();
          path += '::' + cursor.next().text;
        }
        this.expectEnd(cursor);
        const sym = this.lookup(path, this.scope, this.cheapOwner, false);
        if (name === '.IFDEF' || name === '.IFNDEF') return !!(sym && (sym.defined || sym.imported !== undefined)) === (name === '.IFDEF');
        return !!sym?.referenced === (name === '.IFREF');
      }
      case '.IFBLANK': return rest().length === 0;
      case '.IFNBLANK': return rest().length !== 0;
      case '.IFCONST': case '.IFNCONST': {
        const e = this.expression(cursor);
        return (constantNow(e) !== undefined) === (name === '.IFCONST');
      }
      case '.IFP02': return this.set.name === '6502';
      case '.IFP02X': return this.set.name === '6502X';
      case '.IFPC02': return this.set.name === '65C02';
      case '.IFPSC02': return this.set.name === '65SC02';
      case '.IFP816': case '.IFP4510': case '.IFPDTV': return false;
    }
    throw new SourceError(`unknown conditional ${name}`, cursor.column);
  }

  // ---- the end: fixups, exports, the object

  private finish(): ObjectModule {
    // A .global symbol that the module does not define is an import; with .autoimport, so is any undefined one.
    for (const sym of [...this.allSymbols()]) {
      if (sym.global && !sym.defined && sym.imported === undefined) {
        sym.imported = sym.global.size || ABS;
        sym.importPos = [...sym.importPos, sym.global.pos];
      } else if (this.autoImport && sym.referenced && !sym.defined && sym.imported === undefined && !sym.exported) {
        const outer = this.lookup(sym.name, sym.scope, undefined, false);
        if (outer) continue;
        const target = this.symbolIn(this.global, sym.name);
        target.imported = ABS;
        target.referenced = true;
        target.importPos = [...target.importPos, [0, 0, 0]];
      }
    }
    // Last defined first: a chain of equates then resolves one link at a time.
    for (const sym of [...this.symbolOrder].reverse()) {
      if (sym.expr && sym.value === undefined && sym.where) {
        try {
          sym.evaluating = true;
          sym.value = evaluate(sym.expr);
          // An address size left open by a forward reference is settled by the value, as ca65 does at the end.
          if (!sym.addrSize) sym.addrSize = this.sizeOfValue(sym.value);
        } catch (err) {
          if (err instanceof Unknown) this.errorAt(sym.where, err.column, err.what);
          else if (err instanceof SourceError) this.errorAt(sym.where, err.column, err.message);
          else throw err;
        } finally {
          sym.evaluating = false;
        }
      }
    }
    const fixups = new Map<Segment, ObjFixup[]>();
    for (const s of this.segments.values()) fixups.set(s, []);
    for (const p of this.pending) this.resolve(p, fixups.get(p.segment)!);
    const exports: ObjectModule['exports'] = [];
    const imports: ObjectModule['imports'] = [];
    for (const sym of this.allSymbols()) {
      if (sym.exported) {
        if (!sym.defined) {
          this.errors.push(this.errorOf(sym.exported.pos, `exported symbol '${sym.name}' is never defined`));
          continue;
        }
        try {
          const value = this.valueOf(sym);
          exports.push({
            name: sym.name, addrSize: SIZE_NAMES[sym.exported.size || sym.addrSize || this.sizeOfValue(value) || ABS], value: toLinkExpr(value), label: sym.kind === 'label',
            pos: sym.where ? this.pos(1, sym.where) : sym.exported.pos, ...(sym.condes ? { condes: sym.condes } : {}),
          });
        } catch (err) {
          if (!(err instanceof Unknown)) throw err;
          this.errors.push(this.errorOf(sym.exported.pos, err.what));
        }
      }
      if (sym.imported !== undefined && sym.referenced && !sym.defined) imports.push({ name: sym.name, addrSize: SIZE_NAMES[sym.imported], pos: sym.importPos });
    }
    const assertions: ObjectModule['assertions'] = [];
    for (const a of this.assertions) {
      try {
        const v = evaluate(a.expr);
        if (typeof v === 'number' && !a.ld) {
          if (v === 0) (a.action === 'error' ? this.errors : this.warnings).push({ file: a.where.file, line: a.where.line, column: a.column, message: a.message, notes: a.where.chain.length ? a.where.chain : undefined });
        } else assertions.push({ expr: toLinkExpr(v), action: a.action, message: a.message, pos: this.pos(a.column, a.where) });
      } catch (err) {
        if (err instanceof Unknown || err instanceof SourceError) this.errorAt(a.where, a.column, err instanceof Unknown ? err.what : err.message);
        else throw err;
      }
    }
    const segments = [...this.segments.values()].map((s) => ({
      name: s.name, addrSize: SIZE_NAMES[s.addrSize], align: s.align, data: hexBytes(s.bytes), fixups: fixups.get(s)!, ...(s.fills.length ? { fills: s.fills } : {}),
    }));
    const module: ObjectModule = { format: 'hyper6502-object', version: 1, source: this.fileName, files: this.files, segments, imports, exports, assertions };
    if (this.debugInfo) module.debug = { spans: this.spans, scopes: this.debugScopes(), symbols: this.debugSymbols() };
    const order = (e: AsmError) => this.errorOrder.get(e) ?? Infinity;
    this.errors.sort((a, b) => order(a) - order(b) || (a.file === b.file && a.line === b.line ? a.column - b.column : 0));
    return module;
  }

  private errorOf(pos: Pos, message: string): AsmError {
    return { file: this.files[pos[0]]?.name ?? this.fileName, line: pos[1], column: pos[2], message };
  }

  private debugScopes(): ObjScope[] {
    this.global.segment = this.segments.get('CODE');
    this.closeSpans(this.global);
    return this.scopes.map((s) => ({
      name: s.name, kind: s.kind, parent: s.parent ? s.parent.index : -1,
      segment: s.segment?.name, offset: s.start, size: s.size ?? 0, ...(s.spans.length ? { spans: s.spans } : {}),
    }));
  }

  private debugSymbols(): ObjDebugSymbol[] {
    const out: ObjDebugSymbol[] = [];
    const index = new Map<Sym, number>();
    const owners: Array<[ObjDebugSymbol, Sym]> = [];
    const all = new Set<Sym>(this.allSymbols());
    for (const map of this.cheap.values()) for (const sym of map.values()) all.add(sym);
    for (const sym of [...all].sort((a, b) => b.serial - a.serial)) {
      if (!sym.defined && sym.imported === undefined) continue;
      let value: LinkExpr;
      try {
        value = toLinkExpr(this.valueOf(sym));
      } catch {
        continue;
      }
      index.set(sym, out.length);
      const owner = this.cheapOwnerOf.get(sym);
      out.push({
        name: sym.name, scope: sym.scope.index, addrSize: SIZE_NAMES[(sym.imported ?? sym.addrSize) || ABS], value, label: sym.kind === 'label', ...(sym.size ? { size: sym.size } : {}), ...(sym.refs ? { refs: [...sym.refs.values()] } : {}),
        pos: sym.where ? this.pos(1, sym.where) : sym.importPos[0] ?? [0, 0, 0], visibility: sym.exported ? 'export' : sym.imported !== undefined && !sym.defined ? 'import' : 'local',
      });
      if (owner) owners.push([out[out.length - 1], owner]);
    }
    for (const [entry, owner] of owners) entry.parent = index.get(owner);
    return out;
  }

  private resolve(p: PendingFixup, fixups: ObjFixup[]): void {
    let v: Value;
    try {
      v = evaluate(p.expr);
      if (p.from !== undefined) v = applyBinary('-', v, p.from, p.column);
    } catch (err) {
      if (err instanceof Unknown) {
        // An undefined name that no .import declares: ca65's .autoimport would import it; we report it.
        this.errorAt(p.where, err.column, err.what);
        return;
      }
      if (err instanceof SourceError) {
        this.errorAt(p.where, err.column, err.message);
        return;
      }
      throw err;
    }
    const bytes = p.segment.bytes;
    if (isConstant(v)) {
      try {
        writeValue(bytes, p.offset, p.size, checkValue(v, p));
      } catch (err) {
        if (!(err instanceof SourceError)) throw err;
        this.errorAt(p.where, err.column, err.message);
      }
      return;
    }
    fixups.push({ offset: p.offset, size: p.size, expr: toLinkExpr(v), check: p.check === 'zp' ? 'unsigned' : p.check, pos: this.pos(p.column, p.where) });
  }
}

const ZP_OR_ABS: Record<'-' | 'X' | 'Y', [AddressingMode, AddressingMode]> = { '-': ['zp', 'abs'], X: ['zpx', 'abx'], Y: ['zpy', 'aby'] };
/** ca65's numbers for the linker's table types. */
const CONDES_TYPES = ['constructor', 'destructor', 'interruptor'];
const TOKEN_FUNCTION = /^\.(concat|string|ident|left|right|mid)$/i;
const TOKEN_FUNCTIONS = new Set(['.CONCAT', '.STRING', '.IDENT', '.LEFT', '.RIGHT', '.MID']);


function isConditional(name: string): boolean {
  const n = name.toUpperCase();
  return n.startsWith('.IF') || n === '.ELSE' || n === '.ELSEIF' || n === '.ENDIF';
}

function initialCpu(options: AsmOptions): CpuName {
  const cpu = (options.cpu ?? '6502').toString();
  const upper = cpu.toUpperCase();
  if (upper === '6502' || upper === '65C02' || upper === 'R65C02') return cpuName(cpu.toLowerCase() as CpuModel, options.undocumented ?? false);
  const found = CPU_NAMES.find((n) => n === upper);
  if (!found) throw new Error(`unknown CPU model "${cpu}" (expected 6502, 6502X, 65SC02 or 65C02)`);
  return found;
}

function constSize(v: number): number {
  if ((v & ~0xff) === 0) return ZP;
  if ((v & ~0xffff) === 0) return ABS;
  return FAR;
}

/** A constant fixup's value checked as ca65 checks it. */
function checkValue(v: number, p: PendingFixup): number {
  switch (p.check) {
    case 'branch':
      if (v < -128 || v > 127) {
        const target = p.from !== undefined && typeof p.from === 'number' ? v + p.from : undefined;
        throw new SourceError(
          `branch out of range: ${target !== undefined ? `target ${hexValue(target)} is ` : 'the target is '}${v > 0 ? '+' : ''}${v} bytes from the next instruction (a branch reaches -128 to +127)`,
          p.column,
        );
      }
      return v & 0xff;
    case 'zp':
      if ((v & ~0xff) !== 0) throw new SourceError(`${p.what} needs a zero-page address ($00 to $FF), got ${hexValue(v)}`, p.column);
      return v;
    case 'unsigned': {
      const size = Math.abs(p.size);
      const max = size >= 4 ? 0xffffffff : (1 << (8 * size)) - 1;
      if (size < 4 && (v < 0 || v > max)) throw new SourceError(`${p.what} ${hexValue(v)} is out of range (0 to ${hexValue(max)})`, p.column);
      return v;
    }
    case 'any':
      return v;
  }
}



