/* codec: URL-safe base64, Redis stream keys, UTF-8 and name rules, URL decoding. */
#ifndef SW_CODEC_H
#define SW_CODEC_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define STREAM_KEY_PREFIX "stream_frame:"

/* Appends the URL-safe base64 of p (with '=' padding, as Python's urlsafe_b64encode). */
void b64url_encode(buf *out, const void *p, size_t n);
/* Appends the decoded bytes; -1 (out unchanged) unless s is valid URL-safe base64.
 * Padding may be present or absent, but never wrong. */
int b64url_decode(buf *out, const char *s, size_t n);

/* "stream_frame:<b64 label>|<b64 key>" (API §1). */
void stream_key_build(buf *out, const char *label, const char *key);
/* The key pattern of every stream of one label, for SCAN MATCH. */
void stream_key_label_pattern(buf *out, const char *label);
/* Splits and decodes a stream key; -1 unless both parts decode to valid UTF-8
 * (a key may be NULL when only the label is wanted). */
int stream_key_parse(const char *rkey, size_t n, buf *label, buf *key);

bool utf8_valid(const char *s, size_t n);

/* Label and key rules (API §3): non-empty valid UTF-8, at most 256
 * bytes, no control characters, no '/', not "." or "..". Returns NULL if the
 * name is acceptable, else why not. */
const char *name_check(const char *s, size_t n);

/* Appends the percent-decoding of s; '+' becomes a space only if plus_space.
 * -1 on a malformed escape. */
int percent_decode(buf *out, const char *s, size_t n, bool plus_space);

/* Finds parameter name in a query string ("a=1&token=x") and appends its
 * decoded value. Returns 0 if found, -1 if absent or malformed. */
int query_param(buf *out, const char *query, const char *name);

/* The token of an "Authorization: Bearer <token>" value (RFC 6750), or NULL. */
const char *bearer_token(const char *authorization);

#endif
