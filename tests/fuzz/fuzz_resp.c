/* fuzz_resp: the in-place RESP reader never reads past its input, and agrees
 * with itself: complete at n bytes means complete at every longer length with
 * the same end, incomplete before, and a complete reply reads into nodes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

/* Walks a read tree: every view lies inside the buffer, strings end in NUL. */
static void check_node(const resp_node *n, const char *d, size_t len, int depth)
{
    if (depth > RESP_MAX_DEPTH)
        abort();
    if (n->type == RESP_STRING || n->type == RESP_STATUS || n->type == RESP_ERROR) {
        if (n->str < d || n->str + n->len > d + len || n->str[n->len] != '\0')
            abort();
    }
    for (size_t i = 0; n->type == RESP_ARRAY && i < n->n; i++)
        check_node(&n->child[i], d, len, depth + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so ASan sees any read past the end. */
    char *d = malloc(size ? size : 1);
    memcpy(d, data, size);
    size_t need = 0;
    long end = resp_complete(d, size, &need);
    if (end > 0) {
        if ((size_t)end > size)
            abort();
        for (size_t cut = 0; cut < (size_t)end; cut += 1 + cut / 8)
            if (resp_complete(d, cut, NULL) > 0)
                abort(); /* complete before its end */
        resp_tree t = { 0 };
        const resp_node *r = resp_read(&t, d, size);
        if (!r)
            abort();
        check_node(r, d, size, 0);
        resp_tree_free(&t);
    } else if (end == 0 && need <= size) {
        abort(); /* incomplete, yet asking for no more than it has */
    }
    free(d);
    return 0;
}
