// Instruction operands: their syntax.
//
// How to drive this:
//   const operand = parseOperand(cursor, hooks);   // after the mnemonic: "($12),Y", "#<x", "a:foo,X" ...
//   operand.form, operand.value, operand.index     // the assembler picks the opcode from these
//
// `z:` and `a:` force zero page or absolute, as in ca65.

import { SourceError } from './lexer.js';
import { parseExpression, type Cursor, type Expr, type ParseHooks } from './expression.js';

export type Operand = { column: number } & (
  | { form: 'none' }
  | { form: 'acc' }
  | { form: 'imm'; value: Expr }
  /** `value`, `value,X`, `value,Y`, with an optional `z:` or `a:` prefix. */
  | { form: 'direct'; value: Expr; index?: 'X' | 'Y'; force?: 'zp' | 'abs' }
  /** `(value)`, `(value,X)` (index X) or `(value),Y` (index Y). */
  | { form: 'indirect'; value: Expr; index?: 'X' | 'Y' }
  /** `zp, target`: the 65C02's BBR/BBS. */
  | { form: 'bit-branch'; value: Expr; target: Expr }
);

export function expectEnd(cursor: Cursor): void {
  if (!cursor.done) throw cursor.unexpected('the end of the line');
}

function atIndexRegister(cursor: Cursor): 'X' | 'Y' | undefined {
  const last = cursor.index === cursor.tokens.length - 1;
  return last && cursor.at('X') ? 'X' : last && cursor.at('Y') ? 'Y' : undefined;
}

export function parseOperand(cursor: Cursor, hooks: ParseHooks): Operand {
  const column = cursor.column;
  if (cursor.done) return { form: 'none', column };
  if (cursor.index === cursor.tokens.length - 1 && cursor.at('A')) {
    cursor.next();
    return { form: 'acc', column };
  }
  if (cursor.accept('#')) {
    const value = parseExpression(cursor, hooks);
    expectEnd(cursor);
    return { form: 'imm', value, column };
  }
  let force: 'zp' | 'abs' | undefined;
  if (cursor.at(':', 1) && (cursor.at('Z') || cursor.at('A') || cursor.at('F'))) {
    if (cursor.at('F')) throw new SourceError('far addressing (f:) needs a 65816', column);
    force = cursor.at('Z') ? 'zp' : 'abs';
    cursor.index += 2;
  }
  if (!force && cursor.at('(')) {
    const indirect = tryIndirect(cursor, column, hooks);
    if (indirect) return indirect;
  }
  const value = parseExpression(cursor, hooks);
  if (cursor.done) return { form: 'direct', value, force, column };
  cursor.expect(',', "',' or the end of the line");
  const index = atIndexRegister(cursor);
  if (index) {
    cursor.next();
    return { form: 'direct', value, index, force, column };
  }
  const target = parseExpression(cursor, hooks);
  expectEnd(cursor);
  return { form: 'bit-branch', value, target, column };
}

/** `(e)`, `(e,X)` or `(e),Y`; undefined (cursor unmoved) when the parenthesis only groups an expression. */
function tryIndirect(cursor: Cursor, column: number, hooks: ParseHooks): Operand | undefined {
  const start = cursor.index;
  cursor.next();
  const value = parseExpression(cursor, hooks);
  if (cursor.accept(',')) {
    if (cursor.accept('X') && cursor.accept(')') && cursor.done) return { form: 'indirect', value, index: 'X', column };
  } else if (cursor.accept(')')) {
    if (cursor.done) return { form: 'indirect', value, column };
    if (cursor.accept(',') && atIndexRegister(cursor) === 'Y') {
      cursor.next();
      return { form: 'indirect', value, index: 'Y', column };
    }
  }
  cursor.index = start;
  return undefined;
}

export function hexValue(v: number): string {
  return v < 0 ? String(v) : '$' + v.toString(16).toUpperCase().padStart(v > 0xff ? 4 : 2, '0');
}

