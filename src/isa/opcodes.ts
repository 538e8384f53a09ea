// The instruction set: the one table behind the core, the disassembler and the
// tests, and the list of CPU variants built from it.
//
// How to drive this: `CPU_VARIANTS` lists every CPU model the project knows
// (a base table, its differences, and how the core treats the model);
// `opcodeTable(model)` gives a model's 256 `OpcodeInfo` entries indexed by
// opcode; `parseCpuModel(text)` turns user input into a model or throws an
// error that names the valid ones; `trapOpcodes(model)` lists the opcodes
// that may serve as the hypercall. `scripts/gen-core.ts` makes the Wasm
// core's run loops from these (one set per variant), `src/isa/disasm.ts`
// formats instructions with them, and the conformance tests read the cycle
// counts from them. Change an instruction or add a variant here, then run
// `npm run gen`.
//
// Each row below is one high nibble; each entry is "MNEMONIC mode cycles[flags]":
//   p  +1 cycle when indexing crosses a page (reads only)
//   b  branch: +1 cycle when taken, +1 more when the target is in another page
//   d  65C02 decimal mode: +1 cycle when D is set

export type AddressingMode =
  | 'imp' // implied
  | 'acc' // accumulator
  | 'imm' // #$nn
  | 'zp' // $nn
  | 'zpx' // $nn,X
  | 'zpy' // $nn,Y
  | 'abs' // $nnnn
  | 'abx' // $nnnn,X
  | 'aby' // $nnnn,Y
  | 'ind' // ($nnnn)
  | 'izx' // ($nn,X)
  | 'izy' // ($nn),Y
  | 'izp' // ($nn)          65C02
  | 'iax' // ($nnnn,X)      65C02
  | 'rel' // branch target
  | 'zpr'; // $nn,target    65C02 BBR/BBS

export interface OpcodeInfo {
  opcode: number;
  mnemonic: string;
  mode: AddressingMode;
  /** Instruction length in bytes, opcode included. */
  bytes: number;
  /** Base cycle count. */
  cycles: number;
  /** +1 cycle when an indexed read crosses a page. */
  pagePenalty: boolean;
  /** Branch: +1 when taken, +1 more across a page. */
  branch: boolean;
  /** 65C02: +1 cycle in decimal mode. */
  decimalPenalty: boolean;
  /** Not part of the chip's documented instruction set. */
  undocumented: boolean;
}

