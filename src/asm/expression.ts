// Expressions: parsed from tokens into a tree, evaluated once values are known.
//
// How to drive this:
//   const cursor = new Cursor(tokenize('<(table + 2*3)'));
//   const expr = parseExpression(cursor);          // stops at ',' ')' or the end
//   evaluate(expr, context)                         // a number, or undefined while a symbol is unknown
//   evaluate(expr, context, true)                   // throws SourceError naming the undefined symbol
//
// Operators and precedence are ca65's (tightest first): unary + - ~ < > ^ !;
// * / .MOD & ^ << >>; + - |; = <> != < > <= >=; && .XOR; ||; .NOT.
// So `<label+1` is `(<label)+1`, as in ca65. Arithmetic is on 32-bit integers;
// comparisons and logic give 1 or 0. `*` alone is the program counter.

import { SourceError, type Token } from './lexer.js';

export type Expr =
  | { kind: 'number'; value: number; column: number }
  | { kind: 'symbol'; name: string; column: number }
  | { kind: 'pc'; column: number }
  /** An unnamed label: +1 the next `:`, -1 the previous one, +2 the one after next... */
  | { kind: 'unnamed'; offset: number; column: number }
  | { kind: 'defined'; name: string; column: number }
  | { kind: 'unary'; op: string; operand: Expr; column: number }
  | { kind: 'binary'; op: string; left: Expr; right: Expr; column: number };

