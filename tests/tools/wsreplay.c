/* wsreplay: a stand-in for ws-labels under websocketd --binary that sends one message read from
 * a file (or sends it RATE times a second), then waits for the viewer to leave. No Redis, no
 * token, no start-up work of ours: what websocketd alone costs per connection and per message,
 * the references `make bench` (row 7) and tests/bench/websocketd-ab.sh measure against. */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: wsreplay [-r RATE] FILE    (run by websocketd --binary)\n"
    "  writes FILE (at most 1 MiB) to stdout with one write() into a pipe enlarged to hold it, as\n"
    "  common/wsio.c does, so websocketd sends it as one binary message; then reads stdin until\n"
    "  websocketd closes it (the viewer left)\n"
    "  -r RATE  write it again RATE times a second, each time once websocketd has read the last\n"
    "           one (the pipe is empty, as common/wsio.c waits), until the viewer leaves\n"
    "exit: 0 sent and the viewer left, 1 the file or the write failed, 2 usage\n";

#define TOOL_NAME "wsreplay"
#include "toolkit.h"

static char msg[1 << 20];

/* Waits up to ms for the viewer to leave (stdin's EOF); 1 if it has. */
static int left(int ms)
{
    static char scratch[1 << 14];
    struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };
    int64_t end = mono_us() + (int64_t)ms * 1000;
    for (int64_t now = mono_us(); now < end || ms == 0; now = mono_us()) {
        int r = poll(&in, 1, ms ? (int)((end - now + 999) / 1000) : 0);
        if (r > 0 && read(STDIN_FILENO, scratch, sizeof scratch) <= 0) return 1;
        if (r <= 0 && ms == 0) return 0;
    }
    return 0;
}

static int queued(void)
{
    int n = 0;
    return ioctl(STDOUT_FILENO, FIONREAD, &n) == 0 ? n : 0;
}

int main(int argc, char **argv)
{
    long rate = 0;
    int c;
    while ((c = getopt(argc, argv, "r:")) != -1) {
        if (c == 'r') rate = number(optarg, "bad -r", 1, 100000);
        else usage("bad option");
    }
    if (argc - optind != 1) usage("one FILE");
    int fd = open(argv[optind], O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, msg, sizeof msg);
    if (n <= 0) {
        fprintf(stderr, "wsreplay: %s: %s\n", argv[optind], n < 0 ? strerror(errno) : "empty");
        return 1;
    }
    close(fd);
    if (fcntl(STDOUT_FILENO, F_GETPIPE_SZ) < n && fcntl(STDOUT_FILENO, F_SETPIPE_SZ, (int)n) < 0)
        fprintf(stderr, "wsreplay: cannot enlarge the stdout pipe: %s\n", strerror(errno));
    int64_t next = mono_us();
    do {
        while (queued() > 0)
            if (left(1)) return 0;
        if (write(STDOUT_FILENO, msg, (size_t)n) != n) return 1;
        next += rate ? 1000000 / rate : 0;
        int64_t wait = next - mono_us();
        if (rate && wait > 0 && left((int)(wait / 1000))) return 0;
    } while (rate && !left(0));
    while (!left(1000)) {}
    return 0;
}
