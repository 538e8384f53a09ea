// Compiles the statements of the instruction-set description
// (src/isa/semantics.ts: a small subset of AssemblyScript) into WebAssembly
// instructions, so that the JIT executes exactly what the interpreter's run
// loops were generated from.
//
// How to drive this:
//   const program = parseStatements('a = v; nf = zf = a;');      // parsed once, kept
//   const c = new StatementCompiler(code, context);               // code: a Code (src/jit/wasm.ts)
//   c.known.set('pc', 0x0400);                                    // what is known at compile time
//   c.compile(program);
//   c.materialize(['a', 'pc']);                                   // locals hold their values from here on
// The context names the locals, the constants and the functions the code may
// call. Values known at compile time are propagated and folded (a constant
// operand makes a constant address, a constant condition picks its branch),
// and written into their locals only when something needs them there.
//
// The language: statements `x = e;` `x = y = e;` `x op= e;` `x++;` `x--;`
// `if (e) s else s`, `{ ... }`, calls `f(...);`; expressions with integer
// literals, names, `+ - * & | ^ << >> >>> == != < > <= >= && || ! ~ ?:`,
// casts `<i32>` `<i8>` `<u8>` `<u16>` `<u32>` `<usize>`, and the builtins
// `load<T>(ptr[, offset])`, `store<T>(ptr, value[, offset])` (T u8, u16, i32).
// Everything is an i32, as in the run loops; `>>` is arithmetic, as in
// AssemblyScript on i32.

import { Code, OP, VOID } from './wasm.js';

// ---- Syntax ----------------------------------------------------------------------

export type Expr =
  | { k: 'num'; v: number }
  | { k: 'id'; name: string }
  | { k: 'bin'; op: string; l: Expr; r: Expr }
  | { k: 'un'; op: string; e: Expr }
  | { k: 'cond'; c: Expr; t: Expr; f: Expr }
  | { k: 'cast'; type: string; e: Expr }
  | { k: 'call'; name: string; type?: string; args: Expr[] };

export type Stmt =
  | { k: 'assign'; targets: string[]; op: string; e: Expr }
  | { k: 'expr'; e: Expr }
  | { k: 'if'; c: Expr; then: Stmt[]; else: Stmt[] }
  | { k: 'continue' };

const PUNCT = ['>>>=', '<<=', '>>=', '>>>', '==', '!=', '<=', '>=', '<<', '>>', '&&', '||', '+=', '-=', '&=', '|=', '^=', '++', '--'];

function tokenize(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === '/' && text[i + 1] === '/') { while (i < text.length && text[i] !== '\n') i++; continue; }
    const word = /^(0x[0-9a-fA-F]+|\d+|[A-Za-z_]\w*)/.exec(text.slice(i, i + 64));
    if (word) { out.push(word[1]); i += word[1].length; continue; }
    const p = PUNCT.find((q) => text.startsWith(q, i));
    if (p) { out.push(p); i += p.length; continue; }
    if ('(){};,<>=+-*&|^~!?:'.includes(c)) { out.push(c); i++; continue; }
    throw new SyntaxError(`unexpected character '${c}' in: ${text}`);
  }
  return out;
}

const TYPES = new Set(['i32', 'i8', 'u8', 'u16', 'u32', 'usize', 'bool']);
const BINARY_LEVELS = [['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!='], ['<', '>', '<=', '>='], ['<<', '>>', '>>>'], ['+', '-'], ['*']];

class Parser {
  private i = 0;
  constructor(private readonly t: string[], private readonly text: string) {}

  private peek(o = 0) { return this.t[this.i + o]; }
  private next() {
    const tok = this.t[this.i++];
    if (tok === undefined) throw new SyntaxError(`unexpected end of: ${this.text}`);
    return tok;
  }
  private expect(tok: string) {
    const got = this.next();
    if (got !== tok) throw new SyntaxError(`expected '${tok}', found '${got}' in: ${this.text}`);
  }
  get done() { return this.i >= this.t.length; }

