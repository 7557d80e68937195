/* multipart: streams multipart/form-data bodies into per-part callbacks with bounded memory. */
#include "multipart.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "xalloc.h"

/* The body is "preamble DELIM part DELIM part ... DELIM-- epilogue" where
 * DELIM is "\r\n--BOUNDARY" followed by padding and a line end. */
enum mp_state {
    S_PREAMBLE,    /* before the first delimiter: discarded */
    S_AFTER_DELIM, /* right after "--BOUNDARY": "--", padding or line end */
    S_DASH,        /* one '-' of the closing "--" seen */
    S_PAD,         /* transport padding after the boundary */
    S_CR,          /* CR ending the boundary line seen, LF expected */
    S_HEADERS,     /* a part's header block, buffered up to the limit */
    S_BODY,        /* a part's body, streamed out */
    S_EPILOGUE,    /* after the closing delimiter: discarded */
    S_ERROR
};

struct mp_parser {
    enum mp_state state;
    enum mp_error err;
    const char *msg;
    char delim[4 + MP_MAX_BOUNDARY + 1]; /* "\r\n--" + boundary */
    size_t dlen;
    size_t matched;        /* delimiter bytes seen and held back, not yet emitted */
    mp_limits lim;
    size_t nparts;
    buf hdr;               /* the current part's header block */
    size_t line_start;     /* offset of the current header line in hdr */
    buf name, filename;    /* the current part's parameters */
    buf pname, pval;       /* scratch for the parameter parser */
    int has_cd, has_name, has_filename;
    const char *ctype;     /* points into hdr, NULL when absent */
    mp_callbacks cb;
    void *ud;
};

/* Keeps the first error: later ones are usually its consequences. */
static int fail(mp_parser *p, enum mp_error err, const char *msg)
{
    if (p->state != S_ERROR) {
        p->state = S_ERROR;
        p->err = err;
        p->msg = msg;
    }
    return -1;
}

static const char *bstr(const buf *b)
{
    return b->data ? b->data : "";
}

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* Appends the quoted-string starting after its opening quote; returns the
 * position after the closing quote, or NULL when it is unterminated. */
static const char *unquote(const char *s, buf *val)
{
    for (;; s++) {
        if (*s == '\0')
            return NULL;
        if (*s == '"')
            return s + 1;
        if (*s == '\\' && s[1] != '\0')
            s++;
        buf_putc(val, *s);
    }
}

/* Parses one "; name=value" parameter at *sp (shared by Content-Type and
 * Content-Disposition). Returns 1 with name/val filled, 0 at the end of the
 * header value, -1 on bad syntax. */
static int parse_param(const char **sp, buf *name, buf *val)
{
    const char *s = skip_ws(*sp);
    if (*s == '\0')
        return 0;
    if (*s != ';')
        return -1;
    s = skip_ws(s + 1);
    if (*s == '\0')
        return 0; /* a trailing ';' is harmless */
    size_t k = strcspn(s, "=; \t\"");
    const char *eq = skip_ws(s + k);
    if (k == 0 || *eq != '=')
        return -1;
    buf_reset(name);
    buf_append(name, s, k);
    buf_reset(val);
    s = skip_ws(eq + 1);
    if (*s == '"') {
        s = unquote(s + 1, val);
    } else {
        k = strcspn(s, "; \t\"");
        buf_append(val, s, k);
        s = k ? s + k : NULL;
    }
    if (!s)
        return -1;
    *sp = s;
    return 1;
}

static void emit(mp_parser *p, const char *d, size_t n)
{
    if (p->state == S_BODY && n > 0 && p->cb.on_part_data &&
        p->cb.on_part_data(p->ud, d, n) != 0)
        fail(p, MP_ERR_ABORTED, "aborted by on_part_data");
}

