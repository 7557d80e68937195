#!/usr/bin/env bash
# render: fills a deploy/*.in template from the environment and prints it.
#   RUN_DIR      directory of the FastCGI sockets          (/run/streamweb)
#   LISTEN_ADDR  address the web server listens on         (127.0.0.1)
#   PORT         port the web server listens on            (8000)
#   WS_LABELS_PORT, WS_STREAM_PORT, WS_FRAMES_PORT          (8101, 8102, 8103)
#   MAX_BODY_MB  largest request body, in MiB              (MAX_FRAME_BYTES + 5 MiB)
#   STATE_DIR    web server's pid, temp and log files      (/var/lib/streamweb)
#   CONF_DIR     where fastcgi.params, websocket.params are (/etc/streamweb)
#   WWW_DIR      the viewer page and openapi.json (deploy/www) (/usr/local/share/streamweb/www)
set -euo pipefail
template=${1:?usage: render.sh TEMPLATE}
max_frame=${MAX_FRAME_BYTES:-8388608}
max_body_mb=${MAX_BODY_MB:-$(( (max_frame >> 20) + 6 ))}
sed -e "s|@RUN_DIR@|${RUN_DIR:-/run/streamweb}|g" \
    -e "s|@LISTEN_ADDR@|${LISTEN_ADDR:-127.0.0.1}|g" \
    -e "s|@PORT@|${PORT:-8000}|g" \
    -e "s|@WS_LABELS_PORT@|${WS_LABELS_PORT:-8101}|g" \
    -e "s|@WS_STREAM_PORT@|${WS_STREAM_PORT:-8102}|g" \
    -e "s|@WS_FRAMES_PORT@|${WS_FRAMES_PORT:-8103}|g" \
    -e "s|@MAX_BODY_MB@|${max_body_mb}|g" \
    -e "s|@MAX_BODY_KB@|$(( max_body_mb * 1024 ))|g" \
    -e "s|@STATE_DIR@|${STATE_DIR:-/var/lib/streamweb}|g" \
    -e "s|@CONF_DIR@|${CONF_DIR:-/etc/streamweb}|g" \
    -e "s|@WWW_DIR@|${WWW_DIR:-/usr/local/share/streamweb/www}|g" \
    "$template"
