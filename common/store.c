/* store: hiredis with timeouts, reconnect with backoff, binary-safe commands. */
#include "store.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "redisurl.h"
#include "resp.h"
#include "spill.h"
#include "xalloc.h"

enum { BACKOFF_MIN_MS = 50, BACKOFF_MAX_MS = 1000 };

struct store {
    redis_url url;
    int timeout_ms;
    redisContext *ctx;
    long long retry_at_ms; /* no reconnect attempt before this (backoff) */
    int backoff_ms;
    int was_down;          /* log the outage once and the recovery once */
    int connected_before;  /* a new connection replaces one (metrics: reconnects) */
    char err[256];
    /* Frame replies (XREAD, XREVRANGE) are read here in place (see resp.c);
     * both are reused from reply to reply. */
    buf in;
    resp_tree tree;
    /* Redis's clock minus ours (ms), taken with TIME once per connection:
     * stream ids are Redis's time, and how old an entry is tells a viewer
     * that fell behind. */
    long long clock_offset_ms;
    int clock_known;
    /* store_move_frames: the pipe large frames go into, and whether they do. */
    spill moved;
    int move_frames;
};

/* While frames are moved, a read takes at most this much beyond what the
 * reply is known to need, so that a frame's bytes stay in the socket. */
enum { MOVE_READ_BYTES = 4096 };

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timeval ms_to_tv(int ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    return tv;
}

store *store_new(const char *url, int timeout_ms)
{
    store *s = xcalloc(1, sizeof *s);
    s->moved = (spill){ .rd = -1, .wr = -1 };
    const char *why;
    if (redisurl_parse(url, &s->url, &why) < 0) {
        free(s);
        return NULL;
    }
    s->timeout_ms = timeout_ms;
    s->backoff_ms = BACKOFF_MIN_MS;
    return s;
}

void store_move_frames(store *s)
{
    s->move_frames = spill_budget_unlimited() && spill_open(&s->moved);
}

void store_free(store *s)
{
    if (!s)
        return;
    spill_close(&s->moved);
    store_disconnect(s);
    buf_free(&s->in);
    resp_tree_free(&s->tree);
    free(s);
}

const char *store_error(const store *s)
{
    return s->err[0] ? s->err : "unknown error";
}

void store_disconnect(store *s)
{
    if (s->ctx)
        redisFree(s->ctx);
    s->ctx = NULL;
    s->clock_known = 0;
}

/* Every failed command passes here once (or is counted where it fails
 * without a connection failure: an error reply, a backoff). */
static void mark_down(store *s, const char *why)
{
    metrics_redis(MX_REDIS_ERROR);
    /* hiredis reports a socket timeout as EAGAIN's text; say what it means. */
    if (strcmp(why, strerror(EAGAIN)) == 0)
        why = "timed out";
    snprintf(s->err, sizeof s->err, "Redis unavailable: %s", why);
    store_disconnect(s);
    if (!s->was_down)
        LOG_WARN("%s", s->err);
    s->was_down = 1;
    s->retry_at_ms = now_ms() + s->backoff_ms;
    s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s->backoff_ms * 2;
}

/* A connection with nothing pending that polls readable was closed by the
 * server (restart, timeout): notice before sending, not after a failure. */
static int is_stale(redisContext *c)
{
    struct pollfd p = { .fd = c->fd, .events = POLLIN };
    return c->err || poll(&p, 1, 0) != 0;
}

static int handshake(store *s)
{
    redisReply *r = NULL;
    if (s->url.password[0]) {
        r = s->url.user[0] ? redisCommand(s->ctx, "AUTH %s %s", s->url.user, s->url.password)
                           : redisCommand(s->ctx, "AUTH %s", s->url.password);
        if (!r || r->type == REDIS_REPLY_ERROR)
            goto fail;
        freeReplyObject(r);
    }
    if (s->url.db) {
        r = redisCommand(s->ctx, "SELECT %d", s->url.db);
        if (!r || r->type == REDIS_REPLY_ERROR)
            goto fail;
        freeReplyObject(r);
    }
    return 0;
fail:
    mark_down(s, r ? r->str : s->ctx->errstr);
    freeReplyObject(r);
    return -1;
}

