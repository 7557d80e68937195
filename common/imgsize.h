/* imgsize: the byte length of a JPEG or PNG at the start of a buffer, read from the image's own structure. */
#ifndef SW_IMGSIZE_H
#define SW_IMGSIZE_H

#include <stddef.h>
#include <sys/types.h>

/* Each returns the total length of the complete image that starts at p,
 * 0 if the bytes so far are a valid beginning but more are needed to know,
 * -1 if the bytes are not that format or are structurally invalid.
 * Bytes after the image are never looked at. */
ssize_t imgsize_jpeg(const unsigned char *p, size_t n);  /* SOI ... EOI inclusive */
ssize_t imgsize_png(const unsigned char *p, size_t n);   /* signature ... IEND chunk inclusive */

/* JPEG, else PNG; 0 also when fewer bytes than a signature are present and
 * they are a prefix of one (including n == 0). */
ssize_t imgsize_detect(const unsigned char *p, size_t n);

/* The same walk, resumable for an image that arrives in pieces: each byte is
 * looked at once, and bytes the walk has passed can be dropped, so an image
 * too big to buffer can still be skipped exactly.  Start from a zeroed
 * imgsize_walk; p holds the image's bytes [base, base + n), where base (the
 * count already dropped) must not pass pos.  Results as imgsize_detect, with
 * the length counted from the image's first byte. */
typedef struct imgsize_walk {
    size_t pos;     /* image offset of the next byte to examine; 0 = signature unchecked */
    int fmt;        /* 0 unknown, 'J' JPEG, 'P' PNG */
    int in_scan;    /* JPEG: pos is inside entropy-coded data */
} imgsize_walk;

ssize_t imgsize_resume(imgsize_walk *w, const unsigned char *p, size_t base, size_t n);

#endif
