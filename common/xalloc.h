/* xalloc: allocation that aborts on out-of-memory, so callers never thread ENOMEM. */
#ifndef SW_XALLOC_H
#define SW_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
