/* auth: JWT verification (API §2) → the caller's identity and sites. */
#ifndef SW_AUTH_H
#define SW_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

typedef struct auth_identity {
    char *username;
    char *role;
    char *jti;        /* top-level jti, else subject.jti; NULL if none */
    char **sites;     /* subject.sites (labels a non-admin may see) */
    size_t nsites;
    bool admin;       /* role == "admin": sees every label */
} auth_identity;

/* Verifies token against secret and algorithm ("HS256", "HS384", "HS512"),
 * at time now. On success fills id (release with auth_identity_free) and
 * returns 0; otherwise -1 with a short reason in err, fit for the client.
 * Remembers the last token it accepted, so the same token again costs only
 * its time check: not for concurrent use from several threads. */
int auth_verify(const char *secret, const char *algorithm, const char *token, time_t now,
                auth_identity *id, char *err, size_t errlen);
void auth_identity_free(auth_identity *id);


/* Whether id may see label: admins see all, others only their sites. */
bool auth_may_view(const auth_identity *id, const char *label);

/* Whether jti is listed in the auth service's user cache value (JSON text
 * with "jti_list": [...]) — how the Python auth service revokes tokens. */
bool auth_jti_listed(const char *user_cache_json, const char *jti);

#endif
