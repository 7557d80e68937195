/* wsreq: a WebSocket upgrade request — path parameters, token, and whether it
 * is admitted (PROTOCOL.md §2, §4). One decision in one place: the ws
 * programs make it from websocketd's environment, authorize.fcgi from what
 * the web server asks before the upgrade. */
#ifndef SW_WSREQ_H
#define SW_WSREQ_H

#include <stdbool.h>
#include <stddef.h>

#include "access.h"
#include "auth.h"
#include "buf.h"
#include "config.h"
#include "store.h"

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
} wsreq_endpoint;

/* The endpoint a raw request URI (path and query) is for; NULL if none. */
const wsreq_endpoint *wsreq_route(const char *uri);
/* Whether the endpoint needs a token under this configuration. */
bool wsreq_token_required(const wsreq_endpoint *ep, const config *cfg);

enum wsreq_verdict { WSREQ_OK = 0, WSREQ_BAD_PATH, WSREQ_REFUSED, WSREQ_UNAVAILABLE };

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

/* Authenticates the request. required: a token must be presented (viewers
 * under WS_VIEWER_AUTH, and always /ws/frames); otherwise one that is
 * presented must still be valid. With a label, the identity must be allowed
 * to view it (an outside label is refused like an unknown one). */
enum access_result wsreq_admit(wsreq *r, const config *cfg, store *s, bool required, char *why,
                               size_t whylen);

/* The whole decision: parse, then admit. why says what to tell the client. */
enum wsreq_verdict wsreq_judge(wsreq *r, const char *uri, const char *authorization, const char *prefix,
                               int nparams, const config *cfg, store *s, bool required, char *why,
                               size_t whylen);

/* wsreq_judge for a program's start, from websocketd's environment: on
 * refusal logs it, sends the client {"error": why} and returns -1; the
 * program then just exits. */
int wsreq_accept(wsreq *r, const char *prefix, int nparams, const config *cfg, store *s, bool required);

#endif
