/* test_upload: the field rules of API §3 shared by POST /frames and
 * /ws/frames, and the FastAPI-shaped problem reports. */
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "buf.h"
#include "harness.h"
#include "upload.h"

/* A valid upload: label, key and a four-byte file; optional fields not sent. */
static upload good(void)
{
    upload u;
    memset(&u, 0, sizeof u);
    u.label = "site A";
    u.label_len = strlen(u.label);
    u.key = "cam1";
    u.key_len = strlen(u.key);
    u.val[FF_FRAME] = "\xff\xd8\xff\xd9";
    u.len[FF_FRAME] = 4;
    return u;
}

static void set(upload *u, int f, const char *v)
{
    u->val[f] = v;
    u->len[f] = v ? strlen(v) : 0;
}

/* The problem reported for field, or NULL. */
static const upload_problem *problem_for(const upload_check *chk, const char *field)
{
    for (int i = 0; i < chk->n; i++)
        if (strcmp(chk->p[i].field, field) == 0)
            return &chk->p[i];
    return NULL;
}

/* u must be refused with exactly one problem, on field, of type type. */
static void one_problem(const char *what, const upload *u, const char *field, const char *type)
{
    upload_check chk;
    int rc = upload_validate(u, &chk);
    CHECK(rc == -1, "%s: accepted", what);
    CHECK(chk.n == 1, "%s: %d problems, want 1", what, chk.n);
    const upload_problem *p = problem_for(&chk, field);
    CHECK(p != NULL, "%s: no problem on %s", what, field);
    if (p) {
        CHECK(strcmp(p->type, type) == 0, "%s: type %s, want %s", what, p->type, type);
        CHECK(p->msg[0] != '\0', "%s: empty message", what);
    }
}

/* ---- required fields ---- */

static void test_all_good(void)
{
    upload u = good();
    upload_check chk;
    CHECK(upload_validate(&u, &chk) == 0, "valid upload refused");
    CHECK(chk.n == 0, "%d problems for a valid upload", chk.n);
    CHECK_STR(chk.width, "0");
    CHECK_STR(chk.height, "0");
    set(&u, FF_WARNINGS, "[]");
    set(&u, FF_CONE_POLYGONS, "");
    set(&u, FF_DETECTION_ITEMS, "{\"x\": 1}");
    set(&u, FF_WIDTH, "1280");
    set(&u, FF_HEIGHT, "720");
    CHECK(upload_validate(&u, &chk) == 0, "valid upload with every field refused");
    CHECK_STR(chk.width, "1280");
    CHECK_STR(chk.height, "720");
}

static void test_missing_label(void)
{
    upload u = good();
    u.label = NULL;
    u.label_len = 0;
    one_problem("no label", &u, "label", "missing");
}

static void test_missing_key(void)
{
    upload u = good();
    u.key = NULL;
    u.key_len = 0;
    one_problem("no key", &u, "key", "missing");
}

static void test_missing_file(void)
{
    upload u = good();
    set(&u, FF_FRAME, NULL);
    one_problem("no file", &u, "file", "missing");
}

static void test_missing_message(void)
{
    upload u = good();
    u.label = NULL;
    upload_check chk;
    upload_validate(&u, &chk);
    CHECK(chk.n == 1 && strcmp(chk.p[0].msg, "Field required") == 0, "message \"%s\"",
          chk.n ? chk.p[0].msg : "");
}

static void test_empty_file(void)
{
    upload u = good();
    u.val[FF_FRAME] = "";
    u.len[FF_FRAME] = 0;
    upload_check chk;
    CHECK(upload_validate(&u, &chk) == -1, "empty file accepted");
    CHECK(chk.n == 1 && problem_for(&chk, "file") != NULL, "empty file: no single problem on file");
    CHECK(problem_for(&chk, "file") == NULL || strcmp(problem_for(&chk, "file")->type, "missing") != 0,
          "an empty file is not a missing one");
}

/* ---- label and key rules ---- */

static void bad_label(const char *what, const char *s, size_t n)
{
    upload u = good();
    u.label = s;
    u.label_len = n;
    one_problem(what, &u, "label", "value_error");
}

