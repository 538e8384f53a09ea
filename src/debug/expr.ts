// Expressions as debuggers take them: breakpoint conditions, watch
// expressions, the monitor's addresses and the debug adapter's evaluate.
//
// How to drive this:
//   const value = evaluate('A == $10 && [buffer+1] != 0', {
//     name: (id) => ..., read: (address) => ..., radix: 16 });
// Numbers: $hex, 0xhex, %binary, +decimal, and bare digits in `radix`
// (10 by default; the monitor's is 16, as py65mon's). Names are looked up by
// the caller (C locals, symbols, registers A X Y S SP PC P and flags C Z I D
// V N). `[e]` is the byte at e, `peek(e)` too, `peekw(e)` the word; unary
// - ! ~ < (low byte) > (high byte); binary * / % + - << >> < <= > >= == (or
// =) != & ^ | && ||, with C's precedence. Errors are ExprErrors naming the
// problem and where it is.

export class ExprError extends Error {}

export interface ExprContext {
  /** The value of a name, or undefined when it means nothing. */
  name(id: string): number | undefined;
  /** A byte of guest memory (without side effects). */
  read(address: number): number;
  /** The base of bare digits (default 10). */
  radix?: number;
}

const BINARY: Array<string[]> = [['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!=', '='], ['<=', '>=', '<', '>'], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];

export function evaluate(text: string, ctx: ExprContext): number {
  const tokens = tokenize(text, ctx.radix ?? 10);
  let pos = 0;
  const peek = () => tokens[pos];
  const fail = (message: string): never => {
    const t = tokens[pos];
    throw new ExprError(t ? `${message} at "${text.slice(t.at)}"` : `${message} at the end of "${text}"`);
  };
  const expect = (v: string) => {
    if (peek()?.v !== v) fail(`expected "${v}"`);
    pos++;
  };
  const primary = (): number => {
    const t = peek();
    if (!t) return fail('expected a value');
    if (t.kind === 'num') {
      pos++;
      return t.n!;
    }
    if (t.v === '(') {
      pos++;
      const v = binary(0);
      expect(')');
      return v;
    }
    if (t.v === '[') {
      pos++;
      const a = binary(0);
      expect(']');
      return ctx.read(a & 0xffff);
    }
    if (['-', '!', '~', '<', '>'].includes(t.v)) {
      pos++;
      const v = primary();
      return t.v === '-' ? -v : t.v === '!' ? Number(!v) : t.v === '~' ? ~v & 0xffff : t.v === '<' ? v & 0xff : (v >> 8) & 0xff;
    }
    if (t.kind === 'id') {
      pos++;
      const fn = t.v.toLowerCase();
      if ((fn === 'peek' || fn === 'peekw') && peek()?.v === '(') {
        pos++;
        const a = binary(0);
        expect(')');
        return fn === 'peek' ? ctx.read(a & 0xffff) : ctx.read(a & 0xffff) | (ctx.read((a + 1) & 0xffff) << 8);
      }
      let v = ctx.name(t.v);
      // In base 16, a word of hex digits that names nothing is a number (py65mon's "mem c000:c0ff").
      if (v === undefined && (ctx.radix ?? 10) === 16 && /^[0-9a-f]+$/i.test(t.v)) v = parseInt(t.v, 16);
      if (v === undefined) {
        pos--;
        return fail(`unknown name "${t.v}"`);
      }
      return v;
    }
    return fail(`unexpected "${t.v}"`);
  };
  const binary = (level: number): number => {
    if (level === BINARY.length) return primary();
    let left = binary(level + 1);
    for (;;) {
      const t = peek();
      if (!t || t.kind !== 'op' || !BINARY[level].includes(t.v)) return left;
      pos++;
      const right = binary(level + 1);
      left = apply(t.v, left, right, fail);
    }
  };
  const v = binary(0);
  if (pos < tokens.length) fail('unexpected');
  return v;
}

function apply(op: string, a: number, b: number, fail: (m: string) => never): number {
  switch (op) {
    case '||': return Number(!!a || !!b);
    case '&&': return Number(!!a && !!b);
    case '|': return a | b;
    case '^': return a ^ b;
    case '&': return a & b;
    case '=': case '==': return Number(a === b);
    case '!=': return Number(a !== b);
    case '<': return Number(a < b);
    case '<=': return Number(a <= b);
    case '>': return Number(a > b);
    case '>=': return Number(a >= b);
    case '<<': return a << b;
    case '>>': return a >> b;
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/': if (b === 0) fail('division by zero'); return Math.trunc(a / b);
    default: if (b === 0) fail('division by zero'); return a % b;
  }
}

interface Token {
  kind: 'num' | 'id' | 'op';
  v: string;
  n?: number;
  at: number;
}

const OPS = ['||', '&&', '==', '!=', '<=', '>=', '<<', '>>', '|', '^', '&', '=', '<', '>', '+', '-', '*', '/', '%', '!', '~', '(', ')', '[', ']'];

function tokenize(text: string, radix: number): Token[] {
  const out: Token[] = [];
  let i = 0;
  const digitsOf = (base: number) => (base === 16 ? /[0-9a-f]/i : base === 2 ? /[01]/ : base === 8 ? /[0-7]/ : /[0-9]/);
  const number = (at: number, start: number, base: number) => {
    let j = start;
    while (j < text.length && (digitsOf(base).test(text[j]) || text[j] === '_')) j++;
    const digits = text.slice(start, j).replace(/_/g, '');
    if (!digits || /[g-z]/i.test(text[j] ?? '')) throw new ExprError(`"${text.slice(at, Math.max(j, at + 1) + 1).trim()}" is not a number in base ${base}`);
    out.push({ kind: 'num', v: text.slice(at, j), n: parseInt(digits, base), at });
    i = j;
  };
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const prev = out[out.length - 1];
    const valueBefore = prev && (prev.kind !== 'op' || prev.v === ')' || prev.v === ']');
    if (c === '$') number(i, i + 1, 16);
    else if (c === '%' && !valueBefore) number(i, i + 1, 2);
    else if (c === '+' && !valueBefore && /[0-9]/.test(text[i + 1] ?? '')) number(i, i + 1, 10);
    else if (c === '0' && /x/i.test(text[i + 1] ?? '')) number(i, i + 2, 16);
    else if (/[0-9]/.test(c) && radix !== 10) {
      // Bare digits in the monitor's radix; in base 16 a name may not start with a hex digit anyway.
      number(i, i, radix);
    } else if (/[0-9]/.test(c)) number(i, i, 10);
    else if (/[A-Za-z_.@]/.test(c)) {
      let j = i + 1;
      while (j < text.length && /[\w.@:]/.test(text[j])) j++;
      out.push({ kind: 'id', v: text.slice(i, j), at: i });
      i = j;
    } else {
      const op = OPS.find((o) => text.startsWith(o, i));
      if (!op) throw new ExprError(`unexpected "${c}" in "${text}"`);
      out.push({ kind: 'op', v: op, at: i });
      i += op.length;
    }
  }
  return out;
}
