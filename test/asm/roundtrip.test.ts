// Assemble what the disassembler writes, for every opcode of both CPUs: the
// same instruction comes back. Opcodes that share a mnemonic and mode with
// another (undocumented NOPs and JAMs, SBC #$EB, ANC #$2B...) come back as the
// documented one, else the lowest, as ca65 encodes them.
import { describe, it, expect } from 'vitest';
import { assemble } from '../../src/asm/assembler.ts';
import { disassemble } from '../../src/isa/disasm.ts';
import { CPU_MODELS } from '../../src/isa/opcodes.ts';
import { canonicalOpcode, everyOpcode } from './every-opcode.ts';

describe.each(CPU_MODELS)('assemble(disassemble(x)) on the %s', (model) => {
  // The 65C02's undefined opcodes are NOPs that neither ca65 nor this assembler can name.
  const nameable = everyOpcode(model, 0x1000, (info) => model === '6502' || !info.undocumented);

  it.each(nameable.map((l) => [l.info.opcode.toString(16).padStart(2, '0'), l.text, l] as const))('$%s %s', (_, text, line) => {
    const result = assemble(`.org $${line.address.toString(16)}\n${text}\n`, { cpu: model, undocumented: true });
    expect(result.errors).toEqual([]);
    expect(result.origin).toBe(line.address);
    const expected = [canonicalOpcode(model, line.info), ...line.bytes.slice(1)];
    expect(Array.from(result.bytes)).toEqual(expected);
    const memory = new Uint8Array(0x10000);
    memory.set(result.bytes, line.address);
    expect(disassemble(memory, line.address, model).text).toBe(text);
  });

  it('covers every opcode', () => {
    const exact = nameable.filter((l) => canonicalOpcode(model, l.info) === l.info.opcode).length;
    expect(nameable.length).toBe({ '6502': 256, '65c02': 212, r65c02: 210 }[model]); // the R65C02 has no WAI or STP
    console.log(`${model}: ${nameable.length} opcodes round-trip, ${exact} to the same opcode, ${nameable.length - exact} to their documented/lowest twin`);
  });
});
