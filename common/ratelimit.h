/* ratelimit: RATE_LIMIT_LABELS per client, counted in Redis so all workers share it. */
#ifndef SW_RATELIMIT_H
#define SW_RATELIMIT_H

#include "config.h"
#include "store.h"

/* The client a request counts against: X-Real-IP when the peer is a trusted
 * proxy (TRUSTED_PROXIES) and sent one, else the peer address. */
const char *ratelimit_client(const config *cfg, const char *remote_addr, const char *x_real_ip);

/* Counts one request of client in scope. 0: allowed; 1: over the limit, with
 * *retry_after seconds until the window ends; -1: Redis failed (store_error). */
int ratelimit_hit(store *s, const config *cfg, const char *scope, const char *client, int *retry_after);

#endif
