/* wsreq: a WebSocket request's endpoint, path parameters and token. */
#include "wsreq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "log.h"
#include "wsio.h"
#include "xalloc.h"

/* The endpoints of API §4; the web server routes the same URLs.
 * /ws/frames runs under websocketd's text mode (its replies are lines). */
static const wsreq_endpoint endpoints[] = {
    { "/ws/labels/", 1, true, false, "ws-labels" },
    { "/ws/stream/", 2, true, false, "ws-stream" },
    { "/ws/frames", 0, false, true, "ws-frames" },
};

const wsreq_endpoint *wsreq_route(const char *uri)
{
    size_t pathlen = strcspn(uri, "?");
    for (size_t i = 0; i < sizeof endpoints / sizeof *endpoints; i++) {
        size_t plen = strlen(endpoints[i].prefix);
        /* a prefix with parameters starts the path; one without is all of it */
        if (pathlen >= plen && strncmp(uri, endpoints[i].prefix, plen) == 0 &&
            (endpoints[i].nparams || pathlen == plen))
            return &endpoints[i];
    }
    return NULL;
}

const wsreq_endpoint *wsreq_endpoint_of(const char *program)
{
    for (size_t i = 0; i < sizeof endpoints / sizeof *endpoints; i++)
        if (strcmp(endpoints[i].program, program) == 0)
            return &endpoints[i];
    return NULL;
}

bool wsreq_token_required(const wsreq_endpoint *ep, const config *cfg)
{
    return !ep->viewer || cfg->ws_viewer_auth;
}

static int bad(char *why, size_t whylen, const char *fmt, const char *detail)
{
    snprintf(why, whylen, fmt, detail);
    return -1;
}

/* Decodes one path segment into *out; -1 with why if not a valid name. */
static int take_segment(const char *s, size_t n, const char *what, char **out, char *why, size_t whylen)
{
    buf b;
    buf_init(&b);
    const char *problem = NULL;
    if (percent_decode(&b, s, n, false) < 0)
        problem = "bad percent-encoding";
    else if (memchr(b.data ? b.data : "", '\0', b.len))
        problem = "must not contain NUL";
    else
        problem = name_check(b.data ? b.data : "", b.len);
    if (problem) {
        char msg[160];
        snprintf(msg, sizeof msg, "Invalid %s: %s", what, problem);
        buf_free(&b);
        return bad(why, whylen, "%s", msg);
    }
    *out = b.data ? b.data : xstrdup("");
    return 0;
}

static void take_token(wsreq *r, const char *authorization, const char *query)
{
    const char *bearer = bearer_token(authorization);
    if (bearer) {
        r->token = xstrdup(bearer);
        return;
    }
    buf t;
    buf_init(&t);
    if (query && query_param(&t, query, "token") == 0 && t.len) {
        /* A decoded NUL would cut the C string short: no JWT holds one, so
         * such a token stays present, and invalid. */
        for (size_t i = 0; i < t.len; i++)
            if (t.data[i] == '\0')
                t.data[i] = '?';
        r->token = t.data;
    } else {
        buf_free(&t);
    }
}

int wsreq_parse_uri(wsreq *r, const char *uri, const char *authorization, const char *prefix,
                    int nparams, char *why, size_t whylen)
{
    if (!uri)
        return bad(why, whylen, "%s", "no REQUEST_URI: run under websocketd");
    const char *q = strchr(uri, '?');
    size_t plen = strlen(prefix), pathlen = q ? (size_t)(q - uri) : strlen(uri);
    take_token(r, authorization, q ? q + 1 : NULL);
    if (pathlen < plen || strncmp(uri, prefix, plen) != 0)
        return nparams ? bad(why, whylen, "Invalid path: expected %s...", prefix) : 0;
    const char *seg = uri + plen, *end = uri + pathlen;
    for (int i = 0; i < nparams; i++) {
        const char *slash = memchr(seg, '/', (size_t)(end - seg));
        const char *stop = i + 1 < nparams ? slash : end;
        if (!stop || (i + 1 == nparams && slash))
            return bad(why, whylen, "Invalid path: expected %s", nparams == 1 ? "{label}" : "{label}/{key}");
        if (take_segment(seg, (size_t)(stop - seg), i ? "key" : "label", i ? &r->key : &r->label, why, whylen) < 0)
            return -1;
        seg = stop + 1;
    }
    return 0;
}

void wsreq_init(wsreq *r, const char *x_real_ip, const char *remote_addr)
{
    memset(r, 0, sizeof *r);
    snprintf(r->peer, sizeof r->peer, "%s", x_real_ip && *x_real_ip ? x_real_ip : remote_addr ? remote_addr : "-");
}

int wsreq_parse(wsreq *r, const char *prefix, int nparams, char *why, size_t whylen)
{
    wsreq_init(r, getenv("HTTP_X_REAL_IP"), getenv("REMOTE_ADDR"));
    return wsreq_parse_uri(r, getenv("REQUEST_URI"), getenv("HTTP_AUTHORIZATION"), prefix, nparams, why, whylen);
}

void wsreq_free(wsreq *r)
{
    free(r->label);
    free(r->key);
    free(r->token);
    memset(r, 0, sizeof *r);
}

int wsreq_admitted(wsreq *r, const wsreq_endpoint *ep)
{
    char why[300];
    const char *admitted = getenv(WSREQ_ADMITTED);
    if (!admitted || strcmp(admitted, ep->prefix) != 0) {
        LOG_ERROR("%s was started without ws-admit: run it as `websocketd ... ws-admit %s`", ep->program,
                  ep->program);
        wsio_send_error("Server misconfigured: the connection was not admitted");
        wsio_linger();
        return -1;
    }
    if (wsreq_parse(r, ep->prefix, ep->nparams, why, sizeof why) < 0) { /* ws-admit checked it */
        LOG_ERROR("%s: %s", ep->program, why);
        wsio_send_error(why);
        return -1;
    }
    return 0;
}
