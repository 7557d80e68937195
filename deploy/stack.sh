#!/usr/bin/env bash
# stack: starts a complete local streamweb on 127.0.0.1 — Redis (unless
# REDIS_URL is given), the FastCGI workers under spawn-fcgi (labels, frames,
# status), one websocketd per WebSocket endpoint, and nginx (or lighttpd) in
# front serving deploy/www at / — prints the URLs and a
# development token, and stops everything it started on Ctrl-C or SIGTERM.
# Used by `make run` and by the integration tests.
#
#   PORT            web server port (8000)
#   STACK_SERVER    nginx or lighttpd (nginx)
#   STACK_DIR       state directory (a new temporary one, removed at exit)
#   FCGI_WORKERS    workers per FastCGI responder (2)
#   WS_MAXFORKS     connections per WebSocket endpoint (512)
#   WEBSOCKETD      the websocketd binary (the patched build, build/websocketd);
#                   WEBSOCKETD=/usr/bin/websocketd runs Debian's stock 0.4.1
#   WS_PING_INTERVAL_SECONDS  websocketd --pinginterval (patched build only; its
#                   default is 20, 0 turns pings off)
#   STACK_USER      run the FastCGI workers, websocketd and the ws programs as
#                   this user (as the systemd units do), when started as root
#   METRICS_FILE    the shared metrics file (STACK_DIR/shm/metrics)
#   WWW_DIR         the viewer page served at / (deploy/www)
#   REDIS_URL, JWT_SECRET_KEY and every variable of deploy/streamweb.env.example
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
bin=${STACK_BIN:-$top/build}
server=${STACK_SERVER:-nginx}
export PORT=${PORT:-8000}
workers=${FCGI_WORKERS:-2}
maxforks=${WS_MAXFORKS:-512}
# The patched build (deploy/websocketd/build.sh); a BUILD other than build/ (e.g.
# build-asan) has none of its own: websocketd is not compiled with sanitizers.
wsd=${WEBSOCKETD:-}
if [ -z "$wsd" ]; then
  wsd=$bin/websocketd
  [ -x "$wsd" ] || wsd=$top/build/websocketd
fi
dir=${STACK_DIR:-}
own_dir=0
if [ -z "$dir" ]; then dir=$(mktemp -d /tmp/streamweb.XXXXXX); own_dir=1; fi
mkdir -p "$dir"
# nginx and lighttpd workers may run as another user: they must reach the sockets.
chmod 755 "$dir"
pids=()

log() { echo "stack: $*" >&2; }

port_free() { ! (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Below Linux's ephemeral range (32768-60999), so no outgoing connection holds it.
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 12768 ))
    port_free "$p" && { echo "$p"; return; }
  done
  log "no free port found"; exit 1
}

stop_all() {
  trap - INT TERM EXIT
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ "$own_dir" = 1 ] && rm -rf "$dir"
  log "stopped"
}
trap stop_all EXIT
trap 'exit 0' INT TERM

wait_until() { # wait_until SECONDS CMD...: polls CMD every 50 ms
  local deadline=$(( $(date +%s%N) / 1000000 + $1 * 1000 )); shift
  until "$@" >/dev/null 2>&1; do
    (( $(date +%s%N) / 1000000 < deadline )) || return 1
    sleep 0.05
  done
}

# A Redis of the stack's own: the programs reach it on a unix socket (cheaper
# than loopback TCP for every frame a viewer gets); REDIS_PORT is for tools.
start_redis() {
  if [ -n "${REDIS_URL:-}" ]; then return; fi
  REDIS_PORT=$(free_port)
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --unixsocket "$dir/redis.sock" --unixsocketperm 777 \
    --dir "$dir" --save '' --appendonly no --logfile "$dir/redis.log" &
  pids+=($!)
  export REDIS_URL="unix://$dir/redis.sock"
  wait_until 10 redis-cli -p "$REDIS_PORT" ping || { log "redis did not start (see $dir/redis.log)"; exit 1; }
}

start_fcgi() { # start_fcgi NAME: spawn-fcgi binds the socket, then becomes the
  # responder (-n), which pre-forks FCGI_WORKERS workers and keeps its stderr.
  rm -f "$dir/$1.sock"
  FCGI_WORKERS=$workers spawn-fcgi -n -s "$dir/$1.sock" -M 0666 ${run_user:+-u "$run_user" -g "$run_group"} -- "$bin/$1.fcgi" \
    >/dev/null 2>>"$dir/$1.log" &
  pids+=($!)
  echo $! >"$dir/$1.pid"
  wait_until 5 test -S "$dir/$1.sock" || { log "spawn-fcgi $1 failed (see $dir/$1.log)"; exit 1; }
}

