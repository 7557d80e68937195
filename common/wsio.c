/* wsio: message-preserving output through websocketd and input helpers.
 *
 * websocketd --binary turns each read() it makes on our stdout pipe into one
 * binary message. Measured: a message arrives whole only if it is written
 * with one write() into an empty pipe that can hold it; written back to back
 * or into a small pipe, messages merge or split (91 of 94 broke). */
#include "wsio.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "jsonw.h"
#include "log.h"
#include "spill.h"
#include "xalloc.h"

static bool text_lines;
static long pipe_size = -1; /* -1: stdout is not a pipe (a file in tests) */

static struct {
    char *buf;              /* one read's bytes: as large as the pipe, so a read takes it all */
    size_t cap, max;        /* buf's size; how large the pipe may grow */
    long pipe;              /* stdin pipe's size; -1 if not a pipe */
    long judged;            /* its size when the last read was made: what the next one is judged by */
    long last_judged;       /* ... and what the last read is judged by */
    ssize_t last;           /* bytes the last read returned */
    bool stuck;             /* the host refused to enlarge it: said once, not asked again */
} input = { .pipe = -1 };

long long wsio_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void wsio_init(bool text_mode)
{
    text_lines = text_mode;
    signal(SIGPIPE, SIG_IGN); /* a viewer that left shows as EPIPE, not death */
    pipe_size = fcntl(STDOUT_FILENO, F_GETPIPE_SZ);
}

bool wsio_drained(void)
{
    int queued = 0;
    return pipe_size < 0 || (ioctl(STDOUT_FILENO, FIONREAD, &queued) == 0 && queued == 0);
}

/* Waits until websocketd has read the previous message; -1 if the viewer
 * left meanwhile (websocketd then stops reading, so the pipe never drains).
 * There is no poll event for "pipe empty": this naps, and only while a
 * message is outstanding, never while idle. The naps double up to NAP_MAX_MS:
 * a viewer whose websocketd lags wakes rarely (measured: 2 ms naps made the
 * waiting the largest CPU cost of 100 lagging viewers). Polling stdin with no
 * events reports just its hang-up, never mere pending input. */
enum { NAP_MAX_MS = 16 };

static int wait_drained(void)
{
    int nap_ms = 0;
    struct pollfd in = { .fd = STDIN_FILENO, .events = 0 };
    while (!wsio_drained()) {
        if (poll(&in, 1, nap_ms) > 0 && (in.revents & (POLLHUP | POLLERR | POLLNVAL)))
            return -1;
        nap_ms = nap_ms ? (nap_ms * 2 < NAP_MAX_MS ? nap_ms * 2 : NAP_MAX_MS) : 1;
    }
    return 0;
}

/* Grows the pipe to hold total bytes: only as far as this message needs, as
 * all pipes of a user share one budget (fs.pipe-user-pages-soft). */
static int fit_pipe(size_t total)
{
    if (pipe_size < 0 || (size_t)pipe_size >= total)
        return 0;
    long got = fcntl(STDOUT_FILENO, F_SETPIPE_SZ, (int)(total > 0x7fffffff ? 0x7fffffff : total));
    if (got < 0) {
        LOG_WARN("cannot enlarge the stdout pipe to %zu bytes (raise fs.pipe-max-size, see deploy/): %s",
                 total, strerror(errno));
        return WSIO_TOO_BIG;
    }
    pipe_size = got;
    return 0;
}

int wsio_send(const struct iovec *iov, int iovcnt)
{
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++)
        total += iov[i].iov_len;
    if (fit_pipe(total) < 0)
        return WSIO_TOO_BIG;
    /* Text mode needs no wait (websocketd splits lines itself), and must not
     * wait: websocketd may be busy feeding our stdin, which we would then
     * stop reading, and neither side would move. */
    if (!text_lines && wait_drained() < 0)
        return WSIO_GONE;
    struct iovec rest[8];
    if (iovcnt > 8)
        return WSIO_TOO_BIG;
    memcpy(rest, iov, (size_t)iovcnt * sizeof *iov);
    struct iovec *v = rest;
    while (iovcnt > 0) {
        ssize_t n = writev(STDOUT_FILENO, v, iovcnt);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return WSIO_GONE;
        /* Only a file (tests) or a signal can make this partial. */
        while (iovcnt > 0 && (size_t)n >= v->iov_len) {
            n -= (ssize_t)v->iov_len;
            v++;
            iovcnt--;
        }
        if (iovcnt > 0) {
            v->iov_base = (char *)v->iov_base + n;
            v->iov_len -= (size_t)n;
        }
    }
    return WSIO_OK;
}

