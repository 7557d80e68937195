/* wsreq: a WebSocket request as websocketd passes it (CGI-style environment):
 * path parameters, token, and who may watch what (PROTOCOL.md §2, §4). */
#ifndef SW_WSREQ_H
#define SW_WSREQ_H

#include <stdbool.h>
#include <stddef.h>

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

/* Reads REQUEST_URI (raw: websocketd has already decoded PATH_INFO, turning
 * %2F into '/'), takes nparams segments after prefix, percent-decodes and
 * checks each (label/key rules of §3). -1 with why on a bad path. */
int wsreq_parse(wsreq *r, const char *prefix, int nparams, char *why, size_t whylen);
void wsreq_free(wsreq *r);

/* Authenticates the request. required: a token must be presented (viewers
 * under WS_VIEWER_AUTH, and always /ws/frames); otherwise one that is
 * presented must still be valid. With a label, the identity must be allowed
 * to view it (an outside label is refused like an unknown one). */
enum access_result wsreq_admit(wsreq *r, const config *cfg, store *s, bool required, char *why,
                               size_t whylen);

/* parse + admit for a program's start: on refusal logs it, sends the client
 * {"error": why} and returns -1; the program then just exits. */
int wsreq_accept(wsreq *r, const char *prefix, int nparams, const config *cfg, store *s, bool required);

#endif