passenv="PATH,LD_LIBRARY_PATH,REDIS_URL,REDIS_READ_URL,REDIS_TIMEOUT_MS,JWT_SECRET_KEY,JWT_ALGORITHM"
passenv+=",JWT_REQUIRE_ACTIVE_JTI,STREAM_MAXLEN,MAX_FRAME_BYTES,CORS_ALLOW_ORIGINS,RATE_LIMIT_LABELS"
passenv+=",TRUSTED_PROXIES,PULL_WAIT_MS,WS_IDLE_TIMEOUT_SECONDS,WS_MAX_SESSION_SECONDS,WS_VIEWER_AUTH,LOG_LEVEL"
passenv+=",METRICS_FILE,METRICS_ALLOW,ASAN_OPTIONS,UBSAN_OPTIONS"

# websocketd logs (its own lines and the program's stderr) go to stdout.
start_ws() { # start_ws NAME PORT MODE-FLAGS...
  local name=$1 port=$2; shift 2
  [ -x "$bin/ws-$name" ] || return 0
  ${run_user:+setpriv --reuid="$run_user" --regid="$run_group" --init-groups --} \
    "$wsd" --address=127.0.0.1 --port="$port" --maxforks="$maxforks" --passenv="$passenv" \
    --loglevel=error ${WS_ORIGIN:+--origin="$WS_ORIGIN"} "${ws_flags[@]}" "$@" "$bin/ws-admit" "$bin/ws-$name" \
    >>"$dir/ws-$name.log" 2>&1 &
  pids+=($!)
  echo $! >"$dir/ws-$name.pid"
  # Ready only once it listens: the web server would answer 502 meanwhile.
  wait_until 10 bash -c "(: </dev/tcp/127.0.0.1/$port)" ||
    { log "websocketd for ws-$name did not start (see $dir/ws-$name.log)"; exit 1; }
}

# The web server's workers (nginx's run as nobody when started as root) must
# read the page: a checkout under a private home directory is copied.
www_dir() {
  export WWW_DIR=${WWW_DIR:-$top/deploy/www}
  [ "$(id -u)" = 0 ] || return 0
  setpriv --reuid=nobody --regid="$(id -gn nobody)" --clear-groups -- test -r "$WWW_DIR/index.html" 2>/dev/null && return
  cp -r "$WWW_DIR" "$dir/www"
  chmod -R a+rX "$dir/www"
  WWW_DIR=$dir/www
  log "the viewer page is not readable by user nobody where it is: serving a copy from $WWW_DIR"
}

start_web() {
  export RUN_DIR=$dir STATE_DIR=$dir CONF_DIR=$dir LISTEN_ADDR=127.0.0.1
  www_dir
  cp "$top/deploy/fastcgi.params" "$top/deploy/websocket.params" "$dir/"
  if [ "$server" = lighttpd ]; then
    "$top/deploy/render.sh" "$top/deploy/lighttpd.conf.in" >"$dir/lighttpd.conf"
    lighttpd -D -f "$dir/lighttpd.conf" 2>>"$dir/lighttpd-error.log" &
  else
    "$top/deploy/render.sh" "$top/deploy/nginx-site.conf.in" >"$dir/nginx-site.conf"
    "$top/deploy/render.sh" "$top/deploy/nginx-local.conf.in" >"$dir/nginx.conf"
    nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' 2>>"$dir/nginx-error.log" &
  fi
  pids+=($!)
  wait_until 10 bash -c "(: </dev/tcp/127.0.0.1/$PORT)" || { log "$server did not start (see $dir)"; exit 1; }
}

# Viewers get a frame whole only if a pipe can hold it (common/wsio.c): with
# STACK_TUNE_PIPES=1 (make run) raise fs.pipe-max-size as deploy/ does, if we
# may; otherwise say what larger frames will do.
tune_pipes() {
  local need=$(( ${MAX_FRAME_BYTES:-8388608} + 65536 )) cur size=16777216
  cur=$(cat /proc/sys/fs/pipe-max-size 2>/dev/null || echo 0)
  [ "$cur" -ge "$need" ] && return
  while [ "$size" -lt "$need" ]; do size=$((size * 2)); done
  if [ "${STACK_TUNE_PIPES:-0}" = 1 ] && { echo "$size" >/proc/sys/fs/pipe-max-size; } 2>/dev/null; then
    log "raised fs.pipe-max-size from $cur to $size so whole frames reach viewers (deploy/sysctl-streamweb.conf)"
  else
    log "note: fs.pipe-max-size is $cur: viewers get {\"error\": \"frame too large\"} for larger frames (see deploy/sysctl-streamweb.conf)"
  fi
}

