/* ws-frames: /ws/frames under websocketd (text mode) — camera uploads over a
 * WebSocket, one JSON reply line per message, in order (PROTOCOL.md §4). */
#include <json-c/json.h>
#include <poll.h>
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

/* websocketd hands messages over without boundaries; when neither `size`
 * nor the image's structure says where a frame ends, the input going quiet
 * for QUIET_MS does (the client waits for each reply, PROTOCOL.md §4).
 * A message whose end is known but not yet here is declared cut short only
 * after STALL_MS: a busy host can pause websocketd mid-message. */
enum { QUIET_MS = 20, STALL_MS = 10000, HEADER_MAX = 5 << 20 };

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

/* Replies to every complete message the framer can cut now. */
static void drain_messages(const config *cfg, store *s, upframe *u, int idle)
{
    upframe_msg m;
    enum upframe_status st;
    while ((st = upframe_next(u, idle, &m)) != UPF_NEED_MORE) {
        if (st == UPF_ERROR) {
            LOG_INFO("message refused: %s", m.error);
            metrics_upload_error(m.error);
            reply_error(m.error);
        } else {
            store_message(cfg, s, &m);
        }
    }
}

static void serve(const config *cfg, store *s)
{
    static char chunk[1 << 16];
    upframe *u = upframe_new(cfg->max_frame_bytes, HEADER_MAX);
    long long session_end = wsio_now_ms() + cfg->ws_max_session * 1000LL;
    for (;;) {
        long long left = session_end - wsio_now_ms();
        if (left <= 0) {
            wsio_send_closing("session_timeout", "Session time limit reached");
            break;
        }
        struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
        enum upframe_quiet pending = upframe_pending(u);
        int wait = pending == UPF_QUIET ? QUIET_MS : pending == UPF_STALLED ? STALL_MS : 60000;
        int rc = poll(&p, 1, left < wait ? (int)left : wait);
        if (rc == 0) {
            drain_messages(cfg, s, u, pending);
            continue;
        }
        ssize_t n = rc > 0 ? wsio_read(chunk, sizeof chunk) : 0;
        if (n <= 0)
            break; /* the camera hung up: what it sent whole was answered */
        upframe_feed(u, chunk, (size_t)n);
        drain_messages(cfg, s, u, 0);
    }
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
    /* Uploads always need a token, whatever WS_VIEWER_AUTH says. */
    int rc = wsreq_accept(&req, "/ws/frames", 0, &cfg, s, true) < 0;
    if (rc == 0) {
        metrics_connected(MX_EP_WS_FRAMES);
        serve(&cfg, s);
        metrics_disconnected();
        wsio_linger();
    } else {
        metrics_upload(MX_EP_WS_FRAMES, 401, 0); /* refused at connect */
    }
    wsreq_free(&req);
    store_free(s);
    return rc;
}
