/* hello.c - a short conversation over the terminal, for the sim65 profile.
 *
 * Asks for a name, reads a line from stdin, greets, prints a multiplication
 * table and exits with status 0.
 *
 * Build (cc65):  cl65 -t sim6502 -O hello.c -o hello.prg
 * Run:           echo Ada | npx hyper6502 run examples/hello.prg
 */
#include <stdio.h>
#include <string.h>

int main(void) {
    char name[32];
    unsigned char row, col;

    printf("What is your name? ");
    if (fgets(name, sizeof name, stdin) == NULL) name[0] = '\0';
    name[strcspn(name, "\r\n")] = '\0';
    if (name[0] == '\0') strcpy(name, "stranger");
    printf("Hello, %s!\n\n", name);

    printf("Here is a multiplication table for you:\n\n   |");
    for (col = 1; col <= 9; ++col) printf("%3u", col);
    printf("\n---+---------------------------\n");
    for (row = 1; row <= 9; ++row) {
        printf("%2u |", row);
        for (col = 1; col <= 9; ++col) printf("%3u", row * col);
        printf("\n");
    }
    printf("\nGoodbye, %s.\n", name);
    return 0;
}
