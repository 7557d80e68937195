/* config: every setting of the suite, read once from the environment at start. */
#ifndef SW_CONFIG_H
#define SW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"

enum { CONFIG_ERR_LEN = 256 };

typedef struct config {
    char redis_url[512];         /* REDIS_URL: writes (and reads, unless REDIS_READ_URL) */
    char redis_read_url[512];    /* REDIS_READ_URL: viewer reads; a replica may serve them */
    int redis_timeout_ms;        /* REDIS_TIMEOUT_MS: connect and command timeout */
    char jwt_secret[512];        /* JWT_SECRET_KEY: required */
    char jwt_algorithm[8];       /* JWT_ALGORITHM: HS256 (default), HS384 or HS512 */
    bool jwt_require_active_jti; /* JWT_REQUIRE_ACTIVE_JTI: jti must be in the user cache */
    long stream_maxlen;          /* STREAM_MAXLEN: exact trim of each camera's stream */
    size_t max_frame_bytes;      /* MAX_FRAME_BYTES: largest image accepted and delivered */
    char cors_allow_origins[1024]; /* CORS_ALLOW_ORIGINS: "*" or a comma-separated list */
    int rate_limit_count;        /* RATE_LIMIT_LABELS "count/seconds"; 0 disables */
    int rate_limit_window;
    char trusted_proxies[256];   /* TRUSTED_PROXIES: peers whose X-Real-IP is believed */
    int pull_wait_ms;            /* PULL_WAIT_MS */
    int ws_idle_timeout;         /* WS_IDLE_TIMEOUT_SECONDS */
    int ws_max_session;          /* WS_MAX_SESSION_SECONDS */
    bool ws_viewer_auth;         /* WS_VIEWER_AUTH: viewers must present a token */
    enum log_level log_level;    /* LOG_LEVEL */
    int fcgi_workers;            /* FCGI_WORKERS: processes per FastCGI responder */
    char metrics_file[256];      /* METRICS_FILE: the shared counters; "" when "off" */
    char metrics_allow[512];     /* METRICS_ALLOW: who may GET /metrics (CIDR list; "" nobody) */
} config;

/* Fills cfg from the environment. On a bad value returns -1 and writes a
 * one-line message naming the variable into err. */
int config_load(config *cfg, char *err, size_t errlen);

/* config_load for programs: on failure prints the message and exits 2.
 * Also names the program in the log, applies LOG_LEVEL and opens the shared
 * metrics (METRICS_FILE) under that name: every program counts from start. */
void config_load_or_exit(config *cfg, const char *program);

#endif
