/* health: one PING per store, reported as JSON. */
#include "health.h"

#include <string.h>

#include "jsonw.h"
#include "metrics.h"

/* "name": "ok" or the store's error; 0 if it answered. */
static int probe(buf *body, const char *name, store *s)
{
    int rc = store_ping(s);
    const char *v = rc == 0 ? "ok" : store_error(s);
    jsonw_field(body, 0, name, v, strlen(v));
    return rc;
}

int health_check(store *primary, store *read, buf *body)
{
    buf fields;
    buf_init(&fields);
    int failed = probe(&fields, "redis", primary) < 0;
    if (read && read != primary)
        failed |= probe(&fields, "redis_read", read) < 0;
    const char *m = metrics_state() ? metrics_state() : "ok";
    jsonw_field(&fields, 0, "metrics", m, strlen(m));
    buf_puts(body, failed ? "{\"status\": \"error\"" : "{\"status\": \"ok\"");
    buf_append(body, fields.data, fields.len);
    buf_putc(body, '}');
    buf_free(&fields);
    return failed ? 503 : 200;
}
