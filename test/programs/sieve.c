/* The BYTE sieve: primes below 16384 from 8191 flags, 150 passes. CPU-bound:
   the benchmark runs it on hyper6502 and on sim65 (bench/host.bench.ts). */
#include <stdio.h>

#define SIZE 8190
static char flags[SIZE + 1];

int main(void) {
    unsigned i, prime, k, count = 0, pass;
    for (pass = 0; pass < 150; ++pass) {
        count = 0;
        for (i = 0; i <= SIZE; ++i) flags[i] = 1;
        for (i = 0; i <= SIZE; ++i) {
            if (flags[i]) {
                prime = i + i + 3;
                for (k = i + prime; k <= SIZE; k += prime) flags[k] = 0;
                ++count;
            }
        }
    }
    printf("%u primes\n", count);
    return 0;
}
