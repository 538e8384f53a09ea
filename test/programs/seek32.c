/* lseek's 32-bit offsets: seeks past 64 KiB, writes there, reads the hole
   and the data back, and checks every result as the long it is (its high
   word comes back in sreg). cc65 2.19's sim6502 library has no lseek, so it
   is called at its paravirtual address, $FFF1, as newer libraries do. */
#include <stdio.h>
#include <fcntl.h>
#include <unistd.h>

#define pv_lseek ((off_t (__fastcall__ *)(int, off_t, int))0xFFF1)

static int fd;
static unsigned char failures;
/* A long computed before each call: a result that kept its high word would show it. */
static volatile long stale;

static void check(const char *what, off_t got, off_t want) {
    printf("%-28s %ld%s\n", what, got, got == want ? "" : " WRONG");
    if (got != want) ++failures;
}

int main(void) {
    char buf[4] = { 1, 1, 1, 1 };

    fd = open("big.bin", O_RDWR | O_CREAT | O_TRUNC);
    if (fd < 0) { printf("cannot create big.bin\n"); return 100; }
    write(fd, "start", 5);

    stale = 0x5A5A5A5AL;
    check("SET 74565", pv_lseek(fd, 74565L, SEEK_SET), 74565L);
    write(fd, "far", 3);
    stale = 0x5A5A5A5AL;
    check("CUR 0", pv_lseek(fd, 0L, SEEK_CUR), 74568L);
    stale = 0x5A5A5A5AL;
    check("END 0", pv_lseek(fd, 0L, SEEK_END), 74568L);
    stale = 0x5A5A5A5AL;
    check("END -3", pv_lseek(fd, -3L, SEEK_END), 74565L);
    read(fd, buf, 3);
    printf("read back: %.3s\n", buf);
    stale = 0x5A5A5A5AL;
    check("SET 65536", pv_lseek(fd, 65536L, SEEK_SET), 65536L);
    read(fd, buf, 1);
    printf("the hole reads %d\n", buf[0]);
    stale = 0x5A5A5A5AL;
    check("CUR -65537", pv_lseek(fd, -65537L, SEEK_CUR), 0L);
    read(fd, buf, 4);
    printf("read back: %.4s\n", buf);
    stale = 0L;
    check("SET -1", pv_lseek(fd, -1L, SEEK_SET), -1L);
    stale = 0L;
    check("bad whence", pv_lseek(fd, 0L, 7), -1L);
    stale = 0L;
    check("SET 2^31-1 (past the quota)", pv_lseek(fd, 0x7FFFFFFFL, SEEK_SET), -1L);
    stale = 0L;
    check("stdout", pv_lseek(1, 0L, SEEK_CUR), -1L);
    close(fd);
    printf("%u wrong\n", failures);
    return failures;
}