export interface EvalContext {
  /** The value of a symbol, or undefined while it is not (yet) known. */
  symbol(name: string): number | undefined;
  /** Whether a symbol is defined at this point. */
  defined(name: string): boolean;
  /** The address of an unnamed label, or undefined while it is not known. */
  unnamed(offset: number): number | undefined;
  /** The program counter: the address of the statement's first byte. */
  pc: number;
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
    const t = this.peek(offset);
    if (!t) return false;
    return t.kind === 'op' ? t.text === text : (t.kind === 'ident' || t.kind === 'directive') && t.text.toUpperCase() === text;
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
  /** The column just past the last token, for errors about something missing. */
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
const UNARY = ['+', '-', '~', '<', '>', '^', '!', '.BITNOT', '.LOBYTE', '.HIBYTE', '.BANKBYTE'];
const CANONICAL: Record<string, string> = {
  '.OR': '||', '.AND': '&&', '!=': '<>', '.BITOR': '|', '.BITAND': '&', '.BITXOR': '^', '.SHL': '<<', '.SHR': '>>',
  '.BITNOT': '~', '.LOBYTE': '<', '.HIBYTE': '>', '.BANKBYTE': '^', '.NOT': '!',
};

function operatorAt(cursor: Cursor, choices: string[]): string | undefined {
  const t = cursor.peek();
  if (!t || (t.kind !== 'op' && t.kind !== 'directive')) return undefined;
  const text = t.text.toUpperCase();
  return choices.includes(text) ? text : undefined;
}

export function parseExpression(cursor: Cursor): Expr {
  const t = cursor.peek();
  if (t && (t.text === '!' || t.text.toUpperCase() === '.NOT')) {
    cursor.next();
    return { kind: 'unary', op: '!', operand: parseExpression(cursor), column: t.column };
  }
  return parseBinary(cursor, 0);
}

function parseBinary(cursor: Cursor, level: number): Expr {
  if (level === BINARY_LEVELS.length) return parseUnary(cursor);
  let left = parseBinary(cursor, level + 1);
  for (;;) {
    const op = operatorAt(cursor, BINARY_LEVELS[level]);
    if (!op) return left;
    const column = cursor.next().column;
    const right = parseBinary(cursor, level + 1);
    left = { kind: 'binary', op: CANONICAL[op] ?? op, left, right, column };
  }
}

function parseUnary(cursor: Cursor): Expr {
  const op = operatorAt(cursor, UNARY);
  if (!op) return parsePrimary(cursor);
  const column = cursor.next().column;
  const parenthesized = op.startsWith('.');
  if (parenthesized) cursor.expect('(', `'(' after ${op}`);
  const operand = parenthesized ? parseExpression(cursor) : parseUnary(cursor);
  if (parenthesized) cursor.expect(')', "')'");
  return { kind: 'unary', op: CANONICAL[op] ?? op, operand, column };
}

function parsePrimary(cursor: Cursor): Expr {
  if (cursor.done) throw cursor.unexpected('an expression');
  const t = cursor.next();
  switch (t.kind) {
    case 'number':
      return { kind: 'number', value: t.value, column: t.column };
    case 'ident':
      return { kind: 'symbol', name: t.text, column: t.column };
    case 'unnamed':
      return { kind: 'unnamed', offset: t.value, column: t.column };
    case 'directive': {
      const name = t.text.toUpperCase();
      if (name === '.DEFINED' || name === '.DEF') {
        cursor.expect('(', `'(' after ${t.text}`);
        const symbol = cursor.next();
        if (symbol.kind !== 'ident') throw new SourceError(`expected a symbol name in ${t.text}(...)`, symbol.column);
        cursor.expect(')', "')'");
        return { kind: 'defined', name: symbol.text, column: t.column };
      }
      throw new SourceError(`${t.text} cannot be used in an expression`, t.column);
    }
    case 'op':
      if (t.text === '*') return { kind: 'pc', column: t.column };
      if (t.text === '(') {
        const inner = parseExpression(cursor);
        cursor.expect(')', "')'");
        return inner;
      }
      break;
    case 'string':
      if (t.text.length === 1) return { kind: 'number', value: t.text.charCodeAt(0), column: t.column };
      break;
  }
  cursor.index--;
  throw cursor.unexpected('an expression');
}

/**
 * The expression's value, or undefined while a symbol or unnamed label in it
 * is unknown. With `strict`, an unknown name is a SourceError instead.
 */
export function evaluate(expr: Expr, context: EvalContext, strict = false): number | undefined {
  const unknown = (what: string, column: number) => {
    if (strict) throw new SourceError(what, column);
    return undefined;
  };
  switch (expr.kind) {
    case 'number':
      return expr.value;
    case 'pc':
      return context.pc;
    case 'symbol':
      return (
        context.symbol(expr.name) ??
        unknown(
          context.defined(expr.name)
            ? `'${expr.name}' has no value: its definition uses an undefined symbol, or itself`
            : `undefined symbol '${expr.name}'`,
          expr.column,
        )
      );
    case 'unnamed':
      return context.unnamed(expr.offset) ?? unknown(`no unnamed label ${expr.offset > 0 ? 'after' : 'before'} this line for ':${(expr.offset > 0 ? '+' : '-').repeat(Math.abs(expr.offset))}'`, expr.column);
    case 'defined':
      return context.defined(expr.name) ? 1 : 0;
    case 'unary': {
      const v = evaluate(expr.operand, context, strict);
      return v === undefined ? undefined : applyUnary(expr.op, v);
    }
    case 'binary': {
      const l = evaluate(expr.left, context, strict);
      const r = evaluate(expr.right, context, strict);
      if (l === undefined || r === undefined) return undefined;
      return applyBinary(expr.op, l, r, expr.column);
    }
  }
}

function applyUnary(op: string, v: number): number {
  switch (op) {
    case '-': return -v | 0;
    case '+': return v;
    case '~': return ~v;
    case '<': return v & 0xff;
    case '>': return (v >> 8) & 0xff;
    case '^': return (v >> 16) & 0xff;
    case '!': return v === 0 ? 1 : 0;
  }
  throw new Error(`unary operator ${op}`);
}

function applyBinary(op: string, l: number, r: number, column: number): number {
  switch (op) {
    case '+': return (l + r) | 0;
    case '-': return (l - r) | 0;
    case '*': return Math.imul(l, r);
    case '/':
    case '.MOD':
      if (r === 0) throw new SourceError(op === '/' ? 'division by zero' : 'modulo by zero', column);
      return op === '/' ? Math.trunc(l / r) | 0 : l % r;
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
    case '.XOR': return +((l !== 0) !== (r !== 0));
  }
  throw new Error(`binary operator ${op}`);
}
