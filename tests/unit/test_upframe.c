/* test_upframe: message cutting from concatenated, split and broken upload streams. */
#include <stdint.h>
#include <stdlib.h>

#include <json.h>

#include "buf.h"
#include "harness.h"
#include "upframe.h"
#include "xalloc.h"

#define MAXF 4096
#define MAXH 256

/* ---- fixtures: small hand-assembled images (test_imgsize.c explains their parts) ---- */

static void seg(buf *b, unsigned char m, const void *payload, size_t n)
{
    unsigned char h[4] = {0xFF, m, (unsigned char)((n + 2) >> 8), (unsigned char)(n + 2)};
    buf_append(b, h, 4);
    buf_append(b, payload, n);
}

/* JPEG with FF D9 inside DHT, '{', stuffing and restarts in the scans; two scans if progressive. */
static void make_jpeg(buf *b, int progressive, unsigned salt, size_t n)
{
    static const unsigned char dht[] = {0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xD9};
    buf_append(b, "\xFF\xD8", 2);
    seg(b, 0xE0, "JFIF\0\1\1\0\0\1\0\1\0\0", 14);
    seg(b, progressive ? 0xC2 : 0xC0, "\x08\0\x10\0\x10\1\1\x11\0", 9);
    for (int scan = 0; scan <= progressive; scan++) {
        seg(b, 0xC4, dht, sizeof dht);
        seg(b, 0xDA, "\1\1\0\0\x3F\0", 6);
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)(salt * 31 + i * 7 + (unsigned)scan);
            buf_putc(b, (char)(c == 0xFF ? '{' : c));
            if (i % 8 == 3)
                buf_append(b, i % 16 == 3 ? "\xFF\x00" : "\xFF\xD3", 2);
        }
    }
    buf_append(b, "\xFF\xD9", 2);
}

/* PNG: IHDR, an IDAT holding "--IMG--{}", IEND; CRCs are not checked. */
static void make_png(buf *b, unsigned salt)
{
    static const char head[] = "\x89PNG\r\n\x1A\n\0\0\0\x0DIHDR\0\0\0\x10\0\0\0\x10\x08\x02\0\0\0CRC!\0\0\0\x18IDAT";
    static const char tail[] = "CRC!\0\0\0\0IENDCRC!";
    buf_append(b, head, sizeof head - 1);
    for (unsigned i = 0; i < 24; i++)
        buf_putc(b, i >= 4 && i < 13 ? "--IMG--{}"[i - 4] : (char)(salt + i * 29));
    buf_append(b, tail, sizeof tail - 1);
}

/* Appends "{"seq":N}--IMG--" and a JPEG to in; the JPEG alone goes to img. */
static void jpeg_message(buf *in, buf *img, int seq)
{
    buf_reset(img);
    make_jpeg(img, 0, (unsigned)seq, 16);
    buf_printf(in, "{\"seq\":%d}--IMG--", seq);
    buf_append(in, img->data, img->len);
}

/* ---- recording what the framer says ---- */

/* One upframe_next result; seq is the header's "seq", -1 if none. */
typedef struct event { int status; long long seq; char *frame; size_t len; char err[160]; } event;
typedef struct events { event ev[64]; int n, errors, messages, overflow; } events;

static void drain(upframe *u, int idle, events *e)
{
    upframe_msg m;
    enum upframe_status s;
    for (int guard = 0; (s = upframe_next(u, idle, &m)) != UPF_NEED_MORE; guard++) {
        if (e->n == 64 || guard > 1000) {
            e->overflow = 1;
            return;
        }
        event *v = &e->ev[e->n++];
        struct json_object *seq;
        v->status = s;
        v->seq = m.header && json_object_object_get_ex(m.header, "seq", &seq) ? json_object_get_int64(seq) : -1;
        v->frame = xmalloc(m.frame_len + 1);
        memcpy(v->frame, m.frame ? (const void *)m.frame : "", m.frame_len);
        v->len = m.frame_len;
        memcpy(v->err, m.error, sizeof v->err);
        e->errors += s == UPF_ERROR;
        e->messages += s == UPF_MESSAGE;
    }
}

