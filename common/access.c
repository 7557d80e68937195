/* access: the one place a presented token is judged (API §2). */
#include "access.h"

#include <stdio.h>
#include <time.h>

#include "buf.h"
#include "log.h"

static enum access_result check_jti(store *s, const auth_identity *id, char *why, size_t whylen)
{
    buf key, val;
    buf_init(&key);
    buf_init(&val);
    buf_printf(&key, "construction-hazard-detection:user_cache:%s", id->username);
    int found = store_get(s, key.data, &val);
    enum access_result rc = ACCESS_OK;
    if (found < 0) {
        snprintf(why, whylen, "Failed to verify token: %s", store_error(s));
        rc = ACCESS_UNAVAILABLE;
    } else if (!found || !auth_jti_listed(val.data, id->jti)) {
        snprintf(why, whylen, "Invalid token: revoked or not active");
        rc = ACCESS_DENIED;
    }
    buf_free(&key);
    buf_free(&val);
    return rc;
}

enum access_result access_check(const config *cfg, store *s, const char *token, auth_identity *id,
                                char *why, size_t whylen)
{
    if (!token || !*token) {
        snprintf(why, whylen, "Not authenticated");
        return ACCESS_DENIED;
    }
    if (auth_verify(cfg->jwt_secret, cfg->jwt_algorithm, token, time(NULL), id, why, whylen) < 0) {
        LOG_INFO("token refused: %s", why);
        return ACCESS_DENIED;
    }
    enum access_result rc = cfg->jwt_require_active_jti ? check_jti(s, id, why, whylen) : ACCESS_OK;
    if (rc != ACCESS_OK)
        auth_identity_free(id);
    return rc;
}
