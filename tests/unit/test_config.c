/* test_config: environment → struct config (defaults, every rejection names its
 * variable) and REDIS_URL parsing. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "harness.h"
#include "redisurl.h"

static const char *const all_vars[] = {
    "REDIS_URL", "REDIS_READ_URL", "REDIS_TIMEOUT_MS", "JWT_SECRET_KEY", "JWT_ALGORITHM",
    "JWT_REQUIRE_ACTIVE_JTI", "STREAM_MAXLEN", "MAX_FRAME_BYTES", "CORS_ALLOW_ORIGINS",
    "RATE_LIMIT_LABELS", "TRUSTED_PROXIES", "PULL_WAIT_MS", "WS_IDLE_TIMEOUT_SECONDS",
    "WS_MAX_SESSION_SECONDS", "WS_VIEWER_AUTH", "LOG_LEVEL", "FCGI_WORKERS", "METRICS_FILE", "METRICS_ALLOW",
};

/* Only JWT_SECRET_KEY set. */
static void reset_env(void)
{
    for (size_t i = 0; i < sizeof all_vars / sizeof all_vars[0]; i++)
        unsetenv(all_vars[i]);
    setenv("JWT_SECRET_KEY", "s3cret", 1);
}

static int load(config *c, char *err, size_t errlen)
{
    err[0] = '\0';
    return config_load(c, err, errlen);
}

/* With name=value (on top of reset_env) loading must succeed. */
static config load_ok(const char *name, const char *value)
{
    config c;
    char err[CONFIG_ERR_LEN];
    reset_env();
    setenv(name, value, 1);
    int rc = load(&c, err, sizeof err);
    CHECK(rc == 0, "%s=%s rejected: %s", name, value, err);
    return c;
}

/* With name=value loading must fail with a message naming name. */
static void load_bad(const char *name, const char *value)
{
    config c;
    char err[CONFIG_ERR_LEN];
    reset_env();
    setenv(name, value, 1);
    int rc = load(&c, err, sizeof err);
    CHECK(rc == -1, "%s=%s accepted", name, value);
    CHECK(strstr(err, name) != NULL, "%s=%s: message \"%s\" does not name the variable", name, value, err);
}

/* ---- defaults ---- */

static void test_defaults(void)
{
    config c;
    char err[CONFIG_ERR_LEN];
    reset_env();
    CHECK(load(&c, err, sizeof err) == 0, "defaults rejected: %s", err);
    CHECK_STR(c.jwt_secret, "s3cret");
    CHECK(c.stream_maxlen == 10, "STREAM_MAXLEN default %ld", c.stream_maxlen);
    CHECK(c.max_frame_bytes == 8u * 1024 * 1024, "MAX_FRAME_BYTES default %zu", c.max_frame_bytes);
    CHECK(c.pull_wait_ms == 1000, "PULL_WAIT_MS default %d", c.pull_wait_ms);
    CHECK(c.ws_idle_timeout == 60, "WS_IDLE_TIMEOUT_SECONDS default %d", c.ws_idle_timeout);
    CHECK(c.ws_max_session == 1800, "WS_MAX_SESSION_SECONDS default %d", c.ws_max_session);
    CHECK(c.rate_limit_count == 60 && c.rate_limit_window == 60, "RATE_LIMIT_LABELS default %d/%d",
          c.rate_limit_count, c.rate_limit_window);
    CHECK_STR(c.cors_allow_origins, "*");
    CHECK_STR(c.jwt_algorithm, "HS256");
    CHECK(c.ws_viewer_auth == true, "WS_VIEWER_AUTH default false");
    CHECK(c.jwt_require_active_jti == false, "JWT_REQUIRE_ACTIVE_JTI default true");
    CHECK(c.log_level == LOG_LVL_INFO, "LOG_LEVEL default %d", (int)c.log_level);
    CHECK(c.redis_url[0] != '\0', "REDIS_URL default empty");
    CHECK_STR(c.redis_read_url, c.redis_url);
    redis_url u;
    const char *why = NULL;
    CHECK(redisurl_parse(c.redis_url, &u, &why) == 0, "default REDIS_URL \"%s\" does not parse", c.redis_url);
    CHECK(u.port == 6379 && u.db == 0, "default REDIS_URL port %d db %d", u.port, u.db);
}