  statement(): Stmt[] {
    const tok = this.peek();
    if (tok === ';') { this.i++; return []; }
    if (tok === '{') {
      this.i++;
      const body: Stmt[] = [];
      while (this.peek() !== '}') body.push(...this.statement());
      this.i++;
      return body;
    }
    if (tok === 'if') {
      this.i++;
      this.expect('(');
      const c = this.expr();
      this.expect(')');
      const then = this.statement();
      let other: Stmt[] = [];
      if (this.peek() === 'else') { this.i++; other = this.statement(); }
      return [{ k: 'if', c, then, else: other }];
    }
    if (tok === 'continue') { this.i++; this.expect(';'); return [{ k: 'continue' }]; }
    // Assignments: x = y = e; x op= e; x++; x--
    if (/^[A-Za-z_]\w*$/.test(tok)) {
      const op = this.peek(1);
      if (op === '++' || op === '--') {
        this.i += 2;
        this.expect(';');
        return [{ k: 'assign', targets: [tok], op: op === '++' ? '+=' : '-=', e: { k: 'num', v: 1 } }];
      }
      if (op === '=' || (op?.endsWith('=') && op.length >= 2 && !['==', '!=', '<=', '>='].includes(op))) {
        const targets = [tok];
        this.i += 2;
        if (op === '=') {
          while (/^[A-Za-z_]\w*$/.test(this.peek() ?? '') && this.peek(1) === '=') {
            targets.push(this.next());
            this.i++;
          }
        }
        const e = this.expr();
        this.expect(';');
        return [{ k: 'assign', targets, op, e }];
      }
    }
    const e = this.expr();
    this.expect(';');
    return [{ k: 'expr', e }];
  }

  expr(): Expr {
    const c = this.binary(0);
    if (this.peek() === '?') {
      this.i++;
      const t = this.expr();
      this.expect(':');
      const f = this.expr();
      return { k: 'cond', c, t, f };
    }
    return c;
  }

  private binary(level: number): Expr {
    if (level === BINARY_LEVELS.length) return this.unary();
    let l = this.binary(level + 1);
    while (BINARY_LEVELS[level].includes(this.peek())) {
      const op = this.next();
      l = { k: 'bin', op, l, r: this.binary(level + 1) };
    }
    return l;
  }

  private unary(): Expr {
    const tok = this.peek();
    if (tok === '!' || tok === '~' || tok === '-') {
      this.i++;
      return { k: 'un', op: tok, e: this.unary() };
    }
    if (tok === '<' && TYPES.has(this.peek(1)) && this.peek(2) === '>') {
      this.i += 3;
      return { k: 'cast', type: this.t[this.i - 2], e: this.unary() };
    }
    return this.primary();
  }

  private primary(): Expr {
    const tok = this.next();
    if (tok === '(') {
      const e = this.expr();
      this.expect(')');
      return e;
    }
    if (/^(0x[0-9a-fA-F]+|\d+)$/.test(tok)) return { k: 'num', v: Number(tok) | 0 };
    if (tok === 'true' || tok === 'false') return { k: 'num', v: tok === 'true' ? 1 : 0 };
    if (/^[A-Za-z_]\w*$/.test(tok)) {
      let type: string | undefined;
      if (this.peek() === '<' && TYPES.has(this.peek(1)) && this.peek(2) === '>' && this.peek(3) === '(') {
        type = this.t[this.i + 1];
        this.i += 3;
      }
      if (this.peek() === '(') {
        this.i++;
        const args: Expr[] = [];
        while (this.peek() !== ')') {
          args.push(this.expr());
          if (this.peek() === ',') this.i++;
        }
        this.i++;
        return { k: 'call', name: tok, type, args };
      }
      return { k: 'id', name: tok };
    }
    throw new SyntaxError(`unexpected '${tok}' in: ${this.text}`);
  }
}

/** Parses a sequence of statements. */
export function parseStatements(text: string): Stmt[] {
  const p = new Parser(tokenize(text), text);
  const out: Stmt[] = [];
  while (!p.done) out.push(...p.statement());
  return out;
}

