/* test_jsonw: JSON string escaping, the error shapes, and that whatever bytes go
 * in, json-c reads valid JSON back out. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "buf.h"
#include "codec.h"
#include "harness.h"
#include "jsonw.h"

#define FFFD "\xef\xbf\xbd"

static uint32_t rng_state = 0x9e3779b9u;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* jsonw_str of n bytes of s must be exactly want. */
static void check_raw(const char *s, size_t n, const char *want)
{
    buf b;
    buf_init(&b);
    jsonw_str(&b, s, n);
    CHECK_STR(b.data, want);
    buf_free(&b);
}

/* Parses json as a JSON string; fills *out (malloc'd) and *outlen. -1 if not a string. */
static int parse_string(const char *json, size_t len, char **out, size_t *outlen)
{
    struct json_tokener *tok = json_tokener_new();
    json_object *o = json_tokener_parse_ex(tok, json, (int)len);
    int ok = o && json_tokener_get_error(tok) == json_tokener_success &&
             json_tokener_get_parse_end(tok) == len && json_object_is_type(o, json_type_string);
    if (ok) {
        *outlen = (size_t)json_object_get_string_len(o);
        *out = malloc(*outlen + 1);
        memcpy(*out, json_object_get_string(o), *outlen + 1);
    }
    json_object_put(o);
    json_tokener_free(tok);
    return ok ? 0 : -1;
}

/* jsonw_str of s must parse back to exactly want_len bytes of want. */
static void check_roundtrip(const char *s, size_t n, const char *want, size_t want_len)
{
    buf b;
    buf_init(&b);
    jsonw_str(&b, s, n);
    char *got = NULL;
    size_t got_len = 0;
    int rc = parse_string(b.data, b.len, &got, &got_len);
    CHECK(rc == 0, "output %s does not parse as a JSON string", b.data);
    CHECK(rc == 0 && got_len == want_len && memcmp(got, want, want_len) == 0,
          "output %s parses to %zu bytes, want %zu", b.data, got_len, want_len);
    free(got);
    buf_free(&b);
}

#define RAW(s, want) check_raw(s, sizeof(s) - 1, want)
#define ROUNDTRIP(s, want) check_roundtrip(s, sizeof(s) - 1, want, sizeof(want) - 1)

/* ---- escaping ---- */

static void test_plain(void)
{
    RAW("", "\"\"");
    RAW("hello world", "\"hello world\"");
    RAW("/path/ok", "\"/path/ok\"");
}

static void test_quote_and_backslash(void)
{
    RAW("a\"b", "\"a\\\"b\"");
    RAW("a\\b", "\"a\\\\b\"");
    RAW("\"\\\"", "\"\\\"\\\\\\\"\"");
    ROUNDTRIP("say \"hi\" \\o/", "say \"hi\" \\o/");
}

static void test_named_controls(void)
{
    RAW("\n", "\"\\n\"");
    RAW("\r", "\"\\r\"");
    RAW("\t", "\"\\t\"");
    RAW("a\r\nb\tc", "\"a\\r\\nb\\tc\"");
}

static void test_other_controls(void)
{
    RAW("\x01", "\"\\u0001\"");
    RAW("\x10", "\"\\u0010\"");
    ROUNDTRIP("\x1f", "\x1f");
    ROUNDTRIP("\b\f", "\b\f");
    ROUNDTRIP("\x7f", "\x7f");
    /* every control byte: parses back, and none appears raw in the output */
    int raw_free = 1;
    for (int c = 1; c < 0x20; c++) {
        char in[1] = { (char)c };
        buf b;
        buf_init(&b);
        jsonw_str(&b, in, 1);
        for (size_t i = 0; i < b.len; i++)
            if ((unsigned char)b.data[i] < 0x20)
                raw_free = 0;
        check_roundtrip(in, 1, in, 1);
        buf_free(&b);
    }
    CHECK(raw_free, "a control byte was written unescaped");
}

static void test_nul(void)
{
    RAW("\0", "\"\\u0000\"");
    RAW("a\0b", "\"a\\u0000b\"");
    ROUNDTRIP("a\0b", "a\0b");
}

