/* mint: JWTs minted with OpenSSL's HMAC for the unit tests, in any shape,
 * including the broken ones API §2 refuses. */
#ifndef SW_MINT_H
#define SW_MINT_H

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "buf.h"
#include "codec.h"

/* JWTs use base64url without padding (RFC 7515 §2). */
static void b64_nopad(buf *out, const void *p, size_t n)
{
    b64url_encode(out, p, n);
    while (out->len && out->data[out->len - 1] == '=')
        out->data[--out->len] = '\0';
}

/* header.payload.HMAC(md, secret); md NULL gives an empty signature. */
static char *mint_raw(const char *header, const char *payload, const EVP_MD *md, const char *secret)
{
    buf tok;
    buf_init(&tok);
    b64_nopad(&tok, header, strlen(header));
    buf_putc(&tok, '.');
    b64_nopad(&tok, payload, strlen(payload));
    if (md) {
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int maclen = 0;
        HMAC(md, secret, (int)strlen(secret), (const unsigned char *)tok.data, tok.len, mac, &maclen);
        buf_putc(&tok, '.');
        b64_nopad(&tok, mac, maclen);
    } else {
        buf_putc(&tok, '.');
    }
    return tok.data;
}

#endif
