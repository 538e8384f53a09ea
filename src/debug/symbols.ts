// What the debuggers know of a program's source: symbols, source files and
// lines, functions (C functions and .proc scopes) and their C locals, read
// from ld65's debug info (--dbgfile, also written by `hyper6502 link`), from
// ld65 label files (-Ln) and VICE label files, or from a plain table.
//
// How to drive this:
//   const syms = DebugSymbols.fromDebugInfo(readFileSync('hello.dbg', 'utf8'));
//   syms.merge(DebugSymbols.fromLabels(readFileSync('hello.lbl', 'utf8')));
//   syms.address('main');                 // 0x0260 (C names without their '_' too)
//   syms.lineAt(0x0262);                  // { file: 'hello.c', line: 12, c: true }
//   syms.breakpointAddresses('hello.c', 14);  // { line: 14, addresses: [...] }
//   syms.functionAt(0x0245)?.name;        // 'add'
// Every front end (the monitor, the debug adapter, the page) asks this one
// table; none of them reads a debug file itself.

import { readDebugInfo, type DebugInfo } from '../asm/dbginfo.js';

export class SymbolFileError extends Error {}

export interface SourceLine {
  /** The file's name as the debug info gives it (relative to where it was built, or absolute). */
  file: string;
  line: number;
  /** A C source line (cc65), not an assembler line. */
  c: boolean;
}

export interface LocalVariable {
  name: string;
  /** 'auto': on the C stack at `offset` from the C stack pointer at the function's entry; 'static': at `address`; 'register': in the register bank at `offset`. */
  storage: 'auto' | 'static' | 'register';
  offset: number;
  address?: number;
}

export interface FunctionInfo {
  name: string;
  /** First address and the address after the last byte. */
  start: number;
  end: number;
  /** From a C function's debug info (not just a .proc or a label). */
  c: boolean;
  locals: LocalVariable[];
  /** The bytes of its auto locals below the C stack pointer at entry (the deepest negative offset). */
  frameSize: number;
}

/** Line record kinds in ld65's debug info: 0 assembler, 1 C (cc65's "ext"), 2 a macro's body. */
const LINE_ASM = 0;
const LINE_C = 1;
const LINE_MACRO = 2;

interface Placed {
  line: SourceLine;
  kind: number;
  /** The size of the span that placed it (smaller is more precise). */
  size: number;
}

export class DebugSymbols {
  private readonly byName = new Map<string, number>();
  private readonly labels = new Map<number, string[]>();
  private readonly lines = new Map<number, Placed>();
  /** Addresses where a line's code starts (a statement starts), by file and line. */
  private readonly lineStarts = new Map<string, Map<number, number[]>>();
  /** Statement starts: where the code of the line that lineAt names starts. */
  private readonly startSet = new Set<number>();
  /** Every address a line's code starts at, whatever its kind: instruction starts, for disassembly. */
  private readonly instructionStarts = new Set<number>();
  private readonly functions: FunctionInfo[] = [];
  /** The zero-page address of cc65's C stack pointer, when known. */
  cStackPointer?: number;

  /** The source files that have code, as the debug info names them. */
  get files(): string[] {
    return [...this.lineStarts.keys()];
  }

  /** Symbols as name -> address. */
  static fromTable(table: Record<string, number>): DebugSymbols {
    const s = new DebugSymbols();
    for (const [name, address] of Object.entries(table)) s.addSymbol(name, address);
    return s;
  }

  /**
   * An ld65 label file (-Ln: "al 000242 ._add") or a VICE label file
   * ("al C:0242 .add", "add_label 0242 name" is accepted too). Blank lines and
   * ';' comments are skipped; anything else is an error naming its line.
   */
  static fromLabels(text: string, fileName = 'labels'): DebugSymbols {
    const s = new DebugSymbols();
    text.split('\n').forEach((raw, i) => {
      const line = raw.replace(/;.*$/, '').trim();
      if (!line) return;
      const m = /^(?:al|add_label)\s+(?:[a-z]+:)?\$?([0-9a-f]{1,6})\s+\.?([A-Za-z_@.$?][\w@.$?:]*)$/i.exec(line);
      if (!m) throw new SymbolFileError(`${fileName}:${i + 1}: expected "al ADDRESS .name", got "${raw.trim()}"`);
      s.addSymbol(m[2], parseInt(m[1], 16) & 0xffff);
    });
    return s;
  }

