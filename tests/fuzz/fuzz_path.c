/* fuzz_path: URL decoding, name rules, stream keys, base64url and WebSocket path parsing on hostile bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "codec.h"
#include "wsreq.h"

static int same(const void *a, size_t alen, const void *b, size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* Length of s once trailing '=' are dropped: padding is optional for the decoder. */
static size_t unpadded(const char *s, size_t n)
{
    while (n && s[n - 1] == '=')
        n--;
    return n;
}

static void fuzz_percent(const uint8_t *data, size_t size, const char *text)
{
    for (int plus = 0; plus < 2; plus++) {
        buf out;
        buf_init(&out);
        /* Decoding never grows the text; a failure leaves nothing behind. */
        int rc = percent_decode(&out, (const char *)data, size, plus);
        if (out.len > size || (rc < 0 && out.len != 0))
            abort();
        buf_free(&out);
    }
    buf tok;
    buf_init(&tok);
    if (query_param(&tok, text, "token") == 0 && tok.len > strlen(text))
        abort();
    buf_free(&tok);
}

static void fuzz_names(const uint8_t *data, size_t size)
{
    const char *why = name_check((const char *)data, size);
    if (!why && (memchr(data, '/', size) || !utf8_valid((const char *)data, size) || size == 0 || size > 256))
        abort();
}

/* A parsed stream key re-encodes to exactly the same key: one key, one meaning. */
static void fuzz_stream_key(const uint8_t *data, size_t size)
{
    buf label, key, again;
    buf_init(&label);
    buf_init(&key);
    buf_init(&again);
    if (stream_key_parse((const char *)data, size, &label, &key) == 0) {
        if (!utf8_valid(label.data, label.len) || !utf8_valid(key.data, key.len) ||
            memchr(label.data, '\0', label.len) || memchr(key.data, '\0', key.len))
            abort();
        stream_key_build(&again, label.data, key.data);
        if (!same(again.data, again.len, data, size))
            abort();
    }
    buf_free(&label);
    buf_free(&key);
    buf_free(&again);
}

/* encode then decode is the identity; a string that decodes is the canonical encoding (padding aside). */
static void fuzz_b64(const uint8_t *data, size_t size)
{
    buf enc, dec, re;
    buf_init(&enc);
    buf_init(&dec);
    buf_init(&re);
    b64url_encode(&enc, data, size);
    if (b64url_decode(&dec, enc.data, enc.len) != 0 || !same(dec.data, dec.len, data, size))
        abort();
    buf_reset(&dec);
    if (b64url_decode(&dec, (const char *)data, size) == 0) {
        b64url_encode(&re, dec.data, dec.len);
        if (!same(re.data, unpadded(re.data, re.len), data, unpadded((const char *)data, size)))
            abort();
    } else if (dec.len != 0) {
        abort(); /* out unchanged on failure */
    }
    buf_free(&enc);
    buf_free(&dec);
    buf_free(&re);
}

static void check_name(const char *s)
{
    if (!s || name_check(s, strlen(s)) || strchr(s, '/'))
        abort();
}

/* putenv, not setenv: glibc's setenv keeps every value it was ever given, which would grow
 * without bound over millions of runs. The variable is removed before the string is freed. */
static void parse_with(const char *var, const char *prefix, const char *text, const char *path_prefix, int nparams)
{
    size_t n = strlen(var) + 1 + strlen(prefix) + strlen(text) + 1;
    char *env = malloc(n);
    snprintf(env, n, "%s=%s%s", var, prefix, text);
    putenv(env);
    wsreq r;
    char why[300];
    if (wsreq_parse(&r, path_prefix, nparams, why, sizeof why) == 0) {
        if (nparams >= 1)
            check_name(r.label);
        if (nparams == 2)
            check_name(r.key);
        if ((nparams < 1 && r.label) || (nparams < 2 && r.key) || (r.token && !*r.token))
            abort();
    } else if (why[0] == '\0') {
        abort();
    }
    wsreq_free(&r);
    unsetenv(var);
    free(env);
}

static void fuzz_wsreq(const char *text)
{
    unsetenv("HTTP_AUTHORIZATION");
    parse_with("REQUEST_URI", "/ws/stream/", text, "/ws/stream/", 2);
    parse_with("REQUEST_URI", "/ws/labels/", text, "/ws/labels/", 1);
    /* The token from the header, the URI free: /ws/frames takes no path parameter. */
    char *uri = malloc(sizeof "REQUEST_URI=/ws/frames");
    memcpy(uri, "REQUEST_URI=/ws/frames", sizeof "REQUEST_URI=/ws/frames");
    putenv(uri);
    parse_with("HTTP_AUTHORIZATION", "Bearer ", text, "/ws/frames", 0);
    parse_with("REQUEST_URI", "", text, "/ws/frames", 0);
    unsetenv("REQUEST_URI");
    free(uri);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The environment cannot carry NUL: the text is the input with NUL bytes cut out. */
    char *text = malloc(size + 1);
    size_t t = 0;
    for (size_t i = 0; i < size; i++)
        if (data[i])
            text[t++] = (char)data[i];
    text[t] = '\0';

    fuzz_percent(data, size, text);
    fuzz_names(data, size);
    fuzz_stream_key(data, size);
    fuzz_b64(data, size);
    fuzz_wsreq(text);
    free(text);
    return 0;
}
