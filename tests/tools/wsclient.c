/* wsclient: strict RFC 6455 WebSocket client, the integration tests' witness of what arrives. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#define HEADROOM 14                 /* biggest client frame header: 2 + 8 length + 4 mask */
#define MAX_MESSAGE (256u << 20)    /* reassembly cap; the tests need 64 MiB */
#define FOREVER INT64_MAX           /* as `until`: only the -T deadline applies */
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

enum { EX_OK, EX_USAGE, EX_CONNECT, EX_TIMEOUT, EX_NOCLOSE, EX_PROTOCOL, EX_EARLY };
enum { OP_CONT, OP_TEXT, OP_BIN, OP_CLOSE = 8, OP_PING, OP_PONG };

static const char USAGE[] =
    "usage: wsclient [-H 'Name: value']... [-T ms] [-o dir] [-q] [-t] [-P] ws://host[:port][/path]\n"
    "actions: text:STRING textfile:PATH bin:PATH binfiles:DIR recv:N recvall sendwait:DIR\n"
    "         sleep:MS idle:MS waitfor:PATH expectclose:MS close\n"
    "         (DIR: regular files, no dot files, name order; sleep: reads nothing; idle: receives,\n"
    "         answering pings, for MS, closed or not; waitfor: until PATH exists)\n"
    "output:  [usec ]TEXT <len> <payload> | [usec ]BINARY <len> <sha256> <header|payload|->[ IMG <len>\n"
    "         <sha256>] | CLOSED <code>[ <reason>]; at exit SUMMARY received= text= binary= bytes=\n"
    "         refused upgrade: HANDSHAKE <code> <status line>, HEADER <name>: <value> per header,\n"
    "         BODY <len> <body> (Content-Length bytes; unprintable bytes as ?)\n"
    "-P:      never answer a ping (a peer that is gone but sent no FIN)\n"
    "exit:    0 ok, 1 usage/local file, 2 CONNECT/HANDSHAKE, 3 TIMEOUT, 4 NOCLOSE, 5 PROTOCOL,\n"
    "         6 INCOMPLETE (server closed during recv:N/sendwait) or SEND (write failed)\n";

static struct {
    int fd, quiet, stamp, no_pong;
    int64_t deadline;               /* CLOCK_MONOTONIC ms */
    const char *outdir;
    int rd_eof, closed;             /* nothing more will come in; connection over, fd closed */
    int close_sent, server_closed;
    int send_err;                   /* errno of a failed write, judged at the end */
    unsigned long received, text, binary;
    unsigned long long bytes;
} g = { .fd = -1 };

static struct { unsigned char *p; size_t off, len, cap; } rb;      /* bytes read, not parsed */
static struct { unsigned char *p; size_t len, cap; int op; } msg;  /* fragments so far */
struct frame { int fin, op; size_t len; const unsigned char *data; };

static _Noreturn void finish(int code)
{
    printf("SUMMARY received=%lu text=%lu binary=%lu bytes=%llu\n",
           g.received, g.text, g.binary, g.bytes);
    exit(code);
}

static _Noreturn __attribute__((format(printf, 2, 3))) void fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    finish(code);
}

static _Noreturn void usage(const char *why)
{
    fprintf(stderr, "wsclient: %s\n%s", why, USAGE);
    exit(EX_USAGE);
}

static void *xrealloc(void *p, size_t n)
{
    if (!(p = realloc(p, n ? n : 1))) fail(EX_USAGE, "NOMEM %zu bytes", n);
    return p;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Only ever asked for <= 256 bytes, which getrandom() returns whole and uninterrupted. */
static void random_bytes(unsigned char *p, size_t n)
{
    if (getrandom(p, n, 0) != (ssize_t)n) fail(EX_USAGE, "RANDOM %s", strerror(errno));
}

static long number(const char *s, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < 0) usage(what);
    return v;
}

/* Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing above U+10FFFF. */
static int utf8_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint32_t c = s[i], more, min;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xc2 && c <= 0xdf) more = 1, min = 0x80, c &= 0x1f;
        else if ((c & 0xf0) == 0xe0) more = 2, min = 0x800, c &= 0x0f;
        else if (c >= 0xf0 && c <= 0xf4) more = 3, min = 0x10000, c &= 0x07;
        else return 0;
        if (n - i <= more) return 0;
        for (uint32_t k = 1; k <= more; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            c = c << 6 | (s[i + k] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
        i += more + 1;
    }
    return 1;
}

