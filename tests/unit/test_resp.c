/* test_resp: the in-place RESP reader — whole replies only, at every split
 * point; views into the buffer; malformed input refused, never overrun. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "resp.h"

/* The shape of an XREAD reply: [[key, [[id, [field, value, ...]]]]] with a
 * value holding CR LF and NUL bytes, as frames do. */
static const char xread[] =
    "*1\r\n*2\r\n$9\r\nstream:ab\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*4\r\n"
    "$5\r\nframe\r\n$6\r\na\r\n\0bc\r\n$5\r\nwidth\r\n$0\r\n\r\n";

static void test_complete_only_when_whole(void)
{
    size_t total = sizeof xread - 1, need;
    for (size_t cut = 0; cut < total; cut++) {
        need = 0;
        long r = resp_complete(xread, cut, &need);
        CHECK(r == 0, "a reply cut at %zu is not complete (got %ld)", cut, r);
        CHECK(need > cut && need <= total, "need %zu after %zu of %zu bytes", need, cut, total);
    }
    CHECK(resp_complete(xread, total, NULL) == (long)total, "the whole reply is complete");
}

static void test_need_names_the_bulk_end(void)
{
    static const char big[] = "$100000\r\nabc";
    size_t need = 0;
    CHECK(resp_complete(big, sizeof big - 1, &need) == 0, "a bulk that has not all arrived");
    CHECK(need == 9 + 100000 + 2, "need covers the whole bulk and its CR LF (got %zu)", need);
}

static void test_read_views_in_place(void)
{
    char d[sizeof xread];
    memcpy(d, xread, sizeof xread);
    resp_tree t = { 0 };
    const resp_node *r = resp_read(&t, d, sizeof d - 1);
    CHECK(r && r->type == RESP_ARRAY && r->n == 1, "root is a one-item array");
    if (!r || r->n != 1)
        return;
    const resp_node *item = &r->child[0];
    CHECK(item->type == RESP_ARRAY && item->n == 2, "item is [key, entries]");
    CHECK_STR(item->child[0].str, "stream:ab");
    const resp_node *entry = &item->child[1].child[0];
    CHECK_STR(entry->child[0].str, "1-0");
    const resp_node *kv = &entry->child[1];
    CHECK(kv->n == 4, "two fields, two values");
    CHECK(kv->child[1].len == 6 && memcmp(kv->child[1].str, "a\r\n\0bc", 6) == 0, "binary value kept whole");
    CHECK(kv->child[1].str >= d && kv->child[1].str < d + sizeof d, "the value is a view into the buffer");
    CHECK(kv->child[3].type == RESP_STRING && kv->child[3].len == 0 && kv->child[3].str[0] == '\0',
          "empty string, NUL-terminated");
    resp_tree_free(&t);
}

static void test_scalars(void)
{
    char a[] = "+OK\r\n", b[] = "-ERR wrong type\r\n", c[] = ":-42\r\n", n1[] = "$-1\r\n", n2[] = "*-1\r\n",
         e[] = "*0\r\n";
    resp_tree t = { 0 };
    const resp_node *r = resp_read(&t, a, strlen(a));
    CHECK(r && r->type == RESP_STATUS && strcmp(r->str, "OK") == 0, "status");
    r = resp_read(&t, b, strlen(b));
    CHECK(r && r->type == RESP_ERROR && strcmp(r->str, "ERR wrong type") == 0, "error");
    r = resp_read(&t, c, strlen(c));
    CHECK(r && r->type == RESP_INTEGER && r->integer == -42, "integer");
    r = resp_read(&t, n1, strlen(n1));
    CHECK(r && r->type == RESP_NIL, "nil bulk");
    r = resp_read(&t, n2, strlen(n2));
    CHECK(r && r->type == RESP_NIL, "nil array (XREAD timed out)");
    r = resp_read(&t, e, strlen(e));
    CHECK(r && r->type == RESP_ARRAY && r->n == 0, "empty array");
    resp_tree_free(&t);
}

static void test_tree_reused(void)
{
    char big[] = "*3\r\n*2\r\n:1\r\n:2\r\n*1\r\n:3\r\n$1\r\nx\r\n", small[] = "*1\r\n:7\r\n";
    resp_tree t = { 0 };
    const resp_node *r = resp_read(&t, big, strlen(big));
    CHECK(r && r->n == 3 && r->child[0].child[1].integer == 2 && r->child[1].child[0].integer == 3 &&
              strcmp(r->child[2].str, "x") == 0,
          "nested arrays keep their children apart");
    size_t cap = t.cap;
    r = resp_read(&t, small, strlen(small));
    CHECK(r && r->n == 1 && r->child[0].integer == 7 && t.cap == cap, "a smaller reply reuses the nodes");
    resp_tree_free(&t);
}

