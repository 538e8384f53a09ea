// The assembler's instruction set, derived from the opcode table (src/isa/opcodes.ts).
//
// How to drive this:
//   const set = instructionSet('6502X');
//   set.modes('LDA')?.get('izy')   // the OpcodeInfo of LDA ($nn),Y: opcode $B1
//   set.cpu                        // '6502': the opcode table it came from
//   explainUnknown('STZ', set)     // why STZ is not there: "... it is a 65C02 instruction ..."
//
// CPU names are ca65's (`.setcpu`): 6502, 6502X (with the undocumented NMOS
// opcodes), 65SC02 (65C02 without the Rockwell/WDC bit instructions, WAI and
// STP), 65C02 (all of them) and R65C02 (no WAI, STP). Where the table has several opcodes for one
// mnemonic and mode (the undocumented NOPs and JAMs, SBC #$EB...), the
// documented one wins, else the lowest opcode, as ca65 encodes them.

import { opcodeTable, type AddressingMode, type CpuModel, type OpcodeInfo } from '../isa/opcodes.js';

export type CpuName = '6502' | '6502X' | '65SC02' | '65C02' | 'R65C02';
/** ca65's names, and R65C02 (the Rockwell part: the 65C02 without WAI and STP). */
export const CPU_NAMES: readonly CpuName[] = ['6502', '6502X', '65SC02', '65C02', 'R65C02'];

/** Other assemblers' names for undocumented NMOS instructions, accepted with 6502X. ca65 2.19 itself says AXS for SBX. */
export const UNDOCUMENTED_ALIASES: Readonly<Record<string, string>> = {
  AXS: 'SBX', ISB: 'ISC', INS: 'ISC', ASR: 'ALR', KIL: 'JAM', HLT: 'JAM', AHX: 'SHA', AXA: 'SHA',
  SHS: 'TAS', XAA: 'ANE', LAR: 'LAS', SXA: 'SHX', SYA: 'SHY', OAL: 'LXA', ATX: 'LXA',
};

const WDC_ONLY = /^(RMB|SMB|BBR|BBS)[0-7]$|^(WAI|STP)$/;

export interface InstructionSet {
  name: CpuName;
  cpu: CpuModel;
  /** The addressing modes of a mnemonic (upper case, aliases resolved), or undefined. */
  modes(mnemonic: string): ReadonlyMap<AddressingMode, OpcodeInfo> | undefined;
}

const cache = new Map<CpuName, InstructionSet>();

export function instructionSet(name: CpuName): InstructionSet {
  let set = cache.get(name);
  if (!set) {
    set = buildSet(name);
    cache.set(name, set);
  }
  return set;
}

/** The ca65 CPU name for a model and the undocumented option. */
export function cpuName(cpu: CpuModel, undocumented: boolean): CpuName {
  return cpu === 'r65c02' ? 'R65C02' : cpu !== '6502' ? '65C02' : undocumented ? '6502X' : '6502';
}

function buildSet(name: CpuName): InstructionSet {
  const cpu: CpuModel = name === '6502' || name === '6502X' ? '6502' : name === 'R65C02' ? 'r65c02' : '65c02';
  const withUndocumented = name === '6502X';
  const byMnemonic = new Map<string, Map<AddressingMode, OpcodeInfo>>();
  for (const info of opcodeTable(cpu)) {
    if (info.undocumented && !withUndocumented) continue;
    if (name === '65SC02' && WDC_ONLY.test(info.mnemonic)) continue;
    let modes = byMnemonic.get(info.mnemonic);
    if (!modes) byMnemonic.set(info.mnemonic, (modes = new Map()));
    const held = modes.get(info.mode);
    if (!held || (held.undocumented && !info.undocumented)) modes.set(info.mode, info);
  }
  if (withUndocumented) {
    // ca65 writes LXA #imm as LAX #imm.
    byMnemonic.get('LAX')!.set('imm', byMnemonic.get('LXA')!.get('imm')!);
  }
  // Mnemonics as written (any case) -> modes, filled as they are met.
  const seen = new Map<string, ReadonlyMap<AddressingMode, OpcodeInfo> | undefined>();
  return {
    name,
    cpu,
    modes(mnemonic) {
      if (seen.has(mnemonic)) return seen.get(mnemonic);
      const upper = mnemonic.toUpperCase();
      const modes = byMnemonic.get(upper) ?? (withUndocumented ? byMnemonic.get(UNDOCUMENTED_ALIASES[upper]) : undefined);
      if (seen.size < 4096) seen.set(mnemonic, modes);
      return modes;
    },
  };
}

/** Why a mnemonic is not in this set: an instruction of another CPU, an undocumented one, or unknown. */
export function explainUnknown(mnemonic: string, set: InstructionSet): string {
  const upper = mnemonic.toUpperCase();
  if (set.name !== '65C02' && instructionSet('65C02').modes(upper)) {
    return `${upper} is not a ${set.name} instruction: it is a 65C02 instruction (.setcpu "65C02", or --cpu 65c02)`;
  }
  if (instructionSet('6502X').modes(upper)) {
    return set.cpu === '6502'
      ? `${upper} is an undocumented NMOS 6502 instruction: enable it with --undocumented (the option undocumented: true) or .setcpu "6502X"`
      : `${upper} is an undocumented NMOS 6502 instruction; the 65C02 does not have it`;
  }
  return `unknown instruction '${mnemonic}'`;
}

/** Why a mnemonic lacks an addressing mode here: another CPU has it, or nobody does. */
export function explainMode(mnemonic: string, mode: AddressingMode, set: InstructionSet): string {
  const upper = mnemonic.toUpperCase();
  const modes = set.modes(upper);
  const have = (Object.keys(MODE_SYNTAX) as AddressingMode[]).filter((m) => modes?.has(m)).map((m) => MODE_SYNTAX[m]).join(', ');
  const elsewhere =
    set.name === '6502' && instructionSet('6502X').modes(upper)?.has(mode)
      ? ' (only as an undocumented opcode: --undocumented or .setcpu "6502X")'
      : set.name !== '65C02' && instructionSet('65C02').modes(upper)?.has(mode)
        ? ' (the 65C02 has it: .setcpu "65C02")'
        : '';
  return `${upper} has no ${MODE_SYNTAX[mode]} mode on the ${set.name}${elsewhere}; it has: ${have}`;
}

/** How each addressing mode is written, for error messages. */
export const MODE_SYNTAX: Readonly<Record<AddressingMode, string>> = {
  imp: 'implied', acc: 'accumulator (A)', imm: 'immediate (#)', zp: 'zero page', zpx: 'zero page,X',
  zpy: 'zero page,Y', abs: 'absolute', abx: 'absolute,X', aby: 'absolute,Y', ind: '(absolute)',
  izx: '(zero page,X)', izy: '(zero page),Y', izp: '(zero page)', iax: '(absolute,X)', rel: 'relative (a branch target)',
  zpr: 'zero page, branch target',
};