/** Parses one expression. */
export function parseExpression(text: string): Expr {
  return new Parser(tokenize(text), text).expr();
}

// ---- Compilation -------------------------------------------------------------------------

/** What the compiled statements may name, and how the code that holds them handles the JIT's own statements. */
export interface StatementContext {
  /** The local that holds a name, or undefined when it is no local. */
  local(name: string): number | undefined;
  /** The value of a named constant, or undefined. */
  constant(name: string): number | undefined;
  /** The function index of a helper the code calls (`adcDecimalNmos`...) and whether it returns a value, or undefined. */
  helper(name: string): { index: number; result: boolean } | undefined;
  /** Compiles a call the context defines itself (returns true if it did), e.g. an exit of the compiled code. */
  special?(name: string, args: Expr[], compiler: StatementCompiler): boolean;
}

interface Known {
  value: number;
  /** Not yet written into its local. */
  dirty: boolean;
}

type Env = Map<string, Known>;

function fold(op: string, l: number, r: number): number {
  switch (op) {
    case '+': return (l + r) | 0;
    case '-': return (l - r) | 0;
    case '*': return Math.imul(l, r);
    case '&': return l & r;
    case '|': return l | r;
    case '^': return l ^ r;
    case '<<': return l << (r & 31);
    case '>>': return l >> (r & 31);
    case '>>>': return (l >>> (r & 31)) | 0;
    case '==': return +(l === r);
    case '!=': return +(l !== r);
    case '<': return +(l < r);
    case '>': return +(l > r);
    case '<=': return +(l <= r);
    case '>=': return +(l >= r);
    case '&&': return +(l !== 0 && r !== 0);
    case '||': return +(l !== 0 || r !== 0);
  }
  throw new Error(`unknown operator ${op}`);
}

const BIN_OPS: Record<string, number> = {
  '+': OP.i32_add, '-': OP.i32_sub, '*': OP.i32_mul, '&': OP.i32_and, '|': OP.i32_or, '^': OP.i32_xor,
  '<<': OP.i32_shl, '>>': OP.i32_shr_s, '>>>': OP.i32_shr_u, '==': OP.i32_eq, '!=': OP.i32_ne,
  '<': OP.i32_lt_s, '>': OP.i32_gt_s, '<=': OP.i32_le_s, '>=': OP.i32_ge_s,
};
const COMPOUND: Record<string, string> = { '+=': '+', '-=': '-', '&=': '&', '|=': '|', '^=': '^', '<<=': '<<', '>>=': '>>', '>>>=': '>>>' };

const LOADS: Record<string, number> = { u8: OP.i32_load8_u, u16: OP.i32_load16_u, i32: OP.i32_load, u32: OP.i32_load };
const STORES: Record<string, number> = { u8: OP.i32_store8, u16: OP.i32_store16, i32: OP.i32_store, u32: OP.i32_store };

export class StatementCompiler {
  /** Names whose values are known at compile time. */
  known: Env = new Map();
  /** The code compiled last ends in a jump away: what follows it is not reached. */
  terminated = false;
  /** The `if` blocks of the statements around the code being compiled (a branch out of them counts them). */
  nesting = 0;

  constructor(public code: Code, private readonly ctx: StatementContext) {}

  compile(stmts: Stmt[]) {
    for (const s of stmts) {
      if (this.terminated) return;
      this.statement(s);
    }
  }

  /** The value of `name` if it is known at compile time. */
  valueOf(name: string): number | undefined {
    return this.known.get(name)?.value;
  }

  /** Sets what is known of a name (the local is written only when needed). */
  assume(name: string, value: number) {
    this.known.set(name, { value, dirty: true });
  }

  /** Writes the known values of these names (all, by default) into their locals. */
  materialize(names?: Iterable<string>) {
    for (const name of names ?? [...this.known.keys()]) {
      const k = this.known.get(name);
      if (!k?.dirty) continue;
      const local = this.ctx.local(name);
      if (local === undefined) continue;
      this.code.i32(k.value).set(local);
      k.dirty = false;
    }
  }