static int ensure_connected(store *s)
{
    if (s->ctx && !is_stale(s->ctx))
        return 0;
    store_disconnect(s);
    if (now_ms() < s->retry_at_ms) {
        metrics_redis(MX_REDIS_ERROR);
        return -1; /* s->err still says why */
    }
    struct timeval tv = ms_to_tv(s->timeout_ms);
    s->ctx = s->url.path[0] ? redisConnectUnixWithTimeout(s->url.path, tv)
                            : redisConnectWithTimeout(s->url.host, s->url.port, tv);
    if (!s->ctx || s->ctx->err) {
        mark_down(s, s->ctx ? s->ctx->errstr : "out of memory");
        return -1;
    }
    redisSetTimeout(s->ctx, tv);
    /* TCP only: on a unix socket it fails, and hiredis then fails every command. */
    if (!s->url.path[0])
        redisEnableKeepAlive(s->ctx);
    if (handshake(s) < 0)
        return -1;
    metrics_redis(MX_REDIS_CONNECT);
    if (s->connected_before)
        metrics_redis(MX_REDIS_RECONNECT);
    s->connected_before = 1;
    if (s->was_down)
        LOG_INFO("Redis connection restored");
    s->was_down = 0;
    s->backoff_ms = BACKOFF_MIN_MS;
    s->err[0] = '\0';
    return 0;
}

/* Checks a reply: NULL means the connection failed (dropped so the next
 * command reconnects); an error reply keeps the connection. */