const NMOS_ROWS = [
  'BRK imp 7|ORA izx 6|JAM imp 2|SLO izx 8|NOP zp 3|ORA zp 3|ASL zp 5|SLO zp 5|PHP imp 3|ORA imm 2|ASL acc 2|ANC imm 2|NOP abs 4|ORA abs 4|ASL abs 6|SLO abs 6',
  'BPL rel 2b|ORA izy 5p|JAM imp 2|SLO izy 8|NOP zpx 4|ORA zpx 4|ASL zpx 6|SLO zpx 6|CLC imp 2|ORA aby 4p|NOP imp 2|SLO aby 7|NOP abx 4p|ORA abx 4p|ASL abx 7|SLO abx 7',
  'JSR abs 6|AND izx 6|JAM imp 2|RLA izx 8|BIT zp 3|AND zp 3|ROL zp 5|RLA zp 5|PLP imp 4|AND imm 2|ROL acc 2|ANC imm 2|BIT abs 4|AND abs 4|ROL abs 6|RLA abs 6',
  'BMI rel 2b|AND izy 5p|JAM imp 2|RLA izy 8|NOP zpx 4|AND zpx 4|ROL zpx 6|RLA zpx 6|SEC imp 2|AND aby 4p|NOP imp 2|RLA aby 7|NOP abx 4p|AND abx 4p|ROL abx 7|RLA abx 7',
  'RTI imp 6|EOR izx 6|JAM imp 2|SRE izx 8|NOP zp 3|EOR zp 3|LSR zp 5|SRE zp 5|PHA imp 3|EOR imm 2|LSR acc 2|ALR imm 2|JMP abs 3|EOR abs 4|LSR abs 6|SRE abs 6',
  'BVC rel 2b|EOR izy 5p|JAM imp 2|SRE izy 8|NOP zpx 4|EOR zpx 4|LSR zpx 6|SRE zpx 6|CLI imp 2|EOR aby 4p|NOP imp 2|SRE aby 7|NOP abx 4p|EOR abx 4p|LSR abx 7|SRE abx 7',
  'RTS imp 6|ADC izx 6|JAM imp 2|RRA izx 8|NOP zp 3|ADC zp 3|ROR zp 5|RRA zp 5|PLA imp 4|ADC imm 2|ROR acc 2|ARR imm 2|JMP ind 5|ADC abs 4|ROR abs 6|RRA abs 6',
  'BVS rel 2b|ADC izy 5p|JAM imp 2|RRA izy 8|NOP zpx 4|ADC zpx 4|ROR zpx 6|RRA zpx 6|SEI imp 2|ADC aby 4p|NOP imp 2|RRA aby 7|NOP abx 4p|ADC abx 4p|ROR abx 7|RRA abx 7',
  'NOP imm 2|STA izx 6|NOP imm 2|SAX izx 6|STY zp 3|STA zp 3|STX zp 3|SAX zp 3|DEY imp 2|NOP imm 2|TXA imp 2|ANE imm 2|STY abs 4|STA abs 4|STX abs 4|SAX abs 4',
  'BCC rel 2b|STA izy 6|JAM imp 2|SHA izy 6|STY zpx 4|STA zpx 4|STX zpy 4|SAX zpy 4|TYA imp 2|STA aby 5|TXS imp 2|TAS aby 5|SHY abx 5|STA abx 5|SHX aby 5|SHA aby 5',
  'LDY imm 2|LDA izx 6|LDX imm 2|LAX izx 6|LDY zp 3|LDA zp 3|LDX zp 3|LAX zp 3|TAY imp 2|LDA imm 2|TAX imp 2|LXA imm 2|LDY abs 4|LDA abs 4|LDX abs 4|LAX abs 4',
  'BCS rel 2b|LDA izy 5p|JAM imp 2|LAX izy 5p|LDY zpx 4|LDA zpx 4|LDX zpy 4|LAX zpy 4|CLV imp 2|LDA aby 4p|TSX imp 2|LAS aby 4p|LDY abx 4p|LDA abx 4p|LDX aby 4p|LAX aby 4p',
  'CPY imm 2|CMP izx 6|NOP imm 2|DCP izx 8|CPY zp 3|CMP zp 3|DEC zp 5|DCP zp 5|INY imp 2|CMP imm 2|DEX imp 2|SBX imm 2|CPY abs 4|CMP abs 4|DEC abs 6|DCP abs 6',
  'BNE rel 2b|CMP izy 5p|JAM imp 2|DCP izy 8|NOP zpx 4|CMP zpx 4|DEC zpx 6|DCP zpx 6|CLD imp 2|CMP aby 4p|NOP imp 2|DCP aby 7|NOP abx 4p|CMP abx 4p|DEC abx 7|DCP abx 7',
  'CPX imm 2|SBC izx 6|NOP imm 2|ISC izx 8|CPX zp 3|SBC zp 3|INC zp 5|ISC zp 5|INX imp 2|SBC imm 2|NOP imp 2|SBC imm 2|CPX abs 4|SBC abs 4|INC abs 6|ISC abs 6',
  'BEQ rel 2b|SBC izy 5p|JAM imp 2|ISC izy 8|NOP zpx 4|SBC zpx 4|INC zpx 6|ISC zpx 6|SED imp 2|SBC aby 4p|NOP imp 2|ISC aby 7|NOP abx 4p|SBC abx 4p|INC abx 7|ISC abx 7',
];

