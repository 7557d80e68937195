/* test_codec: base64url, stream keys, UTF-8 and name rules, percent decoding, query strings. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "codec.h"
#include "harness.h"

/* ---- helpers ---- */

static uint32_t rng_state = 0x12345678u;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* Encodes n bytes of p and compares with want. */
static void check_encode(const void *p, size_t n, const char *want)
{
    buf b;
    buf_init(&b);
    b64url_encode(&b, p, n);
    CHECK(b.data && b.len == strlen(want) && memcmp(b.data, want, b.len) == 0,
          "encode of %zu bytes: got \"%s\", want \"%s\"", n, b.data ? b.data : "(null)", want);
    buf_free(&b);
}

/* Decodes s (strlen) and compares with want_len bytes of want. */
static void check_decode(const char *s, const void *want, size_t want_len)
{
    buf b;
    buf_init(&b);
    int rc = b64url_decode(&b, s, strlen(s));
    CHECK(rc == 0, "decode \"%s\" failed", s);
    CHECK(rc == 0 && b.len == want_len && (want_len == 0 || memcmp(b.data, want, want_len) == 0),
          "decode \"%s\": wrong bytes (len %zu, want %zu)", s, b.len, want_len);
    buf_free(&b);
}

/* Decoding s (n bytes) must fail and leave the buffer as it was. */
static void check_decode_rejected(const char *s, size_t n)
{
    buf b;
    buf_init(&b);
    buf_puts(&b, "keep");
    int rc = b64url_decode(&b, s, n);
    CHECK(rc == -1, "decode of \"%.*s\" accepted", (int)n, s);
    CHECK(b.len == 4 && strcmp(b.data, "keep") == 0, "failed decode of \"%.*s\" changed the buffer",
          (int)n, s);
    buf_free(&b);
}

static bool in_b64url_alphabet(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '=';
}

/* ---- base64url ---- */

static void test_b64_rfc4648_vectors(void)
{
    check_encode("", 0, "");
    check_encode("f", 1, "Zg==");
    check_encode("fo", 2, "Zm8=");
    check_encode("foo", 3, "Zm9v");
    check_encode("foob", 4, "Zm9vYg==");
    check_encode("fooba", 5, "Zm9vYmE=");
    check_encode("foobar", 6, "Zm9vYmFy");
    check_decode("", "", 0);
    check_decode("Zg==", "f", 1);
    check_decode("Zm8=", "fo", 2);
    check_decode("Zm9v", "foo", 3);
    check_decode("Zm9vYg==", "foob", 4);
    check_decode("Zm9vYmE=", "fooba", 5);
    check_decode("Zm9vYmFy", "foobar", 6);
}

static void test_b64_protocol_examples(void)
{
    check_encode("site A", 6, "c2l0ZSBB");
    check_encode("cam1", 4, "Y2FtMQ==");
    check_decode("c2l0ZSBB", "site A", 6);
    check_decode("Y2FtMQ==", "cam1", 4);
}

/* The URL-safe alphabet: '-' and '_' instead of '+' and '/'. */
static void test_b64_url_safe_alphabet(void)
{
    check_encode("\xfb\xef\xbe", 3, "----");
    check_encode("\xff\xff\xff", 3, "____");
    check_encode("\xfb\xff", 2, "-_8=");
    check_decode("----", "\xfb\xef\xbe", 3);
    check_decode("____", "\xff\xff\xff", 3);
    check_decode("-_8=", "\xfb\xff", 2);
    check_decode_rejected("++++", 4);
    check_decode_rejected("////", 4);
    check_decode_rejected("+/8=", 4);
}

static void test_b64_padding_optional(void)
{
    check_decode("Zg", "f", 1);
    check_decode("Zm8", "fo", 2);
    check_decode("Y2FtMQ", "cam1", 4);
    check_decode("Zm9vYmE", "fooba", 5);
}