static redisReply *checked(store *s, redisReply *r)
{
    if (!r) {
        mark_down(s, s->ctx && s->ctx->errstr[0] ? s->ctx->errstr : "connection lost");
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        metrics_redis(MX_REDIS_ERROR);
        snprintf(s->err, sizeof s->err, "Redis error: %s", r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

static redisReply *command(store *s, int argc, const char **argv, const size_t *lens)
{
    if (ensure_connected(s) < 0)
        return NULL;
    return checked(s, redisCommandArgv(s->ctx, argc, argv, lens));
}

int store_xadd_frame(store *s, const char *rkey, long maxlen, const char *const val[FF_COUNT],
                     const size_t len[FF_COUNT], buf *id)
{
    char maxlen_s[24];
    const char *argv[6 + 2 * FF_COUNT];
    size_t lens[6 + 2 * FF_COUNT];
    int argc = 0;
    snprintf(maxlen_s, sizeof maxlen_s, "%ld", maxlen);
    /* Exact trim (no "~"): API §1 keeps exactly maxlen entries. */
    const char *head[] = { "XADD", rkey, "MAXLEN", maxlen_s, "*" };
    for (int i = 0; i < 5; i++) {
        argv[argc] = head[i];
        lens[argc++] = strlen(head[i]);
    }
    for (int f = 0; f < FF_COUNT; f++) {
        argv[argc] = frame_field_names[f];
        lens[argc++] = strlen(frame_field_names[f]);
        argv[argc] = val[f] ? val[f] : "";
        lens[argc++] = val[f] ? len[f] : 0;
    }
    redisReply *r = command(s, argc, argv, lens);
    if (!r)
        return -1;
    if (id && r->type == REDIS_REPLY_STRING)
        buf_append(id, r->str, r->len);
    freeReplyObject(r);
    return 0;
}

int store_scan(store *s, const char *pattern, strlist *keys)
{
    char cursor[32] = "0";
    do {
        const char *argv[] = { "SCAN", cursor, "MATCH", pattern, "COUNT", "1000" };
        redisReply *r = command(s, 6, argv, NULL);
        if (!r)
            return -1;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_ARRAY) {
            snprintf(s->err, sizeof s->err, "unexpected SCAN reply");
            freeReplyObject(r);
            return -1;
        }
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        redisReply *batch = r->element[1];
        for (size_t i = 0; i < batch->elements; i++)
            if (batch->element[i]->type == REDIS_REPLY_STRING)
                strlist_add(keys, batch->element[i]->str, batch->element[i]->len);
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    return 0;
}

/* What watch_fd has to say: 1 hung up, 0 nothing that ends the wait. */
static int watch_event(int fd, short revents, int discard_input, struct pollfd *p)
{
    char scratch[4096];
    if (!(revents & POLLIN))
        return (revents & (POLLHUP | POLLERR)) ? 1 : 0;
    if (!discard_input) {
        p->fd = -1; /* input for the caller: stop watching until the reply */
        return 0;
    }
    ssize_t got = read(fd, scratch, sizeof scratch);
    return got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN);
}

/* ---- Replies that carry frames: sent through hiredis, read in place ---- */

/* Sends one command without reading its reply (read_reply() does). */
static int send_raw(store *s, int argc, const char **argv)
{
    if (ensure_connected(s) < 0)
        return -1;
    int done = 0, rc = redisAppendCommandArgv(s->ctx, argc, argv, NULL);
    while (rc == REDIS_OK && !done)
        rc = redisBufferWrite(s->ctx, &done);
    if (rc != REDIS_OK) {
        mark_down(s, s->ctx->errstr);
        return -1;
    }
    buf_reset(&s->in);
    return 0;
}

/* Reads what the socket has (poll said it has something) onto s->in, with
 * room for at least need bytes in all. The buffer keeps its size from reply
 * to reply, so a 100 KB frame takes one read, or two when it is the largest
 * yet. 0, or -1 when the connection failed. */
static int read_more(store *s, size_t need)
{
    buf_reserve(&s->in, need > s->in.len ? need - s->in.len : 16 << 10);
    size_t room = s->in.cap - s->in.len - 1;
    if (s->move_frames && room > MOVE_READ_BYTES && need <= s->in.len + MOVE_READ_BYTES)
        room = MOVE_READ_BYTES;
    ssize_t got = read(s->ctx->fd, s->in.data + s->in.len, room);
    if (got < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (got <= 0) {
        mark_down(s, got == 0 ? "connection lost" : strerror(errno));
        return -1;
    }
    s->in.len += (size_t)got;
    return 0;
}

/* The bytes of the frame the reply waits for at g are moved from the socket
 * into s->moved, so s->in never holds them (spill.h); resp marks the string
 * as moved. 0 also when it is read as usual instead (the pipe was refused,
 * or it filled: then what it took comes back to s->in); -1 if the
 * connection failed. */
static int move_frame(store *s, const resp_gap *g)
{
    size_t have = s->in.len - g->body;
    spill_discard(&s->moved); /* a frame nobody took */
    if (!spill_fit(&s->moved, g->len)) {
        LOG_WARN("cannot enlarge a pipe to %zu bytes: frames are read, not moved (see deploy/)", 2 * g->len);
        s->move_frames = 0;
        return 0;
    }
    if (have && write(s->moved.wr, s->in.data + g->body, have) != (ssize_t)have) {
        spill_discard(&s->moved);
        return 0;
    }
    s->in.len = g->body;
    int rc = spill_take(&s->moved, s->ctx->fd, g->len - have, now_ms() + s->timeout_ms);
    if (rc < 0) {
        mark_down(s, errno == ETIMEDOUT ? "timed out" : strerror(errno));
        return -1;
    }
    if (rc == 0) {
        resp_mark_moved(s->in.data, g);
        return 0;
    }
    size_t held = spill_held(&s->moved);
    buf_reserve(&s->in, held + 1);
    if (spill_read(&s->moved, s->in.data + s->in.len, held) != (ssize_t)held) {
        mark_down(s, "lost a frame in its pipe");
        return -1;
    }
    s->in.len += held;
    return 0;
}

/* Whether the string at g is the value of a "frame" field: the field name,
 * a string of its own, comes just before it. */
static int is_large_frame(const store *s, const resp_gap *g)
{
    static const char name[] = "$5\r\nframe\r\n";
    return s->move_frames && g->len >= SPILL_MIN_BYTES && g->head >= sizeof name - 1 &&
           s->in.len - g->body < g->len && memcmp(s->in.data + g->head - (sizeof name - 1), name, sizeof name - 1) == 0;
}

/* Whether s->in begins with a whole reply (or element): its length, 0 if
 * more is to come (need says how much at least); -1 marks the connection
 * down, as what came is not RESP. */
static long whole(store *s, size_t *need)
{
    resp_gap g;
    long n = resp_complete_gap(s->in.data ? s->in.data : "", s->in.len, need, &g);
    if (n == 0 && is_large_frame(s, &g)) {
        if (move_frame(s, &g) < 0)
            return -1;
        n = resp_complete_gap(s->in.data, s->in.len, need, NULL);
    }
    if (n < 0)
        mark_down(s, "unexpected reply");
    return n;
}

/* The complete reply in s->in as nodes; NULL (with s->err) for an error reply. */
static const resp_node *read_reply(store *s, size_t len)
{
    const resp_node *r = resp_read(&s->tree, s->in.data, len);
    if (r && r->type == RESP_ERROR) {
        snprintf(s->err, sizeof s->err, "Redis error: %s", r->str);
        return NULL;
    }
    return r;
}

/* send_raw + the whole reply, within the command timeout. */
static const resp_node *roundtrip(store *s, int argc, const char **argv)
{
    if (send_raw(s, argc, argv) < 0)
        return NULL;
    long long deadline = now_ms() + s->timeout_ms;
    struct pollfd p = { .fd = s->ctx->fd, .events = POLLIN };
    long len;
    size_t need = 0;
    while ((len = whole(s, &need)) == 0) {
        long long left = deadline - now_ms();
        int ready = poll(&p, 1, left > 0 ? (int)left : 0);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0) {
            mark_down(s, "timed out");
            return NULL;
        }
        if (read_more(s, need) < 0)
            return NULL;
    }
    return len > 0 && (size_t)len == s->in.len ? read_reply(s, (size_t)len) : NULL;
}

static int is_string(const resp_node *n)
{
    return n->type == RESP_STRING;
}

/* Fills e from one [id, [field, value, ...]] element; -1 if malformed. */
static int parse_entry(store *s, const resp_node *el, frame_entry *e)
{
    memset(e, 0, sizeof *e);
    if (el->type != RESP_ARRAY || el->n != 2 || !is_string(&el->child[0]))
        return -1;
    e->id = el->child[0].str;
    e->id_len = el->child[0].len;
    const resp_node *kv = &el->child[1];
    if (kv->type != RESP_ARRAY) /* nil: entry deleted meanwhile */
        return 0;
    for (size_t i = 0; i + 1 < kv->n; i += 2) {
        const resp_node *k = &kv->child[i], *v = &kv->child[i + 1];
        /* moved by move_frame(); the pipe holding just that many bytes
         * also tells our mark from a reply that merely looks like one */
        if (is_string(k) && v->type == RESP_MOVED && k->len == 5 && memcmp(k->str, "frame", 5) == 0 &&
            spill_held(&s->moved) == v->len) {
            e->frame_pipe = &s->moved;
            e->len[FF_FRAME] = v->len;
            continue;
        }
        if (!is_string(k) || !is_string(v))
            continue;
        for (int f = 0; f < FF_COUNT; f++) {
            if (k->len == strlen(frame_field_names[f]) && memcmp(k->str, frame_field_names[f], k->len) == 0) {
                e->val[f] = v->str;
                e->len[f] = v->len;
            }
        }
    }
    return 0;
}

int store_newest(store *s, const char *rkey, const char *after_id, frame_entry *out)
{
    char start[64];
    memset(out, 0, sizeof *out);
    /* "(" makes the range exclusive (Redis >= 6.2): only entries after after_id. */
    snprintf(start, sizeof start, "%s%s", after_id ? "(" : "", after_id ? after_id : "-");
    const char *argv[] = { "XREVRANGE", rkey, "+", start, "COUNT", "1" };
    const resp_node *r = roundtrip(s, 6, argv);
    if (!r)
        return -1;
    return r->type == RESP_ARRAY && r->n > 0 && parse_entry(s, &r->child[0], out) == 0;
}

static int xread_send(store *s, size_t n, char *const *keys, char *const *ids, int block_ms)
{
    size_t argc = 6 + 2 * n;
    const char **argv = xmalloc(argc * sizeof *argv);
    char block[24];
    snprintf(block, sizeof block, "%d", block_ms);
    const char *head[] = { "XREAD", "COUNT", "1", "BLOCK", block, "STREAMS" };
    memcpy(argv, head, sizeof head);
    for (size_t i = 0; i < n; i++) {
        argv[6 + i] = keys[i];
        argv[6 + n + i] = ids[i];
    }
    int rc = send_raw(s, (int)argc, argv);
    free(argv);
    return rc;
}

static long long realtime_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* TIME, once per connection: Redis's clock against ours. */
static int learn_clock(store *s)
{
    const char *argv[] = { "TIME" };
    redisReply *r = command(s, 1, argv, NULL);
    if (!r)
        return -1;
    int ok = r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_STRING &&
             r->element[1]->type == REDIS_REPLY_STRING;
    if (ok) {
        long long redis_ms = atoll(r->element[0]->str) * 1000 + atoll(r->element[1]->str) / 1000;
        s->clock_offset_ms = redis_ms - realtime_ms();
        s->clock_known = 1;
    } else {
        snprintf(s->err, sizeof s->err, "unexpected TIME reply");
    }
    freeReplyObject(r);
    return ok ? 0 : -1;
}

int store_entry_fresh(const store *s, const frame_entry *e)
{
    long long ms = 0;
    for (size_t i = 0; i < e->id_len && e->id[i] >= '0' && e->id[i] <= '9' && ms < (1LL << 50); i++)
        ms = ms * 10 + (e->id[i] - '0');
    return realtime_ms() + s->clock_offset_ms - ms <= STORE_FRESH_MS;
}

/* One element of an XREAD reply, [key, [entry]], to each(); -1 if malformed. */
static int pass_item(store *s, const resp_node *item, store_news_fn each, void *ctx)
{
    frame_entry e;
    if (item->type != RESP_ARRAY || item->n != 2 || !is_string(&item->child[0]) ||
        item->child[1].type != RESP_ARRAY || item->child[1].n != 1 || parse_entry(s, &item->child[1].child[0], &e) < 0)
        return 0; /* not a stream entry: skipped, as a reply of another shape */
    return each(ctx, item->child[0].str, &e, store_entry_fresh(s, &e)) < 0 ? -1 : 0;
}

/* Passes every element of the reply that has arrived whole in s->in, and
 * drops it: 1 when the reply is done, 0 if more is to come (need: how much
 * s->in must hold for the next step), -1 on a failure, -2 if each() said
 * stop. *items is -2 until the array's header is in. */
static int pass_arrived(store *s, long long *items, size_t *need, store_news_fn each, void *ctx)
{
    for (;;) {
        long len;
        if (*items == -2) {
            if ((len = resp_array_head(s->in.data ? s->in.data : "", s->in.len, items)) == 0) {
                *items = -2;
                *need = s->in.len + 1;
                return 0;
            }
            if (len < 0) { /* an error reply, whole or not yet */
                *items = -2;
                if ((len = whole(s, need)) <= 0)
                    return (int)len;
                if (read_reply(s, (size_t)len))
                    snprintf(s->err, sizeof s->err, "unexpected XREAD reply");
                return -1;
            }
            buf_consume(&s->in, (size_t)len);
            if (*items == -1)
                *items = 0; /* nil: timed out */
        }
        if (*items == 0 && s->in.len == 0)
            return 1;
        if (*items == 0) {
            mark_down(s, "unexpected bytes after a reply");
            return -1;
        }
        if ((len = whole(s, need)) <= 0)
            return (int)len;
        const resp_node *item = read_reply(s, (size_t)len);
        if (!item || pass_item(s, item, each, ctx) < 0)
            return item ? -2 : -1;
        buf_consume(&s->in, (size_t)len);
        (*items)--;
    }
}

int store_xread_each(store *s, size_t n, char *const *keys, char *const *ids, int block_ms, int watch_fd,
                     int discard_input, store_news_fn each, void *ctx)
{
    if ((!s->clock_known && learn_clock(s) < 0) || xread_send(s, n, keys, ids, block_ms) < 0)
        return -1;
    /* The reply may take the whole block time: allow for it on top. */
    long long deadline = now_ms() + block_ms + s->timeout_ms, items = -2;
    struct pollfd p[2] = { { .fd = s->ctx->fd, .events = POLLIN }, { .fd = watch_fd, .events = POLLIN } };
    for (;;) {
        size_t need = 0;
        int rc = pass_arrived(s, &items, &need, each, ctx);
        if (rc == -2) {
            store_disconnect(s); /* the rest of the reply goes with the connection */
            return 1;
        }
        if (rc != 0)
            return rc > 0 ? 0 : -1;
        int left = (int)(deadline - now_ms());
        rc = poll(p, 2, left > 0 ? left : 0);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0) {
            mark_down(s, "timed out waiting for XREAD");
            return -1;
        }
        if (p[1].fd >= 0 && p[1].revents && watch_event(watch_fd, p[1].revents, discard_input, &p[1])) {
            store_disconnect(s);
            return 1;
        }
        if (p[0].revents && read_more(s, need) < 0)
            return -1;
    }
}

int store_window_hit(store *s, const char *key, int window_s, long long *count, long long *ttl_ms)
{
    /* One round trip, atomic: the first hit of a window starts its clock. */
    static const char script[] =
        "local c = redis.call('INCR', KEYS[1]) "
        "if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end "
        "local t = redis.call('PTTL', KEYS[1]) "
        "if t < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) t = tonumber(ARGV[1]) end "
        "return {c, t}";
    char window[24];
    snprintf(window, sizeof window, "%lld", (long long)window_s * 1000);
    const char *argv[] = { "EVAL", script, "1", key, window };
    redisReply *r = command(s, 5, argv, NULL);
    if (!r)
        return -1;
    int ok = r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
             r->element[0]->type == REDIS_REPLY_INTEGER && r->element[1]->type == REDIS_REPLY_INTEGER;
    if (ok) {
        *count = r->element[0]->integer;
        *ttl_ms = r->element[1]->integer;
    } else {
        snprintf(s->err, sizeof s->err, "unexpected rate-limit reply");
    }
    freeReplyObject(r);
    return ok ? 0 : -1;
}

int store_ping(store *s)
{
    const char *argv[] = { "PING" };
    redisReply *r = command(s, 1, argv, NULL);
    if (!r)
        return -1;
    int ok = r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
    if (!ok)
        snprintf(s->err, sizeof s->err, "unexpected PING reply");
    freeReplyObject(r);
    return ok ? 0 : -1;
}

int store_get(store *s, const char *key, buf *out)
{
    const char *argv[] = { "GET", key };
    redisReply *r = command(s, 2, argv, NULL);
    if (!r)
        return -1;
    int found = r->type == REDIS_REPLY_STRING;
    if (found)
        buf_append(out, r->str, r->len);
    freeReplyObject(r);
    return found;
}
