/* wsload: one epoll loop driving many /ws/labels viewers (plus optional Redis producers), checking every frame. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "buf.h"
#include "codec.h"
#include "redisurl.h"
#include "xalloc.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define MAX_MESSAGE (16u << 20)     /* largest frame and largest reassembled message */
#define HANDSHAKE_MS 10000          /* connect + upgrade must finish within this */
#define STAMP_LEN 20                /* seq (8) + CLOCK_REALTIME usec (8) + stream index (4) */
#define MIN_FRAME (STAMP_LEN + SHA256_DIGEST_LENGTH)
#define MAX_STREAMS 64              /* cam0 .. cam63 */
#define CACHE_SLOTS 64              /* verified frames kept for memcmp instead of re-hashing */
#define TIMER_TAG UINT64_MAX        /* epoll tags of the producer's timerfd and Redis socket */
#define REDIS_TAG (UINT64_MAX - 1)
#define RING 64                     /* XADDs awaiting a reply, at most */
#define NOTES 5
#define SILENT_MS 3000

enum { OP_CONT, OP_TEXT, OP_BIN, OP_CLOSE = 8, OP_PING, OP_PONG };
enum { ST_IDLE, ST_CONNECTING, ST_HEAD, ST_OPEN, ST_DONE };

static const char USAGE[] =
    "usage: wsload [options] ws://HOST:PORT/ws/labels/LABEL?token=T\n"
    "  -n N        viewers (10, at most 2000)      -r RATE  connects per second (200)\n"
    "  -d SECONDS  run time after all viewers connected (10)\n"
    "  -H 'Name: value'  extra handshake header (repeatable)\n"
    "  -x N        the first N viewers stall: connect, then never read\n"
    "  -P redis://HOST:PORT  produce frames: -s STREAMS (1) -f FPS per stream (10, 0 = only the\n"
    "              first frame) -b BYTES per frame (100000) -L LABEL (required: the URL's label)\n"
    "  -C          churn: a viewer closes after its first message and a new one connects in its\n"
    "              place at once (-n such loops in parallel, for -d seconds); adds cycles,\n"
    "              cycle_rate (first messages per second) and conn_first_* (connect to first msg)\n"
    "  -l MS       with -C: a viewer stays MS after its first message, then closes (0)\n"
    "  -j          print the summary as one JSON object\n"
    "frame bytes:  seq (8, BE) | XADD time usec (8, BE) | stream index (4, BE) | random | SHA-256\n"
    "summary:      msgs/bytes/latency count live frames; the first frame per viewer and stream\n"
    "              (the one sent on connect) counts as initial instead; silent = viewers still\n"
    "              open that got nothing in the last 3 s (with -f 0 or no -P: nothing at all);\n"
    "              first_* = time from upgrade to a viewer's first message\n"
    "signals:      SIGUSR1 starts a window: the live-frame figures so far (msgs, bytes, latency,\n"
    "              skipped, dup, reorder, corrupt, errors) are forgotten; SIGINT/SIGTERM end the\n"
    "              run early, with the summary\n"
    "exit:         0 no integrity error, 1 corrupt/dup/reorder/protocol error seen, 2 usage/setup\n";

#define TOOL_NAME "wsload"
#include "toolkit.h"

static struct {
    long viewers, rate, seconds, stalled, streams, fps, bytes, linger;
    int json, nh, churn;
    char **hdrs;
    const char *redis, *label;
    char *host, *port, *path;
    struct sockaddr_storage addr;
    socklen_t addrlen;
} opt = { .viewers = 10, .rate = 200, .seconds = 10, .streams = 1, .fps = 10, .bytes = 100000 };

struct samples { uint32_t *v; size_t n, cap; };     /* microseconds */

static struct {
    unsigned long connected, refused, connect_fail, closed, errors, corrupt, dup, reorder, proto;
    unsigned long msgs_all, initial, produced, produce_fail, produce_missed, by_status[600];
    uint64_t xadd_max_us;
    unsigned long long bytes_all, initial_bytes, skipped, cycles;
    struct samples lat, first;      /* frame latency; time from upgrade to first message */
    struct samples conn_first;      /* -C: time from connect() to first message */
} st;

struct rbuf { unsigned char *p; size_t off, len, cap; };

struct conn {
    int id, fd, state, stalled, recycle;
    uint32_t events;                /* what epoll watches for this fd now */
    int64_t deadline;               /* CLOCK_MONOTONIC ms by which the upgrade must be done */
    int64_t last;                   /* CLOCK_MONOTONIC ms of the last message, 0 = none yet */
    int64_t leave_at;               /* -C -l: CLOCK_MONOTONIC ms at which it closes, 0 = none */
    uint64_t opened;                /* CLOCK_MONOTONIC us of the upgrade */
    uint64_t started;               /* CLOCK_MONOTONIC us of connect() */
    char accept[32];                /* the Sec-WebSocket-Accept we expect */
    struct rbuf in;                 /* bytes read, not yet parsed */
    struct { unsigned char *p; size_t len, cap; int op; } msg;   /* fragments so far */
    buf out;                        /* bytes to send (request, pongs, close) */
    uint64_t next[MAX_STREAMS];     /* per stream index: last seq + 1, 0 = none yet */
};

static struct conn *conns;
static int ep = -1, pending, open_now;
static int64_t churn_until;         /* -C: no new connection after this (CLOCK_MONOTONIC ms) */
static volatile sig_atomic_t stop, window_start;
static struct json_tokener *tok;

