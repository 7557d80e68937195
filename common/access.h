/* access: token → identity for any transport: signature and claims, then the
 * optional revocation check against the auth service's user cache in Redis. */
#ifndef SW_ACCESS_H
#define SW_ACCESS_H

#include <stddef.h>

#include "auth.h"
#include "config.h"
#include "store.h"

enum access_result { ACCESS_OK = 0, ACCESS_DENIED = -1, ACCESS_UNAVAILABLE = -2 };

/* token may be NULL (none presented). On ACCESS_OK id is filled (release with
 * auth_identity_free); otherwise why says what to tell the client. */
enum access_result access_check(const config *cfg, store *s, const char *token, auth_identity *id,
                                char *why, size_t whylen);

#endif
