/* test_cidr: METRICS_ALLOW entries, IPv4 and IPv6 prefixes, mapped addresses. */
#include "cidr.h"
#include "harness.h"

static void test_check(void)
{
    char why[128];
    CHECK(cidr_list_check("", why, sizeof why) == 0, "empty list is valid (allows nobody)");
    CHECK(cidr_list_check("127.0.0.0/8, ::1", why, sizeof why) == 0, "default");
    CHECK(cidr_list_check("10.1.2.3,192.168.0.0/16,fd00::/8,::/0,0.0.0.0/0", why, sizeof why) == 0, "mixed");
    const char *bad[] = { "10.0.0.0/33", "::1/129", "10.0.0.0/", "10.0.0.0/8x", "10.0.0", "host.example",
                          "10.0.0.0/8,,::1", "10.0.0.0/-1", " , ", "127.0.0.1,", " " };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        CHECK(cidr_list_check(bad[i], why, sizeof why) < 0, "%s refused", bad[i]);
        CHECK(strstr(why, "bad entry") != NULL, "why says so: %s", why);
    }
}

static void test_match(void)
{
    const char *def = "127.0.0.0/8, ::1";
    CHECK(cidr_list_match(def, "127.0.0.1"), "loopback v4");
    CHECK(cidr_list_match(def, "127.255.1.2"), "all of 127/8");
    CHECK(cidr_list_match(def, "::1"), "loopback v6");
    CHECK(cidr_list_match(def, "::ffff:127.0.0.1"), "v4-mapped loopback");
    CHECK(!cidr_list_match(def, "128.0.0.1"), "outside 127/8");
    CHECK(!cidr_list_match(def, "::2"), "::2 is not ::1");
    CHECK(!cidr_list_match(def, "10.0.0.1"), "private address");
    CHECK(!cidr_list_match(def, "unknown"), "not an address");
    CHECK(!cidr_list_match(def, NULL), "no address");
    CHECK(!cidr_list_match("", "127.0.0.1"), "empty list allows nobody");
    CHECK(cidr_list_match("10.20.0.0/14", "10.23.255.255"), "odd prefix, inside");
    CHECK(!cidr_list_match("10.20.0.0/14", "10.24.0.0"), "odd prefix, just outside");
    CHECK(cidr_list_match("2001:db8::/32", "2001:db8:ffff::1"), "v6 prefix");
    CHECK(!cidr_list_match("2001:db8::/32", "2001:db9::1"), "v6 prefix, outside");
    CHECK(cidr_list_match("0.0.0.0/0", "203.0.113.9"), "v4 any");
    CHECK(!cidr_list_match("0.0.0.0/0", "2001:db8::1"), "v4 any is not v6");
    CHECK(cidr_list_match("bogus, 192.0.2.7", "192.0.2.7"), "a bad entry does not hide the good ones");
}

int main(void)
{
    test_check();
    test_match();
    return test_report("cidr");
}
