/* http: responses in FastAPI's shapes, CORS, and bearer authentication. */
#include "http.h"

#include <stdio.h>
#include <string.h>

#include "access.h"
#include "codec.h"
#include "jsonw.h"
#include "strlist.h"

void http_response_init(http_response *r)
{
    r->status = 200;
    r->content_type = NULL;
    buf_init(&r->headers);
    buf_init(&r->body);
}

void http_response_free(http_response *r)
{
    buf_free(&r->headers);
    buf_free(&r->body);
}

const char *http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

void http_add_header(http_response *r, const char *name, const char *value)
{
    if (strpbrk(value, "\r\n"))
        return;
    buf_printf(&r->headers, "%s: %s\r\n", name, value);
}

void http_set_detail(http_response *r, int status, const char *msg)
{
    r->status = status;
    buf_reset(&r->body);
    jsonw_detail(&r->body, msg);
}

void http_add_cors(http_response *r, const config *cfg, const http_request *req)
{
    if (strcmp(cfg->cors_allow_origins, "*") == 0) {
        http_add_header(r, "Access-Control-Allow-Origin", "*");
        return;
    }
    /* A restricted list echoes only an exact match; others get no grant. */
    http_add_header(r, "Vary", "Origin");
    if (req->origin && csv_contains(cfg->cors_allow_origins, req->origin))
        http_add_header(r, "Access-Control-Allow-Origin", req->origin);
}

void http_set_preflight(http_response *r, const config *cfg, const http_request *req, const char *methods)
{
    r->status = 204;
    buf_reset(&r->body);
    http_add_cors(r, cfg, req);
    http_add_header(r, "Access-Control-Allow-Methods", methods);
    http_add_header(r, "Access-Control-Allow-Headers", "Authorization, Content-Type");
    http_add_header(r, "Access-Control-Max-Age", "600");
}

void http_set_unavailable(http_response *r, const char *context, store *s)
{
    buf msg;
    buf_init(&msg);
    buf_printf(&msg, "%s: %s", context, store_error(s));
    http_set_detail(r, 503, msg.data);
    buf_free(&msg);
}

void http_set_unauthorized(http_response *r, const char *why)
{
    http_set_detail(r, 401, why);
    /* RFC 6750 §3: a 401 names the scheme. */
    http_add_header(r, "WWW-Authenticate", "Bearer");
}

int http_authenticate(const config *cfg, store *s, const http_request *req, auth_identity *id,
                      http_response *r)
{
    char why[300];
    switch (access_check(cfg, s, bearer_token(req->authorization), id, why, sizeof why)) {
    case ACCESS_OK:
        return 0;
    case ACCESS_UNAVAILABLE:
        http_set_detail(r, 503, why);
        return -1;
    default:
        http_set_unauthorized(r, why);
        return -1;
    }
}

void http_serialize(const http_response *r, buf *out)
{
    buf_printf(out, "Status: %d %s\r\n", r->status, http_reason(r->status));
    if (r->status != 204)
        buf_printf(out, "Content-Type: %s\r\n", r->content_type ? r->content_type : "application/json");
    buf_append(out, r->headers.data, r->headers.len);
    if (r->status != 204)
        buf_printf(out, "Content-Length: %zu\r\n", r->body.len);
    buf_puts(out, "\r\n");
    if (r->status != 204)
        buf_append(out, r->body.data, r->body.len);
}
