/* resp: an in-place RESP2 reader. A frame reply is one read into the
 * store's buffer and views into it: hiredis 0.14 copies each reply twice
 * (into its reader's buffer, then into the reply object), and those copies
 * were the largest user-space cost of a viewer (perf: memmove 18 % of
 * ws-labels' samples at 40 frames/s of 100 KB). */
#include "resp.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* A header line "<type><text>\r\n" at d[pos]: the text's bounds and the
 * offset after the line; 0 if the line is not all here, -1 if malformed. */
static long line_at(const char *d, size_t len, size_t pos, size_t *text_end)
{
    const char *cr = memchr(d + pos, '\r', len - pos);
    if (!cr || (size_t)(cr - d) + 1 >= len)
        return 0;
    if (cr[1] != '\n')
        return -1;
    *text_end = (size_t)(cr - d);
    return (long)(*text_end + 2);
}

/* A decimal integer filling d[from..to): -1 unless it is exactly one. */
static int parse_int(const char *d, size_t from, size_t to, long long *out)
{
    int neg = from < to && d[from] == '-';
    size_t i = from + (size_t)neg;
    unsigned long long v = 0;
    if (i == to || to - i > 18)
        return -1;
    for (; i < to; i++) {
        if (d[i] < '0' || d[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(d[i] - '0');
    }
    *out = neg ? -(long long)v : (long long)v;
    return 0;
}

typedef struct scan_state {
    size_t nodes;               /* nodes the reply needs */
    size_t need;                /* when incomplete: the least total length that can complete it */
    resp_gap gap;               /* ... and the string whose bytes are missing, if it is that */
} scan_state;

/* One element at d[pos] and all it holds: the offset after it, 0 if it is
 * not all here yet, -1 if it is not RESP. Counts its nodes into st. */
static long scan(const char *d, size_t len, size_t pos, int depth, scan_state *st)
{
    size_t text_end;
    long after = pos < len ? line_at(d, len, pos, &text_end) : 0;
    if (after <= 0) {
        st->need = len + 1;
        return after;
    }
    long long n = 0;
    char type = d[pos];
    st->nodes++;
    if (type == '+' || type == '-')
        return after;
    if (type != ':' && type != '$' && type != '*' && type != RESP_MOVED_MARK)
        return -1;
    if (parse_int(d, pos + 1, text_end, &n) < 0)
        return -1;
    if (type == ':' || (n == -1 && type != RESP_MOVED_MARK))
        return after;
    if (n < 0)
        return -1;
    if (type == '$' || type == RESP_MOVED_MARK) {
        size_t body = type == '$' ? (size_t)n : 0, end = (size_t)after + body + 2;
        if (end > len) {
            st->need = end;
            st->gap = (resp_gap){ .head = pos, .body = (size_t)after, .len = body };
            return 0;
        }
        return d[end - 2] == '\r' && d[end - 1] == '\n' ? (long)end : -1;
    }
    if (depth >= RESP_MAX_DEPTH)
        return -1;
    for (long long i = 0; i < n && after > 0; i++)
        after = scan(d, len, (size_t)after, depth + 1, st);
    return after;
}

long resp_complete(const char *data, size_t len, size_t *need)
{
    return resp_complete_gap(data, len, need, NULL);
}

long resp_complete_gap(const char *data, size_t len, size_t *need, resp_gap *gap)
{
    scan_state st = { 0 };
    long n = scan(data, len, 0, 0, &st);
    if (need)
        *need = st.need;
    if (gap)
        *gap = n == 0 ? st.gap : (resp_gap){ 0 };
    return n;
}

void resp_mark_moved(char *data, const resp_gap *gap)
{
    data[gap->head] = RESP_MOVED_MARK;
}

long resp_array_head(const char *data, size_t len, long long *n)
{
    size_t text_end;
    if (len == 0)
        return 0;
    if (data[0] != '*')
        return -1;
    long after = line_at(data, len, 0, &text_end);
    if (after <= 0)
        return after;
    return parse_int(data, 1, text_end, n) == 0 && *n >= -1 ? after : -1;
}

/* Fills node from the (complete, valid) element at d[pos]; its children
 * take the next free slots of t. Returns the offset after the element. */
static size_t fill(resp_tree *t, size_t *used, resp_node *node, char *d, size_t len, size_t pos)
{
    const char *cr = memchr(d + pos, '\r', len - pos);
    size_t text_end = (size_t)(cr - d), after = text_end + 2;
    memset(node, 0, sizeof *node);
    switch (d[pos]) {
    case '+':
    case '-':
        node->type = d[pos] == '+' ? RESP_STATUS : RESP_ERROR;
        node->str = d + pos + 1;
        node->len = text_end - pos - 1;
        node->str[node->len] = '\0';
        return after;
    case ':':
        node->type = RESP_INTEGER;
        parse_int(d, pos + 1, text_end, &node->integer);
        return after;
    }
    long long n;
    parse_int(d, pos + 1, text_end, &n);
    if (d[pos] == RESP_MOVED_MARK) {
        node->type = RESP_MOVED;
        node->str = d + after; /* "" over the CR that ends it */
        node->str[0] = '\0';
        node->len = (size_t)n;
        return after + 2;
    }
    if (n == -1) {
        node->type = RESP_NIL;
        return after;
    }
    if (d[pos] == '$') {
        node->type = RESP_STRING;
        node->str = d + after;
        node->len = (size_t)n;
        node->str[n] = '\0';
        return after + (size_t)n + 2;
    }
    node->type = RESP_ARRAY;
    node->n = (size_t)n;
    node->child = t->nodes + *used;
    *used += node->n;
    for (size_t i = 0; i < node->n; i++)
        after = fill(t, used, &node->child[i], d, len, after);
    return after;
}

const resp_node *resp_read(resp_tree *t, char *data, size_t len)
{
    scan_state st = { 0 };
    size_t used = 1;
    if (scan(data, len, 0, 0, &st) <= 0)
        return NULL;
    if (st.nodes > t->cap) {
        free(t->nodes);
        t->nodes = xcalloc(st.nodes, sizeof *t->nodes);
        t->cap = st.nodes;
    }
    fill(t, &used, &t->nodes[0], data, len, 0);
    return &t->nodes[0];
}

void resp_tree_free(resp_tree *t)
{
    free(t->nodes);
    t->nodes = NULL;
    t->cap = 0;
}
