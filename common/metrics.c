/* metrics: the shared file (fixed layout, created atomically), per-process
 * slots, and the exposition. See metrics.h and README "Metrics". */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "wsio.h"

/* Bump MX_VERSION whenever the layout below changes: a process of another
 * build then refuses the file instead of misreading it. */
#define MX_MAGIC "SWMETRIC"
enum { MX_VERSION = 2, MX_SLOTS = 4096 };

enum mx_reason {
    MX_R_400, MX_R_401, MX_R_413, MX_R_415, MX_R_422, MX_R_503,
    MX_R_INVALID_HEADER, MX_R_MISSING_DELIMITER, MX_R_BAD_SIZE, MX_R_SHORT_FRAME, MX_R_OTHER,
    MX_REASON_COUNT
};
enum mx_program { MX_P_LABELS, MX_P_FRAMES, MX_P_STATUS, MX_P_AUTHORIZE, MX_P_WS_ADMIT, MX_P_WS_LABELS,
                  MX_P_WS_STREAM, MX_P_WS_FRAMES, MX_P_OTHER, MX_PROGRAM_COUNT };

static const char *const endpoint_names[MX_EP_COUNT] = { "/frames", "/ws/frames", "/ws/labels", "/ws/stream" };
static const char *const reason_names[MX_REASON_COUNT] = {
    "400", "401", "413", "415", "422", "503",
    "invalid_header", "missing_delimiter", "bad_size", "short_frame", "other",
};
/* The reasons each upload endpoint can give (bit i: reason i). */
static const unsigned reasons_of[MX_EP_COUNT] = {
    [MX_EP_FRAMES] = 1u << MX_R_400 | 1u << MX_R_401 | 1u << MX_R_413 | 1u << MX_R_415 | 1u << MX_R_422 |
                     1u << MX_R_503 | 1u << MX_R_OTHER,
    [MX_EP_WS_FRAMES] = 1u << MX_R_401 | 1u << MX_R_413 | 1u << MX_R_422 | 1u << MX_R_503 |
                        1u << MX_R_INVALID_HEADER | 1u << MX_R_MISSING_DELIMITER | 1u << MX_R_BAD_SIZE |
                        1u << MX_R_SHORT_FRAME | 1u << MX_R_OTHER,
};
static const char *const program_names[MX_PROGRAM_COUNT] = {
    "labels.fcgi", "frames.fcgi", "status.fcgi", "authorize.fcgi", "ws-admit", "ws-labels", "ws-stream",
    "ws-frames", "other",
};

/* One process. owner packs the pid (high half) and the low 32 bits of its
 * start time in clock ticks since boot (/proc/PID/stat field 22), so a pid
 * reused by another process never passes for the owner. ready == owner once
 * the owner has filled the other fields. */
typedef struct mx_slot {
    uint64_t owner;   /* 0: free */
    uint64_t ready;
    int64_t start_ms; /* wall clock, for streamweb_process_start_time_seconds */
    uint32_t program;
    uint32_t endpoint; /* 1 + mx_endpoint while serving a connection, else 0 */
} mx_slot;

typedef struct mx_counters {
    uint64_t stored[MX_EP_COUNT], stored_bytes[MX_EP_COUNT];
    uint64_t refused[MX_EP_COUNT][MX_REASON_COUNT];
    uint64_t sessions[MX_EP_COUNT];
    uint64_t delivered[MX_EP_COUNT], delivered_bytes[MX_EP_COUNT], undeliverable[MX_EP_COUNT];
    uint64_t skips[MX_EP_COUNT];
    uint64_t redis[MX_PROGRAM_COUNT][MX_REDIS_EVENTS];
    uint64_t slots_exhausted;
} mx_counters;

typedef struct mx_file {
    char magic[8];
    uint32_t version, size, nslots, reserved;
    int64_t created_ms;
    mx_counters c;
    mx_slot slots[MX_SLOTS];
} mx_file;

static struct {
    mx_file *f;
    mx_slot *slot;    /* this process's, or NULL if none was free */
    uint32_t program;
    char why[320];    /* metrics_state() */
} g = { .why = "metrics not opened" };

#define ADD(field, n) __atomic_fetch_add(&(field), (uint64_t)(n), __ATOMIC_RELAXED)
#define LOAD(field) __atomic_load_n(&(field), __ATOMIC_ACQUIRE)

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* State and start time of a process from /proc/PID/stat ("self" for ours):
 * 0, or -1 if it cannot be read. */
