/* catalog: which labels and streams exist in Redis (API §1 label listing). */
#ifndef SW_CATALOG_H
#define SW_CATALOG_H

#include <stdbool.h>

#include "store.h"
#include "strlist.h"

/* Every label for which visible(ctx, label) holds (visible NULL: all),
 * decoded, without labels containing "test" (the seed's rule), distinct and
 * sorted byte-wise. */
int catalog_labels(store *s, bool (*visible)(const void *ctx, const char *label), const void *ctx,
                   strlist *labels);

/* The streams of one label, sorted by Redis key: their Redis keys and their
 * decoded stream keys, index for index. Keys that do not decode are skipped. */
int catalog_streams(store *s, const char *label, strlist *rkeys, strlist *names);

#endif
