/* Reads stdin to the end: counts lines, words and bytes, echoes it upper-cased. */
#include <stdio.h>
#include <ctype.h>

int main(void) {
    int c, inword = 0;
    unsigned lines = 0, words = 0, bytes = 0;
    while ((c = getchar()) != EOF) {
        ++bytes;
        if (c == '\n') ++lines;
        if (isspace(c)) inword = 0;
        else if (!inword) { inword = 1; ++words; }
        putchar(toupper(c));
    }
    printf("%u lines, %u words, %u bytes\n", lines, words, bytes);
    return 0;
}
