/* upframe: a state machine that finds message ends in websocketd's stdin (header braces, --IMG--, size/image/idle). */
#include "upframe.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "buf.h"
#include "imgsize.h"
#include "xalloc.h"

#define DELIM "--IMG--"
#define DELIM_LEN (sizeof DELIM - 1)
#define AGAIN (-1)          /* a step changed state; run the next one */
#define TOO_LARGE "frame larger than MAX_FRAME_BYTES (%zu)"

enum state {
    ST_SCAN,        /* between messages: skip whitespace, expect '{' */
    ST_GARBAGE,     /* junk reported: drop up to the next '{' or idle */
    ST_HEADER,      /* brace-matching a header of at most max_header bytes */
    ST_HUGE,        /* oversized header reported: keep matching while dropping it */
    ST_DELIM,       /* header done: --IMG-- must follow at once */
    ST_NODELIM,     /* missing delimiter reported: '{' is the next message, else frame bytes */
    ST_FRAME,       /* frame starts at cur(): its end from size, image structure or idle */
    ST_SKIP,        /* size over the limit: count its bytes away */
    ST_WALKDROP,    /* image over the limit: walk its structure, dropping what was walked */
    ST_DISCARD,     /* over the limit with no end to find: drop everything until idle */
};

struct upframe {
    buf in;                 /* fed bytes; [off, len) not yet consumed */
    buf stage;              /* bytes fed while a handed-out frame still points into in */
    size_t off, held;       /* consumed prefix of in; length of the handed-out frame */
    int holding;            /* a UPF_MESSAGE is outstanding */
    size_t max_frame, max_header;
    struct json_tokener *tok;
    enum state st;
    int bad;                /* this message is refused: drop the rest, then report why */
    char error[sizeof ((upframe_msg *)0)->error];  /* its first problem, reported at its end */
    size_t hpos;            /* brace matcher, resumable so a header in pieces is scanned once */
    int depth, in_str, esc;
    struct json_object *hdr;
    int has_size;
    int walking;            /* ST_FRAME: an image's structure is being walked, its end still ahead */
    uint64_t size;          /* declared frame size; bytes left to skip in ST_SKIP */
    imgsize_walk walk;      /* frame structure walked so far */
    size_t fbase;           /* frame bytes already dropped by ST_WALKDROP */
};

static const unsigned char *cur(const upframe *u)
{
    return (const unsigned char *)u->in.data + u->off;
}

static size_t avail(const upframe *u)
{
    return u->in.len - u->off;
}

static size_t skip_ws(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    return i;
}

/* Marks the message bad and keeps why -- unless it already had its one
 * error. The error is reported when the message ends (end_message): a
 * client waiting for that reply sends its next message only once this one's
 * bytes are all consumed, so they cannot be taken for the bad one's. */
__attribute__((format(printf, 2, 3)))
static int fail(upframe *u, const char *fmt, ...)
{
    if (u->bad)
        return AGAIN;
    u->bad = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(u->error, sizeof u->error, fmt, ap);
    va_end(ap);
    return AGAIN;
}

upframe *upframe_new(size_t max_frame_bytes, size_t max_header_bytes)
{
    upframe *u = xcalloc(1, sizeof *u);
    buf_init(&u->in);
    buf_init(&u->stage);
    buf_reserve(&u->in, 0);             /* so cur() never offsets a NULL */
    u->max_frame = max_frame_bytes;
    u->max_header = max_header_bytes < INT_MAX ? max_header_bytes : INT_MAX;  /* json-c takes an int */
    u->tok = json_tokener_new();
    if (!u->tok)
        abort();                        /* out of memory, as in xalloc */
    json_tokener_set_flags(u->tok, JSON_TOKENER_STRICT);
    u->st = ST_SCAN;
    return u;
}

void upframe_free(upframe *u)
{
    if (!u)
        return;
    json_object_put(u->hdr);
    json_tokener_free(u->tok);
    buf_free(&u->in);
    buf_free(&u->stage);
    free(u);
}

void upframe_feed(upframe *u, const void *data, size_t len)
{
    /* appending to in could move the frame the caller still holds */
    buf_append(u->holding ? &u->stage : &u->in, data, len);
}

/* The current message is over: UPF_ERROR with its error if it was bad. */
static int end_message(upframe *u, upframe_msg *msg)
{
    int was_bad = u->bad;
    json_object_put(u->hdr);
    u->hdr = NULL;
    u->bad = 0;
    u->st = ST_SCAN;
    if (!was_bad)
        return AGAIN;
    memcpy(msg->error, u->error, sizeof msg->error);
    return UPF_ERROR;
}

