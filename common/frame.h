/* frame: stream entry fields and the viewer message "<JSON header>--IMG--<bytes>". */
#ifndef SW_FRAME_H
#define SW_FRAME_H

#include <stddef.h>

#include "buf.h"

struct spill;

#define FRAME_DELIM "--IMG--"
#define FRAME_DELIM_LEN 7

/* The fields of a stream entry, in the order XADD writes them (API §1). */
enum frame_field {
    FF_FRAME = 0, FF_WARNINGS, FF_CONE_POLYGONS, FF_POLE_POLYGONS, FF_DETECTION_ITEMS,
    FF_WIDTH, FF_HEIGHT, FF_COUNT
};
extern const char *const frame_field_names[FF_COUNT];

/* A view of one entry; the bytes belong to whoever holds the Redis reply.
 * A field another producer left out is NULL (sent to viewers as ""). */
typedef struct frame_entry {
    const char *id;
    size_t id_len;
    const char *val[FF_COUNT];
    size_t len[FF_COUNT];
    /* Non-NULL: the frame's len[FF_FRAME] bytes wait in this pipe, not in
     * val[FF_FRAME] (a store that moves frames, see store_move_frames). */
    struct spill *frame_pipe;
} frame_entry;

/* Header for /ws/labels: {"key": ..., "warnings": ..., ..., "height": ...}. */
void frame_header_for_key(buf *out, const char *key, const frame_entry *e);
/* Header for /ws/stream: {"id": ..., "warnings": ..., ..., "height": ...}. */
void frame_header_for_id(buf *out, const frame_entry *e);

#endif
