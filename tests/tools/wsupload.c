/* wsupload: /ws/frames send-and-wait load — N connections (one thread each) each sending an
 * upload message, waiting for its JSON reply, and sending the next; round trips measured. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "buf.h"
#include "xalloc.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define MAX_CONNS 256
#define MAX_REPLY 65536
#define IO_TIMEOUT_S 10         /* a reply (or room to send) must come within this */

static const char USAGE[] =
    "usage: wsupload [options] ws://HOST:PORT/ws/frames?token=T\n"
    "  -c N        connections, one thread each (1, at most 256)\n"
    "  -d SECONDS  run time (10)\n"
    "  -b BYTES    frame bytes (100000, random, declared with \"size\")\n"
    "  -L LABEL    label (bench)        -k KEY  key; connection i uses KEY<i> (cam)\n"
    "  -H 'Name: value'  extra handshake header (e.g. Authorization: Bearer T)\n"
    "message:      {\"label\":L,\"key\":K<i>,\"width\":1280,\"height\":720,\"size\":B}--IMG--<B bytes>,\n"
    "              one masked binary WebSocket frame; the next is sent once the reply is in;\n"
    "              after an error reply the connection is replaced (stray replies may follow)\n"
    "summary:      key=value: conns requests ok errors conn_errors reconnects rate lat_p50_ms lat_p90_ms\n"
    "              lat_p99_ms lat_max_ms client_cpu_s elapsed_s (latency = send start to reply)\n"
    "exit:         0 when every message was answered ok, 1 otherwise, 2 usage/setup\n";

#define TOOL_NAME "wsupload"
#include "toolkit.h"

static struct {
    long conns, seconds, bytes;
    const char *label, *key, *hdr;
    char *host, *port, *path;
    struct sockaddr_storage addr;
    socklen_t addrlen;
} opt = { .conns = 1, .seconds = 10, .bytes = 100000, .label = "bench", .key = "cam" };

struct worker {
    pthread_t th;
    int idx, fd;
    unsigned long ok, errors, conn_errors, reconnects;
    uint32_t *lat;             /* microseconds per round trip */
    size_t n, cap;
    char err[256];
    unsigned char *in;         /* reply bytes read, not yet parsed */
    size_t in_len;
};

static unsigned char *frame;
static volatile sig_atomic_t stop;
static int64_t end_us;

static void random_bytes(unsigned char *p, size_t n)
{
    while (n) {
        ssize_t r = getrandom(p, n, 0);
        if (r > 0)
            p += r, n -= (size_t)r;
    }
}

static int fail(struct worker *w, const char *what, const char *why)
{
    snprintf(w->err, sizeof w->err, "%s: %s", what, why);
    return -1;
}