/* Appends all that p holds to b. */
static int gather(buf *b, spill *p)
{
    size_t held = spill_held(p);
    buf_reserve(b, held);
    if (held && spill_read(p, b->data + b->len, held) != (ssize_t)held)
        return -1;
    b->len += held;
    return 0;
}

/* wsio_send_moved the plain way: what stage holds (the message's first
 * part, when the quick way stopped midway) or else the parts, then src. */
static int send_gathered(const struct iovec *iov, int iovcnt, spill *stage, spill *src)
{
    buf all;
    buf_init(&all);
    if (stage && spill_held(stage) > 0) {
        if (gather(&all, stage) < 0)
            goto failed;
    } else {
        for (int i = 0; i < iovcnt; i++)
            buf_append(&all, iov[i].iov_base, iov[i].iov_len);
    }
    if (gather(&all, src) < 0)
        goto failed;
    struct iovec one = { all.data, all.len };
    int rc = wsio_send(&one, 1);
    buf_free(&all);
    return rc;
failed:
    LOG_WARN("a frame's pipe failed: %s", strerror(errno));
    buf_free(&all);
    spill_discard(src);
    return WSIO_GONE;
}

int wsio_send_moved(const struct iovec *iov, int iovcnt, spill *src, size_t len)
{
    static spill stage = { -1, -1, 0 };
    size_t total = len;
    for (int i = 0; i < iovcnt; i++)
        total += iov[i].iov_len;
    /* stdout gets room for every piece stage holds; should src's pieces not
     * fit in stage, spill_take says so and the plain way is taken */
    if (text_lines || pipe_size < 0 || (stage.rd < 0 && !spill_open(&stage)) || !spill_fit(&stage, total) ||
        fit_pipe((size_t)stage.size) < 0)
        return send_gathered(iov, iovcnt, NULL, src);
    if (wait_drained() < 0)
        return WSIO_GONE;
    spill_discard(&stage);
    ssize_t head = writev(stage.wr, iov, iovcnt);
    if (head < 0 || (size_t)head + len != total) { /* a short write: the parts are still ours */
        spill_discard(&stage);
        return send_gathered(iov, iovcnt, NULL, src);
    }
    if (spill_take(&stage, src->rd, len, wsio_now_ms() + 1000) != 0)
        return send_gathered(iov, iovcnt, &stage, src); /* stage holds the parts and some of src */
    ssize_t n = splice(stage.rd, NULL, STDOUT_FILENO, NULL, total, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n != (ssize_t)total) { /* cannot happen with stdout empty and as large as stage */
        LOG_WARN("a frame message went out in pieces (%zd of %zu bytes): ending the connection", n, total);
        return WSIO_GONE;
    }
    return WSIO_OK;
}

int wsio_send_json(const char *json, size_t len)
{
    struct iovec iov[2] = { { (void *)json, len }, { "\n", 1 } };
    return wsio_send(iov, text_lines ? 2 : 1);
}

int wsio_send_error(const char *msg)
{
    buf b;
    buf_init(&b);
    jsonw_error(&b, msg);
    int rc = wsio_send_json(b.data, b.len);
    buf_free(&b);
    return rc;
}

int wsio_send_too_large(size_t size)
{
    char json[96];
    int n = snprintf(json, sizeof json, "{\"error\": \"frame too large\", \"size\": %zu}", size);
    return wsio_send_json(json, (size_t)n);
}

int wsio_send_closing(const char *reason, const char *msg)
{
    buf b;
    buf_init(&b);
    buf_puts(&b, "{\"status\": \"closing\"");
    jsonw_field(&b, 0, "reason", reason, strlen(reason));
    jsonw_field(&b, 0, "message", msg, strlen(msg));
    buf_putc(&b, '}');
    int rc = wsio_send_json(b.data, b.len);
    buf_free(&b);
    return rc;
}

