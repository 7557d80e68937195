/* config: environment → struct config, with defaults that work out of the box. */
#include "config.h"

#include "cidr.h"
#include "metrics.h"
#include "redisurl.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct env_error {
    char *msg;
    size_t len;
} env_error;

static int bad(env_error *e, const char *name, const char *value, const char *why)
{
    snprintf(e->msg, e->len, "%s=%s: %s", name, value, why);
    return -1;
}

static int get_str(env_error *e, const char *name, const char *def, char *out, size_t outlen)
{
    const char *v = getenv(name);
    if (!v)
        v = def;
    if (strlen(v) >= outlen)
        return bad(e, name, "...", "value too long");
    strcpy(out, v);
    return 0;
}

static int get_long(env_error *e, const char *name, long def, long min, long max, long *out)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || end == v)
        return bad(e, name, v, "not an integer");
    if (n < min || n > max) {
        char why[96];
        snprintf(why, sizeof why, "must be between %ld and %ld", min, max);
        return bad(e, name, v, why);
    }
    *out = n;
    return 0;
}

static int get_int(env_error *e, const char *name, long def, long min, long max, int *out)
{
    long n;
    if (get_long(e, name, def, min, max, &n) < 0)
        return -1;
    *out = (int)n;
    return 0;
}

static int get_bool(env_error *e, const char *name, bool def, bool *out)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    static const char *yes[] = { "1", "true", "yes", "on" }, *no[] = { "0", "false", "no", "off" };
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
            *out = strcasecmp(v, yes[i]) == 0;
            return 0;
        }
    }
    return bad(e, name, v, "expected true or false");
}

/* RATE_LIMIT_LABELS is "count/seconds" (the original's 60 calls per 60 s) or "0" for off. */
static int get_rate(env_error *e, config *c)
{
    const char *v = getenv("RATE_LIMIT_LABELS");
    c->rate_limit_count = 60;
    c->rate_limit_window = 60;
    if (!v || !*v)
        return 0;
    if (strcmp(v, "0") == 0 || strcasecmp(v, "off") == 0) {
        c->rate_limit_count = 0;
        return 0;
    }
    char *slash, *end = NULL;
    errno = 0;
    long count = strtol(v, &slash, 10), window = *slash == '/' ? strtol(slash + 1, &end, 10) : 0;
    if (errno || slash == v || *slash != '/' || end == slash + 1 || *end || count < 1 ||
        count > 1000000 || window < 1 || window > 86400)
        return bad(e, "RATE_LIMIT_LABELS", v, "expected COUNT/SECONDS, e.g. 60/60, or 0 to disable");
    c->rate_limit_count = (int)count;
    c->rate_limit_window = (int)window;
    return 0;
}

static int get_algorithm(env_error *e, config *c)
{
    if (get_str(e, "JWT_ALGORITHM", "HS256", c->jwt_algorithm, sizeof c->jwt_algorithm) < 0)
        return -1;
    if (strcmp(c->jwt_algorithm, "HS256") && strcmp(c->jwt_algorithm, "HS384") &&
        strcmp(c->jwt_algorithm, "HS512"))
        return bad(e, "JWT_ALGORITHM", c->jwt_algorithm, "supported: HS256, HS384, HS512");
    return 0;
}

static int get_secret(env_error *e, config *c)
{
    if (get_str(e, "JWT_SECRET_KEY", "", c->jwt_secret, sizeof c->jwt_secret) < 0)
        return -1;
    /* No default: a guessable secret would let anyone mint tokens. */
    if (!c->jwt_secret[0])
        return bad(e, "JWT_SECRET_KEY", "", "not set (the HS256 secret shared with the auth service)");
    return 0;
}

static int get_log_level(env_error *e, config *c)
{
    const char *v = getenv("LOG_LEVEL");
    c->log_level = LOG_LVL_INFO;
    if (v && *v && log_level_parse(v, &c->log_level) < 0)
        return bad(e, "LOG_LEVEL", v, "expected error, warn, info or debug");
    return 0;
}

