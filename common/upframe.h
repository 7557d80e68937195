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
    char error[160];                     /* UPF_ERROR: why this message was dropped, e.g. "Invalid JSON header", "missing --IMG-- delimiter", "frame larger than MAX_FRAME_BYTES (8388608)"; reported once all of its bytes are consumed */
} upframe_msg;

upframe *upframe_new(size_t max_frame_bytes, size_t max_header_bytes);
void upframe_free(upframe *u);                 /* accepts NULL */
void upframe_feed(upframe *u, const void *data, size_t len);

/* What the caller knows about where the fed bytes end. websocketd writes each message with one
   write(): a read that takes everything from a pipe that was never full ends where a message ends
   (ws-frames knows when); otherwise only silence says so, and a busy host can pause websocketd
   mid-message, so a pause only ends what nothing else can end, and a message cut short is declared
   so only after a long silence. */
enum upframe_quiet {
    UPF_BUSY = 0,   /* bytes are flowing, or may be */
    UPF_QUIET,      /* a short pause: a frame with neither size nor image structure takes the bytes
                       available, junk or a discarded frame ends */
    UPF_ENDED,      /* the bytes fed end a message (a read said so, or a long silence): whatever is
                       unfinished ends now -- a frame shorter than its size or a header unterminated
                       is an error, an image cut short is taken as it is */
};

/* Cuts the next message out of what has been fed; idle is an upframe_quiet level.
   Call repeatedly until UPF_NEED_MORE. */
enum upframe_status upframe_next(upframe *u, int idle, upframe_msg *msg);

/* The quiet level that would decide something now: UPF_BUSY if nothing (other than whitespace)
   is pending, else how long the caller should let the input be quiet before calling upframe_next with it. */
enum upframe_quiet upframe_pending(const upframe *u);
size_t upframe_buffered(const upframe *u);     /* bytes held in memory: for tests of the memory bound, and metrics */

#endif
