/* exit() from a nested call with a status that main never returns. */
#include <stdio.h>
#include <stdlib.h>

static void fail(unsigned char code) {
    printf("exiting with %u\n", code);
    exit(code);
}

int main(void) {
    fail(42);
    return 0;
}
