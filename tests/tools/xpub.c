/* xpub: a camera stand-in that XADDs frames straight into Redis, stamping
 * each with the wall-clock microseconds of the write (in "warnings"), so a
 * viewer can measure delivery latency without process start-up in it.
 *   xpub HOST PORT STREAM_KEY COUNT INTERVAL_MS FRAME_FILE [MAXLEN] */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *p = malloc((size_t)n + 1);
    *len = p ? fread(p, 1, (size_t)n, f) : 0;
    fclose(f);
    return p;
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: xpub HOST PORT STREAM_KEY COUNT INTERVAL_MS FRAME_FILE [MAXLEN]\n");
        return 2;
    }
    int count = atoi(argv[4]), interval = atoi(argv[5]);
    size_t len = 0;
    char *frame = slurp(argv[6], &len);
    redisContext *c = redisConnect(argv[1], atoi(argv[2]));
    if (!frame || !c || c->err) {
        fprintf(stderr, "xpub: cannot read the frame or connect\n");
        return 1;
    }
    const char *maxlen = argc > 7 ? argv[7] : "10";
    for (int i = 0; i < count; i++) {
        struct timeval tv;
        char stamp[32];
        gettimeofday(&tv, NULL);
        snprintf(stamp, sizeof stamp, "%lld", (long long)tv.tv_sec * 1000000 + tv.tv_usec);
        const char *av[] = { "XADD", argv[3], "MAXLEN", maxlen, "*", "frame", frame, "warnings", stamp,
                             "width", "640", "height", "480" };
        size_t al[13];
        for (int k = 0; k < 13; k++)
            al[k] = k == 6 ? len : strlen(av[k]);
        redisReply *r = redisCommandArgv(c, 13, av, al);
        if (!r || r->type == REDIS_REPLY_ERROR) {
            fprintf(stderr, "xpub: XADD failed\n");
            return 1;
        }
        freeReplyObject(r);
        if (interval > 0 && i + 1 < count) {
            struct timespec ts = { interval / 1000, (interval % 1000) * 1000000L };
            nanosleep(&ts, NULL);
        }
    }
    redisFree(c);
    free(frame);
    return 0;
}