static void bad_key(const char *what, const char *s, size_t n)
{
    upload u = good();
    u.key = s;
    u.key_len = n;
    one_problem(what, &u, "key", "value_error");
}

static void test_label_rules(void)
{
    char big[300];
    memset(big, 'a', sizeof big);
    bad_label("label /", "/", 1);
    bad_label("label a/b", "a/b", 3);
    bad_label("label .", ".", 1);
    bad_label("label ..", "..", 2);
    bad_label("label newline", "a\nb", 3);
    bad_label("label DEL", "a\x7f", 2);
    bad_label("label C1", "a\xc2\x85", 3);
    bad_label("label NUL", "a\0b", 3);
    bad_label("label 257 bytes", big, 257);
    bad_label("label invalid UTF-8", "site\xff", 5);
    bad_label("label empty", "", 0);
}

static void test_label_accepted(void)
{
    char big[256];
    memset(big, 'a', sizeof big);
    upload u = good();
    upload_check chk;
    u.label = big;
    u.label_len = 256;
    CHECK(upload_validate(&u, &chk) == 0, "256-byte label refused");
    u.label = "工地 ...";
    u.label_len = strlen(u.label);
    CHECK(upload_validate(&u, &chk) == 0, "unicode label refused");
}

static void test_key_rules(void)
{
    bad_key("key ..", "..", 2);
    bad_key("key /", "cam/1", 5);
    bad_key("key tab", "cam\t1", 5);
    bad_key("key invalid UTF-8", "\xc0\xaf", 2);
}

/* The message names the field, as pydantic's "Value error, ..." does. */
static void test_value_error_message(void)
{
    upload u = good();
    u.key = "a/b";
    u.key_len = 3;
    upload_check chk;
    upload_validate(&u, &chk);
    CHECK(chk.n == 1 && strstr(chk.p[0].msg, "key") != NULL, "message \"%s\" does not name key",
          chk.n ? chk.p[0].msg : "");
}

/* ---- integers ---- */

static void int_ok(const char *v, const char *want)
{
    upload u = good();
    upload_check chk;
    set(&u, FF_WIDTH, v);
    set(&u, FF_HEIGHT, v);
    CHECK(upload_validate(&u, &chk) == 0, "width/height \"%s\" refused", v ? v : "(absent)");
    CHECK_STR(chk.width, want);
    CHECK_STR(chk.height, want);
}

static void int_bad(const char *v)
{
    upload u = good();
    set(&u, FF_WIDTH, v);
    one_problem(v, &u, "width", "int_parsing");
    u = good();
    set(&u, FF_HEIGHT, v);
    one_problem(v, &u, "height", "int_parsing");
}

static void test_integers(void)
{
    int_ok(NULL, "0");
    int_ok("720", "720");
    int_ok(" 720 ", "720");
    int_ok("-5", "-5");
    int_ok("+7", "7");
    int_ok("0", "0");
    int_ok("007", "7");
    int_bad("");
    int_bad("abc");
    int_bad("1.5");
    int_bad("99999999999");
    int_bad("12abc");
    int_bad("0x10");
    int_bad("+");
    int_bad("-");
    int_bad(" ");
    int_bad("1 2");
    int_bad("1e3");
}

/* Only len bytes of a value count. */
static void test_integer_respects_length(void)
{
    upload u = good();
    upload_check chk;
    u.val[FF_WIDTH] = "640x480";
    u.len[FF_WIDTH] = 3;
    CHECK(upload_validate(&u, &chk) == 0, "first 3 bytes of \"640x480\" refused");
    CHECK_STR(chk.width, "640");
}

/* ---- several problems ---- */

