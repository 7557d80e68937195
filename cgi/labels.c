/* labels.fcgi: GET /labels — the labels this caller may watch (API §3). */
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "config.h"
#include "fcgi_run.h"
#include "jsonw.h"
#include "ratelimit.h"

typedef struct app {
    config cfg;
    store *store;  /* primary: the rate-limit counters are writes */
    store *read;   /* REDIS_READ_URL: a replica may serve the listing */
} app;

/* Rate limit before authentication, so floods of bad tokens count too. */
static int rate_limited(app *a, const http_request *req, http_response *resp)
{
    int retry_after = 0;
    const char *client = ratelimit_client(&a->cfg, req->remote_addr, req->x_real_ip);
    int rc = ratelimit_hit(a->store, &a->cfg, "labels", client, &retry_after);
    if (rc < 0) {
        http_set_unavailable(resp, "Failed to fetch labels", a->store);
    } else if (rc > 0) {
        char secs[16];
        snprintf(secs, sizeof secs, "%d", retry_after);
        http_set_detail(resp, 429, "Too Many Requests");
        http_add_header(resp, "Retry-After", secs);
    }
    return rc != 0;
}

static bool may_view(const void *id, const char *label)
{
    return auth_may_view(id, label);
}

static void list_labels(app *a, const auth_identity *id, http_response *resp)
{
    strlist labels;
    strlist_init(&labels);
    if (catalog_labels(a->read, id ? may_view : NULL, id, &labels) < 0) {
        http_set_unavailable(resp, "Failed to fetch labels", a->read);
    } else {
        buf_puts(&resp->body, "{\"labels\": [");
        for (size_t i = 0; i < labels.n; i++) {
            if (i)
                buf_puts(&resp->body, ", ");
            jsonw_str(&resp->body, labels.v[i], strlen(labels.v[i]));
        }
        buf_puts(&resp->body, "]}");
    }
    strlist_free(&labels);
}

static void handle(FCGX_Request *rq, const http_request *req, http_response *resp, void *ud)
{
    app *a = ud;
    auth_identity id;
    (void)rq;
    if (strcmp(req->method, "OPTIONS") == 0) {
        http_set_preflight(resp, &a->cfg, req, "GET, OPTIONS");
        return;
    }
    http_add_cors(resp, &a->cfg, req);
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        http_set_detail(resp, 405, "Method Not Allowed");
        http_add_header(resp, "Allow", "GET, OPTIONS");
        return;
    }
    if (rate_limited(a, req, resp) || http_authenticate(&a->cfg, a->store, req, &id, resp) < 0)
        return;
    list_labels(a, &id, resp);
    auth_identity_free(&id);
}

int main(void)
{
    app a;
    config_load_or_exit(&a.cfg, "labels.fcgi");
    fcgi_open_stores(&a.cfg, &a.store, &a.read);
    int rc = fcgi_run(handle, &a, a.cfg.fcgi_workers);
    fcgi_close_stores(a.store, a.read);
    return rc;
}
