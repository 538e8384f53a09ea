// The assembler's language and outputs: expressions, literals, labels,
// directives, .include/.incbin, zero page or absolute, the listing, the
// symbol table and sim65 programs.
import { describe, it, expect } from 'vitest';
import { assemble, resolveInclude, type AsmOptions } from '../../src/asm/assembler.ts';
import { formatAsmError, formatSymbols } from '../../src/asm/output.ts';
import { parseSim65 } from '../../src/devices/sim65.ts';

/** The bytes of a source that must assemble cleanly. */
function bytesOf(source: string, options: AsmOptions = {}): number[] {
  const result = assemble(source, options);
  expect(result.errors.map(formatAsmError)).toEqual([]);
  return Array.from(result.bytes);
}

/** The bytes `.byte expr` gives: expressions one at a time. */
const value = (expr: string) => bytesOf(` .byte ${expr}`)[0];

describe('expressions', () => {
  it.each([
    ['2 + 3 * 4', 14],
    ['(2 + 3) * 4', 20],
    ['10 - 2 - 3', 5],
    ['7 / 2', 3],
    ['-7 / 2 & $FF', 0xfd], // truncates towards zero: -3
    ['7 .mod 4', 3],
    ['$F0 | $0F', 0xff],
    ['$F0 ^ $FF', 0x0f],
    ['$F0 & $3C', 0x30],
    ['1 << 4', 16],
    ['$80 >> 3', 16],
    ['1 << 2 + 1', 5], // << binds like *, as ca65
    ['6 & 3 + 1', 3], // & too
    ['<$1234', 0x34],
    ['>$1234', 0x12],
    ['^$123456', 0x12],
    ['<$1234 + 1', 0x35], // (<$1234) + 1
    ['.lobyte($ABCD)', 0xcd],
    ['.hibyte($ABCD)', 0xab],
    ['~$0F & $FF', 0xf0],
    ['-(-5)', 5],
    ['+5', 5],
    ['3 = 3', 1],
    ['3 <> 3', 0],
    ['3 != 4', 1],
    ['2 < 3', 1],
    ['2 >= 3', 0],
    ['1 && 0', 0],
    ['1 || 0', 1],
    ['!0', 1],
    ['.not 1', 0],
    ['.defined(x)', 0],
  ])('%s = %i', (expr, expected) => {
    expect(value(expr)).toBe(expected);
  });

  it.each([
    ['123', 123],
    ['$7f', 0x7f],
    ['$FF', 0xff],
    ['%10100101', 0xa5],
    ["'A'", 0x41],
    ["' '", 0x20],
  ])('literal %s', (literal, expected) => {
    expect(value(literal)).toBe(expected);
  });

  it('* is the address of the instruction, or of the data item', () => {
    expect(bytesOf(' .org $1000\n jmp *\n .word *, *')).toEqual([0x4c, 0x00, 0x10, 0x03, 0x10, 0x05, 0x10]);
  });

  it('* = sets the program counter, like .org', () => {
    const result = assemble('* = $C000\nstart: rts');
    expect(result.origin).toBe(0xc000);
    expect(result.symbols.start).toBe(0xc000);
  });
});

