/* test_auth: JWT verification against tokens minted here with OpenSSL's HMAC,
 * in the exact shape of the Python auth service, and every trick API §2 refuses. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "buf.h"
#include "codec.h"
#include "harness.h"
#include "mint.h"

#define SECRET "test-secret-0123456789"
#define NOW ((time_t)1700000000)

/* ---- minting ---- */

static char *mint_hs256(const char *payload)
{
    return mint_raw("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, EVP_sha256(), SECRET);
}

/* The payload of the Python auth service, with exp and iat around NOW. */
static char *python_payload(long exp_offset)
{
    buf p;
    buf_init(&p);
    buf_printf(&p,
               "{\"subject\": {\"username\": \"u\", \"role\": \"admin\", \"jti\": \"x\"}, "
               "\"type\": \"access\", \"exp\": %ld, \"iat\": %ld, \"jti\": \"x\"}",
               (long)NOW + exp_offset, (long)NOW);
    return p.data;
}

/* ---- verifying ---- */

typedef struct result {
    int rc;
    char err[160];
    auth_identity id;
} result;

static result verify_alg(const char *token, const char *alg)
{
    result r;
    memset(&r, 0, sizeof r);
    r.rc = auth_verify(SECRET, alg, token, NOW, &r.id, r.err, sizeof r.err);
    return r;
}

static result verify(const char *token)
{
    return verify_alg(token, "HS256");
}

/* Expects token accepted; returns the identity (release with auth_identity_free). */
static auth_identity accepted(const char *what, const char *token)
{
    result r = verify(token);
    CHECK(r.rc == 0, "%s: rejected: %s", what, r.err);
    return r.id;
}

/* Expects token rejected with a reason containing want (case-sensitive). */
static void rejected_alg(const char *what, const char *token, const char *alg, const char *want)
{
    result r = verify_alg(token, alg);
    CHECK(r.rc == -1, "%s: accepted", what);
    CHECK(r.err[0] && strstr(r.err, want) != NULL, "%s: reason \"%s\", want \"%s\"", what, r.err, want);
    if (r.rc == 0)
        auth_identity_free(&r.id);
}

static void rejected(const char *what, const char *token, const char *want)
{
    rejected_alg(what, token, "HS256", want);
}

static void accept_payload(const char *what, const char *payload)
{
    char *tok = mint_hs256(payload);
    auth_identity id = accepted(what, tok);
    auth_identity_free(&id);
    free(tok);
}

static void reject_payload(const char *what, const char *payload, const char *want)
{
    char *tok = mint_hs256(payload);
    rejected(what, tok, want);
    free(tok);
}

/* ---- identity ---- */

static void test_python_service_token(void)
{
    char *payload = python_payload(600);
    char *tok = mint_hs256(payload);
    auth_identity id = accepted("python token", tok);
    CHECK_STR(id.username, "u");
    CHECK_STR(id.role, "admin");
    CHECK_STR(id.jti, "x");
    CHECK(id.admin, "role admin is not admin");
    auth_identity_free(&id);
    free(tok);
    free(payload);
}

static void test_username_top_level(void)
{
    char *tok = mint_hs256("{\"username\": \"top\", \"role\": \"user\", \"exp\": 1700000600}");
    auth_identity id = accepted("top-level username", tok);
    CHECK_STR(id.username, "top");
    CHECK_STR(id.role, "user");
    CHECK(!id.admin, "role user is admin");
    auth_identity_free(&id);
    free(tok);
}

static void test_subject_username_preferred(void)
{
    char *tok = mint_hs256("{\"subject\": {\"username\": \"sub\"}, \"username\": \"top\", \"exp\": 1700000600}");
    auth_identity id = accepted("both usernames", tok);
    CHECK_STR(id.username, "sub");
    auth_identity_free(&id);
    free(tok);
}

static void test_no_username_rejected(void)
{
    reject_payload("no username", "{\"subject\": {\"role\": \"admin\"}, \"type\": \"access\", \"exp\": 1700000600}",
                   "username");
    reject_payload("empty username", "{\"subject\": {\"username\": \"\"}, \"exp\": 1700000600}", "username");
    reject_payload("numeric username", "{\"username\": 7, \"exp\": 1700000600}", "username");
    reject_payload("subject not an object", "{\"subject\": \"u\", \"exp\": 1700000600}", "username");
}

static void test_role_absent_not_admin(void)
{
    char *tok = mint_hs256("{\"subject\": {\"username\": \"u\"}, \"exp\": 1700000600}");
    auth_identity id = accepted("no role", tok);
    CHECK(!id.admin, "no role is admin");
    CHECK(id.role && strcmp(id.role, "admin") != 0, "role \"%s\"", id.role ? id.role : "(null)");
    CHECK(!auth_may_view(&id, "site A"), "no role and no sites sees a label");
    auth_identity_free(&id);
    free(tok);
}

static void test_jti_sources(void)
{
    char *tok = mint_hs256("{\"subject\": {\"username\": \"u\", \"jti\": \"s\"}, \"exp\": 1700000600}");
    auth_identity id = accepted("subject jti", tok);
    CHECK_STR(id.jti, "s");
    auth_identity_free(&id);
    free(tok);
    tok = mint_hs256("{\"subject\": {\"username\": \"u\"}, \"exp\": 1700000600}");
    id = accepted("no jti", tok);
    CHECK(id.jti == NULL, "jti \"%s\" from nowhere", id.jti);
    auth_identity_free(&id);
    free(tok);
}

/* ---- signature and algorithm ---- */

static void test_alg_none_rejected(void)
{
    char *payload = python_payload(600);
    char *tok = mint_raw("{\"alg\":\"none\",\"typ\":\"JWT\"}", payload, NULL, "");
    rejected("alg none, empty signature", tok, "Invalid token");
    free(tok);
    tok = mint_raw("{\"alg\":\"none\"}", payload, NULL, "");
    rejected("alg none without typ", tok, "Invalid token");
    free(tok);
    tok = mint_raw("{\"alg\":\"none\",\"typ\":\"JWT\"}", payload, EVP_sha256(), SECRET);
    rejected("alg none with an HS256 signature", tok, "Invalid token");
    free(tok);
    free(payload);
}

/* A correctly signed HS512 token: accepted when HS512 is configured (so the
 * signature is right), refused when HS256 is. */
static void test_other_hs_alg_rejected(void)
{
    char *payload = python_payload(600);
    char *tok = mint_raw("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", payload, EVP_sha512(), SECRET);
    rejected("HS512 token, HS256 configured", tok, "Invalid token");
    result r = verify_alg(tok, "HS512");
    CHECK(r.rc == 0, "HS512 token, HS512 configured: %s", r.err);
    if (r.rc == 0)
        auth_identity_free(&r.id);
    free(tok);
    tok = mint_raw("{\"alg\":\"HS384\",\"typ\":\"JWT\"}", payload, EVP_sha384(), SECRET);
    rejected("HS384 token, HS256 configured", tok, "Invalid token");
    free(tok);
    tok = mint_hs256(payload);
    rejected_alg("HS256 token, HS512 configured", tok, "HS512", "Invalid token");
    free(tok);
    free(payload);
}

static void test_wrong_secret_rejected(void)
{
    char *payload = python_payload(600);
    char *tok = mint_raw("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, EVP_sha256(), SECRET "x");
    rejected("wrong secret", tok, "Invalid token");
    free(tok);
    tok = mint_raw("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, EVP_sha256(), "");
    rejected("empty secret", tok, "Invalid token");
    free(tok);
    free(payload);
}

/* A signature of one payload attached to another. */
static void test_tampered_payload_rejected(void)
{
    char *good = mint_hs256("{\"username\": \"u\", \"role\": \"user\", \"exp\": 1700000600}");
    char *evil = mint_hs256("{\"username\": \"u\", \"role\": \"admin\", \"exp\": 1700000600}");
    buf t;
    buf_init(&t);
    const char *evil_sig = strrchr(evil, '.');
    buf_append(&t, good, (size_t)(strrchr(good, '.') - good));
    buf_puts(&t, evil_sig);
    /* t = good header.payload + the signature of evil */
    rejected("mismatched signature", t.data, "Invalid token");
    buf_reset(&t);
    buf_append(&t, good, (size_t)(strrchr(good, '.') - good));
    buf_puts(&t, ".");
    rejected("signature stripped", t.data, "Invalid token");
    buf_free(&t);
    free(good);
    free(evil);
}

static void test_rs256_rejected(void)
{
    char *payload = python_payload(600);
    char *tok = mint_raw("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", payload, EVP_sha256(), SECRET);
    rejected("RS256 header, HMAC signature", tok, "Invalid token");
    free(tok);
    tok = mint_raw("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", payload, NULL, "");
    rejected("RS256 header, no signature", tok, "Invalid token");
    free(tok);
    tok = mint_raw("{\"typ\":\"JWT\"}", payload, EVP_sha256(), SECRET);
    rejected("no alg", tok, "Invalid token");
    free(tok);
    free(payload);
}

/* ---- times ---- */

static void test_expired_rejected(void)
{
    char *p = python_payload(-1);
    reject_payload("exp = now - 1", p, "expired");
    free(p);
    p = python_payload(0);
    reject_payload("exp = now", p, "expired");
    free(p);
    p = python_payload(1);
    accept_payload("exp = now + 1", p);
    free(p);
}

static void test_exp_missing_or_not_a_number(void)
{
    reject_payload("no exp", "{\"username\": \"u\", \"type\": \"access\"}", "exp");
    reject_payload("exp string", "{\"username\": \"u\", \"exp\": \"1700000600\"}", "exp");
    reject_payload("exp null", "{\"username\": \"u\", \"exp\": null}", "exp");
    reject_payload("exp bool", "{\"username\": \"u\", \"exp\": true}", "exp");
    accept_payload("exp fractional", "{\"username\": \"u\", \"exp\": 1700000600.5}");
}

static void test_nbf(void)
{
    reject_payload("nbf in the future", "{\"username\": \"u\", \"exp\": 1700000600, \"nbf\": 1700000060}",
                   "not yet valid");
    accept_payload("nbf in the past", "{\"username\": \"u\", \"exp\": 1700000600, \"nbf\": 1699999940}");
    accept_payload("nbf = now", "{\"username\": \"u\", \"exp\": 1700000600, \"nbf\": 1700000000}");
    reject_payload("nbf string", "{\"username\": \"u\", \"exp\": 1700000600, \"nbf\": \"0\"}", "nbf");
    reject_payload("nbf null", "{\"username\": \"u\", \"exp\": 1700000600, \"nbf\": null}", "nbf");
}

/* ---- the last verified token, remembered ---- */

static void test_remembered_token_rechecks_time(void)
{
    char *payload = python_payload(10), *tok = mint_hs256(payload);
    free(payload);
    auth_identity id = accepted("fresh", tok);
    auth_identity_free(&id);
    char err[160] = "";
    int rc = auth_verify(SECRET, "HS256", tok, NOW + 9, &id, err, sizeof err);
    CHECK(rc == 0, "again before exp: rejected: %s", err);
    if (rc == 0)
        auth_identity_free(&id);
    rc = auth_verify(SECRET, "HS256", tok, NOW + 10, &id, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "expired"), "again at exp: rc %d, reason \"%s\"", rc, err);
    free(tok);
}

static void test_remembered_token_keyed_by_secret_and_alg(void)
{
    char *tok = mint_hs256("{\"subject\": {\"username\": \"cam\", \"role\": \"user\", \"sites\": [\"a\", \"b\"]}, "
                           "\"jti\": \"j1\", \"exp\": 1700000600}");
    auth_identity first = accepted("first", tok);
    auth_identity_free(&first);
    char err[160] = "";
    auth_identity id;
    int rc = auth_verify("another-secret", "HS256", tok, NOW, &id, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "Invalid token"), "other secret: rc %d, reason \"%s\"", rc, err);
    rejected_alg("other algorithm", tok, "HS512", "algorithm not allowed");
    auth_identity again = accepted("again", tok);
    CHECK(strcmp(again.username, "cam") == 0 && strcmp(again.role, "user") == 0 && !again.admin,
          "identity: %s/%s", again.username, again.role);
    CHECK(again.jti && strcmp(again.jti, "j1") == 0, "jti: %s", again.jti ? again.jti : "(none)");
    CHECK(again.nsites == 2 && strcmp(again.sites[0], "a") == 0 && strcmp(again.sites[1], "b") == 0,
          "sites: %zu", again.nsites);
    auth_identity_free(&again);
    /* One byte of the signature changed: checked afresh, and refused. */
    tok[strlen(tok) - 2] = tok[strlen(tok) - 2] == 'A' ? 'B' : 'A';
    rejected("tampered signature", tok, "Invalid token");
    free(tok);
}

/* ---- token type ---- */

static void test_type(void)
{
    reject_payload("refresh token",
                   "{\"subject\": {\"username\": \"u\"}, \"type\": \"refresh\", \"exp\": 1700000600}",
                   "access");
    reject_payload("type ACCESS", "{\"username\": \"u\", \"type\": \"ACCESS\", \"exp\": 1700000600}", "access");
    reject_payload("type number", "{\"username\": \"u\", \"type\": 1, \"exp\": 1700000600}", "access");
    reject_payload("type null", "{\"username\": \"u\", \"type\": null, \"exp\": 1700000600}", "access");
    accept_payload("type absent", "{\"username\": \"u\", \"exp\": 1700000600}");
    accept_payload("type access", "{\"username\": \"u\", \"type\": \"access\", \"exp\": 1700000600}");
}

/* ---- malformed ---- */

static void test_garbage_rejected(void)
{
    const char *bad[] = {
        "", "abc", "a.b", "a.b.c", "a.b.c.d", "...", "..", ".", "!!!.@@@.###",
        "eyJhbGciOiJIUzI1NiJ9.not base64.sig", "eyJhbGciOiJIUzI1NiJ9..", "\xff\xfe.\x80.\x01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        result r = verify(bad[i]);
        CHECK(r.rc == -1, "garbage \"%s\" accepted", bad[i]);
        CHECK(r.err[0] != '\0', "garbage \"%s\": no reason", bad[i]);
        if (r.rc == 0)
            auth_identity_free(&r.id);
    }
    result r = verify(NULL);
    CHECK(r.rc == -1 && r.err[0], "NULL token accepted");
}

static void test_three_dots_with_valid_parts_rejected(void)
{
    char *tok = mint_hs256("{\"username\": \"u\", \"exp\": 1700000600}");
    buf t;
    buf_init(&t);
    buf_printf(&t, "%s.", tok);
    rejected("valid token plus a dot", t.data, "Invalid token");
    buf_reset(&t);
    buf_printf(&t, "%s.%s", tok, strrchr(tok, '.') + 1);
    rejected("valid token plus a fourth part", t.data, "Invalid token");
    buf_free(&t);
    free(tok);
}

/* Empty parts of an otherwise good token (libjwt 1.10 mishandles them: run under valgrind). */
static void test_empty_parts_rejected(void)
{
    char *tok = mint_hs256("{\"username\": \"u\", \"exp\": 1700000600}");
    const char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
    buf t;
    buf_init(&t);
    buf_printf(&t, "%.*s..%s", (int)(d1 - tok), tok, d2 + 1);
    rejected("empty payload part", t.data, "Invalid token");
    buf_reset(&t);
    buf_printf(&t, "%s", d1);
    rejected("empty header part", t.data, "Invalid token");
    buf_reset(&t);
    buf_printf(&t, "%.*s.", (int)(d2 - tok), tok);
    rejected("empty signature part", t.data, "Invalid token");
    buf_reset(&t);
    buf_printf(&t, "%.*s..%s", (int)(d2 - tok), tok, d2 + 1);
    rejected("extra empty part", t.data, "Invalid token");
    buf_reset(&t);
    buf_printf(&t, " %s", tok);
    rejected("leading blank", t.data, "Invalid token");
    buf_reset(&t);
    buf_printf(&t, "%s\n", tok);
    rejected("trailing newline", t.data, "Invalid token");
    buf_free(&t);
    accept_payload("the same token, whole", "{\"username\": \"u\", \"exp\": 1700000600}");
    free(tok);
}

static void test_huge_token_rejected(void)
{
    buf t;
    buf_init(&t);
    buf_puts(&t, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.");
    for (int i = 0; i < 100 * 1024; i++)
        buf_putc(&t, (char)('A' + i % 26));
    buf_puts(&t, ".c2lnbmF0dXJl");
    rejected("100 KB token", t.data, "Invalid token");
    /* and a huge but correctly signed one is still just a token */
    buf_reset(&t);
    buf_puts(&t, "{\"username\": \"u\", \"exp\": 1700000600, \"pad\": \"");
    for (int i = 0; i < 100 * 1024; i++)
        buf_putc(&t, 'p');
    buf_puts(&t, "\"}");
    accept_payload("100 KB payload, signed", t.data);
    buf_free(&t);
}

static void test_payload_not_object_rejected(void)
{
    reject_payload("payload array", "[\"username\", \"u\"]", "Invalid token");
    reject_payload("payload string", "\"u\"", "Invalid token");
    reject_payload("payload not JSON", "{username: u", "Invalid token");
    char *tok = mint_raw("not json", "{\"username\": \"u\", \"exp\": 1700000600}", EVP_sha256(), SECRET);
    rejected("header not JSON", tok, "Invalid token");
    free(tok);
}

/* ---- sites ---- */

static auth_identity identity_for(const char *payload)
{
    char *tok = mint_hs256(payload);
    result r = verify(tok);
    CHECK(r.rc == 0, "\"%s\" rejected: %s", payload, r.err);
    free(tok);
    return r.id;
}

static void test_sites_listed(void)
{
    auth_identity id = identity_for("{\"subject\": {\"username\": \"u\", \"role\": \"viewer\", "
                                    "\"sites\": [\"site A\", \"工地\"]}, \"exp\": 1700000600}");
    CHECK(auth_may_view(&id, "site A"), "listed site A refused");
    CHECK(auth_may_view(&id, "工地"), "listed 工地 refused");
    CHECK(!auth_may_view(&id, "site B"), "unlisted site B allowed");
    CHECK(!auth_may_view(&id, "site a"), "site a (case differs) allowed");
    CHECK(!auth_may_view(&id, "site"), "prefix of a site allowed");
    CHECK(!auth_may_view(&id, ""), "empty label allowed");
    auth_identity_free(&id);
}

static void test_admin_sees_all(void)
{
    auth_identity id = identity_for("{\"subject\": {\"username\": \"u\", \"role\": \"admin\"}, \"exp\": 1700000600}");
    CHECK(auth_may_view(&id, "site A"), "admin refused site A");
    CHECK(auth_may_view(&id, "anything at all"), "admin refused a label");
    auth_identity_free(&id);
}

static void test_sites_non_strings_ignored(void)
{
    auth_identity id = identity_for("{\"subject\": {\"username\": \"u\", \"role\": \"user\", "
                                    "\"sites\": [\"a\", 5, null, {\"b\": 1}, [\"c\"], true, \"d\"]}, "
                                    "\"exp\": 1700000600}");
    CHECK(auth_may_view(&id, "a"), "a refused");
    CHECK(auth_may_view(&id, "d"), "d refused");
    CHECK(!auth_may_view(&id, "5"), "number 5 counted as a site");
    CHECK(!auth_may_view(&id, "c"), "nested array counted as a site");
    CHECK(!auth_may_view(&id, "b"), "object counted as a site");
    CHECK(!auth_may_view(&id, "null") && !auth_may_view(&id, "true"), "literal counted as a site");
    auth_identity_free(&id);
}

static void test_sites_absent_sees_nothing(void)
{
    auth_identity id = identity_for("{\"subject\": {\"username\": \"u\", \"role\": \"user\"}, \"exp\": 1700000600}");
    CHECK(!auth_may_view(&id, "site A"), "no sites, yet site A allowed");
    CHECK(!auth_may_view(&id, ""), "no sites, yet empty label allowed");
    auth_identity_free(&id);
    id = identity_for("{\"subject\": {\"username\": \"u\", \"role\": \"user\", \"sites\": \"site A\"}, "
                      "\"exp\": 1700000600}");
    CHECK(!auth_may_view(&id, "site A"), "sites as a string, not an array, allowed site A");
    auth_identity_free(&id);
    id = identity_for("{\"subject\": {\"username\": \"u\", \"role\": \"user\", \"sites\": []}, \"exp\": 1700000600}");
    CHECK(!auth_may_view(&id, "site A"), "empty sites allowed site A");
    auth_identity_free(&id);
}

/* ---- Authorization header ---- */

/* ---- revocation list ---- */

static void test_jti_listed(void)
{
    const char *cache = "{\"jti_list\": [\"a\", \"b\"], \"other\": 1}";
    CHECK(auth_jti_listed(cache, "b"), "listed jti b not found");
    CHECK(auth_jti_listed(cache, "a"), "listed jti a not found");
    CHECK(!auth_jti_listed(cache, "c"), "unlisted jti c found");
    CHECK(!auth_jti_listed(cache, ""), "empty jti found");
    CHECK(!auth_jti_listed("{\"jti_list\": [\"a\"", "a"), "malformed JSON: found");
    CHECK(!auth_jti_listed("not json", "a"), "not JSON: found");
    CHECK(!auth_jti_listed("{\"jti_list\": \"a\"}", "a"), "jti_list a string: found");
    CHECK(!auth_jti_listed("{\"jti_list\": {\"a\": 1}}", "a"), "jti_list an object: found");
    CHECK(!auth_jti_listed("[\"a\"]", "a"), "top-level array: found");
    CHECK(!auth_jti_listed("{\"jti_list\": [5]}", "5"), "number 5 matched \"5\"");
    CHECK(!auth_jti_listed("{}", "a"), "no jti_list: found");
    CHECK(!auth_jti_listed(cache, NULL), "NULL jti found");
    CHECK(!auth_jti_listed(NULL, "a"), "NULL cache: found");
}

int main(void)
{
    test_python_service_token();
    test_username_top_level();
    test_subject_username_preferred();
    test_no_username_rejected();
    test_role_absent_not_admin();
    test_jti_sources();

    test_alg_none_rejected();
    test_other_hs_alg_rejected();
    test_wrong_secret_rejected();
    test_tampered_payload_rejected();
    test_rs256_rejected();

    test_expired_rejected();
    test_exp_missing_or_not_a_number();
    test_nbf();
    test_type();
    test_remembered_token_rechecks_time();
    test_remembered_token_keyed_by_secret_and_alg();

    test_garbage_rejected();
    test_three_dots_with_valid_parts_rejected();
    test_empty_parts_rejected();
    test_huge_token_rejected();
    test_payload_not_object_rejected();

    test_sites_listed();
    test_admin_sees_all();
    test_sites_non_strings_ignored();
    test_sites_absent_sees_nothing();

    test_jti_listed();
    return test_report("auth");
}
