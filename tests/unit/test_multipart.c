/* test_multipart: unit tests for the streaming multipart/form-data parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "harness.h"
#include "multipart.h"
#include "xalloc.h"

#define MAXP 80

/* What the callbacks saw, part by part. */
typedef struct part {
    char *name, *filename, *ctype;
    buf data;
    int ended;
} part;

typedef struct coll {
    part parts[MAXP];
    int n;
    int open;      /* a part has begun and not yet ended */
    int order_err; /* callbacks out of order */
    int fail_begin, fail_data, fail_end; /* 1-based part whose callback returns -1 */
} coll;

typedef struct outcome {
    int rc;
    enum mp_error code;
    const char *msg;
} outcome;

static int cb_begin(void *ud, const char *name, const char *filename, const char *ctype)
{
    coll *c = ud;
    if (c->open || c->n >= MAXP) {
        c->order_err++;
        return -1;
    }
    part *p = &c->parts[c->n++];
    p->name = xstrdup(name);
    p->filename = filename ? xstrdup(filename) : NULL;
    p->ctype = ctype ? xstrdup(ctype) : NULL;
    buf_init(&p->data);
    p->ended = 0;
    c->open = 1;
    return c->n == c->fail_begin ? -1 : 0;
}

static int cb_data(void *ud, const char *data, size_t len)
{
    coll *c = ud;
    if (!c->open || len == 0)
        c->order_err++;
    if (c->n > 0)
        buf_append(&c->parts[c->n - 1].data, data, len);
    return c->n == c->fail_data ? -1 : 0;
}

static int cb_end(void *ud)
{
    coll *c = ud;
    if (!c->open)
        c->order_err++;
    c->open = 0;
    if (c->n > 0)
        c->parts[c->n - 1].ended = 1;
    return c->n == c->fail_end ? -1 : 0;
}

static const mp_callbacks CB = {cb_begin, cb_data, cb_end};

static void coll_free(coll *c)
{
    for (int i = 0; i < c->n; i++) {
        free(c->parts[i].name);
        free(c->parts[i].filename);
        free(c->parts[i].ctype);
        buf_free(&c->parts[i].data);
    }
    memset(c, 0, sizeof *c);
}

static int str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int coll_equal(const coll *a, const coll *b)
{
    if (a->n != b->n || a->order_err || b->order_err || a->open != b->open)
        return 0;
    for (int i = 0; i < a->n; i++) {
        const part *x = &a->parts[i], *y = &b->parts[i];
        if (!str_eq(x->name, y->name) || !str_eq(x->filename, y->filename) ||
            !str_eq(x->ctype, y->ctype) || x->ended != y->ended || x->data.len != y->data.len ||
            (x->data.len && memcmp(x->data.data, y->data.data, x->data.len) != 0))
            return 0;
    }
    return 1;
}

/* Feeds body in pieces of `piece` bytes, or (piece 0) in two pieces cut at split. */
static outcome parse_pieces(coll *c, const char *boundary, const mp_limits *lim,
                            const char *body, size_t len, size_t piece, size_t split)
{
    outcome o = {-1, MP_ERR_MALFORMED, "mp_parser_new failed"};
    mp_parser *p = mp_parser_new(boundary, lim, &CB, c);
    if (!p)
        return o;
    int rc = 0;
    if (piece == 0) {
        rc = mp_parser_feed(p, body, split);
        if (rc == 0)
            rc = mp_parser_feed(p, body + split, len - split);
    }
    for (size_t off = 0; piece && rc == 0 && off < len; off += piece)
        rc = mp_parser_feed(p, body + off, len - off < piece ? len - off : piece);
    if (rc == 0)
        rc = mp_parser_finish(p);
    o.rc = rc;
    o.code = mp_parser_errcode(p);
    o.msg = mp_parser_error(p);
    mp_parser_free(p);
    return o;
}

static outcome parse_all(coll *c, const char *boundary, const char *body, size_t len)
{
    return parse_pieces(c, boundary, NULL, body, len, 0, len);
}

/* ---- the sample body ---- */

