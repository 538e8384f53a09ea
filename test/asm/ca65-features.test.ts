// ca65's language and ld65's configurations, feature by feature: each project
// below is built by ca65 + ld65 and by hyper6502, and must give the same
// files, the same label file (-Ln) and the same map file (-m).
import { describe, it, expect } from 'vitest';
import { hasCa65, ca65SkipReason, ld65Build } from './ca65.ts';
import { hyperBuild } from './helpers.ts';

const RAM = `MEMORY { ZP: start = $80, size = $80, type = rw, file = ""; RAM: start = $1000, size = $4000, file = %O; }
SEGMENTS { ZEROPAGE: load = ZP, type = zp; CODE: load = RAM, type = ro; RODATA: load = RAM, type = ro; DATA: load = RAM, type = rw; BSS: load = RAM, type = bss, define = yes; }
`;

const CASES: Array<[name: string, sources: Record<string, string>, config: string, args?: string[]]> = [
  ['macros: parameters, .local, .exitmacro, .paramcount, .ifblank/.ifnblank', { 'main.s': `
.macro store value, where
  .ifblank where
    lda #value
    .exitmacro
  .endif
  .local skip
  lda #value
  sta where
  beq skip
  nop
skip:
  .byte .paramcount
.endmacro
.macro pair a1, a2
  .ifnblank a2
    .byte a1, a2
  .else
    .byte a1
  .endif
.endmacro
  store 1
  store 2, $10
  store 3, $1234
  pair 1
  pair {1, 2}, 3
` }, RAM],
  ['.define with and without arguments, .undefine, token functions', { 'main.s': `
.define ONE 1
.define ADD(p, q) ((p) + (q))
.define WORDS .word
  .byte ONE, ADD(2, 3), ADD(ONE, ADD(1, 1))
  WORDS ADD($1000, 2)
.undefine ONE
ONE = 7
  .byte ONE
  .byte .strlen("hello"), .tcount({a b c}), .match({lda #1}, {lda #2}), .xmatch({lda #1}, {lda #2})
  .byte .left(1, {5, 6}), .right(1, {5, 6})
  .byte .concat("ab", "cd"), .string(name)
.ident(.concat("lab", "el")): .byte 9
  .word label
` }, RAM],
  ['.repeat with a counter, nested, inside a macro', { 'main.s': `
.repeat 3, i
  .byte i * 2
.endrepeat
.macro table n
  .repeat n, j
    .repeat 2, k
      .byte j, k
    .endrep
  .endrep
.endmacro
  table 3
` }, RAM],
  ['.proc, .scope, :: resolution, cheap locals, unnamed labels', { 'main.s': `
.proc outer
  lda #1
.proc inner
entry: rts
value = 5
.endproc
@loop:
  dex
  bne @loop
  jmp inner::entry
.endproc
.scope data
  table: .byte 1, 2, 3
.endscope
  lda data::table + 1
  lda #outer::inner::value
  lda #::outer::inner::value
  jsr outer
: inx
  bne :-
  beq :+
  nop
: rts
  .byte .sizeof(outer), .sizeof(data)
` }, RAM],
  ['segments: .zeropage, .code, .rodata, .data, .bss, .segment with an address size', { 'main.s': `
.zeropage
ptr: .res 2
.segment "EXTZP": zeropage
tmp: .res 1
.code
  lda ptr
  sta (ptr),y
  lda tmp
  lda table
  lda buffer,x
.rodata
table: .byte 1, 2, 3
.data
count: .word table
.bss
buffer: .res 16
` }, RAM.replace('BSS:', 'EXTZP: load = ZP, type = zp; BSS:')],
  ['.import, .export, .global across modules; zero page imports', {
    'main.s': `
.import helper, value
.importzp zp
.global shared
.export start
start:
  jsr helper
  lda zp
  lda #<value
  lda #>value
  jmp shared
`,
    'lib.s': `
.export helper, value = $1234
.exportzp zp
.global shared
.zeropage
zp: .res 1
.code
helper: rts
shared: lda #2
  rts
`,
  }, RAM],
  ['conditionals: .if/.elseif/.else, .ifdef/.ifndef, -D on the command line', { 'main.s': `
.ifdef FAST
  .byte 1
.else
  .byte 2
.endif
.ifndef SLOW
  .byte 3
.endif
.if LEVEL > 2
  .byte 4
.elseif LEVEL = 2
  .byte 5
.else
  .byte 6
.endif
.if .defined(FAST) .and LEVEL = 2
  .byte 7
.endif
` }, RAM, ['-D', 'FAST', '-D', 'LEVEL=2']],
  ['.charmap, strings and characters', { 'main.s': `
.charmap $41, $01
.charmap $42, $02
  .byte "ABC", 'A', 'B'+1
  .asciiz "AB"
  lda #'A'
` }, RAM],
  ['.feature labels_without_colons, dollar_is_pc, force_range', { 'main.s': `
.feature labels_without_colons, force_range
start lda #-1
  .byte -2
  jmp start
.feature dollar_is_pc
  .word $
` }, RAM],
  ['.struct, .union, .enum, .tag, .sizeof', { 'main.s': `
.struct point
  xpos .word
  ypos .word
.endstruct
.union either
  b .byte
  w .word
.endunion
.enum color
  black
  white = 5
  red
.endenum
  .byte point::ypos, .sizeof(point), .sizeof(either), color::red
  lda #point::xpos
here: .tag point
  .byte .sizeof(here)
` }, RAM],
  ['.assert, .out and .warning pass quietly; .align and .res fill in relocatable segments', { 'main.s': `
  .assert * = $1000, error, "code starts at $1000"
  .byte 1
  .align 16
  .byte 2
  .align 8, $EA
  .res 3
  .res 2, $55
.struct point
  xy .word 2
.endstruct
  .assert .sizeof(point) = 4, warning
` }, RAM.replace('file = %O;', 'file = %O, fill = yes, fillval = $FF;')],
  ['longbranch and generic macro packages, .setcpu, .pc02, .macpack cpu', { 'main.s': `
.macpack longbranch
.macpack generic
.macpack cpu
back: nop
  jeq back
  jne far
  add #1
  sub $10
  bge back
.setcpu "65C02"
  stz $10
  bra back
.if .cpu .bitand CPU_ISET_65C02
  .byte 1
.endif
.p02
  .res 200
far: rts
` }, RAM],
  ['.org inside a relocatable segment, and .reloc', { 'main.s': `
  lda label
  .org $8000
label: jmp label
  .word *
  .reloc
after: jmp after
` }, RAM],
  ['linker: several memory areas and files, fill and fillval, define, start, offset, align, run != load', {
    'main.s': `
.import __RAMCODE_LOAD__, __RAMCODE_RUN__, __RAMCODE_SIZE__, __ROM_START__, __ROM_SIZE__, __ROM_LAST__
.segment "HEADER"
  .byte "HDR"
.code
start: jmp start
.segment "VECTORS"
  .word start, start, start
.segment "RAMCODE"
copied: lda copied
  rts
.segment "ALIGNED"
  .byte 1
.rodata
  .word __RAMCODE_LOAD__, __RAMCODE_RUN__, __RAMCODE_SIZE__, __ROM_START__, __ROM_SIZE__, __ROM_LAST__
`,
  }, `MEMORY {
  HDR: start = $0000, size = $10, file = %O, fill = yes, fillval = $11;
  ROM: start = $8000, size = $1000, file = %O, fill = yes, fillval = $FF, define = yes;
  RAM: start = $0200, size = $0600, file = "";
}
SEGMENTS {
  HEADER: load = HDR, type = ro;
  CODE: load = ROM, type = ro;
  RODATA: load = ROM, type = ro;
  RAMCODE: load = ROM, run = RAM, type = rw, define = yes;
  ALIGNED: load = ROM, type = ro, align = $100;
  VECTORS: load = ROM, type = ro, start = $8FFA;
}
`],
  ['linker: SYMBOLS (weak and export), %S and FEATURES STARTADDRESS, expressions in the config', {
    'main.s': `
.import __STACKSIZE__, __START__
  .word __STACKSIZE__, __START__, start
start: rts
`,
  }, `FEATURES { STARTADDRESS: default = $0800; }
SYMBOLS { __STACKSIZE__: type = weak, value = $0400; __START__: type = export, value = %S + 2 * $10; }
MEMORY { MAIN: start = %S, size = $C000 - %S - __STACKSIZE__, file = %O; }
SEGMENTS { CODE: load = MAIN, type = ro; RODATA: load = MAIN, type = ro, optional = yes; DATA: load = MAIN, type = rw, optional = yes; BSS: load = MAIN, type = bss, optional = yes; ZEROPAGE: load = MAIN, type = zp, optional = yes; }
`],
  ['linker: CONDES tables (constructors by priority, destructors decreasing, an interruptor that needs its import)', {
    'main.s': `
.import __CONSTRUCTOR_TABLE__, __CONSTRUCTOR_COUNT__, __DESTRUCTOR_TABLE__, __DESTRUCTOR_COUNT__
  .constructor init1
  .constructor init2, 3
  .destructor done1
  .destructor done2, 9
  .interruptor irq1, 20
  .condes other, 1, 5
  .word __CONSTRUCTOR_TABLE__, __CONSTRUCTOR_COUNT__, __DESTRUCTOR_TABLE__, __DESTRUCTOR_COUNT__
init1: rts
init2: rts
done1: rts
done2: rts
irq1: rts
other: rts
`,
    'lib.s': `
.constructor libinit, 3
.export __CALLIRQ__
libinit: rts
__CALLIRQ__: rts
`,
  }, `MEMORY { RAM: start = $2000, size = $1000, file = %O; }
SEGMENTS { CODE: load = RAM, type = ro; RODATA: load = RAM, type = ro; ONCE: load = RAM, type = ro, optional = yes; }
FEATURES {
  CONDES: type = constructor, label = __CONSTRUCTOR_TABLE__, count = __CONSTRUCTOR_COUNT__, segment = ONCE;
  CONDES: type = destructor, label = __DESTRUCTOR_TABLE__, count = __DESTRUCTOR_COUNT__, segment = RODATA, order = decreasing;
  CONDES: type = interruptor, label = __INTERRUPTOR_TABLE__, count = __INTERRUPTOR_COUNT__, segment = RODATA, import = __CALLIRQ__;
}
`],
  ['-g: the label file has every label of the modules', { 'main.s': `
start: lda #1
@local: bne @local
.proc inner
here: rts
.endproc
const = 5
  .byte const
` }, RAM, ['-g']],
];

describe.runIf(hasCa65)('ca65 + ld65 and hyper6502 build the same', () => {
  it.each(CASES)('%s', (_, sources, config, args = []) => {
    const theirs = ld65Build(sources, config, args);
    const ours = hyperBuild(sources, config, args);
    expect(Object.keys(ours.files).sort()).toEqual(Object.keys(theirs.files).sort());
    for (const name of Object.keys(theirs.files)) expect(Buffer.from(ours.files[name]).toString('hex'), name).toBe(Buffer.from(theirs.files[name]).toString('hex'));
    expect(ours.labels).toBe(theirs.labels);
    expect(ours.map).toBe(theirs.map);
  });
});

// Without ca65 the comparisons above are not registered: one skipped test says so.
if (!hasCa65) {
  describe('ca65 + ld65 and hyper6502 build the same', () => {
    it.skip(ca65SkipReason, () => {});
  });
}
