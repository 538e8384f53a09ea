/* Tries to leave the file sandbox: every attempt must fail. */
#include <stdio.h>

static void try(const char *path) {
    FILE *f = fopen(path, "r");
    printf("%-24s %s\n", path, f ? "OPENED" : "refused");
    if (f) fclose(f);
}

int main(void) {
    FILE *f;
    try("../escape-target.txt");
    try("/etc/passwd");
    try("sub/../../escape-target.txt");
    try("link-out/escape-target.txt");
    try("inside.txt");
    f = fopen("../created-outside.txt", "w");
    printf("create outside: %s\n", f ? "CREATED" : "refused");
    return 0;
}