static int get_redis(env_error *e, config *c)
{
    if (get_str(e, "REDIS_URL", "redis://127.0.0.1:6379/0", c->redis_url, sizeof c->redis_url) < 0 ||
        get_str(e, "REDIS_READ_URL", c->redis_url, c->redis_read_url, sizeof c->redis_read_url) < 0)
        return -1;
    if (!c->redis_read_url[0])
        strcpy(c->redis_read_url, c->redis_url);
    redis_url u;
    const char *why;
    if (redisurl_parse(c->redis_url, &u, &why) < 0)
        return bad(e, "REDIS_URL", c->redis_url, why);
    if (redisurl_parse(c->redis_read_url, &u, &why) < 0)
        return bad(e, "REDIS_READ_URL", c->redis_read_url, why);
    return get_int(e, "REDIS_TIMEOUT_MS", 1000, 10, 60000, &c->redis_timeout_ms);
}

/* METRICS_FILE: an absolute path (every program must find the same file,
 * whatever its working directory), or "off". */
static int get_metrics(env_error *e, config *c)
{
    if (get_str(e, "METRICS_FILE", "", c->metrics_file, sizeof c->metrics_file) < 0 ||
        get_str(e, "METRICS_ALLOW", "", c->metrics_allow, sizeof c->metrics_allow) < 0)
        return -1;
    if (!c->metrics_file[0])
        strcpy(c->metrics_file, "/run/streamweb/metrics");
    else if (strcmp(c->metrics_file, "off") == 0)
        c->metrics_file[0] = '\0';
    else if (c->metrics_file[0] != '/')
        return bad(e, "METRICS_FILE", c->metrics_file, "must be an absolute path, or off");
    char why[128];
    if (!c->metrics_allow[0])
        strcpy(c->metrics_allow, "127.0.0.0/8, ::1");
    else if (strcmp(c->metrics_allow, "none") == 0)
        c->metrics_allow[0] = '\0';
    else if (cidr_list_check(c->metrics_allow, why, sizeof why) < 0)
        return bad(e, "METRICS_ALLOW", c->metrics_allow, why);
    return 0;
}

int config_load(config *c, char *err, size_t errlen)
{
    env_error e = { err, errlen };
    long maxframe;
    memset(c, 0, sizeof *c);
    if (get_redis(&e, c) < 0 || get_secret(&e, c) < 0 || get_algorithm(&e, c) < 0 ||
        get_bool(&e, "JWT_REQUIRE_ACTIVE_JTI", false, &c->jwt_require_active_jti) < 0 ||
        get_long(&e, "STREAM_MAXLEN", 10, 1, 1000000, &c->stream_maxlen) < 0 ||
        get_long(&e, "MAX_FRAME_BYTES", 8L << 20, 1, 256L << 20, &maxframe) < 0 ||
        get_str(&e, "CORS_ALLOW_ORIGINS", "*", c->cors_allow_origins, sizeof c->cors_allow_origins) < 0 ||
        get_rate(&e, c) < 0 ||
        get_str(&e, "TRUSTED_PROXIES", "", c->trusted_proxies, sizeof c->trusted_proxies) < 0 ||
        get_int(&e, "PULL_WAIT_MS", 1000, 0, 60000, &c->pull_wait_ms) < 0 ||
        get_int(&e, "WS_IDLE_TIMEOUT_SECONDS", 60, 1, 86400, &c->ws_idle_timeout) < 0 ||
        get_int(&e, "WS_MAX_SESSION_SECONDS", 1800, 1, 7 * 86400, &c->ws_max_session) < 0 ||
        get_bool(&e, "WS_VIEWER_AUTH", true, &c->ws_viewer_auth) < 0 || get_log_level(&e, c) < 0 ||
        get_int(&e, "FCGI_WORKERS", 2, 1, 256, &c->fcgi_workers) < 0 || get_metrics(&e, c) < 0)
        return -1;
    c->max_frame_bytes = (size_t)maxframe;
    return 0;
}

void config_load_or_exit(config *cfg, const char *program)
{
    char err[CONFIG_ERR_LEN];
    log_set_program(program);
    if (config_load(cfg, err, sizeof err) < 0) {
        fprintf(stderr, "%s: bad configuration: %s\n", program, err);
        exit(2);
    }
    log_threshold = cfg->log_level;
    metrics_open(cfg->metrics_file, program); /* a refused file is logged; the program serves on */
}
