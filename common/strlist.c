/* strlist: a growable list of owned C strings. */
#include "strlist.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void strlist_init(strlist *l)
{
    l->v = NULL;
    l->n = l->cap = 0;
}

void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    strlist_init(l);
}

void strlist_add(strlist *l, const char *s, size_t len)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = xstrndup(s, len);
}

static int cmp_bytes(const void *a, const void *b)
{
    /* strcmp compares as unsigned char: byte-wise, as API §1 asks */
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void strlist_sort_unique(strlist *l)
{
    if (l->n < 2)
        return;
    qsort(l->v, l->n, sizeof *l->v, cmp_bytes);
    size_t w = 1;
    for (size_t r = 1; r < l->n; r++) {
        if (strcmp(l->v[r], l->v[w - 1]) == 0)
            free(l->v[r]);
        else
            l->v[w++] = l->v[r];
    }
    l->n = w;
}

int strlist_contains(const strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return 1;
    return 0;
}

int csv_contains(const char *csv, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = csv; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        while (len && *p == ' ')
            p++, len--;
        while (len && p[len - 1] == ' ')
            len--;
        if (len == n && memcmp(p, item, n) == 0)
            return 1;
        if (!comma)
            break;
        p = comma + 1;
    }
    return 0;
}
