/* frame: builds the JSON headers of frame messages sent to viewers. */
#include "frame.h"

#include <string.h>

#include "jsonw.h"

const char *const frame_field_names[FF_COUNT] = {
    "frame", "warnings", "cone_polygons", "pole_polygons", "detection_items", "width", "height",
};

/* Every metadata field, as stored; width and height stay strings, as the
 * original sends them, and a missing field is "". */
static void put_metadata(buf *out, const frame_entry *e)
{
    for (int f = FF_WARNINGS; f < FF_COUNT; f++)
        jsonw_field(out, 0, frame_field_names[f], e->val[f] ? e->val[f] : "", e->val[f] ? e->len[f] : 0);
    buf_putc(out, '}');
}

void frame_header_for_key(buf *out, const char *key, const frame_entry *e)
{
    buf_putc(out, '{');
    jsonw_field(out, 1, "key", key, strlen(key));
    put_metadata(out, e);
}

void frame_header_for_id(buf *out, const frame_entry *e)
{
    buf_putc(out, '{');
    jsonw_field(out, 1, "id", e->id, e->id_len);
    put_metadata(out, e);
}
