/* fcgi_run: the request loop both FastCGI responders share (libfcgi FCGX_* API). */
#ifndef SW_FCGI_RUN_H
#define SW_FCGI_RUN_H

#include <fcgiapp.h>

#include "http.h"

/* Handles one request: may read the body from rq->in; fills resp. */
typedef void (*fcgi_handler)(FCGX_Request *rq, const http_request *req, http_response *resp, void *app);

/* Accepts requests on the socket spawn-fcgi handed us (fd 0) until SIGTERM or
 * SIGINT; each request is answered whole before the signal is acted on. With
 * workers > 1 the process pre-forks that many workers and replaces any that
 * dies. Returns the process exit code. */
int fcgi_run(fcgi_handler handler, void *app, int workers);

/* A responder's Redis stores: *write for REDIS_URL, *read for REDIS_READ_URL
 * (where viewers read; the same store when both name one server). */
void fcgi_open_stores(const config *cfg, store **write, store **read);
void fcgi_close_stores(store *write, store *read);

#endif