static void events_free(events *e)
{
    for (int i = 0; i < e->n; i++)
        free(e->ev[i].frame);
    memset(e, 0, sizeof *e);
}

static int is_message(const event *v, long long seq, const buf *frame)
{
    return v->status == UPF_MESSAGE && v->seq == seq && v->len == frame->len && memcmp(v->frame, frame->data, v->len) == 0;
}

/* A fresh framer fed `in` at once; idle afterwards if asked. */
static upframe *run(const buf *in, int idle, events *e)
{
    upframe *u = upframe_new(MAXF, MAXH);
    upframe_feed(u, in->data, in->len);
    drain(u, 0, e);
    if (idle)
        drain(u, 1, e);
    return u;
}

/* ---- the 50-message stream ---- */

typedef struct stream {
    buf bytes, frame[50];
} stream;

/* Baseline and progressive JPEG, PNG, sized arbitrary bytes, sized JPEG;
 * header strings with braces, quotes and the delimiter; some messages
 * followed by a text message's "\n". */
static void make_stream(stream *s)
{
    buf_init(&s->bytes);
    for (unsigned k = 0; k < 50; k++) {
        buf *f = &s->frame[k];
        buf_init(f);
        switch (k % 5) {
        case 0: make_jpeg(f, 0, k, 20 + k); break;
        case 1: make_jpeg(f, 1, k, 10 + k); break;
        case 2: make_png(f, k); break;
        case 3: buf_printf(f, "raw %u --IMG-- { } \"", k); buf_append(f, "\0\xFF\xD8\xFF\n", 5); break;
        default: make_jpeg(f, 0, k, 5); break;
        }
        buf_printf(&s->bytes, "{\"seq\":%u,\"cam\":\"c}a--IMG--{\\\"m\"", k);
        if (k % 5 >= 3)
            buf_printf(&s->bytes, ",\"size\":%zu", f->len);
        buf_puts(&s->bytes, "}--IMG--");
        buf_append(&s->bytes, f->data, f->len);
        if (k % 3 == 0)
            buf_puts(&s->bytes, "\n");
    }
}

/* Index of the first event that is not the stream's k-th message, -1 if all match. */
static int first_mismatch(const events *e, const stream *s)
{
    for (int k = 0; k < 50; k++)
        if (k >= e->n || !is_message(&e->ev[k], k, &s->frame[k]))
            return k;
    return e->n == 50 && !e->overflow ? -1 : 50;
}

static void test_stream(void)
{
    stream s;
    make_stream(&s);
    events e = {0};
    upframe_free(run(&s.bytes, 0, &e));
    CHECK(first_mismatch(&e, &s) == -1, "all at once: mismatch at %d of %d", first_mismatch(&e, &s), e.n);
    events_free(&e);

    upframe *u = upframe_new(MAXF, MAXH);
    for (size_t i = 0; i < s.bytes.len; i++) {
        upframe_feed(u, s.bytes.data + i, 1);
        drain(u, 0, &e);
    }
    drain(u, 1, &e);
    CHECK(first_mismatch(&e, &s) == -1, "byte by byte: mismatch at %d of %d", first_mismatch(&e, &s), e.n);
    CHECK(!upframe_pending(u), "byte by byte: nothing pending");
    events_free(&e);
    upframe_free(u);

    size_t bad = 0, first = 0;
    for (size_t cut = 0; cut <= s.bytes.len; cut++) {
        u = upframe_new(MAXF, MAXH);
        upframe_feed(u, s.bytes.data, cut);
        drain(u, 0, &e);
        upframe_feed(u, s.bytes.data + cut, s.bytes.len - cut);
        drain(u, 0, &e);
        if (first_mismatch(&e, &s) != -1 && !bad++)
            first = cut;
        events_free(&e);
        upframe_free(u);
    }
    CHECK(bad == 0, "split: %zu of %zu cuts wrong, first at %zu", bad, s.bytes.len + 1, first);
    for (int k = 0; k < 50; k++)
        buf_free(&s.frame[k]);
    buf_free(&s.bytes);
}