// WDC W65C02S with the Rockwell bit instructions. Undefined opcodes are NOPs
// of the listed length and timing.
const CMOS_ROWS = [
  'BRK imp 7|ORA izx 6|NOP imm 2|NOP imp 1|TSB zp 5|ORA zp 3|ASL zp 5|RMB0 zp 5|PHP imp 3|ORA imm 2|ASL acc 2|NOP imp 1|TSB abs 6|ORA abs 4|ASL abs 6|BBR0 zpr 5b',
  'BPL rel 2b|ORA izy 5p|ORA izp 5|NOP imp 1|TRB zp 5|ORA zpx 4|ASL zpx 6|RMB1 zp 5|CLC imp 2|ORA aby 4p|INC acc 2|NOP imp 1|TRB abs 6|ORA abx 4p|ASL abx 6p|BBR1 zpr 5b',
  'JSR abs 6|AND izx 6|NOP imm 2|NOP imp 1|BIT zp 3|AND zp 3|ROL zp 5|RMB2 zp 5|PLP imp 4|AND imm 2|ROL acc 2|NOP imp 1|BIT abs 4|AND abs 4|ROL abs 6|BBR2 zpr 5b',
  'BMI rel 2b|AND izy 5p|AND izp 5|NOP imp 1|BIT zpx 4|AND zpx 4|ROL zpx 6|RMB3 zp 5|SEC imp 2|AND aby 4p|DEC acc 2|NOP imp 1|BIT abx 4p|AND abx 4p|ROL abx 6p|BBR3 zpr 5b',
  'RTI imp 6|EOR izx 6|NOP imm 2|NOP imp 1|NOP zp 3|EOR zp 3|LSR zp 5|RMB4 zp 5|PHA imp 3|EOR imm 2|LSR acc 2|NOP imp 1|JMP abs 3|EOR abs 4|LSR abs 6|BBR4 zpr 5b',
  'BVC rel 2b|EOR izy 5p|EOR izp 5|NOP imp 1|NOP zpx 4|EOR zpx 4|LSR zpx 6|RMB5 zp 5|CLI imp 2|EOR aby 4p|PHY imp 3|NOP imp 1|NOP abs 8|EOR abx 4p|LSR abx 6p|BBR5 zpr 5b',
  'RTS imp 6|ADC izx 6d|NOP imm 2|NOP imp 1|STZ zp 3|ADC zp 3d|ROR zp 5|RMB6 zp 5|PLA imp 4|ADC imm 2d|ROR acc 2|NOP imp 1|JMP ind 6|ADC abs 4d|ROR abs 6|BBR6 zpr 5b',
  'BVS rel 2b|ADC izy 5pd|ADC izp 5d|NOP imp 1|STZ zpx 4|ADC zpx 4d|ROR zpx 6|RMB7 zp 5|SEI imp 2|ADC aby 4pd|PLY imp 4|NOP imp 1|JMP iax 6|ADC abx 4pd|ROR abx 6p|BBR7 zpr 5b',
  'BRA rel 2b|STA izx 6|NOP imm 2|NOP imp 1|STY zp 3|STA zp 3|STX zp 3|SMB0 zp 5|DEY imp 2|BIT imm 2|TXA imp 2|NOP imp 1|STY abs 4|STA abs 4|STX abs 4|BBS0 zpr 5b',
  'BCC rel 2b|STA izy 6|STA izp 5|NOP imp 1|STY zpx 4|STA zpx 4|STX zpy 4|SMB1 zp 5|TYA imp 2|STA aby 5|TXS imp 2|NOP imp 1|STZ abs 4|STA abx 5|STZ abx 5|BBS1 zpr 5b',
  'LDY imm 2|LDA izx 6|LDX imm 2|NOP imp 1|LDY zp 3|LDA zp 3|LDX zp 3|SMB2 zp 5|TAY imp 2|LDA imm 2|TAX imp 2|NOP imp 1|LDY abs 4|LDA abs 4|LDX abs 4|BBS2 zpr 5b',
  'BCS rel 2b|LDA izy 5p|LDA izp 5|NOP imp 1|LDY zpx 4|LDA zpx 4|LDX zpy 4|SMB3 zp 5|CLV imp 2|LDA aby 4p|TSX imp 2|NOP imp 1|LDY abx 4p|LDA abx 4p|LDX aby 4p|BBS3 zpr 5b',
  'CPY imm 2|CMP izx 6|NOP imm 2|NOP imp 1|CPY zp 3|CMP zp 3|DEC zp 5|SMB4 zp 5|INY imp 2|CMP imm 2|DEX imp 2|WAI imp 3|CPY abs 4|CMP abs 4|DEC abs 6|BBS4 zpr 5b',
  'BNE rel 2b|CMP izy 5p|CMP izp 5|NOP imp 1|NOP zpx 4|CMP zpx 4|DEC zpx 6|SMB5 zp 5|CLD imp 2|CMP aby 4p|PHX imp 3|STP imp 3|NOP abs 4|CMP abx 4p|DEC abx 7|BBS5 zpr 5b',
  'CPX imm 2|SBC izx 6d|NOP imm 2|NOP imp 1|CPX zp 3|SBC zp 3d|INC zp 5|SMB6 zp 5|INX imp 2|SBC imm 2d|NOP imp 2|NOP imp 1|CPX abs 4|SBC abs 4d|INC abs 6|BBS6 zpr 5b',
  'BEQ rel 2b|SBC izy 5pd|SBC izp 5d|NOP imp 1|NOP zpx 4|SBC zpx 4d|INC zpx 6|SMB7 zp 5|SED imp 2|SBC aby 4pd|PLX imp 4|NOP imp 1|NOP abs 4|SBC abx 4pd|INC abx 7|BBS7 zpr 5b',
];

