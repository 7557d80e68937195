/* ratelimit: fixed-window counters in Redis, keyed by scope and client. */
#include "ratelimit.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "strlist.h"

const char *ratelimit_client(const config *cfg, const char *remote_addr, const char *x_real_ip)
{
    if (!remote_addr || !*remote_addr)
        remote_addr = "unknown";
    /* Only a configured proxy may say who the client is; a bounded value keeps
     * the Redis key small whatever the header holds. */
    if (x_real_ip && *x_real_ip && strlen(x_real_ip) <= 64 && csv_contains(cfg->trusted_proxies, remote_addr))
        return x_real_ip;
    return remote_addr;
}

int ratelimit_hit(store *s, const config *cfg, const char *scope, const char *client, int *retry_after)
{
    long long count, ttl_ms;
    if (cfg->rate_limit_count <= 0)
        return 0;
    buf key;
    buf_init(&key);
    buf_printf(&key, "streamweb:ratelimit:%s:%s", scope, client);
    int rc = store_window_hit(s, key.data, cfg->rate_limit_window, &count, &ttl_ms);
    buf_free(&key);
    if (rc < 0)
        return -1;
    if (count <= cfg->rate_limit_count)
        return 0;
    *retry_after = (int)((ttl_ms + 999) / 1000);
    if (*retry_after < 1)
        *retry_after = 1;
    return 1;
}
