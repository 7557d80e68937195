/* form: multipart parts → upload fields, bounded while reading. */
#include "form.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"
#include "xalloc.h"

enum { FIELD_LABEL = FF_COUNT, FIELD_KEY, FIELD_COUNT };

struct form {
    mp_parser *mp;
    size_t max_file;
    int current;               /* field of the part being read, -1 if ignored */
    buf val[FIELD_COUNT];
    int seen[FIELD_COUNT];
    int status;
    char error[160];
};

static int field_index(const char *name)
{
    for (int i = 0; i < FF_COUNT; i++)
        if (strcmp(name, upload_field_names[i]) == 0)
            return i;
    if (strcmp(name, "label") == 0)
        return FIELD_LABEL;
    return strcmp(name, "key") == 0 ? FIELD_KEY : -1;
}

static int refuse(form *f, int status, const char *why)
{
    f->status = status;
    snprintf(f->error, sizeof f->error, "%s", why);
    return -1;
}

static int on_begin(void *ud, const char *name, const char *filename, const char *content_type)
{
    form *f = ud;
    (void)filename;
    (void)content_type;
    f->current = field_index(name);
    if (f->current >= 0) {
        /* A repeated field: the last one wins, as in Starlette's form parsing. */
        buf_reset(&f->val[f->current]);
        f->seen[f->current] = 1;
    }
    return 0;
}

static int on_data(void *ud, const char *data, size_t len)
{
    form *f = ud;
    if (f->current < 0)
        return 0;
    buf *b = &f->val[f->current];
    size_t limit = f->current == FF_FRAME ? f->max_file : FORM_MAX_FIELD_BYTES;
    if (b->len + len > limit) {
        char why[160];
        snprintf(why, sizeof why, "%s larger than %zu bytes",
                 f->current == FF_FRAME ? "file" : "form field", limit);
        return refuse(f, 413, why);
    }
    buf_append(b, data, len);
    return 0;
}

static int on_end(void *ud)
{
    ((form *)ud)->current = -1;
    return 0;
}

static const mp_callbacks form_callbacks = { on_begin, on_data, on_end };

form *form_new(const char *content_type, size_t max_file_bytes, int *status)
{
    char boundary[128];
    if (!content_type || mp_boundary_from_content_type(content_type, boundary, sizeof boundary) < 0) {
        *status = 415;
        return NULL;
    }
    form *f = xcalloc(1, sizeof *f);
    f->max_file = max_file_bytes;
    f->current = -1;
    f->status = 200;
    for (int i = 0; i < FIELD_COUNT; i++)
        buf_init(&f->val[i]);
    f->mp = mp_parser_new(boundary, NULL, &form_callbacks, f);
    return f;
}

void form_free(form *f)
{
    if (!f)
        return;
    mp_parser_free(f->mp);
    for (int i = 0; i < FIELD_COUNT; i++)
        buf_free(&f->val[i]);
    free(f);
}

static int parser_failed(form *f)
{
    if (f->status != 200) /* a callback refused (413): keep its reason */
        return -1;
    int status = mp_parser_errcode(f->mp) == MP_ERR_LIMIT ? 413 : 400;
    char why[160];
    snprintf(why, sizeof why, "There was an error parsing the body: %s", mp_parser_error(f->mp));
    return refuse(f, status, why);
}

int form_feed(form *f, const char *data, size_t n)
{
    if (f->status != 200)
        return -1;
    return mp_parser_feed(f->mp, data, n) < 0 ? parser_failed(f) : 0;
}

int form_finish(form *f)
{
    if (f->status != 200)
        return -1;
    return mp_parser_finish(f->mp) < 0 ? parser_failed(f) : 0;
}

int form_status(const form *f)
{
    return f->status;
}

const char *form_error(const form *f)
{
    return f->error;
}

void form_upload(const form *f, upload *u)
{
    memset(u, 0, sizeof *u);
    for (int i = 0; i < FF_COUNT; i++) {
        u->val[i] = f->seen[i] ? (f->val[i].data ? f->val[i].data : "") : NULL;
        u->len[i] = f->val[i].len;
    }
    u->label = f->seen[FIELD_LABEL] ? (f->val[FIELD_LABEL].data ? f->val[FIELD_LABEL].data : "") : NULL;
    u->label_len = f->val[FIELD_LABEL].len;
    u->key = f->seen[FIELD_KEY] ? (f->val[FIELD_KEY].data ? f->val[FIELD_KEY].data : "") : NULL;
    u->key_len = f->val[FIELD_KEY].len;
}
