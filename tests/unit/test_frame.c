/* test_frame: the JSON headers of frame messages sent to viewers (API §4). */
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "buf.h"
#include "frame.h"
#include "harness.h"

static const char *const meta_names[] = {
    "warnings", "cone_polygons", "pole_polygons", "detection_items", "width", "height",
};

/* An entry with every field, as the suite writes it. */
static frame_entry full_entry(void)
{
    static const char *vals[FF_COUNT] = {
        "\xff\xd8 raw image \"bytes\" \xff\xd9", "[\"no_helmet\"]", "[[1,2],[3,4]]", "[]",
        "[{\"class\": \"person\", \"conf\": 0.9}]", "1280", "720",
    };
    frame_entry e;
    memset(&e, 0, sizeof e);
    e.id = "1700000000000-0";
    e.id_len = strlen(e.id);
    for (int f = 0; f < FF_COUNT; f++) {
        e.val[f] = vals[f];
        e.len[f] = strlen(vals[f]);
    }
    return e;
}

/* Parses header; must be an object whose members are exactly first_name and the
 * six metadata names, all strings. Returns it (json_object_put it) or NULL. */
static json_object *parse_header(const buf *b, const char *first_name)
{
    json_object *o = json_tokener_parse(b->data);
    CHECK(o && json_object_is_type(o, json_type_object), "header %s is not a JSON object", b->data);
    if (!o || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return NULL;
    }
    CHECK(json_object_object_length(o) == 7, "header has %d members, want 7: %s", json_object_object_length(o),
          b->data);
    json_object *v = NULL;
    CHECK(json_object_object_get_ex(o, first_name, &v) && json_object_is_type(v, json_type_string),
          "no string %s in %s", first_name, b->data);
    for (size_t i = 0; i < sizeof meta_names / sizeof meta_names[0]; i++)
        CHECK(json_object_object_get_ex(o, meta_names[i], &v) && json_object_is_type(v, json_type_string),
              "no string %s in %s", meta_names[i], b->data);
    CHECK(!json_object_object_get_ex(o, "frame", NULL), "the frame bytes are in the header: %s", b->data);
    return o;
}

static const char *member_str(json_object *o, const char *name)
{
    json_object *v = NULL;
    return o && json_object_object_get_ex(o, name, &v) ? json_object_get_string(v) : NULL;
}

