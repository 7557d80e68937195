/* test_wsreq: a WebSocket request's route, and the one decision on it
 * (admit: path, token, sites, WS_VIEWER_AUTH, Redis away) that
 * authorize.fcgi and ws-admit share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "harness.h"
#include "log.h"
#include "mint.h"
#include "admit.h"
#include "wsreq.h"

#define SECRET "wsreq-secret"

static char *token(const char *subject, long exp_offset, const char *extra)
{
    char payload[512];
    snprintf(payload, sizeof payload, "{\"subject\": %s, \"exp\": %ld%s}", subject, (long)time(NULL) + exp_offset,
             extra);
    return mint_raw("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, EVP_sha256(), SECRET);
}

/* One decision on uri for the endpoint the route table names. */
static enum admit_verdict judge(const config *cfg, store *s, const char *uri, const char *auth, char *why,
                                size_t whylen)
{
    const wsreq_endpoint *ep = wsreq_route(uri);
    wsreq r;
    if (!ep) {
        snprintf(why, whylen, "no route");
        return ADMIT_BAD_PATH;
    }
    wsreq_init(&r, NULL, "127.0.0.1");
    enum admit_verdict v = admit_judge(&r, uri, auth, ep, cfg, s, why, whylen);
    wsreq_free(&r);
    return v;
}

static void test_route(void)
{
    CHECK(wsreq_route("/ws/labels/a") && wsreq_route("/ws/labels/a")->nparams == 1, "labels");
    CHECK(wsreq_route("/ws/stream/a/b?token=x") && wsreq_route("/ws/stream/a/b")->nparams == 2, "stream");
    CHECK(wsreq_route("/ws/frames") && !wsreq_route("/ws/frames")->viewer, "frames");
    CHECK(wsreq_route("/ws/frames?token=x") != NULL, "frames with a query");
    CHECK(wsreq_route("/ws/labels/") != NULL, "labels without a label: routed, refused by the path rules");
    CHECK(!wsreq_route("/ws/framesx") && !wsreq_route("/ws/frames/x") && !wsreq_route("/ws/other") &&
          !wsreq_route("/labels") && !wsreq_route(""), "unknown URLs have no route");
}

static void test_tokens(const config *cfg, store *s)
{
    char why[300], uri[1024], auth[1024];
    char *admin = token("{\"username\": \"a\", \"role\": \"admin\"}", 600, "");
    char *expired = token("{\"username\": \"a\", \"role\": \"admin\"}", -1, "");
    char *refresh = token("{\"username\": \"a\", \"role\": \"admin\"}", 600, ", \"type\": \"refresh\"");
    char *nobody = token("{\"role\": \"admin\"}", 600, "");
    char *future = token("{\"username\": \"a\", \"role\": \"admin\"}", 600, ", \"nbf\": 9999999999");
    char *wrong = mint_raw("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"username\": \"a\", \"exp\": 9999999999}",
                           EVP_sha256(), "not the secret");
    char *hs512 = mint_raw("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", "{\"username\": \"a\", \"exp\": 9999999999}",
                           EVP_sha512(), SECRET);
    char *none = mint_raw("{\"alg\":\"none\",\"typ\":\"JWT\"}", "{\"username\": \"a\", \"exp\": 9999999999}", NULL, "");

    CHECK(judge(cfg, s, "/ws/frames", NULL, why, sizeof why) == ADMIT_REFUSED, "frames without a token");
    CHECK_STR(why, "Not authenticated");
    snprintf(auth, sizeof auth, "Bearer %s", admin);
    CHECK(judge(cfg, s, "/ws/frames", auth, why, sizeof why) == ADMIT_OK, "Authorization header: %s", why);
    snprintf(uri, sizeof uri, "/ws/frames?x=1&token=%s", admin);
    CHECK(judge(cfg, s, uri, NULL, why, sizeof why) == ADMIT_OK, "?token=: %s", why);
    CHECK(judge(cfg, s, "/ws/frames?token=bad", auth, why, sizeof why) == ADMIT_OK, "the header wins over the query");
    const char *bad[] = { expired, refresh, nobody, future, wrong, hs512, none, "garbage" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(uri, sizeof uri, "/ws/stream/a/b?token=%s", bad[i]);
        CHECK(judge(cfg, s, uri, NULL, why, sizeof why) == ADMIT_REFUSED && why[0], "bad token %zu refused", i);
        snprintf(auth, sizeof auth, "Bearer %s", bad[i]);
        CHECK(judge(cfg, s, "/ws/frames", auth, why, sizeof why) == ADMIT_REFUSED, "bad token %zu in the header", i);
    }
    free(admin);
    free(expired);
    free(refresh);
    free(nobody);
    free(future);
    free(wrong);
    free(hs512);
    free(none);
}

