/* Recursion: Fibonacci numbers and the towers of Hanoi. */
#include <stdio.h>

static unsigned moves;

static unsigned fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static void hanoi(unsigned char n, char from, char to, char via) {
    if (n == 0) return;
    hanoi(n - 1, from, via, to);
    ++moves;
    if (n >= 5) printf("move disk %u from %c to %c\n", n, from, to);
    hanoi(n - 1, via, to, from);
}

int main(void) {
    unsigned n;
    for (n = 0; n <= 15; ++n) printf("fib(%u) = %u\n", n, fib(n));
    hanoi(6, 'A', 'C', 'B');
    printf("%u moves\n", moves);
    return 0;
}