#define SB "----WebKitFormBoundary7MA4YWxkTrZu0gW"
#define SB_BUT_LAST "----WebKitFormBoundary7MA4YWxkTrZu0g"
/* Binary content full of delimiter look-alikes, but never the delimiter. */
#define BIN "\0\x01\x02\r\n--\r\n--" SB_BUT_LAST "X\r\r\n-\r\n--" SB_BUT_LAST "\0--" SB \
            "\xff\r\n\r\n\n\r\0"
#define NOTE "line 1\nline 2\r\n-- \r"

static const char sample[] =
    "This is the preamble; \r\n---- it is ignored.\r\n--" SB_BUT_LAST "Z\r\n"
    "--" SB "\r\n"
    "Content-Disposition: form-data; name=\"title\"\r\n"
    "\r\n"
    "Hello, world!"
    "\r\n--" SB " \t\r\n"
    "content-disposition: FORM-DATA; NAME=empty\r\n"
    "\r\n"
    "\r\n--" SB "\r\n"
    "Content-Disposition: form-data; name=\"frame\"; filename=\"frame 01.bin\"\r\n"
    "Content-Type: application/octet-stream\r\n"
    "\r\n" BIN
    "\r\n--" SB "\r\n"
    "Content-Disposition: form-data; name=\"note\"\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n" NOTE
    "\r\n--" SB "--\r\n"
    "epilogue, ignored: \r\n--" SB "\r\ngarbage";

static void check_part(const coll *c, int i, const char *name, const char *filename,
                       const char *ctype, const char *data, size_t len)
{
    if (i >= c->n) {
        CHECK(0, "part %d missing (have %d)", i, c->n);
        return;
    }
    const part *p = &c->parts[i];
    CHECK_STR(p->name, name);
    CHECK(str_eq(p->filename, filename), "part %d filename %s", i, p->filename ? p->filename : "(null)");
    CHECK(str_eq(p->ctype, ctype), "part %d content type %s", i, p->ctype ? p->ctype : "(null)");
    CHECK(p->ended, "part %d not ended", i);
    CHECK(p->data.len == len, "part %d: %zu bytes, want %zu", i, p->data.len, len);
    size_t at = 0;
    while (at < len && at < p->data.len && p->data.data[at] == data[at])
        at++;
    CHECK(at == len, "part %d differs at byte %zu", i, at);
}

static void test_sample(void)
{
    coll c = {0};
    outcome o = parse_all(&c, SB, sample, sizeof sample - 1);
    CHECK(o.rc == 0, "sample: %s", o.msg);
    CHECK(o.code == MP_OK, "code %d", o.code);
    CHECK(c.n == 4, "%d parts", c.n);
    CHECK(c.order_err == 0 && !c.open, "callback order");
    check_part(&c, 0, "title", NULL, NULL, "Hello, world!", 13);
    check_part(&c, 1, "empty", NULL, NULL, "", 0);
    check_part(&c, 2, "frame", "frame 01.bin", "application/octet-stream", BIN, sizeof BIN - 1);
    check_part(&c, 3, "note", NULL, "text/plain; charset=utf-8", NOTE, sizeof NOTE - 1);
    coll_free(&c);
}

static void test_sample_splits(void)
{
    coll ref = {0}, c = {0};
    size_t len = sizeof sample - 1, bad_split = 0, nbad = 0;
    parse_all(&ref, SB, sample, len);
    for (size_t i = 0; i <= len; i++) {
        outcome o = parse_pieces(&c, SB, NULL, sample, len, 0, i);
        if (o.rc != 0 || !coll_equal(&ref, &c))
            bad_split = nbad++ ? bad_split : i;
        coll_free(&c);
    }
    CHECK(nbad == 0, "%zu split positions differ, first at %zu", nbad, bad_split);
    nbad = 0;
    for (size_t piece = 1; piece <= 80; piece++) {
        outcome o = parse_pieces(&c, SB, NULL, sample, len, piece, 0);
        if (o.rc != 0 || !coll_equal(&ref, &c))
            bad_split = nbad++ ? bad_split : piece;
        coll_free(&c);
    }
    CHECK(nbad == 0, "%zu piece sizes differ, first %zu", nbad, bad_split);
    outcome o = parse_pieces(&c, SB, NULL, sample, len, 1, 0);
    CHECK(o.rc == 0 && coll_equal(&ref, &c), "byte at a time differs: %s", o.msg);
    coll_free(&c);
    coll_free(&ref);
}

