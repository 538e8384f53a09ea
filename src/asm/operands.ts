// Instruction operands: their syntax, the addressing mode they pick, their bytes.
//
// How to drive this:
//   const operand = parseOperand(cursor);                  // after the mnemonic: "($12),Y", "#<x", "a:foo,X" ...
//   const info = chooseOpcode('LDA', operand, set, firstPassValue);  // the OpcodeInfo, size known
//   encodeInstruction(info, operand, address, valueOf)     // [0xB1, 0x12]
//
// Zero page or absolute is chosen the way ca65 does: zero page when the
// operand's value is already known (no forward reference) and below $100;
// `z:` and `a:` force one or the other.

import type { AddressingMode, OpcodeInfo } from '../isa/opcodes.js';
import { SourceError } from './lexer.js';
import { parseExpression, type Cursor, type Expr } from './expression.js';
import { explainMode, instructionSet, MODE_SYNTAX, type InstructionSet } from './instructions.js';

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

export function parseOperand(cursor: Cursor): Operand {
  const column = cursor.column;
  if (cursor.done) return { form: 'none', column };
  if (cursor.index === cursor.tokens.length - 1 && cursor.at('A')) {
    cursor.next();
    return { form: 'acc', column };
  }
  if (cursor.accept('#')) {
    const value = parseExpression(cursor);
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
    const indirect = tryIndirect(cursor, column);
    if (indirect) return indirect;
  }
  const value = parseExpression(cursor);
  if (cursor.done) return { form: 'direct', value, force, column };
  cursor.expect(',', "',' or the end of the line");
  const index = atIndexRegister(cursor);
  if (index) {
    cursor.next();
    return { form: 'direct', value, index, force, column };
  }
  const target = parseExpression(cursor);
  expectEnd(cursor);
  return { form: 'bit-branch', value, target, column };
}

/** `(e)`, `(e,X)` or `(e),Y`; undefined (cursor unmoved) when the parenthesis only groups an expression. */
function tryIndirect(cursor: Cursor, column: number): Operand | undefined {
  const start = cursor.index;
  cursor.next();
  const value = parseExpression(cursor);
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

const ZP_OR_ABS: Record<'-' | 'X' | 'Y', [AddressingMode, AddressingMode]> = { '-': ['zp', 'abs'], X: ['zpx', 'abx'], Y: ['zpy', 'aby'] };

/**
 * The opcode for a mnemonic and operand. `firstPassValue` gives the operand's
 * value when it is already known (for zero page or absolute), else undefined.
 */
export function chooseOpcode(mnemonic: string, operand: Operand, set: InstructionSet, firstPassValue: (e: Expr) => number | undefined): OpcodeInfo {
  const modes = set.modes(mnemonic)!;
  const need = (mode: AddressingMode) => {
    const info = modes.get(mode);
    if (!info) throw new SourceError(explainMode(mnemonic, mode, set), operand.column);
    return info;
  };
  switch (operand.form) {
    case 'none':
      return modes.get('imp') ?? modes.get('acc') ?? need('imp');
    case 'acc':
      return need('acc');
    case 'imm':
      return need('imm');
    case 'bit-branch':
      if (!modes.has('zpr')) throw new SourceError(`only X or Y may follow the ',' in ${mnemonic}'s operand`, startColumn(operand.target));
      return need('zpr');
    case 'indirect':
      if (operand.index === 'Y') return need('izy');
      if (operand.index === 'X') return modes.get('izx') ?? modes.get('iax') ?? need(instructionSet('65C02').modes(mnemonic)?.has('iax') ? 'iax' : 'izx');
      return modes.get('ind') ?? modes.get('izp') ?? need('izp');
    case 'direct': {
      if (!operand.index && modes.has('rel')) return modes.get('rel')!;
      const [zp, abs] = ZP_OR_ABS[operand.index ?? '-'];
      if (operand.force) return need(operand.force === 'zp' ? zp : abs);
      const zpInfo = modes.get(zp);
      const absInfo = modes.get(abs);
      const value = zpInfo && absInfo ? firstPassValue(operand.value) : undefined;
      if (zpInfo && absInfo) return value !== undefined && value < 0x100 ? zpInfo : absInfo;
      return zpInfo ?? absInfo ?? need(abs);
    }
  }
}

export function hexValue(v: number): string {
  return v < 0 ? String(v) : '$' + v.toString(16).toUpperCase().padStart(v > 0xff ? 4 : 2, '0');
}

/** The column where an expression starts (a binary expression's column is its operator's). */
export function startColumn(e: Expr): number {
  return e.kind === 'binary' ? startColumn(e.left) : e.column;
}

/** Check that a value fits `bits` bits unsigned, as ca65 does. */
export function checkRange(value: number, bits: 8 | 16, what: string, e: Expr): number {
  const max = bits === 8 ? 0xff : 0xffff;
  if (value < 0 || value > max) throw new SourceError(`${what} ${hexValue(value)} is out of range (0 to ${hexValue(max)})`, startColumn(e));
  return value;
}

function branchOffset(target: number, next: number, e: Expr): number {
  checkRange(target, 16, 'branch target', e);
  const distance = target - next;
  if (distance < -128 || distance > 127) {
    throw new SourceError(
      `branch out of range: target ${hexValue(target)} is ${distance > 0 ? '+' : ''}${distance} bytes from the next instruction (a branch reaches -128 to +127)`,
      startColumn(e),
    );
  }
  return distance & 0xff;
}

/** The instruction's bytes; `valueOf` evaluates an operand or throws a SourceError. */
export function encodeInstruction(info: OpcodeInfo, operand: Operand, address: number, valueOf: (e: Expr) => number): number[] {
  const op = info.opcode;
  if (operand.form === 'none' || operand.form === 'acc') return [op];
  const e = operand.value;
  const v = valueOf(e);
  switch (info.mode) {
    case 'imm':
      return [op, checkRange(v, 8, 'immediate value', e)];
    case 'zp': case 'zpx': case 'zpy': case 'izx': case 'izy': case 'izp':
      if (v < 0 || v > 0xff) throw new SourceError(`${info.mnemonic} ${MODE_SYNTAX[info.mode]} needs a zero-page address ($00 to $FF), got ${hexValue(v)}`, startColumn(e));
      return [op, v];
    case 'abs': case 'abx': case 'aby': case 'ind': case 'iax':
      checkRange(v, 16, 'address', e);
      return [op, v & 0xff, v >> 8];
    case 'rel':
      return [op, branchOffset(v, address + 2, e)];
    case 'zpr': {
      if (operand.form !== 'bit-branch') throw new Error('zpr without a target');
      if (v < 0 || v > 0xff) throw new SourceError(`${info.mnemonic} needs a zero-page address ($00 to $FF), got ${hexValue(v)}`, startColumn(e));
      return [op, v, branchOffset(valueOf(operand.target), address + 3, operand.target)];
    }
  }
  throw new Error(`no operand bytes for mode ${info.mode}`);
}
