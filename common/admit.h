/* admit: whether a WebSocket upgrade is let in (API §2): the token
 * (signature, claims, revocation) and, for a viewer, the label's visibility.
 * One decision in one place: authorize.fcgi makes it before the web server
 * proxies an upgrade, ws-admit before websocketd's program starts. */
#ifndef SW_ADMIT_H
#define SW_ADMIT_H

#include <stddef.h>

#include "config.h"
#include "store.h"
#include "wsreq.h"

enum admit_verdict { ADMIT_OK = 0, ADMIT_BAD_PATH, ADMIT_REFUSED, ADMIT_UNAVAILABLE };

/* Parses uri (the raw request target) and authorization (an Authorization
 * header value, may be NULL) into r (made by wsreq_init) for endpoint ep, and
 * admits it: a token must be presented where wsreq_token_required says so,
 * one presented anyway must still be valid, and with a label the identity
 * must be allowed to view it (an outside label is refused like an unknown
 * one). why says what to tell the client. */
enum admit_verdict admit_judge(wsreq *r, const char *uri, const char *authorization, const wsreq_endpoint *ep,
                               const config *cfg, store *s, char *why, size_t whylen);

#endif
