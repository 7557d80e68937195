#!/usr/bin/env bash
# websocketd-ab: the /ws/labels websocketd of two (or more) builds side by side, alternating,
# a fresh stack per run (deploy/stack.sh with WEBSOCKETD=BIN), as the patch series was measured.
# Each run, with 4 cameras × 10 fps × BYTES frames written by `wsload -P` throughout:
#   push:  VIEWERS viewers of one label through nginx; over SECONDS: websocketd's PSS (peak of
#          1 s samples, /proc/PID/smaps_rollup), its CPU (utime+stime, /proc/PID/stat) per GB
#          the viewers received; then 10 s after they left, its PSS again;
#   churn: `wsload -C -l LINGER` loops (each viewer stays LINGER ms after its first frame,
#          leaves, and a new one takes its place) until CHURN connections were made; 10 s after
#          the last left: ws-labels processes left, websocketd's RSS, and its goroutines
#          (SIGQUIT makes the Go runtime print them all; websocketd exits then).
# With -a, only websocketd alone instead: BIN --binary serving `wsreplay -r 40` (a BYTES frame
# 40 times a second per connection, each once the pipe is empty, as ws-labels writes), VIEWERS
# viewers connected to it directly (no nginx, no Redis, no ws-labels): its CPU per GB sent,
# the figure with the least noise from the rest of the machine.
# With -u, uploads instead: `wsupload -c 1` through nginx to /ws/frames (send, wait for the
# reply, send the next) for SECONDS: the /ws/frames websocketd's CPU per upload, in µs.
# One key=value line per run on stdout; per-build medians at the end.
#   usage: tests/bench/websocketd-ab.sh [-a|-u] [-r ROUNDS (3)] [-n VIEWERS (100)] [-d SECONDS (10)]
#          [-c CHURN (2000)] [-l LINGER_MS (1000)] [-b BYTES (100000)] BIN...
set -u -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build}
tools=$build/tools
. "$top/tests/bench/lib.sh"
rounds=3 viewers=100 secs=10 churn=2000 linger=1000 bytes=100000 alone=0 upload=0
while getopts aur:n:d:c:l:b: o; do
  case $o in
    a) alone=1 ;;
    u) upload=1 ;;
    r) rounds=$OPTARG ;; n) viewers=$OPTARG ;; d) secs=$OPTARG ;; c) churn=$OPTARG ;;
    l) linger=$OPTARG ;; b) bytes=$OPTARG ;; *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-r N] [-n VIEWERS] [-d S] [-c CHURN] [-l MS] [-b BYTES] BIN..." >&2; exit 2; }
out=$(mktemp -d /tmp/streamweb-wsd-ab.XXXXXX)
stack_pid='' bg=()
unset REDIS_URL REDIS_READ_URL