static void test_several_problems(void)
{
    upload u = good();
    u.label = NULL;
    u.key = "..";
    u.key_len = 2;
    u.val[FF_FRAME] = "";
    u.len[FF_FRAME] = 0;
    set(&u, FF_WIDTH, "wide");
    set(&u, FF_HEIGHT, "1.5");
    upload_check chk;
    CHECK(upload_validate(&u, &chk) == -1, "five problems accepted");
    CHECK(chk.n == 5, "%d problems, want 5", chk.n);
    static const char *fields[] = { "label", "key", "file", "width", "height" };
    for (int i = 0; i < 5; i++)
        CHECK(problem_for(&chk, fields[i]) != NULL, "no problem on %s", fields[i]);
}

/* ---- reports ---- */

static void test_problems_json(void)
{
    upload u = good();
    u.label = NULL;
    set(&u, FF_WIDTH, "x\"y");
    upload_check chk;
    upload_validate(&u, &chk);
    buf b;
    buf_init(&b);
    upload_problems_json(&chk, &b);
    json_object *o = json_tokener_parse(b.data);
    json_object *detail = NULL;
    CHECK(o && json_object_object_get_ex(o, "detail", &detail) && json_object_is_type(detail, json_type_array),
          "%s: no detail array", b.data);
    CHECK(detail && (int)json_object_array_length(detail) == chk.n && chk.n == 2, "%s: %d problems", b.data,
          chk.n);
    for (int i = 0; detail && i < (int)json_object_array_length(detail); i++) {
        json_object *d = json_object_array_get_idx(detail, (size_t)i), *loc = NULL, *type = NULL, *msg = NULL,
                    *input = NULL;
        CHECK(json_object_object_get_ex(d, "loc", &loc) && json_object_is_type(loc, json_type_array) &&
                  json_object_array_length(loc) == 2,
              "detail[%d].loc is not a pair", i);
        if (loc && json_object_array_length(loc) == 2) {
            CHECK_STR(json_object_get_string(json_object_array_get_idx(loc, 0)), "body");
            CHECK_STR(json_object_get_string(json_object_array_get_idx(loc, 1)), chk.p[i].field);
        }
        CHECK(json_object_object_get_ex(d, "type", &type) && strcmp(json_object_get_string(type), chk.p[i].type) == 0,
              "detail[%d].type", i);
        CHECK(json_object_object_get_ex(d, "msg", &msg) && strcmp(json_object_get_string(msg), chk.p[i].msg) == 0,
              "detail[%d].msg", i);
        CHECK(json_object_object_get_ex(d, "input", &input) && input == NULL, "detail[%d].input is not null", i);
    }
    json_object_put(o);
    buf_free(&b);
}

static void test_problems_json_empty(void)
{
    upload u = good();
    upload_check chk;
    upload_validate(&u, &chk);
    buf b;
    buf_init(&b);
    upload_problems_json(&chk, &b);
    json_object *o = json_tokener_parse(b.data), *detail = NULL;
    CHECK(o && json_object_object_get_ex(o, "detail", &detail) && json_object_array_length(detail) == 0,
          "%s is not an empty detail list", b.data);
    json_object_put(o);
    buf_free(&b);
}

static void test_problems_text(void)
{
    upload u = good();
    u.label = NULL;
    upload_check chk;
    upload_validate(&u, &chk);
    buf b;
    buf_init(&b);
    upload_problems_text(&chk, &b);
    CHECK_STR(b.data, "label: Field required");
    set(&u, FF_HEIGHT, "tall");
    upload_validate(&u, &chk);
    buf_reset(&b);
    upload_problems_text(&chk, &b);
    buf want;
    buf_init(&want);
    const upload_problem *hp = problem_for(&chk, "height");
    CHECK(hp != NULL, "no problem on height");
    buf_printf(&want, "label: Field required; height: %s", hp ? hp->msg : "?");
    CHECK_STR(b.data, want.data);
    buf_free(&want);
    buf_free(&b);
}

int main(void)
{
    test_all_good();
    test_missing_label();
    test_missing_key();
    test_missing_file();
    test_missing_message();
    test_empty_file();
    test_label_rules();
    test_label_accepted();
    test_key_rules();
    test_value_error_message();
    test_integers();
    test_integer_respects_length();
    test_several_problems();
    test_problems_json();
    test_problems_json_empty();
    test_problems_text();
    return test_report("upload");
}
