/* fuzz_auth: JWT verification on raw tokens and on correctly signed tokens with fuzzed header or claims. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "buf.h"
#include "codec.h"

#define SECRET "fuzz-secret"
#define NOW ((time_t)1700000000)
#define STD_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
/* Claims that pass every check, for the run whose header is fuzzed. */
#define GOOD_CLAIMS "{\"subject\":{\"username\":\"u\",\"role\":\"user\",\"sites\":[\"a\"]},\"type\":\"access\",\"exp\":1900000000}"

static char *nul_terminated(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* JWTs use base64url without padding (RFC 7515 §2). */
static void b64_nopad(buf *out, const void *p, size_t n)
{
    b64url_encode(out, p, n);
    while (out->len && out->data[out->len - 1] == '=')
        out->data[--out->len] = '\0';
}

/* header.payload.HMAC-SHA256, as tests/tools/mkjwt.c mints them: the signature is right, so
 * verification goes past it to the algorithm and claim checks. */
static void sign(buf *tok, const void *hdr, size_t hlen, const void *payload, size_t plen)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    b64_nopad(tok, hdr, hlen);
    buf_putc(tok, '.');
    b64_nopad(tok, payload, plen);
    HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)tok->data, tok->len, mac, &maclen);
    buf_putc(tok, '.');
    b64_nopad(tok, mac, maclen);
}

/* Whatever the token, an accepted one names a user; the identity is always released. */
static void verify(const char *token, const char *cache_json)
{
    auth_identity id;
    char err[160];
    if (auth_verify(SECRET, "HS256", token, NOW, &id, err, sizeof err) == 0) {
        if (!id.username || !*id.username || !id.role)
            abort();
        if (id.admin != (strcmp(id.role, "admin") == 0))
            abort();
        for (size_t i = 0; i < id.nsites; i++)
            if (!id.sites[i] || !auth_may_view(&id, id.sites[i]))
                abort();
        auth_jti_listed(cache_json, id.jti);
    } else if (err[0] == '\0' || id.username || id.sites) {
        abort(); /* a refusal says why and hands back nothing */
    }
    auth_identity_free(&id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = nul_terminated(data, size);
    buf tok;
    buf_init(&tok);

    verify(text, text);                       /* the input as a token */
    sign(&tok, STD_HEADER, strlen(STD_HEADER), data, size);
    verify(tok.data, text);                   /* the input as the claims */
    buf_reset(&tok);
    sign(&tok, data, size, GOOD_CLAIMS, strlen(GOOD_CLAIMS));
    verify(tok.data, text);                   /* the input as the JOSE header */

    auth_jti_listed(text, "jti-1");
    bearer_token(text);
    buf_free(&tok);
    free(text);
    return 0;
}
