/* status.fcgi: GET /healthz (does Redis answer?) for load balancers and
 * systemd, GET /metrics (Prometheus text) for the scrapers METRICS_ALLOW names. */
#include <string.h>

#include "cidr.h"
#include "config.h"
#include "fcgi_run.h"
#include "health.h"
#include "metrics.h"
#include "ratelimit.h"

typedef struct app {
    config cfg;
    store *store;  /* REDIS_URL, where uploads go */
    store *read;   /* REDIS_READ_URL, where viewers read */
} app;

static void metrics(app *a, const http_request *req, http_response *resp)
{
    /* The peer, or the client a trusted proxy names, as the rate limit sees it. */
    const char *client = ratelimit_client(&a->cfg, req->remote_addr, req->x_real_ip);
    if (!cidr_list_match(a->cfg.metrics_allow, client)) {
        http_set_detail(resp, 403, "Forbidden: /metrics answers the addresses in METRICS_ALLOW only");
    } else if (metrics_expose(&resp->body) < 0) {
        http_set_detail(resp, 503, metrics_state());
    } else {
        resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    }
}

static void handle(FCGX_Request *rq, const http_request *req, http_response *resp, void *ud)
{
    app *a = ud;
    const char *uri = FCGX_GetParam("REQUEST_URI", rq->envp);
    size_t n = uri ? strcspn(uri, "?") : 0;
    http_add_header(resp, "Cache-Control", "no-store");
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        http_set_detail(resp, 405, "Method Not Allowed");
        http_add_header(resp, "Allow", "GET, HEAD");
    } else if (n == 8 && memcmp(uri, "/healthz", 8) == 0) {
        resp->status = health_check(a->store, a->read, &resp->body);
    } else if (n == 8 && memcmp(uri, "/metrics", 8) == 0) {
        metrics(a, req, resp);
    } else {
        http_set_detail(resp, 404, "Not Found");
    }
}

int main(void)
{
    app a;
    config_load_or_exit(&a.cfg, "status.fcgi");
    fcgi_open_stores(&a.cfg, &a.store, &a.read);
    int rc = fcgi_run(handle, &a, a.cfg.fcgi_workers);
    fcgi_close_stores(a.store, a.read);
    return rc;
}
