/* fcgi_run: accept, parse request facts, call the handler, answer, repeat. */
#include "fcgi_run.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
    FCGX_ShutdownPending();
}

/* No SA_RESTART: a signal makes the blocking accept() return, so an idle
 * worker exits at once. During a request the signals are blocked instead, so
 * a read of the body is never cut short: in-flight requests finish. */
static void on_child(int sig)
{
    (void)sig; /* only wakes sigsuspend in the master */
}

/* Collects exited workers; returns how many are still running. A worker that
 * died while not stopping is logged and left for the caller to replace, after
 * a pause so a worker that cannot start does not spin. */
static int reap(pid_t *pids, int workers)
{
    int status, live = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < workers; i++)
            if (pids[i] == pid)
                pids[i] = 0;
        if (!stopping) {
            LOG_ERROR("worker %d %s %d; starting another", (int)pid,
                      WIFSIGNALED(status) ? "killed by signal" : "exited with",
                      WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
            sleep(1);
        }
    }
    for (int i = 0; i < workers; i++)
        live += pids[i] > 0;
    return live;
}

static void install_signals(sigset_t *mask)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(mask);
    sigaddset(mask, SIGTERM);
    sigaddset(mask, SIGINT);
}

static long long content_length(FCGX_ParamArray env)
{
    const char *v = FCGX_GetParam("CONTENT_LENGTH", env);
    char *end;
    if (!v || !*v)
        return -1;
    long long n = strtoll(v, &end, 10);
    return *end || n < 0 ? -1 : n;
}

static void read_request(FCGX_Request *rq, http_request *req)
{
    FCGX_ParamArray env = rq->envp;
    req->method = FCGX_GetParam("REQUEST_METHOD", env);
    req->content_type = FCGX_GetParam("CONTENT_TYPE", env);
    req->authorization = FCGX_GetParam("HTTP_AUTHORIZATION", env);
    req->origin = FCGX_GetParam("HTTP_ORIGIN", env);
    req->remote_addr = FCGX_GetParam("REMOTE_ADDR", env);
    req->x_real_ip = FCGX_GetParam("HTTP_X_REAL_IP", env);
    req->content_length = content_length(env);
    if (!req->method)
        req->method = "GET";
}

/* Whatever body the handler left unread is read and dropped, so the web
 * server never sees its upload cut off by our early answer. */
static void drain_body(FCGX_Request *rq)
{
    char scratch[65536];
    while (FCGX_GetStr(scratch, sizeof scratch, rq->in) > 0)
        ;
}

static void serve_one(FCGX_Request *rq, fcgi_handler handler, void *app, buf *out)
{
    http_request req;
    http_response resp;
    read_request(rq, &req);
    http_response_init(&resp);
    handler(rq, &req, &resp, app);
    drain_body(rq);
    buf_reset(out);
    http_serialize(&resp, out);
    if (FCGX_PutStr(out->data, (int)out->len, rq->out) < 0)
        LOG_INFO("%s: client went away before the answer", req.method);
    const char *uri = FCGX_GetParam("REQUEST_URI", rq->envp);
    LOG_DEBUG("%s %s from %s -> %d", req.method, uri ? uri : "-",
              req.remote_addr ? req.remote_addr : "-", resp.status);
    http_response_free(&resp);
}

/* Pre-forks the workers and keeps their number up. spawn-fcgi's own -F
 * sends workers' stderr to /dev/null and never replaces a dead one; run under
 * `spawn-fcgi -n` instead, this master keeps the log and the pool. Returns in
 * each worker (1); the master returns 0 once all workers have stopped. */
static int supervise(int workers, sigset_t *mask)
{
    pid_t *pids = calloc((size_t)workers, sizeof *pids);
    sigset_t waitmask;
    sigaddset(mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, mask, &waitmask);
    sigdelset(&waitmask, SIGTERM);
    sigdelset(&waitmask, SIGINT);
    sigdelset(&waitmask, SIGCHLD);
    struct sigaction sa = { .sa_handler = on_child };
    sigaction(SIGCHLD, &sa, NULL);
    for (;;) {
        for (int i = 0; i < workers && !stopping; i++) {
            if (pids[i] > 0)
                continue;
            pids[i] = fork();
            if (pids[i] == 0) {
                free(pids);
                signal(SIGCHLD, SIG_DFL);
                sigdelset(mask, SIGCHLD);
                return 1;
            }
        }
        int live = reap(pids, workers);
        if (stopping && live == 0)
            break;
        if (stopping)
            for (int i = 0; i < workers; i++)
                if (pids[i] > 0)
                    kill(pids[i], SIGTERM);
        if (live == workers || stopping)
            sigsuspend(&waitmask);
    }
    free(pids);
    return 0;
}

void fcgi_open_stores(const config *cfg, store **write, store **read)
{
    *write = store_new(cfg->redis_url, cfg->redis_timeout_ms);
    *read = strcmp(cfg->redis_read_url, cfg->redis_url) == 0 ? *write
                                                             : store_new(cfg->redis_read_url, cfg->redis_timeout_ms);
}

void fcgi_close_stores(store *write, store *read)
{
    if (read != write)
        store_free(read);
    store_free(write);
}

int fcgi_run(fcgi_handler handler, void *app, int workers)
{
    FCGX_Request rq;
    sigset_t mask;
    buf out;
    install_signals(&mask);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    if (workers > 1 && supervise(workers, &mask) == 0)
        return 0;
    if (FCGX_Init() != 0 || FCGX_InitRequest(&rq, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
        LOG_ERROR("cannot initialise libfcgi");
        return 1;
    }
    buf_init(&out);
    LOG_INFO("ready");
    while (!stopping) {
        sigprocmask(SIG_UNBLOCK, &mask, NULL);
        int rc = stopping ? -1 : FCGX_Accept_r(&rq);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        if (rc < 0) {
            if (!stopping && rc != -EINTR)
                LOG_ERROR("accept failed (%d): is this running under spawn-fcgi?", rc);
            if (!stopping && rc != -EINTR)
                break;
            continue;
        }
        serve_one(&rq, handler, app, &out);
        FCGX_Finish_r(&rq);
    }
    FCGX_Free(&rq, 1);
    buf_free(&out);
    LOG_INFO("stopped");
    return stopping ? 0 : 1;
}
