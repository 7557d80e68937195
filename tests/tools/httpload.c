/* httpload: POST /frames load and integrity client (one thread per keep-alive connection) and,
   with -V, a check of what Redis stored against the manifest of acknowledged uploads. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
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
#include <hiredis/hiredis.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "buf.h"
#include "codec.h"
#include "redisurl.h"
#include "xalloc.h"

/* Frame layout and these two sizes are wsload.c's: the two tools must agree byte for byte, or
   wsload viewers count our frames as corrupt and cannot measure their latency. */
#define STAMP_LEN 20                /* seq (8) + CLOCK_REALTIME usec (8) + stream index (4) */
#define MIN_FRAME (STAMP_LEN + SHA256_DIGEST_LENGTH)
#define MIN_BYTES 56                /* MIN_FRAME and a few random bytes */
#define MAX_BYTES (16L << 20)
#define MAX_CONNS 256
#define HEAD_MAX 65536              /* response head or chunk-size line we are willing to buffer */
#define BODY_MAX (1 << 20)
#define IO_TIMEOUT_S 35             /* nginx gives FastCGI 30 s (fastcgi_read_timeout): its 504 first */
#define RETRY_NS 100000000L         /* pause after a failed connect, so a down server is not hammered */
#define PAGE 64                     /* XRANGE entries per reply while verifying (~6 MB at 100 KB) */
#define NOTES 5

static const char USAGE[] =
    "usage: httpload [options] http://HOST:PORT/frames\n"
    "       httpload -V redis://HOST:PORT/DB -m FILE -L LABEL [-j]\n"
    "  -c N        connections (1, at most 256): one thread each, with one keep-alive HTTP/1.1\n"
    "              connection, request -> response, reconnecting when the server closes it\n"
    "  -d SECONDS  run time (10)              -n N  stop after N requests in total instead\n"
    "  -f FPS      frames per second per connection (0 = as fast as possible); on an absolute\n"
    "              schedule: a late connection skips the slots it missed (missed_slots), no burst\n"
    "  -b BYTES    frame size (100000, 56 .. 16 MiB)\n"
    "  -t TOKEN    bearer token (required)    -L LABEL  label (required); connection i uploads\n"
    "              to stream key cam<i>, so every stream has one writer and rising seq numbers\n"
    "  -m FILE     manifest: a line \"<conn> <seq> <sha256 hex of the frame>\" per upload answered 200\n"
    "  -R          reuse: random bytes and SHA-256 once per connection, then only seq and stamp change\n"
    "              (frames no longer check out: no -m; for benchmarks, where hashing 100 KB per\n"
    "              request would make this client cost more than the server)\n"
    "  -j          print the summary as one JSON object\n"
    "  -V URL      verify, no HTTP: read every stream of -L named in the manifest -m from Redis\n"
    "frame bytes:  seq (8, BE, from 1) | send time usec (8, BE) | connection index (4, BE) | random |\n"
    "              SHA-256 of the rest: wsload's layout, so its viewers check these frames (-c <= 64)\n"
    "summary:      requests = ok + status_<code> + conn_errors; rate = ok per second; mbps = frame\n"
    "              MB (10^6 bytes) acknowledged per second; lat_* = first byte written to whole\n"
    "              response read, over every request that got a response\n"
    "verify:       found = manifest lines stored exactly once, byte for byte, fields as sent;\n"
    "              corrupt = stored entries failing their SHA-256 or with other fields; unacked =\n"
    "              intact entries not in the manifest (a lost response, or an earlier run)\n"
    "exit:         0 every request answered 200 (verify: nothing missing, corrupt or duplicate),\n"
    "              1 otherwise, 2 usage/setup\n";

#define TOOL_NAME "httpload"
#include "toolkit.h"

/* The form fields besides label, key and file, and the Redis field each is stored as (API §1,
   §3). Fields not sent (form NULL) are stored as "". Verify checks entries against this. */
static const struct field { const char *form, *redis, *value; } fields[] = {
    { "width", "width", "640" },
    { "height", "height", "480" },
    { "warnings_json", "warnings", "[]" },
    { "detection_items_json", "detection_items",
      "[{\"label\": \"person\", \"confidence\": 0.9, \"bbox\": [10, 20, 110, 220]}]" },
    { NULL, "cone_polygons", "" },
    { NULL, "pole_polygons", "" },
};
#define NFIELDS (sizeof fields / sizeof *fields)

/* Set while parsing arguments, read-only once the workers run. */
static struct {
    long conns, seconds, total, fps, bytes;     /* total: -n, or -1 */
    int json, timed, reuse;                     /* timed: -d applies (given, or no -n) */
    const char *token, *label, *manifest, *verify;
    char *host, *port, *path;
    struct sockaddr_storage addr;
    socklen_t addrlen;
} opt = { .conns = 1, .seconds = 10, .total = -1, .bytes = 100000 };

/* What the workers share, all of it under lock: the -n budget, the manifest, the notes. */
static struct {
    pthread_mutex_t lock;
    long left;
    FILE *manifest;
    int nnotes;
    char *notes[NOTES];
} shared = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Atomic rather than plain sig_atomic_t: the handler runs in whichever thread took the signal,
   and every worker reads it. */
static atomic_int stop;
static EVP_MD *sha256;      /* fetched once: OpenSSL 3 takes a lock on every implicit fetch */

