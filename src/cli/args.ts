// Parsing helpers shared by the CLI commands: options (every mistake one
// plain line naming it), numbers and addresses as users write them ($0400,
// 0x400, 1024), and one error type whose message the CLI prints on one line.
//
// How to drive this:
//   const { values, positionals } = parseOptions('disasm', argv, { cpu: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
//   parseNumber(values.count, '--count');

import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CPU_MODELS, type CpuModel } from '../isa/opcodes.js';

export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<T extends Options> = ReturnType<typeof parseArgs<{ options: T; allowPositionals: true; strict: false; tokens: true }>>;
type Value<O> = O extends { multiple: true } ? (O extends { type: 'string' } ? string[] : boolean[]) : O extends { type: 'string' } ? string : boolean;
/** The values by option name; an option with a default is always there. */
type Values<T extends Options> = { -readonly [K in keyof T as T[K] extends { default: unknown } ? K : never]: Value<T[K]> } & {
  -readonly [K in keyof T as T[K] extends { default: unknown } ? never : K]?: Value<T[K]>;
};

/**
 * parseArgs, with its mistakes as UsageErrors of one line: an unknown option
 * (naming the command's --help), an option without its value, a value given
 * to a switch. A value may start with a dash when it is a number
 * (`--max-cycles -1` is then refused by parseNumber, saying why), not when it
 * is another option (`--load --stats`).
 */
export function parseOptions<T extends Options>(command: string, argv: string[], options: T): { values: Values<T>; positionals: string[]; tokens: Parsed<T>['tokens'] } {
  const { values, positionals, tokens } = parseArgs({ args: argv, options, allowPositionals: true, strict: false, tokens: true });
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const given = argv[t.index];
    const spec = Object.hasOwn(options, t.name) ? options[t.name] : undefined;
    if (!spec) {
      const within = given !== t.rawName && !given.startsWith(t.rawName + '=') ? ` (in ${given})` : '';
      throw new UsageError(`${command}: unknown option ${t.rawName}${within} (hyper6502 ${command} --help lists the options)`);
    }
    if (spec.type === 'string' && t.value === undefined) throw new UsageError(`${t.rawName} needs a value`);
    if (spec.type === 'string' && !t.inlineValue && /^-(?![\d.$]|$)/.test(t.value!)) throw new UsageError(`${t.rawName} needs a value (${t.value} is an option; write ${t.rawName}=${t.value} if it is the value)`);
    if (spec.type === 'boolean' && t.inlineValue) throw new UsageError(`${t.rawName} takes no value (got ${given})`);
  }
  return { values: values as unknown as Values<T>, positionals, tokens };
}

/** "$0400", "0x400", "1024", "1_000_000" -> number; anything else is a UsageError naming the option. */
const range = (min: number, max: number) => (max === Number.MAX_SAFE_INTEGER ? `give ${min} or more` : `give ${min} to ${max}`);

export function parseNumber(text: string, what: string, max = Number.MAX_SAFE_INTEGER, min = 0): number {
  const t = text.trim().replace(/_/g, '');
  let n: number;
  if (/^\$[0-9a-f]+$/i.test(t)) n = parseInt(t.slice(1), 16);
  else if (/^0x[0-9a-f]+$/i.test(t)) n = parseInt(t.slice(2), 16);
  else if (/^[0-9]+$/.test(t)) n = Number(t);
  else if (/^-(\$[0-9a-f]+|0x[0-9a-f]+|[0-9]+)$/i.test(t)) throw new UsageError(`${what}: ${text} is negative (${range(min, max)})`);
  else throw new UsageError(`${what}: "${text}" is not a number (write 1024, $0400 or 0x400)`);
  if (!Number.isSafeInteger(n) || n > max || n < min) throw new UsageError(`${what}: ${text} is out of range (${range(min, max)})`);
  return n;
}

export function parseAddress(text: string, what: string): number {
  return parseNumber(text, what, 0xffff);
}

/** A CPU model as the user spells it ("6502", "65C02", "r65c02"). */
export function parseCpu(text: string): CpuModel {
  const model = text.toLowerCase();
  if (!(CPU_MODELS as readonly string[]).includes(model)) throw new UsageError(`--cpu: unknown CPU "${text}" (use ${CPU_MODELS.join(', ')})`);
  return model as CpuModel;
}

/** The package's version (`hyper6502 --version`). */
export function packageVersion(): string {
  return JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
}