/* Polls until `until`, but the -T deadline always wins. Returns revents, 0 once `until` passed. */
static int wait_fd(short events, int64_t until)
{
    for (;;) {
        int64_t now = now_ms(), end = until < g.deadline ? until : g.deadline;
        if (now >= end) {
            if (until > g.deadline) fail(EX_TIMEOUT, "TIMEOUT");
            return 0;
        }
        struct pollfd p = { .fd = g.fd, .events = events };
        int r = poll(&p, 1, end - now > INT_MAX ? INT_MAX : (int)(end - now));
        if (r > 0) return p.revents;
        if (r < 0 && errno != EINTR) fail(EX_CONNECT, "CONNECT poll: %s", strerror(errno));
    }
}

/* Makes room for n more bytes after rb.len, dropping already parsed bytes first. */
static void rb_reserve(size_t n)
{
    if (rb.off && rb.cap - rb.len < n) {
        memmove(rb.p, rb.p + rb.off, rb.len - rb.off);
        rb.len -= rb.off, rb.off = 0;
    }
    if (rb.cap - rb.len < n) {
        rb.cap = rb.len + n > 2 * rb.cap ? rb.len + n : 2 * rb.cap;
        rb.p = xrealloc(rb.p, rb.cap);
    }
}

/* One non-blocking read into rb: 1 data, 0 EOF or reset (sets rd_eof), -1 nothing yet. */
static int read_avail(void)
{
    rb_reserve(1 << 16);
    ssize_t n = read(g.fd, rb.p + rb.len, rb.cap - rb.len);
    if (n > 0) { rb.len += (size_t)n; return 1; }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return -1;
    g.rd_eof = 1;
    return 0;
}

/* Ensures n unparsed bytes are buffered: 1 ok, 0 EOF came first, -1 `until` passed first. */
static int need(size_t n, int64_t until)
{
    while (rb.len - rb.off < n) {
        if (g.rd_eof) return 0;
        rb_reserve(n - (rb.len - rb.off));
        if (!wait_fd(POLLIN, until)) return -1;
        if (read_avail() == 0) return 0;
    }
    return 1;
}

/* Writes everything; incoming data is buffered meanwhile, so a server writing to us while we
   send a big frame cannot deadlock both sides. Returns 0 or the errno, kept in send_err. */
static int write_all(const unsigned char *p, size_t n)
{
    if (g.closed) return ENOTCONN;
    if (g.send_err) return g.send_err;
    while (n) {
        int ev = wait_fd(POLLOUT | (g.rd_eof ? 0 : POLLIN), FOREVER);
        if ((ev & POLLIN) && !g.rd_eof) read_avail();
        if (!(ev & (POLLOUT | POLLERR | POLLHUP))) continue;
        ssize_t w = send(g.fd, p, n, MSG_NOSIGNAL);
        if (w > 0) p += w, n -= (size_t)w;
        else if (errno != EAGAIN && errno != EINTR) return g.send_err = errno;
    }
    return 0;
}

/* Sends buf[HEADROOM..HEADROOM+n) as one frame: the header goes into the headroom and the
   payload is masked in place (buf is spent). Fresh mask key per frame, per RFC 6455 5.3. */
static int send_frame(int op, unsigned char *buf, size_t n)
{
    unsigned char h[HEADROOM], *p = buf + HEADROOM;
    size_t hl = 2;
    h[0] = (unsigned char)(0x80 | op);
    if (n < 126) {
        h[1] = (unsigned char)(0x80 | n);
    } else if (n <= 0xffff) {
        h[1] = 0x80 | 126, h[2] = (unsigned char)(n >> 8), h[3] = (unsigned char)n, hl = 4;
    } else {
        h[1] = 0x80 | 127, hl = 10;
        for (int i = 0; i < 8; i++) h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
    }
    random_bytes(h + hl, 4);
    for (size_t i = 0; i < n; i++) p[i] ^= h[hl + (i & 3)];
    hl += 4;
    memcpy(p - hl, h, hl);
    return write_all(p - hl, hl + n);
}

static void end_connection(void)
{
    if (!g.closed) close(g.fd);
    g.closed = g.rd_eof = 1;
}

