/* admit: whether a WebSocket upgrade is let in (API §2). */
#include "admit.h"

#include <stdio.h>

#include "access.h"

/* The token, and for a viewer the label's visibility. */
static enum access_result check(wsreq *r, const wsreq_endpoint *ep, const config *cfg, store *s, char *why,
                                size_t whylen)
{
    auth_identity id;
    if (!r->token && !wsreq_token_required(ep, cfg))
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

enum admit_verdict admit_judge(wsreq *r, const char *uri, const char *authorization, const wsreq_endpoint *ep,
                               const config *cfg, store *s, char *why, size_t whylen)
{
    if (wsreq_parse_uri(r, uri, authorization, ep->prefix, ep->nparams, why, whylen) < 0)
        return ADMIT_BAD_PATH;
    switch (check(r, ep, cfg, s, why, whylen)) {
    case ACCESS_OK:          return ADMIT_OK;
    case ACCESS_UNAVAILABLE: return ADMIT_UNAVAILABLE;
    default:                 return ADMIT_REFUSED;
    }
}