/* websocketd closes the connection when we exit. A socket closed with client
 * bytes still unread is reset rather than closed, and the proxy in front then
 * drops our last message with it (measured behind nginx: 14 of 100 refusals
 * lost when the client had sent a frame before reading). Quiet for
 * LINGER_QUIET_MS means the client is waiting for us; LINGER_MAX_MS bounds a
 * client that never stops sending. */
enum { LINGER_QUIET_MS = 50, LINGER_MAX_MS = 2000 };

void wsio_linger(void)
{
    static char scratch[1 << 14];
    long long end = wsio_now_ms() + LINGER_MAX_MS;
    for (long long now = wsio_now_ms(); now < end; now = wsio_now_ms()) {
        struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };
        int left = (int)(end - now);
        if (poll(&in, 1, left < LINGER_QUIET_MS ? left : LINGER_QUIET_MS) <= 0)
            return; /* quiet (or poll failed): nothing more to wait for */
        if (wsio_read(scratch, sizeof scratch) <= 0)
            return; /* the client hung up */
    }
}

/* Grows the stdin pipe towards want bytes (never shrinks it) and the read
 * buffer with it. A refusal (fs.pipe-max-size, or the user's share of
 * fs.pipe-user-pages-soft spent) keeps what the pipe has. */
static void grow_input(size_t want)
{
    if (want > input.max)
        want = input.max;
    if (input.pipe >= 0 && (size_t)input.pipe < want && !input.stuck) {
        long got = fcntl(STDIN_FILENO, F_SETPIPE_SZ, (int)(want > 0x7fffffff ? 0x7fffffff : want));
        if (got < 0) {
            input.stuck = true;
            LOG_WARN("cannot enlarge the stdin pipe from %ld to %zu bytes (fs.pipe-max-size, "
                     "fs.pipe-user-pages-soft; see deploy/): uploads over %ld bytes with neither size nor "
                     "image structure wait for a pause to end: %s", input.pipe, want, input.pipe / 2 - 4096,
                     strerror(errno));
        } else {
            input.pipe = got;
        }
    }
    size_t need = input.pipe > 0 ? (size_t)input.pipe : 65536;
    if (input.cap < need) {
        free(input.buf);
        input.buf = xmalloc(need);
        input.cap = need;
    }
}

/* The largest pipe an unprivileged process may ask for; 0 if unknown. */
static size_t pipe_max_size(void)
{
    unsigned long v = 0;
    FILE *f = fopen("/proc/sys/fs/pipe-max-size", "r");
    if (f && fscanf(f, "%lu", &v) != 1)
        v = 0;
    if (f)
        fclose(f);
    return v;
}

void wsio_input_init(size_t start_bytes, size_t max_bytes)
{
    size_t host = pipe_max_size();
    input.pipe = input.judged = fcntl(STDIN_FILENO, F_GETPIPE_SZ);
    input.max = host && host < max_bytes ? host : max_bytes;
    grow_input(start_bytes);
}

ssize_t wsio_read_input(const char **data)
{
    ssize_t n = wsio_read(input.buf, input.cap);
    *data = input.buf;
    input.last = n;
    input.last_judged = input.judged;
    input.judged = input.pipe;
    return n;
}

/* Every read takes all the pipe holds, so what a read finds was written
 * since the one before, into a pipe of the size it had then (a pipe grown
 * after a read judges only the read after next by its new size). A write is
 * atomic while it fits; websocketd writes the rest of a larger one only once
 * the pipe was full, and a full pipe is short of its size only by what the
 * writes in it left free in their last pages: less than a page each. */
bool wsio_input_ended(size_t ends)
{
    long slack = (long)(ends + 2) * 4096;
    bool ended = input.last > 0 && input.last_judged > slack && input.last < input.last_judged - slack;
    if (input.last > 0 && !ended && input.pipe > 0)
        grow_input((size_t)input.pipe * 2);   /* so the next message this large fits */
    return ended;
}

bool wsio_input_waiting(void)
{
    int queued = 0;
    return ioctl(STDIN_FILENO, FIONREAD, &queued) == 0 && queued > 0;
}

ssize_t wsio_read(void *dst, size_t cap)
{
    ssize_t n;
    do
        n = read(STDIN_FILENO, dst, cap);
    while (n < 0 && errno == EINTR);
    return n;
}
