/* qsort from the C library on pseudo-random numbers, then a check. */
#include <stdio.h>
#include <stdlib.h>

#define N 300
static int data[N];

static int compare(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return x < y ? -1 : x > y;
}

int main(void) {
    unsigned i, seed = 12345;
    for (i = 0; i < N; ++i) {
        seed = seed * 25173u + 13849u;
        data[i] = (int)(seed >> 1) - 16000;
    }
    qsort(data, N, sizeof data[0], compare);
    for (i = 1; i < N; ++i) {
        if (data[i - 1] > data[i]) {
            printf("not sorted at %u\n", i);
            return 1;
        }
    }
    printf("sorted %u numbers: %d %d %d ... %d\n", N, data[0], data[1], data[2], data[N - 1]);
    return 0;
}