const OPERAND_BYTES: Record<AddressingMode, number> = {
  imp: 0, acc: 0, imm: 1, zp: 1, zpx: 1, zpy: 1, izx: 1, izy: 1, izp: 1, rel: 1,
  abs: 2, abx: 2, aby: 2, ind: 2, iax: 2, zpr: 2,
};

/** Mnemonics of the NMOS chip's documented instruction set (the other NMOS opcodes are undocumented). */
const NMOS_DOCUMENTED = new Set(
  ('ADC AND ASL BCC BCS BEQ BIT BMI BNE BPL BRK BVC BVS CLC CLD CLI CLV CMP CPX CPY DEC DEX DEY ' +
    'EOR INC INX INY JMP JSR LDA LDX LDY LSR NOP ORA PHA PHP PLA PLP ROL ROR RTI RTS SBC SEC SED ' +
    'SEI STA STX STY TAX TAY TSX TXA TXS TYA').split(' '),
);

function parseTable(rows: readonly string[], changes: Readonly<Record<number, string>>, model: string, family: CpuFamily): OpcodeInfo[] {
  if (rows.length !== 16) throw new Error(`${model} table: 16 rows expected`);
  const table: OpcodeInfo[] = [];
  rows.forEach((row, hi) => {
    const cells = row.split('|');
    if (cells.length !== 16) throw new Error(`${model} table row ${hi}: 16 entries expected`);
    cells.forEach((base, lo) => {
      const cell = changes[(hi << 4) | lo] ?? base;
      const m = /^([A-Z]{3}[0-7]?) ([a-z]{2,3}) (\d)([pbd]*)$/.exec(cell.trim());
      if (!m) throw new Error(`${model} table: bad entry "${cell}"`);
      const [, mnemonic, modeText, cycles, flags] = m;
      const mode = modeText as AddressingMode;
      if (!(mode in OPERAND_BYTES)) throw new Error(`${model} table: bad mode in "${cell}"`);
      const opcode = (hi << 4) | lo;
      table.push({
        opcode,
        mnemonic,
        mode,
        bytes: 1 + OPERAND_BYTES[mode],
        cycles: Number(cycles),
        pagePenalty: flags.includes('p'),
        branch: flags.includes('b'),
        decimalPenalty: flags.includes('d'),
        undocumented:
          family === 'nmos'
            ? !NMOS_DOCUMENTED.has(mnemonic) || (mnemonic === 'NOP' && opcode !== 0xea) || opcode === 0xeb
            : mnemonic === 'NOP' && opcode !== 0xea,
      });
    });
  });
  return table;
}

// ---- CPU variants ------------------------------------------------------------

/**
 * How the core treats a model beyond its table. 'nmos': indexing dummy reads
 * at the unfixed address, read-modify-write writes the old value back, JMP
 * ($xxFF) wraps in its page, decimal flags as the NMOS chip leaves them, D
 * kept on interrupts, and an NMI during BRK takes BRK's vector. 'cmos': the
 * 65C02 fixes of all of these (dummy read of the last instruction byte, a
 * second read instead of the write-back, valid decimal flags for one more
 * cycle, D cleared on interrupts, BRK completed before the NMI).
 */
export type CpuFamily = 'nmos' | 'cmos';