static int step_scan(upframe *u)
{
    const unsigned char *p = cur(u);
    size_t n = avail(u), i = skip_ws(p, n);
    u->off += i;
    if (i == n)
        return UPF_NEED_MORE;
    if (p[i] != '{') {
        u->st = ST_GARBAGE;
        return fail(u, "expected a JSON header");
    }
    u->st = ST_HEADER;
    u->hpos = 0;
    u->depth = u->in_str = u->esc = u->has_size = u->walking = 0;
    memset(&u->walk, 0, sizeof u->walk);
    u->fbase = 0;
    return AGAIN;
}

/* Continues brace matching up to n; the header length once its '{' closes, else 0. */
static size_t match_header(upframe *u, const unsigned char *p, size_t n)
{
    for (; u->hpos < n; u->hpos++) {
        unsigned char c = p[u->hpos];
        if (u->in_str) {
            if (u->esc)
                u->esc = 0;
            else if (c == '\\')
                u->esc = 1;
            else if (c == '"')
                u->in_str = 0;
        } else if (c == '"') {
            u->in_str = 1;
        } else if (c == '{') {
            u->depth++;
        } else if (c == '}' && --u->depth == 0) {
            return ++u->hpos;
        }
    }
    return 0;
}

/* Parses the header and its optional "size"; errors mark the message bad
 * but the delimiter and frame are still found, to be dropped with it. */
static int header_done(upframe *u, size_t len)
{
    struct json_object *v;
    json_tokener_reset(u->tok);
    u->hdr = json_tokener_parse_ex(u->tok, (const char *)cur(u), (int)len);
    u->off += len;
    u->st = ST_DELIM;
    if (!u->hdr || json_tokener_get_parse_end(u->tok) != len || !json_object_is_type(u->hdr, json_type_object))
        return fail(u, "Invalid JSON header");
    if (!json_object_object_get_ex(u->hdr, "size", &v))
        return AGAIN;
    if (!json_object_is_type(v, json_type_int))
        return fail(u, "size must be an integer");
    int64_t s = json_object_get_int64(v);   /* saturates, so a huge size stays huge */
    if (s < 0)
        return fail(u, "size must not be negative");
    u->has_size = 1;                        /* kept when too large, to skip that many bytes */
    u->size = (uint64_t)s;
    return u->size > u->max_frame ? fail(u, TOO_LARGE, u->max_frame) : AGAIN;
}

/* ST_HEADER and ST_HUGE, which drops an oversized header as it is matched. */
static int step_header(upframe *u, int idle, upframe_msg *msg)
{
    int huge = u->st == ST_HUGE;
    size_t n = avail(u);
    size_t len = match_header(u, cur(u), huge || n < u->max_header ? n : u->max_header);
    if (huge) {
        u->off += len ? len : n;
        u->hpos = 0;
        if (len)
            u->st = ST_DELIM;
    } else if (len) {
        return header_done(u, len);
    } else if (u->hpos >= u->max_header) {
        u->st = ST_HUGE;
        return fail(u, "JSON header larger than %zu bytes", u->max_header);
    }
    if (len || !idle)
        return len ? AGAIN : UPF_NEED_MORE;
    u->off += avail(u);
    fail(u, "Invalid JSON header");     /* unterminated when the message ended */
    return end_message(u, msg);
}

static int step_delim(upframe *u, int idle)
{
    size_t n = avail(u), k = n < DELIM_LEN ? n : DELIM_LEN;
    if (memcmp(cur(u), DELIM, k) == 0) {
        if (k == DELIM_LEN) {
            u->off += DELIM_LEN;
            u->st = ST_FRAME;
            return AGAIN;
        }
        if (!idle)
            return UPF_NEED_MORE;
    }
    u->st = ST_NODELIM;
    return fail(u, "missing " DELIM " delimiter");
}

/* After a missing delimiter, a '{' (maybe after a text message's "\n") starts
 * the next message; other bytes are taken as this message's frame. */
static int step_nodelim(upframe *u, int idle, upframe_msg *msg)
{
    const unsigned char *p = cur(u);
    size_t n = avail(u), i = skip_ws(p, n);
    u->off += i;
    if (i < n && p[i] != '{')
        u->st = ST_FRAME;
    else if (i < n || idle)
        return end_message(u, msg);
    else
        return UPF_NEED_MORE;
    return AGAIN;
}

/* The frame is the next len bytes: hand it out, or drop it if the message is bad. */
static int finish(upframe *u, upframe_msg *msg, size_t len)
{
    if (u->bad) {
        u->off += len;
        return end_message(u, msg);
    }
    msg->header = u->hdr;       /* both released by the next upframe_next */
    msg->frame = cur(u);
    msg->frame_len = len;
    u->held = len;
    u->holding = 1;
    u->st = ST_SCAN;
    return UPF_MESSAGE;
}