  /** Forgets what is known (after code that is not compiled here may have changed the locals). */
  forget(names?: Iterable<string>) {
    if (!names) {
      this.materialize();
      this.known.clear();
      return;
    }
    for (const n of names) {
      this.materialize([n]);
      this.known.delete(n);
    }
  }

  private statement(s: Stmt) {
    switch (s.k) {
      case 'assign': return this.assign(s.targets, s.op, s.e);
      case 'expr': {
        if (s.e.k === 'call' && this.callStatement(s.e)) return;
        const v = this.value(s.e);
        if (v === undefined) this.code.op(OP.drop);
        return;
      }
      case 'if': return this.ifStatement(s);
      case 'continue': throw new Error('`continue` cannot be compiled here');
    }
  }

  private assign(targets: string[], op: string, e: Expr) {
    // The run loops' `end = stop = ...` ends or abandons their run; compiled code exits through `reason` (see src/jit/codegen.ts).
    if (targets.every((t) => t === 'end' || t === 'stop')) {
      const v = this.constValue(e);
      if (v !== 0) throw new Error('an abandoned instruction (a device read) cannot be compiled here');
      return;
    }
    const value: Expr = op === '=' ? e : { k: 'bin', op: COMPOUND[op], l: { k: 'id', name: targets[0] }, r: e };
    if (op !== '=' && !COMPOUND[op]) throw new Error(`unknown assignment ${op}`);
    const c = this.tryFold(value);
    if (c !== undefined) {
      for (const t of targets) this.setKnown(t, c);
      return;
    }
    this.emit(value);
    const locals = targets.map((t) => this.localOf(t));
    for (let i = 0; i < locals.length - 1; i++) this.code.tee(locals[i]);
    this.code.set(locals[locals.length - 1]);
    for (const t of targets) this.known.delete(t);
  }

  private setKnown(name: string, value: number) {
    this.localOf(name); // it must be a local
    this.known.set(name, { value, dirty: true });
  }

  private localOf(name: string): number {
    const l = this.ctx.local(name);
    if (l === undefined) throw new Error(`'${name}' is not a local here`);
    return l;
  }

  private ifStatement(s: { c: Expr; then: Stmt[]; else: Stmt[] }) {
    const c = this.tryFold(s.c);
    if (c !== undefined) {
      this.compile(c ? s.then : s.else);
      return;
    }
    this.emit(s.c);
    const outer = this.code;
    const before = this.known;
    const branch = (stmts: Stmt[]) => {
      this.code = new Code();
      this.known = cloneEnv(before);
      this.terminated = false;
      this.nesting++;
      this.compile(stmts);
      this.nesting--;
      return { code: this.code, env: this.known, terminated: this.terminated };
    };
    const a = branch(s.then);
    const b = branch(s.else);
    // What is known after the if: what both branches know alike (a branch that
    // jumps away does not count). A value known on one side only is written
    // into its local on that side.
    let joined: Env = new Map();
    this.terminated = a.terminated && b.terminated;
    if (a.terminated || b.terminated) joined = a.terminated ? b.env : a.env;
    else for (const name of new Set([...a.env.keys(), ...b.env.keys()])) {
      const ka = a.env.get(name);
      const kb = b.env.get(name);
      if (ka && kb && ka.value === kb.value) {
        joined.set(name, { value: ka.value, dirty: ka.dirty || kb.dirty });
        continue;
      }
      for (const side of [a, b]) {
        const k = side.env.get(name);
        if (k?.dirty) side.code.i32(k.value).set(this.localOf(name));
      }
    }
    this.code = outer;
    this.known = joined;
    outer.begin(OP.if).append(a.code);
    if (b.code.length) outer.op(OP.else).append(b.code);
    outer.end();
  }

  /** Compiles a call whose value is not used; true when it was one of the context's own. */
  private callStatement(e: Extract<Expr, { k: 'call' }>): boolean {
    if (this.ctx.special?.(e.name, e.args, this)) return true;
    if (e.name === 'store') {
      this.store(e);
      return true;
    }
    const f = this.ctx.helper(e.name);
    if (f && !f.result) {
      for (const a of e.args) this.push(a);
      this.code.call(f.index);
      return true;
    }
    return false;
  }

