; Assembly without the C library: writes a line through the write() call at
; $FFF7 and exits with status 5 through $FFF9.
        .export     _main
        .import     pushax
        .importzp   sp

        .segment    "RODATA"
message: .byte      "hello from assembly", $0A
length = * - message

        .segment    "CODE"
_main:  lda         #1              ; fd 1 (stdout)
        ldx         #0
        jsr         pushax
        lda         #<message       ; buffer
        ldx         #>message
        jsr         pushax
        lda         #<length        ; count in A/X
        ldx         #>length
        jsr         $FFF7           ; write(fd, buf, count)
        lda         #5
        jmp         $FFF9           ; exit(5)