static void test_single(void)
{
    buf in, img, want;
    buf_init(&in);
    buf_init(&img);
    buf_init(&want);
    events e = {0};
    jpeg_message(&in, &img, 1);
    upframe *u = run(&in, 0, &e);
    CHECK(e.n == 1 && is_message(&e.ev[0], 1, &img), "one message, got %d events", e.n);
    CHECK(!upframe_pending(u) && upframe_buffered(u) == 0, "nothing left, %zu buffered", upframe_buffered(u));
    upframe_free(u);
    upframe_free(NULL);
    events_free(&e);

    /* braces, an escaped quote, an escaped backslash and the delimiter inside strings */
    buf_reset(&in);
    buf_puts(&in, "{\"seq\":7,\"s\":\"a}b--IMG--c\\\"}\",\"t\":\"\\\\\",\"o\":{\"x\":\"}\"}}--IMG--");
    buf_append(&in, img.data, img.len);
    u = upframe_new(MAXF, MAXH);
    upframe_feed(u, in.data, in.len);
    upframe_msg m;
    struct json_object *s = NULL, *t = NULL;
    CHECK(upframe_next(u, 0, &m) == UPF_MESSAGE, "strings: message");
    CHECK(m.frame_len == img.len && memcmp(m.frame, img.data, img.len) == 0, "frame after the real delimiter");
    CHECK(m.header && json_object_object_get_ex(m.header, "s", &s) && json_object_object_get_ex(m.header, "t", &t),
          "header has s and t");
    CHECK_STR(s ? json_object_get_string(s) : NULL, "a}b--IMG--c\"}");
    CHECK_STR(t ? json_object_get_string(t) : NULL, "\\");
    CHECK(upframe_next(u, 0, &m) == UPF_NEED_MORE, "strings: then nothing");
    upframe_free(u);

    /* size with arbitrary bytes, then a text message's "\n" */
    static const char frame[] = "x{--IMG--}{\"seq\":5}--IMG--\n";
    buf_reset(&in);
    buf_append(&want, frame, sizeof frame - 1);
    buf_printf(&in, "{\"seq\":4,\"size\":%zu,\"n\":\"{--IMG--\"}--IMG--%s\n", want.len, frame);
    buf_printf(&in, "{\"seq\":5,\"size\":%zu}--IMG--%s", want.len, frame);
    u = run(&in, 0, &e);
    CHECK(e.n == 2 && is_message(&e.ev[0], 4, &want) && is_message(&e.ev[1], 5, &want),
          "two sized messages, text-mode newline skipped, got %d events", e.n);
    CHECK(!upframe_pending(u), "sized: nothing pending");
    upframe_free(u);
    events_free(&e);
    buf_free(&in);
    buf_free(&img);
    buf_free(&want);
}

/* Neither sized nor an image: only idle ends the frame.  Whitespace alone awaits nothing. */
static void test_idle(void)
{
    buf want;
    buf_init(&want);
    buf_puts(&want, "hello, not an image");
    upframe *u = upframe_new(MAXF, MAXH);
    events e = {0};
    upframe_feed(u, " \r\n\t", 4);
    drain(u, 0, &e);
    CHECK(!upframe_pending(u), "whitespace awaits nothing");
    upframe_feed(u, "{\"seq\":2}", 9);
    drain(u, 0, &e);
    CHECK(e.n == 0 && upframe_pending(u) == UPF_ENDED, "a header alone awaits its delimiter or a stall");
    drain(u, UPF_QUIET, &e);
    CHECK(e.n == 0, "a header alone survives a pause");
    drain(u, UPF_ENDED, &e);
    CHECK(e.errors == 1 && e.n == 1, "a header alone at a stall is an error");
    events_free(&e);
    upframe_feed(u, "{\"seq\":3}--IMG--hello, ", 23);
    drain(u, 0, &e);
    upframe_feed(u, "not an image", 12);
    drain(u, 0, &e);
    CHECK(e.n == 0 && upframe_pending(u), "no message before idle, got %d", e.n);
    drain(u, 1, &e);
    CHECK(e.n == 1 && is_message(&e.ev[0], 3, &want), "message at idle");
    CHECK(!upframe_pending(u), "nothing pending after idle");
    events_free(&e);
    upframe_free(u);
    buf_free(&want);
}

