/* fuzz_multipart: the streaming multipart parser must see the same parts however the body is split. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "multipart.h"

#define BOUNDARY "XyZ-boundary"

/* Small limits, so the fuzzer reaches "too many parts" and "header too large" quickly. */
static const mp_limits limits = { 1024, 16 };

/* Everything the callbacks saw, serialised. Body data is collected per part
 * and written out whole at its end, so how it was chunked does not show. */
typedef struct trace {
    buf log;
    buf part;      /* data of the part in progress */
} trace;

static void put_field(buf *b, const char *s)
{
    if (!s) {
        buf_puts(b, "\x01NULL");
        return;
    }
    buf_printf(b, "%zu:", strlen(s));
    buf_puts(b, s);
}

static void flush_part(trace *t, char tag)
{
    buf_printf(&t->log, "%c%zu:", tag, t->part.len);
    buf_append(&t->log, t->part.data ? t->part.data : "", t->part.len);
    buf_reset(&t->part);
}

static int on_begin(void *ud, const char *name, const char *filename, const char *ctype)
{
    trace *t = ud;
    if (!name)
        abort(); /* the API promises a name for every part */
    buf_putc(&t->log, 'B');
    put_field(&t->log, name);
    put_field(&t->log, filename);
    put_field(&t->log, ctype);
    /* Exercise the abort path; deterministic, as it depends on the name only. */
    return strcmp(name, "abort") == 0 ? -1 : 0;
}

static int on_data(void *ud, const char *data, size_t len)
{
    trace *t = ud;
    if (len == 0)
        abort(); /* empty pieces are pointless calls; the parser never makes them */
    buf_append(&t->part, data, len);
    return 0;
}

static int on_end(void *ud)
{
    flush_part(ud, 'E');
    return 0;
}

static const mp_callbacks callbacks = { on_begin, on_data, on_end };

/* Parses data fed in pieces cut at cuts[0..ncuts); leaves the trace in t and returns the error code. */
static enum mp_error parse(trace *t, const uint8_t *data, size_t size, const size_t *cuts, size_t ncuts)
{
    buf_init(&t->log);
    buf_init(&t->part);
    mp_parser *p = mp_parser_new(BOUNDARY, &limits, &callbacks, t);
    if (!p)
        abort();
    size_t at = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : size;
        mp_parser_feed(p, (const char *)data + at, end - at);
        at = end;
    }
    mp_parser_finish(p);
    enum mp_error err = mp_parser_errcode(p);
    flush_part(t, 'P'); /* data of a part cut short by the error */
    buf_printf(&t->log, "=%d %s", (int)err, mp_parser_error(p));
    mp_parser_free(p);
    return err;
}

static void trace_free(trace *t)
{
    buf_free(&t->log);
    buf_free(&t->part);
}

static void expect_same(const trace *a, const trace *b, const char *how)
{
    if (a->log.len != b->log.len || memcmp(a->log.data, b->log.data, a->log.len) != 0) {
        fprintf(stderr, "multipart: parts differ when fed %s\n--- whole:\n%.*s\n--- %s:\n%.*s\n", how,
                (int)a->log.len, a->log.data, how, (int)b->log.len, b->log.data);
        abort();
    }
}

/* The boundary extractor must write only a short, NUL-terminated, CR/LF-free value within outlen. */
static void fuzz_content_type(const uint8_t *data, size_t size)
{
    size_t n = size < 300 ? size : 300;
    size_t outlen = size ? 1 + data[size - 1] % 96 : 1; /* sometimes shorter than a boundary */
    char *ct = malloc(n + 1), *out = malloc(outlen);
    memcpy(ct, data, n);
    ct[n] = '\0';
    if (mp_boundary_from_content_type(ct, out, outlen) == 0) {
        size_t len = strnlen(out, outlen);
        if (len == 0 || len >= outlen || len > MP_MAX_BOUNDARY || strpbrk(out, "\r\n"))
            abort();
    }
    free(ct);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    trace whole, split;
    enum mp_error e1 = parse(&whole, data, size, NULL, 0);

    /* One cut at a position the first two bytes choose. */
    size_t cut = size ? ((size_t)data[0] << 8 | (size > 1 ? data[1] : 0)) % (size + 1) : 0;
    enum mp_error e2 = parse(&split, data, size, &cut, 1);
    if (e1 != e2)
        abort();
    expect_same(&whole, &split, "split in two");
    trace_free(&split);

    /* Byte by byte is the hardest split: every delimiter straddles pieces. */
    if (size <= 4096) {
        size_t *cuts = malloc((size ? size : 1) * sizeof *cuts);
        for (size_t i = 0; i < size; i++)
            cuts[i] = i;
        enum mp_error e3 = parse(&split, data, size, cuts, size);
        free(cuts);
        if (e1 != e3)
            abort();
        expect_same(&whole, &split, "byte by byte");
        trace_free(&split);
    }
    trace_free(&whole);
    fuzz_content_type(data, size);
    return 0;
}
