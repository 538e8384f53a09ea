/* File I/O: create, write, close, reopen, read back, append.
   (cc65 2.19's sim6502 library has no remove(): newcalls.s covers it.) */
#include <stdio.h>
#include <string.h>

int main(void) {
    FILE *f;
    char line[64];
    unsigned n = 0;

    f = fopen("notes.txt", "w");
    if (!f) { printf("cannot create notes.txt\n"); return 1; }
    fprintf(f, "first line\nsecond line %d\n", 2);
    fclose(f);

    f = fopen("notes.txt", "a");
    fputs("third line\n", f);
    fclose(f);

    f = fopen("notes.txt", "r");
    while (fgets(line, sizeof line, f)) printf("%u: %s", ++n, line);
    fclose(f);

    printf("missing file: %s\n", fopen("missing.txt", "r") ? "opened?" : "not found");
    return 0;
}
