// Every opcode of a CPU model as a line of assembler, the way the disassembler
// writes it (ca65 syntax), placed one after another from an address.
//
// How to drive this: `everyOpcode('6502', 0x0200)` gives, per opcode, its
// table entry, its address, its bytes (operand bytes $34 $12) and its text,
// e.g. "LDA $1234,X"; branches name their absolute target. `keep` picks
// the opcodes to list.

import { disassemble } from '../../src/isa/disasm.ts';
import { opcodeTable, type CpuModel, type OpcodeInfo } from '../../src/isa/opcodes.ts';

export interface OpcodeLine {
  info: OpcodeInfo;
  address: number;
  bytes: number[];
  text: string;
}

export function everyOpcode(model: CpuModel, org: number, keep: (info: OpcodeInfo) => boolean = () => true): OpcodeLine[] {
  const lines: OpcodeLine[] = [];
  let address = org;
  for (const info of opcodeTable(model).filter(keep)) {
    const bytes = [info.opcode, 0x34, 0x12].slice(0, info.bytes);
    const at = address;
    const ins = disassemble((a) => bytes[a - at] ?? 0, at, model);
    lines.push({ info, address: at, bytes, text: ins.text });
    address += info.bytes;
  }
  return lines;
}

/** The opcode an assembler must pick for an entry's mnemonic and mode: the documented one, else the lowest. */
export function canonicalOpcode(model: CpuModel, info: OpcodeInfo): number {
  const same = opcodeTable(model).filter((i) => i.mnemonic === info.mnemonic && i.mode === info.mode);
  return (same.find((i) => !i.undocumented) ?? same[0]).opcode;
}
