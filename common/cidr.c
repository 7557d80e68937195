/* cidr: parse "ADDR[/BITS]" entries with inet_pton and compare prefixes. */
#include "cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct net {
    unsigned char a[16]; /* IPv4 kept as its IPv4-mapped IPv6 form */
    int bits;            /* prefix length over the 128 bits */
} net;

static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* An address as 16 bytes; 0, or -1 if s is none. is_v4 tells the family. */
static int parse_addr(const char *s, unsigned char out[16], int *is_v4)
{
    unsigned char v4[4];
    if (inet_pton(AF_INET, s, v4) == 1) {
        memcpy(out, v4mapped, 12);
        memcpy(out + 12, v4, 4);
        *is_v4 = 1;
        return 0;
    }
    *is_v4 = 0;
    return inet_pton(AF_INET6, s, out) == 1 ? 0 : -1;
}

/* One entry, n bytes of text without surrounding blanks. */
static int parse_net(const char *s, size_t n, net *out)
{
    char text[64];
    if (n == 0 || n >= sizeof text)
        return -1;
    memcpy(text, s, n);
    text[n] = '\0';
    char *slash = strchr(text, '/');
    if (slash)
        *slash = '\0';
    int is_v4, max;
    if (parse_addr(text, out->a, &is_v4) < 0)
        return -1;
    max = is_v4 ? 32 : 128;
    out->bits = max;
    if (slash) {
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || b < 0 || b > max)
            return -1;
        out->bits = (int)b;
    }
    if (is_v4)
        out->bits += 96;
    return 0;
}

static bool in_net(const net *nw, const unsigned char a[16])
{
    int full = nw->bits / 8, rest = nw->bits % 8;
    if (memcmp(nw->a, a, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (nw->a[full] & mask) == (a[full] & mask);
}

/* Calls each entry's span in turn; stops at the first one fn returns nonzero for. */
static int each_entry(const char *list, int (*fn)(const char *s, size_t n, void *ud), void *ud)
{
    const char *p = list;
    if (!*p)
        return 0;
    for (;;) { /* every comma separates two entries: "a," has an empty second one */
        const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        int rc = fn(a, (size_t)(b - a), ud);
        if (rc)
            return rc;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

typedef struct check_ctx {
    char *why;
    size_t whylen;
} check_ctx;

static int check_one(const char *s, size_t n, void *ud)
{
    check_ctx *c = ud;
    net nw;
    if (parse_net(s, n, &nw) == 0)
        return 0;
    snprintf(c->why, c->whylen, "bad entry \"%.*s\" (expected ADDRESS or ADDRESS/BITS)", (int)(n > 64 ? 64 : n), s);
    return -1;
}

int cidr_list_check(const char *list, char *why, size_t whylen)
{
    check_ctx c = { why, whylen };
    return each_entry(list, check_one, &c) ? -1 : 0;
}

static int match_one(const char *s, size_t n, void *ud)
{
    net nw;
    return parse_net(s, n, &nw) == 0 && in_net(&nw, ud);
}

bool cidr_list_match(const char *list, const char *addr)
{
    unsigned char a[16];
    int is_v4;
    if (!addr || parse_addr(addr, a, &is_v4) < 0)
        return false;
    return each_entry(list, match_one, a) == 1;
}
