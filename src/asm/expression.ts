// Expressions: parsed from tokens into a tree, evaluated to a value that is a
// number, an address relative to a segment or an import, or a tree the linker
// finishes.
//
// How to drive this:
//   const cursor = new Cursor(tokenize('<(table + 2*3)'));
//   const expr = parseExpression(cursor, hooks);     // stops at ',' ')' or the end
//   const v = evaluate(expr, context);               // 12, or { k: 6, terms: [['s:CODE', 1]] }, or { tree }
//   toLinkExpr(v)                                    // what an object file stores for the linker
//
// Operators and precedence are ca65's (tightest first): unary + - ~ < > ^ and
// the built-in functions; * / .MOD & ^ << >>; + - |; = <> < > <= >=; && .XOR;
// ||; ! .NOT. So `<label+1` is `(<label)+1`, as in ca65. Arithmetic is on
// 32-bit integers; comparisons and logic give 1 or 0. The parser leaves names
// to its hooks: the assembler binds symbols, `*`, unnamed labels and the
// functions (.defined, .sizeof...) that need its state.

import { SourceError, type Token } from './lexer.js';

/** What the linker evaluates: a number, a segment's start in this module, an import, or an operation. */
export type LinkExpr = number | ['seg', string] | ['imp', string] | [string, LinkExpr] | [string, LinkExpr, LinkExpr];

/** A linear value: k + sum(coefficient * base), bases 's:SEGMENT' or 'i:import', sorted by base, none zero. */
export interface Linear {
  k: number;
  terms: Term[];
}
export type Term = readonly [base: string, coefficient: number];
export type Value = number | Linear | { tree: LinkExpr };

export type Expr =
  | { kind: 'number'; value: number; column: number }
  /** A symbol; `get` gives its value (throwing Unknown while it has none). */
  | { kind: 'symbol'; name: string; column: number; get(): Value; addrSize(): number | undefined }
  | { kind: 'value'; value: Value; column: number; size?: number }
  | { kind: 'lazy'; column: number; get(): Value }
  | { kind: 'unary'; op: string; operand: Expr; column: number }
  | { kind: 'binary'; op: string; left: Expr; right: Expr; column: number };

/** A value that is not known yet (a forward reference, an undefined symbol). Thrown often, so no Error (no stack trace). */
export class Unknown {
  constructor(readonly what: string, readonly column: number, readonly undefinedName?: string) {}
}

export interface ParseHooks {
  /** A (possibly scoped: `a::b`, `::b`) symbol name; `t` is its first token. */
  symbol(path: string, t: Token): Expr;
  /** `*`: the program counter. */
  pc(t: Token): Expr;
  /** `:+` / `:-`... */
  unnamed(t: Token): Expr;
  /** A character constant's value after .charmap. */
  char(t: Token): number;
  /** A built-in function (`.defined(x)`, `.sizeof(x)`, ...) with the cursor after its name; undefined if unknown. */
  func(t: Token, cursor: Cursor): Expr | undefined;
}

/** A read position in one line's tokens. */
export class Cursor {
  index = 0;
  constructor(readonly tokens: Token[], readonly endColumn = 1) {}

  get done(): boolean { return this.index >= this.tokens.length; }
  peek(offset = 0): Token | undefined { return this.tokens[this.index + offset]; }
  next(): Token {
    const t = this.tokens[this.index];
    if (!t) throw new SourceError('unexpected end of line', this.endColumn);
    this.index++;
    return t;
  }
  /** Is the next token this operator (or, for identifiers and directives, this word in any case)? */
  at(text: string, offset = 0): boolean {
    const t = this.tokens[this.index + offset];
    if (!t) return false;
    return t.kind === 'op' ? t.text === text : (t.kind === 'ident' || t.kind === 'directive') && t.text.length === text.length && t.text.toUpperCase() === text;
  }
  accept(text: string): boolean {
    if (!this.at(text)) return false;
    this.index++;
    return true;
  }
  expect(text: string, what: string): Token {
    if (!this.at(text)) throw this.unexpected(what);
    return this.next();
  }
  /** A SourceError at the next token: "expected X, found Y". */
  unexpected(expected: string): SourceError {
    const t = this.peek();
    return new SourceError(`expected ${expected}, found ${t ? describe(t) : 'the end of the line'}`, t ? t.column : this.endColumn);
  }
  /** The column of the next token, or just past the last one. */
  get column(): number { return this.peek()?.column ?? this.endColumn; }
}

export function describe(t: Token): string {
  return t.kind === 'string' ? `"${t.text}"` : `'${t.text}'`;
}

