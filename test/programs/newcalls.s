; The paravirtual calls newer cc65 libraries use, lseek ($FFF1) and remove
; ($FFF2), which sim65 2.19 does not have. Creates "seek.txt", writes
; "0123456789", seeks to 6, reads 4 bytes back, closes and removes the file,
; printing each result byte as a letter ('A' + value, '-' for -1); the exit
; status is the last byte read (`9` = $39 = 57).
        .export     _main
        .import     pushax
        .importzp   sp

        .segment    "RODATA"
name:   .byte       "seek.txt", 0
digits: .byte       "0123456789"
eol:    .byte       $0A

        .segment    "BSS"
fd:     .res        1
buffer: .res        4
result: .res        1

        .segment    "CODE"
_main:  lda         #<name          ; open(name, O_RDWR|O_CREAT|O_TRUNC)
        ldx         #>name
        jsr         pushax
        lda         #$33
        ldx         #0
        jsr         pushax
        ldy         #4              ; 4 bytes of arguments: no mode
        jsr         $FFF4
        sta         fd
        jsr         report

        lda         fd              ; write(fd, digits, 10)
        ldx         #0
        jsr         pushax
        lda         #<digits
        ldx         #>digits
        jsr         pushax
        lda         #10
        ldx         #0
        jsr         $FFF7
        jsr         report

        lda         fd              ; lseek(fd, 6L, SEEK_SET = 2)
        ldx         #0
        jsr         pushax
        lda         #0              ; high word of the offset
        ldx         #0
        jsr         pushax
        lda         #6              ; low word
        ldx         #0
        jsr         pushax
        lda         #2
        ldx         #0
        jsr         $FFF1
        jsr         report

        lda         fd              ; read(fd, buffer, 4)
        ldx         #0
        jsr         pushax
        lda         #<buffer
        ldx         #>buffer
        jsr         pushax
        lda         #4
        ldx         #0
        jsr         $FFF6
        jsr         report

        lda         fd              ; close(fd)
        ldx         #0
        jsr         $FFF5
        jsr         report

        lda         #<name          ; remove(name)
        ldx         #>name
        jsr         $FFF2
        jsr         report

        lda         #<name          ; remove(name) again: -1
        ldx         #>name
        jsr         $FFF2
        jsr         report

        lda         #1              ; write(1, buffer, 4): the digits read back
        ldx         #0
        jsr         pushax
        lda         #<buffer
        ldx         #>buffer
        jsr         pushax
        lda         #4
        ldx         #0
        jsr         $FFF7
        jsr         newline
        lda         buffer+3
        jmp         $FFF9           ; exit(last digit)

; Prints A as 'A' + A, or '-' when A/X is -1.
report: cpx         #$FF
        bne         @value
        lda         #<('-' - 'A')
@value: clc
        adc         #'A'
        sta         result
        lda         #1
        ldx         #0
        jsr         pushax
        lda         #<result
        ldx         #>result
        jsr         pushax
        lda         #1
        ldx         #0
        jmp         $FFF7

newline: lda        #1
        ldx         #0
        jsr         pushax
        lda         #<eol
        ldx         #>eol
        jsr         pushax
        lda         #1
        ldx         #0
        jmp         $FFF7