  /** ld65's debug info (its text, or as readDebugInfo gives it). Throws DebugInfoError for a bad file. */
  static fromDebugInfo(input: string | DebugInfo): DebugSymbols {
    const info = typeof input === 'string' ? readDebugInfo(input) : input;
    const s = new DebugSymbols();
    const segStart = (seg: number) => info.seg[seg]?.start ?? 0;
    const spanRange = (id: number): [number, number] | undefined => {
      const sp = info.span[id];
      if (!sp) return undefined;
      const start = segStart(sp.seg) + sp.start;
      return [start, start + sp.size];
    };
    // Symbols: labels and constants with a value; imports resolved through their export.
    const valueOf = (id: number, depth = 0): number | undefined => {
      const sym = info.sym[id];
      if (!sym || depth > 8) return undefined;
      if (typeof sym.val === 'number') return sym.val;
      return typeof sym.exp === 'number' ? valueOf(sym.exp, depth + 1) : undefined;
    };
    for (const sym of info.sym) {
      if (sym.type !== 'lab') continue;
      const v = valueOf(sym.id);
      if (v !== undefined && sym.parent === undefined) s.addSymbol(sym.name, v);
    }
    // Lines: each byte of each span of a line belongs to it; C lines win over assembler lines, those over macro bodies.
    const rank = (kind: number) => (kind === LINE_C ? 0 : kind === LINE_ASM ? 1 : 2);
    const starts: Array<{ line: SourceLine; address: number }> = [];
    for (const l of info.line) {
      const file = info.file[l.file]?.name;
      if (file === undefined || !l.span) continue;
      const kind = l.type ?? LINE_ASM;
      const line: SourceLine = { file, line: l.line, c: kind === LINE_C };
      for (const id of l.span) {
        const range = spanRange(id);
        if (!range || range[1] <= range[0]) continue;
        const size = range[1] - range[0];
        if (kind !== LINE_MACRO) starts.push({ line, address: range[0] & 0xffff });
        for (let a = range[0]; a < range[1]; a++) {
          const held = s.lines.get(a & 0xffff);
          if (held && (rank(held.kind) < rank(kind) || (held.kind === kind && held.size <= size))) continue;
          s.lines.set(a & 0xffff, { line, kind, size });
        }
      }
    }
    for (const { line, address } of starts) s.addLineStart(line.file, line.line, address, s.lines.get(address)?.line === line);
    // Functions: scopes with code; a C function takes its name from its csym.
    const cName = new Map<number, string>();
    for (const c of info.csym) if (typeof c.sym === 'number' && (c.sc === 'ext' || c.sc === 'static')) cName.set(c.sym, String(c.name));
    for (const sc of info.scope) {
      if (sc.type !== 'scope' || !sc.span?.length) continue;
      const ranges = sc.span.map(spanRange).filter((r): r is [number, number] => !!r);
      if (!ranges.length) continue;
      const start = Math.min(...ranges.map((r) => r[0]));
      const end = Math.max(...ranges.map((r) => r[1]));
      const cname = typeof sc.sym === 'number' ? cName.get(sc.sym) : undefined;
      const locals: LocalVariable[] = [];
      for (const c of info.csym) {
        if (c.scope !== sc.id || (typeof c.sym === 'number' && c.sym === sc.sym)) continue; // not the function itself
        const offset = typeof c.offs === 'number' ? c.offs : typeof c.offs === 'string' ? Number(c.offs) : 0;
        if (c.sc === 'auto') locals.push({ name: String(c.name), storage: 'auto', offset });
        else if (c.sc === 'reg') locals.push({ name: String(c.name), storage: 'register', offset });
        else if (c.sc === 'static' && typeof c.sym === 'number') {
          const address = valueOf(c.sym);
          if (address !== undefined) locals.push({ name: String(c.name), storage: 'static', offset: 0, address });
        }
      }
      const frameSize = Math.max(0, ...locals.filter((l) => l.storage === 'auto').map((l) => -l.offset));
      s.functions.push({ name: cname ?? sc.name, start, end, c: cname !== undefined, locals, frameSize });
      if (cname !== undefined && !s.byName.has(cname)) s.byName.set(cname, start);
    }
    const sp = info.sym.find((x) => x.name === 'sp' && x.addrsize === 'zeropage');
    const spValue = sp ? valueOf(sp.id) : undefined;
    if (spValue !== undefined) s.cStackPointer = spValue;
    return s;
  }