struct notes { int n; char *seen[NOTES]; };
static struct notes err_notes, fail_notes, bad_notes;

static struct {
    redisAsyncContext *ac;          /* NULL while disconnected */
    redis_url url;
    int fd, tfd, watched;
    uint32_t events;                /* what epoll watches on fd */
    long turn;                      /* next stream to produce for */
    uint64_t *seq;                  /* per stream: next sequence number */
    uint64_t sent[RING];            /* send times of the XADDs awaiting replies */
    long queued, replied;           /* XADDs so far, replies so far */
    unsigned char *frame;
    buf *keys;
} prod = { .fd = -1, .tfd = -1 };

static struct { uint32_t idx; uint64_t seq; size_t n; unsigned char *p; } cache[CACHE_SLOTS];

static _Noreturn void die(const char *what, const char *why)
{
    fprintf(stderr, "wsload: %s: %s\n", what, why);
    exit(2);
}

/* Microseconds: CLOCK_REALTIME for stamps compared across processes, CLOCK_MONOTONIC for timers. */
static uint64_t now_us(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int64_t mono_ms(void) { return (int64_t)(now_us(CLOCK_MONOTONIC) / 1000); }

static void random_bytes(unsigned char *p, size_t n)
{
    while (n) {     /* large requests may come back short */
        ssize_t r = getrandom(p, n, 0);
        if (r < 0 && errno != EINTR) die("getrandom", strerror(errno));
        if (r > 0) p += r, n -= (size_t)r;
    }
}

static uint64_t get_be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

static void put_be(unsigned char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8) p[i] = (unsigned char)v;
}

/* Prints a message to stderr once; at most NOTES different ones per kind, so 2000 viewers
   failing alike cost one line. */
static __attribute__((format(printf, 2, 3))) void note(struct notes *ns, const char *fmt, ...)
{
    char m[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    for (int i = 0; i < ns->n; i++)
        if (!strcmp(ns->seen[i], m)) return;
    if (ns->n == NOTES) return;
    ns->seen[ns->n++] = xstrdup(m);
    fprintf(stderr, "wsload: %s\n", m);
}

/* ---- connection bookkeeping ---- */

static void set_state(struct conn *c, int s)
{
    pending += (s == ST_CONNECTING || s == ST_HEAD) - (c->state == ST_CONNECTING || c->state == ST_HEAD);
    open_now += (s == ST_OPEN) - (c->state == ST_OPEN);
    c->state = s;
}

/* Watches for exactly what the connection can use now; a stalled viewer stops reading. */
static void conn_update(struct conn *c)
{
    uint32_t ev = 0;
    if (c->state == ST_CONNECTING || c->out.len) ev |= EPOLLOUT;
    if (c->state == ST_HEAD || (c->state == ST_OPEN && !c->stalled)) ev |= EPOLLIN;
    else if (c->state == ST_OPEN) ev |= EPOLLRDHUP;  /* a stalled viewer still notices the end */
    if (ev == c->events) return;
    struct epoll_event e = { .events = ev, .data.u64 = (uint64_t)c->id };
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
    c->events = ev;
}

/* Ends one connection and frees what it holds; counter says how the end is counted. */
static void drop(struct conn *c, unsigned long *counter)
{
    if (c->state == ST_DONE || c->state == ST_IDLE) return;
    if (counter) (*counter)++;
    close(c->fd);
    free(c->in.p), free(c->msg.p), buf_free(&c->out);
    memset(&c->in, 0, sizeof c->in), memset(&c->msg, 0, sizeof c->msg);
    set_state(c, ST_DONE);
}

/* The connection failed or the server went away: before the upgrade that is a connect failure. */
static void lost(struct conn *c, const char *why)
{
    if (c->state == ST_OPEN) {
        drop(c, &st.closed);
        return;
    }
    note(&fail_notes, "connect failed: %s", why);
    drop(c, &st.connect_fail);
}

static void protocol_error(struct conn *c, const char *why)
{
    note(&bad_notes, "viewer %d: protocol error: %s", c->id, why);
    drop(c, &st.proto);
}

/* Sends what is queued without blocking; the rest waits for EPOLLOUT. -1 if the connection died. */
static int flush(struct conn *c)
{
    while (c->out.len) {
        ssize_t w = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL);
        if (w > 0) {
            buf_consume(&c->out, (size_t)w);
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            break;
        } else if (errno != EINTR) {
            lost(c, strerror(errno));
            return -1;
        }
    }
    conn_update(c);
    return 0;
}

/* Queues one masked client frame (RFC 6455 5.3: a fresh mask key per frame). Only small control
   frames are ever sent, so the 2-byte header form suffices. */
static int send_frame(struct conn *c, int op, const unsigned char *p, size_t n)
{
    unsigned char h[6 + 125];
    h[0] = (unsigned char)(0x80 | op), h[1] = (unsigned char)(0x80 | n);
    random_bytes(h + 2, 4);
    for (size_t i = 0; i < n; i++) h[6 + i] = p[i] ^ h[2 + (i & 3)];
    buf_append(&c->out, h, 6 + n);
    return flush(c);
}

/* Room for n more bytes after in.len, dropping parsed bytes first. */
static void rb_reserve(struct rbuf *b, size_t n)
{
    if (b->cap - b->len >= n) return;
    if (b->off) {
        memmove(b->p, b->p + b->off, b->len - b->off);
        b->len -= b->off, b->off = 0;
    }
    if (b->cap - b->len < n) {
        b->cap = b->len + n > 2 * b->cap ? b->len + n : 2 * b->cap;
        b->p = xrealloc(b->p, b->cap);
    }
}

