/* fuzz_header: /ws/frames header validation and the JSON writer always produce valid JSON. */
#include <json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "codec.h"
#include "jsonw.h"
#include "upload.h"

/* Parses text (NUL-terminated, len bytes) as one whole JSON value; NULL if it is not one. */
static json_object *parse_whole(const char *text, size_t len)
{
    json_tokener *tok = json_tokener_new();
    json_object *v = json_tokener_parse_ex(tok, text, (int)len);
    if (v && json_tokener_get_parse_end(tok) != len) {
        json_object_put(v);
        v = NULL;
    }
    json_tokener_free(tok);
    return v;
}

/* problems_json is FastAPI's shape: {"detail": [one entry per problem]}. */
static void check_problems_json(const upload_check *chk)
{
    buf out;
    buf_init(&out);
    upload_problems_json(chk, &out);
    json_object *v = parse_whole(out.data, out.len), *detail;
    if (!v || !json_object_object_get_ex(v, "detail", &detail) || !json_object_is_type(detail, json_type_array) ||
        json_object_array_length(detail) != (size_t)chk->n)
        abort();
    json_object_put(v);
    buf_free(&out);
}

static void fuzz_upload(const uint8_t *data, size_t size)
{
    json_tokener *tok = json_tokener_new();
    json_object *obj = json_tokener_parse_ex(tok, (const char *)data, (int)size);
    json_tokener_free(tok);
    if (obj && json_object_is_type(obj, json_type_object)) {
        upload u;
        upload_check chk;
        upload_from_header(&u, obj, data, size);
        int rc = upload_validate(&u, &chk);
        /* Accepted means storable: both names pass the rules and width/height are integers. */
        if (rc != (chk.n ? -1 : 0) || (rc == 0 && (name_check(u.label, u.label_len) || name_check(u.key, u.key_len))))
            abort();
        if (!chk.width[0] || !chk.height[0])
            abort();
        check_problems_json(&chk);
        buf text;
        buf_init(&text);
        upload_problems_text(&chk, &text);
        if (chk.n && !text.len)
            abort();
        buf_free(&text);
    }
    json_object_put(obj);
}

/* Any bytes become one JSON string; valid UTF-8 comes back unchanged. */
static void fuzz_jsonw(const uint8_t *data, size_t size)
{
    buf out;
    buf_init(&out);
    jsonw_str(&out, (const char *)data, size);
    json_object *v = parse_whole(out.data, out.len);
    if (!v || !json_object_is_type(v, json_type_string))
        abort();
    if (utf8_valid((const char *)data, size)) {
        size_t n = (size_t)json_object_get_string_len(v);
        if (n != size || (n && memcmp(json_object_get_string(v), data, n) != 0))
            abort();
    }
    json_object_put(v);
    buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_upload(data, size);
    fuzz_jsonw(data, size);
    return 0;
}
