; 8 x 8 -> 16-bit shift-and-add multiply, run over a table of factor pairs.
; Results land in `products` (little-endian words); ends in `jmp *`.
        .setcpu "6502"
        .org    $0200

factor1 = $10                   ; zero-page work area
factor2 = $11
result  = $12                   ; 2 bytes
COUNT   = (pairs_end - pairs) / 2

start:  ldx     #0
@next:  lda     pairs,x
        sta     factor1
        lda     pairs+1,x
        sta     factor2
        jsr     multiply
        lda     result
        sta     products,x
        lda     result+1
        sta     products+1,x
        inx
        inx
        cpx     #COUNT * 2
        bne     @next
done:   jmp     done

; result = factor1 * factor2 (factor1 is destroyed)
multiply:
        lda     #0
        sta     result+1
        ldy     #8
@loop:  lsr     factor1         ; next bit of factor1 into carry
        bcc     :+
        clc
        adc     factor2
:       ror     a               ; shift the 16-bit result right
        ror     result
        dey
        bne     @loop
        sta     result+1
        rts

pairs:  .byte   3, 5, 12, 12, 255, 255, 0, 77, 100, 200, 1, 1
pairs_end:
products:
        .res    COUNT * 2, $EE