static int step_frame(upframe *u, int idle, upframe_msg *msg)
{
    size_t n = avail(u);
    if (u->has_size && u->size > u->max_frame) {
        u->st = ST_SKIP;
        return AGAIN;
    }
    if (u->has_size && n >= u->size)
        return finish(u, msg, (size_t)u->size);
    if (u->has_size) {
        if (idle < UPF_ENDED)
            return UPF_NEED_MORE;
        u->off += n;
        fail(u, "frame shorter than its size (%zu of %zu bytes)", n, (size_t)u->size);
        return end_message(u, msg);
    }
    ssize_t r = imgsize_resume(&u->walk, cur(u), 0, n);
    if (r > 0 && (size_t)r <= u->max_frame)
        return finish(u, msg, (size_t)r);
    if (r > 0 || n > u->max_frame) {
        u->st = r < 0 ? ST_DISCARD : ST_WALKDROP;   /* an image's end can be found unbuffered */
        return fail(u, TOO_LARGE, u->max_frame);
    }
    /* an image still arriving waits for a stall; bytes of no known shape end at a pause */
    u->walking = r == 0 && n > 0;
    return idle >= (u->walking ? UPF_ENDED : UPF_QUIET) ? finish(u, msg, n) : UPF_NEED_MORE;
}

/* ST_SKIP, ST_WALKDROP, ST_DISCARD: drop a frame without buffering it;
 * ST_GARBAGE: drop junk up to a '{'.  Idle ends any of them: websocketd
 * writes a whole message without pausing. */
static int step_drop(upframe *u, int idle, upframe_msg *msg)
{
    size_t n = avail(u), k = n;
    int done = 0;
    if (u->st == ST_SKIP) {
        k = n < u->size ? n : (size_t)u->size;
        u->size -= k;
        done = u->size == 0;
    } else if (u->st == ST_GARBAGE) {
        const unsigned char *brace = memchr(cur(u), '{', n);
        k = brace ? (size_t)(brace - cur(u)) : n;
        done = brace != NULL;
    } else if (u->st == ST_WALKDROP) {
        ssize_t r = imgsize_resume(&u->walk, cur(u), u->fbase, n);
        if (r < 0) {
            u->st = ST_DISCARD;         /* broken structure: no end to find */
            return AGAIN;
        }
        size_t upto = (r > 0 ? (size_t)r : u->walk.pos) - u->fbase;
        k = upto < n ? upto : n;
        u->fbase += k;
        done = r > 0;
    }
    u->off += done || !idle ? k : n;
    return done || idle ? end_message(u, msg) : UPF_NEED_MORE;
}

/* The quiet that ends the wait of the current state (ST_FRAME decides for itself). */
static enum upframe_quiet needed_quiet(const upframe *u)
{
    switch (u->st) {
    case ST_HEADER:
    case ST_HUGE:
    case ST_SKIP:
    case ST_WALKDROP:                               /* their end is known to be ahead */
    case ST_DELIM:    return UPF_ENDED;           /* even a header alone: a pause may split it from its frame */
    case ST_FRAME:    return u->has_size || u->walking ? UPF_ENDED : UPF_QUIET;
    default:          return UPF_QUIET;             /* only a pause ends them */
    }
}

static int step(upframe *u, int idle, upframe_msg *msg)
{
    int quiet = idle >= (int)needed_quiet(u);
    switch (u->st) {
    case ST_SCAN:    return step_scan(u);
    case ST_HEADER:
    case ST_HUGE:    return step_header(u, quiet, msg);
    case ST_DELIM:   return step_delim(u, quiet);
    case ST_NODELIM: return step_nodelim(u, quiet, msg);
    case ST_FRAME:   return step_frame(u, idle, msg);
    default:         return step_drop(u, quiet, msg);
    }
}

enum upframe_status upframe_next(upframe *u, int idle, upframe_msg *msg)
{
    if (u->holding) {           /* the previous message's lifetime ends here */
        json_object_put(u->hdr);
        u->hdr = NULL;
        u->off += u->held;
        u->holding = 0;
        buf_append(&u->in, u->stage.data, u->stage.len);
        buf_reset(&u->stage);
    }
    msg->header = NULL;
    msg->frame = NULL;
    msg->frame_len = 0;
    msg->error[0] = '\0';
    int r;
    while ((r = step(u, idle, msg)) == AGAIN)
        ;
    if (r == UPF_NEED_MORE && u->off) {
        buf_consume(&u->in, u->off);    /* once per read rather than once per message */
        u->off = 0;
    }
    return (enum upframe_status)r;
}

static int has_non_ws(const buf *b, size_t from)
{
    return from < b->len && skip_ws((const unsigned char *)b->data + from, b->len - from) < b->len - from;
}

enum upframe_quiet upframe_pending(const upframe *u)
{
    /* mid-message, quiet decides even with nothing buffered (a skip, a missing delimiter...) */
    if (u->st != ST_SCAN)
        return needed_quiet(u);
    return has_non_ws(&u->in, u->off + (u->holding ? u->held : 0)) || has_non_ws(&u->stage, 0) ? UPF_QUIET : UPF_BUSY;
}

size_t upframe_buffered(const upframe *u)
{
    return u->in.len + u->stage.len;
}
