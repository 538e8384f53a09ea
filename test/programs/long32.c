/* 32-bit arithmetic: multiplication, division, shifts, a CRC-32. */
#include <stdio.h>

static unsigned long crc32(const char *s) {
    unsigned long crc = 0xFFFFFFFFUL;
    unsigned char bit;
    while (*s) {
        crc ^= (unsigned char)*s++;
        for (bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320UL & (0UL - (crc & 1)));
    }
    return ~crc;
}

int main(void) {
    unsigned long a = 100000UL, f = 1;
    long s = -1234567L;
    unsigned char i;
    for (i = 1; i <= 12; ++i) f *= i;
    printf("12! = %lu\n", f);
    printf("a*a/7 = %lu, a*a%%7 = %lu\n", a * a / 7, a * a % 7);
    printf("s/100 = %ld, s%%100 = %ld, s<<3 = %ld, s>>3 = %ld\n", s / 100, s % 100, s << 3, s >> 3);
    printf("crc32(\"The quick brown fox\") = %08lx\n", crc32("The quick brown fox"));
    return 0;
}
