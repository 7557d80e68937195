/* redisurl: REDIS_URL in the forms redis-py accepts (without TLS). */
#include "redisurl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int copy(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        return -1;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

static int parse_db(const char *s, int *db)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < 0 || v > 65535)
        return -1;
    *db = (int)v;
    return 0;
}

static int parse_unix(const char *rest, redis_url *u, const char **err)
{
    const char *q = strchr(rest, '?');
    size_t n = q ? (size_t)(q - rest) : strlen(rest);
    if (n == 0 || copy(u->path, sizeof u->path, rest, n) < 0)
        return *err = "bad unix socket path", -1;
    if (q && (strncmp(q, "?db=", 4) != 0 || parse_db(q + 4, &u->db) < 0))
        return *err = "expected unix:///path[?db=N]", -1;
    return 0;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* copy, then %XX-decode in place as redis-py does (Python's unquote: a '%'
 * not followed by two hex digits stays as is); %00 cannot be carried. */
static int copy_unquoted(char *dst, size_t cap, const char *s, size_t n)
{
    if (copy(dst, cap, s, n) < 0)
        return -1;
    char *o = dst;
    for (const char *p = dst; *p; p++) {
        int hi, lo;
        if (p[0] == '%' && (hi = hexval(p[1])) >= 0 && (lo = hexval(p[2])) >= 0) {
            if (hi == 0 && lo == 0)
                return -1;
            *o++ = (char)(hi << 4 | lo);
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return 0;
}

static int parse_userinfo(const char *s, size_t n, redis_url *u)
{
    const char *colon = memchr(s, ':', n);
    if (!colon)
        return copy_unquoted(u->password, sizeof u->password, s, n);
    if (copy_unquoted(u->user, sizeof u->user, s, (size_t)(colon - s)) < 0)
        return -1;
    return copy_unquoted(u->password, sizeof u->password, colon + 1, n - (size_t)(colon - s) - 1);
}

static int parse_hostport(const char *s, size_t n, redis_url *u)
{
    const char *colon = NULL;
    if (n && s[0] == '[') { /* [::1]:6379 */
        const char *close = memchr(s, ']', n);
        if (!close || copy(u->host, sizeof u->host, s + 1, (size_t)(close - s - 1)) < 0)
            return -1;
        colon = close + 1 < s + n && close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = memchr(s, ':', n);
        if (copy(u->host, sizeof u->host, s, colon ? (size_t)(colon - s) : n) < 0)
            return -1;
    }
    if (colon) {
        char port[8];
        char *end;
        if (copy(port, sizeof port, colon + 1, (size_t)(s + n - colon - 1)) < 0)
            return -1;
        long p = strtol(port, &end, 10);
        if (end == port || *end || p < 1 || p > 65535)
            return -1;
        u->port = (int)p;
    }
    return u->host[0] ? 0 : -1;
}

int redisurl_parse(const char *url, redis_url *u, const char **err)
{
    memset(u, 0, sizeof *u);
    u->port = 6379;
    if (strncmp(url, "unix://", 7) == 0)
        return parse_unix(url + 7, u, err);
    if (strncmp(url, "redis://", 8) != 0)
        return *err = "expected redis://host:port/db or unix:///path", -1;
    const char *auth = url + 8, *slash = strchr(auth, '/');
    const char *end = slash ? slash : auth + strlen(auth);
    const char *at = memchr(auth, '@', (size_t)(end - auth));
    const char *host = at ? at + 1 : auth;
    if (at && parse_userinfo(auth, (size_t)(at - auth), u) < 0)
        return *err = "bad user or password", -1;
    if (parse_hostport(host, (size_t)(end - host), u) < 0)
        return *err = "bad host or port", -1;
    if (slash && slash[1] && parse_db(slash + 1, &u->db) < 0)
        return *err = "bad database number", -1;
    return 0;
}