/* A pause mid-message ends nothing whose end is known to be ahead (a sized frame, an image,
 * a header): only a stall does. A frame of no known shape ends at a pause. */
static void test_pause(void)
{
    buf in, img;
    buf_init(&in);
    buf_init(&img);
    make_jpeg(&img, 1, 5, 40);
    buf_printf(&in, "{\"seq\":7,\"size\":%zu}--IMG--", img.len);
    buf_append(&in, img.data, img.len);
    buf_printf(&in, "{\"seq\":8}--IMG--");
    buf_append(&in, img.data, img.len);
    size_t second = in.len - img.len;           /* the unsized image starts here */
    size_t cuts[] = { 5, 20, 30, 40, second - 3, second + 10, in.len - 1 };
    for (size_t c = 0; c < sizeof cuts / sizeof *cuts; c++) {
        upframe *u = upframe_new(MAXF, MAXH);
        events e = {0};
        upframe_feed(u, in.data, cuts[c]);
        drain(u, 0, &e);
        CHECK(upframe_pending(u) == UPF_ENDED, "cut at %zu: awaits a stall, not a pause", cuts[c]);
        drain(u, UPF_QUIET, &e);
        upframe_feed(u, in.data + cuts[c], in.len - cuts[c]);
        drain(u, 0, &e);
        CHECK(e.n == 2 && e.errors == 0 && is_message(&e.ev[0], 7, &img) && is_message(&e.ev[1], 8, &img),
              "cut at %zu: a pause split nothing (%d events, %d errors)", cuts[c], e.n, e.errors);
        CHECK(upframe_pending(u) == UPF_BUSY, "cut at %zu: nothing pending", cuts[c]);
        events_free(&e);
        upframe_free(u);
    }
    buf_free(&in);
    buf_free(&img);
}

/* The outstanding frame must survive upframe_feed (which may grow the buffer). */
static void test_lifetime(void)
{
    buf in, img;
    buf_init(&in);
    buf_init(&img);
    jpeg_message(&in, &img, 1);
    upframe *u = upframe_new(MAXF, MAXH);
    upframe_feed(u, in.data, in.len);
    upframe_msg m;
    CHECK(upframe_next(u, 0, &m) == UPF_MESSAGE, "message");
    char *big = xcalloc(1, 100000);
    upframe_feed(u, big, 100000);
    CHECK(m.frame_len == img.len && memcmp(m.frame, img.data, img.len) == 0, "frame intact after feed");
    CHECK(upframe_next(u, 0, &m) == UPF_NEED_MORE, "then the zeros are junk, dropped while they last");
    CHECK(upframe_next(u, UPF_ENDED, &m) == UPF_ERROR, "... and refused once the message ended");
    free(big);
    upframe_free(u);
    buf_free(&in);
    buf_free(&img);
}

/* A bad message then a good one: exactly one error, saying `want`, and the
 * good message intact; fed in reads, with the memory bound checked after each. */
