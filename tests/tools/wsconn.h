/* wsconn.h: one blocking client WebSocket connection (RFC 6455) for the upload tools: connect and
 * upgrade, masked binary messages out, the server's messages in. Each tool is one .c file. */
#ifndef SW_WSCONN_H
#define SW_WSCONN_H

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "buf.h"
#include "xalloc.h"

#define WSC_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WSC_MAX_IN 65536        /* server messages here are JSON replies */

enum { WSC_OP_TEXT = 1, WSC_OP_BIN = 2, WSC_OP_CLOSE = 8, WSC_OP_PING = 9, WSC_OP_PONG = 10 };

/* Where to connect: ws://host[:port][/path][?query], resolved once. */
typedef struct wsc_target {
    char *host, *port, *path;
    struct sockaddr_storage addr;
    socklen_t addrlen;
} wsc_target;

/* Splits url (cut up in place; no TLS) and resolves the host. -1 with *why. */
static int wsc_target_parse(wsc_target *t, char *url, const char **why)
{
    if (strncmp(url, "ws://", 5))
        return *why = "URL must start with ws:// (no TLS)", -1;
    char *h = url + 5, *p = h + strcspn(h, "/?"), *colon, *end;
    t->path = xmalloc(strlen(p) + 2);
    sprintf(t->path, "%s%s", *p == '/' ? "" : "/", p);
    *p = 0;
    t->port = "80";
    if ((colon = strrchr(h, ':')))
        *colon = 0, t->port = colon + 1;
    long port = strtol(t->port, &end, 10);
    if (!*t->port || *end || port < 1 || port > 65535)
        return *why = "bad port in URL", -1;
    if (!*h)
        return *why = "no host in URL", -1;
    t->host = h;
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
    int e = getaddrinfo(t->host, t->port, &hints, &res);
    if (e)
        return *why = gai_strerror(e), -1;
    memcpy(&t->addr, res->ai_addr, res->ai_addrlen);
    t->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

typedef struct wsconn {
    int fd;
    unsigned char in[WSC_MAX_IN];   /* bytes read, not yet parsed */
    size_t in_len;
    int status;                     /* the upgrade's HTTP status (101), 0 if none came */
    int close_code;                 /* the server's close frame code, 0 if none */
    char err[256];
} wsconn;

static void wsc_random(unsigned char *p, size_t n)
{
    while (n) {
        ssize_t r = getrandom(p, n, 0);
        if (r > 0)
            p += r, n -= (size_t)r;
    }
}

static int wsc_fail(wsconn *c, const char *what, const char *why)
{
    snprintf(c->err, sizeof c->err, "%s: %s", what, why);
    return -1;
}

static int wsc_send_all(wsconn *c, struct iovec *v, int cnt)
{
    while (cnt > 0) {
        struct msghdr m = { .msg_iov = v, .msg_iovlen = (size_t)cnt };
        ssize_t n = sendmsg(c->fd, &m, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return wsc_fail(c, "send", strerror(errno));
        while (cnt > 0 && (size_t)n >= v->iov_len)
            n -= (ssize_t)v->iov_len, v++, cnt--;
        if (cnt > 0)
            v->iov_base = (char *)v->iov_base + n, v->iov_len -= (size_t)n;
    }
    return 0;
}

/* Reads more bytes into c->in; -1 on end or error. */
static int wsc_fill(wsconn *c)
{
    if (c->in_len == WSC_MAX_IN)
        return wsc_fail(c, "reply", "larger than 64 KiB");
    ssize_t n;
    do
        n = read(c->fd, c->in + c->in_len, WSC_MAX_IN - c->in_len);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return wsc_fail(c, "read", n ? strerror(errno) : "connection closed by server");
    c->in_len += (size_t)n;
    return 0;
}

static void wsc_consume(wsconn *c, size_t n)
{
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
}

/* TCP connect (timeout_s for every later read and write), upgrade request with an optional extra
 * header line, 101 with the right Sec-WebSocket-Accept. -1 with c->status the refusal's code. */
static int wsc_open(wsconn *c, const wsc_target *t, const char *hdr, int timeout_s)
{
    unsigned char raw[16], sha[SHA_DIGEST_LENGTH];
    char key[25], keyguid[64], accept[32], line[128];
    int one = 1;
    c->in_len = 0;
    c->status = c->close_code = 0;
    c->fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return wsc_fail(c, "socket", strerror(errno));
    struct timeval tv = { timeout_s, 0 };
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(c->fd, (const struct sockaddr *)&t->addr, t->addrlen) < 0)
        return wsc_fail(c, "connect", strerror(errno));
    wsc_random(raw, sizeof raw);
    EVP_EncodeBlock((unsigned char *)key, raw, sizeof raw);
    snprintf(keyguid, sizeof keyguid, "%s%s", key, WSC_GUID);
    SHA1((unsigned char *)keyguid, strlen(keyguid), sha);
    EVP_EncodeBlock((unsigned char *)accept, sha, sizeof sha);
    buf req;
    buf_init(&req);
    buf_printf(&req, "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s%s\r\n",
               t->path, t->host, t->port, key, hdr ? hdr : "", hdr ? "\r\n" : "");
    struct iovec v = { req.data, req.len };
    int rc = wsc_send_all(c, &v, 1);
    buf_free(&req);
    if (rc < 0)
        return -1;
    unsigned char *end;
    while (!(end = memmem(c->in, c->in_len, "\r\n\r\n", 4)))
        if (wsc_fill(c) < 0)
            return -1;
    size_t head_len = (size_t)(end - c->in) + 4;
    char *head = xstrndup((const char *)c->in, head_len);
    wsc_consume(c, head_len);
    sscanf(head, "HTTP/1.%*1[01] %3d", &c->status);
    snprintf(line, sizeof line, "Sec-WebSocket-Accept: %s\r\n", accept);
    rc = c->status != 101         ? wsc_fail(c, "upgrade refused", strtok(head, "\r"))
         : !strcasestr(head, line) ? wsc_fail(c, "upgrade", "bad Sec-WebSocket-Accept")
                                   : 0;
    free(head);
    return rc;
}

/* Reads one server message; its payload in place (valid until wsc_consume of the returned header
 * length plus *len). Pings are answered. A close frame ends it: -1 with c->close_code. */
static int wsc_read_message(wsconn *c, const unsigned char **payload, size_t *len)
{
    for (;;) {
        while (c->in_len < 2 || c->in_len < 2 + (size_t)((c->in[1] & 127) == 126 ? 2 : (c->in[1] & 127) == 127 ? 8 : 0))
            if (wsc_fill(c) < 0)
                return -1;
        size_t hl = 2;
        uint64_t n = c->in[1] & 127;
        if (n == 126)
            n = (uint64_t)c->in[2] << 8 | c->in[3], hl = 4;
        else if (n == 127)
            return wsc_fail(c, "reply", "frame longer than 64 KiB");
        if (c->in[1] & 0x80)
            return wsc_fail(c, "reply", "masked server frame");
        while (c->in_len < hl + n)
            if (wsc_fill(c) < 0)
                return -1;
        int op = c->in[0] & 15;
        if (op == WSC_OP_CLOSE) {
            c->close_code = n >= 2 ? c->in[hl] << 8 | c->in[hl + 1] : 1005;
            return wsc_fail(c, "server", "closed the connection");
        }
        if (op == WSC_OP_PING) {       /* pong with the same payload, masked with key 0 */
            unsigned char pong[6 + 125] = { 0x80 | WSC_OP_PONG, (unsigned char)(0x80 | n) };
            memcpy(pong + 6, c->in + hl, (size_t)n);
            struct iovec v = { pong, 6 + (size_t)n };
            wsc_consume(c, hl + (size_t)n);
            if (wsc_send_all(c, &v, 1) < 0)
                return -1;
            continue;
        }
        if (op == WSC_OP_PONG) {
            wsc_consume(c, hl + (size_t)n);
            continue;
        }
        if (!(c->in[0] & 0x80))
            return wsc_fail(c, "reply", "fragmented reply");
        *payload = c->in + hl;
        *len = (size_t)n;
        return (int)hl;
    }
}

/* A client frame header for a FIN binary message of len bytes, without its mask key: its length. */
static size_t wsc_frame_header(unsigned char hdr[14], size_t len)
{
    hdr[0] = 0x80 | WSC_OP_BIN;
    if (len < 126) {
        hdr[1] = (unsigned char)(0x80 | len);
        return 2;
    }
    if (len <= 0xffff) {
        hdr[1] = 0x80 | 126, hdr[2] = (unsigned char)(len >> 8), hdr[3] = (unsigned char)len;
        return 4;
    }
    hdr[1] = 0x80 | 127;
    for (int i = 0; i < 8; i++)
        hdr[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    return 10;
}

/* XOR with the key (RFC 6455 5.3), eight bytes at a time. */
static void wsc_mask(unsigned char *dst, const unsigned char *src, size_t n, const unsigned char key[4])
{
    uint64_t k8;
    unsigned char kk[8] = { key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3] };
    memcpy(&k8, kk, 8);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, src + i, 8);
        x ^= k8;
        memcpy(dst + i, &x, 8);
    }
    for (; i < n; i++)
        dst[i] = src[i] ^ key[i & 3];
}

/* Sends msg as one binary message, masked with a fresh key into scratch (msg_len bytes). */
static int wsc_send_message(wsconn *c, const void *msg, size_t msg_len, unsigned char *scratch)
{
    unsigned char hdr[14];
    size_t hl = wsc_frame_header(hdr, msg_len);
    wsc_random(hdr + hl, 4);
    wsc_mask(scratch, msg, msg_len, hdr + hl);
    struct iovec v[2] = { { hdr, hl + 4 }, { scratch, msg_len } };
    return wsc_send_all(c, v, 2);
}

/* A close frame (masked, empty), then the socket closed. */
static void wsc_hang_up(wsconn *c)
{
    if (c->fd < 0)
        return;
    unsigned char bye[6] = { 0x80 | WSC_OP_CLOSE, 0x80, 0, 0, 0, 0 };
    send(c->fd, bye, sizeof bye, MSG_NOSIGNAL);
    close(c->fd);
    c->fd = -1;
    c->in_len = 0;
}

#endif
