/* Built for the 65C02 (cl65 -t sim65c02): the compiler uses its extra instructions. */
#include <stdio.h>

static unsigned char bits(unsigned char v) {
    unsigned char n = 0;
    while (v) { n += v & 1; v >>= 1; }
    return n;
}

int main(void) {
    unsigned i, total = 0;
    for (i = 0; i < 256; ++i) total += bits((unsigned char)i);
    printf("65C02: %u bits set in 0..255\n", total);
    return 0;
}
