/* store: every Redis command the suite sends: one connection per process, with
 * timeouts, reconnected with backoff after a failure. */
#ifndef SW_STORE_H
#define SW_STORE_H

#include <stddef.h>

#include "buf.h"
#include "frame.h"
#include "strlist.h"

typedef struct store store;

/* A stream's first entry after the id asked for, as store_xread_each()
 * hands it over (valid during the call). fresh: Redis wrote it at most
 * STORE_FRESH_MS ago, by Redis's own clock; an older one means the viewer
 * fell behind, and what to send is the stream's newest entry instead.
 * A return below 0 ends the wait (the viewer is gone). */
typedef int (*store_news_fn)(void *ctx, const char *rkey, const frame_entry *e, int fresh);
enum { STORE_FRESH_MS = 100 };

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
 * -1 error. *out points into the store's reply buffer (the reply is read in
 * place, see resp.h): valid until the store's next command. */
int store_newest(store *s, const char *rkey, const char *after_id, frame_entry *out);

/* XREAD COUNT 1 BLOCK block_ms STREAMS keys.. ids.., waiting in poll() on
 * Redis and on watch_fd at once, so idle viewers cost nothing and still
 * notice a hang-up. Each stream's part of the reply goes to each() as soon
 * as it has arrived, and is dropped after: one frame is held at a time, not
 * one per stream. Returns 1 as soon as watch_fd hangs up or each() returns
 * below 0 (the rest of the reply is dropped with the connection), 0 once
 * the reply is done (nothing on timeout), -1 on a Redis failure. Input
 * arriving on watch_fd is left for the caller, unless discard_input, when
 * it is read and dropped. */
int store_xread_each(store *s, size_t n, char *const *keys, char *const *ids, int block_ms, int watch_fd,
                     int discard_input, store_news_fn each, void *ctx);
/* Whether Redis wrote e at most STORE_FRESH_MS ago, by Redis's clock (learnt
 * on the connection's first XREAD). An id is "<ms>-<seq>" in Redis's time; one
 * that is not, set by a producer, counts as old. */
int store_entry_fresh(const store *s, const frame_entry *e);
/* From now on a large frame of an XREAD or XREVRANGE reply is moved from the
 * socket into a pipe of the store's (spill.h) instead of being read: the
 * entry's frame_pipe holds it until the store's next command, which drops
 * it unless the caller took it (wsio_send_moved). A host that refuses the
 * pipe's size gets frames read as before. */
void store_move_frames(store *s);
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