  /** Adds what `other` knows that this table does not (its symbols, lines and functions). */
  merge(other: DebugSymbols): this {
    for (const [name, address] of other.byName) if (!this.byName.has(name)) this.addSymbol(name, address);
    for (const [a, p] of other.lines) if (!this.lines.has(a)) this.lines.set(a, p);
    for (const [file, m] of other.lineStarts) for (const [line, list] of m) for (const a of list) this.addLineStart(file, line, a, other.startSet.has(a));
    for (const f of other.functions) if (!this.functions.some((g) => g.start === f.start)) this.functions.push(f);
    this.cStackPointer ??= other.cStackPointer;
    return this;
  }

  private addSymbol(name: string, address: number) {
    this.byName.set(name, address);
    const list = this.labels.get(address);
    if (!list) this.labels.set(address, [name]);
    else if (!list.includes(name)) list.push(name);
  }

  private addLineStart(file: string, line: number, address: number, statement: boolean) {
    let m = this.lineStarts.get(file);
    if (!m) this.lineStarts.set(file, (m = new Map()));
    const list = m.get(line);
    if (!list) m.set(line, [address]);
    else if (!list.includes(address)) list.push(address);
    if (statement) this.startSet.add(address);
    this.instructionStarts.add(address);
  }

  get size(): number {
    return this.byName.size;
  }

  /** The address of a symbol: as written, or a C name without cc65's leading '_'. */
  address(name: string): number | undefined {
    return this.byName.get(name) ?? this.byName.get('_' + name);
  }

  /** Every symbol, name -> address. */
  table(): Record<string, number> {
    return Object.fromEntries(this.byName);
  }

  /** The best name of an address: a C function's, else a label that is not a linker symbol (__X__), else any. */
  label(address: number): string | undefined {
    const fn = this.functions.find((f) => f.start === address && f.c);
    if (fn) return fn.name;
    const list = this.labels.get(address & 0xffff);
    if (!list) return undefined;
    return list.find((n) => !/^__.*__$/.test(n)) ?? list[0];
  }

  /** The nearest label at or before `address` within `maxOffset` bytes, as name and offset. */
  near(address: number, maxOffset = 0x100): { name: string; offset: number } | undefined {
    for (let off = 0; off <= maxOffset && address - off >= 0; off++) {
      const name = this.label(address - off);
      if (name) return { name, offset: off };
    }
    return undefined;
  }

  /** The source line that made the byte at `address`. */
  lineAt(address: number): SourceLine | undefined {
    return this.lines.get(address & 0xffff)?.line;
  }

  /** Does the code of the source line lineAt gives (a statement) start at `address`? */
  isLineStart(address: number): boolean {
    return this.startSet.has(address & 0xffff);
  }

  /** Addresses the debug info says an instruction starts at (statement starts). */
  get knownStarts(): ReadonlySet<number> {
    return this.instructionStarts;
  }

  /**
   * The files of the debug info that `path` names: the same name, a path
   * ending in it, or (when one file has it) the same base name.
   */
  matchFiles(path: string): string[] {
    const norm = (p: string) => p.replace(/\\/g, '/');
    const want = norm(path);
    const exact = this.files.filter((f) => norm(f) === want);
    if (exact.length) return exact;
    const tail = this.files.filter((f) => want.endsWith('/' + norm(f).replace(/^\.\//, '')) || norm(f).endsWith('/' + want));
    if (tail.length) return tail;
    const base = want.split('/').pop()!;
    const same = this.files.filter((f) => norm(f).split('/').pop() === base);
    return same.length === 1 ? same : [];
  }

  /**
   * Where a breakpoint at `path`:`line` goes: that line's code, or the next
   * line with code in the file (as editors move a breakpoint); undefined
   * when the file has no code at or after it.
   */
  breakpointAddresses(path: string, line: number): { file: string; line: number; addresses: number[] } | undefined {
    let best: { file: string; line: number; addresses: number[] } | undefined;
    for (const file of this.matchFiles(path)) {
      const m = this.lineStarts.get(file)!;
      for (const [l, addresses] of m) {
        if (l < line || (best && l >= best.line)) continue;
        best = { file, line: l, addresses: [...addresses].sort((a, b) => a - b) };
      }
    }
    return best;
  }

  /** The function (C function, .proc scope) whose code holds `address`; the innermost when they nest. */
  functionAt(address: number): FunctionInfo | undefined {
    let best: FunctionInfo | undefined;
    for (const f of this.functions) {
      if (address < f.start || address >= f.end) continue;
      if (!best || f.end - f.start < best.end - best.start) best = f;
    }
    return best;
  }

  /** The name to show for code at `address`: its function, else the nearest label, else undefined. */
  functionName(address: number): string | undefined {
    return this.functionAt(address)?.name ?? this.near(address, 0x1000)?.name;
  }
}
