/* xfield: prints one field of a stream entry byte for byte (redis-cli cannot
 * print binary values raw), so tests compare stored frames exactly.
 *   xfield HOST PORT STREAM_KEY FIELD [N]   (N-th newest entry, default 1)
 * Exit 0: printed; 1: Redis error; 3: no such entry or field. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: xfield HOST PORT STREAM_KEY FIELD [N]\n");
        return 2;
    }
    int nth = argc == 6 ? atoi(argv[5]) : 1;
    redisContext *c = redisConnect(argv[1], atoi(argv[2]));
    if (!c || c->err || nth < 1) {
        fprintf(stderr, "xfield: cannot connect or bad N\n");
        return 1;
    }
    redisReply *r = redisCommand(c, "XREVRANGE %s + - COUNT %d", argv[3], nth);
    int rc = 3;
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        rc = 1;
    } else if (r->elements == (size_t)nth) {
        redisReply *kv = r->element[nth - 1]->element[1];
        for (size_t i = 0; i + 1 < kv->elements && rc == 3; i += 2) {
            if (strcmp(kv->element[i]->str, argv[4]) == 0) {
                fwrite(kv->element[i + 1]->str, 1, kv->element[i + 1]->len, stdout);
                rc = 0;
            }
        }
    }
    freeReplyObject(r);
    redisFree(c);
    return rc;
}
