/* metrics: counters and gauges that every streamweb process shares through one
 * memory-mapped file (METRICS_FILE), and their Prometheus text exposition.
 *
 * Counting costs one relaxed atomic add in shared memory: no lock, no system
 * call, no Redis (a 503 is counted while Redis is down). Connection gauges
 * are per-process slots holding the owner's pid and start time, counted only
 * while that process lives, so a killed process never leaves a gauge high.
 * When the file cannot be used every call is a no-op and the program serves
 * on, without metrics (metrics_state says why). */
#ifndef SW_METRICS_H
#define SW_METRICS_H

#include <stddef.h>

#include "buf.h"

enum mx_endpoint { MX_EP_FRAMES, MX_EP_WS_FRAMES, MX_EP_WS_LABELS, MX_EP_WS_STREAM, MX_EP_COUNT };
enum mx_redis_event { MX_REDIS_ERROR, MX_REDIS_CONNECT, MX_REDIS_RECONNECT, MX_REDIS_EVENTS };

/* Maps (creating it if absent) the shared file at path for this process,
 * known as program ("frames.fcgi", "ws-labels", ...), and takes a slot for
 * it; a process forked later takes its own. path "" (METRICS_FILE=off) turns
 * metrics off.
 * -1 when the file is refused (not ours, another layout, not a regular file,
 * another owner...): logged once, and the process runs without metrics. */
int metrics_open(const char *path, const char *program);
/* Gives the slot back and unmaps (also done at exit). */
void metrics_close(void);
/* NULL while metrics are kept, else why not. */
const char *metrics_state(void);

/* One upload answered with status (200 stored, with its image bytes; else the
 * refusal's status: 400, 401, 413, 415, 422 or 503). */
void metrics_upload(enum mx_endpoint ep, int status, size_t bytes);
/* A /ws/frames message the framer refused, by its error text (upframe_msg.error). */
void metrics_upload_error(const char *error);
/* This process now serves one connection of ep (admitted), or no longer does. */
void metrics_connected(enum mx_endpoint ep);
void metrics_disconnected(void);
/* A frame message to a viewer: wsio_send's result and the image's bytes. */
void metrics_frame_sent(enum mx_endpoint ep, int wsio_rc, size_t bytes);
/* A viewer that fell behind was sent a stream's newest frame, passing over others. */
void metrics_skipped(enum mx_endpoint ep);
/* Redis: a command that failed, a connection opened, one opened again. */
void metrics_redis(enum mx_redis_event ev);

/* Appends the exposition (text/plain; version=0.0.4); -1 when metrics are off. */
int metrics_expose(buf *out);

#endif
