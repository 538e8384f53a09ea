// Parsing helpers shared by the CLI commands: numbers and addresses as users
// write them ($0400, 0x400, 1024), and one error type whose message the CLI
// prints on one line.

import { CPU_MODELS, type CpuModel } from '../isa/opcodes.js';

export class UsageError extends Error {}

/** "$0400", "0x400", "1024", "1_000_000" -> number; anything else is a UsageError naming the option. */
export function parseNumber(text: string, what: string, max = Number.MAX_SAFE_INTEGER): number {
  const t = text.trim().replace(/_/g, '');
  let n: number;
  if (/^\$[0-9a-f]+$/i.test(t)) n = parseInt(t.slice(1), 16);
  else if (/^0x[0-9a-f]+$/i.test(t)) n = parseInt(t.slice(2), 16);
  else if (/^[0-9]+$/.test(t)) n = Number(t);
  else throw new UsageError(`${what}: "${text}" is not a number (write 1024, $0400 or 0x400)`);
  if (!Number.isSafeInteger(n) || n > max) throw new UsageError(`${what}: ${text} is out of range (0 to ${max})`);
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
