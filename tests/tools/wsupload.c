/* wsupload: /ws/frames send-and-wait load — N connections (one thread each) each sending an
 * upload message, waiting for its JSON reply, and sending the next; round trips measured. */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "buf.h"
#include "xalloc.h"

#define MAX_CONNS 256
#define IO_TIMEOUT_S 10         /* a reply (or room to send) must come within this */

static const char USAGE[] =
    "usage: wsupload [options] ws://HOST:PORT/ws/frames?token=T\n"
    "  -c N        connections, one thread each (1, at most 256)\n"
    "  -d SECONDS  run time (10)\n"
    "  -b BYTES    frame bytes (100000, random, declared with \"size\")\n"
    "  -u          no \"size\": the server must find the end of random bytes by itself\n"
    "  -L LABEL    label (bench)        -k KEY  key; connection i uses KEY<i> (cam)\n"
    "  -H 'Name: value'  extra handshake header (e.g. Authorization: Bearer T)\n"
    "message:      {\"label\":L,\"key\":K<i>,\"width\":1280,\"height\":720,\"size\":B}--IMG--<B bytes>,\n"
    "              one masked binary WebSocket frame; the next is sent once the reply is in;\n"
    "              after an error reply the connection is replaced (stray replies may follow)\n"
    "summary:      key=value: conns requests ok errors conn_errors reconnects rate lat_p50_ms lat_p90_ms\n"
    "              lat_p99_ms lat_max_ms client_cpu_s elapsed_s (latency = send start to reply)\n"
    "exit:         0 when every message was answered ok, 1 otherwise, 2 usage/setup\n";

#define TOOL_NAME "wsupload"
#include "toolkit.h"
#include "wsconn.h"

static struct {
    long conns, seconds, bytes;
    int unsized;
    const char *label, *key, *hdr;
    wsc_target target;
} opt = { .conns = 1, .seconds = 10, .bytes = 100000, .label = "bench", .key = "cam" };

struct worker {
    pthread_t th;
    int idx;
    unsigned long ok, errors, conn_errors, reconnects;
    uint32_t *lat;             /* microseconds per round trip */
    size_t n, cap;
    wsconn c;
};

static unsigned char *frame;
static volatile sig_atomic_t stop;
static int64_t end_us;