static char *sha_hex(const unsigned char *p, size_t n, char hex[65])
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(p, n, d);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) sprintf(hex + 2 * i, "%02x", d[i]);
    return hex;
}

/* The JSON header is printed only if it cannot break the one-line-per-message output. */
static int printable(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] == 0x7f) return 0;
    return utf8_ok(p, n);
}

static void print_binary(const unsigned char *p, size_t n)
{
    char hex[65];
    const unsigned char *d = memmem(p, n, "--IMG--", 7);
    size_t pre = d ? (size_t)(d - p) : 0;
    printf("BINARY %zu %s ", n, sha_hex(p, n, hex));
    if (d && pre && pre + 7 <= 65536 && printable(p, pre)) fwrite(p, 1, pre, stdout);
    else if (!d && n && n <= 65536 && printable(p, n)) fwrite(p, 1, n, stdout); /* a JSON control message */
    else putchar('-');
    if (d) printf(" IMG %zu %s", n - pre - 7, sha_hex(d + 7, n - pre - 7, hex));
    putchar('\n');
}

static void save(const unsigned char *p, size_t n)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%06lu.bin", g.outdir, g.received);
    FILE *f = fopen(path, "wb");
    if (!f) fail(EX_USAGE, "SAVE %s: %s", path, strerror(errno));
    if (fwrite(p, 1, n, f) != n || fclose(f)) fail(EX_USAGE, "SAVE %s: write failed", path);
}

