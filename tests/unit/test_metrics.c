/* test_metrics: the shared metrics file across real processes (fork): counts
 * add up, creation races leave one file, foreign files are refused, gauges
 * follow live processes (a SIGKILLed or zombie one counts no more), and the
 * exposition is well formed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "log.h"
#include "metrics.h"
#include "wsio.h"

static char dir[64], path[128];

/* The value of one sample ("name{labels}" exactly), -1 if absent. */
static long long sample(const char *series)
{
    buf b;
    buf_init(&b);
    long long v = -1;
    if (metrics_expose(&b) == 0) {
        size_t n = strlen(series);
        for (char *line = b.data; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
            if (strncmp(line, series, n) == 0 && line[n] == ' ')
                v = strtoll(line + n + 1, NULL, 10);
    }
    buf_free(&b);
    return v;
}

static int count_lines(const char *prefix)
{
    buf b;
    buf_init(&b);
    int n = 0;
    metrics_expose(&b);
    for (char *line = b.data; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        n += strncmp(line, prefix, strlen(prefix)) == 0;
    buf_free(&b);
    return n;
}

static int files_in_dir(void)
{
    int n = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void test_create_and_count(void)
{
    CHECK(metrics_open(path, "frames.fcgi") == 0, "created");
    CHECK(metrics_state() == NULL, "counting: %s", metrics_state());
    struct stat st;
    CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) == 0, "a private regular file");
    CHECK(files_in_dir() == 1, "no temporary file left");
    CHECK(sample("streamweb_uploads_stored_total{endpoint=\"/frames\"}") == 0, "starts at 0");
    for (int i = 0; i < 3; i++)
        metrics_upload(MX_EP_FRAMES, 200, 100);
    metrics_upload(MX_EP_WS_FRAMES, 200, 7);
    int statuses[] = { 400, 401, 413, 415, 422, 503, 500 };
    const char *names[] = { "400", "401", "413", "415", "422", "503", "other" };
    for (int i = 0; i < 7; i++)
        metrics_upload(MX_EP_FRAMES, statuses[i], 0);
    CHECK(sample("streamweb_uploads_stored_total{endpoint=\"/frames\"}") == 3, "3 stored");
    CHECK(sample("streamweb_uploads_stored_bytes_total{endpoint=\"/frames\"}") == 300, "300 bytes");
    CHECK(sample("streamweb_uploads_stored_total{endpoint=\"/ws/frames\"}") == 1, "by endpoint");
    for (int i = 0; i < 7; i++) {
        char s[128];
        snprintf(s, sizeof s, "streamweb_uploads_refused_total{endpoint=\"/frames\",reason=\"%s\"}", names[i]);
        CHECK(sample(s) == 1, "%s counted once", s);
    }
    CHECK(sample("streamweb_uploads_refused_total{endpoint=\"/frames\",reason=\"bad_size\"}") == -1,
          "no framing reasons for /frames");
}

static void test_ws_errors(void)
{
    const char *texts[][2] = {
        { "Invalid JSON header", "invalid_header" }, { "expected a JSON header", "invalid_header" },
        { "missing --IMG-- delimiter", "missing_delimiter" }, { "size must be an integer", "bad_size" },
        { "size must not be negative", "bad_size" }, { "frame shorter than its size (1 of 3 bytes)", "short_frame" },
        { "frame larger than MAX_FRAME_BYTES (10)", "413" }, { "JSON header larger than 5 bytes", "413" },
        { "something new", "other" },
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        metrics_upload_error(texts[i][0]);
    metrics_upload(MX_EP_WS_FRAMES, 422, 0);
    metrics_upload(MX_EP_WS_FRAMES, 503, 0);
    long long want[] = { 2, 1, 2, 1, 2, 1, 1, 1 };
    const char *kinds[] = { "invalid_header", "missing_delimiter", "bad_size", "short_frame", "413", "other",
                            "422", "503" };
    for (int i = 0; i < 8; i++) {
        char s[128];
        snprintf(s, sizeof s, "streamweb_uploads_refused_total{endpoint=\"/ws/frames\",reason=\"%s\"}", kinds[i]);
        CHECK(sample(s) == want[i], "%s = %lld, want %lld", s, sample(s), want[i]);
    }
}

static void test_viewer_counters(void)
{
    metrics_frame_sent(MX_EP_WS_LABELS, WSIO_OK, 1000);
    metrics_frame_sent(MX_EP_WS_LABELS, WSIO_OK, 24);
    metrics_frame_sent(MX_EP_WS_LABELS, WSIO_GONE, 5000);
    metrics_frame_sent(MX_EP_WS_STREAM, WSIO_TOO_BIG, 5000);
    metrics_skipped(MX_EP_WS_LABELS);
    CHECK(sample("streamweb_frames_delivered_total{endpoint=\"/ws/labels\"}") == 2, "delivered, not the gone one");
    CHECK(sample("streamweb_frames_delivered_bytes_total{endpoint=\"/ws/labels\"}") == 1024, "their bytes");
    CHECK(sample("streamweb_frames_undeliverable_total{endpoint=\"/ws/stream\"}") == 1, "too big");
    CHECK(sample("streamweb_frames_delivered_total{endpoint=\"/ws/stream\"}") == 0, "not delivered");
    CHECK(sample("streamweb_viewer_skips_total{endpoint=\"/ws/labels\"}") == 1, "skip");
    metrics_redis(MX_REDIS_ERROR);
    metrics_redis(MX_REDIS_ERROR);
    metrics_redis(MX_REDIS_CONNECT);
    metrics_redis(MX_REDIS_RECONNECT);
    CHECK(sample("streamweb_redis_errors_total{program=\"frames.fcgi\"}") == 2, "errors of this program");
    CHECK(sample("streamweb_redis_errors_total{program=\"ws-labels\"}") == 0, "not another's");
    CHECK(sample("streamweb_redis_connections_total{program=\"frames.fcgi\"}") == 1, "connect");
    CHECK(sample("streamweb_redis_reconnects_total{program=\"frames.fcgi\"}") == 1, "reconnect");
}

/* Children that each add n uploads, as separate processes sharing the file. */
static void spawn_uploaders(int kids, int n, int reopen)
{
    for (int k = 0; k < kids; k++) {
        if (fork() != 0)
            continue;
        if (reopen && metrics_open(path, "ws-frames") < 0)
            _exit(2);
        for (int i = 0; i < n; i++)
            metrics_upload(MX_EP_WS_FRAMES, 200, 1);
        /* Half of them die without giving their slot back. */
        if (k % 2)
            _exit(0);
        exit(0);
    }
    int status, ok = 1;
    while (wait(&status) > 0)
        ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
    CHECK(ok, "every child counted");
}

static void test_across_processes(void)
{
    long long before = sample("streamweb_uploads_stored_total{endpoint=\"/ws/frames\"}");
    spawn_uploaders(4, 10000, 0);
    CHECK(sample("streamweb_uploads_stored_total{endpoint=\"/ws/frames\"}") == before + 40000,
          "inherited mapping: 4 x 10000 added up");
    spawn_uploaders(4, 10000, 1);
    CHECK(sample("streamweb_uploads_stored_total{endpoint=\"/ws/frames\"}") == before + 80000,
          "reopened file: 4 x 10000 more");
    CHECK(sample("streamweb_processes{program=\"frames.fcgi\"}") == 1, "dead children are not counted");
    CHECK(sample("streamweb_processes{program=\"ws-frames\"}") == 0, "... whether they gave their slot back or not");
}

/* Eight processes open a file that does not exist yet, at once: each says
 * it is ready, then blocks on a gate that closing its write end opens for all. */
static void race_round(int round)
{
    enum { KIDS = 8 };
    int ready[2], gate[2];
    if (pipe(ready) < 0 || pipe(gate) < 0)
        return;
    unlink(path);
    for (int k = 0; k < KIDS; k++) {
        if (fork() != 0)
            continue;
        char c;
        close(ready[0]);
        close(gate[1]);
        if (write(ready[1], "r", 1) != 1 || read(gate[0], &c, 1) != 0 || metrics_open(path, "ws-frames") < 0)
            _exit(2);
        for (int i = 0; i < 1000; i++)
            metrics_upload(MX_EP_WS_FRAMES, 200, 1);
        exit(0);
    }
    close(ready[1]);
    close(gate[0]);
    char c;
    for (int k = 0; k < KIDS; k++)
        if (read(ready[0], &c, 1) != 1)
            break;
    close(gate[1]);
    close(ready[0]);
    int status, ok = 1;
    while (wait(&status) > 0)
        ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
    CHECK(ok, "round %d: all opened", round);
    CHECK(metrics_open(path, "status.fcgi") == 0, "round %d: file usable", round);
    long long n = sample("streamweb_uploads_stored_total{endpoint=\"/ws/frames\"}");
    CHECK(n == KIDS * 1000, "round %d: one file took every count (%lld)", round, n);
    CHECK(files_in_dir() == 1, "round %d: one file, no temporary ones", round);
    metrics_close();
}

static void test_creation_race(void)
{
    metrics_close();
    for (int round = 0; round < 5; round++)
        race_round(round);
    CHECK(metrics_open(path, "status.fcgi") == 0, "reopened");
}

/* A child that connects as a viewer and waits; its pid. */
static pid_t viewer_child(int *ready_fd)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        metrics_open(path, "ws-labels");
        metrics_connected(MX_EP_WS_LABELS);
        if (write(p[1], "x", 1) < 0)
            _exit(1);
        for (;;)
            pause();
    }
    close(p[1]);
    *ready_fd = p[0];
    char c;
    if (read(p[0], &c, 1) != 1)
        CHECK(0, "viewer child did not start");
    return pid;
}

