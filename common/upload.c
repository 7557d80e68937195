/* upload: validation shared by both upload endpoints, and the write itself. */
#include "upload.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "jsonw.h"
#include "xalloc.h"

const char *const upload_field_names[FF_COUNT] = {
    "file", "warnings_json", "cone_polygons_json", "pole_polygons_json", "detection_items_json",
    "width", "height",
};

static void problem(upload_check *chk, const char *field, const char *type, const char *msg)
{
    if (chk->n >= (int)(sizeof chk->p / sizeof chk->p[0]))
        return;
    upload_problem *p = &chk->p[chk->n++];
    p->field = field;
    p->type = type;
    snprintf(p->msg, sizeof p->msg, "%s", msg);
}

static void check_name(upload_check *chk, const char *field, const char *s, size_t n)
{
    char msg[128];
    const char *why;
    if (!s) {
        problem(chk, field, "missing", "Field required");
    } else if ((why = name_check(s, n)) != NULL) {
        snprintf(msg, sizeof msg, "Value error, %s %s", field, why);
        problem(chk, field, "value_error", msg);
    }
}

/* An integer as pydantic reads form text: surrounding blanks, optional sign,
 * decimal digits, within 32 bits. */
static int parse_int(const char *s, size_t n, long *out)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    size_t i = n && (s[0] == '+' || s[0] == '-');
    if (i == n || n - i > 10)
        return -1;
    long v = 0;
    for (size_t k = i; k < n; k++) {
        if (s[k] < '0' || s[k] > '9')
            return -1;
        v = v * 10 + (s[k] - '0');
    }
    *out = s[0] == '-' ? -v : v;
    return *out >= -2147483648L && *out <= 2147483647L ? 0 : -1;
}

static void check_int(upload_check *chk, int f, const upload *u, char *out, size_t outlen)
{
    long v = 0;
    if (u->val[f] && parse_int(u->val[f], u->len[f], &v) < 0)
        problem(chk, upload_field_names[f], "int_parsing",
                "Input should be a valid integer, unable to parse string as an integer");
    snprintf(out, outlen, "%ld", v);
}

int upload_validate(const upload *u, upload_check *chk)
{
    memset(chk, 0, sizeof *chk);
    check_name(chk, "label", u->label, u->label_len);
    check_name(chk, "key", u->key, u->key_len);
    if (!u->val[FF_FRAME])
        problem(chk, "file", "missing", "Field required");
    else if (u->len[FF_FRAME] == 0)
        problem(chk, "file", "value_error", "Value error, file must not be empty");
    check_int(chk, FF_WIDTH, u, chk->width, sizeof chk->width);
    check_int(chk, FF_HEIGHT, u, chk->height, sizeof chk->height);
    return chk->n ? -1 : 0;
}

void upload_problems_json(const upload_check *chk, buf *out)
{
    buf_puts(out, "{\"detail\": [");
    for (int i = 0; i < chk->n; i++) {
        const upload_problem *p = &chk->p[i];
        buf_puts(out, i ? ", {" : "{");
        jsonw_field(out, 1, "type", p->type, strlen(p->type));
        buf_puts(out, ", \"loc\": [\"body\", ");
        jsonw_str(out, p->field, strlen(p->field));
        buf_puts(out, "], ");
        jsonw_field(out, 1, "msg", p->msg, strlen(p->msg));
        buf_puts(out, ", \"input\": null}");
    }
    buf_puts(out, "]}");
}

void upload_problems_text(const upload_check *chk, buf *out)
{
    for (int i = 0; i < chk->n; i++)
        buf_printf(out, "%s%s: %s", i ? "; " : "", chk->p[i].field, chk->p[i].msg);
}

/* The header's value for name as text; NULL when absent or null. */
static const char *header_text(json_object *hdr, const char *name, size_t *len)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(hdr, name, &v) || !v)
        return NULL;
    const char *s = json_object_is_type(v, json_type_string)
                        ? json_object_get_string(v)
                        : json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    *len = json_object_is_type(v, json_type_string) ? (size_t)json_object_get_string_len(v) : strlen(s);
    return s;
}

void upload_from_header(upload *u, json_object *hdr, const void *frame, size_t frame_len)
{
    memset(u, 0, sizeof *u);
    u->label = header_text(hdr, "label", &u->label_len);
    u->key = header_text(hdr, "key", &u->key_len);
    for (int f = FF_WARNINGS; f < FF_COUNT; f++)
        u->val[f] = header_text(hdr, upload_field_names[f], &u->len[f]);
    u->val[FF_FRAME] = frame;
    u->len[FF_FRAME] = frame_len;
}

int upload_store(store *s, const config *cfg, const upload *u, const upload_check *chk)
{
    const char *val[FF_COUNT];
    size_t len[FF_COUNT];
    buf rkey;
    buf_init(&rkey);
    char *label = xstrndup(u->label, u->label_len), *key = xstrndup(u->key, u->key_len);
    stream_key_build(&rkey, label, key);
    for (int f = 0; f < FF_COUNT; f++) {
        val[f] = u->val[f] ? u->val[f] : "";
        len[f] = u->val[f] ? u->len[f] : 0;
    }
    val[FF_WIDTH] = chk->width;
    len[FF_WIDTH] = strlen(chk->width);
    val[FF_HEIGHT] = chk->height;
    len[FF_HEIGHT] = strlen(chk->height);
    int rc = store_xadd_frame(s, rkey.data, cfg->stream_maxlen, val, len, NULL);
    free(label);
    free(key);
    buf_free(&rkey);
    return rc;
}