static void delim_found(mp_parser *p)
{
    p->matched = 0;
    if (p->state == S_BODY && p->cb.on_part_end && p->cb.on_part_end(p->ud) != 0) {
        fail(p, MP_ERR_ABORTED, "aborted by on_part_end");
        return;
    }
    p->state = S_AFTER_DELIM;
}

/* How many leading bytes of d cannot start the delimiter. A CR starts one
 * only if the bytes after it, as far as d goes, match it too: in frame bytes
 * a CR comes every 256 bytes or so, and passing each run between two of them
 * on separately cost a callback and a copy each. */
static size_t data_run(const mp_parser *p, const char *d, size_t n)
{
    const char *end = d + n;
    for (const char *cr = d; (cr = memchr(cr, '\r', (size_t)(end - cr))) != NULL; cr++) {
        size_t left = (size_t)(end - cr);
        if (memcmp(cr, p->delim, left < p->dlen ? left : p->dlen) == 0)
            return (size_t)(cr - d);
    }
    return n;
}

/* Looks for the delimiter in the preamble or a body, passing on (in a body)
 * every byte that cannot belong to it. CR occurs only first in the delimiter
 * (boundaries hold no CR), so after a mismatch the held-back prefix is all
 * data and matching restarts from scratch: no KMP table, no lookbehind copy,
 * since the held bytes are p->delim[0..matched). Returns bytes consumed; it
 * may be 0 only when it dropped a partial match, so the caller progresses. */
static size_t scan_delim(mp_parser *p, const char *d, size_t n)
{
    if (p->matched == 0) {
        size_t k = data_run(p, d, n);
        if (k > 0) {
            emit(p, d, k);
            return k;
        }
        p->matched = 1;
        return 1;
    }
    size_t i = 0;
    while (i < n && p->matched < p->dlen && d[i] == p->delim[p->matched]) {
        p->matched++;
        i++;
    }
    if (p->matched == p->dlen)
        delim_found(p);
    else if (i < n) {
        emit(p, p->delim, p->matched);
        p->matched = 0;
    }
    return i;
}

static void begin_headers(mp_parser *p)
{
    if (p->nparts >= p->lim.max_parts) {
        fail(p, MP_ERR_LIMIT, "too many parts");
        return;
    }
    p->nparts++;
    buf_reset(&p->hdr);
    p->line_start = 0;
    p->state = S_HEADERS;
}

/* The rest of a boundary line, one byte at a time: "--" closes the body,
 * otherwise optional padding then CRLF (a bare LF is tolerated). */
static void boundary_line(mp_parser *p, char c)
{
    if (p->state == S_DASH) {
        if (c == '-')
            p->state = S_EPILOGUE;
        else
            fail(p, MP_ERR_MALFORMED, "garbage after closing boundary");
    } else if (p->state == S_CR) {
        if (c == '\n')
            begin_headers(p);
        else
            fail(p, MP_ERR_MALFORMED, "garbage after boundary");
    } else if (c == '-' && p->state == S_AFTER_DELIM) {
        p->state = S_DASH;
    } else if (c == ' ' || c == '\t') {
        p->state = S_PAD;
    } else if (c == '\r') {
        p->state = S_CR;
    } else if (c == '\n') {
        begin_headers(p);
    } else {
        fail(p, MP_ERR_MALFORMED, "garbage after boundary");
    }
}

static int disposition_param(mp_parser *p)
{
    int is_name = strcasecmp(bstr(&p->pname), "name") == 0;
    if (!is_name && strcasecmp(bstr(&p->pname), "filename") != 0)
        return 0; /* e.g. filename*, which RFC 7578 says not to use */
    int *seen = is_name ? &p->has_name : &p->has_filename;
    buf *dst = is_name ? &p->name : &p->filename;
    /* Two names would let two consumers see two different fields. */
    if (*seen)
        return fail(p, MP_ERR_MALFORMED, "duplicate Content-Disposition parameter");
    *seen = 1;
    buf_reset(dst);
    buf_append(dst, p->pval.data, p->pval.len);
    return 0;
}

