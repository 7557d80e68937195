/* ws-labels: /ws/labels/{label} under websocketd --binary — pushes the newest
 * frame of every stream of a label as soon as it is written (API §4). */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "wsio.h"
#include "wsreq.h"
#include "xalloc.h"

/* Streams created after connect are found by a SCAN this often; between
 * scans the viewer sits in one XREAD BLOCK, costing Redis nothing. */
enum { RESCAN_MS = 5000, RETRY_MS = 250 };

typedef struct stream {
    char *rkey;
    char *name;       /* decoded stream key, sent as "key" */
    char last[64];    /* newest entry delivered; "" before the first */
} stream;

typedef struct viewer {
    const config *cfg;
    store *s;
    const char *label;
    stream *streams;
    size_t n;
    int behind;       /* fell behind: takes rounds of newest entries, not XREAD */
    int redis_down_reported;
} viewer;

static void free_streams(viewer *v)
{
    for (size_t i = 0; i < v->n; i++) {
        free(v->streams[i].rkey);
        free(v->streams[i].name);
    }
    free(v->streams);
    v->streams = NULL;
    v->n = 0;
}

/* Re-reads the label's streams, keeping what was delivered per stream. New
 * streams start with nothing delivered: newest_round() sends their newest entry. */
static int rescan(viewer *v)
{
    strlist rkeys, names;
    strlist_init(&rkeys);
    strlist_init(&names);
    if (catalog_streams(v->s, v->label, &rkeys, &names) < 0) {
        strlist_free(&rkeys);
        strlist_free(&names);
        return -1;
    }
    stream *next = xcalloc(rkeys.n ? rkeys.n : 1, sizeof *next);
    for (size_t i = 0; i < rkeys.n; i++) {
        next[i].rkey = xstrdup(rkeys.v[i]);
        next[i].name = xstrdup(names.v[i]);
        for (size_t j = 0; j < v->n; j++)
            if (strcmp(v->streams[j].rkey, rkeys.v[i]) == 0)
                strcpy(next[i].last, v->streams[j].last);
    }
    free_streams(v);
    v->streams = next;
    v->n = rkeys.n;
    strlist_free(&rkeys);
    strlist_free(&names);
    return 0;
}

/* Sends one entry of stream st as a frame message, in one write straight
 * from the Redis reply. -1 when the viewer is gone. */
static int send_entry(stream *st, const frame_entry *e)
{
    buf hdr;
    buf_init(&hdr);
    frame_header_for_key(&hdr, st->name, e);
    struct iovec iov[3] = {
        { hdr.data, hdr.len }, { FRAME_DELIM, FRAME_DELIM_LEN },
        { e->val[FF_FRAME] ? (void *)e->val[FF_FRAME] : "", e->len[FF_FRAME] },
    };
    int rc = e->frame_pipe ? wsio_send_moved(iov, 2, e->frame_pipe, e->len[FF_FRAME]) : wsio_send(iov, 3);
    metrics_frame_sent(MX_EP_WS_LABELS, rc, e->len[FF_FRAME]);
    size_t hdr_len = hdr.len;
    buf_free(&hdr);
    snprintf(st->last, sizeof st->last, "%.*s", (int)e->id_len, e->id);
    if (rc == WSIO_TOO_BIG) {
        LOG_WARN("frame %s of '%s' too large for the pipe: skipped", st->last, st->name);
        rc = wsio_send_too_large(hdr_len + FRAME_DELIM_LEN + e->len[FF_FRAME]);
    }
    return rc == WSIO_GONE ? -1 : 0;
}

static stream *find_stream(viewer *v, const char *rkey)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->streams[i].rkey, rkey) == 0)
            return &v->streams[i];
    return NULL;
}

/* Each stream's newest entry not yet delivered, one XREVRANGE each (only_new:
 * just the streams that have had none yet, so a new viewer gets one frame per
 * camera at once; an XREAD from the start would bring the oldest first).
 * A viewer that fell behind takes such rounds instead of waiting in XREAD,
 * which would bring each stream's stale next entry first: every frame then
 * crosses from Redis once, and the viewer skips what it cannot show. It has
 * caught up once a round brings nothing, or nothing stale.
 * -1 on a Redis failure, -2 when the viewer is gone. */
