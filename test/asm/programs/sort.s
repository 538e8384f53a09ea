; Bubble sort of a byte table on the 65C02 (BRA, STZ, PHX/PLX, (zp) addressing).
        .setcpu "65C02"
        .org    $0400

ptr     = $20                   ; pointer to the table
swapped = $22

start:  lda     #<table
        sta     ptr
        lda     #>table
        sta     ptr+1
pass:   stz     swapped
        ldy     #0
compare:
        lda     (ptr),y
        iny
        cmp     (ptr),y
        bcc     next            ; in order already (or equal)
        beq     next
        pha                     ; swap table[y-1] and table[y]
        lda     (ptr),y
        dey
        sta     (ptr),y
        iny
        pla
        sta     (ptr),y
        lda     #1
        sta     swapped
next:   cpy     #SIZE - 1
        bne     compare
        lda     swapped
        bne     pass
        ldx     #SIZE
        phx
        plx
        stx     sorted_count
        bra     *

sorted_count: .byte 0
table:  .byte   $42, 7, $FF, 0, 19, 19, $80, 3, 200, 1
SIZE    = * - table
