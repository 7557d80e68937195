/* auth: JWT checks libjwt 1.10 leaves to us (alg, exp, nbf, type) and identity. */
#include "auth.h"

#include <json-c/json.h>
#include <jwt.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xalloc.h"

static int fail(char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "%s", why);
    return -1;
}

static json_object *member(json_object *obj, const char *name)
{
    json_object *v = NULL;
    if (obj && json_object_is_type(obj, json_type_object))
        json_object_object_get_ex(obj, name, &v);
    return v;
}

/* json-c represents a JSON null as a NULL member: present, but member() gives NULL. */
static bool has_member(json_object *obj, const char *name)
{
    return obj && json_object_is_type(obj, json_type_object) && json_object_object_get_ex(obj, name, NULL);
}

static const char *string_member(json_object *obj, const char *name)
{
    json_object *v = member(obj, name);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static bool is_number(json_object *v)
{
    return v && (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double));
}

/* When a token is valid: before exp, and from nbf on if it has one. */
typedef struct validity {
    double exp, nbf;
    bool has_nbf;
} validity;

static int check_window(const validity *v, time_t now, char *err, size_t errlen)
{
    if (v->exp <= (double)now)
        return fail(err, errlen, "Token expired");
    if (v->has_nbf && v->nbf > (double)now)
        return fail(err, errlen, "Token not yet valid");
    return 0;
}

/* exp is required (a token that never expires is refused); nbf optional. */
static int check_times(json_object *claims, time_t now, validity *v, char *err, size_t errlen)
{
    json_object *exp = member(claims, "exp"), *nbf = member(claims, "nbf");
    if (!is_number(exp))
        return fail(err, errlen, "Invalid token: missing exp");
    if (has_member(claims, "nbf") && !is_number(nbf))
        return fail(err, errlen, "Invalid token: bad nbf");
    v->exp = json_object_get_double(exp);
    v->has_nbf = nbf != NULL;
    v->nbf = nbf ? json_object_get_double(nbf) : 0;
    return check_window(v, now, err, errlen);
}

static void copy_sites(json_object *subject, json_object *claims, auth_identity *id)
{
    json_object *sites = member(subject, "sites");
    if (!sites)
        sites = member(claims, "sites");
    if (!sites || !json_object_is_type(sites, json_type_array))
        return;
    size_t n = json_object_array_length(sites);
    id->sites = xcalloc(n, sizeof *id->sites);
    for (size_t i = 0; i < n; i++) {
        json_object *s = json_object_array_get_idx(sites, i);
        if (json_object_is_type(s, json_type_string))
            id->sites[id->nsites++] = xstrdup(json_object_get_string(s));
    }
}

static int read_identity(json_object *claims, auth_identity *id, char *err, size_t errlen)
{
    json_object *subject = member(claims, "subject");
    const char *type = string_member(claims, "type");
    if (has_member(claims, "type") && (!type || strcmp(type, "access") != 0))
        return fail(err, errlen, "Invalid token: not an access token");
    const char *user = string_member(subject, "username");
    if (!user)
        user = string_member(claims, "username");
    if (!user || !*user)
        return fail(err, errlen, "Invalid token: no username");
    const char *role = string_member(subject, "role");
    if (!role)
        role = string_member(claims, "role");
    const char *jti = string_member(claims, "jti");
    if (!jti)
        jti = string_member(subject, "jti");
    id->username = xstrdup(user);
    id->role = xstrdup(role ? role : "");
    id->jti = jti ? xstrdup(jti) : NULL;
    id->admin = role && strcmp(role, "admin") == 0;
    copy_sites(subject, claims, id);
    return 0;
}

/* libjwt 1.10 writes one byte past a zero-length buffer when a part of the
 * token is empty ("a..c", "x.y."), so only the compact JWS shape reaches it:
 * three non-empty base64url parts. */
static bool token_shape_ok(const char *t)
{
    int parts = 1;
    size_t seglen = 0;
    for (; *t; t++) {
        char c = *t;
        if (c == '.') {
            if (seglen == 0)
                return false;
            parts++;
            seglen = 0;
        } else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_') {
            seglen++;
        } else {
            return false;
        }
    }
    return parts == 3 && seglen > 0;
}

static void copy_identity(auth_identity *dst, const auth_identity *src)
{
    *dst = *src;
    dst->username = xstrdup(src->username);
    dst->role = xstrdup(src->role);
    dst->jti = src->jti ? xstrdup(src->jti) : NULL;
    dst->sites = src->nsites ? xcalloc(src->nsites, sizeof *dst->sites) : NULL;
    for (size_t i = 0; i < src->nsites; i++)
        dst->sites[i] = xstrdup(src->sites[i]);
}