/* Bytes delivered to the first part so far; SIZE_MAX when it never began. */
static size_t first_len(const coll *c)
{
    return c->n > 0 ? c->parts[0].data.len : SIZE_MAX;
}

/* Body bytes go out as soon as they cannot start a delimiter. */
static void test_streaming(void)
{
    coll c = {0};
    mp_parser *p = mp_parser_new("b0undary", NULL, &CB, &c);
    const char *head = "--b0undary\r\nContent-Disposition: form-data; name=f\r\n\r\n";
    char chunk[1000];
    memset(chunk, 'a', sizeof chunk);
    CHECK(mp_parser_feed(p, head, strlen(head)) == 0, "head");
    CHECK(first_len(&c) == 0, "part begun before any body");
    CHECK(mp_parser_feed(p, chunk, sizeof chunk) == 0, "chunk");
    CHECK(first_len(&c) == 1000, "delivered %zu of 1000", first_len(&c));
    CHECK(mp_parser_feed(p, "\r\n--b0undar", 11) == 0, "look-alike");
    CHECK(first_len(&c) == 1000, "look-alike held back: %zu", first_len(&c));
    CHECK(mp_parser_feed(p, "Y", 1) == 0, "look-alike broken");
    CHECK(first_len(&c) == 1012, "look-alike released: %zu", first_len(&c));
    CHECK(first_len(&c) == 1012 && memcmp(c.parts[0].data.data + 1000, "\r\n--b0undarY", 12) == 0,
          "released bytes");
    CHECK(mp_parser_feed(p, "\r\n--b0undary--", 14) == 0 && mp_parser_finish(p) == 0, "close");
    CHECK(first_len(&c) == 1012 && c.parts[0].ended, "ended with %zu", first_len(&c));
    mp_parser_free(p);
    coll_free(&c);
}

/* ---- parameters ---- */

static void parse_headers_case(const char *headers, const char *name, const char *filename,
                               const char *ctype)
{
    buf b;
    buf_init(&b);
    buf_printf(&b, "--xyz\r\n%s\r\n\r\nDATA\r\n--xyz--", headers);
    coll c = {0};
    outcome o = parse_all(&c, "xyz", b.data, b.len);
    CHECK(o.rc == 0, "%s: %s", headers, o.msg);
    CHECK(c.n == 1, "%s: %d parts", headers, c.n);
    check_part(&c, 0, name, filename, ctype, "DATA", 4);
    coll_free(&c);
    buf_free(&b);
}

static void test_params(void)
{
    parse_headers_case("Content-Disposition: form-data; name=\"a;b\"; filename=\"x\\\"y\\\\z.txt\"",
                       "a;b", "x\"y\\z.txt", NULL);
    parse_headers_case("Content-Disposition: form-data; name=plain; filename=file.txt",
                       "plain", "file.txt", NULL);
    parse_headers_case("CONTENT-DISPOSITION: Form-Data; NAME=\"Upper\"; FileName=\"F.TXT\"\r\n"
                       "content-TYPE:   Image/PNG  ",
                       "Upper", "F.TXT", "Image/PNG");
    parse_headers_case("Content-Disposition:form-data ;name = \"sp ace\" ; filename=\"\";",
                       "sp ace", "", NULL);
    parse_headers_case("Content-Disposition: form-data; name=\"\"", "", NULL, NULL);
    parse_headers_case("Content-Disposition: form-data; name=tok ;filename=f.txt\t",
                       "tok", "f.txt", NULL);
    parse_headers_case("X-Extra: whatever\r\nContent-Disposition: form-data; name=\"x\"; "
                       "filename*=UTF-8''a%20b.txt\r\nContent-Transfer-Encoding: binary",
                       "x", NULL, NULL);
    parse_headers_case("Content-Type: text/csv\r\nContent-Disposition: form-data; name=\"é\"",
                       "é", NULL, "text/csv");

    const char lf[] = "--xyz\nContent-Disposition: form-data; name=lf\n\nbody\r\n--xyz--";
    coll c = {0};
    outcome o = parse_all(&c, "xyz", lf, sizeof lf - 1);
    CHECK(o.rc == 0, "bare LF headers: %s", o.msg);
    check_part(&c, 0, "lf", NULL, NULL, "body", 4);
    coll_free(&c);
}

