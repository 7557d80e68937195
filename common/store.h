/* store: every Redis command the suite sends (ARCHITECTURE.md "Redis usage"). */
#ifndef SW_STORE_H
#define SW_STORE_H

#include <stddef.h>

#include "buf.h"
#include "frame.h"
#include "strlist.h"

typedef struct store store;

/* What XREAD returned: for each stream with news, its first new entry.
 * Replies that carry frames are read into the store's own buffer: these
 * views (and a frame_entry from store_newest) stay valid until the store's
 * next command. */
typedef struct store_news {
    size_t n;
    const char **keys;      /* Redis key of item i */
    frame_entry *entries;
    unsigned char *newest;  /* entries[i] was its stream's newest entry when read */
} store_news;

/* Creates a store for url (already validated by config). Connects lazily, so a
 * Redis that is down at start is not fatal; commands fail until it is back. */
store *store_new(const char *url, int timeout_ms);
void store_free(store *s);
/* What the last failure was, e.g. "Connection refused"; fit for logs and 503s. */
const char *store_error(const store *s);

/* XADD rkey MAXLEN maxlen * frame .. height .. ; writes the new id into id. */
int store_xadd_frame(store *s, const char *rkey, long maxlen, const char *const val[FF_COUNT],
                     const size_t len[FF_COUNT], buf *id);
/* Appends every key matching pattern (SCAN, never KEYS). */
int store_scan(store *s, const char *pattern, strlist *keys);
/* Newest entry of rkey newer than after_id (NULL: any): 1 found, 0 none,
 * -1 error. *out is valid until the store's next command. */
int store_newest(store *s, const char *rkey, const char *after_id, frame_entry *out);

/* XREAD COUNT 2 BLOCK block_ms STREAMS keys.. ids.., waiting in poll() on
 * Redis and on watch_fd at once, so idle viewers cost nothing and still
 * notice a hang-up: returns 1 as soon as watch_fd hangs up (the viewer left;
 * the pending command is dropped with the connection), 0 with the reply
 * (news->n may be 0 on timeout), -1 on a Redis failure. Input arriving on
 * watch_fd is left for the caller, unless discard_input, when it is read
 * and dropped. COUNT 2 rather than 1: a lone new entry is known to be the
 * newest, so a viewer that keeps up needs no second command to find it. */
int store_xread_wait(store *s, size_t n, char *const *keys, char *const *ids, int block_ms,
                     int watch_fd, int discard_input, store_news *news);
/* Drops the connection (e.g. with a command still pending); the next command reconnects. */
void store_disconnect(store *s);

/* Fixed-window counter: INCR key, set its expiry on the first hit. Returns
 * the count in this window and the window's remaining milliseconds. */
int store_window_hit(store *s, const char *key, int window_s, long long *count, long long *ttl_ms);
/* GET key: 1 and the value in out, 0 if absent, -1 error. */
int store_get(store *s, const char *key, buf *out);

#endif