// Binary operators by precedence level, loosest first; names are upper-case.
const BINARY_LEVELS: string[][] = [
  ['||', '.OR'],
  ['&&', '.AND', '.XOR'],
  ['=', '<>', '!=', '<', '>', '<=', '>='],
  ['+', '-', '|', '.BITOR'],
  ['*', '/', '.MOD', '&', '^', '<<', '>>', '.BITAND', '.BITXOR', '.SHL', '.SHR'],
];
const BINARY_SETS = BINARY_LEVELS.map((l) => new Set(l));
const UNARY = new Set(['+', '-', '~', '<', '>', '^', '.BITNOT', '.LOBYTE', '.HIBYTE', '.BANKBYTE', '.LOWORD', '.HIWORD']);
const CANONICAL: Record<string, string> = {
  '.OR': '||', '.AND': '&&', '!=': '<>', '.BITOR': '|', '.BITAND': '&', '.BITXOR': '^', '.SHL': '<<', '.SHR': '>>',
  '.BITNOT': '~', '.LOBYTE': '<', '.HIBYTE': '>', '.BANKBYTE': '^', '.NOT': '!', '.LOWORD': 'loword', '.HIWORD': 'hiword',
  '.XOR': 'xor', '.MOD': 'mod',
};

/** How deep expressions may nest before the parser refuses (instead of overflowing the stack). */
export const MAX_EXPRESSION_DEPTH = 200;
let depth = 0;

function operatorAt(cursor: Cursor, choices: Set<string>): string | undefined {
  const t = cursor.peek();
  if (!t || (t.kind !== 'op' && t.kind !== 'directive')) return undefined;
  const text = t.kind === 'op' ? t.text : t.text.toUpperCase();
  return choices.has(text) ? text : undefined;
}

export function parseExpression(cursor: Cursor, hooks: ParseHooks): Expr {
  if (++depth > MAX_EXPRESSION_DEPTH) {
    depth = 0;
    throw new SourceError(`expression nested more than ${MAX_EXPRESSION_DEPTH} deep`, cursor.column);
  }
  try {
    const t = cursor.peek();
    if (t && ((t.kind === 'op' && t.text === '!') || (t.kind === 'directive' && t.text.toUpperCase() === '.NOT'))) {
      cursor.next();
      return { kind: 'unary', op: '!', operand: parseExpression(cursor, hooks), column: t.column };
    }
    return parseBinary(cursor, 0, hooks);
  } finally {
    if (depth > 0) depth--;
  }
}

/** How many binary operators one expression may have (the tree is as deep as the chain is long). */
export const MAX_OPERATORS = 1000;
let operators = 0;

function parseBinary(cursor: Cursor, level: number, hooks: ParseHooks): Expr {
  if (level === BINARY_LEVELS.length) return parseUnary(cursor, hooks);
  if (level === 0 && depth === 1) operators = 0;
  let left = parseBinary(cursor, level + 1, hooks);
  for (;;) {
    const op = operatorAt(cursor, BINARY_SETS[level]);
    if (!op) return left;
    if (++operators > MAX_OPERATORS) throw new SourceError(`expression has more than ${MAX_OPERATORS} operators`, cursor.column);
    const column = cursor.next().column;
    const right = parseBinary(cursor, level + 1, hooks);
    left = { kind: 'binary', op: CANONICAL[op] ?? op, left, right, column };
  }
}

function parseUnary(cursor: Cursor, hooks: ParseHooks): Expr {
  const op = operatorAt(cursor, UNARY);
  if (!op) return parsePrimary(cursor, hooks);
  const column = cursor.next().column;
  const parenthesized = op.startsWith('.');
  if (parenthesized) cursor.expect('(', `'(' after ${op.toLowerCase()}`);
  const operand = parenthesized ? parseExpression(cursor, hooks) : parseUnaryNested(cursor, hooks);
  if (parenthesized) cursor.expect(')', "')'");
  return { kind: 'unary', op: CANONICAL[op] ?? op, operand, column };
}

function parseUnaryNested(cursor: Cursor, hooks: ParseHooks): Expr {
  if (++depth > MAX_EXPRESSION_DEPTH) {
    depth = 0;
    throw new SourceError(`expression nested more than ${MAX_EXPRESSION_DEPTH} deep`, cursor.column);
  }
  try {
    return parseUnary(cursor, hooks);
  } finally {
    if (depth > 0) depth--;
  }
}