static int proc_stat(const char *pid, char *state, uint64_t *start_ticks)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0)
        return -1;
    text[n] = '\0';
    /* The command name (field 2) may hold anything: fields restart after its last ')'. */
    char *p = strrchr(text, ')');
    if (!p || p[1] != ' ')
        return -1;
    *state = p[2];
    p += 2;
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (!p)
            return -1;
        p++;
    }
    *start_ticks = strtoull(p, NULL, 10);
    return 0;
}

static uint64_t own_owner_word(void)
{
    char state;
    uint64_t ticks = 0;
    proc_stat("self", &state, &ticks);
    return (uint64_t)(uint32_t)getpid() << 32 | (uint32_t)ticks;
}

/* Whether the process owner names still runs: its pid exists, is no zombie
 * (killed but not yet reaped) and started when the owner did. Where /proc
 * cannot be read, existence is all we can tell. */
static bool owner_alive(uint64_t owner)
{
    char pid[16], state;
    uint64_t ticks;
    snprintf(pid, sizeof pid, "%u", (unsigned)(owner >> 32));
    if (proc_stat(pid, &state, &ticks) == 0)
        return state != 'Z' && state != 'X' && (uint32_t)ticks == (uint32_t)owner;
    return errno != ENOENT && (kill((pid_t)(owner >> 32), 0) == 0 || errno == EPERM);
}

/* Takes a free slot, else (rarely) one whose owner died without giving it back. */
static mx_slot *claim_slot(void)
{
    uint64_t me = own_owner_word();
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < MX_SLOTS; i++) {
            mx_slot *s = &g.f->slots[i];
            uint64_t cur = LOAD(s->owner);
            if ((cur != 0 && (pass == 0 || owner_alive(cur))) ||
                !__atomic_compare_exchange_n(&s->owner, &cur, me, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
                continue;
            s->start_ms = wall_ms();
            s->program = g.program;
            __atomic_store_n(&s->endpoint, 0, __ATOMIC_RELAXED);
            __atomic_store_n(&s->ready, me, __ATOMIC_RELEASE);
            return s;
        }
    }
    ADD(g.f->c.slots_exhausted, 1);
    LOG_WARN("metrics: all %d process slots are taken: this process is left out of the gauges", MX_SLOTS);
    return NULL;
}

static void release_slot(void)
{
    mx_slot *s = g.slot;
    g.slot = NULL;
    if (!s)
        return;
    __atomic_store_n(&s->ready, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&s->endpoint, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&s->owner, 0, __ATOMIC_RELEASE);
}

/* A forked worker is a process of its own: it takes its own slot (the
 * parent keeps the inherited one). */
static void after_fork_child(void)
{
    if (g.f)
        g.slot = claim_slot();
}

static void at_exit(void)
{
    release_slot();
}

/* Writes a fresh file under a temporary name and links it into place: the
 * path only ever names a complete file, and of processes racing to create it
 * exactly one link succeeds (the others find EEXIST and use the winner's). */
static int create_file(const char *path, char *why, size_t whylen)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.new.XXXXXX", path) >= (int)sizeof tmp) {
        snprintf(why, whylen, "path too long");
        return -1;
    }
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(why, whylen, "cannot create it: %s", strerror(errno));
        return -1;
    }
    mx_file hdr;
    memset(&hdr, 0, offsetof(mx_file, c));
    memcpy(hdr.magic, MX_MAGIC, 8);
    hdr.version = MX_VERSION;
    hdr.size = sizeof(mx_file);
    hdr.nslots = MX_SLOTS;
    hdr.created_ms = wall_ms();
    int rc = ftruncate(fd, sizeof(mx_file)) == 0 && pwrite(fd, &hdr, offsetof(mx_file, c), 0) ==
             (ssize_t)offsetof(mx_file, c) ? 0 : -1;
    if (rc == 0 && link(tmp, path) < 0 && errno != EEXIST)
        rc = -1;
    if (rc < 0)
        snprintf(why, whylen, "cannot create it: %s", strerror(errno));
    unlink(tmp);
    close(fd);
    return rc;
}

/* Opens path, creating it if absent; refuses what is not a file of ours. */
static int open_file(const char *path, int *fd, char *why, size_t whylen)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        *fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
        if (*fd >= 0)
            return 0;
        if (errno != ENOENT) {
            snprintf(why, whylen, "cannot open it: %s", errno == ELOOP ? "it is a symbolic link" : strerror(errno));
            return -1;
        }
        if (create_file(path, why, whylen) < 0)
            return -1;
    }
    snprintf(why, whylen, "it keeps disappearing");
    return -1;
}

