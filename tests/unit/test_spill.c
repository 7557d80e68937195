/* test_spill: frames moved from a socket into a pipe by splice, byte for
 * byte; a peer that stops or ends is told apart from a full pipe. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "spill.h"

enum { FRAME = 300000 };

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes all of data to sv[0] from a child, in pieces of piece bytes. The
 * child closes sv[1], so that the parent closing it ends the child's writes. */
static pid_t write_from_child(const int sv[2], const char *data, size_t len, size_t piece)
{
    int fd = sv[0];
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[1]);
        for (size_t off = 0; off < len;) {
            ssize_t n = write(fd, data + off, len - off < piece ? len - off : piece);
            if (n <= 0)
                _exit(1);
            off += (size_t)n;
        }
        _exit(0);
    }
    return pid;
}

static void test_takes_exactly_len(size_t piece)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    char *data = malloc(FRAME + 10), *back = malloc(FRAME + 10);
    for (size_t i = 0; i < FRAME + 10; i++)
        data[i] = (char)(i * 131 + i / 977);
    spill p;
    CHECK(spill_open(&p) && spill_fit(&p, FRAME), "a pipe for a %d-byte frame", FRAME);
    pid_t pid = write_from_child(sv, data, FRAME + 10, piece);
    CHECK(spill_take(&p, sv[1], FRAME, mono_ms() + 5000) == 0, "took the frame (written in %zu-byte pieces)", piece);
    CHECK(spill_held(&p) == FRAME, "the pipe holds exactly the frame (%zu)", spill_held(&p));
    char after[10];
    CHECK(read(sv[1], after, 10) == 10 && memcmp(after, data + FRAME, 10) == 0, "what follows stays in the socket");
    CHECK(spill_read(&p, back, FRAME) == FRAME && memcmp(back, data, FRAME) == 0, "the bytes, in order");
    CHECK(spill_held(&p) == 0, "and nothing else");
    waitpid(pid, NULL, 0);
    spill_close(&p);
    close(sv[0]);
    close(sv[1]);
    free(data);
    free(back);
}

static void test_peer_stops_or_ends(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    spill p;
    CHECK(spill_open(&p) && spill_fit(&p, 100000), "a pipe");
    CHECK(write(sv[0], "abc", 3) == 3, "3 bytes sent");
    long long t0 = mono_ms();
    errno = 0;
    CHECK(spill_take(&p, sv[1], 100000, t0 + 200) == -1 && errno == ETIMEDOUT, "a peer that stops: timed out");
    CHECK(mono_ms() - t0 >= 190, "... at the deadline");
    CHECK(spill_held(&p) == 3, "what came is held");
    spill_discard(&p);
    CHECK(spill_held(&p) == 0, "discarded");
    close(sv[0]);
    CHECK(spill_take(&p, sv[1], 10, mono_ms() + 1000) == -1, "a peer that ended: failed");
    spill_close(&p);
    close(sv[1]);
    spill q = { -1, -1, 0 };
    spill_close(&q); /* never opened: closes nothing (not fd 0) */
    CHECK(fcntl(0, F_GETFD) != -1 || errno != EBADF, "stdin still open");
}

/* A pipe of the default 16 slots that gets a larger frame in pieces of at
 * most a page each fills, and says so instead of waiting for the socket.
 * (Written in one piece, the frame could fit: a slot takes up to a whole
 * socket buffer's fragment, often 32 KB.) */
static void test_full_pipe(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    spill p;
    CHECK(spill_open(&p), "a pipe of the default size");
    char *data = calloc(1, 200000);
    pid_t pid = write_from_child(sv, data, 200000, 4096);
    CHECK(spill_take(&p, sv[1], 200000, mono_ms() + 2000) == 1, "full before the frame was all in");
    CHECK(spill_held(&p) > 0 && spill_held(&p) < 200000, "held what fitted (%zu)", spill_held(&p));
    spill_close(&p);
    close(sv[1]);
    waitpid(pid, NULL, 0);
    close(sv[0]);
    free(data);
}

/* Pieces far smaller than a page take a slot each: the pipe runs out of
 * slots before bytes. spill_take says so (the store then reads the frame
 * back and on as before); what came is in order, the rest still waits. */
static void test_tiny_pieces(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    char *data = malloc(FRAME), *back = malloc(FRAME);
    for (size_t i = 0; i < FRAME; i++)
        data[i] = (char)(i * 7 + i / 501);
    spill p;
    CHECK(spill_open(&p) && spill_fit(&p, FRAME), "a pipe for the frame");
    pid_t pid = write_from_child(sv, data, FRAME, 1000);
    int rc = spill_take(&p, sv[1], FRAME, mono_ms() + 5000);
    size_t held = spill_held(&p);
    CHECK(rc == 1 && held < FRAME, "1000-byte pieces: the pipe fills first (%d, %zu held)", rc, held);
    CHECK(spill_read(&p, back, held) == (ssize_t)held, "what came reads back");
    size_t off = held;
    while (off < FRAME) {
        ssize_t n = read(sv[1], back + off, FRAME - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    CHECK(off == FRAME && memcmp(back, data, FRAME) == 0, "and with the rest from the socket makes the frame");
    waitpid(pid, NULL, 0);
    spill_close(&p);
    close(sv[0]);
    close(sv[1]);
    free(data);
    free(back);
}

int main(void)
{
    test_takes_exactly_len(FRAME + 10);
    test_takes_exactly_len(65536);
    test_takes_exactly_len(16384);
    test_tiny_pieces();
    test_peer_stops_or_ends();
    test_full_pipe();
    return test_report("spill");
}