port_free "$PORT" || { log "port $PORT is in use; set PORT"; exit 1; }
[ -x "$wsd" ] || { log "no websocketd at $wsd: run make (or set WEBSOCKETD)"; exit 1; }
# Flags only the patched build has are passed only when asked for, so the stock
# binary runs the same stack (WEBSOCKETD=/usr/bin/websocketd).
ws_flags=()
if [ -n "${WS_PING_INTERVAL_SECONDS:-}" ]; then
  [[ $("$wsd" --help 2>&1) == *--pinginterval* ]] ||
    { log "WS_PING_INTERVAL_SECONDS: $wsd has no --pinginterval (only the patched build does)"; exit 1; }
  ws_flags+=(--pinginterval="$WS_PING_INTERVAL_SECONDS")
fi
run_user=${STACK_USER:-} run_group=
if [ -n "$run_user" ]; then
  run_group=$(id -gn "$run_user") || { log "STACK_USER: no user $run_user"; exit 1; }
  [ "$(id -u)" = 0 ] || { log "STACK_USER needs root to switch to $run_user"; exit 1; }
fi
tune_pipes
# Every program maps the metrics file; it is created by whichever starts first,
# in a directory the programs' user may write.
mkdir -p "$dir/shm"
[ -z "$run_user" ] || chown "$run_user:$run_group" "$dir/shm"
export METRICS_FILE=${METRICS_FILE:-$dir/shm/metrics}
export WWW_DIR=$top/deploy/www
if [ -z "${JWT_SECRET_KEY:-}" ]; then
  JWT_SECRET_KEY=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
  log "generated a development JWT_SECRET_KEY"
fi
export JWT_SECRET_KEY
start_redis
export WS_LABELS_PORT=${WS_LABELS_PORT:-$(free_port)} WS_STREAM_PORT=${WS_STREAM_PORT:-$(free_port)}
export WS_FRAMES_PORT=${WS_FRAMES_PORT:-$(free_port)}
start_fcgi labels
start_fcgi frames
start_fcgi status
start_fcgi authorize
start_ws labels "$WS_LABELS_PORT" --binary
start_ws stream "$WS_STREAM_PORT" --binary
start_ws frames "$WS_FRAMES_PORT"
start_web

exp=$(( $(date +%s) + 7 * 86400 ))
token=$("$bin/tools/mkjwt" -s "$JWT_SECRET_KEY" -a "${JWT_ALGORITHM:-HS256}" \
  "{\"subject\":{\"username\":\"dev\",\"role\":\"admin\",\"jti\":\"dev\"},\"type\":\"access\",\"jti\":\"dev\",\"iat\":$(date +%s),\"exp\":$exp}")
base="127.0.0.1:$PORT"
cat >"$dir/stack.env" <<ENV
PORT=$PORT
REDIS_URL=$REDIS_URL
REDIS_PORT=${REDIS_PORT:-}
JWT_SECRET_KEY=$JWT_SECRET_KEY
TOKEN=$token
WS_LABELS_PORT=$WS_LABELS_PORT
WS_STREAM_PORT=$WS_STREAM_PORT
WS_FRAMES_PORT=$WS_FRAMES_PORT
STACK_DIR=$dir
METRICS_FILE=$METRICS_FILE
ENV
cat <<MSG
viewer page: http://$base/?token=$token
streamweb is up ($server on $base, Redis at $REDIS_URL, logs in $dir)
  GET  http://$base/labels
  POST http://$base/frames
  WS   ws://$base/ws/labels/{label}
  WS   ws://$base/ws/stream/{label}/{key}
  WS   ws://$base/ws/frames
  GET  http://$base/healthz        (200 while Redis answers, else 503)
  GET  http://$base/metrics        (Prometheus; from METRICS_ALLOW, loopback by default)
  GET  http://$base/openapi.json   (the HTTP API as OpenAPI 3)
development token (admin, valid 7 days):
  $token
try:
  curl -H "Authorization: Bearer \$TOKEN" http://$base/labels
Ctrl-C stops everything.
MSG
touch "$dir/ready"
wait