static int send_all(struct worker *w, struct iovec *v, int cnt)
{
    while (cnt > 0) {
        struct msghdr m = { .msg_iov = v, .msg_iovlen = (size_t)cnt };
        ssize_t n = sendmsg(w->fd, &m, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail(w, "send", strerror(errno));
        while (cnt > 0 && (size_t)n >= v->iov_len)
            n -= (ssize_t)v->iov_len, v++, cnt--;
        if (cnt > 0)
            v->iov_base = (char *)v->iov_base + n, v->iov_len -= (size_t)n;
    }
    return 0;
}

/* Reads more reply bytes into w->in; -1 on end or error. */
static int fill(struct worker *w)
{
    if (w->in_len == MAX_REPLY)
        return fail(w, "reply", "larger than 64 KiB");
    ssize_t n;
    do
        n = read(w->fd, w->in + w->in_len, MAX_REPLY - w->in_len);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return fail(w, "read", n ? strerror(errno) : "connection closed by server");
    w->in_len += (size_t)n;
    return 0;
}

static void consume(struct worker *w, size_t n)
{
    memmove(w->in, w->in + n, w->in_len - n);
    w->in_len -= n;
}

/* TCP connect, upgrade request, 101 with the right Sec-WebSocket-Accept. */
static int handshake(struct worker *w)
{
    unsigned char raw[16], sha[SHA_DIGEST_LENGTH];
    char key[25], keyguid[64], accept[32], line[128];
    int one = 1;
    w->fd = socket(opt.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (w->fd < 0)
        return fail(w, "socket", strerror(errno));
    struct timeval tv = { IO_TIMEOUT_S, 0 };
    setsockopt(w->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(w->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(w->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(w->fd, (struct sockaddr *)&opt.addr, opt.addrlen) < 0)
        return fail(w, "connect", strerror(errno));
    random_bytes(raw, sizeof raw);
    EVP_EncodeBlock((unsigned char *)key, raw, sizeof raw);
    snprintf(keyguid, sizeof keyguid, "%s%s", key, WS_GUID);
    SHA1((unsigned char *)keyguid, strlen(keyguid), sha);
    EVP_EncodeBlock((unsigned char *)accept, sha, sizeof sha);
    buf req;
    buf_init(&req);
    buf_printf(&req, "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s%s\r\n",
               opt.path, opt.host, opt.port, key, opt.hdr ? opt.hdr : "", opt.hdr ? "\r\n" : "");
    struct iovec v = { req.data, req.len };
    int rc = send_all(w, &v, 1);
    buf_free(&req);
    if (rc < 0)
        return -1;
    unsigned char *end;
    while (!(end = memmem(w->in, w->in_len, "\r\n\r\n", 4)))
        if (fill(w) < 0)
            return -1;
    size_t head_len = (size_t)(end - w->in) + 4;
    char *head = xstrndup((const char *)w->in, head_len);
    consume(w, head_len);
    snprintf(line, sizeof line, "Sec-WebSocket-Accept: %s\r\n", accept);
    rc = strncmp(head, "HTTP/1.1 101", 12) ? fail(w, "upgrade refused", strtok(head, "\r"))
         : !strcasestr(head, line)          ? fail(w, "upgrade", "bad Sec-WebSocket-Accept")
                                            : 0;
    free(head);
    return rc;
}

/* Reads one server message; returns its payload in place (valid until the next consume). Pings
   are answered, close ends the connection. -1 on error. */
static int read_message(struct worker *w, const unsigned char **payload, size_t *len)
{
    for (;;) {
        while (w->in_len < 2 || w->in_len < 2 + (size_t)((w->in[1] & 127) == 126 ? 2 : (w->in[1] & 127) == 127 ? 8 : 0))
            if (fill(w) < 0)
                return -1;
        size_t hl = 2;
        uint64_t n = w->in[1] & 127;
        if (n == 126)
            n = (uint64_t)w->in[2] << 8 | w->in[3], hl = 4;
        else if (n == 127)
            return fail(w, "reply", "frame longer than 64 KiB");
        if (w->in[1] & 0x80)
            return fail(w, "reply", "masked server frame");
        while (w->in_len < hl + n)
            if (fill(w) < 0)
                return -1;
        int op = w->in[0] & 15;
        if (op == 8)
            return fail(w, "server", "closed the connection");
        if (op == 9) {         /* ping: pong with the same payload, masked with key 0 */
            unsigned char pong[6 + 125] = { 0x8A, (unsigned char)(0x80 | n) };
            memcpy(pong + 6, w->in + hl, (size_t)n);
            struct iovec v = { pong, 6 + (size_t)n };
            consume(w, hl + (size_t)n);
            if (send_all(w, &v, 1) < 0)
                return -1;
            continue;
        }
        if (op == 10) {
            consume(w, hl + (size_t)n);
            continue;
        }
        if (!(w->in[0] & 0x80))
            return fail(w, "reply", "fragmented reply");
        *payload = w->in + hl;
        *len = (size_t)n;
        return (int)hl;
    }
}

/* XOR with a fresh key (RFC 6455 5.3), eight bytes at a time. */
static void mask(unsigned char *dst, const unsigned char *src, size_t n, const unsigned char key[4])
{
    uint64_t k8;
    unsigned char kk[8] = { key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3] };
    memcpy(&k8, kk, 8);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, src + i, 8);
        x ^= k8;
        memcpy(dst + i, &x, 8);
    }
    for (; i < n; i++)
        dst[i] = src[i] ^ key[i & 3];
}

static void record(struct worker *w, int64_t us)
{
    if (w->n == w->cap)
        w->lat = xrealloc(w->lat, (w->cap = w->cap ? 2 * w->cap : 8192) * sizeof *w->lat);
    w->lat[w->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* Uploads until the end of the run (0), or until an error reply (1: the server may answer the
   rest of that message separately, so the caller starts over on a new connection), or -1. */
static int upload_loop(struct worker *w)
{
    int rc = 0;
    buf msg;
    buf_init(&msg);
    buf_printf(&msg, "{\"label\": \"%s\", \"key\": \"%s%d\", \"width\": 1280, \"height\": 720, \"size\": %ld}--IMG--",
               opt.label, opt.key, w->idx, opt.bytes);
    buf_append(&msg, frame, (size_t)opt.bytes);
    unsigned char *masked = xmalloc(msg.len), hdr[14];
    size_t hl;
    hdr[0] = 0x82;                           /* FIN, binary */
    if (msg.len < 126) {
        hdr[1] = (unsigned char)(0x80 | msg.len), hl = 2;
    } else if (msg.len <= 0xffff) {
        hdr[1] = 0x80 | 126, hdr[2] = (unsigned char)(msg.len >> 8), hdr[3] = (unsigned char)msg.len, hl = 4;
    } else {
        hdr[1] = 0x80 | 127, hl = 10;
        for (int i = 0; i < 8; i++)
            hdr[2 + i] = (unsigned char)((uint64_t)msg.len >> (56 - 8 * i));
    }
    while (!stop && mono_us() < end_us) {
        int64_t t0 = mono_us();
        random_bytes(hdr + hl, 4);
        mask(masked, (const unsigned char *)msg.data, msg.len, hdr + hl);
        struct iovec v[2] = { { hdr, hl + 4 }, { masked, msg.len } };
        const unsigned char *p;
        size_t n;
        int used;
        if (send_all(w, v, 2) < 0 || (used = read_message(w, &p, &n)) < 0) {
            w->conn_errors++;
            rc = -1;
            break;
        }
        if (memmem(p, n, "\"status\": \"ok\"", 14)) {
            w->ok++;
            record(w, mono_us() - t0);
        } else {
            if (!w->errors)
                snprintf(w->err, sizeof w->err, "reply: %.*s", (int)(n > 200 ? 200 : n), (const char *)p);
            w->errors++;
            rc = 1;
            break;
        }
        consume(w, (size_t)used + n);
    }
    free(masked);
    buf_free(&msg);
    return rc;
}

static void hang_up(struct worker *w)
{
    if (w->fd < 0)
        return;
    unsigned char bye[6] = { 0x88, 0x80, 0, 0, 0, 0 };  /* close frame, masked, empty */
    send(w->fd, bye, sizeof bye, MSG_NOSIGNAL);
    close(w->fd);
    w->fd = -1;
    w->in_len = 0;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    w->in = xmalloc(MAX_REPLY);
    for (int rc = 1; rc == 1 && !stop && mono_us() < end_us;) {
        if (handshake(w) < 0) {
            w->conn_errors++;
            rc = -1;
        } else {
            rc = upload_loop(w);
        }
        hang_up(w);
        w->reconnects += rc == 1;
    }
    free(w->in);
    return NULL;
}

/* Splits ws://host[:port][/path][?query] and resolves the host once. */
static void parse_url(char *url)
{
    if (strncmp(url, "ws://", 5))
        usage("URL must start with ws:// (no TLS)");
    char *h = url + 5, *p = h + strcspn(h, "/?"), *colon;
    opt.path = xmalloc(strlen(p) + 2);
    sprintf(opt.path, "%s%s", *p == '/' ? "" : "/", p);
    *p = 0;
    opt.port = "80";
    if ((colon = strrchr(h, ':')))
        *colon = 0, opt.port = colon + 1;
    number(opt.port, "bad port in URL", 1, 65535);
    if (!*h)
        usage("no host in URL");
    opt.host = h;
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
    int e = getaddrinfo(opt.host, opt.port, &hints, &res);
    if (e) {
        fprintf(stderr, "wsupload: %s: %s\n", opt.host, gai_strerror(e));
        exit(2);
    }
    memcpy(&opt.addr, res->ai_addr, res->ai_addrlen);
    opt.addrlen = res->ai_addrlen;
    freeaddrinfo(res);
}

static void parse_args(int argc, char **argv)
{
    int c;
    while ((c = getopt(argc, argv, "c:d:b:L:k:H:")) != -1) {
        switch (c) {
        case 'c': opt.conns = number(optarg, "bad -c", 1, MAX_CONNS); break;
        case 'd': opt.seconds = number(optarg, "bad -d", 1, 86400); break;
        case 'b': opt.bytes = number(optarg, "bad -b", 1, 64L << 20); break;
        case 'L': opt.label = optarg; break;
        case 'k': opt.key = optarg; break;
        case 'H':
            if (!strchr(optarg, ':') || strpbrk(optarg, "\r\n"))
                usage("bad -H header");
            opt.hdr = optarg;
            break;
        default: usage("bad option");
        }
    }
    if (optind != argc - 1)
        usage("exactly one ws:// URL expected");
    if (strpbrk(opt.label, "\"\\") || strpbrk(opt.key, "\"\\"))
        usage("-L and -k must not contain quotes or backslashes");
    parse_url(argv[optind]);
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    frame = xmalloc((size_t)opt.bytes);
    random_bytes(frame, (size_t)opt.bytes);
    struct worker *w = xcalloc((size_t)opt.conns, sizeof *w);
    int64_t t0 = mono_us();
    end_us = t0 + opt.seconds * 1000000;
    for (long i = 0; i < opt.conns; i++) {
        w[i].idx = (int)i, w[i].fd = -1;
        if (pthread_create(&w[i].th, NULL, work, &w[i]) != 0) {
            fprintf(stderr, "wsupload: pthread_create failed\n");
            return 2;
        }
    }
    unsigned long ok = 0, errors = 0, conn_errors = 0, reconnects = 0;
    size_t n = 0;
    for (long i = 0; i < opt.conns; i++) {
        pthread_join(w[i].th, NULL);
        ok += w[i].ok, errors += w[i].errors, conn_errors += w[i].conn_errors, n += w[i].n;
        reconnects += w[i].reconnects;
        if (w[i].err[0])
            fprintf(stderr, "wsupload: connection %ld: %s\n", i, w[i].err);
    }
    double elapsed = (double)(mono_us() - t0) / 1e6;
    uint32_t *all = xmalloc((n ? n : 1) * sizeof *all);
    size_t k = 0;
    for (long i = 0; i < opt.conns; i++) {
        memcpy(all + k, w[i].lat, w[i].n * sizeof *all);
        k += w[i].n;
        free(w[i].lat);
    }
    qsort(all, n, sizeof *all, cmp_u32);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    printf("conns=%ld requests=%lu ok=%lu errors=%lu conn_errors=%lu reconnects=%lu rate=%.1f lat_p50_ms=%.3f "
           "lat_p90_ms=%.3f lat_p99_ms=%.3f lat_max_ms=%.3f client_cpu_s=%.2f elapsed_s=%.2f\n",
           opt.conns, ok + errors, ok, errors, conn_errors, reconnects, (double)ok / elapsed, pct_ms(all, n, 50),
           pct_ms(all, n, 90), pct_ms(all, n, 99), pct_ms(all, n, 100), cpu, elapsed);
    free(all);
    free(w);
    free(frame);
    return errors || conn_errors ? 1 : 0;
}