static void test_gauges(void)
{
    const char *conns = "streamweb_ws_connections{endpoint=\"/ws/labels\"}";
    int fd;
    CHECK(sample(conns) == 0, "nobody connected");
    pid_t a = viewer_child(&fd);
    close(fd);
    CHECK(sample(conns) == 1, "one viewer connected");
    pid_t b = viewer_child(&fd);
    close(fd);
    CHECK(sample(conns) == 2, "two viewers");
    CHECK(sample("streamweb_ws_sessions_total{endpoint=\"/ws/labels\"}") == 2, "two sessions");
    kill(a, SIGKILL);
    /* Not yet reaped: a zombie, which kill(pid, 0) alone would call alive. */
    for (int i = 0; i < 200 && sample(conns) != 1; i++) {
        struct timespec ms = { 0, 5 * 1000000 };
        nanosleep(&ms, NULL);
    }
    CHECK(sample(conns) == 1, "a SIGKILLed viewer (a zombie still) counts no more");
    waitpid(a, NULL, 0);
    CHECK(sample(conns) == 1, "... nor once reaped");
    kill(b, SIGTERM); /* default action: dies without atexit */
    waitpid(b, NULL, 0);
    CHECK(sample(conns) == 0, "gauge back to 0");
    CHECK(sample("streamweb_ws_sessions_total{endpoint=\"/ws/labels\"}") == 2, "sessions stay counted");

    /* A process that disconnects and lives on. */
    metrics_connected(MX_EP_WS_STREAM);
    CHECK(sample("streamweb_ws_connections{endpoint=\"/ws/stream\"}") == 1, "this process connected");
    metrics_disconnected();
    CHECK(sample("streamweb_ws_connections{endpoint=\"/ws/stream\"}") == 0, "and disconnected");
}

