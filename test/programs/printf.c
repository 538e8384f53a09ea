/* printf of numbers and strings, in every width cc65's printf knows. */
#include <stdio.h>

int main(void) {
    int i;
    long big = 123456789L;
    printf("int: %d %d %d %u\n", 0, -32767 - 1, 32767, 65535u);
    printf("hex: %x %X %04x %o\n", 0xbeef, 0xbeef, 0x2a, 8);
    printf("long: %ld %ld %lu\n", big, -big, 4000000000UL);
    printf("str: [%s] [%10s] [%-10s] [%.3s]\n", "abc", "right", "left", "truncate");
    printf("char: %c%c%c\n", 'h', 'i', '!');
    for (i = 1; i <= 100; i *= 3) printf("%5d|", i);
    printf("\n");
    return 0;
}