static int check_file(int fd, const mx_file *f, size_t mapped, char *why, size_t whylen)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return snprintf(why, whylen, "not a regular file"), -1;
    if (st.st_uid != geteuid())
        return snprintf(why, whylen, "owned by uid %u, not by this user (uid %u)", (unsigned)st.st_uid,
                        (unsigned)geteuid()), -1;
    if (!f || mapped < sizeof f->magic || memcmp(f->magic, MX_MAGIC, 8) != 0)
        return snprintf(why, whylen, "not a streamweb metrics file"), -1;
    if (st.st_size != (off_t)sizeof(mx_file) || f->version != MX_VERSION || f->size != sizeof(mx_file) ||
        f->nslots != MX_SLOTS)
        return snprintf(why, whylen, "a streamweb metrics file of another layout (%lld bytes, version %u; this "
                        "build: %zu, %u): remove it and restart every streamweb process", (long long)st.st_size,
                        mapped >= offsetof(mx_file, c) ? f->version : 0, sizeof(mx_file), MX_VERSION), -1;
    return 0;
}

static uint32_t program_index(const char *program)
{
    for (uint32_t i = 0; i < MX_P_OTHER; i++)
        if (strcmp(program, program_names[i]) == 0)
            return i;
    return MX_P_OTHER;
}

/* Maps what there is of the file, up to our layout's size, so that a short
 * foreign file can be read far enough to be told apart. */
static mx_file *map_file(int fd, size_t *mapped)
{
    struct stat st;
    *mapped = 0;
    if (fstat(fd, &st) < 0 || st.st_size < (off_t)8)
        return NULL;
    size_t n = (size_t)st.st_size < sizeof(mx_file) ? (size_t)st.st_size : sizeof(mx_file);
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return NULL;
    *mapped = n;
    return p;
}

int metrics_open(const char *path, const char *program)
{
    static bool hooks;
    char why[256] = "";
    int fd;
    size_t mapped = 0;
    mx_file *f = NULL;
    metrics_close();
    if (!path || !*path) {
        snprintf(g.why, sizeof g.why, "metrics are off (METRICS_FILE=off)");
        return 0;
    }
    int rc = open_file(path, &fd, why, sizeof why);
    if (rc == 0) {
        f = map_file(fd, &mapped);
        rc = check_file(fd, f, mapped, why, sizeof why);
        close(fd);
    }
    if (rc < 0) {
        if (f)
            munmap(f, mapped);
        snprintf(g.why, sizeof g.why, "METRICS_FILE=%s: %s", path, why);
        LOG_ERROR("metrics off: %s; serving without metrics", g.why);
        return -1;
    }
    g.f = f;
    g.program = program_index(program);
    g.why[0] = '\0';
    if (!hooks) {
        pthread_atfork(NULL, NULL, after_fork_child);
        atexit(at_exit);
        hooks = true;
    }
    g.slot = claim_slot();
    return 0;
}

void metrics_close(void)
{
    if (!g.f)
        return;
    release_slot();
    munmap(g.f, sizeof(mx_file));
    g.f = NULL;
    snprintf(g.why, sizeof g.why, "metrics closed");
}

const char *metrics_state(void)
{
    return g.f ? NULL : g.why;
}

static enum mx_reason reason_of_status(int status)
{
    switch (status) {
    case 400: return MX_R_400;
    case 401: return MX_R_401;
    case 413: return MX_R_413;
    case 415: return MX_R_415;
    case 422: return MX_R_422;
    case 503: return MX_R_503;
    default: return MX_R_OTHER;
    }
}

void metrics_upload(enum mx_endpoint ep, int status, size_t bytes)
{
    if (!g.f)
        return;
    if (status == 200) {
        ADD(g.f->c.stored[ep], 1);
        ADD(g.f->c.stored_bytes[ep], bytes);
    } else {
        ADD(g.f->c.refused[ep][reason_of_status(status)], 1);
    }
}

