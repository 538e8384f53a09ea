/* Reads one file over and over (argv[1], argv[2] times, default 1000) and
   counts what its first letter says: 'I'nside the file sandbox, 'O'utside
   of it, or refused. Another process swaps the path as it runs. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    unsigned inside = 0, outside = 0, refused = 0, n, i;
    int c;
    FILE *f;
    if (argc < 2) return 2;
    n = argc > 2 ? atoi(argv[2]) : 1000;
    for (i = 0; i < n; ++i) {
        f = fopen(argv[1], "r");
        if (!f) { ++refused; continue; }
        c = fgetc(f);
        fclose(f);
        if (c == 'I') ++inside; else ++outside;
    }
    printf("inside %u outside %u refused %u\n", inside, outside, refused);
    return outside != 0;
}