struct samples { uint32_t *v; size_t n, cap; };     /* microseconds */

struct worker {
    int idx, fd;
    pthread_t tid;
    uint64_t seq, rng;
    int64_t first, deadline;        /* CLOCK_MONOTONIC ns: the first -f slot, the end of the run */
    unsigned char *frame;
    buf head, tail;                 /* the request bytes before and after the frame */
    struct { unsigned char *p; size_t len, cap; } in;   /* response bytes */
    char err[160];                  /* why the current request failed */
    unsigned long requests, ok, conn_errors, missed, status[600];
    struct samples lat;
};

struct response { int status, close; size_t body, body_len; };
enum { BODY_CHUNKED = -2, BODY_TO_CLOSE = -1 };

static _Noreturn void die(const char *what, const char *why)
{
    fprintf(stderr, "httpload: %s: %s\n", what, why);
    exit(2);
}

static int64_t now_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_until(int64_t at)
{
    struct timespec ts = { at / 1000000000, at % 1000000000 };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !stop) {}
}

static void random_bytes(void *p, size_t n)
{
    if (getrandom(p, n, 0) != (ssize_t)n) die("getrandom", strerror(errno));   /* n <= 256 */
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

/* Prints a message to stderr once; at most NOTES different ones, so 256 connections failing
   alike cost one line. */
static __attribute__((format(printf, 1, 2))) void note(const char *fmt, ...)
{
    char m[512];
    int seen = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&shared.lock);
    for (int i = 0; i < shared.nnotes; i++) seen |= !strcmp(shared.notes[i], m);
    if (!seen && shared.nnotes < NOTES) {
        shared.notes[shared.nnotes++] = xstrdup(m);
        fprintf(stderr, "httpload: %s\n", m);
    }
    pthread_mutex_unlock(&shared.lock);
}

/* ---- frames ---- */

/* splitmix64: the random part only has to differ between frames, and getrandom for 100 KB per
   request would cost more client CPU than the hashing does. */
static void fill_random(uint64_t *s, unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        memcpy(p + i, &z, n - i < 8 ? n - i : 8);
    }
}

/* SHA-256 of all but the last 32 bytes (what a frame embeds there) into inner and, continuing the
   same hash over those 32 bytes as they are in f, of the whole frame (what the manifest records):
   one pass over the data, not two. inner may point into f's last 32 bytes. */
static void frame_digests(const unsigned char *f, size_t n, unsigned char *inner, unsigned char *whole)
{
    EVP_MD_CTX *all = EVP_MD_CTX_new(), *part = EVP_MD_CTX_new();
    size_t body = n - SHA256_DIGEST_LENGTH;
    if (!all || !part || !EVP_DigestInit_ex(all, sha256, NULL) || !EVP_DigestUpdate(all, f, body) ||
        !EVP_MD_CTX_copy_ex(part, all) || !EVP_DigestFinal_ex(part, inner, NULL) ||
        !EVP_DigestUpdate(all, f + body, SHA256_DIGEST_LENGTH) || !EVP_DigestFinal_ex(all, whole, NULL))
        die("openssl", "SHA-256 failed");
    EVP_MD_CTX_free(all);
    EVP_MD_CTX_free(part);
}

/* The frame with sequence number seq, in wsload's layout. The stamp goes in last, just before the
   hash, to be as close to the send as it can be. */
static void make_frame(struct worker *w, uint64_t seq, unsigned char *whole)
{
    unsigned char *f = w->frame;
    size_t n = (size_t)opt.bytes;
    int fresh = !opt.reuse || seq == 1;
    if (fresh) fill_random(&w->rng, f + STAMP_LEN, n - MIN_FRAME);
    put_be(f, seq, 8);
    put_be(f + 16, (uint64_t)w->idx, 4);
    put_be(f + 8, (uint64_t)now_ns(CLOCK_REALTIME) / 1000, 8);
    if (fresh) frame_digests(f, n, f + n - SHA256_DIGEST_LENGTH, whole);
}

/* ---- requests ---- */

static void form_field(buf *b, const char *bnd, const char *name, const char *value)
{
    buf_printf(b, "--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n", bnd, name, value);
}

/* Everything but the frame is the same in every request of a connection, so head and tail are
   built once and a request is one sendmsg of head, frame, tail. The boundary holds 32 random hex
   digits: it will not occur in the random frame bytes by chance. */
static void build_request(struct worker *w)
{
    unsigned char raw[16];
    char bnd[48] = "httpload-", cam[16];
    buf part;
    random_bytes(raw, sizeof raw);
    for (size_t i = 0; i < sizeof raw; i++) sprintf(bnd + 9 + 2 * i, "%02x", raw[i]);
    snprintf(cam, sizeof cam, "cam%d", w->idx);
    buf_init(&part);
    form_field(&part, bnd, "label", opt.label);
    form_field(&part, bnd, "key", cam);
    buf_printf(&part, "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"frame.jpg\"\r\n"
                      "Content-Type: application/octet-stream\r\n\r\n", bnd);
    buf_puts(&w->tail, "\r\n");
    for (size_t i = 0; i < NFIELDS; i++)
        if (fields[i].form) form_field(&w->tail, bnd, fields[i].form, fields[i].value);
    buf_printf(&w->tail, "--%s--\r\n", bnd);
    buf_printf(&w->head, "POST %s HTTP/1.1\r\nHost: %s:%s\r\nAuthorization: Bearer %s\r\n"
                         "Content-Type: multipart/form-data; boundary=%s\r\nContent-Length: %zu\r\n\r\n",
               opt.path, opt.host, opt.port, opt.token, bnd, part.len + (size_t)opt.bytes + w->tail.len);
    buf_append(&w->head, part.data, part.len);
    buf_free(&part);
}