static void test_b64_wrong_padding_rejected(void)
{
    check_decode_rejected("Zg=", 3);
    check_decode_rejected("Zg===", 5);
    check_decode_rejected("Zm8==", 5);
    check_decode_rejected("Zm9v=", 5);
    check_decode_rejected("Zm9v==", 6);
    check_decode_rejected("=", 1);
    check_decode_rejected("==", 2);
    check_decode_rejected("====", 4);
    check_decode_rejected("Z=g=", 4);
    check_decode_rejected("=Zg=", 4);
    check_decode_rejected("Zg==Zg==", 8);
}

static void test_b64_bad_characters_rejected(void)
{
    check_decode_rejected("Zm9v!A==", 8);
    check_decode_rejected("Zm.v", 4);
    check_decode_rejected("Zm9\x80", 4);
    check_decode_rejected("Zm\0v", 4);
    check_decode_rejected("Zm9*", 4);
    check_decode_rejected("Zm9v~A", 6);
}

static void test_b64_whitespace_rejected(void)
{
    /* lengths chosen so that only the blank is wrong */
    check_decode_rejected(" Zm9", 4);
    check_decode_rejected("Zm9 ", 4);
    check_decode_rejected("Z m9", 4);
    check_decode_rejected("Zm9\n", 4);
    check_decode_rejected("Zm9v\r\nYmFy", 10);
    check_decode_rejected("Zm\t9", 4);
    check_decode_rejected("Zg==\n", 5);
}

/* Each string must have one meaning: unused low bits of the last symbol must be zero. */
static void test_b64_nonzero_trailing_bits_rejected(void)
{
    check_decode_rejected("Zh==", 4);
    check_decode_rejected("Zh", 2);
    check_decode_rejected("Zm9=", 4);
    check_decode_rejected("Zm9", 3);
    check_decode_rejected("Y2FtMR==", 8);
    check_decode_rejected("AB==", 4);
    check_decode_rejected("AAB=", 4);
    check_decode("AA==", "\0", 1);
    check_decode("AAA=", "\0\0", 2);
}

static void test_b64_length_mod4_one_rejected(void)
{
    check_decode_rejected("Z", 1);
    check_decode_rejected("Zm9vY", 5);
    check_decode_rejected("Zm9vYmFyZ", 9);
    check_decode_rejected("Zm9vY=", 6);
}

/* Decoding appends: what was in the buffer stays in front. */
static void test_b64_appends(void)
{
    buf b;
    buf_init(&b);
    buf_puts(&b, "x:");
    CHECK(b64url_decode(&b, "Y2FtMQ==", 8) == 0, "decode failed");
    CHECK_STR(b.data, "x:cam1");
    b64url_encode(&b, "f", 1);
    CHECK_STR(b.data, "x:cam1Zg==");
    buf_free(&b);
}

/* Only n bytes of the input are read. */
static void test_b64_decode_respects_length(void)
{
    buf b;
    buf_init(&b);
    CHECK(b64url_decode(&b, "Y2FtMQ==!!!!", 8) == 0, "decode of the first 8 bytes failed");
    CHECK(b.len == 4 && memcmp(b.data, "cam1", 4) == 0, "got %zu bytes", b.len);
    buf_free(&b);
}

static void test_b64_roundtrip_all_byte_values(void)
{
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    buf enc, dec;
    buf_init(&enc);
    buf_init(&dec);
    b64url_encode(&enc, all, sizeof all);
    CHECK(enc.len == 344, "256 bytes encode to %zu chars, want 344", enc.len);
    CHECK(b64url_decode(&dec, enc.data, enc.len) == 0, "decode of all 256 byte values failed");
    CHECK(dec.len == 256 && memcmp(dec.data, all, 256) == 0, "all 256 byte values: round trip differs");
    int single_ok = 1;
    for (int i = 0; i < 256; i++) {
        buf_reset(&enc);
        buf_reset(&dec);
        b64url_encode(&enc, &all[i], 1);
        if (enc.len != 4 || b64url_decode(&dec, enc.data, enc.len) != 0 || dec.len != 1 ||
            (unsigned char)dec.data[0] != all[i])
            single_ok = 0;
    }
    CHECK(single_ok, "some single byte value does not round-trip");
    buf_free(&enc);
    buf_free(&dec);
}