static void test_fork_takes_own_slot(void)
{
    long long procs = sample("streamweb_processes{program=\"status.fcgi\"}");
    int p[2];
    if (pipe(p) < 0)
        return;
    pid_t kid = fork();
    if (kid == 0) {
        close(p[0]);
        if (write(p[1], "x", 1) < 0)
            _exit(1);
        pause();
        _exit(0);
    }
    close(p[1]);
    char c, line[96];
    CHECK(read(p[0], &c, 1) == 1, "child up");
    close(p[0]);
    CHECK(sample("streamweb_processes{program=\"status.fcgi\"}") == procs + 1, "a forked worker is a process too");
    snprintf(line, sizeof line, "streamweb_process_start_time_seconds{program=\"status.fcgi\",pid=\"%d\"}", (int)kid);
    CHECK(count_lines(line) == 1, "with its own start time line");
    long long start = sample(line);
    CHECK(start > time(NULL) - 60 && start <= time(NULL), "start time is now-ish: %lld", start);
    kill(kid, SIGKILL);
    waitpid(kid, NULL, 0);
    CHECK(count_lines(line) == 0, "gone with it");
}

/* Every line is a HELP, a TYPE or a sample of the family just declared. */
static void test_exposition_format(void)
{
    buf b;
    buf_init(&b);
    CHECK(metrics_expose(&b) == 0, "exposed");
    char family[128] = "", seen[8192] = " ";
    int bad = 0, lines = 0;
    for (char *line = b.data; line && *line; lines++) {
        char *nl = strchr(line, '\n');
        if (!nl) {
            bad++;
            break;
        }
        *nl = '\0';
        char name[128], type[16];
        if (sscanf(line, "# HELP %127s ", name) == 1) {
            char key[132];
            snprintf(key, sizeof key, " %s ", name);
            bad += strstr(seen, key) != NULL || strncmp(name, "streamweb_", 10) != 0;
            snprintf(family, sizeof family, "%s", name);
            strncat(seen, key + 1, sizeof seen - strlen(seen) - 1);
        } else if (sscanf(line, "# TYPE %127s %15s", name, type) == 2) {
            bad += strcmp(name, family) != 0 || (strcmp(type, "counter") && strcmp(type, "gauge"));
        } else {
            size_t n = strcspn(line, "{ ");
            char *value = strrchr(line, ' ');
            char *end = NULL;
            if (value)
                strtod(value + 1, &end);
            bad += strncmp(line, family, n) != 0 || n != strlen(family) || !value || !end || *end;
            if (bad)
                fprintf(stderr, "bad line: %s (family %s)\n", line, family);
        }
        line = nl + 1;
    }
    CHECK(bad == 0 && lines > 40, "%d lines, %d bad", lines, bad);
    buf_free(&b);
}

