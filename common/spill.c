/* spill: frames moved between a socket and pipes by splice(2). */
#include "spill.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static long read_long(const char *path)
{
    char text[32] = "";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, text, sizeof text - 1) : -1;
    if (fd >= 0)
        close(fd);
    return n > 0 ? strtol(text, NULL, 10) : -1;
}

bool spill_budget_unlimited(void)
{
    return geteuid() == 0 || (read_long("/proc/sys/fs/pipe-user-pages-soft") == 0 &&
                              read_long("/proc/sys/fs/pipe-user-pages-hard") == 0);
}

bool spill_open(spill *p)
{
    int fds[2];
    p->rd = p->wr = -1;
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
        return false;
    p->rd = fds[0];
    p->wr = fds[1];
    p->size = fcntl(p->rd, F_GETPIPE_SZ);
    return true;
}

void spill_close(spill *p)
{
    if (p->rd >= 0)
        close(p->rd);
    if (p->wr >= 0)
        close(p->wr);
    p->rd = p->wr = -1;
}

/* Whether the pipe is (or grew to) at least want bytes large. */
static bool fit_bytes(spill *p, size_t want)
{
    if (p->rd < 0 || want > 0x40000000)
        return false;
    if ((size_t)p->size >= want)
        return true;
    long got = fcntl(p->rd, F_SETPIPE_SZ, (int)want);
    if (got < 0)
        return false;
    p->size = got;
    return true;
}

/* A pipe has one slot per page of its size, and a splice fills a slot with
 * each piece of a socket buffer, so the pieces may need more slots than the
 * bytes need pages: twice the pages leaves room for pieces of half a page.
 * Smaller pieces fill it first, and spill_take() says so. */
bool spill_fit(spill *p, size_t len)
{
    return len <= 0x10000000 && fit_bytes(p, 2 * len + 4096);
}

size_t spill_held(const spill *p)
{
    int n = 0;
    return p->rd >= 0 && ioctl(p->rd, FIONREAD, &n) == 0 && n > 0 ? (size_t)n : 0;
}

void spill_discard(spill *p)
{
    char scratch[16 << 10];
    while (spill_held(p) > 0 && read(p->rd, scratch, sizeof scratch) > 0)
        ;
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int spill_take(spill *p, int fd, size_t len, long long deadline_ms)
{
    struct pollfd in = { .fd = fd, .events = POLLIN };
    while (len > 0) {
        ssize_t n = splice(fd, NULL, p->wr, NULL, len, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0) {
            len -= (size_t)n;
            continue;
        }
        if (n == 0) {
            errno = ECONNRESET;
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return -1;
        struct pollfd out = { .fd = p->wr, .events = POLLOUT };
        if (poll(&out, 1, 0) == 0)
            return 1; /* no free slot: the pieces were smaller than spill_fit allowed for */
        long long left = deadline_ms - mono_ms();
        int ready = left > 0 ? poll(&in, 1, (int)left) : 0;
        if (ready == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (ready < 0 && errno != EINTR)
            return -1;
    }
    return 0;
}

ssize_t spill_read(spill *p, void *dst, size_t cap)
{
    return read(p->rd, dst, cap);
}