/* ---- boundary extraction ---- */

static void boundary_ok(const char *ct, const char *want)
{
    char out[80] = "unchanged";
    CHECK(mp_boundary_from_content_type(ct, out, sizeof out) == 0, "rejected: %s", ct);
    CHECK_STR(out, want);
}

static void boundary_bad(const char *ct)
{
    char out[80];
    CHECK(mp_boundary_from_content_type(ct, out, sizeof out) == -1, "accepted: %s", ct);
}

static void test_boundary(void)
{
    char b70[71], ct[128];
    memset(b70, 'q', 70);
    b70[70] = '\0';
    boundary_ok("multipart/form-data; boundary=xyz", "xyz");
    boundary_ok("Multipart/Form-Data; charset=utf-8; BOUNDARY=\"abc def\"", "abc def");
    boundary_ok("multipart/form-data;boundary=" SB, SB);
    boundary_ok("multipart/form-data; boundary=xyz ; charset=utf-8", "xyz");
    boundary_ok("  multipart/form-data ; Boundary = \"a;b\" ; charset=x", "a;b");
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=%s", b70);
    boundary_ok(ct, b70);
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=%sq", b70);
    boundary_bad(ct);
    boundary_bad("multipart/form-data");
    boundary_bad("multipart/form-data; charset=utf-8");
    boundary_bad("multipart/mixed; boundary=xyz");
    boundary_bad("text/plain; boundary=xyz");
    boundary_bad("multipart/form-dataX; boundary=xyz");
    boundary_bad("multipart/form-data; boundary=\"\"");
    boundary_bad("multipart/form-data; boundary=");
    boundary_bad("multipart/form-data; boundary=\"abc");
    boundary_bad("multipart/form-data; boundary=a; boundary=b");
    boundary_bad("multipart/form-data; boundary");
    boundary_bad("");
    boundary_bad(NULL);

    char small[4];
    CHECK(mp_boundary_from_content_type("multipart/form-data; boundary=abcd", small, 4) == -1,
          "4 chars into 4 bytes");
    CHECK(mp_boundary_from_content_type("multipart/form-data; boundary=abc", small, 4) == 0 &&
              strcmp(small, "abc") == 0, "3 chars into 4 bytes");

    CHECK(mp_parser_new(NULL, NULL, &CB, NULL) == NULL, "NULL boundary");
    CHECK(mp_parser_new("", NULL, &CB, NULL) == NULL, "empty boundary");
    CHECK(mp_parser_new("a\r\nb", NULL, &CB, NULL) == NULL, "CRLF boundary");
    snprintf(ct, sizeof ct, "%sq", b70);
    CHECK(mp_parser_new(ct, NULL, &CB, NULL) == NULL, "71-char boundary");
    mp_parser_free(NULL);

    buf body;
    buf_init(&body);
    buf_printf(&body, "--%s\r\nContent-Disposition: form-data; name=long\r\n\r\nv\r\n--%s--",
               b70, b70);
    coll c = {0};
    outcome o = parse_all(&c, b70, body.data, body.len);
    CHECK(o.rc == 0, "70-char boundary: %s", o.msg);
    check_part(&c, 0, "long", NULL, NULL, "v", 1);
    coll_free(&c);
    buf_free(&body);
}

/* ---- malformed bodies ---- */

#define CD "Content-Disposition: form-data; name=a\r\n"
#define BAD(desc, hdr_max, parts_max, body, code, msg) \
    {desc, hdr_max, parts_max, body, sizeof(body) - 1, code, msg}