/* Empty values mean "use the default". */
static void test_empty_means_default(void)
{
    config c = load_ok("STREAM_MAXLEN", "");
    CHECK(c.stream_maxlen == 10, "STREAM_MAXLEN= gave %ld", c.stream_maxlen);
    c = load_ok("WS_VIEWER_AUTH", "");
    CHECK(c.ws_viewer_auth, "WS_VIEWER_AUTH= gave false");
    c = load_ok("REDIS_READ_URL", "");
    CHECK_STR(c.redis_read_url, c.redis_url);
}

/* ---- the secret ---- */

static void test_secret_required(void)
{
    config c;
    char err[CONFIG_ERR_LEN];
    reset_env();
    unsetenv("JWT_SECRET_KEY");
    CHECK(load(&c, err, sizeof err) == -1, "no JWT_SECRET_KEY accepted");
    CHECK(strstr(err, "JWT_SECRET_KEY") != NULL, "message \"%s\" does not name JWT_SECRET_KEY", err);
    load_bad("JWT_SECRET_KEY", "");
}

static void test_secret_too_long(void)
{
    char big[2048];
    memset(big, 'k', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    load_bad("JWT_SECRET_KEY", big);
}

/* ---- numbers ---- */

typedef struct numvar {
    const char *name;
    const char *good;      /* a valid, non-default value */
} numvar;

static const numvar numvars[] = {
    { "REDIS_TIMEOUT_MS", "250" },      { "STREAM_MAXLEN", "25" },
    { "MAX_FRAME_BYTES", "1048576" },   { "PULL_WAIT_MS", "200" },
    { "WS_IDLE_TIMEOUT_SECONDS", "30" }, { "WS_MAX_SESSION_SECONDS", "600" },
    { "FCGI_WORKERS", "4" },
};

static void test_numbers_rejected(void)
{
    static const char *bad[] = {
        "abc", "1.5", "1e3", "0x10", " ", "10x", "10 ", "5 apples", "-5", "99999999999",
        "999999999999999999999999", "--1",
    };
    for (size_t v = 0; v < sizeof numvars / sizeof numvars[0]; v++)
        for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++)
            load_bad(numvars[v].name, bad[b]);
}

static void test_numbers_read(void)
{
    config c = load_ok("REDIS_TIMEOUT_MS", "250");
    CHECK(c.redis_timeout_ms == 250, "REDIS_TIMEOUT_MS %d", c.redis_timeout_ms);
    c = load_ok("STREAM_MAXLEN", "25");
    CHECK(c.stream_maxlen == 25, "STREAM_MAXLEN %ld", c.stream_maxlen);
    c = load_ok("MAX_FRAME_BYTES", "1048576");
    CHECK(c.max_frame_bytes == 1048576, "MAX_FRAME_BYTES %zu", c.max_frame_bytes);
    c = load_ok("PULL_WAIT_MS", "200");
    CHECK(c.pull_wait_ms == 200, "PULL_WAIT_MS %d", c.pull_wait_ms);
    c = load_ok("PULL_WAIT_MS", "0");
    CHECK(c.pull_wait_ms == 0, "PULL_WAIT_MS=0 gave %d", c.pull_wait_ms);
    c = load_ok("WS_IDLE_TIMEOUT_SECONDS", "30");
    CHECK(c.ws_idle_timeout == 30, "WS_IDLE_TIMEOUT_SECONDS %d", c.ws_idle_timeout);
    c = load_ok("WS_MAX_SESSION_SECONDS", "600");
    CHECK(c.ws_max_session == 600, "WS_MAX_SESSION_SECONDS %d", c.ws_max_session);
    c = load_ok("FCGI_WORKERS", "4");
    CHECK(c.fcgi_workers == 4, "FCGI_WORKERS %d", c.fcgi_workers);
}

/* A zero would make no sense for these: an empty stream, no frames, instant timeouts. */
static void test_numbers_zero_rejected(void)
{
    load_bad("STREAM_MAXLEN", "0");
    load_bad("MAX_FRAME_BYTES", "0");
    load_bad("WS_IDLE_TIMEOUT_SECONDS", "0");
    load_bad("WS_MAX_SESSION_SECONDS", "0");
    load_bad("FCGI_WORKERS", "0");
}

