; timer.s - VIA timer interrupts and an echoing terminal on the `board`.
;
; For the board machine: a ROM at $E000-$FFFF (vectors at $FFFA). It prints a
; banner on the ACIA terminal, then:
;   - the VIA's timer 1 interrupts every 10,000 cycles (100 times a second at
;     1 MHz); every 100th interrupt, the IRQ handler prints "tick 1",
;     "tick 2", ... (one line a second at 1 MHz), each ending in CR LF;
;   - the main loop echoes what is typed (CR as CR LF).
; Drive it:
;   const program = assemble(source);               // 8 KiB, $E000-$FFFF
;   const m = await Machine.create({ machine: 'board', program: program.bytes });
;   m.console.input('hi\r'); m.run(1_000_000); m.console.takeOutput();
; Assemble: hyper6502 asm examples/timer.s -o timer.rom

ACIA_DATA   = $C000     ; read: received byte; write: send
ACIA_STATUS = $C001     ; bit 3: a byte received; bit 4: ready to send
ACIA_CMD    = $C002
ACIA_CTRL   = $C003
VIA_T1CL    = $C014     ; timer 1 counter low (reading it acknowledges)
VIA_T1CH    = $C015     ; timer 1 counter high (writing it starts the timer)
VIA_ACR     = $C01B
VIA_IFR     = $C01D
VIA_IER     = $C01E

PERIOD      = 10000     ; cycles between interrupts
PER_TICK    = 100       ; interrupts per printed tick
CR          = 13
LF          = 10

count       = $00       ; 3 bytes: the ticks printed, in BCD, low byte first
left        = $03       ; interrupts until the next tick

        .org $E000

reset:  sei
        cld
        ldx #$FF
        txs
        lda #0
        sta count
        sta count+1
        sta count+2
        lda #PER_TICK
        sta left
        sta ACIA_STATUS         ; ACIA: programmed reset,
        lda #$0B
        sta ACIA_CMD            ; no parity, no interrupts, DTR on,
        lda #$1F
        sta ACIA_CTRL           ; 8 bits, 1 stop bit, 19200 baud
        ldx #banner - strings
        jsr puts
        lda #$40
        sta VIA_ACR             ; timer 1 free-running
        lda #$C0
        sta VIA_IER             ; timer 1 interrupts on
        lda #<(PERIOD - 2)      ; free-running: one interrupt every N+2 cycles
        sta VIA_T1CL
        lda #>(PERIOD - 2)
        sta VIA_T1CH            ; start
        cli

; The main loop: echo each byte received.
echo:   lda ACIA_STATUS
        and #$08
        beq echo
        lda ACIA_DATA
        jsr putc
        cmp #CR
        bne echo
        lda #LF
        jsr putc
        jmp echo

; Timer 1 interrupt: every PER_TICK of them, count a tick and print it.
irq:    pha
        txa
        pha
        tya
        pha
        cld
        bit VIA_IFR             ; timer 1 (bit 6) interrupting?
        bvc @done               ; no: a BRK, say
        lda VIA_T1CL            ; acknowledge
        dec left
        bne @done
        lda #PER_TICK
        sta left
        sed                     ; count = count + 1, in decimal
        clc
        lda count
        adc #1
        sta count
        lda count+1
        adc #0
        sta count+1
        lda count+2
        adc #0
        sta count+2
        cld
        ldx #tick - strings
        jsr puts
        jsr print_count
        ldx #newline - strings
        jsr puts
@done:  pla
        tay
        pla
        tax
        pla
nmi:    rti

; Prints the count in decimal without leading zeros.
print_count:
        ldx #2                  ; the highest byte first
        ldy #0                  ; no digit printed yet
@byte:  lda count,x
        lsr a
        lsr a
        lsr a
        lsr a
        jsr digit               ; the high digit,
        lda count,x
        and #$0F
        jsr digit               ; the low digit
        dex
        bpl @byte
        rts

; Prints the digit in A, unless it is a leading zero (Y = 0: none printed yet).
digit:  cmp #0
        bne @print
        cpy #0
        beq @skip
@print: ora #'0'
        jsr putc
        ldy #1
@skip:  rts

; Prints the zero-terminated string at strings+X.
puts:   lda strings,x
        beq @end
        jsr putc
        inx
        bne puts
@end:   rts

; Sends A when the ACIA is ready; keeps A, X and Y.
putc:   pha
@wait:  lda ACIA_STATUS
        and #$10
        beq @wait
        pla
        sta ACIA_DATA
        rts

strings:
banner: .byte "hyper6502 board: a tick a second at 1 MHz; type to echo", CR, LF, 0
tick:   .asciiz "tick "
newline:
        .byte CR, LF, 0

        .res $FFFA - *, $FF     ; the rest of the ROM, up to the vectors
        .word nmi               ; NMI
        .word reset             ; RESET
        .word irq               ; IRQ/BRK
