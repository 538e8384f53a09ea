// The assembler's lexer: one source line to tokens, in ca65's spelling.
//
// How to drive this: `tokenize('loop: lda #<table+1 ; comment')` gives the
// tokens with their 1-based columns; a character that starts no token, an
// unterminated string or a bad number throws a `SourceError` at its column.
//
// Tokens: identifiers (`name`, `@cheap`), directives and keywords (`.byte`),
// numbers (`123`, `$7F`, `0FFh`, `%1010`), character constants (`'c'`, kind
// 'char' so that .charmap applies), strings ("text", no escapes, as ca65),
// unnamed-label references (`:+`, `:--`, ...) and operators, `{` `}` included
// (they group macro arguments). A `;` ends the line.

export type TokenKind = 'ident' | 'directive' | 'number' | 'char' | 'string' | 'unnamed' | 'op';

export interface Token {
  kind: TokenKind;
  /** The text as written (for strings, the contents without the quotes). */
  text: string;
  /** numbers and chars: the value; unnamed: +n for `:+`..., -n for `:-`... */
  value: number;
  /** 1-based column of the token's first character. */
  column: number;
}

/** An error in the source at a column of the current line. */
export class SourceError extends Error {
  constructor(message: string, readonly column: number) {
    super(message);
  }
}

const TWO_CHAR_OPS = new Set([':=', '<<', '>>', '<=', '>=', '<>', '!=', '&&', '||', '::']);
const TWO_CHAR_STARTS = new Set([...TWO_CHAR_OPS].map((o) => o.charCodeAt(0)));
const ONE_CHAR_OPS = new Set(['(', ')', ',', '#', ':', '=', '+', '-', '*', '/', '&', '|', '^', '~', '<', '>', '!', '[', ']', '{', '}']);

function isIdStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isIdPart(c: number): boolean {
  return isIdStart(c) || (c >= 48 && c <= 57);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

export interface LexOptions {
  /** `$` alone (not before a hex digit) is the program counter, as ca65's feature dollar_is_pc. */
  dollarIsPc?: boolean;
  /** Strings and characters take C escapes (\n, \t, \\, \", \xNN): ca65's feature string_escapes. */
  stringEscapes?: boolean;
}

export function tokenize(line: string, options: LexOptions = {}): Token[] {
  const tokens: Token[] = [];
  const n = line.length;
  let i = 0;
  while (i < n) {
    const c = line.charCodeAt(i);
    const start = i;
    if (c === 59 /* ; */) break;
    if (c === 32 || c === 9 || c === 13 || c === 12) {
      i++;
      continue;
    }
    if (isIdStart(c) || c === 64 /* @ */ || (c === 46 /* . */ && isIdStart(line.charCodeAt(i + 1)))) {
      i++;
      while (i < n && isIdPart(line.charCodeAt(i))) i++;
      const text = line.slice(start, i);
      if (text === '@') throw new SourceError("'@' must start a cheap local name, as in @loop", start + 1);
      tokens.push({ kind: c === 46 ? 'directive' : 'ident', text, value: 0, column: start + 1 });
      continue;
    }
    if (isDigit(c)) {
      while (i < n && isHexDigit(line.charCodeAt(i))) i++;
      let radix = 10;
      const digits = line.slice(start, i);
      if (i < n && (line[i] === 'h' || line[i] === 'H')) {
        radix = 16;
        i++;
      }
      while (i < n && isIdPart(line.charCodeAt(i))) i++;
      const text = line.slice(start, i);
      if ((radix === 10 && !/^[0-9]+$/.test(digits)) || text.length !== digits.length + (radix === 16 ? 1 : 0)) {
        throw new SourceError(`bad ${radix === 16 ? 'hexadecimal' : 'decimal'} number "${text}"`, start + 1);
      }
      tokens.push({ kind: 'number', text, value: toNumber(digits, radix, text, start), column: start + 1 });
      continue;
    }
    if (c === 36 /* $ */ || c === 37 /* % */) {
      const hex = c === 36;
      i++;
      const from = i;
      while (i < n && (hex ? isHexDigit(line.charCodeAt(i)) : line[i] === '0' || line[i] === '1')) i++;
      if (i === from && !isIdPart(line.charCodeAt(i))) {
        if (hex && options.dollarIsPc) {
          tokens.push({ kind: 'op', text: '*', value: 0, column: start + 1 });
          continue;
        }
        if (!hex) {
          tokens.push({ kind: 'op', text: '%', value: 0, column: start + 1 });
          continue;
        }
      }
      if (i === from || isIdPart(line.charCodeAt(i))) {
        while (i < n && isIdPart(line.charCodeAt(i))) i++;
        throw new SourceError(`bad ${hex ? 'hexadecimal' : 'binary'} number "${line.slice(start, i)}"`, start + 1);
      }
      const text = line.slice(start, i);
      tokens.push({ kind: 'number', text, value: toNumber(line.slice(from, i), hex ? 16 : 2, text, start), column: start + 1 });
      continue;
    }
    if (c === 39 /* ' */) {
      let value: number;
      let end: number;
      if (options.stringEscapes && line[i + 1] === '\\') {
        const [v, next] = escape(line, i + 2, start);
        value = v;
        end = next;
      } else {
        value = line.charCodeAt(i + 1);
        end = i + 2;
      }
      if (i + 1 >= n || line[end] !== "'") throw new SourceError("bad character literal: write one character between single quotes, as in 'A'", start + 1);
      tokens.push({ kind: 'char', text: line.slice(start, end + 1), value, column: start + 1 });
      i = end + 1;
      continue;
    }
    if (c === 34 /* " */) {
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= n) throw new SourceError('unterminated string: the closing " is missing', start + 1);
        const d = line[j];
        if (d === '"') break;
        if (d === '\\' && options.stringEscapes) {
          const [v, next] = escape(line, j + 1, start);
          text += String.fromCharCode(v);
          j = next;
        } else {
          text += d;
          j++;
        }
      }
      tokens.push({ kind: 'string', text, value: 0, column: start + 1 });
      i = j + 1;
      continue;
    }
    if (c === 58 /* : */ && (line[i + 1] === '+' || line[i + 1] === '-' || line[i + 1] === '<' || line[i + 1] === '>')) {
      const sign = line[i + 1];
      i++;
      while (line[i] === sign) i++;
      const forward = sign === '+' || sign === '>';
      tokens.push({ kind: 'unnamed', text: line.slice(start, i), value: (forward ? 1 : -1) * (i - start - 1), column: start + 1 });
      continue;
    }
    const two = TWO_CHAR_STARTS.has(c) ? line.slice(i, i + 2) : '';
    if (two.length === 2 && TWO_CHAR_OPS.has(two)) {
      tokens.push({ kind: 'op', text: two, value: 0, column: start + 1 });
      i += 2;
      continue;
    }
    if (ONE_CHAR_OPS.has(line[i])) {
      tokens.push({ kind: 'op', text: line[i], value: 0, column: start + 1 });
      i++;
      continue;
    }
    throw new SourceError(`unexpected character '${line[i]}'`, start + 1);
  }
  return tokens;
}

function toNumber(digits: string, radix: number, text: string, start: number): number {
  const value = parseInt(digits, radix);
  if (!(value <= 0xffffffff)) throw new SourceError(`number "${text}" is out of range (more than 32 bits)`, start + 1);
  return value | 0;
}

function escape(line: string, at: number, start: number): [number, number] {
  const e = line[at];
  const simple: Record<string, number> = { n: 10, r: 13, t: 9, '\\': 92, '"': 34, "'": 39, '0': 0 };
  if (e in simple) return [simple[e], at + 1];
  if (e === 'x' && /^[0-9A-Fa-f]{2}$/.test(line.slice(at + 1, at + 3))) return [parseInt(line.slice(at + 1, at + 3), 16), at + 3];
  throw new SourceError(`bad escape "\\${e ?? ''}" (known: \\n \\r \\t \\\\ \\" \\' \\xNN)`, start + 1);
}
