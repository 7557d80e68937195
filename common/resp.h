/* resp: reads a Redis (RESP2) reply in place, in the caller's buffer: the
 * replies that carry frames are taken without hiredis's two copies. */
#ifndef SW_RESP_H
#define SW_RESP_H

#include <stddef.h>

enum resp_type { RESP_STRING, RESP_STATUS, RESP_ERROR, RESP_INTEGER, RESP_NIL, RESP_ARRAY,
                 RESP_MOVED /* a string whose len bytes the caller moved elsewhere (see resp_mark_moved) */ };

typedef struct resp_node {
    enum resp_type type;
    char *str;                  /* STRING, STATUS, ERROR: in the buffer, NUL-terminated there */
    size_t len;
    long long integer;          /* INTEGER */
    size_t n;                   /* ARRAY: child[0] .. child[n - 1] */
    struct resp_node *child;
} resp_node;

/* The nodes of the last reply read; reused from one reply to the next. */
typedef struct resp_tree {
    resp_node *nodes;           /* nodes[0] is the root */
    size_t cap;
} resp_tree;

enum { RESP_MAX_DEPTH = 16 };

/* Whether data[0..len) begins with one whole reply: its length in bytes, 0 if
 * more bytes are needed (then *need, when given, is the least total length
 * that can complete it), -1 if it is not RESP. */
long resp_complete(const char *data, size_t len, size_t *need);

/* Where an incomplete reply waits for the bytes of a string: its header
 * "$<len>\r\n" starts at head, its bytes at body (len == 0: it does not
 * wait inside a string's bytes). */
typedef struct resp_gap {
    size_t head, body, len;
} resp_gap;

/* resp_complete(), and where it waits when the reply is incomplete. */
long resp_complete_gap(const char *data, size_t len, size_t *need, resp_gap *gap);

/* The caller took the string at gap out of the byte stream (data keeps
 * everything before gap->body, and what follows its bytes comes next):
 * marks its header so that the string reads as RESP_MOVED, its length kept.
 * The mark is ours, never Redis's: a RESP2 reply has no '^' type. */
#define RESP_MOVED_MARK '^'
void resp_mark_moved(char *data, const resp_gap *gap);

/* Whether data[0..len) begins with an array's header "*<n>\r\n": its length
 * (and n, which is -1 for a nil array), 0 if the line is not all here, -1 if
 * the reply is something else (an error reply, say). Lets a caller take a
 * large array one element at a time. */
long resp_array_head(const char *data, size_t len, long long *n);

/* Reads the whole reply at the start of data (resp_complete() said so): the
 * nodes point into data, and every string is NUL-terminated in place (over
 * the CR that follows it). They stay valid while data does. */
const resp_node *resp_read(resp_tree *t, char *data, size_t len);
void resp_tree_free(resp_tree *t);

#endif