/* upframe's error texts (ws/frames replies them as they are), by kind. */
static enum mx_reason reason_of_error(const char *error)
{
    static const struct { const char *prefix; enum mx_reason r; } kinds[] = {
        { "Invalid JSON header", MX_R_INVALID_HEADER }, { "expected a JSON header", MX_R_INVALID_HEADER },
        { "missing --IMG-- delimiter", MX_R_MISSING_DELIMITER }, { "size must", MX_R_BAD_SIZE },
        { "frame shorter than its size", MX_R_SHORT_FRAME }, { "frame larger than", MX_R_413 },
        { "JSON header larger than", MX_R_413 },
    };
    for (size_t i = 0; error && i < sizeof kinds / sizeof kinds[0]; i++)
        if (strncmp(error, kinds[i].prefix, strlen(kinds[i].prefix)) == 0)
            return kinds[i].r;
    return MX_R_OTHER;
}

void metrics_upload_error(const char *error)
{
    if (g.f)
        ADD(g.f->c.refused[MX_EP_WS_FRAMES][reason_of_error(error)], 1);
}

void metrics_connected(enum mx_endpoint ep)
{
    if (!g.f)
        return;
    ADD(g.f->c.sessions[ep], 1);
    if (g.slot)
        __atomic_store_n(&g.slot->endpoint, (uint32_t)ep + 1, __ATOMIC_RELEASE);
}

void metrics_disconnected(void)
{
    if (g.slot)
        __atomic_store_n(&g.slot->endpoint, 0, __ATOMIC_RELEASE);
}

void metrics_frame_sent(enum mx_endpoint ep, int wsio_rc, size_t bytes)
{
    if (!g.f)
        return;
    if (wsio_rc == WSIO_OK) {
        ADD(g.f->c.delivered[ep], 1);
        ADD(g.f->c.delivered_bytes[ep], bytes);
    } else if (wsio_rc == WSIO_TOO_BIG) {
        ADD(g.f->c.undeliverable[ep], 1);
    }
}

void metrics_skipped(enum mx_endpoint ep)
{
    if (g.f)
        ADD(g.f->c.skips[ep], 1);
}

void metrics_redis(enum mx_redis_event ev)
{
    if (g.f)
        ADD(g.f->c.redis[g.program][ev], 1);
}

/* ---- exposition ---- */

