/* ws-frames: /ws/frames under websocketd (text mode) — camera uploads over a
 * WebSocket, one JSON reply line per message, in order (API §4). */
#include <json-c/json.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "jsonw.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "upframe.h"
#include "upload.h"
#include "wsio.h"
#include "wsreq.h"
#include "xalloc.h"

/* websocketd hands messages over without boundaries. A read that empties a
 * stdin pipe that was never full ends a message (wsio_input_ended); when it
 * cannot tell, and neither `size` nor the image's structure says where a
 * frame ends, the input going quiet for QUIET_MS does (the client waits for
 * each reply, API §4). A message whose end is known but not yet here
 * is declared cut short only after STALL_MS: a busy host can pause
 * websocketd mid-message. The stdin pipe starts at PIPE_START_BYTES (a 100
 * KB upload lands whole) and grows with larger messages. */
enum { QUIET_MS = 20, STALL_MS = 10000, HEADER_MAX = 5 << 20, PIPE_START_BYTES = 256 << 10 };
/* At the session's end (API §4, Sessions): a message received in
 * part gets FINISH_MS to arrive whole; after the closing message, uploads
 * the client sent before it saw that message are still stored and answered,
 * until the client hangs up, is quiet for GRACE_QUIET_MS, or GRACE_MS pass. */
enum { FINISH_MS = 5000, GRACE_QUIET_MS = 500, GRACE_MS = 3000 };

static const char stored_ok[] = "{\"status\": \"ok\", \"message\": \"Frame stored successfully.\"}";

static void reply_error(const char *msg)
{
    buf b;
    buf_init(&b);
    buf_puts(&b, "{\"status\": \"error\"");
    jsonw_field(&b, 0, "message", msg, strlen(msg));
    buf_putc(&b, '}');
    wsio_send_json(b.data, b.len);
    buf_free(&b);
}

static void store_message(const config *cfg, store *s, const upframe_msg *m)
{
    upload u;
    upload_check chk;
    upload_from_header(&u, m->header, m->frame, m->frame_len);
    if (upload_validate(&u, &chk) < 0) {
        buf why;
        buf_init(&why);
        upload_problems_text(&chk, &why);
        metrics_upload(MX_EP_WS_FRAMES, 422, 0);
        reply_error(why.data);
        buf_free(&why);
    } else if (upload_store(s, cfg, &u, &chk) < 0) {
        char why[300];
        snprintf(why, sizeof why, "Failed to store frame: %s", store_error(s));
        metrics_upload(MX_EP_WS_FRAMES, 503, 0);
        reply_error(why);
    } else {
        metrics_upload(MX_EP_WS_FRAMES, 200, m->frame_len);
        wsio_send_json(stored_ok, sizeof stored_ok - 1);
    }
}

/* Replies to every complete message the framer can cut now; how many. */
static size_t drain_messages(const config *cfg, store *s, upframe *u, int idle)
{
    upframe_msg m;
    enum upframe_status st;
    size_t n = 0;
    while ((st = upframe_next(u, idle, &m)) != UPF_NEED_MORE) {
        if (st == UPF_ERROR) {
            LOG_INFO("message refused: %s", m.error);
            metrics_upload_error(m.error);
            reply_error(m.error);
        } else {
            store_message(cfg, s, &m);
        }
        n++;
    }
    return n;
}

/* Waits for input until `until` at the latest and serves it; a silence as
 * long as the framer asked for is passed on to it. 1 input served, 0 none,
 * -1 the camera hung up (what it sent whole was answered). */
static int serve_until(const config *cfg, store *s, upframe *u, long long until)
{
    enum upframe_quiet pending = upframe_pending(u);
    int quiet = pending == UPF_QUIET ? QUIET_MS : pending == UPF_ENDED ? STALL_MS : -1;
    long long left = until - wsio_now_ms();
    int wait = left <= 0 ? 0 : left > 60000 ? 60000 : (int)left;
    if (quiet >= 0 && quiet <= wait)
        wait = quiet;
    else
        quiet = -1;                     /* the deadline comes first: no silence to report */
    struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
    int rc = poll(&p, 1, wait);
    if (rc <= 0) {
        if (rc == 0 && quiet >= 0)
            drain_messages(cfg, s, u, pending);
        return 0;
    }
    const char *data;
    ssize_t n = wsio_read_input(&data);
    if (n <= 0)
        return -1;
    upframe_feed(u, data, (size_t)n);
    if (wsio_input_ended(drain_messages(cfg, s, u, UPF_BUSY)))
        drain_messages(cfg, s, u, UPF_ENDED);
    return 1;
}

/* Serves until nothing received is unfinished or unread (FINISH_MS at
 * most); what is still cut short then is answered with its error. -1 if
 * the camera hung up meanwhile. */
static int finish_received(const config *cfg, store *s, upframe *u)
{
    long long finish_by = wsio_now_ms() + FINISH_MS;
    while ((upframe_pending(u) != UPF_BUSY || wsio_input_waiting()) && wsio_now_ms() < finish_by)
        if (serve_until(cfg, s, u, finish_by) < 0)
            return -1;
    drain_messages(cfg, s, u, UPF_ENDED);
    return 0;
}

/* The session is over: what was received, whole or in part, is finished
 * and answered before the closing message; then the uploads the camera sent
 * before it saw that message are taken too, and the connection ends only
 * between messages. -1 if the camera hung up meanwhile. */
static int finish_session(const config *cfg, store *s, upframe *u)
{
    if (finish_received(cfg, s, u) < 0)
        return -1;
    wsio_send_closing("session_timeout", "Session time limit reached");
    long long now = wsio_now_ms(), grace_end = now + GRACE_MS, last_input = now;
    for (; now < grace_end; now = wsio_now_ms()) {
        bool pending = upframe_pending(u) != UPF_BUSY;
        if (!pending && now - last_input >= GRACE_QUIET_MS)
            break;
        long long until = pending || last_input + GRACE_QUIET_MS > grace_end ? grace_end : last_input + GRACE_QUIET_MS;
        int rc = serve_until(cfg, s, u, until);
        if (rc < 0)
            return -1;
        if (rc > 0)
            last_input = wsio_now_ms();
    }
    return finish_received(cfg, s, u);
}

static void serve(const config *cfg, store *s)
{
    upframe *u = upframe_new(cfg->max_frame_bytes, HEADER_MAX);
    /* a message is at most a header, the delimiter and a frame (and a page
     * more lets a read tell its end) */
    wsio_input_init(PIPE_START_BYTES, cfg->max_frame_bytes + HEADER_MAX + (64 << 10));
    long long session_end = wsio_now_ms() + cfg->ws_max_session * 1000LL;
    int rc = 0;
    while (rc >= 0 && wsio_now_ms() < session_end)
        rc = serve_until(cfg, s, u, session_end);
    if (rc >= 0)
        finish_session(cfg, s, u);
    upframe_free(u);
}

int main(void)
{
    config cfg;
    wsreq req;
    config_load_or_exit(&cfg, "ws-frames");
    /* Each upload allocates and frees its frame twice (framer, Redis command). */
    xalloc_keep_heap(FRAME_HEAP_KEEP_BYTES);
    wsio_init(true);
    store *s = store_new(cfg.redis_url, cfg.redis_timeout_ms);
    int rc = wsreq_admitted(&req, wsreq_endpoint_of("ws-frames")) < 0;
    if (rc == 0) {
        metrics_connected(MX_EP_WS_FRAMES);
        serve(&cfg, s);
        metrics_disconnected();
    }
    wsreq_free(&req);
    store_free(s);
    return rc;
}
