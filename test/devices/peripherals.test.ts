// The parts the built-in machines are made of, driven by guest programs as
// the real software drives them: the Apple 1's PIA keyboard and display, the
// HD44780 LCD on a VIA in 4-bit mode with Ben Eater's wiring, the 6551's
// receive interrupt with RTS flow control, py65mon's I/O with memory between
// its registers, and c65's cycle counter.
import { describe, it, expect } from 'vitest';
import { Machine } from '../../src/machine/machine.ts';
import { assemble } from '../../src/asm/assembler.ts';
import { Hd44780 } from '../../src/devices/hd44780.ts';

function code(source: string, cpu: '6502' | '65c02' = '6502') {
  const r = assemble(source, { cpu, fileName: 'guest.s' });
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.line}: ${e.message}`).join('\n'));
  return r.bytes;
}
const text = (m: Machine) => new TextDecoder('latin1').decode(m.console.takeOutput());

describe('the Apple 1 terminal on its 6821 PIA', () => {
  // A monitor in the way Wozmon talks to the PIA: set it up, wait for a key
  // (KBDCR bit 7), read it (bit 7 set), echo it to the display unless it is busy.
  const ROM = code(`
  .org $FF00
reset:  cld
        cli                 ; (the Apple 1 leaves the PIA's IRQ unconnected)
        ldy #$7F
        sty $D012           ; DDRB: PB0-6 out
        lda #$A7
        sta $D011           ; KBDCR, CA1 rising edge
        sta $D013           ; DSPCR
wait:   lda $D011
        bpl wait
        lda $D010           ; key, bit 7 set
        cmp #$8D            ; CR?
        beq cr
echo:   bit $D012           ; display busy?
        bmi echo
        sta $D012
        jmp wait
cr:     jsr echo2
        lda #'>' | $80
        jsr echo2
        jmp wait
echo2:  bit $D012
        bmi echo2
        sta $D012
        rts
  .res $FFFC - *, $EA
  .word reset, 0
`);

  it('gets typed keys one by one with bit 7 set, upper-cased, CR as CR; shows what it prints, CR as a new line', async () => {
    const m = await Machine.create({ machine: 'apple1', roms: [{ address: 0xff00, image: ROM }] });
    expect(m.run(10_000).reason).toBe('idle');
    m.console.input('hello\nworld\n'); // typed ahead: none is lost
    m.run(100_000);
    expect(text(m)).toBe('HELLO\r>WORLD\r>');
    expect(m.run(10_000).reason).toBe('idle');
  });
});

describe("Ben Eater's computer: the LCD and the serial line", () => {
  const ROM = code(`
  .setcpu "65C02"
PORTB = $6000
PORTA = $6001
DDRB  = $6002
DDRA  = $6003
E  = %01000000
RW = %00100000
RS = %00010000
ACIA_DATA = $5000
ACIA_STATUS = $5001
ACIA_CMD = $5002
ACIA_CTRL = $5003
BUF = $0300
WPTR = $00
RPTR = $01
  .org $8000
reset:  ldx #$ff
        txs
        stz WPTR
        stz RPTR
        lda #$01
        sta DDRA            ; PA0: RTS
        stz PORTA           ; RTS low: send
        lda #$ff
        sta DDRB
        ; 8-bit mode three times, then 4-bit, as Ben's BASIC ROM does
        lda #%00000011
        jsr nibble
        lda #%00000011
        jsr nibble
        lda #%00000011
        jsr nibble
        lda #%00000010
        jsr nibble
        lda #%00101000      ; 4-bit, 2 lines
        jsr command
        lda #%00001110      ; display on, cursor on
        jsr command
        lda #%00000110      ; increment
        jsr command
        lda #%00000001      ; clear
        jsr command
        ldx #0
hello:  lda msg,x
        beq line2
        jsr data
        inx
        bra hello
line2:  lda #$C0            ; DDRAM address $40: the second line
        jsr command
        lda #'6'
        jsr data
        lda #'5'
        jsr data
        lda #$1F
        sta ACIA_CTRL
        lda #$89            ; receive interrupts
        sta ACIA_CMD
        cli
main:   lda WPTR            ; drain the buffer, slowly, echoing
        sec
        sbc RPTR
        beq main
        ldx #$40
delay:  dex
        bne delay
        ldx RPTR
        lda BUF,x
        inc RPTR
        sta ACIA_DATA
        lda WPTR            ; room again: RTS low
        sec
        sbc RPTR
        cmp #4
        bcs main
        stz PORTA
        bra main
irq:    pha
        phx
        lda ACIA_STATUS
        lda ACIA_DATA
        ldx WPTR
        sta BUF,x
        inc WPTR
        lda WPTR
        sec
        sbc RPTR
        cmp #8              ; nearly full (16 bytes): RTS high, hold
        bcc :+
        lda #$01
        sta PORTA
        cmp #16
        bcc :+
        stp                 ; overflow: the sender did not hold
:       plx
        pla
        rti
nibble: sta PORTB
        ora #E
        sta PORTB
        and #%00001111
        sta PORTB
        rts
command: jsr wait
        pha
        lsr
        lsr
        lsr
        lsr
        jsr nibble
        pla
        and #%00001111
        jsr nibble
        rts
data:   jsr wait
        pha
        lsr
        lsr
        lsr
        lsr
        ora #RS
        jsr nibble2
        pla
        and #%00001111
        ora #RS
        jsr nibble2
        rts
nibble2: sta PORTB
        ora #E
        sta PORTB
        eor #E
        sta PORTB
        rts
wait:   pha                 ; the busy flag, read as Ben's lcd_wait reads it
        lda #%11110000
        sta DDRB
busy:   lda #RW
        sta PORTB
        lda #(RW | E)
        sta PORTB
        lda PORTB
        pha
        lda #RW
        sta PORTB
        lda #(RW | E)
        sta PORTB
        lda PORTB
        pla
        and #%00001000
        bne busy
        lda #RW
        sta PORTB
        lda #$ff
        sta DDRB
        pla
        rts
msg:    .asciiz "HELLO, WORLD"
  .res $FFFA - *, $EA
  .word reset, reset, irq
`, '65c02');

  it('draws text on the 16x2 LCD in 4-bit mode, and gets every byte of a long paste by holding the line with RTS', async () => {
    const m = await Machine.create({ machine: 'eater', program: ROM });
    expect(m.run(200_000).reason).toBe('idle');
    const lcd = m.devices.find((d) => d.name === 'lcd') as Hd44780;
    expect(lcd.lines()).toEqual(['HELLO, WORLD    ', '65              ']);
    expect(lcd.cursor).toEqual({ row: 1, column: 2 });
    const paste = Array.from({ length: 300 }, (_, i) => String.fromCharCode(0x21 + (i % 90))).join('');
    m.console.input(paste);
    const exit = m.run(5_000_000);
    expect(exit.reason).toBe('idle'); // not 'stp': the guest's buffer never overflowed
    expect(text(m)).toBe(paste);
  });
});

describe("py65mon's I/O", () => {
  it('reads 0 when no key waits, has memory between its registers, and c65 counts cycles in NUXI order', async () => {
    const program = code(`
  .org $0200
        lda #$5A
        sta $F002           ; plain memory, between putc and getc
        lda $F002
        sta $F001           ; prints 'Z'
        lda $F004           ; no key: 0
        sta $10
        lda $F003           ; c65: no key available
        sta $11
        lda $F006           ; start counting
        nop
        nop
        lda $F007           ; stop: the LDA $F006 and two NOPs, 8 cycles
        lda $F00A
        sta $12
        lda $F008
        sta $13
        brk
`);
    const m = await Machine.create({ machine: 'py65', program, load: 0x200, start: 0x200 });
    expect(m.run(10_000)).toMatchObject({ reason: 'exit', code: 0, pc: 0x0227 });
    expect(text(m)).toBe('Z');
    expect([...m.cpu.ram.subarray(0x10, 0x14)]).toEqual([0, 0, 8, 0]);
  });
});
