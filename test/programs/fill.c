/* Fills the disk: writes 1 KiB blocks to "fill.bin" until a write fails,
   then tries to seek far past the end, and to write somewhere else. */
#include <stdio.h>
#include <fcntl.h>
#include <unistd.h>

#define pv_lseek ((off_t (__fastcall__ *)(int, off_t, int))0xFFF1)

static char block[1024];

int main(void) {
    unsigned long total = 0;
    int fd = open("fill.bin", O_WRONLY | O_CREAT | O_TRUNC);
    int n;
    if (fd < 0) { printf("cannot create fill.bin\n"); return 1; }
    while ((n = write(fd, block, sizeof block)) > 0) total += n;
    printf("wrote %lu bytes, then %d\n", total, n);
    printf("seek 1 MiB past the end: %ld\n", pv_lseek(fd, 1048576L, SEEK_END));
    close(fd);
    fd = open("more.bin", O_WRONLY | O_CREAT | O_TRUNC);
    printf("another file: open %s, write %d\n", fd < 0 ? "refused" : "ok", write(fd, block, 1));
    close(fd);
    return 0;
}
