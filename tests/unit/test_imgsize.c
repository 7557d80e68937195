/* test_imgsize: image lengths from hand-assembled JPEG/PNG structure, truncations and garbage. */
#include <stdint.h>

#include "buf.h"
#include "harness.h"
#include "imgsize.h"

/* A marker segment: FF m, big-endian length (which counts itself), payload. */
static void seg(buf *b, unsigned char m, const void *payload, size_t n)
{
    unsigned char h[4] = {0xFF, m, (unsigned char)((n + 2) >> 8), (unsigned char)(n + 2)};
    buf_append(b, h, 4);
    buf_append(b, payload, n);
}

/* Entropy-coded data: no bare FF, but stuffing FF00 and restarts, most after a fill FF. */
static void entropy(buf *b, unsigned salt, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)(salt * 31 + i * 7);
        buf_putc(b, (char)(c == 0xFF ? 0xFE : c));
        if (i % 16 == 5)
            buf_append(b, "\xFF\x00", 2);
        if (i % 16 == 11) {
            unsigned char rst[3] = {0xFF, 0xFF, (unsigned char)(0xD0 + (i / 16) % 8)};
            buf_append(b, rst + (i % 32 == 11), 3 - (i % 32 == 11));
        }
    }
}

/* Baseline: SOI APP0 DQT SOF0 DHT SOS data EOI.  Progressive: SOF2 and a
 * second DHT + SOS scan, plus a TEM marker and fill bytes between segments.
 * DQT and DHT payloads contain FF D9 so only a real segment walk gets it right. */
static void make_jpeg(buf *b, int progressive, unsigned salt, size_t n)
{
    static const unsigned char app0[] = {'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0};
    static const unsigned char sof[] = {8, 0, 16, 0, 16, 1, 1, 0x11, 0};
    static const unsigned char dht[] = {0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xD9};
    static const unsigned char sos[] = {1, 1, 0x00, 0, 63, 0};
    unsigned char dqt[65] = {0};
    for (int i = 1; i < 65; i++)
        dqt[i] = (unsigned char)(i == 7 ? 0xFF : i == 8 ? 0xD9 : i + salt);
    buf_append(b, "\xFF\xD8", 2);
    seg(b, 0xE0, app0, sizeof app0);
    if (progressive)
        buf_append(b, "\xFF\x01\xFF\xFF", 4);
    seg(b, 0xDB, dqt, sizeof dqt);
    seg(b, progressive ? 0xC2 : 0xC0, sof, sizeof sof);
    seg(b, 0xC4, dht, sizeof dht);
    seg(b, 0xDA, sos, sizeof sos);
    entropy(b, salt, n);
    if (progressive) {
        seg(b, 0xC4, dht, sizeof dht);
        seg(b, 0xDA, sos, sizeof sos);
        entropy(b, salt + 1, n);
    }
    buf_append(b, "\xFF\xD9", 2);
}

static void chunk(buf *b, const char *type, const void *data, uint32_t n)
{
    unsigned char len[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8), (unsigned char)n};
    buf_append(b, len, 4);
    buf_append(b, type, 4);
    buf_append(b, data, n);
    buf_append(b, "\xDE\xAD\xBE\xEF", 4);       /* CRCs are not checked */
}

/* Signature, IHDR, an IDAT whose data mimics an IEND chunk, IEND. */
static void make_png(buf *b, unsigned salt)
{
    static const unsigned char ihdr[13] = {0, 0, 0, 16, 0, 0, 0, 16, 8, 2, 0, 0, 0};
    unsigned char idat[40];
    for (size_t i = 0; i < sizeof idat; i++)
        idat[i] = (unsigned char)(salt + i * 13);
    memcpy(idat + 10, "\0\0\0\0IEND", 8);
    buf_append(b, "\x89PNG\r\n\x1A\n", 8);
    chunk(b, "IHDR", ihdr, sizeof ihdr);
    chunk(b, "IDAT", idat, sizeof idat);
    chunk(b, "IEND", "", 0);
}