static const struct bad_case {
    const char *desc;
    size_t hdr_max, parts_max;
    const char *body;
    size_t len;
    enum mp_error code;
    const char *msg;
} bad_cases[] = {
    BAD("empty body", 0, 0, "", MP_ERR_TRUNCATED, "missing boundary"),
    BAD("no boundary ever", 0, 0, "just text\r\n-- b\r\n", MP_ERR_TRUNCATED, "missing boundary"),
    BAD("ends in body", 0, 0, "--b\r\n" CD "\r\npartial", MP_ERR_TRUNCATED, "missing closing boundary"),
    BAD("ends in headers", 0, 0, "--b\r\nContent-Disp", MP_ERR_TRUNCATED, "missing closing boundary"),
    BAD("ends after delimiter", 0, 0, "--b\r\n" CD "\r\nx\r\n--b", MP_ERR_TRUNCATED,
        "missing closing boundary"),
    BAD("no closing boundary", 0, 0, "--b\r\n" CD "\r\nx\r\n--b\r\n", MP_ERR_TRUNCATED,
        "missing closing boundary"),
    BAD("header too large", 64, 0, "--b\r\n" CD "X-Long: 0123456789012345678901\r\n\r\nx\r\n--b--",
        MP_ERR_LIMIT, "part header too large"),
    BAD("missing name", 0, 0, "--b\r\nContent-Disposition: form-data; filename=\"x\"\r\n\r\nx\r\n--b--",
        MP_ERR_MALFORMED, "Content-Disposition without name"),
    BAD("no Content-Disposition", 0, 0, "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--",
        MP_ERR_MALFORMED, "part without Content-Disposition"),
    BAD("empty header block", 0, 0, "--b\r\n\r\nx\r\n--b--", MP_ERR_MALFORMED,
        "part without Content-Disposition"),
    BAD("not form-data", 0, 0, "--b\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--b--",
        MP_ERR_MALFORMED, "Content-Disposition is not form-data"),
    BAD("form-data prefix only", 0, 0, "--b\r\nContent-Disposition: form-datax; name=a\r\n\r\nx\r\n--b--",
        MP_ERR_MALFORMED, "Content-Disposition is not form-data"),
    BAD("garbage after boundary", 0, 0, "--bxyz\r\n" CD "\r\nx\r\n--b--", MP_ERR_MALFORMED,
        "garbage after boundary"),
    BAD("garbage after padding", 0, 0, "--b  x\r\n" CD "\r\nx\r\n--b--", MP_ERR_MALFORMED,
        "garbage after boundary"),
    BAD("CR without LF", 0, 0, "--b\rx" CD "\r\nx\r\n--b--", MP_ERR_MALFORMED, "garbage after boundary"),
    BAD("bad closing", 0, 0, "--b\r\n" CD "\r\nx\r\n--b-x", MP_ERR_MALFORMED,
        "garbage after closing boundary"),
    BAD("header without colon", 0, 0, "--b\r\nContent-Disposition form-data\r\n\r\nx\r\n--b--",
        MP_ERR_MALFORMED, "malformed part header"),
    BAD("folded header", 0, 0, "--b\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\nx\r\n--b--",
        MP_ERR_MALFORMED, "malformed part header"),
    BAD("stray CR in header", 0, 0, "--b\r\nContent-Disposition: form-data;\r name=a\r\n\r\nx\r\n--b--",
        MP_ERR_MALFORMED, "malformed part header"),
    BAD("NUL in header", 0, 0, "--b\r\nContent-Disposition: form-data; name=a\0b\r\n\r\nx\r\n--b--",
        MP_ERR_MALFORMED, "NUL byte in part header"),
    BAD("unterminated quote", 0, 0, "--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--b--",
        MP_ERR_MALFORMED, "malformed Content-Disposition"),
    BAD("junk after value", 0, 0, "--b\r\nContent-Disposition: form-data; name=\"a\"x\r\n\r\nx\r\n--b--",
        MP_ERR_MALFORMED, "malformed Content-Disposition"),
    BAD("duplicate name", 0, 0, "--b\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nx\r\n--b--",
        MP_ERR_MALFORMED, "duplicate Content-Disposition parameter"),
    BAD("duplicate Content-Disposition", 0, 0, "--b\r\n" CD CD "\r\nx\r\n--b--", MP_ERR_MALFORMED,
        "duplicate Content-Disposition"),
    BAD("too many parts", 0, 2,
        "--b\r\n" CD "\r\n1\r\n--b\r\n" CD "\r\n2\r\n--b\r\n" CD "\r\n3\r\n--b--",
        MP_ERR_LIMIT, "too many parts"),
};

