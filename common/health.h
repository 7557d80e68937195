/* health: what GET /healthz answers — whether Redis answers a PING now. */
#ifndef SW_HEALTH_H
#define SW_HEALTH_H

#include "buf.h"
#include "store.h"

/* PINGs primary and, when viewers read elsewhere (REDIS_READ_URL), read too;
 * each on its store's kept connection, within its timeout. Writes
 * {"status": "ok"|"error", "redis": "ok"|why, ["redis_read": ...,] "metrics": "ok"|why}
 * into body and returns the status to answer: 200, or 503 if a PING failed.
 * Metrics being off is reported, not a failure: serving goes on without them. */
int health_check(store *primary, store *read, buf *body);

#endif