say() { echo "websocketd-ab: $*" >&2; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
wait_until() { # wait_until SECONDS CMD...
  local deadline=$(( $(now_ms) + $1 * 1000 )); shift
  until "$@" >/dev/null 2>&1; do (( $(now_ms) < deadline )) || return 1; sleep 0.1; done
}
port_free() { ! (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { local p; while :; do p=$(( 20000 + RANDOM % 12768 )); port_free "$p" && { echo "$p"; return; }; done; }
cleanup() {
  local p
  for p in "${bg[@]}"; do kill -TERM "$p" 2>/dev/null; done
  stack_stop
  rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stack_start() { # stack_start BIN
  STACK_DIR=$(mktemp -d "$out/stack.XXXXXX")
  chmod 755 "$STACK_DIR"
  WEBSOCKETD=$1 STACK_DIR=$STACK_DIR PORT=$(free_port) STACK_BIN=$build WS_MAXFORKS=1024 \
    RATE_LIMIT_LABELS=0 "$top/deploy/stack.sh" >"$out/stack.out" 2>&1 &
  stack_pid=$!
  wait_until 30 test -f "$STACK_DIR/ready" || { cat "$out/stack.out" >&2; say "stack did not start"; exit 1; }
  # shellcheck disable=SC1091
  . "$STACK_DIR/stack.env"
  WSD=$(cat "$STACK_DIR/ws-labels.pid")
  URL="ws://127.0.0.1:$PORT/ws/labels/ab?token=$TOKEN"
}
stack_stop() {
  [ -n "$stack_pid" ] || return 0
  kill -TERM "$stack_pid" 2>/dev/null; wait "$stack_pid" 2>/dev/null
  stack_pid=
}

pss_kb() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
ticks() { local l; read -r l <"/proc/$1/stat"; set -- ${l##*) }; echo $(( ${12} + ${13} )); }
viewers_now() { pgrep -c -P "$WSD" || true; }

run_one() { # run_one BIN -> one key=value line
  local bin=$1 f=$out/run prod pid wl t0 t1 pss peak=0 p i rss0 cyc g
  stack_start "$bin"
  rss0=$(rss_kb "$WSD")
  "$tools/wsload" -P "$REDIS_URL" -L ab -s 4 -f 10 -b "$bytes" -n 0 -d 3600 "$URL" >"$f.prod" 2>&1 &
  prod=$!; bg+=("$prod")
  sleep 1
  # push: viewers connected, then a window of SECONDS
  "$tools/wsload" -n "$viewers" -r 100 -d 3600 "$URL" >"$f.push" 2>>"$out/err" &
  pid=$!
  wait_until $(( viewers / 5 + 30 )) eval '[ "$(viewers_now)" -ge '"$(( viewers * 95 / 100 ))"' ]' ||
    say "only $(viewers_now) viewers connected"
  sleep 1
  kill -USR1 "$pid"; t0=$(ticks "$WSD")
  for i in $(seq "$secs"); do sleep 1; p=$(pss_kb "$WSD"); [ "${p:-0}" -gt "$peak" ] && peak=$p; done
  t1=$(ticks "$WSD"); pss=$p
  kill -TERM "$pid"; wait "$pid"
  wait_until 30 eval '[ "$(viewers_now)" -eq 0 ]'
  sleep 10
  local pss_left; pss_left=$(pss_kb "$WSD")
  # churn
  local loops=$(( churn / 20 )) dur
  [ "$loops" -ge 10 ] || loops=10
  dur=$(( churn * (linger + 200) / 1000 / loops + 1 ))
  "$tools/wsload" -C -l "$linger" -n "$loops" -r 200 -d "$dur" "$URL" >"$f.churn" 2>>"$out/err"
  cyc=$(kv cycles "$f.churn")
  wait_until 60 eval '[ "$(viewers_now)" -eq 0 ]'
  sleep 10
  local rss_churn left; rss_churn=$(rss_kb "$WSD") left=$(viewers_now)
  kill -QUIT "$WSD"; wait_until 10 eval '! kill -0 '"$WSD"
  g=$(grep -c '^goroutine [1-9]' "$STACK_DIR/ws-labels.log")
  local errs panics
  errs=$(grep -c '| ERROR ' "$STACK_DIR/ws-labels.log") panics=$(grep -c 'http: panic serving' "$STACK_DIR/ws-labels.log")
  kill -TERM "$prod" 2>/dev/null; wait "$prod" 2>/dev/null
  stack_stop
  local hz; hz=$(getconf CLK_TCK)
  echo "bin=$(basename "$bin") pss_kb=$pss pss_peak_kb=$peak gb=$(calc "$(kv bytes "$f.push") / 1e9" %.3f)" \
    "cpu_s=$(calc "($t1 - $t0) / $hz" %.2f) s_per_gb=$(calc "($t1 - $t0) / $hz / ($(kv bytes "$f.push") / 1e9 + 1e-9)" %.3f)" \
    "lat_p99_ms=$(kv lat_p99_ms "$f.push") skipped=$(kv skipped "$f.push") corrupt=$(kv corrupt "$f.push")" \
    "pss_left_kb=$pss_left rss_start_kb=$rss0 churned=$cyc rss_churn_kb=$rss_churn" \
    "rss_kept_kb=$(( rss_churn - rss0 )) goroutines=$g ws_left=$left error_lines=$errs panics=$panics"
}

alone_one() { # alone_one BIN -> one key=value line
  local bin=$1 port pid wl t0 t1 hz f=$out/alone
  [ -f "$out/frame" ] || head -c "$bytes" /dev/urandom >"$out/frame"
  port=$(free_port)
  "$bin" --address=127.0.0.1 --port="$port" --maxforks=1024 --loglevel=error --binary \
    "$tools/wsreplay" -r 40 "$out/frame" >"$out/alone.log" 2>&1 &
  WSD=$!; bg+=("$WSD")
  wait_until 10 eval "(: </dev/tcp/127.0.0.1/$port)"
  "$tools/wsload" -n "$viewers" -r 100 -d 3600 "ws://127.0.0.1:$port/ws/labels/alone" >"$f" 2>/dev/null &
  wl=$!
  wait_until 30 eval '[ "$(viewers_now)" -ge '"$viewers"' ]'
  sleep 1
  kill -USR1 "$wl"; t0=$(ticks "$WSD")
  sleep "$secs"
  t1=$(ticks "$WSD"); pss=$(pss_kb "$WSD")
  kill -TERM "$wl"; wait "$wl"
  kill "$WSD"; wait "$WSD" 2>/dev/null
  hz=$(getconf CLK_TCK)
  echo "bin=$(basename "$bin") alone=1 viewers=$viewers pss_kb=$pss gb=$(calc "$(kv bytes "$f") / 1e9" %.3f)" \
    "cpu_s=$(calc "($t1 - $t0) / $hz" %.2f) s_per_gb=$(calc "($t1 - $t0) / $hz / ($(kv bytes "$f") / 1e9 + 1e-9)" %.3f)"
}

upload_one() { # upload_one BIN -> one key=value line
  local bin=$1 f=$out/up t0 t1 hz wsd
  stack_start "$bin"
  wsd=$(cat "$STACK_DIR/ws-frames.pid")
  t0=$(ticks "$wsd")
  "$tools/wsupload" -c 1 -d "$secs" -b "$bytes" -L ab -k up "ws://127.0.0.1:$PORT/ws/frames?token=$TOKEN" >"$f" 2>>"$out/err"
  t1=$(ticks "$wsd")
  stack_stop
  hz=$(getconf CLK_TCK)
  echo "bin=$(basename "$bin") upload=1 ok=$(kv ok "$f") rate=$(kv rate "$f") lat_p50_ms=$(kv lat_p50_ms "$f")" \
    "cpu_s=$(calc "($t1 - $t0) / $hz" %.2f) us_per_upload=$(calc "1e6 * ($t1 - $t0) / $hz / ($(kv ok "$f") + 1e-9)" %.1f)"
}

for r in $(seq "$rounds"); do
  for b in "$@"; do
    if [ "$alone" = 1 ]; then line=$(alone_one "$b")
    elif [ "$upload" = 1 ]; then line=$(upload_one "$b")
    else line=$(run_one "$b"); fi
    echo "$line" | tee -a "$out/all"
  done
done
echo "medians over $rounds rounds:"
for b in "$@"; do
  n=$(basename "$b")
  grep "^bin=$n " "$out/all" >"$out/sel"
  printf '%s:' "$n"
  for k in us_per_upload rate lat_p50_ms pss_kb pss_peak_kb pss_left_kb s_per_gb lat_p99_ms rss_kept_kb goroutines error_lines panics; do
    grep -q " $k=" "$out/sel" || continue
    printf ' %s=%s' "$k" "$(grep -oE " $k=[^ ]*" "$out/sel" | cut -d= -f2 | median)"
  done
  echo
done
