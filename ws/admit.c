/* ws-admit: lets a WebSocket connection in, or refuses it (API §2),
 * then becomes the endpoint's program. websocketd runs it in front of each
 * ws program: `websocketd [--binary] ... ws-admit /path/to/ws-labels`.
 * The token check needs libjwt and OpenSSL, whose relocated data alone is
 * 400 KB of every process that loads them: here it is paid for a moment,
 * not for as long as a viewer watches (the programs load neither). */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admit.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "wsio.h"
#include "wsreq.h"

/* The verdict on this connection for ep, from websocketd's environment;
 * a refusal is logged, counted and told to the client. */
static enum admit_verdict judge(const wsreq_endpoint *ep, const config *cfg)
{
    char why[300];
    wsreq r;
    store *s = store_new(cfg->redis_url, cfg->redis_timeout_ms);
    wsreq_init(&r, getenv("HTTP_X_REAL_IP"), getenv("REMOTE_ADDR"));
    enum admit_verdict v = admit_judge(&r, getenv("REQUEST_URI"), getenv("HTTP_AUTHORIZATION"), ep, cfg, s, why,
                                       sizeof why);
    store_free(s);
    if (v != ADMIT_OK) {
        LOG_INFO("refused %s on %s: %s", r.peer, ep->prefix, why);
        /* a camera refused for its token is an upload refused with 401 */
        if (!ep->viewer && v == ADMIT_REFUSED)
            metrics_upload(MX_EP_WS_FRAMES, 401, 0);
        wsio_send_error(why);
        wsio_linger();
    }
    wsreq_free(&r);
    return v;
}

int main(int argc, char **argv)
{
    config cfg;
    if (argc < 2) {
        fprintf(stderr, "usage: ws-admit PROGRAM [ARGS...]   (run by websocketd)\n");
        return 2;
    }
    char *name = strdup(argv[1]);
    const wsreq_endpoint *ep = name ? wsreq_endpoint_of(basename(name)) : NULL;
    free(name);
    if (!ep) {
        fprintf(stderr, "ws-admit: %s is not a ws program (ws-labels, ws-stream, ws-frames)\n", argv[1]);
        return 2;
    }
    config_load_or_exit(&cfg, "ws-admit");
    wsio_init(ep->text_mode);
    if (judge(ep, &cfg) != ADMIT_OK)
        return 1;
    metrics_close(); /* the program takes a slot of its own */
    setenv(WSREQ_ADMITTED, ep->prefix, 1);
    execv(argv[1], argv + 1);
    LOG_ERROR("ws-admit: cannot start %s: %s", argv[1], strerror(errno));
    wsio_send_error("Internal error: the endpoint's program cannot start");
    return 1;
}