export interface CpuVariantDescriptor {
  /** The model's name in the API, the CLI (--cpu) and VM specs. */
  readonly model: string;
  /** What the chip is called. */
  readonly name: string;
  readonly family: CpuFamily;
  /** The opcode table: one row per high nibble (see the top of this file)... */
  readonly rows: readonly string[];
  /** ...and the entries in which this model differs from those rows. */
  readonly changes: Readonly<Record<number, string>>;
}

/** Every CPU model, in the order the documentation lists them. */
export const CPU_VARIANTS = [
  { model: '6502', name: 'NMOS 6502', family: 'nmos', rows: NMOS_ROWS, changes: {} },
  { model: '65c02', name: 'WDC 65C02', family: 'cmos', rows: CMOS_ROWS, changes: {} },
  // The Rockwell R65C02: the WDC part without WAI and STP, which are one-byte,
  // one-cycle NOPs there like the rest of their column.
  { model: 'r65c02', name: 'Rockwell R65C02', family: 'cmos', rows: CMOS_ROWS, changes: { 0xcb: 'NOP imp 1', 0xdb: 'NOP imp 1' } },
] as const satisfies readonly CpuVariantDescriptor[];

export type CpuModel = (typeof CPU_VARIANTS)[number]['model'];

export interface CpuVariant extends CpuVariantDescriptor {
  readonly model: CpuModel;
  /** 256 entries indexed by opcode. */
  readonly table: readonly OpcodeInfo[];
}

const VARIANTS: ReadonlyMap<string, CpuVariant> = new Map(
  CPU_VARIANTS.map((v): [string, CpuVariant] => [
    v.model,
    Object.freeze({ ...v, table: Object.freeze(parseTable(v.rows, v.changes, v.model, v.family)) }),
  ]),
);

export const CPU_MODELS: readonly CpuModel[] = CPU_VARIANTS.map((v) => v.model);

/** "6502, 65c02 or r65c02" */
const MODEL_LIST = CPU_MODELS.slice(0, -1).join(', ') + ' or ' + CPU_MODELS[CPU_MODELS.length - 1];

export function isCpuModel(value: unknown): value is CpuModel {
  return typeof value === 'string' && VARIANTS.has(value);
}

/**
 * The model `text` names (case does not matter), or an error that names the
 * valid ones: made by `error` (for a front end's own error type), else an Error.
 */
export function parseCpuModel(text: unknown, error: (message: string) => Error = (m) => new Error(m)): CpuModel {
  const model = typeof text === 'string' ? text.toLowerCase() : text;
  if (isCpuModel(model)) return model;
  throw error(`unknown CPU "${String(text)}" (expected ${MODEL_LIST})`);
}

/** A model's descriptor and table. */
export function cpuVariant(model: CpuModel): CpuVariant {
  const variant = VARIANTS.get(model);
  if (!variant) throw new Error(`unknown CPU "${String(model)}" (expected ${MODEL_LIST})`);
  return variant;
}

export function opcodeTable(model: CpuModel): readonly OpcodeInfo[] {
  return cpuVariant(model).table;
}

/**
 * The hypercall rule, for every model: an opcode may trap to the host when
 * executing it would halt the CPU (an NMOS JAM) or do nothing at all in one
 * cycle (a one-byte, one-cycle CMOS NOP); and BRK, for machines whose monitor
 * stops at BRK instead of executing it (py65mon).
 */
export function isTrapOpcode(info: OpcodeInfo): boolean {
  return info.mnemonic === 'JAM' || info.mnemonic === 'BRK' || (info.mnemonic === 'NOP' && info.bytes === 1 && info.cycles === 1);
}

/** The opcodes that may be a model's trap opcode, in order. */
export function trapOpcodes(model: CpuModel): number[] {
  return opcodeTable(model).filter(isTrapOpcode).map((info) => info.opcode);
}

// ---- The core's loops ------------------------------------------------------------

/** The run loops the Wasm core has for every model (see assembly/index.ts). */
export const CORE_LOOPS = ['run', 'runFlat', 'debug'] as const;
export type CoreLoop = (typeof CORE_LOOPS)[number];

/** The name under which the Wasm core exports a model's loop: `run_6502`, `debug_r65c02`, ... */
export function coreLoopName(loop: CoreLoop, model: CpuModel): string {
  return `${loop}_${model}`;
}