static void check_bad(const char *what, const buf *bad, int idle_between /* a quiet level */, const char *want)
{
    buf good, img;
    buf_init(&good);
    buf_init(&img);
    jpeg_message(&good, &img, 99);
    upframe *u = upframe_new(MAXF, MAXH);
    events e = {0};
    for (size_t i = 0; i < bad->len; i += 1000) {
        upframe_feed(u, bad->data + i, bad->len - i < 1000 ? bad->len - i : 1000);
        drain(u, 0, &e);
        CHECK(upframe_buffered(u) <= MAXH + MAXF + 1000, "%s: %zu bytes buffered", what, upframe_buffered(u));
    }
    if (idle_between)
        drain(u, idle_between, &e);
    upframe_feed(u, good.data, good.len);
    drain(u, 0, &e);
    CHECK(e.errors == 1, "%s: %d errors", what, e.errors);
    CHECK(e.n > 0 && e.ev[0].status == UPF_ERROR && strstr(e.ev[0].err, want), "%s: error \"%s\"", what,
          e.n ? e.ev[0].err : "");
    CHECK(e.messages == 1 && is_message(&e.ev[e.n - 1], 99, &img), "%s: good message intact", what);
    CHECK(!upframe_pending(u), "%s: nothing pending", what);
    events_free(&e);
    upframe_free(u);
    buf_free(&good);
    buf_free(&img);
}

static void test_errors(void)
{
    buf b, img;
    buf_init(&b);
    buf_init(&img);
    make_jpeg(&img, 1, 5, 40);
#define BAD(what, idle, want, ...) do { buf_reset(&b); __VA_ARGS__; check_bad(what, &b, idle, want); } while (0)
#define PUTS(s) buf_puts(&b, s)
#define JPEG buf_append(&b, img.data, img.len)
#define REPEAT(n, s) for (int i_ = 0; i_ < (n); i_++) PUTS(s)
    BAD("bad JSON, image frame", 0, "Invalid JSON header", PUTS("{\"seq\":1,\"x\":nope}--IMG--"); JPEG);
    BAD("bad JSON, raw frame", UPF_QUIET, "Invalid JSON header", PUTS("{\"seq\":1,}--IMG--raw bytes"));
    BAD("bad JSON, no delimiter", 0, "Invalid JSON header", PUTS("{\"x\":nope}"); JPEG);
    BAD("unterminated header", UPF_ENDED, "Invalid JSON header", PUTS("{\"seq\":1,\"a\":[{"));
    BAD("no delimiter, image", 0, "missing --IMG-- delimiter", PUTS("{\"seq\":1}"); JPEG);
    BAD("no delimiter, text", 0, "missing --IMG-- delimiter", PUTS("{\"seq\":1}\n"));
    BAD("no delimiter, sized", 0, "missing --IMG-- delimiter", PUTS("{\"seq\":1,\"size\":3}x{}"));
    BAD("short delimiter", UPF_ENDED, "missing --IMG-- delimiter", PUTS("{\"seq\":1}--IM"));
    BAD("size too large", 0, "frame larger than MAX_FRAME_BYTES (4096)",
        PUTS("{\"size\":20000}--IMG--"); REPEAT(2000, "{--IMG--}\n"));
    BAD("size too large, no delimiter", 0, "larger", PUTS("{\"size\":5000}"); REPEAT(500, "-{IMG}-\n\n\n"));
    BAD("size huge", UPF_ENDED, "larger", PUTS("{\"size\":99999999999999999999999}--IMG--"));
    BAD("size negative, image", 0, "negative", PUTS("{\"seq\":1,\"size\":-4}--IMG--"); JPEG);
    BAD("size negative, raw", UPF_QUIET, "negative", PUTS("{\"seq\":1,\"size\":-4}--IMG--abcd"));
    BAD("size a string", UPF_QUIET, "integer", PUTS("{\"size\":\"4\"}--IMG--abcd"));
    BAD("size a fraction", 0, "integer", PUTS("{\"size\":1.5}--IMG--"); JPEG);
    BAD("frame short of size", UPF_ENDED, "shorter", PUTS("{\"size\":100}--IMG--abc"));
    BAD("header too large", 0, "header larger than 256",
        PUTS("{\"seq\":1,\"pad\":\""); REPEAT(300, "}{--IMG--"); PUTS("\"}--IMG--"); JPEG);
    BAD("header too large, never closed", UPF_ENDED, "header larger than 256", REPEAT(30000, "{"));
    BAD("image over the limit", 0, "frame larger than MAX_FRAME_BYTES", PUTS("{\"seq\":1}--IMG--");
        make_jpeg(&b, 0, 1, 5000));
    BAD("image over the limit, cut short", UPF_ENDED, "frame larger than MAX_FRAME_BYTES", PUTS("{\"seq\":1}--IMG--");
        make_jpeg(&b, 0, 1, 5000); b.len -= 2; PUTS("\xFF\xC4"));
    BAD("raw frame over the limit", UPF_QUIET, "frame larger than MAX_FRAME_BYTES", PUTS("{\"seq\":1}--IMG--");
        REPEAT(1000, "abcdefgh"));
    BAD("garbage before header", 0, "expected a JSON header", PUTS("garbage\x01\x02 ]"));
    /* issue 10 §2: each answered when the message ends, the next one intact */
    BAD("header, then bytes that are not the delimiter", UPF_ENDED, "missing --IMG-- delimiter",
        PUTS("{\"label\": \"a\", \"key\": \"cam\"}"); for (int i = 0; i < 500; i++) buf_putc(&b, (char)(0x80 + i * 37 % 120)));
    BAD("a header that never ends", UPF_ENDED, "Invalid JSON header", PUTS("{"); REPEAT(40, "\"a\":1,"));
    BAD("size 2^53", UPF_ENDED, "larger", PUTS("{\"size\":9007199254740992}--IMG--abc"));
    BAD("size negative, then the message ends", UPF_ENDED, "negative", PUTS("{\"size\":-1}--IMG--abc"));
    BAD("garbage at idle", UPF_QUIET, "expected a JSON header", PUTS("\r\n junk"));
    BAD("array header", 0, "expected a JSON header", PUTS("[1,2]"));
    buf_free(&b);
    buf_free(&img);
}

