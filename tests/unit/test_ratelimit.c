/* test_ratelimit: who a request counts against (API §3: X-Real-IP
 * only from a trusted proxy) and the comma-list matching behind it. */
#include <string.h>

#include "harness.h"
#include "ratelimit.h"
#include "strlist.h"

static void test_client_untrusted_peer(void)
{
    config cfg;
    memset(&cfg, 0, sizeof cfg);
    CHECK_STR(ratelimit_client(&cfg, "10.0.0.5", "203.0.113.9"), "10.0.0.5");
    CHECK_STR(ratelimit_client(&cfg, "10.0.0.5", NULL), "10.0.0.5");
    CHECK_STR(ratelimit_client(&cfg, NULL, "203.0.113.9"), "unknown");
}

static void test_client_trusted_proxy(void)
{
    config cfg;
    memset(&cfg, 0, sizeof cfg);
    strcpy(cfg.trusted_proxies, "192.0.2.1, 10.0.0.5");
    CHECK_STR(ratelimit_client(&cfg, "10.0.0.5", "203.0.113.9"), "203.0.113.9");
    CHECK_STR(ratelimit_client(&cfg, "192.0.2.1", "198.51.100.7"), "198.51.100.7");
    CHECK_STR(ratelimit_client(&cfg, "10.0.0.5", ""), "10.0.0.5");
    CHECK_STR(ratelimit_client(&cfg, "10.0.0.50", "203.0.113.9"), "10.0.0.50");
    char huge[100];
    memset(huge, 'x', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    CHECK_STR(ratelimit_client(&cfg, "10.0.0.5", huge), "10.0.0.5");
}

static void test_csv_contains(void)
{
    CHECK(csv_contains("a,b , c", "b"), "middle entry with blanks");
    CHECK(csv_contains("a,b , c", "c"), "last entry after a blank");
    CHECK(!csv_contains("a,b , c", "b "), "blanks are not part of an entry");
    CHECK(!csv_contains("https://dash.example", "https://dash.example.evil"), "prefix is not a match");
    CHECK(!csv_contains("https://dash.example.evil", "https://dash.example"), "longer entry is not a match");
    CHECK(!csv_contains("", ""), "empty list holds nothing");
}

int main(void)
{
    test_client_untrusted_peer();
    test_client_trusted_proxy();
    test_csv_contains();
    return test_report("ratelimit");
}