/* Random buffers of every length 0..64: encoded length, alphabet, and both padded
 * and unpadded forms decode back to the input. */
static void test_b64_roundtrip_random(void)
{
    int len_ok = 1, alpha_ok = 1, padded_ok = 1, unpadded_ok = 1;
    for (int round = 0; round < 8; round++) {
        for (size_t n = 0; n <= 64; n++) {
            unsigned char in[64];
            for (size_t i = 0; i < n; i++)
                in[i] = (unsigned char)rng();
            buf enc, dec;
            buf_init(&enc);
            buf_init(&dec);
            b64url_encode(&enc, in, n);
            if (enc.len != 4 * ((n + 2) / 3))
                len_ok = 0;
            for (size_t i = 0; i < enc.len; i++)
                if (!in_b64url_alphabet(enc.data[i]))
                    alpha_ok = 0;
            if (b64url_decode(&dec, enc.data ? enc.data : "", enc.len) != 0 || dec.len != n ||
                (n && memcmp(dec.data, in, n) != 0))
                padded_ok = 0;
            size_t bare = enc.len;
            while (bare && enc.data[bare - 1] == '=')
                bare--;
            buf_reset(&dec);
            if (b64url_decode(&dec, enc.data ? enc.data : "", bare) != 0 || dec.len != n ||
                (n && memcmp(dec.data, in, n) != 0))
                unpadded_ok = 0;
            buf_free(&enc);
            buf_free(&dec);
        }
    }
    CHECK(len_ok, "encoded length is not 4*ceil(n/3)");
    CHECK(alpha_ok, "encoding used a character outside the URL-safe alphabet");
    CHECK(padded_ok, "padded form did not round-trip");
    CHECK(unpadded_ok, "unpadded form did not round-trip");
}

/* ---- stream keys ---- */

static void test_stream_key_build(void)
{
    buf b;
    buf_init(&b);
    stream_key_build(&b, "site A", "cam1");
    CHECK_STR(b.data, "stream_frame:c2l0ZSBB|Y2FtMQ==");
    buf_reset(&b);
    stream_key_build(&b, "工地", "🚧");
    CHECK_STR(b.data, "stream_frame:5bel5Zyw|8J-apw==");
    buf_free(&b);
}

static void test_stream_key_label_pattern(void)
{
    buf b;
    buf_init(&b);
    stream_key_label_pattern(&b, "site A");
    CHECK_STR(b.data, "stream_frame:c2l0ZSBB|*");
    buf_reset(&b);
    stream_key_label_pattern(&b, "工地 A");
    CHECK_STR(b.data, "stream_frame:5bel5ZywIEE=|*");
    buf_free(&b);
}

/* Parses rkey (strlen) and, on success, compares both parts. */
static void check_parse(const char *rkey, const char *want_label, const char *want_key)
{
    buf l, k;
    buf_init(&l);
    buf_init(&k);
    int rc = stream_key_parse(rkey, strlen(rkey), &l, &k);
    CHECK(rc == 0, "parse of \"%s\" failed", rkey);
    if (rc == 0) {
        CHECK_STR(l.data, want_label);
        CHECK_STR(k.data, want_key);
    }
    buf_free(&l);
    buf_free(&k);
}

static void check_parse_rejected(const char *rkey, size_t n)
{
    buf l, k;
    buf_init(&l);
    buf_init(&k);
    CHECK(stream_key_parse(rkey, n, &l, &k) == -1, "parse of \"%.*s\" accepted", (int)n, rkey);
    buf_free(&l);
    buf_free(&k);
}