static void test_valid_utf8_kept(void)
{
    RAW("é工🚧", "\"é工🚧\"");
    RAW("\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
        "\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"");
    ROUNDTRIP("工地 \"A\"", "工地 \"A\"");
}

static void test_invalid_utf8_replaced(void)
{
    ROUNDTRIP("a\xff" "b", "a" FFFD "b");
    ROUNDTRIP("\x80", FFFD);
    ROUNDTRIP("\xc0\xaf", FFFD FFFD);            /* overlong '/' */
    ROUNDTRIP("\xed\xa0\x80" "x", FFFD FFFD FFFD "x"); /* surrogate */
    ROUNDTRIP("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD); /* > U+10FFFF */
    ROUNDTRIP("ok\xc3", "ok" FFFD);               /* truncated at the end */
    ROUNDTRIP("\xc3" "a\xc3\xa9", FFFD "a\xc3\xa9"); /* a good sequence after a bad byte survives */
}

/* Only n bytes are written. */
static void test_respects_length(void)
{
    check_raw("abc\"def", 3, "\"abc\"");
    check_raw("\xc3\xa9", 1, "\"\\ufffd\"");
}

static void test_appends(void)
{
    buf b;
    buf_init(&b);
    buf_puts(&b, "[");
    jsonw_str(&b, "x", 1);
    buf_puts(&b, "]");
    CHECK_STR(b.data, "[\"x\"]");
    buf_free(&b);
}

/* ---- fields and shapes ---- */

static void test_field(void)
{
    buf b;
    buf_init(&b);
    jsonw_field(&b, 1, "name", "va\"lue", 6);
    CHECK_STR(b.data, "\"name\": \"va\\\"lue\"");
    buf_reset(&b);
    jsonw_field(&b, 0, "n", "v", 1);
    CHECK_STR(b.data, ", \"n\": \"v\"");
    buf_reset(&b);
    buf_putc(&b, '{');
    jsonw_field(&b, 1, "a", "1", 1);
    jsonw_field(&b, 0, "b", "2", 1);
    buf_putc(&b, '}');
    json_object *o = json_tokener_parse(b.data);
    json_object *v = NULL;
    CHECK(o && json_object_object_length(o) == 2, "%s is not a 2-member object", b.data);
    CHECK(json_object_object_get_ex(o, "b", &v) && strcmp(json_object_get_string(v), "2") == 0,
          "b is not \"2\" in %s", b.data);
    json_object_put(o);
    buf_free(&b);
}

/* obj must be {"<member>": "<want>"} and nothing else. */
static void check_single_member(const char *json, const char *member, const char *want)
{
    json_object *o = json_tokener_parse(json);
    json_object *v = NULL;
    CHECK(o && json_object_is_type(o, json_type_object) && json_object_object_length(o) == 1,
          "%s is not a one-member object", json);
    CHECK(o && json_object_object_get_ex(o, member, &v) && json_object_is_type(v, json_type_string) &&
              strcmp(json_object_get_string(v), want) == 0,
          "%s: %s is not \"%s\"", json, member, want);
    json_object_put(o);
}

static void test_detail(void)
{
    buf b;
    buf_init(&b);
    jsonw_detail(&b, "Not authenticated");
    CHECK_STR(b.data, "{\"detail\": \"Not authenticated\"}");
    buf_reset(&b);
    jsonw_detail(&b, "Failed: \"quoted\"\n\\");
    check_single_member(b.data, "detail", "Failed: \"quoted\"\n\\");
    buf_free(&b);
}

static void test_error(void)
{
    buf b;
    buf_init(&b);
    jsonw_error(&b, "No keys found for label 'x'");
    CHECK_STR(b.data, "{\"error\": \"No keys found for label 'x'\"}");
    buf_reset(&b);
    jsonw_error(&b, "bad \xff byte");
    check_single_member(b.data, "error", "bad " FFFD " byte");
    buf_free(&b);
}

/* ---- random inputs ---- */

/* Appends one random piece: ASCII, an escape-worthy byte, a valid multi-byte
 * character (never U+FFFD itself), or (if allow_invalid) a random byte. */
static void random_piece(buf *b, bool allow_invalid)
{
    static const char *const chars[] = {
        "\xc3\xa9", "\xc2\x80", "\xdf\xbf", "\xe5\xb7\xa5", "\xe0\xa0\x80", "\xed\x9f\xbf",
        "\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x9f\x9a\xa7", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf",
    };
    uint32_t r = rng();
    switch (r % (allow_invalid ? 5 : 4)) {
    case 0:
        buf_putc(b, (char)(0x20 + (r >> 8) % 0x5f));
        break;
    case 1: {
        static const char special[] = { '"', '\\', '\n', '\r', '\t', '\0', '\x01', '\x1f', '\x7f', '/' };
        buf_putc(b, special[(r >> 8) % sizeof special]);
        break;
    }
    case 2:
    case 3:
        buf_puts(b, chars[(r >> 8) % (sizeof chars / sizeof chars[0])]);
        break;
    default:
        buf_putc(b, (char)(r >> 8));
        break;
    }
}

/* The ASCII bytes of s, in order: invalid sequences are always >= 0x80, so the
 * replacement must keep exactly these. */
static void ascii_only(buf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x80)
            buf_putc(out, s[i]);
}

static void test_random_strings(void)
{
    int parse_ok = 1, valid_exact = 1, out_utf8 = 1, ascii_kept = 1, fffd_iff_invalid = 1;
    int nvalid = 0, ninvalid = 0;
    for (int round = 0; round < 1000; round++) {
        buf in, out, a1, a2;
        buf_init(&in);
        buf_init(&out);
        buf_init(&a1);
        buf_init(&a2);
        bool allow_invalid = round % 2;
        size_t pieces = rng() % 40;
        for (size_t i = 0; i < pieces; i++)
            random_piece(&in, allow_invalid);
        const char *s = in.data ? in.data : "";
        bool valid = utf8_valid(s, in.len);
        valid ? nvalid++ : ninvalid++;
        jsonw_str(&out, s, in.len);
        char *got = NULL;
        size_t got_len = 0;
        if (parse_string(out.data, out.len, &got, &got_len) < 0) {
            parse_ok = 0;
        } else {
            if (valid && (got_len != in.len || memcmp(got, s, in.len) != 0))
                valid_exact = 0;
            if (!utf8_valid(got, got_len))
                out_utf8 = 0;
            ascii_only(&a1, s, in.len);
            ascii_only(&a2, got, got_len);
            if (a1.len != a2.len || (a1.len && memcmp(a1.data, a2.data, a1.len) != 0))
                ascii_kept = 0;
            bool has_fffd = memmem(got, got_len, FFFD, 3) != NULL;
            if (has_fffd != !valid)
                fffd_iff_invalid = 0;
        }
        free(got);
        buf_free(&in);
        buf_free(&out);
        buf_free(&a1);
        buf_free(&a2);
    }
    CHECK(parse_ok, "some output did not parse as one JSON string");
    CHECK(valid_exact, "some valid UTF-8 input did not round-trip exactly");
    CHECK(out_utf8, "some parsed output is not valid UTF-8");
    CHECK(ascii_kept, "some output lost or changed ASCII bytes");
    CHECK(fffd_iff_invalid, "U+FFFD appears other than for invalid input");
    CHECK(nvalid > 400 && ninvalid > 100, "generator gave %d valid and %d invalid inputs", nvalid, ninvalid);
}

/* Every single byte value, and every pair, gives parseable JSON. */
static void test_all_bytes_parse(void)
{
    int ok = 1;
    for (int c = 0; c < 256; c++) {
        for (int d = 0; d < 256; d++) {
            char in[2] = { (char)c, (char)d };
            buf b;
            buf_init(&b);
            jsonw_str(&b, in, 2);
            char *got = NULL;
            size_t got_len;
            if (parse_string(b.data, b.len, &got, &got_len) < 0)
                ok = 0;
            free(got);
            buf_free(&b);
        }
    }
    CHECK(ok, "some two-byte input gave unparseable JSON");
}

int main(void)
{
    test_plain();
    test_quote_and_backslash();
    test_named_controls();
    test_other_controls();
    test_nul();
    test_valid_utf8_kept();
    test_invalid_utf8_replaced();
    test_respects_length();
    test_appends();

    test_field();
    test_detail();
    test_error();

    test_random_strings();
    test_all_bytes_parse();
    return test_report("jsonw");
}