describe('labels and symbols', () => {
  it('global labels, constants (= and :=) and forward references', () => {
    const result = assemble(' .org $0400\nstart: jmp later\nSIZE = later - start\nhere := *\nlater: lda #SIZE\n');
    expect(Array.from(result.bytes)).toEqual([0x4c, 0x03, 0x04, 0xa9, 0x03]);
    expect(result.symbols).toEqual({ start: 0x400, SIZE: 3, here: 0x403, later: 0x403 });
    expect(result.labels).toEqual({ start: 0x400, here: 0x403, later: 0x403 }); // no constants
  });

  it('symbols are case-sensitive, mnemonics and registers are not', () => {
    const result = assemble('Loop: LDX #1\nloop: Dex\n BnE Loop\n LDA $10,X\n lda $10,x\n asl A');
    expect(result.errors).toEqual([]);
    expect(Array.from(result.bytes)).toEqual([0xa2, 0x01, 0xca, 0xd0, 0xfb, 0xb5, 0x10, 0xb5, 0x10, 0x0a]);
  });

  it('cheap local labels belong to the last normal label', () => {
    const source = 'first:\n@loop: dex\n bne @loop\nsecond: nop\n@loop: dey\n bne @loop\n jmp first\n';
    const result = assemble(source);
    expect(Array.from(result.bytes)).toEqual([0xca, 0xd0, 0xfd, 0xea, 0x88, 0xd0, 0xfd, 0x4c, 0x00, 0x00]);
    expect(result.symbols['first@loop']).toBe(0);
    expect(result.symbols['second@loop']).toBe(4);
  });

  it('a constant (=) does not open a new scope for cheap locals; := does', () => {
    const result = assemble('main:\nX1 = 5\n@a: nop\nY1 := *\n@a: nop\n');
    expect(result.errors).toEqual([]);
    expect(Object.keys(result.symbols)).toEqual(['main', 'X1', 'main@a', 'Y1', 'Y1@a']);
  });

  it('unnamed labels: :- and :+, doubled to skip one', () => {
    expect(bytesOf(':\n bne :-\n beq :++\n: nop\n: bcc :--')).toEqual([0xd0, 0xfe, 0xf0, 0x01, 0xea, 0x90, 0xfd]);
  });

  it('several labels on one line', () => {
    const result = assemble(' .org 3\na: b: nop');
    expect(result.symbols.a).toBe(3);
    expect(result.symbols.b).toBe(3);
  });
});

describe('zero page or absolute, as ca65 chooses', () => {
  it.each([
    ['known and below $100: zero page', 'zp = $80\n lda zp', [0xa5, 0x80]],
    ['known, $100 and up: absolute', 'v = $100\n lda v', [0xad, 0x00, 0x01]],
    ['forward reference: absolute', ' lda fwd\nfwd = $10', [0xad, 0x10, 0x00]],
    ['forward, only zero page exists: zero page', ' stx fwd,y\nfwd = $10', [0x96, 0x10]],
    ['forward, (indirect),Y: zero page', ' lda (fwd),y\nfwd = $10', [0xb1, 0x10]],
    ['zero page,Y where only absolute,Y exists', ' lda $10,y', [0xb9, 0x10, 0x00]],
    ['a: forces absolute', ' lda a:$10', [0xad, 0x10, 0x00]],
    ['z: forces zero page', ' lda z:fwd\nfwd = $10', [0xa5, 0x10]],
    ['a label in zero page', ' .org $10\nvar: .byte 0\n inc var', [0x00, 0xe6, 0x10]],
    ['a parenthesized expression is not indirect', ' lda (1 + 2) * 4', [0xa5, 0x0c]],
    ['(expr),X is zero page,X', ' lda (1),x', [0xb5, 0x01]],
  ])('%s', (_, source, expected) => {
    expect(bytesOf(source as string)).toEqual(expected);
  });
});

