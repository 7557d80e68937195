/* upframe: cuts "<JSON header>--IMG--<frame>" upload messages out of websocketd's boundary-less stdin. */
#ifndef SW_UPFRAME_H
#define SW_UPFRAME_H

#include <stddef.h>

struct json_object;

typedef struct upframe upframe;

enum upframe_status { UPF_NEED_MORE = 0, UPF_MESSAGE, UPF_ERROR };

typedef struct upframe_msg {
    struct json_object *header;          /* parsed header object (UPF_MESSAGE); owned by the framer, valid until the next upframe_next call */
    const unsigned char *frame; size_t frame_len;  /* the frame bytes; same lifetime (upframe_feed does not end it) */
    char error[160];                     /* UPF_ERROR: why this message was dropped, e.g. "Invalid JSON header", "missing --IMG-- delimiter", "frame larger than MAX_FRAME_BYTES (8388608)" */
} upframe_msg;

upframe *upframe_new(size_t max_frame_bytes, size_t max_header_bytes);
void upframe_free(upframe *u);                 /* accepts NULL */
void upframe_feed(upframe *u, const void *data, size_t len);

/* Cuts the next message out of what has been fed. idle != 0 means the input has been quiet for a moment,
   so a message whose length cannot be known otherwise takes the bytes available now. Call repeatedly until UPF_NEED_MORE.
   At idle, an unfinished message is also closed: a frame shorter than its declared size is an error,
   an unterminated header is an error, and a skip or discard in progress ends. */
enum upframe_status upframe_next(upframe *u, int idle, upframe_msg *msg);

int upframe_pending(const upframe *u);         /* nonzero if buffered bytes (other than whitespace) await an idle decision,
                                                  or a message is in progress (e.g. a skip, or a header awaiting its delimiter) */
size_t upframe_buffered(const upframe *u);     /* bytes held in memory: for tests of the memory bound, and metrics */

#endif