function parsePrimary(cursor: Cursor, hooks: ParseHooks): Expr {
  if (cursor.done) throw cursor.unexpected('an expression');
  const t = cursor.next();
  switch (t.kind) {
    case 'number':
      return { kind: 'number', value: t.value, column: t.column };
    case 'char':
      return { kind: 'number', value: hooks.char(t), column: t.column };
    case 'ident': {
      let path = t.text;
      while (cursor.at('::') && cursor.peek(1)?.kind === 'ident') {
        cursor.next();
        path += '::' + cursor.next().text;
      }
      return hooks.symbol(path, t);
    }
    case 'unnamed':
      return hooks.unnamed(t);
    case 'directive': {
      const e = hooks.func(t, cursor);
      if (e) return e;
      throw new SourceError(`${t.text} cannot be used in an expression`, t.column);
    }
    case 'op':
      if (t.text === '*') return hooks.pc(t);
      if (t.text === '(') {
        const inner = parseExpression(cursor, hooks);
        cursor.expect(')', "')'");
        return inner;
      }
      if (t.text === '::' && cursor.peek()?.kind === 'ident') {
        let path = '::' + cursor.next().text;
        while (cursor.at('::') && cursor.peek(1)?.kind === 'ident') {
          cursor.next();
          path += '::' + cursor.next().text;
        }
        return hooks.symbol(path, t);
      }
      if (t.text === '{') {
        // ca65 allows curly braces to group in expressions too.
        const inner = parseExpression(cursor, hooks);
        cursor.expect('}', "'}'");
        return inner;
      }
      break;
    case 'string':
      if (t.text.length === 1) return { kind: 'number', value: hooks.char({ ...t, value: t.text.charCodeAt(0) }), column: t.column };
      break;
  }
  cursor.index--;
  throw cursor.unexpected('an expression');
}

// ---- values

export function isConstant(v: Value): v is number {
  return typeof v === 'number';
}

function linear(v: Value): Linear | undefined {
  if (typeof v === 'number') return { k: v, terms: [] };
  return 'tree' in v ? undefined : v;
}

function normalize(k: number, terms: Term[]): Value {
  return terms.length ? { k: k | 0, terms } : k | 0;
}

export function toLinkExpr(v: Value): LinkExpr {
  if (typeof v === 'number') return v;
  if ('tree' in v) return v.tree;
  let e: LinkExpr | undefined;
  for (const [key, c] of v.terms) {
    const base: LinkExpr = key.startsWith('s:') ? ['seg', key.slice(2)] : ['imp', key.slice(2)];
    const term: LinkExpr = c === 1 ? base : ['*', c, base];
    e = e === undefined ? term : ['+', e, term];
  }
  if (e === undefined) return v.k;
  return v.k === 0 ? e : ['+', e, v.k];
}

/** Two sorted term lists added (sign 1) or subtracted (-1). */
function mergeTerms(a: Term[], b: Term[], sign: 1 | -1): Term[] {
  if (b.length === 0) return a;
  if (a.length === 0) return sign === 1 ? b : b.map(([key, c]) => [key, -c] as const);
  const out: Term[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const ka = a[i]?.[0];
    const kb = b[j]?.[0];
    if (kb === undefined || (ka !== undefined && ka < kb)) out.push(a[i++]);
    else if (ka === undefined || kb < ka) {
      out.push([kb, sign * b[j][1]]);
      j++;
    } else {
      const c = a[i][1] + sign * b[j][1];
      if (c !== 0) out.push([ka, c]);
      i++;
      j++;
    }
  }
  return out;
}

function add(a: Value, b: Value, sign: 1 | -1): Value {
  if (typeof a === 'number' && typeof b === 'number') return sign === 1 ? (a + b) | 0 : (a - b) | 0;
  const la = linear(a);
  const lb = linear(b);
  if (!la || !lb) return { tree: [sign === 1 ? '+' : '-', toLinkExpr(a), toLinkExpr(b)] };
  return normalize(la.k + sign * lb.k, mergeTerms(la.terms, lb.terms, sign));
}

function scale(l: Linear, c: number): Value {
  if (c === 0) return 0;
  return normalize(Math.imul(l.k, c), l.terms.map(([key, x]) => [key, x * c] as const));
}

export function applyUnary(op: string, v: Value, column: number): Value {
  if (typeof v !== 'number') {
    if (op === '+') return v;
    const l = linear(v);
    if (op === '-' && l) return scale(l, -1);
    return { tree: [op === '-' ? 'neg' : op === '<' ? 'lo' : op === '>' ? 'hi' : op === '^' ? 'bank' : op, toLinkExpr(v)] };
  }
  return unaryNumber(op, v, column);
}