describe('directives', () => {
  it('.byte .byt .ascii .asciiz: numbers and strings', () => {
    expect(bytesOf(' .byte 1, "AB", \'c\'\n .byt 2\n .ascii "hi"\n .asciiz "ok", 3')).toEqual([1, 0x41, 0x42, 0x63, 2, 0x68, 0x69, 0x6f, 0x6b, 3, 0]);
  });

  it('.word .addr (little-endian), .dbyt (big-endian), .dword', () => {
    expect(bytesOf(' .word $1234, 5\n .addr $ABCD\n .dbyt $1234\n .dword $12345678')).toEqual([0x34, 0x12, 5, 0, 0xcd, 0xab, 0x12, 0x34, 0x78, 0x56, 0x34, 0x12]);
  });

  it('.res with and without a fill byte, .align', () => {
    expect(bytesOf(' .byte 1\n .res 2\n .res 2, $EA\n .align 8, $FF\n .byte 9')).toEqual([1, 0, 0, 0xea, 0xea, 0xff, 0xff, 0xff, 9]);
  });

  it('.org places bytes at their address; gaps between are zero', () => {
    const result = assemble(' .org $0200\n .byte 1\n .org $0204\n .byte 2\n .org $0100\n .byte 3');
    expect(result.origin).toBe(0x0100);
    expect(result.bytes.length).toBe(0x105);
    expect(result.bytes[0]).toBe(3);
    expect(result.bytes[0x100]).toBe(1);
    expect(result.bytes[0x104]).toBe(2);
  });

  it('.if .elseif .else .endif, .ifdef .ifndef, nested, skipping what is not taken', () => {
    const source = [
      'A1 = 2',
      ' .if A1 = 1', ' .byte 1', ' .elseif A1 = 2', ' .byte 2',
      '  .if 0', '  .byte 9', '  .else', '  .byte 3', '  .endif',
      ' .else', ' .byte 4', ' .endif',
      ' .ifdef A1', ' .byte 5', ' .endif',
      ' .ifndef A1', ' bogus instruction never read', ' .endif',
    ].join('\n');
    expect(bytesOf(source)).toEqual([2, 3, 5]);
  });

  it('.setcpu, .p02, .pc02, .psc02 switch the instruction set', () => {
    const source = ' .setcpu "65C02"\n stz $10\n .p02\n .pc02\n bra *\n .setcpu "6502X"\n lax $10\n .psc02\n phx';
    const result = assemble(source);
    expect(result.errors).toEqual([]);
    expect(Array.from(result.bytes)).toEqual([0x64, 0x10, 0x80, 0xfe, 0xa7, 0x10, 0xda]);
    expect(result.cpu).toBe('65c02'); // the CPU in effect at the end
  });

  it('undocumented NMOS mnemonics, with ca65\'s and other assemblers\' names', () => {
    const source = ' slo $10\n axs #1\n sbx #1\n lax #1\n lxa #1\n isb $10\n isc $10\n kil\n jam\n xaa #1\n ahx $1234,y\n shs $1234,y';
    expect(bytesOf(source, { undocumented: true })).toEqual([0x07, 0x10, 0xcb, 1, 0xcb, 1, 0xab, 1, 0xab, 1, 0xe7, 0x10, 0xe7, 0x10, 0x02, 0x02, 0x8b, 1, 0x9f, 0x34, 0x12, 0x9b, 0x34, 0x12]);
    expect(bytesOf(' .setcpu "6502X"\n dcp ($10),y')).toEqual([0xd3, 0x10]);
  });

  it('65C02: Rockwell bit instructions, (zp), (abs,X), accumulator INC', () => {
    const source = 'top: rmb0 $12\n smb7 $12\n bbr0 $12, top\n bbs7 $12, :+\n: lda ($12)\n jmp ($1234,x)\n inc\n dec a\n stp\n wai';
    expect(bytesOf(source, { cpu: '65c02' })).toEqual([0x07, 0x12, 0xf7, 0x12, 0x0f, 0x12, 0xf9, 0xff, 0x12, 0x00, 0xb2, 0x12, 0x7c, 0x34, 0x12, 0x1a, 0x3a, 0xdb, 0xcb]);
  });

  it('.code, .segment "CODE", .export change nothing; .end stops', () => {
    expect(bytesOf(' .code\n .segment "CODE"\n .export start\nstart: nop\n .end\n this is not read')).toEqual([0xea]);
  });
});

describe('.include and .incbin', () => {
  const files: Record<string, string | Uint8Array> = {
    'src/defs.s': 'SCREEN = $0400\n .include "more/colors.s"\n',
    'src/more/colors.s': 'RED = 2\n',
    'src/data/font.bin': Uint8Array.from([1, 2, 3, 4, 5]),
    'src/loop.s': ' .include "loop.s"\n',
  };
  const readFile = (path: string) => {
    const data = files[path];
    if (data === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return data;
  };

  it('reads files relative to the including file, nested', () => {
    const result = assemble(' .include "defs.s"\n lda #RED\n sta SCREEN\n', { fileName: 'src/main.s', readFile });
    expect(result.errors).toEqual([]);
    expect(Array.from(result.bytes)).toEqual([0xa9, 0x02, 0x8d, 0x00, 0x04]);
    expect(result.listing).toContain('RED = 2');
  });

  it('.incbin whole, from an offset, and a slice', () => {
    expect(bytesOf(' .incbin "data/font.bin"\n .incbin "data/font.bin", 3\n .incbin "data/font.bin", 1, 2', { fileName: 'src/main.s', readFile })).toEqual([1, 2, 3, 4, 5, 4, 5, 2, 3]);
  });

  it('.incbin past the end of the file is an error', () => {
    const result = assemble(' .incbin "data/font.bin", 4, 2', { fileName: 'src/main.s', readFile });
    expect(result.errors.map(formatAsmError)).toEqual(['src/main.s:1:10: error: .incbin "data/font.bin": start 4 and size 2 do not fit in its 5 bytes']);
  });

  it('stops a file that includes itself', () => {
    const result = assemble(' .include "loop.s"', { fileName: 'src/main.s', readFile });
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0].message).toMatch(/nested more than 16 deep/);
  });

  it('resolves paths like a file system: relative to the folder, absolute as is', () => {
    expect(resolveInclude('a/b/main.s', 'x.s')).toBe('a/b/x.s');
    expect(resolveInclude('main.s', 'x.s')).toBe('x.s');
    expect(resolveInclude('a/main.s', '/abs/x.s')).toBe('/abs/x.s');
    expect(resolveInclude('C:\\src\\main.s', 'x.s')).toBe('C:\\src\\x.s');
  });
});

