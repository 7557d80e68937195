/* wscamera: a camera over /ws/frames that behaves like the upstream aiohttp client: frames sent
 * one at a time, each answered before the next; a new token only after a handshake 401 or a
 * close with code 1008; a new connection after a close; a frame answered "closing" never resent. */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"

#define IO_TIMEOUT_S 10         /* a reply must come within this */
#define MAX_FRAMES 64

static const char USAGE[] =
    "usage: wscamera [options] ws://HOST:PORT/ws/frames\n"
    "  -t TOKEN    token to start with (sent as Authorization: Bearer)\n"
    "  -r COMMAND  prints a fresh token (sh -c); run after a handshake 401 or a close with code 1008\n"
    "  -f DIR      the frames (regular files, name order, cycled)\n"
    "  -n N        frames to send (10)     -d SECONDS  stop sending after this (60)\n"
    "  -L LABEL -k KEY  where the frames go (cam, 1)\n"
    "  -B MS       pause before a reconnect (100)\n"
    "  -v          answer = the first message after a send, {\"status\": \"closing\"} too (the upstream\n"
    "              BackendFrameSender); without it \"closing\" is a control message: no new frame is\n"
    "              sent after it, the answer of the one in flight is awaited until the close\n"
    "message: {\"label\": L, \"key\": K, \"warnings_json\": \"<seq>\"}--IMG--<frame>, one binary message\n"
    "output:  FRAME <seq> ok | error <reply> | closing (answered closing, not resent) |\n"
    "         resent (the connection closed before an answer: sent again, as upstream does);\n"
    "         SUMMARY sent= ok= errors= closing= resent= refused= refreshes= reconnects= closings=\n"
    "exit:    0 every frame answered ok, 1 otherwise, 2 usage/setup\n";

#define TOOL_NAME "wscamera"
#include "toolkit.h"
#include "wsconn.h"

static struct {
    const char *token, *refresh, *dir, *label, *key;
    long frames, seconds, backoff_ms;
    int naive;
    wsc_target target;
} opt = { .frames = 10, .seconds = 60, .backoff_ms = 100, .label = "cam", .key = "1" };

static struct { unsigned long sent, ok, errors, closing, resent, refused, refreshes, reconnects, closings; } tally;
static buf images[MAX_FRAMES];
static int nimages;
static char token[8192];

static void load_frames(void)
{
    struct dirent **names;
    int n = scandir(opt.dir, &names, NULL, alphasort);
    if (n < 0)
        usage("cannot read -f DIR");
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", opt.dir, names[i]->d_name);
        FILE *f = names[i]->d_name[0] != '.' && nimages < MAX_FRAMES ? fopen(path, "rb") : NULL;
        if (f) {
            char chunk[65536];
            size_t k;
            buf_init(&images[nimages]);
            while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
                buf_append(&images[nimages], chunk, k);
            fclose(f);
            nimages++;
        }
        free(names[i]);
    }
    free(names);
    if (!nimages)
        usage("no frames in -f DIR");
}

/* Replaces the token with the first line `-r COMMAND` prints. */
static void fetch_token(void)
{
    FILE *p = opt.refresh ? popen(opt.refresh, "r") : NULL;
    if (!p || !fgets(token, sizeof token, p)) {
        fprintf(stderr, "wscamera: -r gave no token\n");
        exit(2);
    }
    pclose(p);
    token[strcspn(token, "\r\n")] = 0;
}

static void refresh_token(void)
{
    fetch_token();
    tally.refreshes++;
}

/* Connects until upgraded: a 401 gets a new token first, any other refusal ends the run. */
static int connect_camera(wsconn *c, int64_t end)
{
    char hdr[sizeof token + 32];
    for (;;) {
        snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", token);
        if (wsc_open(c, &opt.target, hdr, IO_TIMEOUT_S) == 0)
            return 0;
        close(c->fd);
        c->fd = -1;
        if (c->status == 401) {
            tally.refused++;
            refresh_token();
        } else if (c->status) {
            fprintf(stderr, "wscamera: %s\n", c->err);
            return -1;
        }
        if (mono_us() >= end)
            return -1;
        usleep((useconds_t)opt.backoff_ms * 1000);
    }
}

enum answer { ANS_OK, ANS_ERROR, ANS_CLOSING, ANS_GONE };

/* Waits for the answer to the frame just sent. *closing is set by a closing message (with -v, it
 * is the answer). ANS_GONE: the connection ended first (after a close with 1008, a new token). */
