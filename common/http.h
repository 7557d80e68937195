/* http: request facts, JSON responses, CORS and bearer authentication for the
 * FastCGI responders (which only move bytes between libfcgi and this). */
#ifndef SW_HTTP_H
#define SW_HTTP_H

#include "auth.h"
#include "buf.h"
#include "config.h"
#include "store.h"

typedef struct http_request {
    const char *method;
    const char *content_type;
    const char *authorization;
    const char *origin;
    const char *remote_addr;
    const char *x_real_ip;
    long long content_length; /* -1 when not given */
} http_request;

typedef struct http_response {
    int status;
    const char *content_type; /* NULL: application/json, as every API answer */
    buf headers; /* "Name: value\r\n" lines */
    buf body;
} http_response;

void http_response_init(http_response *r);
void http_response_free(http_response *r);
const char *http_reason(int status);

/* Adds a header; a value holding CR or LF is dropped (no header injection). */
void http_add_header(http_response *r, const char *name, const char *value);
/* Sets status and a {"detail": msg} body. */
void http_set_detail(http_response *r, int status, const char *msg);
/* 503 {"detail": "<context>: <what the store says>"}: Redis is away. */
void http_set_unavailable(http_response *r, const char *context, store *s);
/* 401 {"detail": why} with WWW-Authenticate: Bearer. */
void http_set_unauthorized(http_response *r, const char *why);
/* CORS headers for the request's Origin (CORS_ALLOW_ORIGINS). */
void http_add_cors(http_response *r, const config *cfg, const http_request *req);
/* The 204 answer to an OPTIONS preflight. */
void http_set_preflight(http_response *r, const config *cfg, const http_request *req, const char *methods);
/* Verifies the bearer token (and, if configured, its jti in Redis). 0: id is
 * filled; -1: r holds the 401 (or 503) to send. */
int http_authenticate(const config *cfg, store *s, const http_request *req, auth_identity *id,
                      http_response *r);
/* The whole CGI-style response: "Status: ...", headers, blank line, body. */
void http_serialize(const http_response *r, buf *out);

#endif
