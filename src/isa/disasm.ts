// A disassembler driven by the opcode table (src/isa/opcodes.ts).
//
// How to drive this:
//   const ins = disassemble(memoryReader, 0x0400, '6502');
//   ins.text   // "LDX #$FF"
//   ins.bytes  // [0xA2, 0xFF]
// `memoryReader` is a Uint8Array of 64 KiB or a function from address to byte.

import { opcodeTable, type CpuModel, type OpcodeInfo } from './opcodes.js';

export interface Instruction {
  address: number;
  bytes: number[];
  info: OpcodeInfo;
  /** Assembler text in ca65 syntax, upper-case mnemonic, e.g. "LDA ($12),Y". */
  text: string;
  /** The branch or jump target for rel/zpr/abs jumps, else undefined. */
  target?: number;
}

export type MemoryReader = Uint8Array | ((address: number) => number);

const h2 = (n: number) => '$' + n.toString(16).toUpperCase().padStart(2, '0');
const h4 = (n: number) => '$' + n.toString(16).toUpperCase().padStart(4, '0');

export function disassemble(memory: MemoryReader, address: number, model: CpuModel = '6502'): Instruction {
  const read = typeof memory === 'function' ? memory : (a: number) => memory[a & 0xffff];
  const info = opcodeTable(model)[read(address & 0xffff)];
  const bytes: number[] = [];
  for (let i = 0; i < info.bytes; i++) bytes.push(read((address + i) & 0xffff));
  const b1 = bytes[1] ?? 0;
  const word = b1 | ((bytes[2] ?? 0) << 8);
  const next = (address + info.bytes) & 0xffff;
  let operand = '';
  let target: number | undefined;
  switch (info.mode) {
    case 'imp': break;
    case 'acc': operand = 'A'; break;
    case 'imm': operand = '#' + h2(b1); break;
    case 'zp': operand = h2(b1); break;
    case 'zpx': operand = h2(b1) + ',X'; break;
    case 'zpy': operand = h2(b1) + ',Y'; break;
    case 'abs': operand = h4(word); if (info.mnemonic === 'JMP' || info.mnemonic === 'JSR') target = word; break;
    case 'abx': operand = h4(word) + ',X'; break;
    case 'aby': operand = h4(word) + ',Y'; break;
    case 'ind': operand = '(' + h4(word) + ')'; break;
    case 'izx': operand = '(' + h2(b1) + ',X)'; break;
    case 'izy': operand = '(' + h2(b1) + '),Y'; break;
    case 'izp': operand = '(' + h2(b1) + ')'; break;
    case 'iax': operand = '(' + h4(word) + ',X)'; break;
    case 'rel':
      target = (next + ((b1 << 24) >> 24)) & 0xffff;
      operand = h4(target);
      break;
    case 'zpr':
      target = (next + ((bytes[2] << 24) >> 24)) & 0xffff;
      operand = h2(b1) + ',' + h4(target);
      break;
  }
  return { address: address & 0xffff, bytes, info, text: operand ? `${info.mnemonic} ${operand}` : info.mnemonic, target };
}

/** `count` instructions from `address`, one after another. */
export function disassembleRange(memory: MemoryReader, address: number, count: number, model: CpuModel = '6502'): Instruction[] {
  const out: Instruction[] = [];
  let a = address & 0xffff;
  for (let i = 0; i < count; i++) {
    const ins = disassemble(memory, a, model);
    out.push(ins);
    a = (a + ins.bytes.length) & 0xffff;
  }
  return out;
}

/** One listing line: "0400  A2 FF     LDX #$FF". */
export function formatInstruction(ins: Instruction): string {
  const bytes = ins.bytes.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
  return `${ins.address.toString(16).toUpperCase().padStart(4, '0')}  ${bytes.padEnd(9)} ${ins.text}`;
}