/* Checks one well-formed image: exact length, with trailing bytes too, every truncation incomplete. */
static void check_image(const char *what, const buf *img, ssize_t (*fn)(const unsigned char *, size_t),
                        ssize_t (*other)(const unsigned char *, size_t))
{
    const unsigned char *p = (const unsigned char *)img->data;
    ssize_t want = (ssize_t)img->len;
    CHECK(fn(p, img->len) == want, "%s: got %zd want %zd", what, fn(p, img->len), want);
    CHECK(imgsize_detect(p, img->len) == want, "%s: detect", what);
    CHECK(other(p, img->len) == -1, "%s: the other format must reject it", what);

    buf more;
    buf_init(&more);
    buf_append(&more, img->data, img->len);
    buf_append(&more, img->data, img->len);     /* an image right behind it */
    CHECK(fn((const unsigned char *)more.data, more.len) == want, "%s: trailing bytes counted", what);
    buf_free(&more);

    size_t bad = 0, first = 0;
    for (size_t k = 0; k < img->len; k++)
        if (fn(p, k) != 0 || imgsize_detect(p, k) != 0) {
            if (!bad++)
                first = k;
        }
    CHECK(bad == 0, "%s: %zu truncations not incomplete, first at %zu", what, bad, first);
}

static void test_valid(void)
{
    buf b;
    buf_init(&b);
    make_jpeg(&b, 0, 1, 100);
    check_image("baseline jpeg", &b, imgsize_jpeg, imgsize_png);
    /* the DQT's FF D9 must not end it: a naive search would stop there */
    const char *d9 = memmem(b.data, b.len, "\xFF\xD9", 2);
    CHECK(d9 && (size_t)(d9 - b.data) + 2 < b.len, "fixture keeps an early FF D9");
    buf_reset(&b);
    make_jpeg(&b, 1, 2, 100);
    check_image("progressive jpeg", &b, imgsize_jpeg, imgsize_png);
    buf_reset(&b);
    make_png(&b, 3);
    check_image("png", &b, imgsize_png, imgsize_jpeg);
    buf_free(&b);
}

static ssize_t det(const char *s, size_t n)
{
    return imgsize_detect((const unsigned char *)s, n);
}

static void test_signatures(void)
{
    CHECK(det("", 0) == 0, "empty is a prefix");
    CHECK(det("\xFF", 1) == 0, "JPEG prefix");
    CHECK(det("\xFF\xD8", 2) == 0, "JPEG prefix");
    CHECK(det("\x89PN", 3) == 0, "PNG prefix");
    CHECK(det("\x89PNG\r\n\x1A", 7) == 0, "PNG prefix");
    CHECK(det("\xFF\x00", 2) == -1, "not JPEG");
    CHECK(det("\x89PX", 3) == -1, "not PNG");
    CHECK(det("hello world", 11) == -1, "garbage");
    CHECK(det("{\"a\":1}", 7) == -1, "JSON is no image");
    CHECK(imgsize_jpeg((const unsigned char *)"\x89PNG", 4) == -1, "PNG is no JPEG");
    CHECK(imgsize_png((const unsigned char *)"\xFF\xD8\xFF", 3) == -1, "JPEG is no PNG");
}