static void test_malformed(void)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const struct bad_case *t = &bad_cases[i];
        mp_limits lim = {t->hdr_max, t->parts_max};
        for (size_t piece = 0; piece <= 1; piece++) {
            coll c = {0};
            outcome o = parse_pieces(&c, "b", &lim, t->body, t->len, piece, t->len);
            CHECK(o.rc == -1, "%s (piece %zu): accepted", t->desc, piece);
            CHECK(o.code == t->code, "%s (piece %zu): code %d, want %d", t->desc, piece, o.code, t->code);
            CHECK_STR(o.msg, t->msg);
            CHECK(c.order_err == 0, "%s: callback order", t->desc);
            coll_free(&c);
        }
    }
}

/* An error is sticky: every later call fails with the first error. */
static void test_sticky_error(void)
{
    coll c = {0};
    mp_parser *p = mp_parser_new("b", NULL, &CB, &c);
    CHECK(mp_parser_errcode(p) == MP_OK, "fresh parser code");
    CHECK(mp_parser_feed(p, "--bQ", 4) == -1, "garbage");
    static const char rest[] = "\r\n" CD "\r\nx\r\n--b--";
    CHECK(mp_parser_feed(p, rest, sizeof rest - 1) == -1, "feed after error");
    CHECK(mp_parser_feed(p, "", 0) == -1, "empty feed after error");
    CHECK(mp_parser_finish(p) == -1, "finish after error");
    CHECK(mp_parser_errcode(p) == MP_ERR_MALFORMED, "code %d", mp_parser_errcode(p));
    CHECK_STR(mp_parser_error(p), "garbage after boundary");
    CHECK(c.n == 0, "no parts after error");
    mp_parser_free(p);
    coll_free(&c);
}

static void abort_case(int fail_begin, int fail_data, int fail_end, int want_parts, size_t want_len)
{
    coll c = {0};
    c.fail_begin = fail_begin;
    c.fail_data = fail_data;
    c.fail_end = fail_end;
    mp_parser *p = mp_parser_new(SB, NULL, &CB, &c);
    CHECK(mp_parser_feed(p, sample, sizeof sample - 1) == -1, "abort %d/%d/%d", fail_begin, fail_data, fail_end);
    CHECK(mp_parser_errcode(p) == MP_ERR_ABORTED, "code %d", mp_parser_errcode(p));
    CHECK(mp_parser_feed(p, "x", 1) == -1 && mp_parser_finish(p) == -1, "calls after abort");
    CHECK(mp_parser_errcode(p) == MP_ERR_ABORTED, "code after abort %d", mp_parser_errcode(p));
    CHECK(c.n == want_parts, "abort: %d parts, want %d", c.n, want_parts);
    CHECK(c.n > 0 && c.parts[c.n - 1].data.len == want_len, "abort: last part has %zu bytes",
          c.n > 0 ? c.parts[c.n - 1].data.len : 0);
    mp_parser_free(p);
    coll_free(&c);
}

static void test_abort(void)
{
    abort_case(1, 0, 0, 1, 0);           /* on_part_begin of the first part */
    /* First data piece of the binary part: all of it, as no CR in it starts the delimiter. */
    abort_case(0, 3, 0, 3, sizeof BIN - 1);
    abort_case(0, 0, 2, 2, 0);           /* on_part_end of the (empty) second part */
}

static void add_part(buf *b, const char *name, const char *value)
{
    buf_printf(b, "--b\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n", name, value);
}

