/* xalloc: allocation that aborts on out-of-memory, so callers never thread ENOMEM. */
#ifndef SW_XALLOC_H
#define SW_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* For programs that allocate and free a frame's worth of memory per request
 * or message: keeps up to bytes of freed heap instead of handing it back to
 * the kernel each time (see xalloc.c). */
void xalloc_keep_heap(size_t bytes);
/* What the frame programs keep: frames of a few MB, typical camera frames. */
enum { FRAME_HEAP_KEEP_BYTES = 4 << 20 };

#endif