static int newest_round(viewer *v, int only_new)
{
    int stale = 0;
    for (size_t i = 0; i < v->n; i++) {
        stream *st = &v->streams[i];
        if (only_new && st->last[0])
            continue;
        frame_entry e;
        int found = store_newest(v->s, st->rkey, st->last[0] ? st->last : NULL, &e);
        if (found < 0)
            return -1;
        if (found == 0 && !st->last[0]) /* emptied meanwhile: anything new is next */
            strcpy(st->last, "0-0");
        if (found == 0)
            continue;
        if (!only_new && !store_entry_fresh(v->s, &e)) {
            stale = 1;
            metrics_skipped(MX_EP_WS_LABELS);
        }
        if (send_entry(st, &e) < 0)
            return -2;
    }
    if (!only_new)
        v->behind = stale;
    return 0;
}

/* Redis failed: tell the viewer once, then pause before retrying (the store
 * reconnects with backoff). -1 if the viewer left meanwhile. */
static int redis_trouble(viewer *v)
{
    if (!v->redis_down_reported) {
        char why[300];
        snprintf(why, sizeof why, "Failed to fetch frames: %s", store_error(v->s));
        v->redis_down_reported = 1;
        if (wsio_send_error(why) == WSIO_GONE)
            return -1;
    }
    struct pollfd in = { .fd = STDIN_FILENO, .events = 0 };
    return poll(&in, 1, RETRY_MS) > 0 ? -1 : 0;
}

/* A stream's first new entry: sent if it is fresh; a stale one means the
 * viewer fell behind (see newest_round). */
static int on_news(void *ctx, const char *rkey, const frame_entry *e, int fresh)
{
    viewer *v = ctx;
    stream *st = find_stream(v, rkey);
    if (st && fresh)
        return send_entry(st, e);
    v->behind |= st != NULL;
    return 0;
}

/* One XREAD over every stream and delivery of what it brought.
 * -1 when the viewer is gone. */
static int wait_and_deliver(viewer *v, int block_ms)
{
    char **keys = xcalloc(v->n, sizeof *keys), **ids = xcalloc(v->n, sizeof *ids);
    for (size_t i = 0; i < v->n; i++) {
        keys[i] = v->streams[i].rkey;
        ids[i] = v->streams[i].last;
    }
    int rc = store_xread_each(v->s, v->n, keys, ids, block_ms, STDIN_FILENO, 1, on_news, v);
    free(keys);
    free(ids);
    if (rc != 0)
        return rc > 0 ? -1 : redis_trouble(v);
    v->redis_down_reported = 0;
    return 0;
}

static void watch(viewer *v)
{
    long long now = wsio_now_ms(), rescan_at = now;
    long long session_end = now + v->cfg->ws_max_session * 1000LL;
    for (;;) {
        now = wsio_now_ms();
        if (now >= session_end) {
            wsio_send_closing("session_timeout", "Session time limit reached");
            return;
        }
        if (now >= rescan_at) {
            if (rescan(v) < 0) {
                if (redis_trouble(v) < 0)
                    return;
                continue;
            }
            if (v->n == 0) { /* none at start, or all deleted since: done */
                char why[600];
                snprintf(why, sizeof why, "No keys found for label '%s'", v->label);
                wsio_send_error(why);
                return;
            }
            rescan_at = now + RESCAN_MS;
        }
        /* new streams' newest entries; every stream's, while behind */
        int caught = newest_round(v, !v->behind);
        if (caught == -2 || (caught < 0 && redis_trouble(v) < 0))
            return;
        if (caught < 0 || v->behind)
            continue;
        now = wsio_now_ms(); /* the round may have sent many large frames */
        long long until = rescan_at < session_end ? rescan_at : session_end;
        /* BLOCK 0 would mean forever */
        if (wait_and_deliver(v, until - now > 1 ? (int)(until - now) : 1) < 0)
            return;
    }
}

int main(void)
{
    config cfg;
    wsreq req;
    config_load_or_exit(&cfg, "ws-labels");
    wsio_init(false);
    /* Viewers read; a replica may serve them (REDIS_READ_URL). */
    store *s = store_new(cfg.redis_read_url, cfg.redis_timeout_ms);
    if (s)
        store_move_frames(s); /* frames go from Redis to websocketd by splice */
    int rc = wsreq_admitted(&req, wsreq_endpoint_of("ws-labels")) < 0;
    if (rc == 0) {
        viewer v = { .cfg = &cfg, .s = s, .label = req.label };
        metrics_connected(MX_EP_WS_LABELS);
        watch(&v);
        metrics_disconnected();
        wsio_linger();
        free_streams(&v);
    }
    wsreq_free(&req);
    store_free(s);
    return rc;
}
