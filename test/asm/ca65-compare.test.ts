// The assembler against ca65 2.19 + ld65: every opcode and addressing mode of
// both CPUs, random expressions, a sampler of the shared syntax, and the
// example programs must come out byte for byte the same. Skipped, with the reason, without cc65.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { assemble } from '../../src/asm/assembler.ts';
import { formatAsmError } from '../../src/asm/output.ts';
import type { CpuModel } from '../../src/isa/opcodes.ts';
import { ca65Bytes, ca65SkipReason, hasCa65 } from './ca65.ts';
import { everyOpcode } from './every-opcode.ts';

const hex = (bytes: Iterable<number>) => Array.from(bytes, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');

/** ca65 2.19 spells two undocumented instructions differently: AXS for SBX, LAX # for LXA #. */
const toCa65 = (text: string) => text.replace(/^SBX /, 'AXS ').replace(/^LXA /, 'LAX ');

describe.skipIf(!hasCa65)(`same bytes as ca65${hasCa65 ? '' : ` (${ca65SkipReason})`}`, () => {
  it.each([
    ['6502X', '6502', true],
    ['65C02', '65c02', false],
    ['65SC02', '65c02', true],
  ] as Array<[string, CpuModel, boolean]>)('every opcode and addressing mode of .setcpu "%s"', (cpuName, model, lowerCase) => {
    // ca65 has no syntax for the 65C02's undefined opcodes (NOPs); the NMOS table is complete.
    // The 65SC02 lacks the Rockwell/WDC bit instructions, WAI and STP.
    const lines = everyOpcode(
      model,
      0x0200,
      (info) => model === '6502' || (!info.undocumented && !(cpuName === '65SC02' && /^(RMB|SMB|BBR|BBS)|^(WAI|STP)$/.test(info.mnemonic))),
    );
    const text = lines.map((l) => (lowerCase ? toCa65(l.text).toLowerCase() : toCa65(l.text)));
    const source = `.setcpu "${cpuName}"\n.org $0200\n${text.map((t) => `  ${t}\n`).join('')}`;
    const ours = assemble(source, { fileName: `every-${cpuName}.s` });
    expect(ours.errors.map(formatAsmError)).toEqual([]);
    const theirs = ca65Bytes(source);
    expect(ours.origin).toBe(0x0200);
    expect(ours.bytes.length).toBe(theirs.length);
    const mismatches: string[] = [];
    for (const [i, l] of lines.entries()) {
      const at = l.address - 0x0200;
      const a = hex(ours.bytes.subarray(at, at + l.info.bytes));
      const b = hex(theirs.subarray(at, at + l.info.bytes));
      if (a !== b) mismatches.push(`${text[i]}: ours ${a}, ca65 ${b}`);
    }
    expect(mismatches).toEqual([]);
    const modes = new Set(lines.map((l) => `${l.info.mnemonic} ${l.info.mode}`));
    console.log(`ca65 ${cpuName}: ${lines.length} opcodes (${modes.size} mnemonic/mode pairs), ${theirs.length} bytes, identical`);
  });

  it('1000 random expressions: every operator, precedence, 32-bit arithmetic', () => {
    const lines = randomExpressions(1000);
    // ca65 range-checks .dword as unsigned 32 bits, so the values are masked.
    const source = ` .org $0200\n${lines.map((e) => ` .dword (${e}) & $FFFFFFFF\n`).join('')}`;
    const ours = assemble(source);
    expect(ours.errors.map(formatAsmError)).toEqual([]);
    const theirs = ca65Bytes(source);
    const mismatches = lines.filter((_, i) => hex(ours.bytes.subarray(4 * i, 4 * i + 4)) !== hex(theirs.subarray(4 * i, 4 * i + 4)));
    expect(mismatches).toEqual([]);
  });

  it.each(['syntax', 'multiply', 'sort'])('test/asm/programs/%s.s', (name) => {
    const source = readFileSync(new URL(`./programs/${name}.s`, import.meta.url), 'utf8');
    const ours = assemble(source, { fileName: `${name}.s` });
    expect(ours.errors.map(formatAsmError)).toEqual([]);
    expect(hex(ours.bytes)).toBe(hex(ca65Bytes(source)));
  });
});

/** Expressions of numbers 1-300 and every operator ca65 has, from a fixed seed. */
function randomExpressions(count: number): string[] {
  let seed = 12345;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const binary = ['+', '-', '*', '/', '.mod', '&', '|', '^', '<<', '>>', '=', '<>', '<', '>', '<=', '>=', '&&', '||', '.xor'];
  const unary = ['-', '+', '~', '<', '>', '^']; // ca65 takes ! only at the loosest level
  const expression = (depth: number): string => {
    const r = random(10);
    if (depth > 3 || r < 3) return String(1 + random(300));
    if (r < 5) return `${unary[random(unary.length)]} ${expression(depth + 1)}`;
    if (r < 6) return `(${expression(depth + 1)})`;
    const op = binary[random(binary.length)];
    // Shift by 0-7 (ca65's 64-bit shifts differ beyond 31) and divide by a number (never by zero).
    const right = op === '<<' || op === '>>' ? random(8) : op === '/' || op === '.mod' ? 1 + random(300) : expression(depth + 1);
    return `${expression(depth + 1)} ${op} ${right}`;
  };
  return Array.from({ length: count }, () => expression(0));
}