describe('outputs', () => {
  const source = [
    '; header',
    '        .org $0200',
    'start:  ldx #5',
    'loop:   dex',
    '        bne loop',
    'COUNT = 5',
    'table:  .byte 1, 2, 3, 4, 5, 6, 7',
    '        .res 40',
  ].join('\n');

  it('the listing: address, bytes, then the line; long data on more rows, cut after 16 bytes', () => {
    expect(assemble(source).listing).toBe(
      [
        '0000               ; header',
        '0000                       .org $0200',
        '0200  A2 05        start:  ldx #5',
        '0202  CA           loop:   dex',
        '0203  D0 FD                bne loop',
        '0205               COUNT = 5',
        '0205  01 02 03 04  table:  .byte 1, 2, 3, 4, 5, 6, 7',
        '0209  05 06 07',
        '020C  00 00 00 00          .res 40',
        '0210  00 00 00 00',
        '0214  00 00 00 00',
        '0218  00 00 00 00',
        '021C  ... 24 more bytes',
        '',
      ].join('\n'),
    );
  });

  it('lists lines of a skipped .if branch without an address', () => {
    expect(assemble(' .if 0\n nop\n .endif').listing).toBe(['0000                .if 0', '                    nop', '0000                .endif', ''].join('\n'));
  });

  it('the symbol table, and a symbol file a debugger can read', () => {
    const result = assemble(source);
    expect(result.symbols).toEqual({ start: 0x200, loop: 0x202, COUNT: 5, table: 0x205 });
    expect(result.labels).toEqual({ start: 0x200, loop: 0x202, table: 0x205 });
    expect(formatSymbols(result.symbols)).toBe('start = $0200\nloop = $0202\nCOUNT = $0005\ntable = $0205\n');
  });

  it('a sim65 program: "sim65", version 2, CPU, stack pointer zp, load and reset addresses, bytes', () => {
    const result = assemble(' .org $0200\nstart: lda #1\n rts');
    const prg = result.toPrg();
    expect(Array.from(prg)).toEqual([0x73, 0x69, 0x6d, 0x36, 0x35, 2, 0, 0, 0x00, 0x02, 0x00, 0x02, 0xa9, 0x01, 0x60]);
    const cmos = assemble(' .setcpu "65C02"\n .org $1000\n stz 0\nmain: rts').toPrg({ reset: 0x1002 });
    expect(Array.from(cmos.subarray(0, 12))).toEqual([0x73, 0x69, 0x6d, 0x36, 0x35, 2, 1, 0, 0x00, 0x10, 0x02, 0x10]);
  });

  it('the sim65 profile reads the sim65 programs back', () => {
    const result = assemble(' .setcpu "65C02"\n .org $0400\nstart: stz 0\n rts');
    expect(parseSim65(result.toPrg({ reset: 0x0401 }))).toEqual({ cpu: '65c02', spAddress: 0, loadAddress: 0x0400, resetAddress: 0x0401, body: result.bytes });
  });

  it('an empty source gives no bytes, at the org', () => {
    const result = assemble('; nothing\n', { org: 0x0800 });
    expect(result.ok).toBe(true);
    expect(result.bytes.length).toBe(0);
    expect(result.origin).toBe(0x0800);
  });

  it('options.org sets the program counter before the first .org', () => {
    expect(assemble('start: nop', { org: 0x0300 }).symbols.start).toBe(0x0300);
  });
});
