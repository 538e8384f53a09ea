// The easy6502 dialect (--dialect easy6502, the demo's editor for the
// easy6502 machine): programs of the project's own that use every construct
// of the tutorial's syntax assemble to the bytes its assembler gives (worked
// out by hand below, instruction by instruction) and run on the easy6502
// machine.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { assemble } from '../../src/asm/assembler.ts';
import { translateEasy6502 } from '../../src/asm/easy6502.ts';
import { formatAsmError } from '../../src/asm/output.ts';
import { Machine } from '../../src/machine/machine.ts';

const source = (name: string) => readFileSync(new URL(`./programs/easy6502/${name}.s`, import.meta.url), 'utf8');

function build(name: string) {
  const r = assemble(source(name), { fileName: `${name}.s`, dialect: 'easy6502' });
  expect(r.errors.map(formatAsmError)).toEqual([]);
  return r;
}

/** Runs a program on the easy6502 machine (which starts at $0600: a JMP there leads to another origin) to `stop`. */
async function runTo(bytes: Uint8Array, stop: number, origin = 0x0600) {
  const program = new Uint8Array(stop + 1 - 0x0600);
  program.set(bytes, origin - 0x0600);
  if (origin !== 0x0600) program.set([0x4c, origin & 0xff, origin >> 8]);
  const m = await Machine.create({ machine: 'easy6502', program, options: { rng: { seed: 1 } } });
  m.addBreakpoint(stop);
  expect(m.run(1_000_000)).toMatchObject({ reason: 'breakpoint', pc: stop });
  return m;
}

describe('the easy6502 dialect', () => {
  it('colours.s: code at $0600, define, dcb, #< #>, (zp),y, $00ff absolute', async () => {
    const r = build('colours');
    expect(r.origin).toBe(0x0600);
    // prettier-ignore
    expect(Array.from(r.bytes)).toEqual([
      0xa9, 0x01,             // $0600 lda #white
      0x8d, 0x00, 0x02,       // $0602 sta screen ($0200)
      0xa9, 0x05,             // $0605 lda #$05
      0x8d, 0x01, 0x02,       // $0607 sta $0201
      0xa2, 0x00,             // $060A ldx #$00
      0xbd, 0x31, 0x06,       // $060C loop: lda colours,x
      0x9d, 0x00, 0x03,       // $060F sta $0300,x
      0xe8,                   // $0612 inx
      0xe0, 0x04,             // $0613 cpx #4
      0xd0, 0xf5,             // $0615 bne loop
      0xa9, 0x31,             // $0617 lda #<colours
      0x85, 0x00,             // $0619 sta $00
      0xa9, 0x06,             // $061B lda #>colours
      0x85, 0x01,             // $061D sta $01
      0xa0, 0x00,             // $061F ldy #$00
      0xb1, 0x00,             // $0621 lda ($00),y
      0x8d, 0x00, 0x04,       // $0623 sta $0400
      0xad, 0xff, 0x00,       // $0626 lda $00ff: four digits, absolute
      0xad, 0xf0, 0x00,       // $0629 lda lowAbs ($00f0): absolute too
      0xa5, 0xfe,             // $062C lda sysRandom ($fe): zero page
      0x4c, 0x35, 0x06,       // $062E jmp end
      0x01, 0x02, 0x03, 0x0e, // $0631 colours: dcb
      0x00,                   // $0635 end: brk
    ]);
    expect(r.labels).toMatchObject({ loop: 0x060c, colours: 0x0631, end: 0x0635 });
    const m = await runTo(r.bytes, r.labels.end);
    const ram = m.cpu.ram;
    expect([ram[0x0200], ram[0x0201]]).toEqual([1, 5]);
    expect(Array.from(ram.subarray(0x0300, 0x0304))).toEqual([1, 2, 3, 14]);
    expect(ram[0x0400]).toBe(1);
  });

  it('subroutines.s: *= sets the origin; jsr/rts; branches both ways; define on a zero-page pointer', async () => {
    const r = build('subroutines');
    expect(r.origin).toBe(0x0700);
    expect(r.labels).toMatchObject({ start: 0x0700, init: 0x0709, fill: 0x0712, again: 0x0716, out: 0x0720, done: 0x0721 });
    // prettier-ignore
    expect(Array.from(r.bytes)).toEqual([
      0x20, 0x09, 0x07, 0x20, 0x12, 0x07, 0x4c, 0x21, 0x07,   // jsr init, jsr fill, jmp done
      0xa9, 0x00, 0x85, 0x10, 0xa9, 0x02, 0x85, 0x11, 0x60,   // init: ptr = $0200
      0xa0, 0x00, 0xa2, 0x0a,                                 // fill: ldy #$00, ldx #count (10)
      0x8a, 0x91, 0x10, 0xc8, 0xca, 0xd0, 0xf9,               // again: txa, sta (ptr),y, iny, dex, bne again
      0xf0, 0x01, 0xea, 0x60,                                 // beq out, nop, out: rts
      0x00,                                                   // done: brk
    ]);
  });

  it('runs subroutines.s on the easy6502 machine: the screen gets 10 9 8 ... 1', async () => {
    const r = build('subroutines');
    const m = await runTo(r.bytes, r.labels.done, r.origin);
    expect(Array.from(m.cpu.ram.subarray(0x0200, 0x020b))).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  });

  it('keeps the line numbers: an error names the line of the source as written', () => {
    const r = assemble('define a $10\n lda #a\n frob\n', { fileName: 'e.s', dialect: 'easy6502' });
    expect(r.errors.map(formatAsmError)).toEqual(["e.s:3:2: error: unknown instruction 'frob'"]);
  });

  it('translates line for line', () => {
    expect(translateEasy6502('define x $10\n dcb 1, 2\n*=$0800\n lda $00ff\n lda (x),y')).toBe('x = $10\n .byte 1, 2\n.org $0800\n lda a:$00ff\n lda ($10),y');
  });
});
