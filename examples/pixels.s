; pixels.s - scrolling colour bars over a field of random sparkles.
;
; For the easy6502 profile: the program loads and starts at $0600; the
; 32x32 screen is $0200-$05FF, one byte per pixel, colours 0-15, row after
; row; $FE holds a fresh random byte. It runs until stopped (no BRK).
;
;   rows  0-23 ($0200-$04FF): 16 vertical colour bars, 2 pixels wide; pixel
;             x shows colour (x/2 + frame) mod 16, so the bars scroll left
;             by one bar each frame
;   rows 24-31 ($0500-$05FF): 32 random pixels get random colours each frame
;
; A frame takes about 50,000 cycles: 20 frames a second at 1 MHz.
; Assemble: hyper6502 asm examples/pixels.s -o pixels.bin (load it at $0600).

ptr     = $00           ; 2 bytes: a pointer into the screen
frame   = $02           ; the frame counter: how far the bars have scrolled
colour  = $03           ; the previous random byte: the next sparkle's colour
random  = $FE           ; easy6502's random byte

SPARKS  = $0500         ; rows 24-31: one page

        .org $0600

start:  lda #0
        sta frame
main:   jsr bars
        jsr sparkle
        jsr wait
        inc frame
        jmp main

; Rows 0-23, page by page: pixel Y of a page is at x = Y mod 32.
bars:   lda #<$0200
        sta ptr
        lda #>$0200
        sta ptr+1
        ldy #0
@pixel: tya
        and #31         ; x
        lsr a           ; x / 2: the bar
        clc
        adc frame       ; scrolled
        and #15         ; a colour
        sta (ptr),y
        iny
        bne @pixel
        inc ptr+1       ; the next page
        lda ptr+1
        cmp #>SPARKS
        bne @pixel
        rts

; 32 sparkles in rows 24-31: a random pixel gets the random byte before it as
; its colour.
sparkle:
        ldx #32
@one:   ldy random      ; a random pixel of the page
        lda colour
        and #15
        sta SPARKS,y
        sty colour
        dex
        bne @one
        rts

; About 30,000 cycles of nothing, so that the eye can follow.
wait:   ldy #24
        ldx #0
@loop:  dex
        bne @loop
        dey
        bne @loop
        rts