static void family(buf *o, const char *name, const char *type, const char *help)
{
    buf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One counter per endpoint of mask (bit i: endpoint i). */
static void by_endpoint(buf *o, const char *name, const char *help, const uint64_t *v, unsigned mask)
{
    family(o, name, "counter", help);
    for (int ep = 0; ep < MX_EP_COUNT; ep++)
        if (mask & 1u << ep)
            buf_printf(o, "%s{endpoint=\"%s\"} %llu\n", name, endpoint_names[ep],
                       (unsigned long long)__atomic_load_n(&v[ep], __ATOMIC_RELAXED));
}

static void by_program(buf *o, const char *name, const char *help, enum mx_redis_event ev)
{
    family(o, name, "counter", help);
    for (int p = 0; p < MX_PROGRAM_COUNT; p++)
        buf_printf(o, "%s{program=\"%s\"} %llu\n", name, program_names[p],
                   (unsigned long long)__atomic_load_n(&g.f->c.redis[p][ev], __ATOMIC_RELAXED));
}

static void expose_uploads(buf *o)
{
    const mx_counters *c = &g.f->c;
    const unsigned uploads = 1u << MX_EP_FRAMES | 1u << MX_EP_WS_FRAMES;
    by_endpoint(o, "streamweb_uploads_stored_total", "Frames stored, by upload endpoint.", c->stored, uploads);
    by_endpoint(o, "streamweb_uploads_stored_bytes_total", "Image bytes stored, by upload endpoint.",
                c->stored_bytes, uploads);
    family(o, "streamweb_uploads_refused_total", "counter",
           "Uploads refused, by endpoint and reason (an HTTP status, or how a /ws/frames message was malformed).");
    for (int ep = 0; ep < MX_EP_COUNT; ep++)
        for (int r = 0; r < MX_REASON_COUNT; r++)
            if (reasons_of[ep] & 1u << r)
                buf_printf(o, "streamweb_uploads_refused_total{endpoint=\"%s\",reason=\"%s\"} %llu\n",
                           endpoint_names[ep], reason_names[r],
                           (unsigned long long)__atomic_load_n(&c->refused[ep][r], __ATOMIC_RELAXED));
}

static void expose_viewers(buf *o)
{
    const mx_counters *c = &g.f->c;
    const unsigned ws = 1u << MX_EP_WS_FRAMES | 1u << MX_EP_WS_LABELS | 1u << MX_EP_WS_STREAM;
    const unsigned viewers = 1u << MX_EP_WS_LABELS | 1u << MX_EP_WS_STREAM;
    by_endpoint(o, "streamweb_ws_sessions_total", "WebSocket connections admitted, by endpoint.", c->sessions, ws);
    by_endpoint(o, "streamweb_frames_delivered_total", "Frame messages written to viewers.", c->delivered, viewers);
    by_endpoint(o, "streamweb_frames_delivered_bytes_total", "Image bytes of the frame messages written to viewers.",
                c->delivered_bytes, viewers);
    by_endpoint(o, "streamweb_frames_undeliverable_total",
                "Frames a viewer got {\"error\": \"frame too large\"} for: the host's pipes cannot carry them whole.",
                c->undeliverable, viewers);
    by_endpoint(o, "streamweb_viewer_skips_total",
                "Times a viewer that fell behind was sent a stream's newest frame, passing over one or more.",
                c->skips, 1u << MX_EP_WS_LABELS);
}

/* The gauges, from the slots of processes alive now; slots of processes that
 * died without giving theirs back are freed on the way. */
static void expose_processes(buf *o)
{
    unsigned conns[MX_EP_COUNT] = { 0 }, procs[MX_PROGRAM_COUNT] = { 0 };
    buf starts;
    buf_init(&starts);
    for (int i = 0; i < MX_SLOTS; i++) {
        mx_slot *s = &g.f->slots[i];
        uint64_t owner = LOAD(s->owner);
        if (!owner || LOAD(s->ready) != owner)
            continue; /* free, or its owner is still filling it in */
        if (!owner_alive(owner)) {
            __atomic_compare_exchange_n(&s->owner, &owner, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
            continue;
        }
        uint32_t prog = s->program < MX_PROGRAM_COUNT ? s->program : MX_P_OTHER;
        uint32_t ep = LOAD(s->endpoint);
        procs[prog]++;
        if (ep >= 1 && ep <= MX_EP_COUNT)
            conns[ep - 1]++;
        buf_printf(&starts, "streamweb_process_start_time_seconds{program=\"%s\",pid=\"%u\"} %.3f\n",
                   program_names[prog], (unsigned)(owner >> 32), (double)s->start_ms / 1000);
    }
    family(o, "streamweb_ws_connections", "gauge",
           "WebSocket connections open now: viewers on /ws/labels and /ws/stream, cameras on /ws/frames.");
    for (int ep = MX_EP_WS_FRAMES; ep < MX_EP_COUNT; ep++)
        buf_printf(o, "streamweb_ws_connections{endpoint=\"%s\"} %u\n", endpoint_names[ep], conns[ep]);
    family(o, "streamweb_processes", "gauge", "streamweb processes running now, by program.");
    for (int p = 0; p < MX_PROGRAM_COUNT; p++)
        buf_printf(o, "streamweb_processes{program=\"%s\"} %u\n", program_names[p], procs[p]);
    family(o, "streamweb_process_start_time_seconds", "gauge",
           "Start time of each streamweb process running now, seconds since the Unix epoch.");
    buf_append(o, starts.data, starts.len);
    buf_free(&starts);
}

int metrics_expose(buf *out)
{
    if (!g.f)
        return -1;
    expose_uploads(out);
    expose_viewers(out);
    by_program(out, "streamweb_redis_errors_total",
               "Redis commands that failed (refused, lost or timed-out connection, error reply, or not tried "
               "while reconnecting backs off), by program.", MX_REDIS_ERROR);
    by_program(out, "streamweb_redis_connections_total", "Connections to Redis opened, by program.",
               MX_REDIS_CONNECT);
    by_program(out, "streamweb_redis_reconnects_total",
               "Connections to Redis opened again after one failed or was closed, by program.", MX_REDIS_RECONNECT);
    expose_processes(out);
    family(out, "streamweb_metrics_slots_exhausted_total", "counter",
           "Processes that found every metrics slot taken and are left out of the gauges.");
    buf_printf(out, "streamweb_metrics_slots_exhausted_total %llu\n",
               (unsigned long long)__atomic_load_n(&g.f->c.slots_exhausted, __ATOMIC_RELAXED));
    family(out, "streamweb_metrics_created_time_seconds", "gauge",
           "When the metrics file was created: every counter counts from then.");
    buf_printf(out, "streamweb_metrics_created_time_seconds %.3f\n", (double)g.f->created_ms / 1000);
    return 0;
}
