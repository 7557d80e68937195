/* upload: one frame upload, whatever carried it (POST /frames or /ws/frames):
 * field rules of API §3 and the XADD that stores it. */
#ifndef SW_UPLOAD_H
#define SW_UPLOAD_H

#include <stddef.h>

#include "buf.h"
#include "config.h"
#include "frame.h"
#include "store.h"

/* Input fields, as received; NULL = not sent. val[FF_FRAME] is the image,
 * val[FF_WARNINGS..FF_DETECTION_ITEMS] the *_json strings, val[FF_WIDTH] and
 * val[FF_HEIGHT] the integers as text. */
typedef struct upload {
    const char *label, *key;
    size_t label_len, key_len;
    const char *val[FF_COUNT];
    size_t len[FF_COUNT];
} upload;

/* The names clients use for the fields (the form and WebSocket header names). */
extern const char *const upload_field_names[FF_COUNT];

typedef struct upload_problem {
    const char *field;
    const char *type; /* pydantic's error type: "missing", "int_parsing", "value_error" */
    char msg[128];
} upload_problem;

typedef struct upload_check {
    int n;
    upload_problem p[FF_COUNT + 2];
    char width[24], height[24]; /* normalised decimal text, "0" when not sent */
} upload_check;

/* 0 if u may be stored; -1 with every problem listed in chk. */
int upload_validate(const upload *u, upload_check *chk);
/* {"detail": [{"type": ..., "loc": ["body", field], "msg": ..., "input": null}, ...]} */
void upload_problems_json(const upload_check *chk, buf *out);
/* "label: Field required; width: ..." for one-line replies. */
void upload_problems_text(const upload_check *chk, buf *out);
struct json_object;
/* Fills u from a /ws/frames JSON header (label, key, *_json, width, height)
 * and the frame bytes; strings point into hdr, which must outlive u. A value
 * that is not a string is taken as its JSON text (e.g. "warnings_json": []). */
void upload_from_header(upload *u, struct json_object *hdr, const void *frame, size_t frame_len);

/* XADDs a validated upload to its camera's stream; -1 on Redis failure. */
int upload_store(store *s, const config *cfg, const upload *u, const upload_check *chk);

#endif
