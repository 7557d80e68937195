/* redisurl: parses REDIS_URL: redis://[[user]:password@]host[:port][/db] or unix:///path[?db=N]. */
#ifndef SW_REDISURL_H
#define SW_REDISURL_H

typedef struct redis_url {
    char host[256];       /* empty for a unix socket */
    int port;
    char path[256];       /* unix socket path, empty for TCP */
    char user[128];
    char password[256];
    int db;
} redis_url;

/* 0 on success; -1 with a reason in err otherwise. */
int redisurl_parse(const char *url, redis_url *out, const char **err);

#endif
