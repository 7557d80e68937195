/* spill: a private pipe that carries a large frame from the Redis socket to
 * websocketd's pipe by splice(2), so that its bytes are never copied into
 * this process and out again: the kernel moves references to the pages it
 * already holds (perf, 100 viewers of 100 KB frames: the socket read and the
 * pipe write were a quarter of ws-labels' CPU). */
#ifndef SW_SPILL_H
#define SW_SPILL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct spill {
    int rd, wr;       /* the pipe's ends; -1 before spill_open */
    long size;        /* its size in bytes (F_GETPIPE_SZ) */
} spill;

/* Frames smaller than this are read as before: a splice saves little on them. */
enum { SPILL_MIN_BYTES = 16 << 10 };

/* Whether this process may size pipes beyond the per-user budget: root, or
 * fs.pipe-user-pages-soft and -hard both 0 (deploy/sysctl-streamweb.conf).
 * Moving frames takes two more pipes per viewer, each twice a frame: on the
 * default budget (64 MiB a user) that would cut the viewers a host can take
 * from about 500 to about 80 at 100 KB frames, so it is not done there. */
bool spill_budget_unlimited(void);
bool spill_open(spill *p);
void spill_close(spill *p);
/* Whether the pipe can hold len bytes in whatever pieces they come (a
 * splice moves a socket's buffers as they are, often smaller than a page):
 * grows it with room to spare; false if the host will not allow that. */
bool spill_fit(spill *p, size_t len);
/* Bytes waiting in the pipe. */
size_t spill_held(const spill *p);
/* Drops whatever the pipe holds (a frame nobody took). */
void spill_discard(spill *p);
/* Moves exactly len bytes from fd (a socket or a pipe) into the pipe,
 * waiting for fd up to deadline_ms (CLOCK_MONOTONIC). 0 done; 1 the pipe
 * filled first (what came is still in it); -1 fd failed, ended or timed out
 * (errno says which; ETIMEDOUT for the deadline). */
int spill_take(spill *p, int fd, size_t len, long long deadline_ms);
/* Reads back up to cap bytes of what the pipe holds (to give up moving). */
ssize_t spill_read(spill *p, void *dst, size_t cap);

#endif