  /** The value of an expression known at compile time, or an error. */
  constValue(e: Expr): number {
    const v = this.tryFold(e);
    if (v === undefined) throw new Error(`not a constant: ${JSON.stringify(e)}`);
    return v;
  }

  /** Compiles an expression: its value when known at compile time (nothing emitted), else undefined (its value is on the stack). */
  value(e: Expr): number | undefined {
    const v = this.tryFold(e);
    if (v !== undefined) return v;
    this.emit(e);
    return undefined;
  }

  /** Pushes the value of an expression. */
  push(e: Expr) {
    const v = this.tryFold(e);
    if (v !== undefined) this.code.i32(v);
    else this.emit(e);
  }

  tryFold(e: Expr): number | undefined {
    switch (e.k) {
      case 'num': return e.v;
      case 'id': {
        const k = this.known.get(e.name);
        if (k) return k.value;
        if (this.ctx.local(e.name) !== undefined) return undefined;
        const c = this.ctx.constant(e.name);
        if (c === undefined) throw new Error(`unknown name '${e.name}'`);
        return c;
      }
      case 'bin': {
        const l = this.tryFold(e.l);
        if (e.op === '&&' && l === 0) return 0;
        if (e.op === '||' && l !== undefined && l !== 0) return 1;
        const r = this.tryFold(e.r);
        if (l !== undefined && r !== undefined) return fold(e.op, l, r);
        // x & 0, 0 & x
        if (e.op === '&' && ((l === 0 && this.pure(e.r)) || (r === 0 && this.pure(e.l)))) return 0;
        return undefined;
      }
      case 'un': {
        const v = this.tryFold(e.e);
        if (v === undefined) return undefined;
        return e.op === '!' ? +(v === 0) : e.op === '~' ? ~v : -v | 0;
      }
      case 'cond': {
        const c = this.tryFold(e.c);
        if (c === undefined) return undefined;
        return this.tryFold(c ? e.t : e.f);
      }
      case 'cast': {
        const v = this.tryFold(e.e);
        return v === undefined ? undefined : cast(e.type, v);
      }
      case 'call': return undefined;
    }
  }

  /** No side effects: may be dropped when its value does not matter. */
  private pure(e: Expr): boolean {
    switch (e.k) {
      case 'num':
      case 'id': return true;
      case 'bin': return this.pure(e.l) && this.pure(e.r);
      case 'un':
      case 'cast': return this.pure(e.e);
      case 'cond': return this.pure(e.c) && this.pure(e.t) && this.pure(e.f);
      case 'call': return false;
    }
  }

  private emit(e: Expr) {
    const c = this.code;
    switch (e.k) {
      case 'num':
        c.i32(e.v);
        return;
      case 'id': {
        const k = this.known.get(e.name);
        if (k) c.i32(k.value);
        else {
          const local = this.ctx.local(e.name);
          if (local !== undefined) c.get(local);
          else c.i32(this.constValue(e));
        }
        return;
      }
      case 'bin': {
        if (e.op === '&&' || e.op === '||') {
          this.truth(e.l);
          c.begin(OP.if, 0x7f);
          if (e.op === '&&') {
            this.truth(e.r);
            c.op(OP.else).i32(0);
          } else {
            c.i32(1).op(OP.else);
            this.truth(e.r);
          }
          c.end();
          return;
        }
        if (/^[<>]=?$/.test(e.op) && [e.l, e.r].some((x) => x.k === 'cast' && (x.type === 'u32' || x.type === 'usize'))) {
          throw new Error('unsigned comparisons are not supported');
        }
        this.push(e.l);
        this.push(e.r);
        c.op(BIN_OPS[e.op]);
        return;
      }
      case 'un':
        if (e.op === '!') {
          this.push(e.e);
          c.op(OP.i32_eqz);
        } else if (e.op === '~') {
          this.push(e.e);
          c.i32(-1).op(OP.i32_xor);
        } else {
          c.i32(0);
          this.push(e.e);
          c.op(OP.i32_sub);
        }
        return;
      case 'cond': {
        const cv = this.tryFold(e.c);
        if (cv !== undefined) return this.push(cv ? e.t : e.f);
        this.push(e.c);
        c.begin(OP.if, 0x7f);
        this.push(e.t);
        c.op(OP.else);
        this.push(e.f);
        c.end();
        return;
      }
      case 'cast':
        this.push(e.e);
        if (e.type === 'i8') c.op(OP.i32_extend8_s);
        else if (e.type === 'u8') c.i32(0xff).op(OP.i32_and);
        else if (e.type === 'u16') c.i32(0xffff).op(OP.i32_and);
        else if (e.type === 'bool') c.i32(0).op(OP.i32_ne);
        return;
      case 'call':
        return this.callValue(e);
    }
  }

