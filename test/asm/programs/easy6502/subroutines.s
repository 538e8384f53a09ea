; jsr and rts, a backwards and a forwards branch, zero page
; pointers from define, and an origin set with *=.
define ptr $10
define count 10

*=$0700
start:
  jsr init
  jsr fill
  jmp done

init:
  lda #$00
  sta ptr
  lda #$02
  sta ptr+1
  rts

fill:
  ldy #$00
  ldx #count
again:
  txa
  sta (ptr),y
  iny
  dex
  bne again
  beq out
  nop
out:
  rts

done:
  brk
