/* xaddload: the ceiling for uploads — N threads, each with its own hiredis connection, doing
 * the XADD that common/store.c does for one frame (same fields, same MAXLEN) in a closed loop. */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "codec.h"
#include "redisurl.h"
#include "xalloc.h"

#define MAX_CONNS 256

static const char USAGE[] =
    "usage: xaddload [options] redis://HOST:PORT[/DB]\n"
    "  -c N        connections, one thread each (1, at most 256)\n"
    "  -d SECONDS  run time (10)\n"
    "  -b BYTES    frame bytes (100000)\n"
    "  -m MAXLEN   exact trim, as STREAM_MAXLEN (10)\n"
    "  -L LABEL    label of the stream key (bench)\n"
    "  -k KEY      stream key; with -K, connection i writes KEY<i> instead (cam)\n"
    "  -K          one stream per connection\n"
    "  -W W -H H   width and height fields (0, 0)\n"
    "  -F FIELD=VALUE  warnings, cone_polygons, pole_polygons or detection_items (\"\")\n"
    "each XADD: XADD stream_frame:<b64 label>|<b64 key> MAXLEN <m> * frame <bytes> warnings <-F>\n"
    "           cone_polygons <-F> pole_polygons <-F> detection_items <-F> width <W> height <H>\n"
    "           (what common/store.c writes for an upload without the optional JSON fields)\n"
    "summary:   key=value: conns requests ok errors rate lat_p50_ms lat_p90_ms lat_p99_ms\n"
    "           lat_max_ms client_cpu_s elapsed_s\n"
    "exit:      0 when every XADD succeeded, 1 otherwise, 2 usage/setup\n";

#define TOOL_NAME "xaddload"
#include "toolkit.h"

static struct {
    long conns, seconds, bytes, maxlen, per_conn_key;
    const char *label, *key, *width, *height;
    const char *meta[4];      /* warnings, cone_polygons, pole_polygons, detection_items */
    redis_url url;
} opt = { .conns = 1, .seconds = 10, .bytes = 100000, .maxlen = 10, .label = "bench", .key = "cam",
          .width = "0", .height = "0", .meta = { "", "", "", "" } };

static const char *const meta_names[4] = { "warnings", "cone_polygons", "pole_polygons", "detection_items" };

struct worker {
    pthread_t th;
    int idx;
    buf rkey;
    unsigned long ok, errors;
    uint32_t *lat;            /* microseconds per XADD */
    size_t n, cap;
    char err[256];
};

static unsigned char *frame;
static volatile sig_atomic_t stop;
static int64_t end_us;