static enum answer await_answer(wsconn *c, int *closing, char *reply, size_t cap)
{
    for (;;) {
        const unsigned char *p;
        size_t n;
        int hl = wsc_read_message(c, &p, &n);
        if (hl < 0) {
            if (c->close_code == 1008)
                refresh_token();
            return ANS_GONE;
        }
        snprintf(reply, cap, "%.*s", (int)n, (const char *)p);
        wsc_consume(c, (size_t)hl + n);
        if (strstr(reply, "\"status\": \"closing\"")) {
            *closing = 1;
            tally.closings++;
            if (opt.naive)
                return ANS_CLOSING;
            continue;
        }
        return strstr(reply, "\"status\": \"ok\"") ? ANS_OK : ANS_ERROR;
    }
}

/* One frame until it is answered, resent over a new connection if the old one ends first (as
 * upstream does on a close), but not after a closing message (upstream takes that as the answer). */
static int send_frame(wsconn *c, long seq, int64_t end)
{
    buf msg;
    buf_init(&msg);
    buf_printf(&msg, "{\"label\": \"%s\", \"key\": \"%s\", \"warnings_json\": \"%ld\"}--IMG--", opt.label, opt.key, seq);
    const buf *img = &images[(seq - 1) % nimages];
    buf_append(&msg, img->data, img->len);
    unsigned char *scratch = xmalloc(msg.len);
    char reply[512];
    enum answer a = ANS_GONE;
    for (int closing = 0; a == ANS_GONE;) {
        if (c->fd < 0 && connect_camera(c, end) < 0)
            break;
        tally.sent++;
        a = wsc_send_message(c, msg.data, msg.len, scratch) < 0 ? ANS_GONE : await_answer(c, &closing, reply, sizeof reply);
        if (a == ANS_GONE && closing)
            a = ANS_CLOSING;            /* the session ended before this frame's answer */
        if (a == ANS_GONE || (closing && !opt.naive)) {   /* upstream goes on until the close */
            wsc_hang_up(c);
            tally.reconnects++;
            usleep((useconds_t)opt.backoff_ms * 1000);
        }
        if (a == ANS_GONE) {
            tally.resent++;
            printf("FRAME %ld resent\n", seq);
        }
    }
    free(scratch);
    buf_free(&msg);
    switch (a) {
    case ANS_OK: tally.ok++; printf("FRAME %ld ok\n", seq); return 0;
    case ANS_ERROR: tally.errors++; printf("FRAME %ld error %s\n", seq, reply); return 0;
    case ANS_CLOSING: tally.closing++; printf("FRAME %ld closing\n", seq); return 0;
    default: return -1;
    }
}

static void parse_args(int argc, char **argv)
{
    int c;
    while ((c = getopt(argc, argv, "t:r:f:n:d:L:k:B:v")) != -1) {
        switch (c) {
        case 't': opt.token = optarg; break;
        case 'r': opt.refresh = optarg; break;
        case 'f': opt.dir = optarg; break;
        case 'n': opt.frames = number(optarg, "bad -n", 1, 100000000); break;
        case 'd': opt.seconds = number(optarg, "bad -d", 1, 86400); break;
        case 'L': opt.label = optarg; break;
        case 'k': opt.key = optarg; break;
        case 'B': opt.backoff_ms = number(optarg, "bad -B", 0, 60000); break;
        case 'v': opt.naive = 1; break;
        default: usage("bad option");
        }
    }
    if (optind != argc - 1 || !opt.dir)
        usage("-f DIR and one ws:// URL expected");
    if (strpbrk(opt.label, "\"\\") || strpbrk(opt.key, "\"\\"))
        usage("-L and -k must not contain quotes or backslashes");
    if (opt.token)
        snprintf(token, sizeof token, "%s", opt.token);
    else if (opt.refresh)
        fetch_token();
    else
        usage("-t TOKEN or -r COMMAND expected");
    const char *why;
    if (wsc_target_parse(&opt.target, argv[optind], &why) < 0)
        usage(why);
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    load_frames();
    wsconn c = { .fd = -1 };
    int64_t end = mono_us() + opt.seconds * 1000000;
    for (long seq = 1; seq <= opt.frames && mono_us() < end; seq++)
        if (send_frame(&c, seq, end) < 0)
            break;
    wsc_hang_up(&c);
    printf("SUMMARY sent=%lu ok=%lu errors=%lu closing=%lu resent=%lu refused=%lu refreshes=%lu reconnects=%lu "
           "closings=%lu\n", tally.sent, tally.ok, tally.errors, tally.closing, tally.resent, tally.refused,
           tally.refreshes, tally.reconnects, tally.closings);
    return tally.errors || tally.closing || tally.resent ? 1 : 0;
}
