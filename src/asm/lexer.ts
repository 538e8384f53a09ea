// The assembler's lexer: one source line to tokens, in ca65's spelling.
//
// How to drive this: `tokenize('loop: lda #<table+1 ; comment')` gives the
// tokens with their 1-based columns; a character that starts no token, an
// unterminated string or a bad number throws a `SourceError` at its column.
//
// Tokens: identifiers (`name`, `@cheap`, and `.directive`), numbers (`123`,
// `$7F`, `%1010`, `'c'`), strings ("text", no escapes, as ca65), unnamed-label
// references (`:+`, `:--`, ...) and operators. A `;` ends the line.

export type TokenKind = 'ident' | 'directive' | 'number' | 'string' | 'unnamed' | 'op';

export interface Token {
  kind: TokenKind;
  /** The text as written (for strings, the contents without the quotes). */
  text: string;
  /** numbers: the value; unnamed: +n for `:+`..., -n for `:-`... */
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

const OPERATORS = [':=', '<<', '>>', '<=', '>=', '<>', '!=', '&&', '||', '::', '(', ')', ',', '#', ':', '=', '+', '-', '*', '/', '&', '|', '^', '~', '<', '>', '!', '[', ']'];

const IDENT_START = /[A-Za-z_@]/;
const IDENT_PART = /[A-Za-z0-9_]/;

export function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const at = (k: number) => line[k] ?? '';
  const push = (kind: TokenKind, text: string, value: number, start: number) => tokens.push({ kind, text, value, column: start + 1 });
  while (i < line.length) {
    const c = line[i];
    const start = i;
    if (c === ';') break;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
      i++;
    } else if (IDENT_START.test(c) || (c === '.' && IDENT_START.test(at(i + 1)))) {
      i++;
      while (IDENT_PART.test(at(i))) i++;
      const text = line.slice(start, i);
      if (text === '@') throw new SourceError("'@' must start a cheap local name, as in @loop", start + 1);
      push(c === '.' ? 'directive' : 'ident', text, 0, start);
    } else if (c === '$' || c === '%' || /[0-9]/.test(c)) {
      const [radix, digits, name] = c === '$' ? [16, /[0-9A-Fa-f]/, 'hexadecimal'] : c === '%' ? [2, /[01]/, 'binary'] : [10, /[0-9]/, 'decimal'];
      if (c === '$' || c === '%') i++;
      const from = i;
      while (digits.test(at(i))) i++;
      if (i === from || IDENT_PART.test(at(i))) {
        while (IDENT_PART.test(at(i))) i++;
        throw new SourceError(`bad ${name} number "${line.slice(start, i)}"`, start + 1);
      }
      push('number', line.slice(start, i), parseInt(line.slice(from, i), radix), start);
    } else if (c === "'") {
      if (at(i + 2) !== "'" || i + 1 >= line.length) throw new SourceError("bad character literal: write one character between single quotes, as in 'A'", start + 1);
      push('number', line.slice(start, i + 3), line.charCodeAt(i + 1), start);
      i += 3;
    } else if (c === '"') {
      const end = line.indexOf('"', i + 1);
      if (end < 0) throw new SourceError('unterminated string: the closing " is missing', start + 1);
      push('string', line.slice(i + 1, end), 0, start);
      i = end + 1;
    } else if (c === ':' && (at(i + 1) === '+' || at(i + 1) === '-')) {
      const sign = at(i + 1);
      i++;
      while (at(i) === sign) i++;
      push('unnamed', line.slice(start, i), (sign === '+' ? 1 : -1) * (i - start - 1), start);
    } else {
      const op = OPERATORS.find((o) => line.startsWith(o, i));
      if (!op) throw new SourceError(`unexpected character '${c}'`, start + 1);
      push('op', op, 0, start);
      i += op.length;
    }
  }
  return tokens;
}