static int parse_disposition(mp_parser *p, const char *v)
{
    if (p->has_cd)
        return fail(p, MP_ERR_MALFORMED, "duplicate Content-Disposition");
    p->has_cd = 1;
    size_t k = strcspn(v, "; \t");
    if (k != 9 || strncasecmp(v, "form-data", 9) != 0)
        return fail(p, MP_ERR_MALFORMED, "Content-Disposition is not form-data");
    const char *s = v + k;
    int r;
    while ((r = parse_param(&s, &p->pname, &p->pval)) > 0)
        if (disposition_param(p) < 0)
            return -1;
    return r < 0 ? fail(p, MP_ERR_MALFORMED, "malformed Content-Disposition") : 0;
}

static char *trim(char *s)
{
    s = (char *)skip_ws(s);
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* One "Name: value" line, already NUL-terminated without its line end. */
static int header_line(mp_parser *p, char *line)
{
    char *colon = strchr(line, ':');
    size_t nlen = colon ? (size_t)(colon - line) : 0;
    /* No folding or whitespace in names (RFC 7230 §3.2.4); no stray CR. */
    if (nlen == 0 || strcspn(line, " \t") < nlen || strchr(line, '\r'))
        return fail(p, MP_ERR_MALFORMED, "malformed part header");
    *colon = '\0';
    char *v = trim(colon + 1);
    if (strcasecmp(line, "Content-Disposition") == 0)
        return parse_disposition(p, v);
    if (strcasecmp(line, "Content-Type") == 0) {
        if (p->ctype)
            return fail(p, MP_ERR_MALFORMED, "duplicate Content-Type");
        p->ctype = v;
    }
    return 0;
}

/* Splits the finished header block into lines in place. */
static int parse_headers(mp_parser *p)
{
    p->has_cd = p->has_name = p->has_filename = 0;
    p->ctype = NULL;
    char *s = p->hdr.data, *end = s + p->hdr.len;
    if (memchr(s, '\0', p->hdr.len))
        return fail(p, MP_ERR_MALFORMED, "NUL byte in part header");
    while (s < end) {
        char *nl = memchr(s, '\n', (size_t)(end - s)); /* the block ends with one */
        *nl = '\0';
        if (nl > s && nl[-1] == '\r')
            nl[-1] = '\0';
        if (*s && header_line(p, s) < 0)
            return -1;
        s = nl + 1;
    }
    if (!p->has_cd)
        return fail(p, MP_ERR_MALFORMED, "part without Content-Disposition");
    if (!p->has_name)
        return fail(p, MP_ERR_MALFORMED, "Content-Disposition without name");
    return 0;
}

static void end_headers(mp_parser *p)
{
    if (parse_headers(p) < 0)
        return;
    const char *fn = p->has_filename ? bstr(&p->filename) : NULL;
    if (p->cb.on_part_begin && p->cb.on_part_begin(p->ud, bstr(&p->name), fn, p->ctype) != 0) {
        fail(p, MP_ERR_ABORTED, "aborted by on_part_begin");
        return;
    }
    p->state = S_BODY;
    p->matched = 0;
}

/* Buffers header bytes a line at a time until the blank line; the limit
 * is checked before buffering, so memory stays bounded. */
static size_t feed_headers(mp_parser *p, const char *d, size_t n)
{
    const char *nl = memchr(d, '\n', n);
    size_t take = nl ? (size_t)(nl - d) + 1 : n;
    if (take > p->lim.max_header_bytes - p->hdr.len) {
        fail(p, MP_ERR_LIMIT, "part header too large");
        return take;
    }
    buf_append(&p->hdr, d, take);
    if (nl) {
        size_t line = p->hdr.len - p->line_start;
        if (line == 1 || (line == 2 && p->hdr.data[p->line_start] == '\r'))
            end_headers(p);
        p->line_start = p->hdr.len;
    }
    return take;
}

static size_t step(mp_parser *p, const char *d, size_t n)
{
    switch (p->state) {
    case S_PREAMBLE:
    case S_BODY:
        return scan_delim(p, d, n);
    case S_HEADERS:
        return feed_headers(p, d, n);
    case S_EPILOGUE:
        return n;
    default:
        boundary_line(p, *d);
        return 1;
    }
}

mp_parser *mp_parser_new(const char *boundary, const mp_limits *limits, const mp_callbacks *cb, void *ud)
{
    size_t blen = boundary ? strlen(boundary) : 0;
    if (blen == 0 || blen > MP_MAX_BOUNDARY || strpbrk(boundary, "\r\n"))
        return NULL;
    mp_parser *p = xcalloc(1, sizeof *p);
    memcpy(p->delim, "\r\n--", 4);
    memcpy(p->delim + 4, boundary, blen + 1);
    p->dlen = blen + 4;
    p->matched = 2; /* the first delimiter may open the body without its CRLF */
    mp_limits lim = limits ? *limits : (mp_limits){0, 0};
    p->lim.max_header_bytes = lim.max_header_bytes ? lim.max_header_bytes : MP_DEFAULT_MAX_HEADER_BYTES;
    p->lim.max_parts = lim.max_parts ? lim.max_parts : MP_DEFAULT_MAX_PARTS;
    if (cb)
        p->cb = *cb;
    p->ud = ud;
    /* xcalloc left every buf in its buf_init state. */
    p->state = S_PREAMBLE;
    p->err = MP_OK;
    p->msg = "no error";
    return p;
}

void mp_parser_free(mp_parser *p)
{
    if (!p)
        return;
    buf_free(&p->hdr);
    buf_free(&p->name);
    buf_free(&p->filename);
    buf_free(&p->pname);
    buf_free(&p->pval);
    free(p);
}

int mp_parser_feed(mp_parser *p, const char *data, size_t len)
{
    if (!p || p->state == S_ERROR)
        return -1;
    if (!data && len > 0)
        return fail(p, MP_ERR_MALFORMED, "NULL data");
    while (len > 0 && p->state != S_ERROR) {
        size_t k = step(p, data, len);
        data += k;
        len -= k;
    }
    return p->state == S_ERROR ? -1 : 0;
}

int mp_parser_finish(mp_parser *p)
{
    if (!p || p->state == S_ERROR)
        return -1;
    if (p->state == S_EPILOGUE)
        return 0;
    return fail(p, MP_ERR_TRUNCATED,
                p->state == S_PREAMBLE ? "missing boundary" : "missing closing boundary");
}

enum mp_error mp_parser_errcode(const mp_parser *p)
{
    return p ? p->err : MP_ERR_MALFORMED;
}

const char *mp_parser_error(const mp_parser *p)
{
    return p ? p->msg : "no parser";
}

int mp_boundary_from_content_type(const char *content_type, char *out, size_t outlen)
{
    if (!content_type || !out || outlen == 0)
        return -1;
    const char *s = skip_ws(content_type);
    size_t k = strcspn(s, "; \t");
    if (k != 19 || strncasecmp(s, "multipart/form-data", 19) != 0)
        return -1;
    s += k;
    buf name, val;
    buf_init(&name);
    buf_init(&val);
    int r, seen = 0, fits = 0;
    while ((r = parse_param(&s, &name, &val)) > 0) {
        if (strcasecmp(bstr(&name), "boundary") != 0)
            continue;
        seen++; /* more than one: which would the sender mean? */
        fits = val.len > 0 && val.len <= MP_MAX_BOUNDARY && val.len < outlen &&
               !strpbrk(bstr(&val), "\r\n");
        if (fits)
            memcpy(out, val.data, val.len + 1);
    }
    buf_free(&name);
    buf_free(&val);
    return r == 0 && seen == 1 && fits ? 0 : -1;
}
