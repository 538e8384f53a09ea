; The easy6502 tutorial's dialect, every construct of it: define, dcb,
; labels, hex and decimal numbers, #<label and #>label, (zp),y, a
; four-digit address below $100 (absolute), code at $0600 without .org.
define white $01
define screen $0200
define sysRandom $fe
define lowAbs $00f0

  lda #white
  sta screen
  lda #$05
  sta $0201
  ldx #$00
loop:
  lda colours,x
  sta $0300,x
  inx
  cpx #4
  bne loop
  lda #<colours
  sta $00
  lda #>colours
  sta $01
  ldy #$00
  lda ($00),y
  sta $0400
  lda $00ff
  lda lowAbs
  lda sysRandom
  jmp end
colours:
  dcb $01, $02, 3, $0e
end:
  brk
