/* frames.fcgi: POST /frames — store one camera frame (API §3). */
#include <string.h>

#include "config.h"
#include "fcgi_run.h"
#include "form.h"
#include "metrics.h"
#include "upload.h"
#include "xalloc.h"

typedef struct app {
    config cfg;
    store *store;
} app;

static const char stored_ok[] = "{\"status\": \"ok\", \"message\": \"Frame stored successfully.\"}";

/* Streams the body through the multipart parser; 0 when it was read whole. */
static int read_form(FCGX_Request *rq, form *f)
{
    char chunk[65536];
    int n;
    while ((n = FCGX_GetStr(chunk, sizeof chunk, rq->in)) > 0)
        if (form_feed(f, chunk, (size_t)n) < 0)
            return -1;
    return form_finish(f);
}

/* 0 once stored. */
static int store_upload(app *a, const upload *u, http_response *resp)
{
    upload_check chk;
    if (upload_validate(u, &chk) < 0) {
        resp->status = 422;
        upload_problems_json(&chk, &resp->body);
    } else if (upload_store(a->store, &a->cfg, u, &chk) < 0) {
        http_set_unavailable(resp, "Failed to store frame", a->store);
    } else {
        buf_puts(&resp->body, stored_ok);
        return 0;
    }
    return -1;
}

/* Authenticates, reads and stores one upload: the stored image's size, or 0. */
static size_t receive(app *a, FCGX_Request *rq, const http_request *req, http_response *resp)
{
    auth_identity id;
    int status;
    size_t stored = 0;
    /* Authenticate before reading a body of up to MAX_FRAME_BYTES. */
    if (http_authenticate(&a->cfg, a->store, req, &id, resp) < 0)
        return 0;
    auth_identity_free(&id);
    form *f = form_new(req->content_type, a->cfg.max_frame_bytes, &status);
    if (!f) {
        http_set_detail(resp, status, "Unsupported Media Type: expected multipart/form-data");
    } else if (read_form(rq, f) < 0) {
        http_set_detail(resp, form_status(f), form_error(f));
    } else {
        upload u;
        form_upload(f, &u);
        if (store_upload(a, &u, resp) == 0)
            stored = u.len[FF_FRAME];
    }
    form_free(f);
    return stored;
}

static void handle(FCGX_Request *rq, const http_request *req, http_response *resp, void *ud)
{
    app *a = ud;
    if (strcmp(req->method, "OPTIONS") == 0) {
        http_set_preflight(resp, &a->cfg, req, "POST, OPTIONS");
        return;
    }
    http_add_cors(resp, &a->cfg, req);
    if (strcmp(req->method, "POST") != 0) {
        http_set_detail(resp, 405, "Method Not Allowed");
        http_add_header(resp, "Allow", "POST, OPTIONS");
        return;
    }
    size_t stored = receive(a, rq, req, resp);
    metrics_upload(MX_EP_FRAMES, resp->status, stored);
}

int main(void)
{
    app a;
    config_load_or_exit(&a.cfg, "frames.fcgi");
    /* Each upload allocates and frees its frame twice (form, Redis command). */
    xalloc_keep_heap(FRAME_HEAP_KEEP_BYTES);
    a.store = store_new(a.cfg.redis_url, a.cfg.redis_timeout_ms);
    int rc = fcgi_run(handle, &a, a.cfg.fcgi_workers);
    store_free(a.store);
    return rc;
}