/* ---- rate limit ---- */

static void test_rate_limit(void)
{
    config c = load_ok("RATE_LIMIT_LABELS", "10/5");
    CHECK(c.rate_limit_count == 10 && c.rate_limit_window == 5, "10/5 gave %d/%d", c.rate_limit_count,
          c.rate_limit_window);
    c = load_ok("RATE_LIMIT_LABELS", "0");
    CHECK(c.rate_limit_count == 0, "0 gave count %d, want 0 (disabled)", c.rate_limit_count);
    load_bad("RATE_LIMIT_LABELS", "x");
    load_bad("RATE_LIMIT_LABELS", "5/0");
    load_bad("RATE_LIMIT_LABELS", "-1/5");
    load_bad("RATE_LIMIT_LABELS", "5/-1");
    load_bad("RATE_LIMIT_LABELS", "10/5x");
    load_bad("RATE_LIMIT_LABELS", "10/");
    load_bad("RATE_LIMIT_LABELS", "/5");
    load_bad("RATE_LIMIT_LABELS", "10");
    load_bad("RATE_LIMIT_LABELS", "1.5/5");
}

/* ---- booleans ---- */

static void test_booleans(void)
{
    static const char *yes[] = { "1", "true", "TRUE", "yes", "on" };
    static const char *no[] = { "0", "false", "False", "no", "off" };
    for (size_t i = 0; i < 5; i++) {
        config c = load_ok("WS_VIEWER_AUTH", no[i]);
        CHECK(!c.ws_viewer_auth, "WS_VIEWER_AUTH=%s gave true", no[i]);
        c = load_ok("JWT_REQUIRE_ACTIVE_JTI", yes[i]);
        CHECK(c.jwt_require_active_jti, "JWT_REQUIRE_ACTIVE_JTI=%s gave false", yes[i]);
    }
    static const char *bad[] = { "maybe", "2", "tru", "yess", "-1", " true", "true " };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        load_bad("WS_VIEWER_AUTH", bad[i]);
        load_bad("JWT_REQUIRE_ACTIVE_JTI", bad[i]);
    }
}

/* ---- algorithm ---- */

static void test_algorithm(void)
{
    config c = load_ok("JWT_ALGORITHM", "HS384");
    CHECK_STR(c.jwt_algorithm, "HS384");
    c = load_ok("JWT_ALGORITHM", "HS512");
    CHECK_STR(c.jwt_algorithm, "HS512");
    load_bad("JWT_ALGORITHM", "RS256");
    load_bad("JWT_ALGORITHM", "ES256");
    load_bad("JWT_ALGORITHM", "none");
    load_bad("JWT_ALGORITHM", "HS2560");
    load_bad("JWT_ALGORITHM", "HS256-and-then-some");
}

/* ---- strings ---- */

static void test_strings(void)
{
    config c = load_ok("CORS_ALLOW_ORIGINS", "https://a.example,https://b.example");
    CHECK_STR(c.cors_allow_origins, "https://a.example,https://b.example");
    c = load_ok("TRUSTED_PROXIES", "127.0.0.1");
    CHECK_STR(c.trusted_proxies, "127.0.0.1");
}

/* ---- metrics ---- */

static void test_metrics_settings(void)
{
    config c = load_ok("METRICS_FILE", "");
    CHECK_STR(c.metrics_file, "/run/streamweb/metrics");
    CHECK_STR(c.metrics_allow, "127.0.0.0/8, ::1");
    c = load_ok("METRICS_FILE", "/var/tmp/sw.metrics");
    CHECK_STR(c.metrics_file, "/var/tmp/sw.metrics");
    c = load_ok("METRICS_FILE", "off");
    CHECK_STR(c.metrics_file, "");
    load_bad("METRICS_FILE", "metrics");
    load_bad("METRICS_FILE", "./run/metrics");
    c = load_ok("METRICS_ALLOW", "10.0.0.0/8, 2001:db8::/32,192.0.2.7");
    CHECK_STR(c.metrics_allow, "10.0.0.0/8, 2001:db8::/32,192.0.2.7");
    c = load_ok("METRICS_ALLOW", "none");
    CHECK_STR(c.metrics_allow, "");
    load_bad("METRICS_ALLOW", "10.0.0.0/33");
    load_bad("METRICS_ALLOW", "localhost");
    load_bad("METRICS_ALLOW", "127.0.0.1,");
}