/* ---- handshake ---- */

static void launch(struct conn *c)
{
    int one = 1;
    c->fd = socket(opt.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        note(&fail_notes, "socket: %s", strerror(errno));
        st.connect_fail++;
        set_state(c, ST_DONE);
        return;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    set_state(c, ST_CONNECTING);
    c->started = now_us(CLOCK_MONOTONIC);
    c->deadline = mono_ms() + HANDSHAKE_MS;
    c->events = EPOLLOUT;
    struct epoll_event e = { .events = c->events, .data.u64 = (uint64_t)c->id };
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e);
    if (connect(c->fd, (struct sockaddr *)&opt.addr, opt.addrlen) < 0 && errno != EINPROGRESS)
        lost(c, strerror(errno));
}

static void send_request(struct conn *c)
{
    unsigned char raw[16], sha[SHA_DIGEST_LENGTH];
    char key[25], keyguid[64];
    int own_host = 0;
    random_bytes(raw, sizeof raw);
    EVP_EncodeBlock((unsigned char *)key, raw, sizeof raw);
    snprintf(keyguid, sizeof keyguid, "%s%s", key, WS_GUID);
    SHA1((unsigned char *)keyguid, strlen(keyguid), sha);
    EVP_EncodeBlock((unsigned char *)c->accept, sha, sizeof sha);

    buf_printf(&c->out, "GET %s HTTP/1.1\r\n", opt.path);
    for (int i = 0; i < opt.nh; i++) own_host |= !strncasecmp(opt.hdrs[i], "Host:", 5);
    if (!own_host) buf_printf(&c->out, "Host: %s:%s\r\n", opt.host, opt.port);
    buf_printf(&c->out, "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                        "Sec-WebSocket-Version: 13\r\n", key);
    for (int i = 0; i < opt.nh; i++) buf_printf(&c->out, "%s\r\n", opt.hdrs[i]);
    buf_puts(&c->out, "\r\n");
    set_state(c, ST_HEAD);
    flush(c);
}

static void on_connect_done(struct conn *c)
{
    int err = 0;
    socklen_t sl = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0) err = errno;
    if (err) lost(c, strerror(err));
    else send_request(c);
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

/* Why a 101 response is not a valid upgrade for our key, or NULL. */
static const char *upgrade_error(const struct conn *c, const char *head)
{
    char val[256];
    if (!header(head, "Upgrade", val, sizeof val) || strcasecmp(val, "websocket"))
        return "missing Upgrade: websocket";
    if (!header(head, "Connection", val, sizeof val) || !strcasestr(val, "upgrade"))
        return "missing Connection: Upgrade";
    if (!header(head, "Sec-WebSocket-Accept", val, sizeof val) || strcmp(val, c->accept))
        return "bad Sec-WebSocket-Accept";
    if (header(head, "Sec-WebSocket-Extensions", val, sizeof val))
        return "unrequested Sec-WebSocket-Extensions";  /* e.g. deflate would set RSV1 */
    return NULL;
}

/* Parses the response head once complete: 1 upgraded, 0 need more bytes, -1 connection ended.
   Bytes after the head are already frames and stay in the buffer. */
static int on_head(struct conn *c)
{
    struct rbuf *b = &c->in;
    const unsigned char *s = b->p + b->off, *end = memmem(s, b->len - b->off, "\r\n\r\n", 4);
    if (!end) {
        if (b->len - b->off > 65536) lost(c, "response head too large");
        return b->len - b->off > 65536 ? -1 : 0;
    }
    char *head = xstrndup((const char *)s, (size_t)(end - s) + 2);
    int code = 0;
    b->off += (size_t)(end - s) + 4;
    sscanf(head, "HTTP/1.%*1[01] %3d", &code);
    const char *bad = code == 101 ? upgrade_error(c, head) : NULL;
    free(head);
    if (code < 100 || code > 599) {
        lost(c, "not an HTTP response");
    } else if (code != 101) {   /* e.g. 429 from websocketd at --maxforks, 502/503 from nginx */
        st.by_status[code]++;
        drop(c, &st.refused);
    } else if (bad) {
        protocol_error(c, bad);
    }
    if (code != 101 || bad) return -1;
    st.connected++;
    c->opened = now_us(CLOCK_MONOTONIC);
    set_state(c, ST_OPEN);
    conn_update(c);
    return 1;
}

/* ---- frame checks ---- */

/* SHA-256 check of a frame. Every viewer gets the same frames, so a frame already verified is
   compared with memcmp (much cheaper) — keeping the client from becoming the bottleneck. */
static int frame_ok(const unsigned char *f, size_t n)
{
    uint64_t seq = get_be(f, 8);
    uint32_t idx = (uint32_t)get_be(f + 16, 4);
    size_t slot = (size_t)(((seq ^ (uint64_t)idx << 40) * 0x9E3779B97F4A7C15ull) >> 32) % CACHE_SLOTS;
    unsigned char d[SHA256_DIGEST_LENGTH];
    if (cache[slot].p && cache[slot].seq == seq && cache[slot].idx == idx && cache[slot].n == n &&
        !memcmp(cache[slot].p, f, n))
        return 1;
    SHA256(f, n - sizeof d, d);
    if (memcmp(d, f + n - sizeof d, sizeof d)) return 0;
    cache[slot].p = xrealloc(cache[slot].p, n);
    memcpy(cache[slot].p, f, n);
    cache[slot].seq = seq, cache[slot].idx = idx, cache[slot].n = n;
    return 1;
}

static void add_sample(struct samples *s, uint64_t now, uint64_t then)
{
    if (s->n == s->cap) s->v = xrealloc(s->v, (s->cap = s->cap ? 2 * s->cap : 4096) * sizeof *s->v);
    uint64_t us = now > then ? now - then : 0;
    s->v[s->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void corrupt(struct conn *c, size_t n, const char *why)
{
    st.corrupt++;
    note(&bad_notes, "viewer %d: corrupt message of %zu bytes: %s", c->id, n, why);
}

/* Checks a frame's own integrity, that its header names its stream, and its order on this
   (viewer, stream). The first frame of a stream is the one sent on connect: "initial". */
static void check_frame(struct conn *c, const char *key, const unsigned char *f, size_t n,
                        size_t msg_len, uint64_t now)
{
    char want[24];
    if (n < MIN_FRAME || !frame_ok(f, n)) {
        corrupt(c, msg_len, "frame fails its SHA-256");
        return;
    }
    uint64_t seq = get_be(f, 8), stamp = get_be(f + 8, 8);
    uint32_t idx = (uint32_t)get_be(f + 16, 4);
    snprintf(want, sizeof want, "cam%u", idx);
    if (!key || strcmp(key, want) || idx >= MAX_STREAMS) {
        corrupt(c, msg_len, "header key is not the frame's stream");
        return;
    }
    uint64_t *next = &c->next[idx];
    if (!*next) {
        st.initial++, st.initial_bytes += msg_len;
        *next = seq + 1;
    } else if (seq + 1 == *next) {
        st.dup++;
        note(&bad_notes, "viewer %d: cam%u seq %llu again", c->id, idx, (unsigned long long)seq);
    } else if (seq + 1 < *next) {
        st.reorder++;
        note(&bad_notes, "viewer %d: cam%u seq %llu after %llu", c->id, idx,
             (unsigned long long)seq, (unsigned long long)(*next - 1));
    } else {
        st.skipped += seq - *next;          /* allowed: a slow viewer skips to the newest */
        *next = seq + 1;
        add_sample(&st.lat, now, stamp);
    }
}

/* Parses a JSON object at the start of p; *end = where it ended. NULL unless it is an object. */
static json_object *json_prefix(const unsigned char *p, size_t n, size_t *end)
{
    json_tokener_reset(tok);
    json_object *o = json_tokener_parse_ex(tok, (const char *)p, (int)n);
    if (o && json_tokener_get_error(tok) == json_tokener_success &&
        json_object_is_type(o, json_type_object)) {
        *end = json_tokener_get_parse_end(tok);
        return o;
    }
    json_object_put(o);
    return NULL;
}

/* One complete data message: <JSON header>--IMG--<frame>, or a JSON control message. */
static void on_message(struct conn *c, const unsigned char *p, size_t n)
{
    uint64_t now = now_us(CLOCK_REALTIME);       /* before hashing: hashing is our cost, not the server's */
    size_t off = 0, ws;
    json_object *hdr = json_prefix(p, n, &off), *key;
    st.msgs_all++, st.bytes_all += n;
    if (!c->last) {
        add_sample(&st.first, now_us(CLOCK_MONOTONIC), c->opened);
        if (opt.churn) {
            add_sample(&st.conn_first, now_us(CLOCK_MONOTONIC), c->started);
            st.cycles++;
            if (opt.linger) c->leave_at = mono_ms() + opt.linger;
            else c->recycle = 1;
        }
    }
    c->last = mono_ms();
    if (!hdr) {
        corrupt(c, n, "does not start with a JSON object");
        return;
    }
    for (ws = off; ws < n && memchr(" \t\r\n", p[ws], 4); ws++) {}
    if (ws == n) {                  /* {"error": ...}, {"status": "closing", ...} */
        st.errors++;
        note(&err_notes, "server said: %.*s", (int)(off > 300 ? 300 : off), (const char *)p);
    } else if (n - off < 7 || memcmp(p + off, "--IMG--", 7)) {
        corrupt(c, n, "no --IMG-- after the JSON header");
    } else {
        const char *k = json_object_object_get_ex(hdr, "key", &key) &&
                        json_object_is_type(key, json_type_string) ? json_object_get_string(key) : NULL;
        check_frame(c, k, p + off + 7, n - off - 7, n, now);
    }
    json_object_put(hdr);
}

/* ---- RFC 6455 receiving ---- */

/* Handles a control frame; -1 once it was the server's close (the connection is then gone). */
static int on_control(struct conn *c, int op, const unsigned char *p, size_t n)
{
    if (op == OP_PING) return send_frame(c, OP_PONG, p, n);
    if (op != OP_CLOSE) return 0;
    if (n == 1) {
        protocol_error(c, "close frame with a 1-byte payload");
        return -1;
    }
    send_frame(c, OP_CLOSE, p, n >= 2 ? 2 : 0);     /* echo the code (RFC 6455 5.5.1), best effort */
    drop(c, &st.closed);
    return -1;
}

/* One frame: deliver unfragmented messages straight from the read buffer, collect fragments. */
static int on_frame(struct conn *c, int fin, int op, const unsigned char *p, size_t n)
{
    if (op >= 8) return on_control(c, op, p, n);
    if (op == OP_CONT ? !c->msg.op : c->msg.op != 0) {
        protocol_error(c, op ? "new message inside a fragmented one" : "continuation without a message");
        return -1;
    }
    if (op != OP_CONT && fin) {
        on_message(c, p, n);
        return 0;
    }
    if (op != OP_CONT) c->msg.op = op, c->msg.len = 0;
    if (c->msg.len + n > MAX_MESSAGE) {
        protocol_error(c, "message larger than 16 MiB");
        return -1;
    }
    if (c->msg.cap < c->msg.len + n) c->msg.p = xrealloc(c->msg.p, c->msg.cap = 2 * (c->msg.len + n));
    memcpy(c->msg.p + c->msg.len, p, n);
    c->msg.len += n;
    if (fin) {
        on_message(c, c->msg.p, c->msg.len);
        c->msg.op = 0;
    }
    return 0;
}

/* What RFC 6455 5.2 forbids a server to send (no extensions were negotiated), or NULL. */
static const char *frame_error(const unsigned char *h, size_t hl, uint64_t len)
{
    int op = h[0] & 15;
    if (h[0] & 0x70) return "reserved bits set";
    if (h[1] & 0x80) return "masked server frame";
    if ((op > 2 && op < 8) || op > 10) return "reserved opcode";
    if (op >= 8 && (!(h[0] & 0x80) || len > 125)) return "fragmented or oversized control frame";
    if ((hl == 4 && len < 126) || (hl == 10 && len <= 0xffff)) return "non-minimal length";
    if (len > MAX_MESSAGE) return "frame larger than 16 MiB";
    return NULL;
}

static void parse_frames(struct conn *c)
{
    struct rbuf *b = &c->in;
    for (;;) {
        size_t have = b->len - b->off, hl;
        const unsigned char *h = b->p + b->off;
        if (have < 2) break;
        uint64_t len = h[1] & 127;
        hl = len == 126 ? 4 : len == 127 ? 10 : 2;
        if (have < hl) break;
        if (hl > 2) len = get_be(h + 2, (int)hl - 2);
        const char *bad = frame_error(h, hl, len);
        if (bad) {
            protocol_error(c, bad);
            return;
        }
        if (have < hl + len) {      /* make room for the whole frame, so reads can fill it */
            rb_reserve(b, hl + (size_t)len - have);
            break;
        }
        b->off += hl + (size_t)len;
        if (on_frame(c, h[0] >> 7, h[0] & 15, h + hl, (size_t)len) < 0) return;
    }
    if (b->off == b->len) {
        b->off = b->len = 0;
        if (b->cap > (1u << 20)) {  /* a rare big frame should not pin memory on every viewer */
            free(b->p);
            b->p = NULL, b->cap = 0;
        }
    }
}

/* -C: the viewer got its first message: close (politely) and connect a new one in its place. */
static void recycle(struct conn *c)
{
    static const unsigned char normal[2] = { 0x03, 0xe8 };     /* 1000 */
    if (send_frame(c, OP_CLOSE, normal, sizeof normal) == 0) drop(c, NULL);
    c->recycle = 0, c->last = 0, c->leave_at = 0;
    memset(c->next, 0, sizeof c->next);
    if (mono_ms() < churn_until) launch(c);
}

static void on_readable(struct conn *c)
{
    rb_reserve(&c->in, 1 << 16);
    ssize_t n = read(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
        lost(c, n ? strerror(errno) : "connection closed by server");
        return;
    }
    c->in.len += (size_t)n;
    if (c->state == ST_HEAD && on_head(c) <= 0) return;
    if (!c->stalled) parse_frames(c);
    if (c->recycle && c->state == ST_OPEN) recycle(c);
}

static void on_event(struct conn *c, uint32_t ev)
{
    if (c->state == ST_CONNECTING) {
        if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_connect_done(c);
        return;
    }
    if ((ev & EPOLLOUT) && c->out.len && flush(c) < 0) return;
    if (c->state == ST_HEAD || (c->state == ST_OPEN && !c->stalled)) {
        if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c);
    } else if (c->state == ST_OPEN && (ev & (EPOLLERR | EPOLLHUP | EPOLLRDHUP))) {
        drop(c, &st.closed);
    }
}

/* ---- producer: hiredis async on our own epoll, so a slow Redis never stalls the viewers ---- */

static void redis_watch(uint32_t ev)
{
    struct epoll_event e = { .events = ev, .data.u64 = REDIS_TAG };
    if (ev != prod.events || !prod.watched)
        epoll_ctl(ep, prod.watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, prod.fd, &e);
    prod.events = ev, prod.watched = 1;
}

static void add_read(void *d) { (void)d; redis_watch(prod.events | EPOLLIN); }
static void del_read(void *d) { (void)d; redis_watch(prod.events & ~(uint32_t)EPOLLIN); }
static void add_write(void *d) { (void)d; redis_watch(prod.events | EPOLLOUT); }
static void del_write(void *d) { (void)d; redis_watch(prod.events & ~(uint32_t)EPOLLOUT); }

static void redis_cleanup(void *d)
{
    (void)d;
    if (prod.watched) epoll_ctl(ep, EPOLL_CTL_DEL, prod.fd, NULL);
    prod.watched = 0, prod.events = 0, prod.ac = NULL;
}

/* Before the first frames are stored there is nothing to measure: Redis trouble is fatal then;
   later it only costs frames (counted) and a reconnect at the next tick. */
static void redis_failed(const char *why)
{
    if (prod.replied < opt.streams) die("redis", why);
    st.produce_fail++;
    note(&fail_notes, "redis: %s", why);
}

static void on_redis_connect(const redisAsyncContext *ac, int status)
{
    if (status != REDIS_OK) redis_failed(ac->errstr);
}

static void on_redis_disconnect(const redisAsyncContext *ac, int status)
{
    if (status != REDIS_OK) note(&fail_notes, "redis: %s", ac->errstr);
}

/* Replies come in command order, so the oldest send time in the ring is this reply's. */
static void on_reply(redisAsyncContext *ac, void *r, void *is_xadd)
{
    redisReply *reply = r;
    if (reply && reply->type != REDIS_REPLY_ERROR) st.produced += is_xadd != NULL;
    else redis_failed(reply ? reply->str : ac->errstr[0] ? ac->errstr : "connection lost");
    if (!is_xadd) return;
    uint64_t t = now_us(CLOCK_REALTIME) - prod.sent[prod.replied++ % RING];
    if (t > st.xadd_max_us) st.xadd_max_us = t;
}

static void redis_connect(void)
{
    const char *err;
    if (redisurl_parse(opt.redis, &prod.url, &err) < 0) die("-P", err);
    redis_url *u = &prod.url;
    prod.ac = u->path[0] ? redisAsyncConnectUnix(u->path) : redisAsyncConnect(u->host, u->port);
    if (!prod.ac) die("redis connect", "out of memory");
    if (prod.ac->err) {
        redis_failed(prod.ac->errstr);
        redisAsyncFree(prod.ac);
        prod.ac = NULL;
        return;
    }
    prod.fd = prod.ac->c.fd;
    prod.ac->ev.addRead = add_read, prod.ac->ev.delRead = del_read;
    prod.ac->ev.addWrite = add_write, prod.ac->ev.delWrite = del_write;
    prod.ac->ev.cleanup = redis_cleanup;
    redisAsyncSetConnectCallback(prod.ac, on_redis_connect);
    redisAsyncSetDisconnectCallback(prod.ac, on_redis_disconnect);
    if (u->password[0] && u->user[0])
        redisAsyncCommand(prod.ac, on_reply, NULL, "AUTH %s %s", u->user, u->password);
    else if (u->password[0])
        redisAsyncCommand(prod.ac, on_reply, NULL, "AUTH %s", u->password);
    if (u->db) redisAsyncCommand(prod.ac, on_reply, NULL, "SELECT %d", u->db);
}

static void on_redis_event(uint32_t ev)
{
    if (prod.ac && (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))) redisAsyncHandleRead(prod.ac);
    if (prod.ac && (ev & EPOLLOUT)) redisAsyncHandleWrite(prod.ac);
}

static void producer_open(void)
{
    prod.seq = xcalloc((size_t)opt.streams, sizeof *prod.seq);
    prod.keys = xcalloc((size_t)opt.streams, sizeof *prod.keys);
    prod.frame = xmalloc((size_t)opt.bytes);
    uint64_t base = now_us(CLOCK_REALTIME);      /* grows across runs, so old frames never look newer */
    for (long i = 0; i < opt.streams; i++) {
        char cam[32];
        snprintf(cam, sizeof cam, "cam%ld", i);
        stream_key_build(&prod.keys[i], opt.label, cam);
        prod.seq[i] = base;
    }
    redis_connect();
}

/* Queues an XADD of the next frame of stream i, stamped as it is handed to hiredis. Without a
   connection, or with RING replies outstanding (Redis is the bottleneck), it counts as missed. */
static void produce(long i)
{
    unsigned char *f = prod.frame;
    size_t n = (size_t)opt.bytes;
    if (!prod.ac) redis_connect();
    if (!prod.ac || prod.queued - prod.replied >= RING) {
        st.produce_missed++;
        return;
    }
    random_bytes(f + STAMP_LEN, n - MIN_FRAME);
    put_be(f, prod.seq[i]++, 8);
    put_be(f + 8, prod.sent[prod.queued++ % RING] = now_us(CLOCK_REALTIME), 8);
    put_be(f + 16, (uint64_t)i, 4);
    SHA256(f, n - SHA256_DIGEST_LENGTH, f + n - SHA256_DIGEST_LENGTH);
    const char *av[] = { "XADD", prod.keys[i].data, "MAXLEN", "10", "*", "frame", (const char *)f,
                         "warnings", "[]", "cone_polygons", "[]", "pole_polygons", "[]",
                         "detection_items", "[]", "width", "1280", "height", "720" };
    size_t al[sizeof av / sizeof *av];
    for (size_t k = 0; k < sizeof av / sizeof *av; k++) al[k] = k == 6 ? n : strlen(av[k]);
    redisAsyncCommandArgv(prod.ac, on_reply, &prod, (int)(sizeof av / sizeof *av), av, al);
}

/* One tick per frame of any stream, round robin, so the streams' writes are spread out. A late
   loop catches up by at most one round instead of bursting. */
static void producer_start(void)
{
    long per_sec = opt.fps * opt.streams;
    if (!per_sec) return;
    long ns = 1000000000L / per_sec;
    struct timespec every = { ns / 1000000000L, ns % 1000000000L };
    struct itimerspec its = { every, every };
    struct epoll_event e = { .events = EPOLLIN, .data.u64 = TIMER_TAG };
    prod.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (prod.tfd < 0 || timerfd_settime(prod.tfd, 0, &its, NULL) < 0) die("timerfd", strerror(errno));
    epoll_ctl(ep, EPOLL_CTL_ADD, prod.tfd, &e);
}

static void on_tick(void)
{
    uint64_t expired = 0;
    if (read(prod.tfd, &expired, sizeof expired) != sizeof expired) return;
    for (uint64_t k = 0; k < expired && k < (uint64_t)opt.streams; k++) produce(prod.turn++ % opt.streams);
    if (expired > (uint64_t)opt.streams) st.produce_missed += expired - (uint64_t)opt.streams;
}

/* ---- setup ---- */

/* Splits ws://host[:port][/path][?query] in place and resolves the host once. */
static void parse_url(char *url)
{
    if (strncmp(url, "ws://", 5)) usage("URL must start with ws:// (no TLS)");
    char *h = url + 5, *p = h + strcspn(h, "/?"), *colon;
    opt.path = xmalloc(strlen(p) + 2);
    sprintf(opt.path, "%s%s", *p == '/' ? "" : "/", p);
    *p = 0;
    opt.port = "80";
    if ((colon = strrchr(h, ':'))) *colon = 0, opt.port = colon + 1;
    number(opt.port, "bad port in URL", 1, 65535);
    if (!*h) usage("no host in URL");
    opt.host = h;

    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
    int e = getaddrinfo(opt.host, opt.port, &hints, &res);
    if (e) die(opt.host, gai_strerror(e));
    memcpy(&opt.addr, res->ai_addr, res->ai_addrlen);
    opt.addrlen = res->ai_addrlen;
    freeaddrinfo(res);
}

static void parse_args(int argc, char **argv)
{
    int c;
    opt.hdrs = xcalloc((size_t)argc, sizeof *opt.hdrs);
    while ((c = getopt(argc, argv, "n:r:d:H:x:P:s:f:b:L:jCl:")) != -1) {
        switch (c) {
        case 'n': opt.viewers = number(optarg, "bad -n", 0, 2000); break;
        case 'r': opt.rate = number(optarg, "bad -r", 1, 1000000); break;
        case 'd': opt.seconds = number(optarg, "bad -d", 0, 86400); break;
        case 'H':
            if (!strchr(optarg, ':') || strpbrk(optarg, "\r\n")) usage("bad -H header");
            opt.hdrs[opt.nh++] = optarg;
            break;
        case 'x': opt.stalled = number(optarg, "bad -x", 0, 2000); break;
        case 'P': opt.redis = optarg; break;
        case 's': opt.streams = number(optarg, "bad -s (1 .. 64)", 1, MAX_STREAMS); break;
        case 'f': opt.fps = number(optarg, "bad -f", 0, 10000); break;
        case 'b': opt.bytes = number(optarg, "bad -b (52 .. 16 MiB)", MIN_FRAME, MAX_MESSAGE - 4096); break;
        case 'L': opt.label = optarg; break;
        case 'j': opt.json = 1; break;
        case 'C': opt.churn = 1; break;
        case 'l': opt.linger = number(optarg, "bad -l", 0, 3600000); break;
        default: usage("bad option");
        }
    }
    if (optind != argc - 1) usage("exactly one URL expected");
    parse_url(argv[optind]);
    if (opt.redis && !opt.label) usage("-P needs -L LABEL");
}

/* Each viewer is one socket: allow as many as the hard limit does. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void on_signal(int sig)
{
    if (sig == SIGUSR1) window_start = 1;
    else stop = 1;
}

/* SIGUSR1: the figures of the live frames start again from here (connects are kept). */
static void start_window(void)
{
    window_start = 0;
    st.msgs_all = st.initial = st.bytes_all = st.initial_bytes = st.skipped = 0;
    st.dup = st.reorder = st.corrupt = st.errors = 0;
    st.lat.n = 0;
}

/* ---- main loop ---- */

/* Viewers still not upgraded after HANDSHAKE_MS count as connect failures. */
static void expire_handshakes(int64_t now)
{
    for (long i = 0; i < opt.viewers; i++) {
        struct conn *c = &conns[i];
        if ((c->state == ST_CONNECTING || c->state == ST_HEAD) && now >= c->deadline)
            lost(c, "no upgrade within 10 s");   /* HANDSHAKE_MS */
    }
}

/* -C -l: viewers whose stay is over close and make room for new ones. */
static void leave_due(int64_t now)
{
    for (long i = 0; i < opt.viewers; i++) {
        struct conn *c = &conns[i];
        if (c->leave_at && now >= c->leave_at && c->state == ST_OPEN) recycle(c);
    }
}

static void dispatch(int timeout)
{
    struct epoll_event evs[256];
    int n = epoll_wait(ep, evs, 256, timeout);
    for (int i = 0; i < n; i++) {
        if (evs[i].data.u64 == TIMER_TAG) on_tick();
        else if (evs[i].data.u64 == REDIS_TAG) on_redis_event(evs[i].events);
        else on_event(&conns[evs[i].data.u64], evs[i].events);
    }
}

/* Connects viewers at -r per second, then runs -d seconds once none is still connecting. */
static double run(void)
{
    int64_t t0 = mono_ms(), end = 0, swept = t0, now;
    long launched = 0;
    while (!stop) {
        if (window_start) start_window();
        now = mono_ms();
        while (launched < opt.viewers && now >= t0 + launched * 1000 / opt.rate) {
            conns[launched].stalled = launched < opt.stalled;
            launch(&conns[launched++]);
        }
        if (now - swept >= 100) expire_handshakes(swept = now), leave_due(now);
        if (!end && launched == opt.viewers && (!pending || opt.churn)) end = now + opt.seconds * 1000;
        if (opt.churn && end) churn_until = end;
        if (end && (now >= end || (!open_now && !pending && opt.viewers))) break;  /* nobody left */
        int64_t wake = end ? end : launched < opt.viewers ? t0 + launched * 1000 / opt.rate : now + 100;
        wake = wake < now + 100 ? wake : now + 100;
        dispatch((int)(wake > now ? wake - now : 0));
    }
    return (double)(mono_ms() - t0) / 1000;
}

/* ---- summary ---- */

static json_object *ms(double us)
{
    char s[32];
    snprintf(s, sizeof s, "%.2f", us / 1000);
    return json_object_new_double_s(us / 1000, s);
}

/* Nearest-rank percentile in ms; sorts the samples first. */
static json_object *pct(struct samples *s, double p)
{
    if (!s->n) return ms(0);
    qsort(s->v, s->n, sizeof *s->v, cmp_u32);
    size_t r = (size_t)(p / 100 * (double)s->n + 0.999999);
    return ms(s->v[r ? r - 1 : 0]);
}

static void add(json_object *o, const char *k, unsigned long long v)
{
    json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

/* Viewers still open that look hung: nothing for SILENT_MS although frames keep coming, or,
   without live frames, not even an initial one. */
static unsigned long silent(void)
{
    unsigned long n = 0;
    int64_t since = opt.redis && opt.fps ? mono_ms() - SILENT_MS : 1;
    for (long i = 0; i < opt.viewers; i++)
        n += conns[i].state == ST_OPEN && !conns[i].stalled && conns[i].last < since;
    return n;
}

static json_object *summary(double elapsed)
{
    json_object *o = json_object_new_object(), *by = json_object_new_object();
    struct rusage ru;
    char s[32];
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    add(o, "viewers", (unsigned long long)opt.viewers), add(o, "connected", st.connected);
    add(o, "refused", st.refused), add(o, "connect_fail", st.connect_fail), add(o, "closed", st.closed);
    add(o, "msgs", st.msgs_all - st.initial), add(o, "bytes", st.bytes_all - st.initial_bytes);
    add(o, "corrupt", st.corrupt), add(o, "dup", st.dup), add(o, "reorder", st.reorder);
    add(o, "skipped", st.skipped), add(o, "errors", st.errors), add(o, "produced", st.produced);
    json_object_object_add(o, "lat_p50_ms", pct(&st.lat, 50));
    json_object_object_add(o, "lat_p99_ms", pct(&st.lat, 99));
    json_object_object_add(o, "lat_max_ms", pct(&st.lat, 100));
    snprintf(s, sizeof s, "%.2f", cpu);
    json_object_object_add(o, "client_cpu_s", json_object_new_double_s(cpu, s));
    add(o, "initial", st.initial), add(o, "stalled", (unsigned long long)opt.stalled);
    add(o, "silent", silent());
    json_object_object_add(o, "first_p50_ms", pct(&st.first, 50));
    json_object_object_add(o, "first_max_ms", pct(&st.first, 100));
    add(o, "proto", st.proto), add(o, "produce_fail", st.produce_fail);
    add(o, "produce_missed", st.produce_missed);
    json_object_object_add(o, "xadd_max_ms", ms((double)st.xadd_max_us));
    snprintf(s, sizeof s, "%.2f", elapsed);
    json_object_object_add(o, "elapsed_s", json_object_new_double_s(elapsed, s));
    if (opt.churn) {
        add(o, "cycles", st.cycles);
        snprintf(s, sizeof s, "%.1f", elapsed > 0 ? (double)st.cycles / elapsed : 0);
        json_object_object_add(o, "cycle_rate", json_object_new_double_s((double)st.cycles / elapsed, s));
        json_object_object_add(o, "conn_first_p50_ms", pct(&st.conn_first, 50));
        json_object_object_add(o, "conn_first_p99_ms", pct(&st.conn_first, 99));
    }
    for (int i = 0; i < 600; i++) {
        if (!st.by_status[i]) continue;
        snprintf(s, sizeof s, "%d", i);
        add(by, s, st.by_status[i]);
    }
    json_object_object_add(o, "refused_by", by);
    return o;
}

/* key=value pairs; refused_by as STATUS:COUNT,... and only when something was refused. */
static void print_text(json_object *o)
{
    const char *sep = "";
    json_object_object_foreach(o, k, v) {
        if (!json_object_is_type(v, json_type_object)) {
            printf("%s%s=%s", sep, k, json_object_to_json_string(v));
            sep = " ";
        } else if (json_object_object_length(v)) {
            const char *comma = "";
            printf(" %s=", k);
            json_object_object_foreach(v, code, count) {
                printf("%s%s:%s", comma, code, json_object_to_json_string(count));
                comma = ",";
            }
        }
    }
    putchar('\n');
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    raise_nofile();
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGUSR1, on_signal);
    tok = json_tokener_new();
    if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0) die("epoll", strerror(errno));
    conns = xcalloc(opt.viewers ? (size_t)opt.viewers : 1, sizeof *conns);
    for (long i = 0; i < opt.viewers; i++) conns[i].id = (int)i, conns[i].fd = -1;
    if (opt.redis) {
        producer_open();
        for (long i = 0; i < opt.streams; i++) produce(i);  /* the label must exist before viewers */
        for (int64_t until = mono_ms() + 10000; prod.replied < opt.streams; dispatch(100))
            if (stop || mono_ms() > until) die("redis", "no reply to the first XADDs");
        producer_start();
    }
    double elapsed = run();
    json_object *o = summary(elapsed);
    if (opt.json) puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    else print_text(o);
    json_object_put(o);
    return st.corrupt || st.dup || st.reorder || st.proto ? 1 : 0;
}
