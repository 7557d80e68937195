/* authorize.fcgi: decides a WebSocket upgrade before the web server proxies it
 * to websocketd (nginx auth_request, lighttpd's FastCGI authorizer mode), by
 * the rules the ws programs apply themselves (API §2, common/wsreq). */
#include <string.h>

#include "admit.h"
#include "config.h"
#include "fcgi_run.h"
#include "log.h"
#include "metrics.h"
#include "wsreq.h"

typedef struct app {
    config cfg;
    store *store;   /* the jti check reads the auth service's user cache */
} app;

/* nginx's auth_request drops the authorizer's body (and turns any status but
 * 401 and 403 into 500), so the body also travels in a header, from which
 * deploy/nginx-site.conf.in rebuilds the answer; lighttpd passes status,
 * headers and body on as they are. */
static void refuse(http_response *resp, int status, const char *why)
{
    if (status == 401)
        http_set_unauthorized(resp, why);
    else
        http_set_detail(resp, status, why);
    http_add_header(resp, "X-Auth-Body", resp->body.data);
}

static void handle(FCGX_Request *rq, const http_request *req, http_response *resp, void *ud)
{
    app *a = ud;
    const char *uri = FCGX_GetParam("REQUEST_URI", rq->envp);
    const wsreq_endpoint *ep = uri ? wsreq_route(uri) : NULL;
    char why[300];
    wsreq r;
    if (!ep) {
        refuse(resp, 404, "Not Found");
        return;
    }
    wsreq_init(&r, NULL, req->remote_addr);
    enum admit_verdict v = admit_judge(&r, uri, req->authorization, ep, &a->cfg, a->store, why, sizeof why);
    if (v != ADMIT_OK) {
        LOG_INFO("refused %s on %s: %s", r.peer, ep->prefix, why);
        refuse(resp, v == ADMIT_BAD_PATH ? 404 : v == ADMIT_REFUSED ? 401 : 503, why);
        /* A camera refused here is an upload refused for its token, as
         * ws-admit counts one it refuses itself. */
        if (!ep->viewer && v == ADMIT_REFUSED)
            metrics_upload(MX_EP_WS_FRAMES, 401, 0);
    }
    wsreq_free(&r);
}

int main(void)
{
    app a;
    config_load_or_exit(&a.cfg, "authorize.fcgi");
    a.store = store_new(a.cfg.redis_url, a.cfg.redis_timeout_ms);
    int rc = fcgi_run(handle, &a, a.cfg.fcgi_workers);
    store_free(a.store);
    return rc;
}