export function unaryNumber(op: string, v: number, column: number): number {
  switch (op) {
    case '-': case 'neg': return -v | 0;
    case '+': return v;
    case '~': return ~v;
    case '<': case 'lo': return v & 0xff;
    case '>': case 'hi': return (v >> 8) & 0xff;
    case '^': case 'bank': return (v >> 16) & 0xff;
    case 'loword': return v & 0xffff;
    case 'hiword': return (v >>> 16) & 0xffff;
    case '!': return v === 0 ? 1 : 0;
  }
  throw new SourceError(`unknown operator ${op}`, column);
}

export function applyBinary(op: string, a: Value, b: Value, column: number): Value {
  if (typeof a === 'number' && typeof b === 'number') return binaryNumber(op, a, b, column);
  if (op === '+') return add(a, b, 1);
  if (op === '-') return add(a, b, -1);
  if (op === '*') {
    const la = linear(a);
    const lb = linear(b);
    if (typeof b === 'number' && la) return scale(la, b);
    if (typeof a === 'number' && lb) return scale(lb, a);
  }
  // Two values on the same bases with equal terms compare like their constants.
  if (['=', '<>', '<', '>', '<=', '>='].includes(op)) {
    const d = add(a, b, -1);
    if (typeof d === 'number') return binaryNumber(op, d, 0, column);
  }
  return { tree: [op, toLinkExpr(a), toLinkExpr(b)] };
}

export function binaryNumber(op: string, l: number, r: number, column: number): number {
  switch (op) {
    case '+': return (l + r) | 0;
    case '-': return (l - r) | 0;
    case '*': return Math.imul(l, r);
    case '/':
      if (r === 0) throw new SourceError('division by zero', column);
      return Math.trunc(l / r) | 0;
    case 'mod':
      if (r === 0) throw new SourceError('modulo by zero', column);
      return l % r;
    case '&': return l & r;
    case '|': return l | r;
    case '^': return l ^ r;
    case '<<': return l << r;
    case '>>': return l >> r;
    case '=': return +(l === r);
    case '<>': return +(l !== r);
    case '<': return +(l < r);
    case '>': return +(l > r);
    case '<=': return +(l <= r);
    case '>=': return +(l >= r);
    case '&&': return +(l !== 0 && r !== 0);
    case '||': return +(l !== 0 || r !== 0);
    case 'xor': return +((l !== 0) !== (r !== 0));
    case 'max': return Math.max(l, r);
    case 'min': return Math.min(l, r);
  }
  throw new SourceError(`unknown operator ${op}`, column);
}

/** The expression's value; throws Unknown while a symbol in it has none, SourceError for bad arithmetic. */
export function evaluate(expr: Expr, depthLeft = MAX_OPERATORS + MAX_EXPRESSION_DEPTH * 2): Value {
  switch (expr.kind) {
    case 'number':
      return expr.value;
    case 'value':
      return expr.value;
    case 'symbol':
    case 'lazy':
      return expr.get();
    case 'unary':
      if (depthLeft <= 0) throw new SourceError('expression nested too deep', expr.column);
      return applyUnary(expr.op, evaluate(expr.operand, depthLeft - 1), expr.column);
    case 'binary': {
      if (depthLeft <= 0) throw new SourceError('expression nested too deep', expr.column);
      const l = evaluate(expr.left, depthLeft - 1);
      if (expr.op === '&&' && l === 0) return 0;
      if (expr.op === '||' && typeof l === 'number' && l !== 0) return 1;
      return applyBinary(expr.op, l, evaluate(expr.right, depthLeft - 1), expr.column);
    }
  }
}

/** The value if it is a number now, else undefined (unknown or relocatable). */
export function constantNow(expr: Expr): number | undefined {
  try {
    const v = evaluate(expr);
    return typeof v === 'number' ? v : undefined;
  } catch (err) {
    if (err instanceof Unknown) return undefined;
    throw err;
  }
}

/** The column where an expression starts (a binary expression's column is its operator's). */
export function startColumn(e: Expr): number {
  while (e.kind === 'binary') e = e.left;
  return e.column;
}

/** Evaluate a linker expression: `base` gives segment starts and imports. */
export function evalLinkExpr(e: LinkExpr, base: (kind: 'seg' | 'imp', name: string) => number): number {
  if (typeof e === 'number') return e;
  if (e[0] === 'seg' || e[0] === 'imp') return base(e[0], e[1] as string);
  const a = evalLinkExpr(e[1] as LinkExpr, base);
  if (e.length === 2) return unaryNumber(e[0], a, 0);
  return binaryNumber(e[0], a, evalLinkExpr(e[2]!, base), 0);
}