/* ---- Redis URLs through the configuration ---- */

static void test_redis_url_config(void)
{
    static const char *good[] = {
        "redis://h:1/2", "redis://:pw@h", "redis://user:pw@h:6380/3", "unix:///tmp/r.sock?db=2",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        config c = load_ok("REDIS_URL", good[i]);
        CHECK_STR(c.redis_url, good[i]);
        CHECK_STR(c.redis_read_url, good[i]);
    }
    static const char *bad[] = { "http://x", "redis://h:0", "redis://h:70000", "redis://" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        load_bad("REDIS_URL", bad[i]);
}

static void test_redis_read_url_config(void)
{
    config c;
    char err[CONFIG_ERR_LEN];
    reset_env();
    setenv("REDIS_URL", "redis://primary:6379/0", 1);
    setenv("REDIS_READ_URL", "redis://replica:6380/0", 1);
    CHECK(load(&c, err, sizeof err) == 0, "read URL rejected: %s", err);
    CHECK_STR(c.redis_url, "redis://primary:6379/0");
    CHECK_STR(c.redis_read_url, "redis://replica:6380/0");
    load_bad("REDIS_READ_URL", "http://replica");
    load_bad("REDIS_READ_URL", "redis://replica:0");
}

/* ---- log level ---- */

static void test_log_level(void)
{
    static const struct { const char *v; enum log_level want; } ok[] = {
        { "error", LOG_LVL_ERROR }, { "warn", LOG_LVL_WARN }, { "warning", LOG_LVL_WARN },
        { "info", LOG_LVL_INFO },   { "debug", LOG_LVL_DEBUG }, { "DEBUG", LOG_LVL_DEBUG },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        config c = load_ok("LOG_LEVEL", ok[i].v);
        CHECK(c.log_level == ok[i].want, "LOG_LEVEL=%s gave %d", ok[i].v, (int)c.log_level);
    }
    load_bad("LOG_LEVEL", "verbose");
    load_bad("LOG_LEVEL", "3");
    load_bad("LOG_LEVEL", "infoo");
}

/* The message is cut to errlen, never overflows. */
static void test_error_message_bounded(void)
{
    config c;
    char err[16];
    memset(err, 'z', sizeof err);
    reset_env();
    setenv("WS_MAX_SESSION_SECONDS", "this-is-not-a-number-at-all", 1);
    CHECK(config_load(&c, err, sizeof err) == -1, "bad value accepted");
    CHECK(memchr(err, '\0', sizeof err) != NULL, "message not terminated within errlen");
}

/* ---- redisurl directly ---- */

static redis_url parse_ok(const char *url)
{
    redis_url u;
    const char *why = NULL;
    int rc = redisurl_parse(url, &u, &why);
    CHECK(rc == 0, "\"%s\" rejected: %s", url, why ? why : "");
    return u;
}

static void parse_bad(const char *url)
{
    redis_url u;
    const char *why = NULL;
    CHECK(redisurl_parse(url, &u, &why) == -1, "\"%s\" accepted", url);
    CHECK(why != NULL && why[0] != '\0', "\"%s\": no reason", url);
}

static void test_redisurl_host_port_db(void)
{
    redis_url u = parse_ok("redis://h:1/2");
    CHECK_STR(u.host, "h");
    CHECK(u.port == 1 && u.db == 2, "port %d db %d", u.port, u.db);
    CHECK_STR(u.path, "");
    CHECK_STR(u.user, "");
    CHECK_STR(u.password, "");
}

static void test_redisurl_defaults(void)
{
    redis_url u = parse_ok("redis://redis.example");
    CHECK_STR(u.host, "redis.example");
    CHECK(u.port == 6379 && u.db == 0, "port %d db %d", u.port, u.db);
    u = parse_ok("redis://h/");
    CHECK(u.port == 6379 && u.db == 0, "trailing slash: port %d db %d", u.port, u.db);
}

static void test_redisurl_password_only(void)
{
    redis_url u = parse_ok("redis://:pw@h");
    CHECK_STR(u.host, "h");
    CHECK_STR(u.user, "");
    CHECK_STR(u.password, "pw");
    CHECK(u.port == 6379 && u.db == 0, "port %d db %d", u.port, u.db);
}

static void test_redisurl_user_password(void)
{
    redis_url u = parse_ok("redis://user:pw@h:6380/3");
    CHECK_STR(u.user, "user");
    CHECK_STR(u.password, "pw");
    CHECK_STR(u.host, "h");
    CHECK(u.port == 6380 && u.db == 3, "port %d db %d", u.port, u.db);
    u = parse_ok("redis://user:p:w@h");
    CHECK_STR(u.user, "user");
    CHECK_STR(u.password, "p:w");
}

/* redis-py unquotes the user and the password: "%40" is how a URL carries '@'. */
static void test_redisurl_percent_encoded_password(void)
{
    redis_url u = parse_ok("redis://us%3Aer:p%40ss%2Fw%25rd@h:6380/1");
    CHECK_STR(u.user, "us:er");
    CHECK_STR(u.password, "p@ss/w%rd");
    CHECK_STR(u.host, "h");
    CHECK(u.port == 6380 && u.db == 1, "port %d db %d", u.port, u.db);
    u = parse_ok("redis://:100%zz@h");
    CHECK_STR(u.password, "100%zz"); /* not an escape: kept as is, like Python's unquote */
    u = parse_ok("redis://:50%@h");
    CHECK_STR(u.password, "50%");
    parse_bad("redis://:a%00b@h"); /* a NUL cannot reach AUTH */
}

static void test_redisurl_ipv6(void)
{
    redis_url u = parse_ok("redis://[::1]:6380/4");
    CHECK_STR(u.host, "::1");
    CHECK(u.port == 6380 && u.db == 4, "port %d db %d", u.port, u.db);
}

static void test_redisurl_unix(void)
{
    redis_url u = parse_ok("unix:///tmp/r.sock?db=2");
    CHECK_STR(u.path, "/tmp/r.sock");
    CHECK_STR(u.host, "");
    CHECK(u.db == 2, "db %d", u.db);
    u = parse_ok("unix:///var/run/redis.sock");
    CHECK_STR(u.path, "/var/run/redis.sock");
    CHECK(u.db == 0, "db %d", u.db);
}

static void test_redisurl_rejected(void)
{
    static const char *bad[] = {
        "http://x", "redis:/h", "h:6379", "", "redis://", "redis://h:0", "redis://h:70000",
        "redis://h:-1", "redis://h:abc", "redis://h:", "redis://h:6379x", "redis://:pw@",
        "redis://h/abc", "redis://h/-1", "redis://h/1x", "unix://", "unix:///p?db=x", "unix:///p?foo=1",
        "redis://[::1", "rediss://h",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        parse_bad(bad[i]);
}

static void test_redisurl_too_long(void)
{
    char url[700];
    strcpy(url, "redis://");
    memset(url + 8, 'h', 600);
    url[608] = '\0';
    parse_bad(url);
    strcpy(url, "unix://");
    memset(url + 7, 'p', 600);
    url[607] = '\0';
    parse_bad(url);
}

int main(void)
{
    test_defaults();
    test_empty_means_default();
    test_secret_required();
    test_secret_too_long();
    test_numbers_rejected();
    test_numbers_read();
    test_numbers_zero_rejected();
    test_rate_limit();
    test_booleans();
    test_algorithm();
    test_strings();
    test_metrics_settings();
    test_redis_url_config();
    test_redis_read_url_config();
    test_log_level();
    test_error_message_bounded();

    test_redisurl_host_port_db();
    test_redisurl_defaults();
    test_redisurl_password_only();
    test_redisurl_user_password();
    test_redisurl_percent_encoded_password();
    test_redisurl_ipv6();
    test_redisurl_unix();
    test_redisurl_rejected();
    test_redisurl_too_long();
    return test_report("config");
}
