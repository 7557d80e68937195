/* catalog: label and stream discovery by SCAN over the stream_frame: keys. */
#include "catalog.h"

#include <string.h>

#include "codec.h"

int catalog_labels(store *s, bool (*visible)(const void *ctx, const char *label), const void *ctx,
                   strlist *labels)
{
    strlist keys;
    buf label;
    strlist_init(&keys);
    buf_init(&label);
    if (store_scan(s, STREAM_KEY_PREFIX "*|*", &keys) < 0) {
        strlist_free(&keys);
        return -1;
    }
    for (size_t i = 0; i < keys.n; i++) {
        buf_reset(&label);
        if (stream_key_parse(keys.v[i], strlen(keys.v[i]), &label, NULL) < 0)
            continue;
        if (strstr(label.data, "test") || (visible && !visible(ctx, label.data)))
            continue;
        strlist_add(labels, label.data, label.len);
    }
    strlist_sort_unique(labels);
    buf_free(&label);
    strlist_free(&keys);
    return 0;
}

int catalog_streams(store *s, const char *label, strlist *rkeys, strlist *names)
{
    strlist found;
    buf pattern, l, k;
    strlist_init(&found);
    buf_init(&pattern);
    buf_init(&l);
    buf_init(&k);
    stream_key_label_pattern(&pattern, label);
    int rc = store_scan(s, pattern.data, &found);
    strlist_sort_unique(&found);
    for (size_t i = 0; rc == 0 && i < found.n; i++) {
        buf_reset(&l);
        buf_reset(&k);
        /* MATCH already fixed the label part; the key part must decode too. */
        if (stream_key_parse(found.v[i], strlen(found.v[i]), &l, &k) < 0 || strcmp(l.data, label) != 0)
            continue;
        strlist_add(rkeys, found.v[i], strlen(found.v[i]));
        strlist_add(names, k.data, k.len);
    }
    buf_free(&pattern);
    buf_free(&l);
    buf_free(&k);
    strlist_free(&found);
    return rc;
}