/* Records why the request failed, from errno; always -1. */
static int failed(struct worker *w, const char *what)
{
    char tmp[96];
    const char *why = errno == EAGAIN ? "timed out" : strerror_r(errno, tmp, sizeof tmp);
    snprintf(w->err, sizeof w->err, "%s: %s", what, why);
    return -1;
}

static int broken(struct worker *w, const char *why)
{
    snprintf(w->err, sizeof w->err, "%s", why);
    return -1;
}

static void conn_close(struct worker *w)
{
    if (w->fd >= 0) close(w->fd);
    w->fd = -1;
}

/* Blocking socket; the timeouts make a stuck server a counted error instead of a hung run (on
   Linux SO_SNDTIMEO bounds connect too). */
static int conn_open(struct worker *w)
{
    struct timeval tv = { IO_TIMEOUT_S, 0 };
    int one = 1;
    w->fd = socket(opt.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (w->fd < 0) return failed(w, "socket");
    /* Nagle would hold the request's last small segment until the ones before it are acked. */
    setsockopt(w->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(w->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(w->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(w->fd, (struct sockaddr *)&opt.addr, opt.addrlen) == 0) return 0;
    failed(w, "connect");
    conn_close(w);
    return -1;
}

/* Whether a kept-alive connection was closed (or spoke) while idle: nginx drops idle ones after
   keepalive_timeout (75 s), which at a low -f is no server failure, so we reconnect first. */
static int went_away(struct worker *w)
{
    char c;
    ssize_t k = recv(w->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return k >= 0 || (errno != EAGAIN && errno != EINTR);
}

/* sendmsg rather than writev for MSG_NOSIGNAL: a peer that closed is an error, not SIGPIPE. */
static int send_request(struct worker *w)
{
    struct iovec iov[3] = { { w->head.data, w->head.len }, { w->frame, (size_t)opt.bytes },
                            { w->tail.data, w->tail.len } };
    struct msghdr m = { .msg_iov = iov, .msg_iovlen = 3 };
    while (m.msg_iovlen) {
        ssize_t k = sendmsg(w->fd, &m, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return failed(w, "send");
        for (; m.msg_iovlen && (size_t)k >= m.msg_iov->iov_len; m.msg_iov++, m.msg_iovlen--)
            k -= (ssize_t)m.msg_iov->iov_len;
        if (m.msg_iovlen) {
            m.msg_iov->iov_base = (char *)m.msg_iov->iov_base + k;
            m.msg_iov->iov_len -= (size_t)k;
        }
    }
    return 0;
}

/* ---- responses ---- */

/* Reads more response bytes: 1 got some, 0 end of connection, -1 error (w->err says which). */
static int fill(struct worker *w)
{
    if (w->in.cap - w->in.len < 16384) w->in.p = xrealloc(w->in.p, w->in.cap = 2 * w->in.cap + 16384);
    for (;;) {
        ssize_t k = read(w->fd, w->in.p + w->in.len, w->in.cap - w->in.len);
        if (k > 0) w->in.len += (size_t)k;
        if (k >= 0) return k > 0;
        if (errno != EINTR) return failed(w, "read");
    }
}

/* fill, where the end of the connection is an error too. */
static int more(struct worker *w)
{
    int k = fill(w);
    return k > 0 ? 0 : k ? -1 : broken(w, "connection closed by server");
}

static int want(struct worker *w, size_t n)
{
    while (w->in.len < n)
        if (more(w) < 0) return -1;
    return 0;
}

/* Offset of delim at or after from, reading as needed; -1 if it is not within HEAD_MAX bytes. */
static long find(struct worker *w, size_t from, const char *delim)
{
    size_t dl = strlen(delim);
    for (;;) {
        const unsigned char *hit = memmem(w->in.p + from, w->in.len - from, delim, dl);
        if (hit) return (long)(hit - w->in.p);
        if (w->in.len - from > HEAD_MAX) return broken(w, "response head or chunk line too long");
        if (more(w) < 0) return -1;
    }
}

/* Whether the comma-separated header value v lists token t (case-insensitive). */
static int has_token(const char *v, const char *t)
{
    size_t n = strlen(t);
    for (v += strspn(v, " \t,"); *v; v += strspn(v, " \t,")) {
        size_t len = strcspn(v, ",\r");
        while (len && (v[len - 1] == ' ' || v[len - 1] == '\t')) len--;
        if (len == n && !strncasecmp(v, t, n)) return 1;
        v += strcspn(v, ",\r");
        if (*v == '\r') break;
    }
    return 0;
}

/* One header line of a response head: notes the body framing and Connection. -1 if malformed. */
static int on_header(const char *l, struct response *r, long *framing)
{
    const char *v = strchr(l, ':');
    if (!v || v == l) return -1;
    size_t name = (size_t)(v - l);
    v += 1 + strspn(v + 1, " \t");
    if (name == 14 && !strncasecmp(l, "Content-Length", 14)) {
        char *end;
        long n = isdigit((unsigned char)*v) ? strtol(v, &end, 10) : -1;
        if (n < 0 || (*end != '\r' && *end != ' ') || (*framing >= 0 && *framing != n)) return -1;
        if (*framing != BODY_CHUNKED) *framing = n;
    } else if (name == 17 && !strncasecmp(l, "Transfer-Encoding", 17)) {
        if (!has_token(v, "chunked")) return -1;    /* no other coding is ever sent to us */
        *framing = BODY_CHUNKED;                    /* it overrides Content-Length (RFC 9112 6.3) */
    } else if (name == 10 && !strncasecmp(l, "Connection", 10)) {
        if (has_token(v, "close")) r->close = 1;
        else if (has_token(v, "keep-alive")) r->close = 0;
    }
    return 0;
}

/* Parses a NUL-terminated response head (with its last CRLF): the status and how the body ends,
   *framing = BODY_CHUNKED, BODY_TO_CLOSE or its length. -1 (w->err set) if malformed. */
static int parse_head(struct worker *w, const char *h, struct response *r, long *framing)
{
    *framing = BODY_TO_CLOSE;
    if (strncmp(h, "HTTP/1.", 7) || (h[7] != '0' && h[7] != '1') || h[8] != ' ' ||
        !isdigit((unsigned char)h[9]) || !isdigit((unsigned char)h[10]) ||
        !isdigit((unsigned char)h[11]) || (h[12] != ' ' && h[12] != '\r'))
        return broken(w, "not an HTTP/1.x status line");
    r->status = atoi(h + 9);
    r->close = h[7] == '0';         /* HTTP/1.0 closes unless it says keep-alive */
    if (r->status < 100 || r->status > 599) return broken(w, "bad status code");
    for (const char *l = strstr(h, "\r\n") + 2; *l; l = strstr(l, "\r\n") + 2)
        if (on_header(l, r, framing) < 0) return broken(w, "malformed framing header");
    if (r->status == 204 || r->status == 304) *framing = 0;
    return 0;
}

/* Decodes a chunked body in place (data only moves down), so it ends up whole at r->body. */
static int read_chunked(struct worker *w, struct response *r, size_t pos)
{
    size_t out = pos;
    for (;;) {
        long e = find(w, pos, "\r\n");
        if (e < 0) return -1;
        char *end, *s = (char *)w->in.p + pos;
        unsigned long size = isxdigit((unsigned char)*s) ? strtoul(s, &end, 16) : ULONG_MAX;
        if (size > BODY_MAX || out - r->body + size > BODY_MAX || (end != (char *)w->in.p + e && *end != ';'))
            return broken(w, "bad or too large chunk");
        pos = (size_t)e + 2;
        if (!size) break;
        if (want(w, pos + size + 2) < 0) return -1;
        if (memcmp(w->in.p + pos + size, "\r\n", 2)) return broken(w, "chunk without its CRLF");
        memmove(w->in.p + out, w->in.p + pos, size);
        out += size, pos += size + 2;
    }
    for (long e; (e = find(w, pos, "\r\n")) != (long)pos; pos = (size_t)e + 2)     /* trailers */
        if (e < 0) return -1;
    r->body_len = out - r->body;
    return w->in.len > pos + 2 ? broken(w, "bytes after the response") : 0;
}

static int read_body(struct worker *w, struct response *r, long framing)
{
    int k;
    if (framing == BODY_CHUNKED) return read_chunked(w, r, r->body);
    if (framing == BODY_TO_CLOSE) {
        r->close = 1;
        while ((k = fill(w)) > 0)
            if (w->in.len - r->body > BODY_MAX) return broken(w, "response body too large");
        r->body_len = w->in.len - r->body;
        return k;
    }
    if (framing > BODY_MAX) return broken(w, "response body too large");
    r->body_len = (size_t)framing;
    if (want(w, r->body + r->body_len) < 0) return -1;
    return w->in.len > r->body + r->body_len ? broken(w, "bytes after the response") : 0;
}

/* Reads one whole response, skipping 1xx interim ones. We never pipeline, so any byte after it
   is a protocol error. */
static int read_response(struct worker *w, struct response *r)
{
    size_t pos = 0;
    w->in.len = 0;
    for (;;) {
        long end = find(w, pos, "\r\n\r\n");
        if (end < 0) return -1;
        w->in.p[end + 2] = 0;       /* the head as a string, ending with its last header's CRLF */
        long framing;
        if (parse_head(w, (const char *)w->in.p + pos, r, &framing) < 0) return -1;
        pos = (size_t)end + 4;
        if (r->status >= 200) {
            r->body = pos;
            return read_body(w, r, framing);
        }
    }
}

/* ---- workers ---- */

static void add_sample(struct samples *s, int64_t us)
{
    if (s->n == s->cap) s->v = xrealloc(s->v, (s->cap = s->cap ? 2 * s->cap : 4096) * sizeof *s->v);
    s->v[s->n++] = us < 0 ? 0 : us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* Takes one request from the -n budget; 0 once it is spent. */
static int claim(void)
{
    if (opt.total < 0) return 1;
    pthread_mutex_lock(&shared.lock);
    int ok = shared.left > 0;
    shared.left -= ok;
    pthread_mutex_unlock(&shared.lock);
    return ok;
}

static void manifest_add(int idx, uint64_t seq, const unsigned char *sha)
{
    char hex[2 * SHA256_DIGEST_LENGTH + 1];
    if (!shared.manifest) return;
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) sprintf(hex + 2 * i, "%02x", sha[i]);
    pthread_mutex_lock(&shared.lock);
    fprintf(shared.manifest, "%d %llu %s\n", idx, (unsigned long long)seq, hex);
    pthread_mutex_unlock(&shared.lock);
}

static void conn_error(struct worker *w)
{
    w->conn_errors++;
    note("%s", w->err);
    conn_close(w);
}

static void on_response(struct worker *w, const struct response *r, uint64_t seq, const unsigned char *sha)
{
    if (r->status == 200) {
        w->ok++;
        manifest_add(w->idx, seq, sha);
        return;
    }
    w->status[r->status]++;
    note("status %d: %.*s", r->status, (int)(r->body_len > 200 ? 200 : r->body_len),
         (const char *)w->in.p + r->body);
}

/* One upload on the worker's connection, opened first if need be; counts how it went. A send
   error still reads a response: the server may have answered (413, 401) and closed early. */
static void upload_one(struct worker *w)
{
    unsigned char whole[SHA256_DIGEST_LENGTH];
    char send_err[sizeof w->err];
    struct response r = { 0 };
    w->requests++;
    if (w->fd >= 0 && went_away(w)) conn_close(w);
    if (w->fd < 0 && conn_open(w) < 0) {
        conn_error(w);
        if (!opt.fps && !stop) sleep_until(now_ns(CLOCK_MONOTONIC) + RETRY_NS);
        return;
    }
    uint64_t seq = ++w->seq;
    make_frame(w, seq, whole);
    int64_t t0 = now_ns(CLOCK_MONOTONIC);
    int sent = send_request(w);
    memcpy(send_err, w->err, sizeof send_err);
    if (read_response(w, &r) < 0) {
        if (sent < 0) memcpy(w->err, send_err, sizeof send_err);    /* the cause, not its echo */
        conn_error(w);
        return;
    }
    add_sample(&w->lat, (now_ns(CLOCK_MONOTONIC) - t0) / 1000);
    on_response(w, &r, seq, whole);
    if (r.close || sent < 0) conn_close(w);
}

/* Waits for this connection's next -f slot. Slots already over are counted as missed and
   skipped, so a late connection does not burst to catch up. -1 once the run is over. */
static int next_slot(struct worker *w, int64_t *slot)
{
    int64_t period = 1000000000 / opt.fps, now = now_ns(CLOCK_MONOTONIC);
    int64_t cur = now > w->first ? (now - w->first) / period : 0;
    if (*slot < cur) {
        int64_t before_end = w->deadline == INT64_MAX ? cur : (w->deadline - w->first + period - 1) / period;
        int64_t upto = cur < before_end ? cur : before_end;
        w->missed += upto > *slot ? (unsigned long)(upto - *slot) : 0;
        *slot = cur;
    }
    int64_t at = w->first + *slot * period;
    if (at >= w->deadline) return -1;
    sleep_until(at);
    return stop ? -1 : 0;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (int64_t slot = 0; !stop; slot++) {
        if (opt.fps ? next_slot(w, &slot) < 0 : now_ns(CLOCK_MONOTONIC) >= w->deadline) break;
        if (!claim()) break;
        upload_one(w);
    }
    conn_close(w);
    return NULL;
}

static void worker_init(struct worker *w, int idx)
{
    w->idx = idx, w->fd = -1;
    w->in.p = xmalloc(w->in.cap = 65536);
    buf_init(&w->head), buf_init(&w->tail);
    random_bytes(&w->rng, sizeof w->rng);
    w->frame = xmalloc((size_t)opt.bytes);
    build_request(w);
}

static void worker_free(struct worker *w)
{
    buf_free(&w->head), buf_free(&w->tail);
    free(w->frame), free(w->in.p), free(w->lat.v);
}

/* Starts every connection at once; with -f their slots are staggered over one period, so the
   server sees a steady rate rather than -c requests at every tick. */
static double run(struct worker *ws)
{
    int64_t t0 = now_ns(CLOCK_MONOTONIC);
    int64_t end = opt.timed ? t0 + opt.seconds * 1000000000 : INT64_MAX;
    for (long i = 0; i < opt.conns; i++) {
        ws[i].first = opt.fps ? t0 + 1000000000 / opt.fps * i / opt.conns : t0;
        ws[i].deadline = end;
        int e = pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]);
        if (e) die("pthread_create", strerror(e));
    }
    for (long i = 0; i < opt.conns; i++) pthread_join(ws[i].tid, NULL);
    return (double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e9;
}

/* ---- summary ---- */

static void add(json_object *o, const char *k, unsigned long long v)
{
    json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

static void add_real(json_object *o, const char *k, double v)
{
    char s[32];
    snprintf(s, sizeof s, "%.2f", v);
    json_object_object_add(o, k, json_object_new_double_s(v, s));
}

/* Nearest-rank percentile in ms of sorted samples. */
static double pct(const struct samples *s, double p)
{
    if (!s->n) return 0;
    size_t r = (size_t)(p / 100 * (double)s->n + 0.999999);
    return s->v[r ? r - 1 : 0] / 1000.0;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* The workers' counters summed into one, latency samples concatenated and sorted. */
static void merge(struct worker *ws, struct worker *t)
{
    for (long i = 0; i < opt.conns; i++) {
        struct worker *w = &ws[i];
        t->requests += w->requests, t->ok += w->ok, t->conn_errors += w->conn_errors, t->missed += w->missed;
        for (int c = 0; c < 600; c++) t->status[c] += w->status[c];
        for (size_t k = 0; k < w->lat.n; k++) add_sample(&t->lat, w->lat.v[k]);
    }
    if (t->lat.n) qsort(t->lat.v, t->lat.n, sizeof *t->lat.v, cmp_u32);
}

static json_object *load_summary(const struct worker *t, double elapsed)
{
    json_object *o = json_object_new_object();
    char k[32];
    double secs = elapsed > 0 ? elapsed : 1e-9;
    add(o, "connections", (unsigned long long)opt.conns);
    add_real(o, "seconds", elapsed);
    add(o, "requests", t->requests), add(o, "ok", t->ok);
    for (int c = 0; c < 600; c++) {
        if (!t->status[c]) continue;
        snprintf(k, sizeof k, "status_%d", c);
        add(o, k, t->status[c]);
    }
    add(o, "conn_errors", t->conn_errors), add(o, "missed_slots", t->missed);
    add_real(o, "rate", (double)t->ok / secs);
    add_real(o, "mbps", (double)t->ok * (double)opt.bytes / 1e6 / secs);
    add_real(o, "lat_p50_ms", pct(&t->lat, 50)), add_real(o, "lat_p90_ms", pct(&t->lat, 90));
    add_real(o, "lat_p99_ms", pct(&t->lat, 99)), add_real(o, "lat_max_ms", pct(&t->lat, 100));
    add_real(o, "client_cpu_s", cpu_seconds());
    return o;
}

/* key=value pairs on one line, as wsload prints them, or -j's JSON object. */
static void print_summary(json_object *o)
{
    const char *sep = "";
    if (opt.json) {
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        return;
    }
    json_object_object_foreach(o, k, v) {
        printf("%s%s=%s", sep, k, json_object_to_json_string(v));
        sep = " ";
    }
    putchar('\n');
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* No SA_RESTART: a worker's sleep returns at once on Ctrl-C; its request in flight completes. */
static void handle_signals(void)
{
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int load_main(void)
{
    struct worker *ws = xcalloc((size_t)opt.conns, sizeof *ws);
    struct worker total = { .fd = -1 };
    handle_signals();
    if (opt.manifest && !(shared.manifest = fopen(opt.manifest, "w"))) die(opt.manifest, strerror(errno));
    shared.left = opt.total;
    for (long i = 0; i < opt.conns; i++) worker_init(&ws[i], (int)i);
    double elapsed = run(ws);
    merge(ws, &total);
    json_object *o = load_summary(&total, elapsed);
    print_summary(o);
    json_object_put(o);
    int rc = total.ok != total.requests;
    if (shared.manifest && fclose(shared.manifest)) {
        fprintf(stderr, "httpload: %s: %s\n", opt.manifest, strerror(errno));
        rc = 1;
    }
    for (long i = 0; i < opt.conns; i++) worker_free(&ws[i]);
    free(ws), free(total.lat.v);
    return rc;
}

/* ---- verify ---- */

/* One manifest line and what the streams showed of it. */
struct mline { uint32_t conn; uint64_t seq; unsigned char sha[SHA256_DIGEST_LENGTH]; int state; };
enum { M_NONE, M_FOUND, M_BAD, M_DUP };

struct verify {
    struct mline *v;
    size_t n;
    unsigned long found, missing, corrupt, duplicate, unacked;
    redisContext *rc;
};

static int hexval(int c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

static int parse_line(const char *s, struct mline *m)
{
    unsigned conn;
    unsigned long long seq;
    char hex[65];
    int end = 0;
    if (sscanf(s, "%u %llu %64[0-9a-f]%n", &conn, &seq, hex, &end) != 3 || strlen(hex) != 64 ||
        (s[end] && s[end] != '\n') || conn >= MAX_CONNS)
        return -1;
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        m->sha[i] = (unsigned char)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
    m->conn = conn, m->seq = seq, m->state = M_NONE;
    return 0;
}

static int cmp_mline(const void *a, const void *b)
{
    const struct mline *x = a, *y = b;
    if (x->conn != y->conn) return x->conn < y->conn ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Reads the manifest sorted by (conn, seq); a line listed twice counts as a duplicate. */
static void read_manifest(struct verify *v)
{
    FILE *f = fopen(opt.manifest, "r");
    char *line = NULL, where[64];
    size_t cap = 0, alloc = 0;
    if (!f) die(opt.manifest, strerror(errno));
    while (getline(&line, &cap, f) > 0) {
        if (v->n == alloc) v->v = xrealloc(v->v, (alloc = alloc ? 2 * alloc : 1024) * sizeof *v->v);
        snprintf(where, sizeof where, "%s line %zu", opt.manifest, v->n + 1);
        if (parse_line(line, &v->v[v->n++]) < 0) die(where, "not \"<conn> <seq> <sha256 hex>\"");
    }
    free(line);
    fclose(f);
    if (v->n) qsort(v->v, v->n, sizeof *v->v, cmp_mline);
    for (size_t i = 1; i < v->n; i++) {
        if (cmp_mline(&v->v[i], &v->v[i - 1])) continue;
        v->v[i].state = M_DUP, v->duplicate++;
        note("manifest lists cam%u seq %llu twice", v->v[i].conn, (unsigned long long)v->v[i].seq);
    }
}

/* The first manifest line for (conn, seq), or NULL. */
static struct mline *lookup(struct verify *v, uint32_t conn, uint64_t seq)
{
    struct mline key = { .conn = conn, .seq = seq };
    size_t lo = 0, hi = v->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_mline(&v->v[mid], &key) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo < v->n && !cmp_mline(&v->v[lo], &key) ? &v->v[lo] : NULL;
}

static const redisReply *entry_field(const redisReply *kv, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i + 1 < kv->elements; i += 2) {
        const redisReply *k = kv->element[i];
        if (k->type == REDIS_REPLY_STRING && k->len == n && !memcmp(k->str, name, n) &&
            kv->element[i + 1]->type == REDIS_REPLY_STRING)
            return kv->element[i + 1];
    }
    return NULL;
}

/* Why an entry's fields other than frame are not what we upload, or NULL. */
static const char *fields_error(const redisReply *kv)
{
    static char why[64];    /* verify runs single-threaded */
    for (size_t i = 0; i < NFIELDS; i++) {
        const redisReply *f = entry_field(kv, fields[i].redis);
        if (f && f->len == strlen(fields[i].value) && !memcmp(f->str, fields[i].value, f->len)) continue;
        snprintf(why, sizeof why, "field %s is %s", fields[i].redis, f ? "not as sent" : "missing");
        return why;
    }
    return NULL;
}

static void corrupt(struct verify *v, uint32_t conn, const char *id, const char *why)
{
    v->corrupt++;
    note("cam%u entry %s: corrupt: %s", conn, id, why);
}

/* Why a stored frame of stream cam<conn> fails its own checks, or NULL; whole = its SHA-256. */
static const char *frame_error(const redisReply *fr, uint32_t conn, unsigned char *whole)
{
    unsigned char inner[SHA256_DIGEST_LENGTH];
    if (!fr) return "no frame field";
    const unsigned char *f = (const unsigned char *)fr->str;
    if (fr->len < MIN_FRAME) return "frame shorter than 52 bytes";
    frame_digests(f, fr->len, inner, whole);
    if (memcmp(inner, f + fr->len - sizeof inner, sizeof inner)) return "frame fails its SHA-256";
    if (get_be(f + 16, 4) != conn) return "frame names another stream";
    return NULL;
}

/* Classifies one stored entry of cam<conn>: the acknowledged upload byte for byte (found, or a
   duplicate the second time), damaged (corrupt), or an intact frame nobody acknowledged. */
static void check_entry(struct verify *v, uint32_t conn, const redisReply *e)
{
    unsigned char whole[SHA256_DIGEST_LENGTH];
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING ||
        e->element[1]->type != REDIS_REPLY_ARRAY) {
        corrupt(v, conn, "?", "malformed XRANGE entry");
        return;
    }
    const char *id = e->element[0]->str;
    const redisReply *fr = entry_field(e->element[1], "frame");
    const char *bad = frame_error(fr, conn, whole);
    if (!fr || fr->len < MIN_FRAME) {
        corrupt(v, conn, id, bad);
        return;
    }
    struct mline *m = lookup(v, conn, get_be((const unsigned char *)fr->str, 8));
    if (!bad) bad = fields_error(e->element[1]);
    if (m && !memcmp(m->sha, whole, sizeof whole) && m->state != M_NONE) {
        v->duplicate++;
        note("cam%u seq %llu stored again as %s", conn, (unsigned long long)m->seq, id);
    } else if (bad) {
        if (m && m->state == M_NONE) m->state = M_BAD;  /* there but damaged: not also missing */
        corrupt(v, conn, id, bad);
    } else if (m && !memcmp(m->sha, whole, sizeof whole)) {
        m->state = M_FOUND, v->found++;
    } else {
        v->unacked++;
    }
}

/* The ID just after an entry's ("ms-seq" + 1), so the next page starts behind it. */
static int next_id(const redisReply *e, char *out, size_t cap)
{
    unsigned long long ms, sq;
    if (e->type != REDIS_REPLY_ARRAY || !e->elements || e->element[0]->type != REDIS_REPLY_STRING ||
        sscanf(e->element[0]->str, "%llu-%llu", &ms, &sq) != 2)
        return -1;
    snprintf(out, cap, "%llu-%llu", ms, sq + 1);
    return 0;
}

/* Every entry of stream cam<conn>, PAGE at a time so a long stream never is one huge reply. */
static void verify_stream(struct verify *v, uint32_t conn)
{
    char cam[16], start[48] = "-", count[16];
    buf key;
    buf_init(&key);
    snprintf(cam, sizeof cam, "cam%u", conn);
    snprintf(count, sizeof count, "%d", PAGE);
    stream_key_build(&key, opt.label, cam);
    for (int more_pages = 1; more_pages;) {
        const char *av[] = { "XRANGE", key.data, start, "+", "COUNT", count };
        redisReply *r = redisCommandArgv(v->rc, 6, av, NULL);
        if (!r) die("redis", v->rc->errstr);
        if (r->type != REDIS_REPLY_ARRAY)
            die("XRANGE", r->type == REDIS_REPLY_ERROR ? r->str : "not an array");
        for (size_t i = 0; i < r->elements; i++) check_entry(v, conn, r->element[i]);
        more_pages = r->elements == PAGE && next_id(r->element[PAGE - 1], start, sizeof start) == 0;
        freeReplyObject(r);
    }
    buf_free(&key);
}

static void redis_ok(redisContext *rc, redisReply *r, const char *what)
{
    if (!r || r->type == REDIS_REPLY_ERROR) die(what, r ? r->str : rc->errstr);
    freeReplyObject(r);
}

static redisContext *redis_open(const char *url)
{
    redis_url u;
    const char *err;
    struct timeval tv = { IO_TIMEOUT_S, 0 };
    if (redisurl_parse(url, &u, &err) < 0) die("-V", err);
    redisContext *rc = u.path[0] ? redisConnectUnixWithTimeout(u.path, tv)
                                 : redisConnectWithTimeout(u.host, u.port, tv);
    if (!rc || rc->err) die("redis", rc ? rc->errstr : "out of memory");
    redisSetTimeout(rc, tv);
    if (u.password[0] && u.user[0]) redis_ok(rc, redisCommand(rc, "AUTH %s %s", u.user, u.password), "AUTH");
    else if (u.password[0]) redis_ok(rc, redisCommand(rc, "AUTH %s", u.password), "AUTH");
    if (u.db) redis_ok(rc, redisCommand(rc, "SELECT %d", u.db), "SELECT");
    return rc;
}

static int verify_main(void)
{
    struct verify v = { 0 };
    read_manifest(&v);
    v.rc = redis_open(opt.verify);
    for (size_t i = 0; i < v.n; i++)
        if (!i || v.v[i].conn != v.v[i - 1].conn) verify_stream(&v, v.v[i].conn);
    for (size_t i = 0; i < v.n; i++) {
        if (v.v[i].state != M_NONE) continue;
        v.missing++;
        note("cam%u seq %llu acknowledged but not stored", v.v[i].conn, (unsigned long long)v.v[i].seq);
    }
    json_object *o = json_object_new_object();
    add(o, "acked", v.n), add(o, "found", v.found), add(o, "missing", v.missing);
    add(o, "corrupt", v.corrupt), add(o, "duplicate", v.duplicate), add(o, "unacked", v.unacked);
    print_summary(o);
    json_object_put(o);
    redisFree(v.rc);
    free(v.v);
    return v.missing || v.corrupt || v.duplicate;
}

/* ---- setup ---- */

/* Splits http://host[:port][/path] in place and resolves the host once. */
static void parse_url(char *url)
{
    if (strncmp(url, "http://", 7)) usage("URL must start with http:// (no TLS)");
    char *h = url + 7, *p = h + strcspn(h, "/?"), *colon;
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

/* Token and label go into the request verbatim: no control characters (header injection). */
static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return 0;
    return 1;
}

static void parse_args(int argc, char **argv)
{
    int c, timed = 0;
    while ((c = getopt(argc, argv, "c:d:n:f:b:t:L:m:jRV:")) != -1) {
        switch (c) {
        case 'c': opt.conns = number(optarg, "bad -c (1 .. 256)", 1, MAX_CONNS); break;
        case 'd': opt.seconds = number(optarg, "bad -d", 0, 86400), timed = 1; break;
        case 'n': opt.total = number(optarg, "bad -n", 1, LONG_MAX); break;
        case 'f': opt.fps = number(optarg, "bad -f (0 .. 10000)", 0, 10000); break;
        case 'b': opt.bytes = number(optarg, "bad -b (56 .. 16 MiB)", MIN_BYTES, MAX_BYTES); break;
        case 't': opt.token = optarg; break;
        case 'L': opt.label = optarg; break;
        case 'm': opt.manifest = optarg; break;
        case 'j': opt.json = 1; break;
        case 'R': opt.reuse = 1; break;
        case 'V': opt.verify = optarg; break;
        default: usage("bad option");
        }
    }
    opt.timed = timed || opt.total < 0;
    if (opt.verify ? optind != argc : optind != argc - 1)
        usage(opt.verify ? "-V takes no URL" : "exactly one URL expected");
    if (!opt.label || !*opt.label || !printable(opt.label)) usage("-L LABEL is required");
    if (opt.verify && !opt.manifest) usage("-V needs -m FILE");
    if (opt.reuse && opt.manifest) usage("-R frames do not check out: no -m with -R");
    if (opt.verify) return;
    if (!opt.token || !printable(opt.token)) usage("-t TOKEN is required");
    parse_url(argv[optind]);
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    if (!(sha256 = EVP_MD_fetch(NULL, "SHA256", NULL))) die("openssl", "no SHA-256");
    int rc = opt.verify ? verify_main() : load_main();
    EVP_MD_free(sha256);
    free(opt.path);
    for (int i = 0; i < shared.nnotes; i++) free(shared.notes[i]);
    return rc;
}
