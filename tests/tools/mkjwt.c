/* mkjwt: mints JWTs for tests and for `make run`'s development token, including
 * deliberately wrong ones (alg none, other algorithms), with OpenSSL's HMAC. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "codec.h"

static void usage(void)
{
    fprintf(stderr, "usage: mkjwt -s SECRET [-a HS256|HS384|HS512|none] [-h HEADER_JSON] PAYLOAD_JSON\n");
    exit(2);
}

static const EVP_MD *digest_for(const char *alg)
{
    if (strcmp(alg, "HS256") == 0)
        return EVP_sha256();
    if (strcmp(alg, "HS384") == 0)
        return EVP_sha384();
    return strcmp(alg, "HS512") == 0 ? EVP_sha512() : NULL;
}

/* JWTs use base64url without padding (RFC 7515 §2). */
static void b64_nopad(buf *out, const void *p, size_t n)
{
    b64url_encode(out, p, n);
    while (out->len && out->data[out->len - 1] == '=')
        out->data[--out->len] = '\0';
}

int main(int argc, char **argv)
{
    const char *secret = NULL, *alg = "HS256", *header = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "s:a:h:")) != -1) {
        if (opt == 's')
            secret = optarg;
        else if (opt == 'a')
            alg = optarg;
        else if (opt == 'h')
            header = optarg;
        else
            usage();
    }
    if (optind != argc - 1 || (!secret && strcmp(alg, "none") != 0))
        usage();
    buf hdr, tok;
    buf_init(&hdr);
    buf_init(&tok);
    if (header)
        buf_puts(&hdr, header);
    else
        buf_printf(&hdr, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
    b64_nopad(&tok, hdr.data, hdr.len);
    buf_putc(&tok, '.');
    b64_nopad(&tok, argv[optind], strlen(argv[optind]));
    buf_putc(&tok, '.');
    const EVP_MD *md = digest_for(alg);
    if (md) {
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int maclen = 0;
        HMAC(md, secret, (int)strlen(secret), (const unsigned char *)tok.data, tok.len - 1, mac, &maclen);
        b64_nopad(&tok, mac, maclen);
    } else if (strcmp(alg, "none") != 0) {
        fprintf(stderr, "mkjwt: unsupported algorithm %s\n", alg);
        return 2;
    }
    puts(tok.data);
    buf_free(&hdr);
    buf_free(&tok);
    return 0;
}
