/* wsreq: request path, token and admission for the WebSocket programs and their authorizer. */
#include "wsreq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "codec.h"
#include "log.h"
#include "wsio.h"
#include "xalloc.h"

/* The endpoints of PROTOCOL.md §4; the web server routes the same URLs. */
static const wsreq_endpoint endpoints[] = {
    { "/ws/labels/", 1, true },
    { "/ws/stream/", 2, true },
    { "/ws/frames", 0, false },
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
    const char *bearer = auth_bearer_token(authorization);
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

enum access_result wsreq_admit(wsreq *r, const config *cfg, store *s, bool required, char *why,
                               size_t whylen)
{
    auth_identity id;
    if (!r->token && !required)
        return ACCESS_OK;
    enum access_result rc = access_check(cfg, s, r->token, &id, why, whylen);
    if (rc != ACCESS_OK)
        return rc;
    if (r->label && !auth_may_view(&id, r->label)) {
        snprintf(why, whylen, "No keys found for label '%s'", r->label);
        rc = ACCESS_DENIED;
    }
    auth_identity_free(&id);
    return rc;
}

enum wsreq_verdict wsreq_judge(wsreq *r, const char *uri, const char *authorization, const char *prefix,
                               int nparams, const config *cfg, store *s, bool required, char *why,
                               size_t whylen)
{
    if (wsreq_parse_uri(r, uri, authorization, prefix, nparams, why, whylen) < 0)
        return WSREQ_BAD_PATH;
    switch (wsreq_admit(r, cfg, s, required, why, whylen)) {
    case ACCESS_OK:          return WSREQ_OK;
    case ACCESS_UNAVAILABLE: return WSREQ_UNAVAILABLE;
    default:                 return WSREQ_REFUSED;
    }
}

int wsreq_accept(wsreq *r, const char *prefix, int nparams, const config *cfg, store *s, bool required)
{
    char why[300];
    wsreq_init(r, getenv("HTTP_X_REAL_IP"), getenv("REMOTE_ADDR"));
    if (wsreq_judge(r, getenv("REQUEST_URI"), getenv("HTTP_AUTHORIZATION"), prefix, nparams, cfg, s,
                    required, why, sizeof why) == WSREQ_OK)
        return 0;
    LOG_INFO("refused %s: %s", r->peer, why);
    wsio_send_error(why);
    wsio_linger();
    return -1;
}
