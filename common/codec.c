/* codec: the encodings the Redis layout and the URLs are made of. */
#include "codec.h"

#include <openssl/evp.h>
#include <string.h>
#include <strings.h>

void b64url_encode(buf *out, const void *p, size_t n)
{
    size_t enc = 4 * ((n + 2) / 3);
    buf_reserve(out, enc);
    char *dst = out->data + out->len;
    EVP_EncodeBlock((unsigned char *)dst, p, (int)n);
    for (size_t i = 0; i < enc; i++) {
        if (dst[i] == '+')
            dst[i] = '-';
        else if (dst[i] == '/')
            dst[i] = '_';
    }
    out->len += enc;
    out->data[out->len] = '\0';
}

static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '-' ? 62 : c == '_' ? 63 : -1;
}

int b64url_decode(buf *out, const char *s, size_t n)
{
    size_t pad = 0;
    while (n > 0 && s[n - 1] == '=' && pad < 2) {
        n--;
        pad++;
    }
    /* Strict: no stray characters or whitespace, padding either absent or
     * exactly right, and zero trailing bits, so each string has one meaning. */
    if (n % 4 == 1 || (pad && (n + pad) % 4))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (b64url_value((unsigned char)s[i]) < 0)
            return -1;
    size_t rem = n % 4;
    int last = n ? b64url_value((unsigned char)s[n - 1]) : 0;
    if ((rem == 2 && (last & 0x0f)) || (rem == 3 && (last & 0x03)))
        return -1;
    buf_reserve(out, n / 4 * 3 + 2);
    unsigned char *dst = (unsigned char *)out->data + out->len;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 6) | (unsigned)b64url_value((unsigned char)s[i]);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            dst[o++] = (unsigned char)(acc >> bits);
        }
    }
    out->len += o;
    out->data[out->len] = '\0';
    return 0;
}

void stream_key_build(buf *out, const char *label, const char *key)
{
    buf_puts(out, STREAM_KEY_PREFIX);
    b64url_encode(out, label, strlen(label));
    buf_putc(out, '|');
    b64url_encode(out, key, strlen(key));
}

void stream_key_label_pattern(buf *out, const char *label)
{
    buf_puts(out, STREAM_KEY_PREFIX);
    /* base64url output never contains the glob characters * ? [ ] \ */
    b64url_encode(out, label, strlen(label));
    buf_puts(out, "|*");
}

static int decode_utf8_part(buf *out, const char *s, size_t n)
{
    size_t start = out->len;
    /* Keys are written padded (API §1); Python's decoder refuses an
     * unpadded part, and so do we, so a listed label always resolves. */
    if (n == 0 || n % 4 != 0 || b64url_decode(out, s, n) < 0)
        return -1;
    if (!utf8_valid(out->data + start, out->len - start) ||
        memchr(out->data + start, '\0', out->len - start)) {
        out->len = start;
        out->data[start] = '\0';
        return -1;
    }
    return 0;
}

int stream_key_parse(const char *rkey, size_t n, buf *label, buf *key)
{
    size_t plen = strlen(STREAM_KEY_PREFIX);
    if (n <= plen || memcmp(rkey, STREAM_KEY_PREFIX, plen) != 0)
        return -1;
    const char *l = rkey + plen, *end = rkey + n;
    const char *bar = memchr(l, '|', (size_t)(end - l));
    if (!bar)
        return -1;
    if (decode_utf8_part(label, l, (size_t)(bar - l)) < 0)
        return -1;
    if (key && decode_utf8_part(key, bar + 1, (size_t)(end - bar - 1)) < 0)
        return -1;
    return 0;
}

/* Standard UTF-8 (RFC 3629): no overlongs, no surrogates, nothing past U+10FFFF. */
bool utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t len;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            len = 2;
        else if (c >= 0xE0 && c <= 0xEF)
            len = 3;
        else if (c >= 0xF0 && c <= 0xF4)
            len = 4;
        else
            return false;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
        else if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
        if (i + len > n || s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k < len; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return false;
        i += len;
    }
    return true;
}

const char *name_check(const char *s, size_t n)
{
    if (n == 0)
        return "must not be empty";
    if (n > 256)
        return "must be at most 256 bytes";
    if (!utf8_valid(s, n))
        return "must be valid UTF-8";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return "must not contain control characters";
        /* C1 controls U+0080..U+009F are encoded C2 80..C2 9F */
        if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] <= 0x9F)
            return "must not contain control characters";
        if (c == '/')
            return "must not contain '/'";
    }
    if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
        return "must not be '.' or '..'";
    return NULL;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int percent_decode(buf *out, const char *s, size_t n, bool plus_space)
{
    size_t start = out->len;
    buf_reserve(out, n);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 2 < n ? hex_value(s[i + 1]) : -1;
            int lo = i + 2 < n ? hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                out->len = start;
                out->data[start] = '\0';
                return -1;
            }
            c = (char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        out->data[out->len++] = c;
    }
    out->data[out->len] = '\0';
    return 0;
}

int query_param(buf *out, const char *query, const char *name)
{
    size_t nlen = strlen(name);
    const char *p = query;
    while (p && *p) {
        const char *amp = strchr(p, '&');
        size_t plen = amp ? (size_t)(amp - p) : strlen(p);
        if (plen > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == '=')
            return percent_decode(out, p + nlen + 1, plen - nlen - 1, true);
        p = amp ? amp + 1 : NULL;
    }
    return -1;
}

const char *bearer_token(const char *authorization)
{
    if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
        return NULL;
    const char *t = authorization + 7;
    while (*t == ' ')
        t++;
    return *t ? t : NULL;
}