static void test_paths_and_sites(const config *cfg, store *s)
{
    char why[300], uri[1024];
    char *viewer = token("{\"username\": \"v\", \"role\": \"viewer\", \"sites\": [\"site A\"]}", 600, "");
    snprintf(uri, sizeof uri, "/ws/labels/site%%20A?token=%s", viewer);
    CHECK(judge(cfg, s, uri, NULL, why, sizeof why) == ADMIT_OK, "a label of the viewer's sites: %s", why);
    snprintf(uri, sizeof uri, "/ws/stream/other/cam?token=%s", viewer);
    CHECK(judge(cfg, s, uri, NULL, why, sizeof why) == ADMIT_REFUSED, "a label outside them");
    CHECK_STR(why, "No keys found for label 'other'");
    snprintf(uri, sizeof uri, "/ws/labels/a%%2Fb?token=%s", viewer);
    CHECK(judge(cfg, s, uri, NULL, why, sizeof why) == ADMIT_BAD_PATH, "an encoded slash");
    CHECK_STR(why, "Invalid label: must not contain '/'");
    CHECK(judge(cfg, s, "/ws/stream/a", NULL, why, sizeof why) == ADMIT_BAD_PATH, "/ws/stream without a key");
    CHECK(judge(cfg, s, "/ws/labels/%FF", NULL, why, sizeof why) == ADMIT_BAD_PATH, "not UTF-8");
    free(viewer);
}

/* WS_VIEWER_AUTH=false: viewers need no token, but one presented is judged; uploads still need one. */
static void test_public_viewers(config cfg, store *s)
{
    char why[300];
    cfg.ws_viewer_auth = false;
    CHECK(judge(&cfg, s, "/ws/labels/a", NULL, why, sizeof why) == ADMIT_OK, "public /ws/labels");
    CHECK(judge(&cfg, s, "/ws/stream/a/b", NULL, why, sizeof why) == ADMIT_OK, "public /ws/stream");
    CHECK(judge(&cfg, s, "/ws/labels/a?token=bad", NULL, why, sizeof why) == ADMIT_REFUSED, "a bad token presented");
    CHECK(judge(&cfg, s, "/ws/frames", NULL, why, sizeof why) == ADMIT_REFUSED, "uploads still need a token");
}

/* JWT_REQUIRE_ACTIVE_JTI with Redis away: unavailable (503), not refused (401). */
static void test_redis_away(config cfg)
{
    char why[300], auth[1024];
    store *away = store_new("redis://127.0.0.1:1/0", 200);
    char *tok = token("{\"username\": \"a\", \"role\": \"admin\", \"jti\": \"j\"}", 600, ", \"jti\": \"j\"");
    cfg.jwt_require_active_jti = true;
    snprintf(auth, sizeof auth, "Bearer %s", tok);
    CHECK(judge(&cfg, away, "/ws/frames", auth, why, sizeof why) == ADMIT_UNAVAILABLE, "Redis away: %s", why);
    CHECK(strncmp(why, "Failed to verify token", 22) == 0, "why: %s", why);
    free(tok);
    store_free(away);
}

int main(void)
{
    config cfg;
    char err[CONFIG_ERR_LEN];
    setenv("JWT_SECRET_KEY", SECRET, 1);
    if (config_load(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    log_threshold = LOG_LVL_ERROR;     /* refusals are logged at info: expected here */
    store *s = store_new("redis://127.0.0.1:1/0", 200); /* never asked without the jti check */
    test_route();
    test_tokens(&cfg, s);
    test_paths_and_sites(&cfg, s);
    test_public_viewers(cfg, s);
    test_redis_away(cfg);
    store_free(s);
    return test_report("wsreq");
}