/* Length of string member name, or -1. */
static int member_len(json_object *o, const char *name)
{
    json_object *v = NULL;
    return o && json_object_object_get_ex(o, name, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string_len(v)
               : -1;
}

/* ---- header for a key (/ws/labels) ---- */

static void test_key_header_all_fields(void)
{
    frame_entry e = full_entry();
    buf b;
    buf_init(&b);
    frame_header_for_key(&b, "cam1", &e);
    json_object *o = parse_header(&b, "key");
    CHECK_STR(member_str(o, "key"), "cam1");
    CHECK_STR(member_str(o, "warnings"), "[\"no_helmet\"]");
    CHECK_STR(member_str(o, "cone_polygons"), "[[1,2],[3,4]]");
    CHECK_STR(member_str(o, "pole_polygons"), "[]");
    CHECK_STR(member_str(o, "detection_items"), "[{\"class\": \"person\", \"conf\": 0.9}]");
    CHECK_STR(member_str(o, "width"), "1280");
    CHECK_STR(member_str(o, "height"), "720");
    CHECK(!json_object_object_get_ex(o, "id", NULL), "a key header carries an id");
    json_object_put(o);
    buf_free(&b);
}

/* ---- header for an id (/ws/stream) ---- */

static void test_id_header_all_fields(void)
{
    frame_entry e = full_entry();
    buf b;
    buf_init(&b);
    frame_header_for_id(&b, &e);
    json_object *o = parse_header(&b, "id");
    CHECK_STR(member_str(o, "id"), "1700000000000-0");
    CHECK_STR(member_str(o, "warnings"), "[\"no_helmet\"]");
    CHECK_STR(member_str(o, "detection_items"), "[{\"class\": \"person\", \"conf\": 0.9}]");
    CHECK_STR(member_str(o, "width"), "1280");
    CHECK_STR(member_str(o, "height"), "720");
    CHECK(!json_object_object_get_ex(o, "key", NULL), "an id header carries a key");
    json_object_put(o);
    buf_free(&b);
}

/* Only id_len bytes of the id. */
static void test_id_respects_length(void)
{
    frame_entry e = full_entry();
    e.id = "1700000000000-0 and more";
    e.id_len = 15;
    buf b;
    buf_init(&b);
    frame_header_for_id(&b, &e);
    json_object *o = parse_header(&b, "id");
    CHECK_STR(member_str(o, "id"), "1700000000000-0");
    json_object_put(o);
    buf_free(&b);
}

/* ---- fields another producer left out ---- */

static void test_missing_fields_empty(void)
{
    frame_entry e;
    memset(&e, 0, sizeof e);
    e.id = "5-1";
    e.id_len = 3;
    e.val[FF_FRAME] = "img";
    e.len[FF_FRAME] = 3;
    buf b;
    buf_init(&b);
    frame_header_for_key(&b, "cam1", &e);
    json_object *o = parse_header(&b, "key");
    for (size_t i = 0; i < sizeof meta_names / sizeof meta_names[0]; i++)
        CHECK(member_len(o, meta_names[i]) == 0, "missing %s is not \"\": %s", meta_names[i], b.data);
    json_object_put(o);
    buf_reset(&b);
    frame_header_for_id(&b, &e);
    o = parse_header(&b, "id");
    CHECK_STR(member_str(o, "id"), "5-1");
    CHECK(member_len(o, "width") == 0 && member_len(o, "height") == 0, "missing width/height not \"\": %s",
          b.data);
    json_object_put(o);
    buf_free(&b);
}

/* Some missing, some present: each is reported for what it is. */
static void test_some_fields_missing(void)
{
    frame_entry e = full_entry();
    e.val[FF_CONE_POLYGONS] = NULL;
    e.len[FF_CONE_POLYGONS] = 0;
    e.val[FF_HEIGHT] = NULL;
    e.len[FF_HEIGHT] = 0;
    buf b;
    buf_init(&b);
    frame_header_for_key(&b, "cam1", &e);
    json_object *o = parse_header(&b, "key");
    CHECK(member_len(o, "cone_polygons") == 0, "missing cone_polygons is not \"\": %s", b.data);
    CHECK(member_len(o, "height") == 0, "missing height is not \"\": %s", b.data);
    CHECK_STR(member_str(o, "width"), "1280");
    CHECK_STR(member_str(o, "warnings"), "[\"no_helmet\"]");
    json_object_put(o);
    buf_free(&b);
}

/* A missing field is NULL; whatever length sits beside it means nothing. */
static void test_missing_field_length_ignored(void)
{
    frame_entry e = full_entry();
    e.val[FF_WARNINGS] = NULL;
    e.len[FF_WARNINGS] = 5;
    buf b;
    buf_init(&b);
    frame_header_for_key(&b, "cam1", &e);
    json_object *o = parse_header(&b, "key");
    CHECK(member_len(o, "warnings") == 0, "missing warnings is not \"\": %s", b.data);
    json_object_put(o);
    buf_free(&b);
}

/* ---- width and height stay strings ---- */

static void test_width_height_strings(void)
{
    frame_entry e = full_entry();
    e.val[FF_WIDTH] = "0";
    e.len[FF_WIDTH] = 1;
    e.val[FF_HEIGHT] = "not a number";
    e.len[FF_HEIGHT] = strlen("not a number");
    buf b;
    buf_init(&b);
    frame_header_for_key(&b, "cam1", &e);
    json_object *o = parse_header(&b, "key");
    json_object *w = NULL, *h = NULL;
    CHECK(json_object_object_get_ex(o, "width", &w) && json_object_is_type(w, json_type_string),
          "width is not a string: %s", b.data);
    CHECK(json_object_object_get_ex(o, "height", &h) && json_object_is_type(h, json_type_string),
          "height is not a string: %s", b.data);
    CHECK_STR(member_str(o, "width"), "0");
    CHECK_STR(member_str(o, "height"), "not a number");
    CHECK(strstr(b.data, "\"width\": \"0\"") != NULL || strstr(b.data, "\"width\":\"0\"") != NULL,
          "width not written as a JSON string: %s", b.data);
    json_object_put(o);
    buf_free(&b);
}

/* ---- escaping ---- */

static void test_key_escaped(void)
{
    static const char *keys[] = {
        "cam \"1\"", "back\\slash", "工地 カメラ 🚧", "--IMG--", "new\nline\ttab", "{\"key\": \"x\"}",
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        frame_entry e = full_entry();
        buf b;
        buf_init(&b);
        frame_header_for_key(&b, keys[i], &e);
        json_object *o = parse_header(&b, "key");
        CHECK_STR(member_str(o, "key"), keys[i]);
        json_object_put(o);
        buf_free(&b);
    }
}

/* Valid UTF-8 is written as is (not \u-escaped), as the Python original sends it. */
static void test_unicode_raw(void)
{
    frame_entry e = full_entry();
    buf b;
    buf_init(&b);
    frame_header_for_key(&b, "工地", &e);
    CHECK(strstr(b.data, "\"工地\"") != NULL, "unicode key not written as UTF-8: %s", b.data);
    buf_free(&b);
}

/* Whatever another producer stored, the header stays valid JSON. */
static void test_hostile_values(void)
{
    frame_entry e = full_entry();
    static const char bad_warn[] = "\"}, \"width\": \"9999\", \"x\": \"";
    static const char binary[] = "a\0b\xff\xfe\x01\"\\";
    e.val[FF_WARNINGS] = bad_warn;
    e.len[FF_WARNINGS] = sizeof bad_warn - 1;
    e.val[FF_POLE_POLYGONS] = binary;
    e.len[FF_POLE_POLYGONS] = sizeof binary - 1;
    buf b;
    buf_init(&b);
    frame_header_for_key(&b, "cam1", &e);
    json_object *o = parse_header(&b, "key");
    CHECK_STR(member_str(o, "warnings"), bad_warn);
    CHECK_STR(member_str(o, "width"), "1280");
    json_object *p = NULL;
    CHECK(o && json_object_object_get_ex(o, "pole_polygons", &p) && json_object_get_string_len(p) >= 5,
          "binary value lost: %s", b.data);
    json_object_put(o);
    buf_free(&b);
}

/* Values are cut at their lengths, not at a NUL or beyond. */
static void test_values_respect_length(void)
{
    frame_entry e = full_entry();
    e.val[FF_WIDTH] = "1280x720";
    e.len[FF_WIDTH] = 4;
    buf b;
    buf_init(&b);
    frame_header_for_key(&b, "cam1", &e);
    json_object *o = parse_header(&b, "key");
    CHECK_STR(member_str(o, "width"), "1280");
    json_object_put(o);
    buf_free(&b);
}

static void test_appends(void)
{
    frame_entry e = full_entry();
    buf b;
    buf_init(&b);
    buf_puts(&b, "prefix");
    frame_header_for_id(&b, &e);
    CHECK(strncmp(b.data, "prefix{", 7) == 0, "header did not append: %.20s", b.data);
    CHECK(b.data[b.len - 1] == '}', "header does not end the object");
    buf_free(&b);
}

int main(void)
{
    test_key_header_all_fields();
    test_id_header_all_fields();
    test_id_respects_length();
    test_missing_fields_empty();
    test_some_fields_missing();
    test_missing_field_length_ignored();
    test_width_height_strings();
    test_key_escaped();
    test_unicode_raw();
    test_hostile_values();
    test_values_respect_length();
    test_appends();
    return test_report("frame");
}