/* A bad message is answered once all of it is consumed: a client waiting for that reply sends
 * the next message only then, so its bytes are never taken for the bad one's. */
static void test_error_at_end(void)
{
    buf good, img;
    buf_init(&good);
    buf_init(&img);
    jpeg_message(&good, &img, 5);
    upframe *u = upframe_new(MAXF, MAXH);
    events e = {0};
    upframe_feed(u, "{\"seq\":1,\"size\":-4}--IMG--abcd", 29);
    drain(u, 0, &e);
    CHECK(e.n == 0 && upframe_pending(u) == UPF_QUIET, "no answer while the bad message may go on (%d)", e.n);
    upframe_feed(u, "efgh", 4);
    drain(u, UPF_ENDED, &e);
    CHECK(e.n == 1 && e.errors == 1 && strstr(e.ev[0].err, "negative"), "answered when it ended");
    upframe_feed(u, good.data, good.len);
    drain(u, 0, &e);
    CHECK(e.n == 2 && is_message(&e.ev[1], 5, &img), "the next message intact");
    events_free(&e);
    /* a size-less frame of no known shape is taken whole as soon as the message is known to end */
    upframe_feed(u, "{\"seq\":3}--IMG--hello", 21);
    drain(u, 0, &e);
    CHECK(e.n == 0, "no end known yet");
    drain(u, UPF_ENDED, &e);
    CHECK(e.n == 1 && e.messages == 1 && e.ev[0].len == 5 && memcmp(e.ev[0].frame, "hello", 5) == 0,
          "taken at the message's end");
    CHECK(!upframe_pending(u), "nothing pending");
    events_free(&e);
    upframe_free(u);
    buf_free(&good);
    buf_free(&img);
}

int main(void)
{
    test_single();
    test_stream();
    test_idle();
    test_pause();
    test_lifetime();
    test_errors();
    test_error_at_end();
    return test_report("upframe");
}
