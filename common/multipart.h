/* multipart: a streaming multipart/form-data parser (RFC 7578 / RFC 2046) for upload bodies. */
#ifndef SW_MULTIPART_H
#define SW_MULTIPART_H

#include <stddef.h>

#define MP_MAX_BOUNDARY 70                  /* RFC 2046: 1..70 characters */
#define MP_DEFAULT_MAX_HEADER_BYTES 16384
#define MP_DEFAULT_MAX_PARTS 64

typedef struct mp_parser mp_parser;

/* The strings handed to on_part_begin are valid only during that call. */
typedef struct mp_callbacks {
    /* A part begins. name/filename come from Content-Disposition (quoted or token values,
       backslash escapes inside quotes honoured); filename is NULL when absent; content_type NULL when absent.
       Return 0 to go on, -1 to abort parsing (the parser then reports MP_ERR_ABORTED). */
    int (*on_part_begin)(void *ud, const char *name, const char *filename, const char *content_type);
    /* Body bytes of the current part, in as many pieces as arrive (binary-safe, may contain NUL). */
    int (*on_part_data)(void *ud, const char *data, size_t len);
    /* The current part ended (its closing boundary has been seen). */
    int (*on_part_end)(void *ud);
} mp_callbacks;

enum mp_error { MP_OK = 0, MP_ERR_MALFORMED, MP_ERR_ABORTED, MP_ERR_LIMIT, MP_ERR_TRUNCATED };

/* A zero field means its default. */
typedef struct mp_limits {
    size_t max_header_bytes;  /* one part's header block (blank line included), default 16384 */
    size_t max_parts;         /* default 64 */
} mp_limits;

/* boundary: the raw boundary string (without leading "--"); limits may be NULL for defaults;
   any callback may be NULL. Returns NULL when the boundary is empty, longer than
   MP_MAX_BOUNDARY or contains CR/LF. */
mp_parser *mp_parser_new(const char *boundary, const mp_limits *limits, const mp_callbacks *cb, void *ud);
void mp_parser_free(mp_parser *p);            /* accepts NULL */
int mp_parser_feed(mp_parser *p, const char *data, size_t len);  /* 0 ok, -1 error; after an error every call returns -1 */
int mp_parser_finish(mp_parser *p);           /* call at end of body: -1 (MP_ERR_TRUNCATED) if the closing boundary "--BOUNDARY--" never came */
enum mp_error mp_parser_errcode(const mp_parser *p);
const char *mp_parser_error(const mp_parser *p); /* human-readable, e.g. "part header too large", "missing boundary", "Content-Disposition without name" */

/* Extracts the boundary parameter from a Content-Type header value such as
   `multipart/form-data; boundary="abc def"` or `multipart/form-data; charset=utf-8; boundary=xyz`.
   Media type match is case-insensitive, parameter name case-insensitive, quoted values unquoted.
   Returns 0 and writes a NUL-terminated boundary into out, or -1 when the type is not
   multipart/form-data, the boundary is missing, empty, longer than 70 chars (RFC 2046) or longer than outlen-1
   (also when it is given twice or the parameters are malformed; out may have been written then). */
int mp_boundary_from_content_type(const char *content_type, char *out, size_t outlen);

#endif
