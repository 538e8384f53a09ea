// The macro packages `.macpack NAME` loads (ca65's built-in ones, written here
// from their documented behaviour): generic, longbranch and cpu.
//
// How to drive this: `MACPACKS.longbranch` is ca65 source the assembler reads
// as if it were included.

const BRANCH_INVERSE: Record<string, string> = { eq: 'ne', ne: 'eq', mi: 'pl', pl: 'mi', cs: 'cc', cc: 'cs', vs: 'vc', vc: 'vs' };

/** jeq, jne, ...: a short branch where the target is known to be close behind, else the inverse branch over a jmp. */
function longBranch(): string {
  let text = '';
  for (const [cc, inverse] of Object.entries(BRANCH_INVERSE)) {
    text += `.macro j${cc} Target
.if .match(Target, 0)
b${inverse} *+5
jmp Target
.elseif .def(Target) .and .const((*-2)-(Target)) .and ((*+2)-(Target) <= 127)
b${cc} Target
.else
b${inverse} *+5
jmp Target
.endif
.endmacro
`;
  }
  return text;
}

/** add/sub (clc/sec first), bge blt bgt ble bnz bze. */
const GENERIC = `.macro add Arg1, Arg2
clc
.if .paramcount = 2
adc Arg1, Arg2
.else
adc Arg1
.endif
.endmacro
.macro sub Arg1, Arg2
sec
.if .paramcount = 2
sbc Arg1, Arg2
.else
sbc Arg1
.endif
.endmacro
.macro bge Arg
bcs Arg
.endmacro
.macro blt Arg
bcc Arg
.endmacro
.macro bgt Arg
.local L
beq L
bcs Arg
L:
.endmacro
.macro ble Arg
beq Arg
bcc Arg
.endmacro
.macro bnz Arg
bne Arg
.endmacro
.macro bze Arg
beq Arg
.endmacro
`;

/** The instruction-set bits `.cpu` is tested against. */
export const CPU_ISETS: Readonly<Record<string, number>> = {
  NONE: 1 << 0, '6502': 1 << 1, '6502X': 1 << 2, '65SC02': 1 << 3, '65C02': 1 << 4, '65816': 1 << 5,
  SWEET16: 1 << 6, HUC6280: 1 << 7, M740: 1 << 8, '4510': 1 << 9,
};

const CPU = Object.entries(CPU_ISETS).filter(([name]) => name !== 'M740').map(([name, bit]) => `CPU_ISET_${name} = ${bit}\n`).join('') +
  ['6502', '6502X', '65SC02', '65C02'].map((name) => `CPU_${name} = ${cpuBits(name)}\n`).join('');

/** `.cpu` for a CPU: its own instruction set and those it extends. */
export function cpuBits(name: string): number {
  const I = CPU_ISETS;
  switch (name) {
    case '6502': return I['6502'];
    case '6502X': return I['6502'] | I['6502X'];
    case '65SC02': return I['6502'] | I['65SC02'];
    case '65C02': return I['6502'] | I['65SC02'] | I['65C02'];
  }
  return I.NONE;
}

export const MACPACKS: Readonly<Record<string, string>> = {
  generic: GENERIC,
  longbranch: longBranch(),
  cpu: CPU,
};