/* A complete data message arrived: validate, count, save, print. */
static void deliver(int op, const unsigned char *p, size_t n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);     /* before hashing, which takes a while on 64 MiB */
    if (op == OP_TEXT && !utf8_ok(p, n)) fail(EX_PROTOCOL, "PROTOCOL invalid UTF-8 in text");
    g.received++, g.bytes += n;
    op == OP_TEXT ? g.text++ : g.binary++;
    if (g.outdir) save(p, n);
    if (g.quiet) return;
    if (g.stamp) printf("%lld ", (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
    if (op == OP_BIN) {
        print_binary(p, n);
    } else {
        printf("TEXT %zu ", n);
        fwrite(p, 1, n, stdout);        /* raw, even a NUL: the payload is the evidence */
        putchar('\n');
    }
}

/* Reads one whole frame, checking all RFC 6455 5.2 demands of a server. 1 ok (f->data points
   into rb, valid until rb is next touched), 0 EOF, -1 `until` passed. */
static int read_frame(struct frame *f, int64_t until)
{
    int r = need(2, until);
    if (r <= 0) return r;
    const unsigned char *h = rb.p + rb.off;
    uint64_t len = h[1] & 127;
    size_t hl = len == 126 ? 4 : len == 127 ? 10 : 2;
    f->fin = h[0] >> 7, f->op = h[0] & 15;
    if (h[0] & 0x70) fail(EX_PROTOCOL, "PROTOCOL reserved bits set (byte 0x%02x)", h[0]);
    if (h[1] & 0x80) fail(EX_PROTOCOL, "PROTOCOL masked server frame");
    if ((f->op > 2 && f->op < 8) || f->op > 10)
        fail(EX_PROTOCOL, "PROTOCOL reserved opcode %d", f->op);
    if ((r = need(hl, until)) <= 0) return r;
    h = rb.p + rb.off;
    if (hl > 2) {
        len = 0;
        for (size_t i = 2; i < hl; i++) len = len << 8 | h[i];
        if (len >> 63) fail(EX_PROTOCOL, "PROTOCOL 64-bit length with the high bit set");
        if (len < 126 || (hl == 10 && len <= 0xffff))
            fail(EX_PROTOCOL, "PROTOCOL non-minimal length encoding");
    }
    if (f->op >= 8 && (!f->fin || len > 125))
        fail(EX_PROTOCOL, "PROTOCOL fragmented or oversized control frame");
    if (len > MAX_MESSAGE) fail(EX_PROTOCOL, "PROTOCOL frame of %llu bytes", (unsigned long long)len);
    if ((r = need(hl + len, until)) <= 0) return r;
    f->data = rb.p + rb.off + hl, f->len = len;
    rb.off += hl + len;
    return 1;
}

/* Handles a control frame; returns 1 if it was the server's close. */
static int control(const struct frame *f)
{
    unsigned char b[HEADROOM + 125], *p = b + HEADROOM;  /* a copy: sending may move rb */
    size_t n = f->len;
    if (f->op == OP_PONG) return 0;
    memcpy(p, f->data, n);
    if (f->op == OP_PING) {
        if (!g.no_pong) send_frame(OP_PONG, b, n);  /* best effort: a failure is kept in send_err */
        return 0;
    }
    int code = n >= 2 ? p[0] << 8 | p[1] : 1005;
    if (n == 1) fail(EX_PROTOCOL, "PROTOCOL close frame with a 1-byte payload");
    if (n >= 2 && !((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
                    (code >= 3000 && code <= 4999)))
        fail(EX_PROTOCOL, "PROTOCOL invalid close code %d", code);
    if (n > 2 && !utf8_ok(p + 2, n - 2)) fail(EX_PROTOCOL, "PROTOCOL invalid UTF-8 in close reason");
    printf("CLOSED %d%s%.*s\n", code, n > 2 ? " " : "", (int)(n > 2 ? n - 2 : 0), (char *)p + 2);
    g.server_closed = 1;
    if (!g.close_sent) {                /* echo the code, as RFC 6455 5.5.1 asks */
        g.close_sent = 1;
        send_frame(OP_CLOSE, b, n >= 2 ? 2 : 0);
    }
    end_connection();
    return 1;
}

/* Receives until a data message is complete (1), the connection ends (0) or `until` passes (-1).
   Control frames may come between the fragments of a message. */
static int next_message(int64_t until)
{
    struct frame f;
    for (;;) {
        if (g.closed) return 0;
        int r = read_frame(&f, until);
        if (r == 0) {
            printf("CLOSED 1006\n");
            end_connection();
        }
        if (r <= 0) return r;
        if (f.op >= 8) {
            if (control(&f)) return 0;
            continue;
        }
        if (f.op == OP_CONT ? !msg.op : msg.op != 0)
            fail(EX_PROTOCOL, "PROTOCOL %s", f.op ? "new message inside a fragmented one"
                                                  : "continuation frame without a message");
        if (f.op != OP_CONT && f.fin) {  /* unfragmented: deliver straight from rb, no copy */
            deliver(f.op, f.data, f.len);
            return 1;
        }
        if (f.op != OP_CONT) msg.op = f.op, msg.len = 0;
        if (msg.len + f.len > MAX_MESSAGE) fail(EX_PROTOCOL, "PROTOCOL message too big");
        if (msg.cap <= msg.len + f.len) msg.p = xrealloc(msg.p, msg.cap = 2 * (msg.len + f.len));
        memcpy(msg.p + msg.len, f.data, f.len);
        msg.len += f.len;
        if (f.fin) {
            deliver(msg.op, msg.p, msg.len);
            msg.op = 0;
            return 1;
        }
    }
}

static void send_message(int op, unsigned char *buf, size_t n)
{
    if (g.closed) fail(EX_EARLY, "SEND connection already closed");
    if (g.send_err) fail(EX_EARLY, "SEND %s", strerror(g.send_err));
    send_frame(op, buf, n);             /* a failure is judged at the end, see main() */
    free(buf);
}

/* Sends a whole file as one message, read into a buffer with HEADROOM free bytes in front. */
static void send_file(int op, const char *path)
{
    struct stat st;
    int fd = open(path, O_RDONLY);
    if (fd < 0 || fstat(fd, &st) < 0) fail(EX_USAGE, "FILE %s: %s", path, strerror(errno));
    unsigned char *b = xrealloc(NULL, HEADROOM + (size_t)st.st_size);
    size_t got = 0;
    ssize_t r = 1;
    while (got < (size_t)st.st_size && (r = read(fd, b + HEADROOM + got, (size_t)st.st_size - got)) > 0)
        got += (size_t)r;
    if (r < 0) fail(EX_USAGE, "FILE %s: %s", path, strerror(errno));
    close(fd);
    send_message(op, b, got);
}

static void recv_count(long n, const char *action)
{
    for (long i = 0; i < n; i++)
        if (next_message(FOREVER) == 0) fail(EX_EARLY, "INCOMPLETE %s got %ld", action, i);
}

/* Sends each regular file of dir in name order (alphasort is strcmp: we never set a locale);
   with `wait`, receives one message after each. Dot files (.gitkeep) are skipped. */
static void send_dir(const char *dir, int wait)
{
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, alphasort);
    if (n < 0) fail(EX_USAGE, "FILE %s: %s", dir, strerror(errno));
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, ents[i]->d_name);
        int skip = ents[i]->d_name[0] == '.' || stat(path, &st) < 0 || !S_ISREG(st.st_mode);
        free(ents[i]);
        if (skip) continue;
        send_file(OP_BIN, path);
        if (wait) recv_count(1, "sendwait");
    }
    free(ents);
}

