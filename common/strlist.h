/* strlist: a growable list of owned C strings. */
#ifndef SW_STRLIST_H
#define SW_STRLIST_H

#include <stddef.h>

typedef struct strlist {
    char **v;
    size_t n, cap;
} strlist;

void strlist_init(strlist *l);
void strlist_free(strlist *l);
void strlist_add(strlist *l, const char *s, size_t len);
/* Sorts byte-wise ascending and drops duplicates. */
void strlist_sort_unique(strlist *l);
int strlist_contains(const strlist *l, const char *s);
/* Whether item is one of the comma-separated entries of csv (blanks around
 * entries ignored, exact match otherwise). */
int csv_contains(const char *csv, const char *item);

#endif
