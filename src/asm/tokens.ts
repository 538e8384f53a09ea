// Token lists, as macros and .define read them: arguments split at the commas
// outside parentheses and braces, `{...}` groups taken off, matching parentheses.
//
// How to drive this:
//   splitArguments(new Cursor(tokenize('a, {b, c}, (d, e)')))   // [[a], [b , c], [( d , e )]]
//   unbrace(tokenize('{lda #1}'))                                // [lda, #, 1]
//   matchingParen(tokens, i)                                     // the index of the ')' that closes tokens[i]

import { SourceError, type Token } from './lexer.js';
import type { Cursor } from './expression.js';

/** Arguments of a macro call: comma-separated token lists; `{...}` groups one that holds commas. */
export function splitArguments(cursor: Cursor): Token[][] {
  const args: Token[][] = [];
  if (cursor.done) return args;
  let current: Token[] = [];
  let depth = 0;
  while (!cursor.done) {
    const t = cursor.next();
    if (t.kind === 'op' && (t.text === '(' || t.text === '{')) depth++;
    if (t.kind === 'op' && (t.text === ')' || t.text === '}')) depth--;
    if (t.kind === 'op' && t.text === ',' && depth === 0) {
      args.push(unbrace(current));
      current = [];
      continue;
    }
    current.push(t);
  }
  args.push(unbrace(current));
  return args;
}

/** A token list without the curly braces around it, if any. */
export function unbrace(tokens: Token[]): Token[] {
  if (tokens.length >= 2 && tokens[0].kind === 'op' && tokens[0].text === '{' && tokens[tokens.length - 1].kind === 'op' && tokens[tokens.length - 1].text === '}' && matchingBrace(tokens) === tokens.length - 1) {
    return tokens.slice(1, -1);
  }
  return tokens;
}

function matchingBrace(tokens: Token[]): number {
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i].kind === 'op' && tokens[i].text === '{') depth++;
    if (tokens[i].kind === 'op' && tokens[i].text === '}' && --depth === 0) return i;
  }
  return -1;
}

export function matchingParen(tokens: Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    if (tokens[i].kind !== 'op') continue;
    if (tokens[i].text === '(') depth++;
    if (tokens[i].text === ')' && --depth === 0) return i;
  }
  throw new SourceError("')' is missing", tokens[open].column);
}

/** The counter of a .repeat, as a number token. */
export function counterToken(i: number): Token {
  return { kind: 'number', text: String(i), value: i, column: 1 };
}