static void test_stream_key_parse_valid(void)
{
    check_parse("stream_frame:c2l0ZSBB|Y2FtMQ==", "site A", "cam1");
    check_parse("stream_frame:5bel5Zyw|8J-apw==", "工地", "🚧");
}

static void test_stream_key_parse_roundtrip(void)
{
    static const char *names[][2] = {
        { "site A", "cam1" }, { "工地", "カメラ 2" }, { "a|b", "c|d" }, { "é", "ü" },
        { "label with spaces", "key-with-dashes_and_underscores" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        buf rk;
        buf_init(&rk);
        stream_key_build(&rk, names[i][0], names[i][1]);
        check_parse(rk.data, names[i][0], names[i][1]);
        buf_free(&rk);
    }
}

/* Keys are written padded; an unpadded part would list a label no viewer
 * can open, so it does not parse (as with Python's urlsafe_b64decode). */
static void test_stream_key_parse_requires_padding(void)
{
    const char *unpadded_key = "stream_frame:c2l0ZSBB|Y2FtMQ";
    const char *unpadded_label = "stream_frame:c2l0ZQ|Y2FtMQ==";
    check_parse_rejected(unpadded_key, strlen(unpadded_key));
    check_parse_rejected(unpadded_label, strlen(unpadded_label));
}

/* Only the label wanted: key may be NULL. */
static void test_stream_key_parse_label_only(void)
{
    buf l;
    buf_init(&l);
    const char *rk = "stream_frame:c2l0ZSBB|Y2FtMQ==";
    CHECK(stream_key_parse(rk, strlen(rk), &l, NULL) == 0, "label-only parse failed");
    CHECK_STR(l.data, "site A");
    buf_free(&l);
}

/* Only n bytes of the key are read. */
static void test_stream_key_parse_respects_length(void)
{
    const char *rk = "stream_frame:c2l0ZSBB|Y2FtMQ==garbage";
    buf l, k;
    buf_init(&l);
    buf_init(&k);
    CHECK(stream_key_parse(rk, strlen(rk) - 7, &l, &k) == 0, "parse of the first n bytes failed");
    CHECK_STR(k.data, "cam1");
    buf_free(&l);
    buf_free(&k);
}

static void test_stream_key_parse_wrong_prefix(void)
{
    const char *bad[] = {
        "stream_frames:c2l0ZSBB|Y2FtMQ==", "Stream_frame:c2l0ZSBB|Y2FtMQ==", "c2l0ZSBB|Y2FtMQ==",
        "frame:c2l0ZSBB|Y2FtMQ==", "xstream_frame:c2l0ZSBB|Y2FtMQ==", "stream_frame:", "stream_frame",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_parse_rejected(bad[i], strlen(bad[i]));
}

static void test_stream_key_parse_missing_bar(void)
{
    check_parse_rejected("stream_frame:c2l0ZSBBY2FtMQ==", strlen("stream_frame:c2l0ZSBBY2FtMQ=="));
    check_parse_rejected("stream_frame:c2l0ZSBB", strlen("stream_frame:c2l0ZSBB"));
}

static void test_stream_key_parse_undecodable(void)
{
    const char *bad[] = {
        "stream_frame:|Y2FtMQ==",          /* empty label */
        "stream_frame:c2l0ZSBB|",          /* empty key */
        "stream_frame:c2l0ZSB|Y2FtMQ==",   /* label part: nonzero trailing bits */
        "stream_frame:c2l0Z|Y2FtMQ==",     /* label part: length % 4 == 1 */
        "stream_frame:c2l0ZSBB|Y2FtM",     /* key part: length % 4 == 1 */
        "stream_frame:c2l0ZSBB|Y2Ft!Q==",  /* key part: bad character */
        "stream_frame:c2l0ZS+B|Y2FtMQ==",  /* standard, not URL-safe, alphabet */
        "stream_frame:c2l0ZSBB|Y2FtMQ=",   /* wrong padding */
        "stream_frame:c2l0ZSBB|Y2Ft|MQ==", /* second bar */
        "stream_frame:*|*",                /* a SCAN pattern is not a key */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_parse_rejected(bad[i], strlen(bad[i]));
}

static void test_stream_key_parse_invalid_utf8(void)
{
    check_parse_rejected("stream_frame:__4=|Y2FtMQ==", strlen("stream_frame:__4=|Y2FtMQ=="));  /* FF FE */
    check_parse_rejected("stream_frame:c2l0ZSBB|__4=", strlen("stream_frame:c2l0ZSBB|__4="));  /* FF FE */
    check_parse_rejected("stream_frame:7aCA|Y2FtMQ==", strlen("stream_frame:7aCA|Y2FtMQ=="));  /* U+D800 */
    check_parse_rejected("stream_frame:wIA=|Y2FtMQ==", strlen("stream_frame:wIA=|Y2FtMQ=="));  /* C0 80 */
}

static void test_stream_key_parse_nul_rejected(void)
{
    check_parse_rejected("stream_frame:YQBi|Y2FtMQ==", strlen("stream_frame:YQBi|Y2FtMQ=="));  /* "a\0b" */
    check_parse_rejected("stream_frame:c2l0ZSBB|YQBi", strlen("stream_frame:c2l0ZSBB|YQBi"));
    check_parse_rejected("stream_frame:AA==|Y2FtMQ==", strlen("stream_frame:AA==|Y2FtMQ=="));  /* "\0" */
}

/* ---- UTF-8 ---- */

#define VALID(s) CHECK(utf8_valid(s, sizeof(s) - 1), "rejected valid %s", #s)
#define INVALID(s) CHECK(!utf8_valid(s, sizeof(s) - 1), "accepted invalid %s", #s)

static void test_utf8_valid_sequences(void)
{
    VALID("");
    VALID("plain ascii ~\x7f");
    VALID("\0");
    VALID("\xc2\x80");             /* U+0080, smallest 2-byte */
    VALID("\xc3\xa9");             /* é */
    VALID("\xdf\xbf");             /* U+07FF */
    VALID("\xe0\xa0\x80");         /* U+0800, smallest 3-byte */
    VALID("\xe5\xb7\xa5");         /* 工 */
    VALID("\xed\x9f\xbf");         /* U+D7FF, just below the surrogates */
    VALID("\xee\x80\x80");         /* U+E000, just above */
    VALID("\xef\xbf\xbd");         /* U+FFFD */
    VALID("\xef\xbf\xbf");         /* U+FFFF */
    VALID("\xf0\x90\x80\x80");     /* U+10000, smallest 4-byte */
    VALID("\xf0\x9f\x9a\xa7");     /* 🚧 */
    VALID("\xf4\x8f\xbf\xbf");     /* U+10FFFF, the last code point */
    VALID("a\xc3\xa9\xe5\xb7\xa5\xf0\x9f\x9a\xa7z");
}

static void test_utf8_overlongs(void)
{
    INVALID("\xc0\x80");
    INVALID("\xc0\xaf");
    INVALID("\xc1\xbf");
    INVALID("\xe0\x80\x80");
    INVALID("\xe0\x80\xaf");
    INVALID("\xe0\x9f\xbf");
    INVALID("\xf0\x80\x80\x80");
    INVALID("\xf0\x80\x80\xaf");
    INVALID("\xf0\x8f\xbf\xbf");
}

static void test_utf8_surrogates(void)
{
    INVALID("\xed\xa0\x80"); /* U+D800 */
    INVALID("\xed\xad\xbf"); /* U+DB7F */
    INVALID("\xed\xb0\x80"); /* U+DC00 */
    INVALID("\xed\xbf\xbf"); /* U+DFFF */
    INVALID("\xed\xa0\xbd\xed\xb2\xa9"); /* CESU-8 pair */
}

static void test_utf8_beyond_max(void)
{
    INVALID("\xf4\x90\x80\x80"); /* U+110000 */
    INVALID("\xf5\x80\x80\x80");
    INVALID("\xf7\xbf\xbf\xbf");
    INVALID("\xf8\x88\x80\x80\x80");
    INVALID("\xfc\x84\x80\x80\x80\x80");
    INVALID("\xfe");
    INVALID("\xff");
}

static void test_utf8_truncated_and_stray(void)
{
    INVALID("\xc3");
    INVALID("\xe5\xb7");
    INVALID("\xf0\x9f\x9a");
    INVALID("\xe5\xb7" "a");
    INVALID("\xf0\x9f\x9a" "a");
    INVALID("\xc3" "a");
    INVALID("\x80");
    INVALID("\xbf");
    INVALID("a\x80" "b");
    INVALID("\xc3\xa9\xa9");
    INVALID("\xe5\xc3\xa9");
}

/* Only n bytes are examined. */
static void test_utf8_respects_length(void)
{
    CHECK(!utf8_valid("\xc3\xa9", 1), "a sequence cut by n is valid");
    CHECK(!utf8_valid("\xf0\x9f\x9a\xa7", 3), "a sequence cut by n is valid");
    CHECK(utf8_valid("a\xff", 1), "a byte past n was examined");
}

/* ---- name rules ---- */

static void name_ok(const char *s, size_t n)
{
    const char *why = name_check(s, n);
    CHECK(why == NULL, "\"%.*s\" rejected: %s", (int)n, s, why ? why : "");
}

static void name_bad(const char *s, size_t n, const char *why_contains)
{
    const char *why = name_check(s, n);
    CHECK(why != NULL && strstr(why, why_contains) != NULL, "\"%.*s\": got %s, want a reason with \"%s\"",
          (int)n, s, why ? why : "NULL", why_contains);
}

#define NAME_OK(s) name_ok(s, sizeof(s) - 1)
#define NAME_BAD(s, why) name_bad(s, sizeof(s) - 1, why)

static void test_name_empty(void)
{
    NAME_BAD("", "empty");
}

static void test_name_length_limit(void)
{
    char s[300];
    memset(s, 'a', sizeof s);
    name_ok(s, 256);
    name_bad(s, 257, "256");
    /* bytes, not characters: 64 four-byte characters are 256 bytes */
    buf b;
    buf_init(&b);
    for (int i = 0; i < 64; i++)
        buf_puts(&b, "\xf0\x9f\x9a\xa7");
    name_ok(b.data, b.len);
    buf_putc(&b, 'a');
    name_bad(b.data, b.len, "256");
    buf_free(&b);
}

static void test_name_slash(void)
{
    NAME_BAD("/", "/");
    NAME_BAD("a/b", "/");
    NAME_BAD("abc/", "/");
    NAME_OK("a\\b");
}

static void test_name_dots(void)
{
    NAME_BAD(".", ".");
    NAME_BAD("..", "..");
    NAME_OK("...");
    NAME_OK(".a");
    NAME_OK("a.");
    NAME_OK("a..b");
}

static void test_name_control_chars(void)
{
    NAME_BAD("\x01", "control");
    NAME_BAD("a\nb", "control");
    NAME_BAD("a\rb", "control");
    NAME_BAD("\x1f", "control");
    NAME_BAD("tab\there", "control");
    NAME_BAD("del\x7f", "control");
    NAME_BAD("a\0b", "control");
    NAME_BAD("\xc2\x80", "control");    /* U+0080 */
    NAME_BAD("x\xc2\x85y", "control");  /* U+0085 NEL */
    NAME_BAD("\xc2\x9f", "control");    /* U+009F */
    NAME_OK("\xc2\xa0");                /* U+00A0 no-break space is not a control */
    NAME_OK("\xc2\xa9 2024");           /* © */
}

static void test_name_invalid_utf8(void)
{
    NAME_BAD("\xff", "UTF-8");
    NAME_BAD("site\xc3", "UTF-8");
    NAME_BAD("\xed\xa0\x80", "UTF-8");
    NAME_BAD("\xc0\xaf", "UTF-8");   /* overlong '/' */
}

static void test_name_unicode_ok(void)
{
    NAME_OK("site A");
    NAME_OK("工地 A");
    NAME_OK("café");
    NAME_OK("🚧 zone-3_b");
    NAME_OK("a");
}

/* Only n bytes count: a '/' past n does not matter. */
static void test_name_respects_length(void)
{
    name_ok("abc/def", 3);
}

/* ---- percent decoding ---- */

static void check_pct(const char *s, bool plus_space, const char *want, size_t want_len)
{
    buf b;
    buf_init(&b);
    int rc = percent_decode(&b, s, strlen(s), plus_space);
    CHECK(rc == 0, "percent_decode(\"%s\") failed", s);
    CHECK(rc == 0 && b.len == want_len && memcmp(b.data ? b.data : "", want, want_len) == 0,
          "percent_decode(\"%s\"): got \"%s\" (%zu bytes)", s, b.data ? b.data : "", b.len);
    buf_free(&b);
}

static void check_pct_rejected(const char *s)
{
    buf b;
    buf_init(&b);
    buf_puts(&b, "keep");
    CHECK(percent_decode(&b, s, strlen(s), true) == -1, "percent_decode(\"%s\") accepted", s);
    CHECK(b.len == 4 && strcmp(b.data, "keep") == 0, "failed percent_decode(\"%s\") changed the buffer", s);
    buf_free(&b);
}

static void test_pct_escapes(void)
{
    check_pct("%2F", false, "/", 1);
    check_pct("%2f", false, "/", 1);
    check_pct("a%20b", false, "a b", 3);
    check_pct("%E5%B7%A5%E5%9C%B0", false, "工地", 6);
    check_pct("plain", false, "plain", 5);
    check_pct("", false, "", 0);
    check_pct("%25", false, "%", 1);
}

static void test_pct_malformed(void)
{
    check_pct_rejected("%zz");
    check_pct_rejected("%4");
    check_pct_rejected("abc%4");
    check_pct_rejected("%");
    check_pct_rejected("abc%");
    check_pct_rejected("%%");
    check_pct_rejected("%g0");
    check_pct_rejected("%0g");
    check_pct_rejected("ok%20then%x");
}

static void test_pct_plus(void)
{
    check_pct("a+b", false, "a+b", 3);
    check_pct("a+b", true, "a b", 3);
    check_pct("%2B", true, "+", 1);
    check_pct("++", true, "  ", 2);
}

static void test_pct_nul(void)
{
    check_pct("a%00b", false, "a\0b", 3);
}

static void test_pct_respects_length(void)
{
    buf b;
    buf_init(&b);
    CHECK(percent_decode(&b, "%41%zz", 3, false) == 0, "bytes past n were examined");
    CHECK_STR(b.data, "A");
    buf_free(&b);
}

/* ---- query parameters ---- */

static void check_qp(const char *query, const char *name, const char *want)
{
    buf b;
    buf_init(&b);
    int rc = query_param(&b, query, name);
    CHECK(rc == 0, "query_param(\"%s\", \"%s\") not found", query, name);
    if (rc == 0)
        CHECK_STR(b.data ? b.data : "", want);
    buf_free(&b);
}

static void check_qp_absent(const char *query, const char *name)
{
    buf b;
    buf_init(&b);
    CHECK(query_param(&b, query, name) == -1, "query_param(\"%s\", \"%s\") found something",
          query ? query : "(null)", name);
    buf_free(&b);
}

static void test_qp_positions(void)
{
    check_qp("token=x&a=1&b=2", "token", "x");
    check_qp("a=1&token=x&b=2", "token", "x");
    check_qp("a=1&b=2&token=x", "token", "x");
    check_qp("token=x", "token", "x");
}

static void test_qp_absent(void)
{
    check_qp_absent("a=1&b=2", "token");
    check_qp_absent("", "token");
    check_qp_absent(NULL, "token");
    check_qp_absent("token", "token");
    check_qp_absent("tokens=1", "token");
    check_qp_absent("xtoken=1", "token");
    check_qp_absent("TOKEN=1", "token");
}

static void test_qp_prefix_of_other_name(void)
{
    check_qp("tok=1&token=2", "token", "2");
    check_qp("tok=1&token=2", "tok", "1");
    check_qp("token=2&tok=1", "tok", "1");
    check_qp("tokenx=9&token=2", "token", "2");
}

static void test_qp_empty_value(void)
{
    check_qp("token=&a=1", "token", "");
    check_qp("a=1&token=", "token", "");
}

static void test_qp_encoded_value(void)
{
    check_qp("token=a%2Bb+c%2F%3D", "token", "a+b c/=");
    check_qp("token=eyJ.eyJ.sig-_", "token", "eyJ.eyJ.sig-_");
    check_qp("x=%E5%B7%A5&token=%E5%B7%A5", "token", "工");
    check_qp_absent("token=%zz", "token");
}

static void test_qp_first_of_duplicates(void)
{
    check_qp("token=1&token=2", "token", "1");
    check_qp("&&token=x&", "token", "x");
}

static void test_bearer_token(void)
{
    CHECK_STR(bearer_token("Bearer x"), "x");
    CHECK_STR(bearer_token("bearer x"), "x");
    CHECK_STR(bearer_token("BEARER abc.def.ghi"), "abc.def.ghi");
    CHECK(bearer_token("Basic x") == NULL, "Basic accepted");
    CHECK(bearer_token("Bearer ") == NULL, "empty token accepted");
    CHECK(bearer_token("Bearer") == NULL, "bare Bearer accepted");
    CHECK(bearer_token("Bearerx") == NULL, "Bearerx accepted");
    CHECK(bearer_token("") == NULL, "empty header accepted");
    CHECK(bearer_token(NULL) == NULL, "NULL header accepted");
}

int main(void)
{
    test_b64_rfc4648_vectors();
    test_b64_protocol_examples();
    test_b64_url_safe_alphabet();
    test_b64_padding_optional();
    test_b64_wrong_padding_rejected();
    test_b64_bad_characters_rejected();
    test_b64_whitespace_rejected();
    test_b64_nonzero_trailing_bits_rejected();
    test_b64_length_mod4_one_rejected();
    test_b64_appends();
    test_b64_decode_respects_length();
    test_b64_roundtrip_all_byte_values();
    test_b64_roundtrip_random();

    test_stream_key_build();
    test_stream_key_label_pattern();
    test_stream_key_parse_valid();
    test_stream_key_parse_roundtrip();
    test_stream_key_parse_requires_padding();
    test_stream_key_parse_label_only();
    test_stream_key_parse_respects_length();
    test_stream_key_parse_wrong_prefix();
    test_stream_key_parse_missing_bar();
    test_stream_key_parse_undecodable();
    test_stream_key_parse_invalid_utf8();
    test_stream_key_parse_nul_rejected();

    test_utf8_valid_sequences();
    test_utf8_overlongs();
    test_utf8_surrogates();
    test_utf8_beyond_max();
    test_utf8_truncated_and_stray();
    test_utf8_respects_length();

    test_name_empty();
    test_name_length_limit();
    test_name_slash();
    test_name_dots();
    test_name_control_chars();
    test_name_invalid_utf8();
    test_name_unicode_ok();
    test_name_respects_length();

    test_pct_escapes();
    test_pct_malformed();
    test_pct_plus();
    test_pct_nul();
    test_pct_respects_length();

    test_qp_positions();
    test_qp_absent();
    test_qp_prefix_of_other_name();
    test_qp_empty_value();
    test_qp_encoded_value();
    test_qp_first_of_duplicates();
    test_bearer_token();
    return test_report("codec");
}
