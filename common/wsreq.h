/* wsreq: a WebSocket upgrade request — its endpoint, path parameters and
 * token (API §2, §4); whether it is let in is admit's decision. */
#ifndef SW_WSREQ_H
#define SW_WSREQ_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

typedef struct wsreq {
    char *label;        /* decoded path parameters, validated; NULL if none */
    char *key;
    char *token;        /* Authorization: Bearer, else ?token=; NULL if none */
    char peer[80];      /* for log lines */
} wsreq;

/* A WebSocket endpoint: its URL prefix and path parameters. */
typedef struct wsreq_endpoint {
    const char *prefix;     /* "/ws/labels/"; "/ws/frames" is the whole path */
    int nparams;            /* path segments after the prefix: label, then key */
    bool viewer;            /* public when WS_VIEWER_AUTH=false; uploads never are */
    bool text_mode;         /* websocketd runs its program without --binary */
    const char *program;    /* "ws-labels" */
} wsreq_endpoint;

/* The endpoint a raw request URI (path and query) is for; NULL if none. */
const wsreq_endpoint *wsreq_route(const char *uri);
/* The endpoint a ws program serves, by its name; NULL if none. */
const wsreq_endpoint *wsreq_endpoint_of(const char *program);
/* Whether the endpoint needs a token under this configuration. */
bool wsreq_token_required(const wsreq_endpoint *ep, const config *cfg);

/* An empty request from peer (X-Real-IP if set, else the remote address). */
void wsreq_init(wsreq *r, const char *x_real_ip, const char *remote_addr);

/* Parses uri into r (made by wsreq_init), the raw request target (websocketd has already decoded
 * PATH_INFO, turning %2F into '/', so path parameters come from here):
 * takes nparams segments after prefix, percent-decodes and checks each
 * (label/key rules of §3); the token from authorization (an Authorization
 * header value, may be NULL), else from the query's token=. -1 with why on
 * a bad path. */
int wsreq_parse_uri(wsreq *r, const char *uri, const char *authorization, const char *prefix,
                    int nparams, char *why, size_t whylen);
/* wsreq_parse_uri with websocketd's REQUEST_URI and HTTP_AUTHORIZATION. */
int wsreq_parse(wsreq *r, const char *prefix, int nparams, char *why, size_t whylen);
void wsreq_free(wsreq *r);

/* ws-admit lets a connection in, then execs the endpoint's program with
 * this variable set to the endpoint's prefix. Not an HTTP_ name: a client
 * cannot set it (websocketd passes headers on as HTTP_*). */
#define WSREQ_ADMITTED "STREAMWEB_ADMITTED"

/* For a ws program at start: the request ws-admit admitted, parsed from
 * websocketd's environment. -1 if the program was not started by ws-admit
 * for this endpoint (logged, the client told), and it then just exits. */
int wsreq_admitted(wsreq *r, const wsreq_endpoint *ep);

#endif