static void sleep_ms(long ms)
{
    int64_t until = now_ms() + ms, end = until < g.deadline ? until : g.deadline;
    struct timespec ts = { .tv_sec = end / 1000, .tv_nsec = end % 1000 * 1000000 };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
    if (until > g.deadline) fail(EX_TIMEOUT, "TIMEOUT");
}

/* Until the test script creates path (a state it waited for), within -T; what the server
   sends meanwhile waits in the socket. */
static void wait_for_file(const char *path)
{
    struct stat st;
    while (stat(path, &st) != 0) sleep_ms(20);
}

static void idle(long ms)
{
    int64_t until = now_ms() + ms;
    while (next_message(until) == 1) {}
}

static void expect_close(long ms)
{
    int64_t until = now_ms() + ms;
    int r;
    while ((r = next_message(until)) == 1) {}
    if (r < 0) fail(EX_NOCLOSE, "NOCLOSE after %ld ms", ms);
}

/* Our close (1000), then a short wait for the reply; messages still in flight are reported. */
static void close_action(void)
{
    unsigned char b[HEADROOM + 2] = { [HEADROOM] = 1000 >> 8, [HEADROOM + 1] = 1000 & 255 };
    if (g.closed) return;
    g.close_sent = 1;
    if (send_frame(OP_CLOSE, b, 2) == 0) {
        int64_t until = now_ms() + 2000;
        while (next_message(until < g.deadline ? until : g.deadline) == 1) {}
    }
    end_connection();
}

static const char *const ACTIONS[] = { "text:", "textfile:", "bin:", "binfiles:", "recv:",
    "recvall", "sendwait:", "sleep:", "idle:", "waitfor:", "expectclose:", "close" };
enum { A_TEXT, A_TEXTFILE, A_BIN, A_BINFILES, A_RECV, A_RECVALL, A_SENDWAIT, A_SLEEP, A_IDLE, A_WAITFOR,
       A_EXPECT, A_CLOSE, A_COUNT };

/* Finds the action and its argument; exits on a bad one, so typos fail before connecting. */
static int action_kind(const char *a, const char **arg)
{
    for (int k = 0; k < A_COUNT; k++) {
        size_t n = strlen(ACTIONS[k]);
        if (ACTIONS[k][n - 1] == ':' ? strncmp(a, ACTIONS[k], n) : strcmp(a, ACTIONS[k])) continue;
        *arg = a + n;
        if (k == A_RECV || k == A_SLEEP || k == A_IDLE || k == A_EXPECT) number(*arg, "bad number in action");
        return k;
    }
    usage("unknown action");
}

static void run_action(const char *a)
{
    const char *arg;
    size_t n;
    switch (action_kind(a, &arg)) {
    case A_TEXT: {
        unsigned char *b = xrealloc(NULL, HEADROOM + (n = strlen(arg)));
        memcpy(b + HEADROOM, arg, n);
        send_message(OP_TEXT, b, n);
        break;
    }
    case A_TEXTFILE: send_file(OP_TEXT, arg); break;
    case A_BIN: send_file(OP_BIN, arg); break;
    case A_BINFILES: send_dir(arg, 0); break;
    case A_RECV: recv_count(number(arg, ""), a); break;
    case A_RECVALL: while (next_message(FOREVER) == 1) {} break;
    case A_SENDWAIT: send_dir(arg, 1); break;
    case A_SLEEP: sleep_ms(number(arg, "")); break;
    case A_WAITFOR: wait_for_file(arg); break;
    case A_IDLE: idle(number(arg, "")); break;
    case A_EXPECT: expect_close(number(arg, "")); break;
    case A_CLOSE: close_action(); break;
    }
}