static void test_default_limits(void)
{
    buf b;
    buf_init(&b);
    for (int i = 0; i < MP_DEFAULT_MAX_PARTS; i++)
        add_part(&b, "f", "v");
    buf_puts(&b, "--b--");
    coll c = {0};
    outcome o = parse_all(&c, "b", b.data, b.len);
    CHECK(o.rc == 0 && c.n == MP_DEFAULT_MAX_PARTS, "64 parts: %s, %d", o.msg, c.n);
    coll_free(&c);
    buf_reset(&b);
    for (int i = 0; i <= MP_DEFAULT_MAX_PARTS; i++)
        add_part(&b, "f", "v");
    buf_puts(&b, "--b--");
    o = parse_all(&c, "b", b.data, b.len);
    CHECK(o.rc == -1 && o.code == MP_ERR_LIMIT, "65 parts: %s", o.msg);
    coll_free(&c);

    /* A header block of exactly the limit passes, one byte more does not. */
    for (size_t extra = 0; extra <= 1; extra++) {
        const char *head = "--b\r\n" CD "X-Pad: ";
        size_t fixed = strlen(CD) + strlen("X-Pad: ") + 4; /* + CRLF CRLF */
        buf_reset(&b);
        buf_puts(&b, head);
        for (size_t i = fixed; i < MP_DEFAULT_MAX_HEADER_BYTES + extra; i++)
            buf_putc(&b, 'p');
        buf_puts(&b, "\r\n\r\nx\r\n--b--");
        o = parse_all(&c, "b", b.data, b.len);
        if (extra)
            CHECK(o.rc == -1 && o.code == MP_ERR_LIMIT, "header limit+1: %s", o.msg);
        else
            CHECK(o.rc == 0 && c.n == 1, "header at limit: %s", o.msg);
        coll_free(&c);
    }
    buf_free(&b);
}

/* ---- a large random file ---- */

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_large_random(void)
{
    const char *bd = "RandomBoundary42";
    size_t flen = 2u << 20;
    uint64_t seed = 0x9E3779B97F4A7C15u;
    char *file = xmalloc(flen);
    for (size_t i = 0; i < flen; i++)
        file[i] = (char)(rng_next(&seed) >> 24);
    /* Plant truncated and corrupted delimiters all over the file. */
    for (size_t at = 1000; at + 40 < flen; at += 65521) {
        size_t k = 4 + rng_next(&seed) % strlen(bd);
        memcpy(file + at, "\r\n--RandomBoundary42", k);
        file[at + k] = (at & 1) ? 'x' : '\r';
    }
    buf body;
    buf_init(&body);
    buf_printf(&body, "--%s\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"r.bin\"\r\n"
               "Content-Type: application/octet-stream\r\n\r\n", bd);
    buf_append(&body, file, flen);
    buf_printf(&body, "\r\n--%s\r\nContent-Disposition: form-data; name=after\r\n\r\nok\r\n--%s--\r\n", bd, bd);

    coll c = {0};
    mp_parser *p = mp_parser_new(bd, NULL, &CB, &c);
    int rc = 0;
    size_t off = 0, nchunks = 0;
    while (rc == 0 && off < body.len) {
        uint64_t r = rng_next(&seed);
        size_t max = (r & 3) == 0 ? 16 : (r & 3) == 1 ? 512 : 65536;
        size_t n = 1 + (size_t)(r >> 8) % max;
        n = n > body.len - off ? body.len - off : n;
        rc = mp_parser_feed(p, body.data + off, n);
        off += n;
        nchunks++;
    }
    CHECK(rc == 0 && mp_parser_finish(p) == 0, "large: %s", mp_parser_error(p));
    CHECK(nchunks > 100, "only %zu chunks", nchunks);
    CHECK(c.n == 2, "large: %d parts", c.n);
    check_part(&c, 0, "upload", "r.bin", "application/octet-stream", file, flen);
    check_part(&c, 1, "after", NULL, NULL, "ok", 2);
    mp_parser_free(p);
    coll_free(&c);
    buf_free(&body);
    free(file);
}

int main(void)
{
    test_sample();
    test_sample_splits();
    test_streaming();
    test_params();
    test_boundary();
    test_malformed();
    test_sticky_error();
    test_abort();
    test_default_limits();
    test_large_random();
    return test_report("multipart");
}