static void test_malformed(void)
{
    static const char *bad[] = {
        "?x\r\n",           /* no such type */
        "$abc\r\n",         /* length not a number */
        "$-2\r\n",          /* negative length */
        "*-5\r\n",
        "$3\r\nabcde\r\n",  /* bulk longer than its length: no CR LF after 3 bytes */
        "+OK\rX",           /* CR not followed by LF */
        ":\r\n",            /* empty integer */
        ":12x\r\n",
        "$9999999999999999999\r\n", /* length beyond any reply */
        "^-1\r\n",         /* a moved string has a length (found by fuzz_resp) */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(resp_complete(bad[i], strlen(bad[i]), NULL) == -1, "refused: %s", bad[i]);
    char deep[64 * 4 + 8] = "";
    for (int i = 0; i < 40; i++)
        strcat(deep, "*1\r\n");
    strcat(deep, ":1\r\n");
    CHECK(resp_complete(deep, strlen(deep), NULL) == -1, "nesting deeper than RESP_MAX_DEPTH is refused");
    resp_tree t = { 0 };
    CHECK(resp_read(&t, deep, strlen(deep)) == NULL, "and not read");
    resp_tree_free(&t);
}

static void test_array_head(void)
{
    long long n = 7;
    CHECK(resp_array_head("*3\r\n$1", 8, &n) == 4 && n == 3, "header of a 3-element array");
    CHECK(resp_array_head("*-1\r\n", 5, &n) == 5 && n == -1, "nil array");
    CHECK(resp_array_head("*12", 3, &n) == 0, "header not all here");
    CHECK(resp_array_head("", 0, &n) == 0, "nothing yet");
    CHECK(resp_array_head("-ERR x\r\n", 8, &n) == -1, "an error reply is not an array");
    CHECK(resp_array_head("*-2\r\n", 5, &n) == -1, "negative count");
}

/* A frame the reader waits for is named by its gap; once its bytes are
 * taken out of the stream and its header marked, the reply reads with the
 * frame as RESP_MOVED and everything after it in place. */
static void test_moved_string(void)
{
    size_t total = sizeof xread - 1, need = 0;
    const char *frame_hdr = strstr(xread, "$6\r\n");
    size_t head = (size_t)(frame_hdr - xread), body = head + 4, cut = body + 2;
    resp_gap g = { 9, 9, 9 };
    CHECK(resp_complete_gap(xread, cut, &need, &g) == 0, "cut inside the frame: incomplete");
    CHECK(g.head == head && g.body == body && g.len == 6, "the gap is the frame (head %zu body %zu len %zu)", g.head,
          g.body, g.len);
    CHECK(memcmp(xread + head - 11, "$5\r\nframe\r\n", 11) == 0, "the field name comes just before it");
    resp_gap other;
    CHECK(resp_complete_gap(xread, head + 2, &need, &other) == 0 && other.len == 0, "cut in a header line: no gap");
    CHECK(resp_complete_gap(xread, total, &need, &other) == (long)total && other.len == 0, "whole: no gap");

    char d[sizeof xread];
    memcpy(d, xread, body);
    resp_mark_moved(d, &g);
    size_t rest = total - (body + 6);
    memcpy(d + body, xread + body + 6, rest);
    size_t len = body + rest;
    for (size_t c = body; c < len; c++)
        CHECK(resp_complete(d, c, NULL) == 0, "moved, cut at %zu: incomplete", c);
    CHECK(resp_complete(d, len, NULL) == (long)len, "moved: the rest completes the reply");
    resp_tree t = { 0 };
    const resp_node *r = resp_read(&t, d, len);
    const resp_node *kv = r ? &r->child[0].child[1].child[0].child[1] : NULL;
    CHECK(kv && kv->n == 4, "the entry's fields are all there");
    if (kv && kv->n == 4) {
        CHECK(kv->child[1].type == RESP_MOVED && kv->child[1].len == 6, "the frame reads as moved, its length kept");
        CHECK(kv->child[2].type == RESP_STRING && strcmp(kv->child[2].str, "width") == 0, "the next field in place");
        CHECK(kv->child[3].type == RESP_STRING && kv->child[3].len == 0, "and its value");
    }
    resp_tree_free(&t);
}

int main(void)
{
    test_complete_only_when_whole();
    test_need_names_the_bulk_end();
    test_read_views_in_place();
    test_scalars();
    test_tree_reused();
    test_malformed();
    test_array_head();
    test_moved_string();
    return test_report("resp");
}