static void record(struct worker *w, int64_t us)
{
    if (w->n == w->cap)
        w->lat = xrealloc(w->lat, (w->cap = w->cap ? 2 * w->cap : 8192) * sizeof *w->lat);
    w->lat[w->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* Uploads until the end of the run (0), or until an error reply (1: the server may answer the
   rest of that message separately, so the caller starts over on a new connection), or -1. */
static int upload_loop(struct worker *w)
{
    int rc = 0;
    buf msg;
    buf_init(&msg);
    buf_printf(&msg, "{\"label\": \"%s\", \"key\": \"%s%d\", \"width\": 1280, \"height\": 720", opt.label, opt.key,
               w->idx);
    if (!opt.unsized)
        buf_printf(&msg, ", \"size\": %ld", opt.bytes);
    buf_puts(&msg, "}--IMG--");
    buf_append(&msg, frame, (size_t)opt.bytes);
    unsigned char *masked = xmalloc(msg.len);
    while (!stop && mono_us() < end_us) {
        int64_t t0 = mono_us();
        const unsigned char *p;
        size_t n;
        int used;
        if (wsc_send_message(&w->c, msg.data, msg.len, masked) < 0 || (used = wsc_read_message(&w->c, &p, &n)) < 0) {
            w->conn_errors++;
            rc = -1;
            break;
        }
        if (memmem(p, n, "\"status\": \"ok\"", 14)) {
            w->ok++;
            record(w, mono_us() - t0);
        } else {
            if (!w->errors)
                snprintf(w->c.err, sizeof w->c.err, "reply: %.*s", (int)(n > 200 ? 200 : n), (const char *)p);
            w->errors++;
            rc = 1;
            break;
        }
        wsc_consume(&w->c, (size_t)used + n);
    }
    free(masked);
    buf_free(&msg);
    return rc;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    for (int rc = 1; rc == 1 && !stop && mono_us() < end_us;) {
        if (wsc_open(&w->c, &opt.target, opt.hdr, IO_TIMEOUT_S) < 0) {
            w->conn_errors++;
            rc = -1;
        } else {
            rc = upload_loop(w);
        }
        wsc_hang_up(&w->c);
        w->reconnects += rc == 1;
    }
    return NULL;
}

static void parse_args(int argc, char **argv)
{
    int c;
    while ((c = getopt(argc, argv, "c:d:b:uL:k:H:")) != -1) {
        switch (c) {
        case 'c': opt.conns = number(optarg, "bad -c", 1, MAX_CONNS); break;
        case 'd': opt.seconds = number(optarg, "bad -d", 1, 86400); break;
        case 'b': opt.bytes = number(optarg, "bad -b", 1, 64L << 20); break;
        case 'u': opt.unsized = 1; break;
        case 'L': opt.label = optarg; break;
        case 'k': opt.key = optarg; break;
        case 'H':
            if (!strchr(optarg, ':') || strpbrk(optarg, "\r\n"))
                usage("bad -H header");
            opt.hdr = optarg;
            break;
        default: usage("bad option");
        }
    }
    if (optind != argc - 1)
        usage("exactly one ws:// URL expected");
    if (strpbrk(opt.label, "\"\\") || strpbrk(opt.key, "\"\\"))
        usage("-L and -k must not contain quotes or backslashes");
    const char *why;
    if (wsc_target_parse(&opt.target, argv[optind], &why) < 0)
        usage(why);
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    frame = xmalloc((size_t)opt.bytes);
    wsc_random(frame, (size_t)opt.bytes);
    struct worker *w = xcalloc((size_t)opt.conns, sizeof *w);
    int64_t t0 = mono_us();
    end_us = t0 + opt.seconds * 1000000;
    for (long i = 0; i < opt.conns; i++) {
        w[i].idx = (int)i, w[i].c.fd = -1;
        if (pthread_create(&w[i].th, NULL, work, &w[i]) != 0) {
            fprintf(stderr, "wsupload: pthread_create failed\n");
            return 2;
        }
    }
    unsigned long ok = 0, errors = 0, conn_errors = 0, reconnects = 0;
    size_t n = 0;
    for (long i = 0; i < opt.conns; i++) {
        pthread_join(w[i].th, NULL);
        ok += w[i].ok, errors += w[i].errors, conn_errors += w[i].conn_errors, n += w[i].n;
        reconnects += w[i].reconnects;
        if (w[i].c.err[0])
            fprintf(stderr, "wsupload: connection %ld: %s\n", i, w[i].c.err);
    }
    double elapsed = (double)(mono_us() - t0) / 1e6;
    uint32_t *all = xmalloc((n ? n : 1) * sizeof *all);
    size_t k = 0;
    for (long i = 0; i < opt.conns; i++) {
        memcpy(all + k, w[i].lat, w[i].n * sizeof *all);
        k += w[i].n;
        free(w[i].lat);
    }
    qsort(all, n, sizeof *all, cmp_u32);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    printf("conns=%ld requests=%lu ok=%lu errors=%lu conn_errors=%lu reconnects=%lu rate=%.1f lat_p50_ms=%.3f "
           "lat_p90_ms=%.3f lat_p99_ms=%.3f lat_max_ms=%.3f client_cpu_s=%.2f elapsed_s=%.2f\n",
           opt.conns, ok + errors, ok, errors, conn_errors, reconnects, (double)ok / elapsed, pct_ms(all, n, 50),
           pct_ms(all, n, 90), pct_ms(all, n, 99), pct_ms(all, n, 100), cpu, elapsed);
    free(all);
    free(w);
    free(frame);
    return errors || conn_errors ? 1 : 0;
}
