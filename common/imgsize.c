/* imgsize: walks JPEG segments / PNG chunks to find where an image ends, without decoding it. */
#include "imgsize.h"

#include <stdint.h>
#include <string.h>

static const unsigned char jpeg_sig[3] = {0xFF, 0xD8, 0xFF};
static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

/* 1 if p starts with sig, 0 if p is a (possibly empty) prefix of it, -1 otherwise. */
static int sig_match(const unsigned char *p, size_t n, const unsigned char *sig, size_t siglen)
{
    size_t k = n < siglen ? n : siglen;
    if (k == 0)
        return 0;
    if (memcmp(p, sig, k) != 0)
        return -1;
    return n >= siglen;
}

/* Markers that carry no length field. */
static int jpeg_standalone(unsigned m)
{
    return (m >= 0xD0 && m <= 0xD7) || m == 0x01 || m == 0xD8;
}

/* Skips entropy-coded data from *i (offsets are image offsets, p starts at
 * base).  1 with *i at the marker that ends it -- stuffing FF00, restarts
 * FFD0-D7 and fill FFFF do not -- or 0 with *i where to resume. */
static int jpeg_entropy(const unsigned char *p, size_t base, size_t end, size_t *i)
{
    while (*i < end) {
        const unsigned char *ff = memchr(p + (*i - base), 0xFF, end - *i);
        if (!ff) {
            *i = end;
            return 0;
        }
        size_t j = base + (size_t)(ff - p);
        if (j + 1 >= end) {
            *i = j;                 /* the FF is needed again with its successor */
            return 0;
        }
        unsigned c = p[j + 1 - base];
        if (c == 0x00 || (c >= 0xD0 && c <= 0xD7))
            *i = j + 2;
        else if (c == 0xFF)
            *i = j + 1;             /* fill: the second FF may start a marker */
        else {
            *i = j;
            return 1;
        }
    }
    return 0;
}

static ssize_t jpeg_walk(imgsize_walk *w, const unsigned char *p, size_t base, size_t n)
{
    size_t end = base + n, i = w->pos;
    ssize_t r = 0;
    if (i == 0) {
        int s = sig_match(p, n, jpeg_sig, sizeof jpeg_sig);
        if (s <= 0)
            return s;
        i = 2;                                  /* first marker after SOI */
    }
    for (;;) {
        if (w->in_scan && !jpeg_entropy(p, base, end, &i))
            break;
        w->in_scan = 0;
        while (i + 1 < end && p[i - base] == 0xFF && p[i + 1 - base] == 0xFF)
            i++;                                /* fill bytes before a marker */
        if (i + 1 >= end) {
            r = i < end && p[i - base] != 0xFF ? -1 : 0;
            break;
        }
        unsigned m = p[i + 1 - base];
        if (p[i - base] != 0xFF || m == 0x00) {
            r = -1;
            break;
        }
        if (m == 0xD9) {
            r = (ssize_t)(i + 2);
            break;
        }
        if (jpeg_standalone(m)) {
            i += 2;
            continue;
        }
        if (i + 4 > end)
            break;
        size_t len = (size_t)p[i + 2 - base] << 8 | p[i + 3 - base];
        if (len < 2) {
            r = -1;
            break;
        }
        i += 2 + len;                           /* may pass end: caught above as "need more" */
        w->in_scan = m == 0xDA;
    }
    w->pos = i;
    return r;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Chunk types are four ASCII letters; anything else means we are not in a PNG. */
static int png_type_ok(const unsigned char *t)
{
    for (int k = 0; k < 4; k++)
        if (!((t[k] >= 'A' && t[k] <= 'Z') || (t[k] >= 'a' && t[k] <= 'z')))
            return 0;
    return 1;
}

static ssize_t png_walk(imgsize_walk *w, const unsigned char *p, size_t base, size_t n)
{
    size_t end = base + n, i = w->pos;
    ssize_t r = 0;
    if (i == 0) {
        int s = sig_match(p, n, png_sig, sizeof png_sig);
        if (s <= 0)
            return s;
        i = sizeof png_sig;
    }
    while (i < end && end - i >= 8) {
        uint32_t len = be32(p + (i - base));
        const unsigned char *type = p + (i - base) + 4;
        int iend = memcmp(type, "IEND", 4) == 0;
        /* IEND is empty by the spec; one claiming data would be waited for, buffered whole */
        if (len > 0x7FFFFFFFu || !png_type_ok(type) || (i == sizeof png_sig && memcmp(type, "IHDR", 4) != 0)
            || (iend && len != 0)) {
            r = -1;
            break;
        }
        size_t next = i + 12 + len;             /* length, type, data, CRC */
        if (iend) {
            r = next <= end ? (ssize_t)next : 0;
            break;
        }
        i = next;                               /* may pass end: the data can be dropped unseen */
    }
    w->pos = i;
    return r;
}

ssize_t imgsize_resume(imgsize_walk *w, const unsigned char *p, size_t base, size_t n)
{
    if (!w->fmt) {
        if (n == 0)
            return 0;
        /* the signatures differ in their first byte */
        w->fmt = p[0] == jpeg_sig[0] ? 'J' : p[0] == png_sig[0] ? 'P' : -1;
    }
    if (w->fmt == 'J')
        return jpeg_walk(w, p, base, n);
    return w->fmt == 'P' ? png_walk(w, p, base, n) : -1;
}

ssize_t imgsize_jpeg(const unsigned char *p, size_t n)
{
    imgsize_walk w = {0, 'J', 0};
    return jpeg_walk(&w, p, 0, n);
}

ssize_t imgsize_png(const unsigned char *p, size_t n)
{
    imgsize_walk w = {0, 'P', 0};
    return png_walk(&w, p, 0, n);
}

ssize_t imgsize_detect(const unsigned char *p, size_t n)
{
    imgsize_walk w = {0, 0, 0};
    return imgsize_resume(&w, p, 0, n);
}
