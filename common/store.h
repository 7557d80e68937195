/* store: every Redis command the suite sends (ARCHITECTURE.md "Redis usage"). */
#ifndef SW_STORE_H
#define SW_STORE_H

#include <stddef.h>

#include "buf.h"
#include "frame.h"
#include "strlist.h"

typedef struct store store;

/* One stream entry and the reply that owns its bytes. */
typedef struct store_entry {
    void *reply;
    frame_entry e;
} store_entry;

/* What XREAD returned: for each stream with news, its first new entry. */
typedef struct store_news {
    void *reply;
    size_t n;
    const char **keys;  /* Redis key of item i */
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
/* Newest entry of rkey newer than after_id (NULL: any): 1 found, 0 none, -1 error. */
int store_newest(store *s, const char *rkey, const char *after_id, store_entry *out);
void store_entry_free(store_entry *e);

/* XREAD COUNT 2 BLOCK block_ms STREAMS keys.. ids.., in two halves so the
 * caller can poll store_fd() together with its own input while Redis holds
 * the command: idle viewers then cost nothing and still notice a hang-up.
 * COUNT 2 rather than 1: a lone new entry is known to be the newest, so a
 * viewer that keeps up needs no second command to find it. */
int store_xread_send(store *s, size_t n, char *const *keys, char *const *ids, int block_ms);
int store_xread_recv(store *s, store_news *news); /* 0 = got the reply (n may be 0), -1 error */
void store_news_free(store_news *news);
int store_fd(const store *s);
/* The whole XREAD, waiting in poll() on Redis and on watch_fd at once: returns
 * 1 as soon as watch_fd hangs up (the viewer left; the pending command is
 * dropped with the connection), 0 with the reply (news->n may be 0 on
 * timeout), -1 on a Redis failure. Input arriving on watch_fd is left for
 * the caller, unless discard_input, when it is read and dropped. */
int store_xread_wait(store *s, size_t n, char *const *keys, char *const *ids, int block_ms,
                     int watch_fd, int discard_input, store_news *news);
/* Drops the connection (e.g. with a command still pending); the next command reconnects. */
void store_disconnect(store *s);

/* Fixed-window counter: INCR key, set its expiry on the first hit. Returns
 * the count in this window and the window's remaining milliseconds. */
int store_window_hit(store *s, const char *key, int window_s, long long *count, long long *ttl_ms);
/* PING on the kept connection (a health probe opens none of its own); -1 with store_error. */
int store_ping(store *s);
/* GET key: 1 and the value in out, 0 if absent, -1 error. */
int store_get(store *s, const char *key, buf *out);

#endif