/* The last token this process verified. A camera sends the same token with
 * every upload, and checking it again (libjwt's HMAC, which OpenSSL 3 runs
 * through a provider fetch on every call, and two JSON parses) was a quarter
 * of frames.fcgi's CPU per upload. The signature and claims are a function of
 * token, secret and algorithm alone, so only the time window is checked
 * again. Processes here are single-threaded (FastCGI workers are forked). */
static struct {
    char *token, *secret, *algorithm;
    validity when;
    auth_identity id;
} last;

/* The remembered token is somebody's valid one: compared in constant time,
 * so a caller cannot learn it byte by byte from how long a miss takes. */
static bool last_is(const char *secret, const char *algorithm, const char *token)
{
    size_t n = strlen(token);
    return last.token && strlen(last.token) == n && CRYPTO_memcmp(last.token, token, n) == 0 &&
           strcmp(last.secret, secret) == 0 && strcmp(last.algorithm, algorithm) == 0;
}

static void remember(const char *secret, const char *algorithm, const char *token,
                     const validity *when, const auth_identity *id)
{
    free(last.token);
    free(last.secret);
    free(last.algorithm);
    auth_identity_free(&last.id);
    last.token = xstrdup(token);
    last.secret = xstrdup(secret);
    last.algorithm = xstrdup(algorithm);
    last.when = *when;
    copy_identity(&last.id, id);
}

static int verify_jwt(const char *secret, const char *algorithm, const char *token, time_t now,
                      auth_identity *id, char *err, size_t errlen)
{
    jwt_t *jwt = NULL;
    json_object *claims = NULL;
    char *payload = NULL;
    int rc = -1;
    validity when;
    /* libjwt verifies the signature with the algorithm the token names, so
     * the named algorithm must be the configured one: this refuses "none",
     * HS512-with-our-secret and RS256 key-confusion tricks alike. */
    if (jwt_decode(&jwt, token, (const unsigned char *)secret, (int)strlen(secret)) != 0) {
        fail(err, errlen, "Invalid token");
        goto out;
    }
    if (strcmp(jwt_alg_str(jwt_get_alg(jwt)), algorithm) != 0) {
        fail(err, errlen, "Invalid token: algorithm not allowed");
        goto out;
    }
    payload = jwt_get_grants_json(jwt, NULL);
    claims = payload ? json_tokener_parse(payload) : NULL;
    if (!claims || !json_object_is_type(claims, json_type_object)) {
        fail(err, errlen, "Invalid token: bad payload");
        goto out;
    }
    if (check_times(claims, now, &when, err, errlen) == 0 && read_identity(claims, id, err, errlen) == 0) {
        remember(secret, algorithm, token, &when, id);
        rc = 0;
    }
out:
    if (rc < 0)
        auth_identity_free(id);
    json_object_put(claims);
    free(payload);
    jwt_free(jwt);
    return rc;
}

int auth_verify(const char *secret, const char *algorithm, const char *token, time_t now,
                auth_identity *id, char *err, size_t errlen)
{
    memset(id, 0, sizeof *id);
    if (!token || !*token)
        return fail(err, errlen, "Not authenticated");
    if (!token_shape_ok(token))
        return fail(err, errlen, "Invalid token");
    if (!last_is(secret, algorithm, token))
        return verify_jwt(secret, algorithm, token, now, id, err, errlen);
    if (check_window(&last.when, now, err, errlen) < 0)
        return -1;
    copy_identity(id, &last.id);
    return 0;
}

void auth_identity_free(auth_identity *id)
{
    for (size_t i = 0; i < id->nsites; i++)
        free(id->sites[i]);
    free(id->sites);
    free(id->username);
    free(id->role);
    free(id->jti);
    memset(id, 0, sizeof *id);
}

bool auth_may_view(const auth_identity *id, const char *label)
{
    if (id->admin)
        return true;
    for (size_t i = 0; i < id->nsites; i++)
        if (strcmp(id->sites[i], label) == 0)
            return true;
    return false;
}

bool auth_jti_listed(const char *user_cache_json, const char *jti)
{
    bool found = false;
    json_object *cache = user_cache_json ? json_tokener_parse(user_cache_json) : NULL;
    json_object *list = member(cache, "jti_list");
    if (jti && list && json_object_is_type(list, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(list) && !found; i++) {
            json_object *v = json_object_array_get_idx(list, i);
            found = json_object_is_type(v, json_type_string) &&
                    strcmp(json_object_get_string(v), jti) == 0;
        }
    }
    json_object_put(cache);
    return found;
}