static void test_invalid(void)
{
    CHECK(det("\xFF\xD8\xFF\xE0\x00\x01", 6) == -1, "segment length below 2");
    CHECK(det("\xFF\xD8\xFF\xE0\x00\x04\xAA\xBB\x12\x34", 10) == -1, "no marker after a segment");
    CHECK(det("\xFF\xD8\xFF\xE0\x00\x04\xAA\xBB\x12", 9) == -1, "non-FF at the last byte");
    CHECK(det("\xFF\xD8\xFF\x00", 4) == -1, "FF 00 is no marker outside a scan");
    CHECK(det("\xFF\xD8\xFF\xE0\x00\x04\xAA\xBB\xFF\xD9", 10) == 10, "minimal SOI APP0 EOI");
    CHECK(det("\xFF\xD8\xFF\xDA\x00\x02\x01\xFF\x00\xFF\xD9zz", 13) == 11, "scan with stuffing");
    CHECK(det("\xFF\xD8\xFF\xDA\x00\x02\x01\xFF\x00\xFF", 10) == 0, "scan ends on FF: need more");
    CHECK(det("\xFF\xD8\xFF\xDA\x00\x02\x01\xFF\xFF\xD9", 10) == 10, "fill before EOI");

    buf b;
    buf_init(&b);
    buf_append(&b, "\x89PNG\r\n\x1A\n", 8);
    chunk(&b, "IDAT", "xx", 2);
    chunk(&b, "IEND", "", 0);
    CHECK(det(b.data, b.len) == -1, "first chunk must be IHDR");
    buf_reset(&b);
    buf_append(&b, "\x89PNG\r\n\x1A\n\x80\x00\x00\x00IHDR", 16);
    CHECK(det(b.data, b.len) == -1, "chunk length over 2^31-1");
    buf_reset(&b);
    buf_append(&b, "\x89PNG\r\n\x1A\n\x00\x00\x00\x00IH\x01R", 16);
    CHECK(det(b.data, b.len) == -1, "chunk type not letters");
    buf_reset(&b);
    buf_append(&b, "\x89PNG\r\n\x1A\n", 8);
    chunk(&b, "IHDR", "0123456789abc", 13);
    buf_append(&b, "\x00\x01\x00\x00IEND", 8);     /* IEND claiming 64 KiB of data (found by fuzz_upframe) */
    CHECK(det(b.data, b.len) == -1, "IEND with data");
    buf_free(&b);
}

/* Walks img + trailing bytes in pieces of `step`, dropping what the walk has
 * passed; the length must come out the same and little may stay buffered. */
static void check_resume(const char *what, const buf *img, size_t step)
{
    buf in;
    buf_init(&in);
    buf_append(&in, img->data, img->len);
    buf_append(&in, "\xFF\xD9\0\0\0\0IEND", 10);   /* never part of the image */
    imgsize_walk w = {0, 0, 0};
    size_t base = 0, kept = 0, most = 0;        /* kept: bytes [base, base + kept) held */
    ssize_t r = 0;
    for (size_t fed = 0; r == 0 && fed < in.len; fed += step) {
        kept += fed + step <= in.len ? step : in.len - fed;
        r = imgsize_resume(&w, (const unsigned char *)in.data + base, base, kept);
        most = kept > most ? kept : most;
        size_t drop = w.pos - base < kept ? w.pos - base : kept;
        base += drop;
        kept -= drop;
    }
    CHECK(r == (ssize_t)img->len, "%s in pieces of %zu: got %zd want %zu", what, step, r, img->len);
    CHECK(most <= step + 12, "%s in pieces of %zu: %zu bytes held", what, step, most);
    buf_free(&in);
}

static void test_resume(void)
{
    buf b;
    buf_init(&b);
    for (int kind = 0; kind < 3; kind++) {
        buf_reset(&b);
        if (kind < 2)
            make_jpeg(&b, kind, 4, 200);
        else
            make_png(&b, 4);
        for (size_t step = 1; step <= 9; step += 4)
            check_resume(kind == 0 ? "baseline" : kind == 1 ? "progressive" : "png", &b, step);
    }
    buf_free(&b);
    imgsize_walk w = {0, 0, 0};
    CHECK(imgsize_resume(&w, (const unsigned char *)"GIF89a", 0, 6) == -1, "resume: not an image");
}

int main(void)
{
    test_valid();
    test_signatures();
    test_invalid();
    test_resume();
    return test_report("imgsize");
}
