/* wsreplay: a stand-in for ws-labels under websocketd --binary that sends one message read from
 * a file, then waits for the viewer to leave. No Redis, no token, no start-up work of ours: what
 * websocketd alone costs per connection, the reference `make bench` sets row 7 against. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: wsreplay FILE    (run by websocketd --binary)\n"
    "  writes FILE (at most 1 MiB) to stdout with one write() into a pipe enlarged to hold it, as\n"
    "  common/wsio.c does, so websocketd sends it as one binary message; then reads stdin until\n"
    "  websocketd closes it (the viewer left)\n"
    "exit: 0 sent and the viewer left, 1 the file or the write failed, 2 usage\n";

#define TOOL_NAME "wsreplay"
#include "toolkit.h"

int main(int argc, char **argv)
{
    static char msg[1 << 20], scratch[1 << 14];
    if (argc != 2) usage("one FILE");
    int fd = open(argv[1], O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, msg, sizeof msg);
    if (n <= 0) {
        fprintf(stderr, "wsreplay: %s: %s\n", argv[1], n < 0 ? strerror(errno) : "empty");
        return 1;
    }
    close(fd);
    if (fcntl(STDOUT_FILENO, F_GETPIPE_SZ) < n && fcntl(STDOUT_FILENO, F_SETPIPE_SZ, (int)n) < 0)
        fprintf(stderr, "wsreplay: cannot enlarge the stdout pipe: %s\n", strerror(errno));
    if (write(STDOUT_FILENO, msg, (size_t)n) != n) return 1;
    while (read(STDIN_FILENO, scratch, sizeof scratch) > 0) {}
    return 0;
}
