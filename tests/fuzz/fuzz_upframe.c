/* fuzz_upframe: the /ws/frames framer on arbitrarily chunked input keeps its memory bound and hands out sound messages. */
#include <json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imgsize.h"
#include "upframe.h"

/* Input layout: byte 0 picks the mode, byte 1 seeds the chunk sizes, the rest is the stream.
 *   mode & 7   largest chunk (1 byte .. 64 KiB)
 *   mode & 8   feed the next chunk while a message is held (its frame must stay intact)
 *   mode & 16  tiny limits, so the over-limit paths are reached by small inputs
 *   mode & 32  the input also goes quiet after every chunk, as when a client awaits each reply
 *              (a pause, or a stall if byte 1 is odd) */
#define MODE_FEED_WHILE_HELD 8
#define MODE_TINY_LIMITS 16
#define MODE_IDLE_EACH 32
#define DELIM_LEN 7

static const size_t chunk_max[8] = { 1, 3, 16, 100, 512, 4096, 65536, 65536 };

typedef struct run {
    const uint8_t *s;
    size_t n, pos;          /* the stream and how much of it was fed */
    unsigned rng, max_chunk;
    size_t max_frame, max_header, since;  /* since: bytes fed since the last UPF_NEED_MORE */
    int feed_while_held;
    upframe *u;
} run;

/* A tiny LCG: the chunk sizes are a function of the input alone. */
static size_t next_chunk(run *r)
{
    r->rng = r->rng * 1103515245u + 12345u;
    size_t k = 1 + (r->rng >> 8) % r->max_chunk;
    return k < r->n - r->pos ? k : r->n - r->pos;
}

/* What the framer may hold once it asked for more: an unfinished header or frame, never both
 * (a generous bound: whichever limit, plus a delimiter's worth). */
static size_t settled_bound(const run *r)
{
    return r->max_frame + r->max_header + DELIM_LEN;
}

static void feed_chunk(run *r)
{
    size_t k = next_chunk(r);
    upframe_feed(r->u, r->s + r->pos, k);
    r->pos += k;
    r->since += k;
    if (upframe_buffered(r->u) > settled_bound(r) + r->since)
        abort();
}

static void check_message(run *r, const upframe_msg *m)
{
    if (!m->header || !json_object_is_type(m->header, json_type_object) || m->frame_len > r->max_frame)
        abort();
    if (m->frame_len && !m->frame)
        abort();
    /* A declared size is the exact frame length. */
    json_object *size;
    if (json_object_object_get_ex(m->header, "size", &size) && json_object_get_int64(size) != (int64_t)m->frame_len)
        abort();
    if (!r->feed_while_held || r->pos >= r->n)
        return;
    /* Feeding must not move or change the frame still held. */
    unsigned char *copy = malloc(m->frame_len ? m->frame_len : 1);
    memcpy(copy, m->frame, m->frame_len);
    feed_chunk(r);
    if (memcmp(copy, m->frame, m->frame_len) != 0 || !json_object_is_type(m->header, json_type_object))
        abort();
    free(copy);
}

/* Calls upframe_next until it wants more input. */
static void drain(run *r, int idle)
{
    upframe_msg m;
    for (;;) {
        enum upframe_status st = upframe_next(r->u, idle, &m);
        if (st == UPF_NEED_MORE)
            break;
        if (st == UPF_MESSAGE)
            check_message(r, &m);
        else if (st != UPF_ERROR || m.error[0] == '\0')
            abort();
        if (upframe_buffered(r->u) > settled_bound(r) + r->since)
            abort();
    }
    r->since = 0;
    if (upframe_buffered(r->u) > settled_bound(r))
        abort();
}

static void fuzz_framer(const uint8_t *data, size_t size)
{
    run r = { 0 };
    r.s = data + 2;
    r.n = size - 2;
    r.rng = data[1] | (unsigned)data[0] << 8;
    r.max_chunk = (unsigned)chunk_max[data[0] & 7];
    r.feed_while_held = (data[0] & MODE_FEED_WHILE_HELD) != 0;
    r.max_frame = data[0] & MODE_TINY_LIMITS ? 2048 : 65536;
    r.max_header = data[0] & MODE_TINY_LIMITS ? 256 : 4096;
    r.u = upframe_new(r.max_frame, r.max_header);
    while (r.pos < r.n) {
        feed_chunk(&r);
        drain(&r, 0);
        if (data[0] & MODE_IDLE_EACH)
            drain(&r, data[1] & 1 ? UPF_ENDED : UPF_QUIET);
    }
    drain(&r, UPF_ENDED);
    /* A stall closes whatever was unfinished. */
    if (upframe_pending(r.u) != UPF_BUSY)
        abort();
    upframe_free(r.u);
}

/* imgsize: a positive length lies within the bytes and does not depend on what follows the image;
 * the resumable walk, fed in pieces with walked bytes dropped, agrees with the one-shot detection. */
static void fuzz_imgsize(const uint8_t *p, size_t n, unsigned seed)
{
    ssize_t whole = imgsize_detect(p, n);
    if (whole < -1 || whole > (ssize_t)n)
        abort();
    if (whole > 0 && imgsize_detect(p, (size_t)whole) != whole)
        abort();
    imgsize_walk w = { 0 };
    size_t have = 0, base = 0;
    ssize_t r = 0;
    while (r == 0 && have < n) {
        seed = seed * 1103515245u + 12345u;
        have += 1 + (seed >> 8) % 700;
        if (have > n)
            have = n;
        r = imgsize_resume(&w, p + base, base, have - base);
        base = w.pos < have ? w.pos : have;  /* drop what the walk has passed */
    }
    if (r != imgsize_detect(p, have))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_imgsize(data, size, size);
    if (size < 2)
        return 0;
    fuzz_imgsize(data + 2, size - 2, data[1]);
    fuzz_framer(data, size);
    return 0;
}
