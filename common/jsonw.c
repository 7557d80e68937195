/* jsonw: minimal JSON writer: escaped strings and the suite's small objects. */
#include "jsonw.h"

#include <string.h>

#include "codec.h"

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] < 0xE0 ? 2 : s[0] < 0xF0 ? 3 : 4;
    if (len > n || !utf8_valid((const char *)s, len))
        return 0;
    return len;
}

void jsonw_str(buf *out, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    buf_reserve(out, n + 2);
    buf_putc(out, '"');
    size_t run = 0; /* start of the pending run of bytes copied verbatim */
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t len = 1;
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0x80 && (len = utf8_seq_len(s + i, n - i)) > 0) {
            i += len;
            continue;
        }
        buf_append(out, s + run, i - run);
        if (c == '"' || c == '\\') {
            char esc[2] = { '\\', (char)c };
            buf_append(out, esc, 2);
        } else if (c == '\n') {
            buf_puts(out, "\\n");
        } else if (c == '\r') {
            buf_puts(out, "\\r");
        } else if (c == '\t') {
            buf_puts(out, "\\t");
        } else if (c < 0x20) {
            char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            buf_append(out, esc, 6);
        } else {
            buf_puts(out, "\\ufffd");
        }
        i++;
        run = i;
    }
    buf_append(out, s + run, n - run);
    buf_putc(out, '"');
}

void jsonw_field(buf *out, int first, const char *name, const char *value, size_t n)
{
    if (!first)
        buf_puts(out, ", ");
    jsonw_str(out, name, strlen(name));
    buf_puts(out, ": ");
    jsonw_str(out, value, n);
}

void jsonw_detail(buf *out, const char *msg)
{
    buf_putc(out, '{');
    jsonw_field(out, 1, "detail", msg, strlen(msg));
    buf_putc(out, '}');
}

void jsonw_error(buf *out, const char *msg)
{
    buf_putc(out, '{');
    jsonw_field(out, 1, "error", msg, strlen(msg));
    buf_putc(out, '}');
}