static void write_file(const char *p, const void *data, size_t n)
{
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0 && write(fd, data, n) == (ssize_t)n, "wrote %s", p);
    if (fd >= 0)
        close(fd);
}

static void expect_refused(const char *p, const char *why)
{
    CHECK(metrics_open(p, "ws-labels") < 0, "%s refused", p);
    CHECK(metrics_state() && strstr(metrics_state(), why), "says \"%s\": %s", why, metrics_state());
    metrics_upload(MX_EP_FRAMES, 200, 1); /* no-ops, no crash */
    metrics_connected(MX_EP_WS_LABELS);
    metrics_redis(MX_REDIS_ERROR);
    buf b;
    buf_init(&b);
    CHECK(metrics_expose(&b) < 0 && b.len == 0, "nothing exposed");
    buf_free(&b);
}

static void test_refusals(void)
{
    char p[160], good[4096];
    metrics_close();
    snprintf(p, sizeof p, "%s/foreign", dir);
    write_file(p, "hello, this is not ours at all", 30);
    expect_refused(p, "not a streamweb metrics file");
    /* Our magic, wrong size: another build. */
    int fd = open(path, O_RDONLY);
    ssize_t got = fd >= 0 ? read(fd, good, sizeof good) : -1;
    if (fd >= 0)
        close(fd);
    CHECK(got > 64, "read the good file's head");
    snprintf(p, sizeof p, "%s/short", dir);
    write_file(p, good, 4096);
    expect_refused(p, "another layout");
    /* Our size and magic, another version. */
    snprintf(p, sizeof p, "%s/oldversion", dir);
    struct stat st;
    stat(path, &st);
    char *whole = calloc(1, (size_t)st.st_size);
    memcpy(whole, good, 64);
    whole[8] = 99; /* version */
    write_file(p, whole, (size_t)st.st_size);
    free(whole);
    expect_refused(p, "another layout");
    snprintf(p, sizeof p, "%s/link", dir);
    CHECK(symlink(path, p) == 0, "symlink made");
    expect_refused(p, "symbolic link");
    snprintf(p, sizeof p, "%s/adir", dir);
    mkdir(p, 0700);
    expect_refused(p, "Is a directory");
    snprintf(p, sizeof p, "%s/nosuchdir/metrics", dir);
    expect_refused(p, "cannot create it");
    if (geteuid() == 0) {
        snprintf(p, sizeof p, "%s/theirs", dir);
        write_file(p, good, 64);
        CHECK(chown(p, 65534, 65534) == 0, "chowned");
        expect_refused(p, "owned by uid 65534");
    }
    CHECK(metrics_open("", "ws-labels") == 0 && strstr(metrics_state(), "METRICS_FILE=off"), "no path: off, quietly");
    CHECK(metrics_open(path, "ws-labels") == 0, "the good file still opens");
}

/* The hot path is one atomic add: far below a system call. Under valgrind
 * (which preloads its core into the program) instructions are emulated and
 * the time says nothing; the count checks still run. */
static void test_cost(void)
{
    enum { N = 5000000 };
    struct timespec t0, t1;
    long long before = sample("streamweb_uploads_stored_total{endpoint=\"/frames\"}");
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0); /* CPU time: a busy host does not count */
    for (int i = 0; i < N; i++)
        metrics_upload(MX_EP_FRAMES, 200, 100);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    double ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / N;
    fprintf(stderr, "metrics_upload: %.1f ns per call\n", ns);
    CHECK(sample("streamweb_uploads_stored_total{endpoint=\"/frames\"}") == before + N, "all counted");
    const char *pre = getenv("LD_PRELOAD");
    if (!pre || !strstr(pre, "vgpreload"))
        CHECK(ns < 100, "%.1f ns per counted event", ns);
}

int main(void)
{
    log_threshold = LOG_LVL_ERROR;
    snprintf(dir, sizeof dir, "/tmp/test_metrics.XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/metrics", dir);
    test_create_and_count();
    test_ws_errors();
    test_viewer_counters();
    test_across_processes();
    test_creation_race();
    test_gauges();
    test_fork_takes_own_slot();
    test_exposition_format();
    test_cost();
    test_refusals();
    metrics_close();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return test_report("metrics");
}
