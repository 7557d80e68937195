/* jsonw: writes JSON text into a buf (the hot path builds frame headers with it). */
#ifndef SW_JSONW_H
#define SW_JSONW_H

#include <stddef.h>

#include "buf.h"

/* Appends s as a quoted JSON string. Invalid UTF-8 becomes U+FFFD, so what
 * another producer stored can never make the output invalid JSON. */
void jsonw_str(buf *out, const char *s, size_t n);
/* Appends "name": "value" (with a leading ", " unless first). */
void jsonw_field(buf *out, int first, const char *name, const char *value, size_t n);
/* {"detail": "<msg>"}: FastAPI's error shape. */
void jsonw_detail(buf *out, const char *msg);
/* {"error": "<msg>"}: the WebSocket error shape. */
void jsonw_error(buf *out, const char *msg);

#endif
