/* ws-stream: /ws/stream/{label}/{key} under websocketd --binary — one camera,
 * pull-based: ping → pong, pull → the newest frame not yet sent (API §4). */
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "wsio.h"
#include "wsreq.h"

enum { LINE_MAX_BYTES = 64 << 10 };

typedef struct session {
    const config *cfg;
    store *s;
    char *rkey;
    char last_id[64];   /* newest entry sent on this connection, "" if none */
} session;

/* Sends e as a frame message: header, delimiter and bytes in one write,
 * straight from the Redis reply. */
static int send_entry(session *ss, const frame_entry *e)
{
    buf hdr;
    buf_init(&hdr);
    frame_header_for_id(&hdr, e);
    struct iovec iov[3] = {
        { hdr.data, hdr.len }, { FRAME_DELIM, FRAME_DELIM_LEN }, { (void *)e->val[FF_FRAME], e->len[FF_FRAME] },
    };
    if (!e->val[FF_FRAME])
        iov[2].iov_base = "";
    int rc = wsio_send(iov, 3);
    metrics_frame_sent(MX_EP_WS_STREAM, rc, e->len[FF_FRAME]);
    size_t hdr_len = hdr.len;
    buf_free(&hdr);
    if (rc == WSIO_TOO_BIG)
        return wsio_send_too_large(hdr_len + FRAME_DELIM_LEN + e->len[FF_FRAME]);
    snprintf(ss->last_id, sizeof ss->last_id, "%.*s", (int)e->id_len, e->id);
    return rc;
}

typedef struct wait_result {
    session *ss;
    int got, sent;
} wait_result;

/* What the wait brought: sent at once when fresh (the newest, by all odds);
 * an older entry only says that there is news. */
static int on_news(void *ctx, const char *rkey, const frame_entry *e, int fresh)
{
    wait_result *w = ctx;
    (void)rkey;
    w->got = 1;
    if (!fresh)
        return 0;
    w->sent = 1;
    return send_entry(w->ss, e) == WSIO_GONE ? -1 : 0;
}

/* Waits up to PULL_WAIT_MS for an entry newer than the last one sent.
 * 2 sent already, 1 found (in *out), 0 none, -1 Redis failed, -2 the viewer left. */
static int wait_newer(session *ss, frame_entry *out)
{
    char *keys[1] = { ss->rkey }, *ids[1] = { ss->last_id[0] ? ss->last_id : "$" };
    wait_result w = { .ss = ss };
    int rc = store_xread_each(ss->s, 1, keys, ids, ss->cfg->pull_wait_ms, STDIN_FILENO, 0, on_news, &w);
    if (rc != 0)
        return rc > 0 ? -2 : -1;
    if (w.sent)
        return 2;
    return w.got ? store_newest(ss->s, ss->rkey, ss->last_id[0] ? ss->last_id : NULL, out) : 0;
}

static int pull(session *ss)
{
    frame_entry e;
    int rc = store_newest(ss->s, ss->rkey, ss->last_id[0] ? ss->last_id : NULL, &e);
    if (rc == 0 && ss->cfg->pull_wait_ms > 0)
        rc = wait_newer(ss, &e);
    if (rc == 0) /* nothing newer: re-send the newest, as the original does */
        rc = store_newest(ss->s, ss->rkey, NULL, &e);
    if (rc == 2)
        return 0;
    if (rc == -2)
        return -1;
    if (rc < 0) {
        char why[300];
        snprintf(why, sizeof why, "Failed to fetch frame: %s", store_error(ss->s));
        return wsio_send_error(why) == WSIO_GONE ? -1 : 0;
    }
    if (rc == 0)
        return wsio_send_error("No frames for this stream") == WSIO_GONE ? -1 : 0;
    rc = send_entry(ss, &e);
    return rc == WSIO_GONE ? -1 : 0;
}

/* One command line; -1 when the viewer is gone. */
static int command(session *ss, const char *line, size_t len)
{
    static const char pong[] = "{\"action\": \"pong\"}";
    json_tokener *tok = json_tokener_new();
    json_object *cmd = json_tokener_parse_ex(tok, line, (int)len), *action = NULL;
    int complete = json_tokener_get_error(tok) == json_tokener_success;
    json_tokener_free(tok);
    int rc;
    if (!cmd || !complete)
        rc = wsio_send_error("Invalid JSON format");
    else if (!json_object_object_get_ex(cmd, "action", &action) || !json_object_is_type(action, json_type_string))
        rc = wsio_send_error("unknown action");
    else if (strcmp(json_object_get_string(action), "ping") == 0)
        rc = wsio_send_json(pong, sizeof pong - 1);
    else if (strcmp(json_object_get_string(action), "pull") == 0)
        rc = pull(ss);
    else
        rc = wsio_send_error("unknown action");
    json_object_put(cmd);
    return rc == WSIO_GONE ? -1 : 0;
}

/* Runs the commands of each complete line in lb; -1 when the viewer is gone. */
static int run_lines(session *ss, buf *lb)
{
    char *nl;
    while (lb->len && (nl = memchr(lb->data, '\n', lb->len)) != NULL) {
        size_t len = (size_t)(nl - lb->data);
        int rc = len ? command(ss, lb->data, len) : 0;
        buf_consume(lb, len + 1);
        if (rc < 0)
            return -1;
    }
    if (lb->len > LINE_MAX_BYTES) { /* no newline in sight: not a command */
        buf_reset(lb);
        return wsio_send_error("Invalid JSON format") == WSIO_GONE ? -1 : 0;
    }
    return 0;
}

static void serve(session *ss)
{
    static char chunk[1 << 14];
    buf lb;
    buf_init(&lb);
    long long now = wsio_now_ms(), idle_end = now + ss->cfg->ws_idle_timeout * 1000LL;
    long long session_end = now + ss->cfg->ws_max_session * 1000LL;
    for (;;) {
        now = wsio_now_ms();
        if (now >= session_end) {
            wsio_send_closing("session_timeout", "Session time limit reached");
            break;
        }
        if (now >= idle_end) {
            wsio_send_closing("idle_timeout", "No command received in time");
            break;
        }
        struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
        long long until = idle_end < session_end ? idle_end : session_end;
        if (poll(&p, 1, (int)(until - now)) <= 0)
            continue;
        ssize_t n = wsio_read(chunk, sizeof chunk);
        if (n <= 0)
            break;
        buf_append(&lb, chunk, (size_t)n);
        idle_end = wsio_now_ms() + ss->cfg->ws_idle_timeout * 1000LL;
        if (run_lines(ss, &lb) < 0)
            break;
    }
    buf_free(&lb);
}

int main(void)
{
    config cfg;
    wsreq req;
    buf rkey;
    config_load_or_exit(&cfg, "ws-stream");
    wsio_init(false);
    /* Viewers read; a replica may serve them (REDIS_READ_URL). */
    store *s = store_new(cfg.redis_read_url, cfg.redis_timeout_ms);
    buf_init(&rkey);
    int rc = wsreq_admitted(&req, wsreq_endpoint_of("ws-stream")) < 0;
    if (rc == 0) {
        stream_key_build(&rkey, req.label, req.key);
        session ss = { .cfg = &cfg, .s = s, .rkey = rkey.data, .last_id = "" };
        metrics_connected(MX_EP_WS_STREAM);
        serve(&ss);
        metrics_disconnected();
        wsio_linger();
    }
    buf_free(&rkey);
    wsreq_free(&req);
    store_free(s);
    return rc;
}