  /** Pushes 0 or 1: whether `e` is not zero. */
  private truth(e: Expr) {
    const v = this.tryFold(e);
    if (v !== undefined) this.code.i32(+(v !== 0));
    else {
      this.emit(e);
      this.code.i32(0).op(OP.i32_ne);
    }
  }

  private callValue(e: Extract<Expr, { k: 'call' }>) {
    if (e.name === 'load') {
      const type = e.type ?? 'i32';
      if (!(type in LOADS)) throw new Error(`load<${type}> is not supported`);
      const offset = e.args[1] ? this.constValue(e.args[1]) : 0;
      this.address(e.args[0], offset, LOADS[type]);
      return;
    }
    if (e.name === 'unreachable') {
      this.code.op(OP.unreachable);
      return;
    }
    const f = this.ctx.helper(e.name);
    if (f === undefined) throw new Error(`unknown function '${e.name}'`);
    if (!f.result) throw new Error(`${e.name}() has no value`);
    for (const a of e.args) this.push(a);
    this.code.call(f.index);
  }

  private store(e: Extract<Expr, { k: 'call' }>) {
    const type = e.type ?? 'i32';
    if (!(type in STORES)) throw new Error(`store<${type}> is not supported`);
    const offset = e.args[2] ? this.constValue(e.args[2]) : 0;
    this.address(e.args[0], offset, STORES[type], e.args[1]);
  }

  /**
   * A load (or, with `value`, a store) at `ptr + offset`: constant terms of
   * the pointer (a constant guest address) go into the instruction's offset.
   */
  private address(ptr: Expr, offset: number, opcode: number, value?: Expr) {
    const terms: Expr[] = [];
    const flatten = (x: Expr) => {
      if (x.k === 'bin' && x.op === '+') {
        flatten(x.l);
        flatten(x.r);
      } else terms.push(x);
    };
    flatten(ptr);
    let constant = offset;
    const dynamic: Expr[] = [];
    for (const t of terms) {
      const v = this.tryFold(t);
      if (v !== undefined) constant += v;
      else dynamic.push(t);
    }
    if (!dynamic.length || constant < 0) {
      // No base (or a negative offset): the whole address is computed.
      if (dynamic.length) {
        dynamic.forEach((t, i) => { this.emit(t); if (i) this.code.op(OP.i32_add); });
        this.code.i32(constant).op(OP.i32_add);
      } else this.code.i32(constant);
      constant = 0;
    } else dynamic.forEach((t, i) => { this.emit(t); if (i) this.code.op(OP.i32_add); });
    if (value) this.push(value);
    this.code.mem(opcode, constant);
  }
}

function cast(type: string, v: number): number {
  switch (type) {
    case 'i8': return (v << 24) >> 24;
    case 'u8': return v & 0xff;
    case 'u16': return v & 0xffff;
    case 'bool': return +(v !== 0);
    default: return v | 0;
  }
}

function cloneEnv(env: Env): Env {
  const out: Env = new Map();
  for (const [k, v] of env) out.set(k, { ...v });
  return out;
}