static void connect_to(const char *host, const char *port)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res, *ai;
    int e = getaddrinfo(host, port, &hints, &res), err = 0, one = 1;
    if (e) fail(EX_CONNECT, "CONNECT %s", gai_strerror(e));
    for (ai = res; ai; ai = ai->ai_next) {
        if ((g.fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) < 0) continue;
        fcntl(g.fd, F_SETFL, O_NONBLOCK);  /* poll() decides when to read or write */
        if (connect(g.fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        socklen_t sl = sizeof err;
        err = errno;
        if (err == EINPROGRESS && wait_fd(POLLOUT, FOREVER) &&
            getsockopt(g.fd, SOL_SOCKET, SO_ERROR, &err, &sl) == 0 && err == 0)
            break;
        close(g.fd);
    }
    freeaddrinfo(res);
    if (!ai) fail(EX_CONNECT, "CONNECT %s", strerror(err ? err : errno));
    setsockopt(g.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  /* no delay on small frames */
}

static _Noreturn void bad_handshake(int code, const char *line)
{
    printf("HANDSHAKE %d ", code);
    for (; *line && *line != '\r'; line++) putchar(*line >= 0x20 && *line < 0x7f ? *line : '?');
    putchar('\n');
    finish(EX_CONNECT);
}

static void print_line(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) putchar((unsigned char)p[i] >= 0x20 && p[i] != 0x7f ? p[i] : '?');
    putchar('\n');
}

static int header(const char *head, const char *name, char *val, size_t cap);

/* A refused upgrade: status line, then every header and the body, which say why. */
static _Noreturn void refused(int code, const char *head)
{
    char val[32];
    const char *l = strstr(head, "\r\n");
    printf("HANDSHAKE %d ", code);
    print_line(head, l ? (size_t)(l - head) : strlen(head));
    for (; l && l[2]; l = strstr(l + 2, "\r\n")) {
        const char *e = strstr(l + 2, "\r\n");
        if (!e || e == l + 2) break;
        fputs("HEADER ", stdout);
        print_line(l + 2, (size_t)(e - l - 2));
    }
    long len = header(head, "Content-Length", val, sizeof val) ? strtol(val, NULL, 10) : 0;
    if (len < 0 || len > 65536) len = 0;
    if (len && need((size_t)len, FOREVER) == 1) {
        printf("BODY %ld ", len);
        print_line((const char *)rb.p + rb.off, (size_t)len);
    }
    finish(EX_CONNECT);
}

/* Copies the value of header `name` of a NUL-terminated response head into val; 0 if absent. */
static int header(const char *head, const char *name, char *val, size_t cap)
{
    size_t n = strlen(name);
    for (const char *l = strstr(head, "\r\n"); l; l = strstr(l, "\r\n")) {
        l += 2;
        if (strncasecmp(l, name, n) || l[n] != ':') continue;
        l += n + 1 + strspn(l + n + 1, " \t");
        size_t len = strcspn(l, "\r");
        while (len && (l[len - 1] == ' ' || l[len - 1] == '\t')) len--;
        snprintf(val, cap, "%.*s", (int)len, l);
        return 1;
    }
    return 0;
}

/* Reads the response head; bytes after it are already frames and stay in rb. */
static char *read_head(void)
{
    const unsigned char *end;
    rb_reserve(1 << 16);                /* so rb.p is not NULL for memmem */
    while (!(end = memmem(rb.p + rb.off, rb.len - rb.off, "\r\n\r\n", 4))) {
        if (rb.len - rb.off > 65536) bad_handshake(0, "response head too large");
        if (need(rb.len - rb.off + 1, FOREVER) == 0)
            bad_handshake(0, "connection closed before a complete response head");
    }
    size_t n = (size_t)(end - (rb.p + rb.off)) + 2;
    char *head = xrealloc(NULL, n + 1);
    memcpy(head, rb.p + rb.off, n);
    head[n] = 0;
    rb.off += n + 2;
    return head;
}

static void handshake(const char *host, const char *port, const char *path, char **hdrs, int nh)
{
    unsigned char raw[16], sha[SHA_DIGEST_LENGTH];
    char key[25], want[29], keyguid[64], val[256], *req, *head;
    size_t len;
    int code = 0, own_host = 0, dflt = !strcmp(port, "80");
    random_bytes(raw, sizeof raw);
    EVP_EncodeBlock((unsigned char *)key, raw, sizeof raw);
    snprintf(keyguid, sizeof keyguid, "%s%s", key, WS_GUID);
    SHA1((unsigned char *)keyguid, strlen(keyguid), sha);
    EVP_EncodeBlock((unsigned char *)want, sha, sizeof sha);

    FILE *f = open_memstream(&req, &len);
    fprintf(f, "GET %s HTTP/1.1\r\n", path);
    for (int i = 0; i < nh; i++) own_host |= !strncasecmp(hdrs[i], "Host:", 5);
    if (!own_host) fprintf(f, "Host: %s%s%s\r\n", host, dflt ? "" : ":", dflt ? "" : port);
    fprintf(f, "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\n", key);
    for (int i = 0; i < nh; i++) fprintf(f, "%s\r\n", hdrs[i]);
    fputs("\r\n", f);
    fclose(f);
    int err = write_all((unsigned char *)req, len);
    free(req);
    if (err) fail(EX_CONNECT, "CONNECT %s", strerror(err));

    head = read_head();
    sscanf(head, "HTTP/1.%*1[01] %3d", &code);
    if (code != 101) refused(code, head);
    if (!header(head, "Upgrade", val, sizeof val) || strcasecmp(val, "websocket"))
        bad_handshake(101, "missing Upgrade: websocket");
    if (!header(head, "Connection", val, sizeof val) || !strcasestr(val, "upgrade"))
        bad_handshake(101, "missing Connection: Upgrade");
    if (!header(head, "Sec-WebSocket-Accept", val, sizeof val) || strcmp(val, want))
        bad_handshake(101, "bad Sec-WebSocket-Accept");
    if (header(head, "Sec-WebSocket-Extensions", val, sizeof val))
        bad_handshake(101, "unrequested Sec-WebSocket-Extensions");  /* e.g. deflate: RSV1 */
    free(head);
}

/* Splits ws://host[:port][/path][?query] in place; the path is kept byte for byte. */
static void parse_url(char *url, char **host, char **port, char **path)
{
    if (strncmp(url, "ws://", 5)) usage("URL must start with ws:// (no TLS)");
    char *h = url + 5, *p = h + strcspn(h, "/?"), *colon;
    *path = xrealloc(NULL, strlen(p) + 2);
    sprintf(*path, "%s%s", *p == '/' ? "" : "/", p);
    *p = 0;
    *port = "80";
    if ((colon = strrchr(h, ':'))) {
        *colon = 0, *port = colon + 1;
        long v = number(*port, "bad port in URL");
        if (v < 1 || v > 65535) usage("bad port in URL");
    }
    if (!*h) usage("no host in URL");
    *host = h;
}

int main(int argc, char **argv)
{
    char **hdrs = xrealloc(NULL, sizeof *hdrs * (size_t)argc), *host, *port, *path;
    const char *arg;
    int nh = 0, c;
    long timeout = 10000;
    setvbuf(stdout, NULL, _IOLBF, 0);   /* scripts may watch lines while we run */
    while ((c = getopt(argc, argv, "+H:T:o:qtP")) != -1) {
        switch (c) {
        case 'H':
            if (!strchr(optarg, ':') || strpbrk(optarg, "\r\n")) usage("bad -H header");
            hdrs[nh++] = optarg;
            break;
        case 'T': timeout = number(optarg, "bad -T"); break;
        case 'o': g.outdir = optarg; break;
        case 'q': g.quiet = 1; break;
        case 't': g.stamp = 1; break;
        case 'P': g.no_pong = 1; break;
        default: usage("bad option");
        }
    }
    if (optind >= argc) usage("no URL");
    for (int i = optind + 1; i < argc; i++) action_kind(argv[i], &arg);
    g.deadline = now_ms() + timeout;
    parse_url(argv[optind], &host, &port, &path);
    connect_to(host, port);
    handshake(host, port, path, hdrs, nh);
    free(path);
    free(hdrs);
    for (int i = optind + 1; i < argc; i++) run_action(argv[i]);
    /* A failed write is fine only if the server's close, which explains it, was seen. */
    if (g.send_err && !g.server_closed) fail(EX_EARLY, "SEND %s", strerror(g.send_err));
    finish(EX_OK);
}