static redisContext *connect_redis(char *err, size_t cap)
{
    const redis_url *u = &opt.url;
    struct timeval tv = { 5, 0 };
    redisContext *c = u->path[0] ? redisConnectUnixWithTimeout(u->path, tv)
                                 : redisConnectWithTimeout(u->host, u->port, tv);
    if (!c || c->err) {
        snprintf(err, cap, "connect: %s", c ? c->errstr : "out of memory");
        redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    for (int step = 0; step < 2; step++) {
        redisReply *r = NULL;
        if (step == 0 && u->password[0])
            r = u->user[0] ? redisCommand(c, "AUTH %s %s", u->user, u->password)
                           : redisCommand(c, "AUTH %s", u->password);
        else if (step == 1 && u->db)
            r = redisCommand(c, "SELECT %d", u->db);
        else
            continue;
        if (!r || r->type == REDIS_REPLY_ERROR) {
            snprintf(err, cap, "%s: %s", step ? "SELECT" : "AUTH", r ? r->str : c->errstr);
            freeReplyObject(r);
            redisFree(c);
            return NULL;
        }
        freeReplyObject(r);
    }
    return c;
}

static void record(struct worker *w, int64_t us)
{
    if (w->n == w->cap)
        w->lat = xrealloc(w->lat, (w->cap = w->cap ? 2 * w->cap : 8192) * sizeof *w->lat);
    w->lat[w->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    char maxlen[24];
    snprintf(maxlen, sizeof maxlen, "%ld", opt.maxlen);
    redisContext *c = connect_redis(w->err, sizeof w->err);
    if (!c) {
        w->errors++;
        return NULL;
    }
    /* The argument vector of store_xadd_frame(): head, then the seven fields in order. */
    const char *av[] = { "XADD", w->rkey.data, "MAXLEN", maxlen, "*", "frame", (const char *)frame,
                         "warnings", opt.meta[0], "cone_polygons", opt.meta[1], "pole_polygons", opt.meta[2],
                         "detection_items", opt.meta[3], "width", opt.width, "height", opt.height };
    size_t al[sizeof av / sizeof *av];
    for (size_t k = 0; k < sizeof av / sizeof *av; k++)
        al[k] = k == 6 ? (size_t)opt.bytes : strlen(av[k]);
    while (!stop && mono_us() < end_us) {
        int64_t t0 = mono_us();
        redisReply *r = redisCommandArgv(c, (int)(sizeof av / sizeof *av), av, al);
        if (!r || r->type == REDIS_REPLY_ERROR) {
            w->errors++;
            snprintf(w->err, sizeof w->err, "%s", r ? r->str : c->errstr);
            freeReplyObject(r);
            if (!r)
                break;   /* the connection is gone */
            continue;
        }
        freeReplyObject(r);
        w->ok++;
        record(w, mono_us() - t0);
    }
    redisFree(c);
    return NULL;
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void parse_args(int argc, char **argv)
{
    int c;
    const char *why;
    while ((c = getopt(argc, argv, "c:d:b:m:L:k:KW:H:F:")) != -1) {
        switch (c) {
        case 'c': opt.conns = number(optarg, "bad -c", 1, MAX_CONNS); break;
        case 'd': opt.seconds = number(optarg, "bad -d", 1, 86400); break;
        case 'b': opt.bytes = number(optarg, "bad -b", 1, 64L << 20); break;
        case 'm': opt.maxlen = number(optarg, "bad -m", 1, 1L << 30); break;
        case 'L': opt.label = optarg; break;
        case 'k': opt.key = optarg; break;
        case 'K': opt.per_conn_key = 1; break;
        case 'W': opt.width = optarg; number(optarg, "bad -W", 0, 1L << 30); break;
        case 'H': opt.height = optarg; number(optarg, "bad -H", 0, 1L << 30); break;
        case 'F': {
            char *eq = strchr(optarg, '=');
            int f = 0;
            if (eq)
                while (f < 4 && (strlen(meta_names[f]) != (size_t)(eq - optarg) ||
                                 strncmp(optarg, meta_names[f], (size_t)(eq - optarg))))
                    f++;
            if (!eq || f == 4)
                usage("bad -F (warnings=..., cone_polygons=..., pole_polygons=..., detection_items=...)");
            opt.meta[f] = eq + 1;
            break;
        }
        default: usage("bad option");
        }
    }
    if (optind != argc - 1)
        usage("exactly one redis:// URL expected");
    if (redisurl_parse(argv[optind], &opt.url, &why) < 0)
        usage(why);
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    /* hiredis formats each command into a fresh buffer of the frame's size: without this, glibc
       maps and trims it every time and the page faults make the client, not Redis, the limit. */
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    frame = xmalloc((size_t)opt.bytes);
    for (size_t got = 0; got < (size_t)opt.bytes;) {
        ssize_t r = getrandom(frame + got, (size_t)opt.bytes - got, 0);
        if (r > 0)
            got += (size_t)r;
    }
    struct worker *w = xcalloc((size_t)opt.conns, sizeof *w);
    int64_t t0 = mono_us();
    end_us = t0 + opt.seconds * 1000000;
    for (long i = 0; i < opt.conns; i++) {
        char key[300];
        snprintf(key, sizeof key, opt.per_conn_key ? "%s%ld" : "%s", opt.key, i);
        w[i].idx = (int)i;
        buf_init(&w[i].rkey);
        stream_key_build(&w[i].rkey, opt.label, key);
        if (pthread_create(&w[i].th, NULL, work, &w[i]) != 0) {
            fprintf(stderr, "xaddload: pthread_create failed\n");
            return 2;
        }
    }
    unsigned long ok = 0, errors = 0;
    size_t n = 0;
    for (long i = 0; i < opt.conns; i++) {
        pthread_join(w[i].th, NULL);
        ok += w[i].ok, errors += w[i].errors, n += w[i].n;
        if (w[i].err[0])
            fprintf(stderr, "xaddload: connection %ld: %s\n", i, w[i].err);
    }
    double elapsed = (double)(mono_us() - t0) / 1e6;
    uint32_t *all = xmalloc((n ? n : 1) * sizeof *all);
    size_t k = 0;
    for (long i = 0; i < opt.conns; i++) {
        memcpy(all + k, w[i].lat, w[i].n * sizeof *all);
        k += w[i].n;
        free(w[i].lat);
        buf_free(&w[i].rkey);
    }
    qsort(all, n, sizeof *all, cmp_u32);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    printf("conns=%ld requests=%lu ok=%lu errors=%lu rate=%.1f lat_p50_ms=%.3f lat_p90_ms=%.3f "
           "lat_p99_ms=%.3f lat_max_ms=%.3f client_cpu_s=%.2f elapsed_s=%.2f\n",
           opt.conns, ok + errors, ok, errors, (double)ok / elapsed, pct_ms(all, n, 50),
           pct_ms(all, n, 90), pct_ms(all, n, 99), pct_ms(all, n, 100), cpu, elapsed);
    free(all);
    free(w);
    free(frame);
    return errors ? 1 : 0;
}
