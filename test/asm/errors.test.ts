// Errors: each kind says what is wrong, at its file, line and column; every
// error of a file is reported, and assemble() returns them instead of throwing.
import { describe, it, expect } from 'vitest';
import { assemble, type AsmOptions } from '../../src/asm/assembler.ts';
import { formatAsmError } from '../../src/asm/output.ts';

/** The errors of a source as "file:line:col: error: message" lines. */
function errorsOf(source: string, options: AsmOptions = {}): string[] {
  const result = assemble(source, { fileName: 'bad.s', ...options });
  expect(result.ok).toBe(false);
  return result.errors.map(formatAsmError);
}

describe('assembly errors', () => {
  it.each([
    ['unknown instruction', ' frob #1', "bad.s:1:2: error: unknown instruction 'frob'"],
    ['65C02 instruction on the 6502', ' stz $12', 'bad.s:1:2: error: STZ is not a 6502 instruction: it is a 65C02 instruction'],
    ['undocumented instruction without the option', ' slo $12', 'bad.s:1:2: error: SLO is an undocumented NMOS 6502 instruction: enable it with --undocumented'],
    ['undocumented instruction on the 65C02', ' .setcpu "65C02"\n lax $12', 'bad.s:2:2: error: LAX is an undocumented NMOS 6502 instruction; the 65C02 does not have it'],
    ['Rockwell bit instruction on the 65SC02', ' .setcpu "65SC02"\n rmb0 $12', 'bad.s:2:2: error: RMB0 is not a 65SC02 instruction: it is a 65C02 instruction'],
    ['65C02 mode on the 6502', ' lda ($12)', 'bad.s:1:6: error: LDA has no (zero page) mode on the 6502 (the 65C02 has it: .setcpu "65C02"); it has: immediate (#), zero page'],
    ['65C02 accumulator INC on the 6502', ' inc a', 'bad.s:1:6: error: INC has no accumulator (A) mode on the 6502 (the 65C02 has it'],
    ['undocumented NOP mode', ' nop #1', 'bad.s:1:6: error: NOP has no immediate (#) mode on the 6502 (only as an undocumented opcode: --undocumented or .setcpu "6502X"); it has: implied'],
    ['mode nobody has', ' stx $1234,x', 'bad.s:1:6: error: STX has no absolute,X mode on the 6502; it has: zero page, zero page,Y, absolute'],
    ['a second operand where none belongs', ' lda $12,z', "bad.s:1:10: error: only X or Y may follow the ',' in LDA's operand"],
    ['zero-page-only mode with a big address', ' stx $1234,y', 'bad.s:1:6: error: STX zero page,Y needs a zero-page address ($00 to $FF), got $1234'],
    ['immediate out of range', ' lda #300', 'bad.s:1:7: error: immediate value $012C is out of range (0 to $FF)'],
    ['negative immediate, as ca65', ' lda #-1', 'bad.s:1:7: error: immediate value -1 is out of range (0 to $FF)'],
    ['byte out of range', ' .byte 1, 256', 'bad.s:1:11: error: byte value $0100 is out of range (0 to $FF)'],
    ['word out of range', ' .word $10000', 'bad.s:1:8: error: word value $10000 is out of range (0 to $FFFF)'],
    ['undefined label', ' jmp nowhere', "bad.s:1:6: error: undefined symbol 'nowhere'"],
    ['undefined cheap local', 'a:\n@x: nop\nb:\n jmp @x', "bad.s:4:6: error: undefined symbol '@x'"],
    ['no unnamed label ahead', ' bne :+', "bad.s:1:6: error: no unnamed label after this line for ':+'"],
    ['duplicate label', 'x: nop\nx: nop', "bad.s:2:1: error: duplicate symbol 'x': already defined at bad.s:1"],
    ['duplicate constant', 'x = 1\nx = 2', "bad.s:2:1: error: duplicate symbol 'x': already defined at bad.s:1"],
    ['unknown directive', ' .bytes 1', "bad.s:1:2: error: unknown directive '.bytes'"],
    ['macro without its end', ' .macro m', 'bad.s:1:2: error: .macro m has no .endmacro'],
    ['a CPU this assembler does not have', ' .p816', 'bad.s:1:2: error: .p816: this assembler knows the 6502, 6502X, 65SC02 and 65C02'],
    ['unknown CPU', ' .setcpu "65816"', 'bad.s:1:10: error: .setcpu "65816": this assembler knows "6502", "6502X", "65SC02", "65C02"'],
    ['forward reference in .org', ' .org later\nlater:', "bad.s:1:7: error: the address of .org must be known on this line (no forward references): undefined symbol 'later'"],
    ['forward reference in .res', ' .res n\nn = 2', 'bad.s:1:7: error: the size of .res must be known on this line'],
    ['negative .res', ' .res -1', 'bad.s:1:7: error: the size of .res must be $00 to $1000000, not -1'],
    ['.org out of range', ' .org $10000', 'bad.s:1:7: error: the address of .org must be $00 to $FFFF, not $10000'],
    ['division by zero', ' .byte 1/0', 'bad.s:1:9: error: division by zero'],
    ['unterminated string', ' .byte "abc', 'bad.s:1:8: error: unterminated string: the closing " is missing'],
    ['bad number', ' lda #$G1', 'bad.s:1:7: error: bad hexadecimal number "$G1"'],
    ['bad binary number', ' lda #%102', 'bad.s:1:7: error: bad binary number "%102"'],
    ['bad character', ' lda #1 ? 2', "bad.s:1:9: error: unexpected character '?'"],
    ['missing expression', ' lda #1 +', 'bad.s:1:10: error: expected an expression, found the end of the line'],
    ['trailing garbage', ' ldx #1, 2', "bad.s:1:8: error: expected the end of the line, found ','"],
    ['unbalanced .endif', ' .endif', 'bad.s:1:2: error: .endif without .if'],
    ['missing .endif', ' .if 1\n nop', 'bad.s:1:1: error: this .if has no .endif'],
    ['.include without readFile', ' .include "x.s"', 'bad.s:1:11: error: cannot read "x.s": no readFile was given to assemble()'],
    ['past $FFFF', ' .org $FFFF\n lda $1234', 'bad.s:2:1: error: 3 bytes at $FFFF run past $FFFF'],
    ['overlapping .org', ' .org $10\n .byte 1, 2\n .org $11\n .byte 3', 'bad.s:4:1: error: $11 is written twice: first by bad.s:2'],
  ])('%s', (_, source, expected) => {
    const errors = errorsOf(source);
    expect(errors).toHaveLength(1);
    expect(errors[0].startsWith(expected), `${errors[0]}\ndoes not start with\n${expected}`).toBe(true);
  });

  it('branch out of range says how far the target is, forwards and backwards', () => {
    const source = ' .org $0200\nback: .res 130\n beq back\n bne ahead\n .res 200\nahead: rts\n .setcpu "65C02"\n bbs7 $12, back';
    expect(errorsOf(source)).toEqual([
      'bad.s:3:6: error: branch out of range: target $0200 is -132 bytes from the next instruction (a branch reaches -128 to +127)',
      'bad.s:4:6: error: branch out of range: target $034E is +200 bytes from the next instruction (a branch reaches -128 to +127)',
      'bad.s:8:12: error: branch out of range: target $0200 is -338 bytes from the next instruction (a branch reaches -128 to +127)',
    ]);
  });

  it('circular constants', () => {
    expect(errorsOf('x = y\ny = x + 1')).toEqual([
      "bad.s:1:5: error: 'y' has no value: its definition uses an undefined symbol, or itself",
      "bad.s:2:5: error: 'x' has no value: its definition uses an undefined symbol, or itself",
    ]);
  });

  it('a branch reaches exactly -128 and +127', () => {
    const source = ' .org $0200\nback: .res 126\n beq back\n bne ahead\n .res 127\nahead: rts';
    const result = assemble(source);
    expect(result.errors).toEqual([]);
    expect(Array.from(result.bytes.subarray(126, 130))).toEqual([0xf0, 0x80, 0xd0, 0x7f]);
  });

  it('reports every error of a file, in line order, and assembles the rest', () => {
    const source = [
      'start: lda #1',
      '  frob',
      '  lda missing',
      '  lda #256',
      'start: nop',
      '  .include "gone.s"',
      '  jmp start',
    ].join('\n');
    const result = assemble(source, { fileName: 'many.s', readFile: () => { throw Object.assign(new Error('x'), { code: 'ENOENT' }); } });
    expect(result.errors.map(formatAsmError)).toEqual([
      "many.s:2:3: error: unknown instruction 'frob'",
      "many.s:3:7: error: undefined symbol 'missing'",
      'many.s:4:8: error: immediate value $0100 is out of range (0 to $FF)',
      "many.s:5:1: error: duplicate symbol 'start': already defined at many.s:1",
      'many.s:6:12: error: cannot read "gone.s": no such file',
    ]);
    expect(result.symbols.start).toBe(0);
    expect(Array.from(result.bytes.subarray(0, 2))).toEqual([0xa9, 0x01]);
  });

  it('names the included file and its line for errors there', () => {
    const files: Record<string, string> = { 'lib/util.s': 'util: rts\n  bogus\n' };
    const result = assemble(' .include "lib/util.s"\n jsr util\n jsr nothing', { fileName: 'main.s', readFile: (p) => files[p] });
    expect(result.errors.map(formatAsmError)).toEqual([
      "lib/util.s:2:3: error: unknown instruction 'bogus'",
      "main.s:3:6: error: undefined symbol 'nothing'",
    ]);
  });

  it('shows the errors in the listing under their lines', () => {
    const { listing } = assemble(' lda #1\n frob\n');
    expect(listing).toContain(" frob\n*** error: unknown instruction 'frob'\n");
  });

  it('never throws: random token soup of directives, macros and operands only gives errors', () => {
    const pieces = ['lda', '#', '$12', '(', ')', ',', 'x', 'y', ':', '::', '.macro', '.endmacro', '.repeat', '.endrep', '.if', '.else', '.endif', '.proc', '.endproc',
      '.scope', '.endscope', '.struct', '.endstruct', '.enum', '.endenum', '.define', 'm', '@l', ':+', ':-', '=', ':=', '.byte', '.word', '"s"', "'c'", '.segment', '"CODE"',
      '.res', '.align', '16', '.org', '$8000', '.include', '.local', '.exitmacro', '.sizeof', '.tag', '.import', '.export', '{', '}', '.left', '.match', '.strat', '*', '+',
      '<', '>', '.charmap', '.feature', 'labels_without_colons', 'bne', 'jmp', 'l1', '.assert', 'error', '.constructor', '.ifblank', '.set', '.macpack', 'longbranch', 'jeq'];
    let seed = 11;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % n);
    for (let i = 0; i < 500; i++) {
      const source = Array.from({ length: 1 + random(10) }, () => ' ' + Array.from({ length: random(7) }, () => pieces[random(pieces.length)]).join(' ')).join('\n');
      expect(() => assemble(source, { fileName: 'soup.s' }), source).not.toThrow();
    }
  });
});
