; ca65 syntax this assembler shares with ca65: every line here must give
; ca65's bytes (test/asm/ca65-compare.test.ts).
        .setcpu "6502"
        .org    $0300

zp      = $80                   ; known before use: zero page
abs     = $1234
here    := *                    ; a label by :=

start:  lda     zp              ; A5 80
        lda     zp+1,x          ; B5 81
        lda     abs             ; AD 34 12
        lda     later           ; forward reference: absolute
        lda     later,x
        ldx     later,y         ; LDX has abs,Y
        stx     fwdzp,y         ; STX has only zp,Y: zero page
        lda     (fwdzp),y       ; only zero page exists
        lda     a:zp            ; forced absolute
        lda     z:zp
        sta     <abs            ; low byte: zero page
        asl
        asl     a
        rol     zp
        jmp     (vector)
        jsr     sub
        lda     #<start
        ldx     #>start
        ldy     #'A'
        lda     #%10100101 & $FF
        cmp     #^$123456
        lda     #-(-5)
        lda     #~$F0 & $FF
        lda     #<(abs + 1)
        lda     #<abs + 1       ; (<abs)+1, as ca65
        lda     #2 + 3 * 4
        lda     #(2 + 3) * 4
        lda     #1 << 2 + 1     ; << binds like *
        lda     #6 & 3 + 1      ; & binds like *
        lda     #1 | 2 * 2
        lda     #10 - 2 - 3
        lda     #7 / 2
        lda     #7 .mod 4
        lda     #3 = 3
        lda     #3 <> 4
        lda     #2 < 1
        lda     #1 && 0 || 1
        lda     #.lobyte(abs)
        lda     #.hibyte(abs)
        lda     #>(* + 2)

sub:    ldy     #3
@loop:  dey                     ; cheap local, scoped by sub
        bne     @loop
:       dex                     ; unnamed labels
        bne     :-
        beq     :+
        nop
:       beq     :++
        bne     :+
:       nop
:       rts

other:
@loop:  bne     @loop           ; another @loop, scoped by other
        bcs     other

vector: .word   start, sub, *
        .addr   abs
        .byte   1, 2, $FF, "text", 'x', <abs, >abs
        .byt    0
        .asciiz "zero"
        .dbyt   $1234
        .dword  $12345678
        .res    3
        .res    2, $EA
        .if     zp = $80
        .byte   $11
        .elseif 1
        .byte   $22
        .else
        .byte   $33
        .endif
        .ifdef  abs
        .byte   $44
        .endif
        .ifndef abs
        .byte   $55
        .endif
        .if     .defined(nothing)
        .byte   $66
        .endif
        .byte   <(* - here)
        .word   later - start
later:  .byte   later & $FF
fwdzp   = $90
