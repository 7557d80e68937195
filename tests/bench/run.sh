#!/usr/bin/env bash
# bench: `make bench` (issue 5). Starts the stack as `make run` does, on private ports, measures
# each row BENCH_RUNS times against its ceiling taken in the same run, prints the medians and
# writes tests/bench/RESULTS.md. Exit 0 when every measurement ran (targets may FAIL), 1 if one
# could not run.
#   BENCH_RUNS (3)  BENCH_SECONDS (10)  BENCH_ROWS ("1 2 3 4 5 6 7")  BENCH_VIEWERS ("20 100 500")
#   BENCH_WORKERS (FCGI_WORKERS for the stack, 2)  BENCH_MAXLEN (STREAM_MAXLEN, 10)
#   BENCH_RESULTS (tests/bench/RESULTS.md)  BENCH_KEEP=1 keeps the raw outputs
set -u -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
build=${BUILD:-$top/build}
tools=$build/tools
. "$top/tests/bench/lib.sh"

RUNS=${BENCH_RUNS:-3} SECS=${BENCH_SECONDS:-10} ROWS=" ${BENCH_ROWS:-1 2 3 4 5 6 7} "
VIEWERS=${BENCH_VIEWERS:-20 100 500}
WORKERS=${BENCH_WORKERS:-2} MAXLEN=${BENCH_MAXLEN:-10} BYTES=100000
RESULTS=${BENCH_RESULTS:-$top/tests/bench/RESULTS.md}
RATE=100        # viewer connects per second: websocketd 0.4.1 can panic on larger bursts
out=$(mktemp -d /tmp/streamweb-bench.XXXXXX)
stack_pid='' clients=() failed_rows=() table=() raw=()
unset REDIS_URL REDIS_READ_URL   # the bench needs a Redis of its own: its counters are read

say() { echo "bench: $*" >&2; }

cleanup() {
  trap - EXIT INT TERM
  local p
  for p in "${clients[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${clients[@]}"; do wait "$p" 2>/dev/null; done
  stack_stop
  if [ -n "${BENCH_KEEP:-}" ]; then say "raw outputs kept in $out"; else rm -rf "$out"; fi
}
trap cleanup EXIT
trap 'say interrupted; exit 130' INT TERM

port_free() { ! (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p
  while :; do p=$(( 20000 + RANDOM % 12768 )); port_free "$p" && { echo "$p"; return; }; done
}
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
wait_until() { # wait_until SECONDS CMD...
  local deadline=$(( $(now_ms) + $1 * 1000 )); shift
  until "$@" >/dev/null 2>&1; do (( $(now_ms) < deadline )) || return 1; sleep 0.1; done
}

# ---- the stack ----
stack_start() {
  STACK_DIR=$(mktemp -d /tmp/streamweb-bench-stack.XXXXXX)
  chmod 755 "$STACK_DIR"
  STACK_DIR=$STACK_DIR PORT=$(free_port) STACK_BIN=$build STREAM_MAXLEN=$MAXLEN WS_MAXFORKS=1024 \
    FCGI_WORKERS=$WORKERS RATE_LIMIT_LABELS=0 "$top/deploy/stack.sh" >"$out/stack.out" 2>&1 &
  stack_pid=$!
  if ! wait_until 30 test -f "$STACK_DIR/ready"; then
    sed 's/^/  /' "$out/stack.out" >&2
    say "the stack did not start"; exit 1
  fi
  # shellcheck disable=SC1091
  . "$STACK_DIR/stack.env"
  REDIS_PORT=${REDIS_URL##*:}; REDIS_PORT=${REDIS_PORT%%/*}
  WSBASE="ws://127.0.0.1:$PORT"
}
stack_stop() {
  [ -n "$stack_pid" ] || return 0
  kill -TERM "$stack_pid" 2>/dev/null; wait "$stack_pid" 2>/dev/null
  stack_pid=
  rm -rf "$STACK_DIR"
}
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }
redis_cpu() { rcli INFO cpu | tr -d '\r' | awk -F: '/^used_cpu_(user|sys):/ { s += $2 } END { printf "%.3f", s }'; }
xadd_calls() { rcli INFO commandstats | tr -d '\r' | sed -nE 's/^cmdstat_xadd:calls=([0-9]+).*/\1/p' | grep . || echo 0; }
commands_total() { rcli INFO stats | tr -d '\r' | sed -nE 's/^total_commands_processed:([0-9]+)/\1/p'; }

# client OUTFILE CMD...: runs a load client in the background (killed on exit, or when it overruns
# its time by a minute); its pid in client_pid.
client() {
  local f=$1; shift
  timeout -k 5 $(( 3 * SECS + 300 )) "$@" >"$f" 2>>"$out/clients.err" &
  client_pid=$!
  clients+=("$client_pid")
}
# run_client OUTFILE CMD...: the same in the foreground; the output file also goes to raw.
run_client() {
  client "$@"
  wait "$client_pid"
  raw+=("$(basename "$1"): $(head -c 600 "$1")")
}
# measured_client OUTFILE CMD...: run_client, and what the suite's processes and Redis spent in CPU
# meanwhile, appended to OUTFILE as suite_cpu_<group>_s= and redis_cpu_s=.
measured_client() {
  local f=$1 r0
  snapshot "$f.s0" nopss; r0=$(redis_cpu)
  client "$@"
  wait "$client_pid"
  snapshot "$f.s1" nopss
  cpu_window "$f.s0" "$f.s1" "$f.cpu"
  echo "redis_cpu_s=$(calc "$(redis_cpu) - $r0" %.3f)" >>"$f.cpu"
  echo " $(tr '\n' ' ' <"$f.cpu")" >>"$f"
  raw+=("$(basename "$f"): $(tr '\n' ' ' <"$f" | head -c 1000)")
}
# per_op KEY FILE...: median over the runs of KEY's CPU seconds per ok request, in µs.
per_op() {
  local k=$1 f; shift
  for f in "$@"; do calc "1e6 * $(kv "$k" "$f") / ($(kv ok "$f") + 1e-9)" %.1f; echo; done | median
}
ws_children() { proc_scan; local n=0 p; for p in $(tree "$(root_pid ws-labels)"); do n=$((n + 1)); done; echo $((n - 1)); }
# Waits until the last run's viewers are gone, so runs do not overlap.
viewers_gone() { [ "$(ws_children)" -eq 0 ]; }
settle() { wait_until 20 viewers_gone || say "note: $(ws_children) ws-labels still running"; }

# seed LABEL: one frame in each of 4 streams (cam0..cam3), written as wsload's producer does.
seed() { "$tools/wsload" -P "$REDIS_URL" -L "$1" -s 4 -f 0 -n 0 -d 0 "$WSBASE/ws/labels/$1" >/dev/null; }

# row NUM MEASUREMENT FIGURE CEILING RATIO TARGET RESULT: one line of the table.
row() {
  local IFS='|'
  table+=("$*")
  [ "$7" = FAIL ] && failed_rows+=("$1 $2")
  return 0
}
# runs NAME: the runs' output files $out/NAME_1, NAME_2, ...
runs() { local i; for i in $(seq "$RUNS"); do [ -f "$out/$1_$i" ] && echo "$out/$1_$i"; done; }
selected() { local r; for r in "$@"; do [[ "$ROWS" == *" $r "* ]] && return 0; done; return 1; }
cannot() { row "$1" "$2" "not run: $3" - - - "NOT RUN"; not_run=1; say "row $1: $3"; }
not_run=0

# ---- row 1: POST /frames through nginx vs the same XADDs without HTTP ----
row1() {
  local c i f ok calls
  if [ ! -x "$tools/httpload" ]; then cannot 1 "POST /frames" "build/tools/httpload missing"; return; fi
  for c in 8 32; do
    for i in $(seq "$RUNS"); do
      # The fields httpload sends (tests/tools/httpload.c), so the XADDs are the same.
      measured_client "$out/r1_c${c}_ceil_$i" "$tools/xaddload" -c "$c" -d "$SECS" -b "$BYTES" -m "$MAXLEN" \
        -L bench1 -k ceil -K -W 640 -H 480 -F 'warnings=[]' \
        -F 'detection_items=[{"label": "person", "confidence": 0.9, "bbox": [10, 20, 110, 220]}]' "$REDIS_URL"
      calls=$(xadd_calls)
      # -R: one random frame per connection, as xaddload sends one frame throughout.
      measured_client "$out/r1_c${c}_http_$i" "$tools/httpload" -R -c "$c" -d "$SECS" -b "$BYTES" -t "$TOKEN" \
        -L bench1 "http://127.0.0.1:$PORT/frames"
      echo "xadd_delta=$(( $(xadd_calls) - calls ))" >>"$out/r1_c${c}_http_$i"
    done
    local h e
    mapfile -t h < <(runs "r1_c${c}_http")
    mapfile -t e < <(runs "r1_c${c}_ceil")
    local rate crate p99 errs mism=0 cpu
    rate=$(med rate "${h[@]}") crate=$(med rate "${e[@]}") p99=$(med lat_p99_ms "${h[@]}")
    errs=0
    for f in "${h[@]}"; do
      ok=$(kv ok "$f")
      errs=$(( errs + $(kv requests "$f") - ${ok:-0} + $(kv conn_errors "$f") ))
      [ "$(kv xadd_delta "$f")" = "${ok:-x}" ] || mism=$((mism + 1))
    done
    cpu="client CPU $(med client_cpu_s "${h[@]}") s / $(med client_cpu_s "${e[@]}") s"
    row 1 "POST /frames, $c conns: uploads/s ($cpu)" "$rate" "$crate" "$(calc "100 * $rate / $crate" %.1f) %" \
      "≥ 80 %" "$(verdict ge "$(calc "$rate / $crate")" 0.8)"
    row 1 "POST /frames, $c conns: p50 / p99 ms (ceiling's p99)" "$(med lat_p50_ms "${h[@]}") / $p99" \
      "$(med lat_p99_ms "${e[@]}")" - "$([ "$c" = 8 ] && echo "p99 ≤ 10 ms" || echo -)" \
      "$([ "$c" = 8 ] && verdict le "$p99" 10 || echo -)"
    row 1 "POST /frames, $c conns: errors, runs where XADDs ≠ 200s" "$errs, $mism" - - "0, 0" \
      "$(verdict eval '[ "$errs" = 0 ] && [ "$mism" = 0 ]')"
    row1_cpu "$c" "$crate"
  done
}

# row1_cpu CONNS CEILING: CPU per upload of each part, and the most uploads/s this machine allows
# even if frames.fcgi cost nothing: all cores busy with the load client, nginx and Redis alone,
# and neither of the single-threaded two (Redis, the one nginx worker) past one core.
row1_cpu() {
  local c=$1 crate=$2 h e cl ng fc rd ecl erd bound
  mapfile -t h < <(runs "r1_c${c}_http"); mapfile -t e < <(runs "r1_c${c}_ceil")
  cl=$(per_op client_cpu_s "${h[@]}") ng=$(per_op suite_cpu_nginx_s "${h[@]}") fc=$(per_op suite_cpu_fcgi_s "${h[@]}")
  rd=$(per_op redis_cpu_s "${h[@]}") ecl=$(per_op client_cpu_s "${e[@]}") erd=$(per_op redis_cpu_s "${e[@]}")
  bound=$(calc "m = $(nproc) * 1e6 / ($cl + $ng + $rd); n = 1e6 / ($ng + 1e-9); r = 1e6 / ($rd + 1e-9);
    if (n < m) m = n; if (r < m) m = r; m" %.0f)
  row 1 "POST /frames, $c conns: CPU µs per upload: client $cl, nginx $ng, FastCGI $fc, Redis $rd (ceiling: client $ecl, Redis $erd); uploads/s possible here if FastCGI cost nothing" \
    "$bound" "$crate" "$(calc "100 * $bound / $crate" %.1f) %" - -
}

# ---- row 2: /ws/frames send-and-wait vs one XADD loop ----
row2() {
  local i c calls
  for i in $(seq "$RUNS"); do
    measured_client "$out/r2_ceil_$i" "$tools/xaddload" -c 1 -d "$SECS" -b "$BYTES" -m "$MAXLEN" -L bench2 -k ceil \
      -W 1280 -H 720 "$REDIS_URL"      # what wsupload's header stores
    for c in 1 4; do
      calls=$(xadd_calls)
      measured_client "$out/r2_c${c}_$i" "$tools/wsupload" -c "$c" -d "$SECS" -b "$BYTES" -L bench2 -k ws \
        "$WSBASE/ws/frames?token=$TOKEN"
      echo "xadd_delta=$(( $(xadd_calls) - calls ))" >>"$out/r2_c${c}_$i"
    done
  done
  local e one four crate rate1 rate4 p50 errs=0 f
  mapfile -t e < <(runs r2_ceil); mapfile -t one < <(runs r2_c1); mapfile -t four < <(runs r2_c4)
  crate=$(med rate "${e[@]}") rate1=$(med rate "${one[@]}") rate4=$(med rate "${four[@]}") p50=$(med lat_p50_ms "${one[@]}")
  for f in "${one[@]}" "${four[@]}"; do
    errs=$(( errs + $(kv errors "$f") + $(kv conn_errors "$f") ))
    [ "$(kv xadd_delta "$f")" = "$(kv ok "$f")" ] || errs=$((errs + 1))
  done
  row 2 "/ws/frames, 1 conn: uploads/s (client CPU $(med client_cpu_s "${one[@]}") s / $(med client_cpu_s "${e[@]}") s)" \
    "$rate1" "$crate" "$(calc "100 * $rate1 / $crate" %.1f) %" "≥ 70 %" "$(verdict ge "$(calc "$rate1 / $crate")" 0.7)"
  row 2 "/ws/frames, 1 conn: round trip p50 / p99 ms (ceiling's XADD p50)" "$p50 / $(med lat_p99_ms "${one[@]}")" \
    "$(med lat_p50_ms "${e[@]}")" - "p50 ≤ 1 ms" "$(verdict le "$p50" 1)"
  row 2 "/ws/frames, 4 conns: uploads/s, p50 ms (client CPU $(med client_cpu_s "${four[@]}") s)" \
    "$rate4, $(med lat_p50_ms "${four[@]}")" "$crate" "$(calc "100 * $rate4 / $crate" %.1f) %" - -
  row 2 "/ws/frames: errors + runs where XADDs ≠ ok replies" "$errs" - - 0 "$(verdict [ "$errs" = 0 ])"
  local k parts key fs
  for k in 1 4; do
    mapfile -t fs < <(runs "r2_c$k")
    parts=$(for g in client_cpu nginx websocketd ws redis_cpu; do
      case $g in client_cpu|redis_cpu) key=${g}_s ;; *) key=suite_cpu_${g}_s ;; esac
      printf '%s %s, ' "${g%_cpu}" "$(per_op "$key" "${fs[@]}")"; done)
    row 2 "/ws/frames, $k conn(s): suite CPU µs per upload (${parts%, }; ceiling: client $(per_op client_cpu_s "${e[@]}"), Redis $(per_op redis_cpu_s "${e[@]}"))" \
      "$(per_op suite_cpu_s "${fs[@]}")" - - - -
  done
}

# ---- rows 3, 5, 6: push to N viewers, with PSS and suite CPU while frames flow ----
# push_run N I: 4 streams × 10 fps, N viewers through nginx. Once (nearly) all are connected: a
# snapshot (CPU, PSS), SIGUSR1 to wsload (its figures start from here), SECS seconds, a CPU
# snapshot, SIGTERM to wsload (its summary then covers exactly that window).
push_run() {
  local n=$1 i=$2 f=$out/r3_n$1_$2 t pid wl
  snapshot "$f.idle"          # websocketd keeps what it grew to: each run's own baseline too
  client "$f" "$tools/wsload" -P "$REDIS_URL" -L push -s 4 -f 10 -n "$n" -r "$RATE" -d $(( 3 * SECS + 120 )) \
    "$WSBASE/ws/labels/push?token=$TOKEN"
  pid=$client_pid
  # Connects are much slower than -r here (a process per viewer): wait for 95 % of them.
  wait_until $(( n / 5 + 30 )) eval '[ "$(ws_children)" -ge '"$(( n * 95 / 100 ))"' ]' ||
    say "push $n: only $(ws_children) viewers connected"
  sleep 1
  wl=$(ps --ppid "$pid" -o pid= | tr -d ' ')     # wsload itself, under timeout
  snapshot "$f.s0"
  kill -USR1 "$wl"
  t=$(now_ms)
  sleep "$SECS"
  snapshot "$f.s1" nopss
  kill -TERM "$wl"
  wait "$pid"
  cpu_window "$f.s0" "$f.s1" "$f.cpu"
  echo "window_s=$(calc "($(now_ms) - $t) / 1000" %.2f)" >>"$f.cpu"
  echo "gb=$(calc "$(kv bytes "$f") / 1e9" %.4f) pss_kb=$(snap_total pss "$f.s0")" \
    "gb_nginx_sent=$(calc "($(kv nginx_sent "$f.s1") - $(kv nginx_sent "$f.s0")) / 1e9" %.4f)" >>"$f.cpu"
  raw+=("$(basename "$f"): $(cat "$f") | $(tr '\n' ' ' <"$f.cpu")")
  settle
}

push_rows() {
  local n i
  settle
  snapshot "$out/idle.snap"
  for n in $VIEWERS; do for i in $(seq "$RUNS"); do push_run "$n" "$i"; done; done
}

row3() {
  local n fs cs p50 p99 skipped dup errs target res
  for n in $VIEWERS; do
    mapfile -t fs < <(runs "r3_n$n")
    p50=$(med lat_p50_ms "${fs[@]}") p99=$(med lat_p99_ms "${fs[@]}") skipped=$(med skipped "${fs[@]}")
    dup=$(med dup "${fs[@]}")
    errs=$(for f in "${fs[@]}"; do echo $(( $(kv errors "$f") + $(kv connect_fail "$f") + $(kv refused "$f") \
      + $(kv closed "$f") + $(kv proto "$f") + $(kv corrupt "$f") + $(kv reorder "$f") )); done | median)
    case $n in
      20) target="p50 ≤ 2, p99 ≤ 10"; res=$(verdict eval 'le "$p50" 2 && le "$p99" 10') ;;
      100) target="p99 ≤ 25, 0 missed, 0 dup"; res=$(verdict eval 'le "$p99" 25 && [ "$skipped" = 0 ] && [ "$dup" = 0 ]') ;;
      500) target="p99 ≤ 200, 0 errors"; res=$(verdict eval 'le "$p99" 200 && [ "$errs" = 0 ]') ;;
      *) target=-; res=- ;;
    esac
    row 3 "push, $n viewers: latency p50 / p99 ms; missed, dup, errors (client CPU $(med client_cpu_s "${fs[@]}") s)" \
      "$p50 / $p99; $skipped, $dup, $errs" - - "$target" "$res"
  done
}

row5() {
  local idle n fs pss per wsl base wsd
  idle=$(snap_total pss "$out/start.snap")
  row 5 "memory: PSS idle, just started, MB ($(for g in nginx fcgi websocketd ws; do printf '%s %s ' "$g" "$(calc "$(kv pss_$g "$out/start.snap") / 1024" %.1f)"; done))" \
    "$(calc "$idle / 1024" %.1f)" - - "≤ 15 MB" "$(verdict le "$(calc "$idle / 1024")" 15)"
  idle=$(snap_total pss "$out/idle.snap")
  row 5 "memory: PSS idle after rows 1-2 (uploads), MB ($(for g in nginx fcgi websocketd ws; do printf '%s %s ' "$g" "$(calc "$(kv pss_$g "$out/idle.snap") / 1024" %.1f)"; done))" \
    "$(calc "$idle / 1024" %.1f)" - - "≤ 15 MB" "$(verdict le "$(calc "$idle / 1024")" 15)"
  for n in $VIEWERS; do
    [ "$n" -ge 100 ] || continue
    mapfile -t fs < <(runs "r3_n$n")
    pss=$(for f in "${fs[@]}"; do snap_total pss "$f.s0"; done | median)
    # Per viewer: against the idle snapshot taken just before the same run.
    per=$(for f in "${fs[@]}"; do calc "($(snap_total pss "$f.s0") - $(snap_total pss "$f.idle")) / $n / 1024" %.3f; echo; done | median)
    wsl=$(for f in "${fs[@]}"; do calc "$(kv pss_ws "$f.s0") / ($(kv n_ws "$f.s0") + 1e-9) / 1024" %.2f; echo; done | median)
    base=$(for f in "${fs[@]}"; do snap_total pss "$f.idle"; done | median)
    wsd=$(for f in "${fs[@]}"; do calc "($(kv pss_websocketd "$f.s0") - $(kv pss_websocketd "$f.idle")) / $n / 1024" %.3f; echo; done | median)
    row 5 "memory: PSS with $n viewers, MB; per added viewer (baseline before the run $(calc "$base / 1024" %.1f) MB; one ws-labels $wsl MB; websocketd $(calc "$(med pss_websocketd "${fs[@]/%/.s0}") / 1024" %.1f) MB, of it per added viewer $wsd MB)" \
      "$(calc "$pss / 1024" %.1f); $per" - - "≤ 0.5 MB/viewer" "$(verdict le "$per" 0.5)"
  done
}

row6() {
  local n fs cpu gb per parts wsd
  for n in $VIEWERS; do
    mapfile -t fs < <(runs "r3_n$n" | sed 's/$/.cpu/')
    cpu=$(med suite_cpu_s "${fs[@]}") gb=$(med gb "${fs[@]}")
    per=$(for f in "${fs[@]}"; do calc "$(kv suite_cpu_s "$f") / ($(kv gb "$f") + 1e-9)" %.3f; echo; done | median)
    parts=$(for g in nginx websocketd ws; do printf '%s %s ' "$g" "$(med suite_cpu_${g}_s "${fs[@]}")"; done)
    wsd=$(for f in "${fs[@]}"; do calc "$(kv suite_cpu_websocketd_s "$f") / ($(kv gb "$f") + 1e-9)" %.3f; echo; done | median)
    row 6 "CPU per GB delivered, $n viewers: s/GB (${parts}s over $(med window_s "${fs[@]}") s, $gb GB; websocketd alone $wsd s/GB)" \
      "$per" - - "≤ 0.5 s/GB" "$(verdict le "$per" 0.5)"
  done
}

# ---- row 4: 100 idle viewers, no producer ----
row4() {
  local i f c0 c1 t0 w
  seed idle
  for i in $(seq "$RUNS"); do
    f=$out/r4_$i
    client "$f" "$tools/wsload" -n 100 -r "$RATE" -d $(( SECS + 4 )) "$WSBASE/ws/labels/idle?token=$TOKEN"
    local pid=$client_pid
    wait_until 20 eval '[ "$(ws_children)" -ge 100 ]' || say "idle: not all viewers connected"
    sleep 1
    snapshot "$f.s0"; c0=$(commands_total); t0=$(now_ms)
    sleep "$SECS"
    c1=$(commands_total); w=$(calc "($(now_ms) - $t0) / 1000"); snapshot "$f.s1"
    cpu_window "$f.s0" "$f.s1" "$f.cpu"
    # Our own INFO calls: the second one is counted in c1.
    echo "cmds_per_s=$(calc "($c1 - $c0 - 1) / $w" %.1f)" >>"$f.cpu"
    wait "$pid"
    raw+=("$(basename "$f"): $(cat "$f") | $(tr '\n' ' ' <"$f.cpu")")
    settle
  done
  local fs cs cps bytes
  mapfile -t fs < <(runs r4); mapfile -t cs < <(runs r4 | sed 's/$/.cpu/')
  cps=$(med cmds_per_s "${cs[@]}") bytes=$(med bytes "${fs[@]}")
  row 4 "100 idle viewers: Redis commands/s (suite CPU $(med suite_cpu_s "${cs[@]}") s in ${SECS} s)" "$cps" - - "≤ 50" "$(verdict le "$cps" 50)"
  row 4 "100 idle viewers: bytes sent after the initial frames (connected $(med connected "${fs[@]}"))" "$bytes" - - 0 "$(verdict [ "$bytes" = 0 ])"
}

# ---- row 7: connect cost ----
# wsload -C: each of K loops connects, waits for its first frame, closes, connects again.
# Also watched: websocketd's resident memory across the churn. websocketd 0.4.1 leaves its stdout
# reader parked, with its 10 MiB buffer, whenever a message is in flight as a viewer leaves.
rss_kb() { sed -nE 's/^VmRSS:[[:space:]]*([0-9]+) kB/\1/p' "/proc/$1/status" 2>/dev/null; }
# The reference for row 7: a websocketd started as the stack starts the /ws/labels one, serving
# tests/tools/wsreplay instead: one frame captured from /ws/labels/push, sent as it is, and nothing
# more. Its figures are what websocketd costs per connection with no program of ours, no Redis and
# no token check behind it (and no nginx in front: viewers connect to it directly).
ref_start() {
  local dir=$out/ref port msg
  mkdir -p "$dir"
  "$tools/wsclient" -T 5000 -o "$dir" -q "$WSBASE/ws/labels/push?token=$TOKEN" recv:1 close >/dev/null 2>&1
  msg=$(ls "$dir"/*.bin 2>/dev/null | head -1)
  [ -s "$msg" ] || return 1
  port=$(free_port)
  websocketd --address=127.0.0.1 --port="$port" --maxforks=1024 --loglevel=error --binary \
    "$tools/wsreplay" "$msg" 2>>"$out/ref-websocketd.log" &
  REF_PID=$!
  clients+=("$REF_PID")
  REF_URL=ws://127.0.0.1:$port/ws/labels/push
  wait_until 10 eval "(: </dev/tcp/127.0.0.1/$port)"
}
row7() {
  local i k wsd rss0 rss_max=0 r conns=0 alive=yes ref_rss0 ref_max=0 ref_conns=0
  seed push
  if ! ref_start; then cannot 7 "connect cost" "no frame captured for the websocketd reference"; return; fi
  wsd=$(root_pid ws-labels); rss0=$(rss_kb "$wsd") ref_rss0=$(rss_kb "$REF_PID")
  for i in $(seq "$RUNS"); do
    for k in 1 16; do
      run_client "$out/r7_k${k}_$i" "$tools/wsload" -C -n "$k" -r 1000 -d "$SECS" "$WSBASE/ws/labels/push?token=$TOKEN"
      settle
      conns=$(( conns + $(kv connected "$out/r7_k${k}_$i") ))
      r=$(rss_kb "$wsd"); [ -n "$r" ] || alive="no (killed)"
      [ "${r:-0}" -gt "$rss_max" ] && rss_max=$r
      run_client "$out/r7ref_k${k}_$i" "$tools/wsload" -C -n "$k" -r 1000 -d "$SECS" "$REF_URL"
      sleep 1
      ref_conns=$(( ref_conns + $(kv connected "$out/r7ref_k${k}_$i") ))
      r=$(rss_kb "$REF_PID"); [ "${r:-0}" -gt "$ref_max" ] && ref_max=$r
    done
  done
  kill "$REF_PID" 2>/dev/null
  local one many rone rmany p50 rp50 rate rrate errs
  mapfile -t one < <(runs r7_k1); mapfile -t many < <(runs r7_k16)
  mapfile -t rone < <(runs r7ref_k1); mapfile -t rmany < <(runs r7ref_k16)
  p50=$(med first_p50_ms "${one[@]}") rate=$(med cycle_rate "${many[@]}")
  rp50=$(med first_p50_ms "${rone[@]}") rrate=$(med cycle_rate "${rmany[@]}")
  # Runs that connected no viewer have no latency to judge.
  [ "$(calc "$(med cycles "${one[@]}") > 0" %d)" = 1 ] || p50=
  errs=$(for f in "${many[@]}"; do echo $(( $(kv refused "$f") + $(kv connect_fail "$f") + $(kv errors "$f") )); done | median)
  row 7 "connect: upgrade → first frame p50 ms, 1 loop (connect → first: $(med conn_first_p50_ms "${one[@]}") ms; $(med cycle_rate "${one[@]}")/s); ceiling: websocketd alone, direct" \
    "${p50:-none}" "$rp50" "$(calc "$p50 / ($rp50 + 1e-9)" %.1f) ×" "≤ 5 ms" "$(verdict le "$p50" 5)"
  row 7 "connect: new viewers/s, 16 loops (p50 upgrade → first $(med first_p50_ms "${many[@]}") ms; refused+failed $errs; client CPU $(med client_cpu_s "${many[@]}") s); ceiling: websocketd alone" \
    "$rate" "$rrate" "$(calc "100 * $rate / ($rrate + 1e-9)" %.1f) %" "≥ 200/s" "$(verdict ge "$rate" 200)"
  row 7 "websocketd /ws/labels: RSS kept per churned connection, KB (RSS ${rss0:-?} → max $rss_max KB over $conns connections; still running: $alive); websocketd alone, one message per connection: $ref_rss0 → $ref_max KB over $ref_conns" \
    "$(calc "(${rss_max} - ${rss0:-0}) / ($conns + 0.000001)" %.0f)" "$(calc "($ref_max - ${ref_rss0:-0}) / ($ref_conns + 0.000001)" %.0f)" - - -
}

# ---- report ----
machine() {
  local cpu mem
  cpu=$(lscpu 2>/dev/null | sed -nE 's/^Model name: *//p' | head -1)
  mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
  echo "${cpu:-unknown CPU}, $(nproc) cores, Linux $(uname -r), $mem"
}
commit() {
  local c
  c=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
  [ -n "$(git -C "$top" status --porcelain 2>/dev/null)" ] && c+=-dirty
  echo "$c"
}

print_table() {
  local l
  printf '%-3s %-100s %-22s %-10s %-8s %-26s %s\n' "#" measurement figure ceiling ratio target result
  for l in "${table[@]}"; do
    IFS='|' read -r a b c d e f g <<<"$l"
    printf '%-3s %-100s %-22s %-10s %-8s %-26s %s\n' "$a" "$b" "$c" "$d" "$e" "$f" "$g"
  done
}

write_results() {
  local l
  {
    echo "# make bench: results"
    echo
    echo "Written by \`tests/bench/run.sh\` (\`make bench\`); every figure below comes from this run."
    echo
    echo "- machine: $(machine)"
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- commit: $COMMIT"
    echo "- settings: BENCH_RUNS=$RUNS (medians), BENCH_SECONDS=$SECS, FCGI_WORKERS=$WORKERS, STREAM_MAXLEN=$MAXLEN," \
      "WS_MAXFORKS=1024, 100 KB frames, viewers connect at $RATE/s, user $(id -un)"
    echo
    echo "| # | measurement | figure | ceiling (same run) | ratio | target | result |"
    echo "|---|---|---|---|---|---|---|"
    for l in "${table[@]}"; do echo "| ${l//|/ | } |"; done
    echo
    cat <<'EOF'
How each figure is taken:
- Ceilings: `xaddload` (tests/tools) — N threads, each its own hiredis connection, doing the XADD of
  common/store.c (same seven fields, `MAXLEN <STREAM_MAXLEN>`) in a closed loop; run right before
  the measurement it bounds, alternating, so both see the same machine.
- Row 1: `httpload -R` through nginx (one random frame per connection, only its sequence number
  and time stamp change, as xaddload sends one frame throughout: hashing a fresh 100 KB frame per
  request made the client cost more than the server); "XADDs ≠ 200s" compares Redis'
  `cmdstat_xadd` calls delta with the 200 responses of each run. Row 2: `wsupload`, a message
  with `size`, the next one sent when the reply is in; XADD delta checked likewise.
- CPU µs per upload (rows 1, 2): the client's own CPU time, the suite's processes (as for row 6)
  and Redis (`INFO cpu`) over the run, divided by the 200s / ok replies. "Possible here if FastCGI
  cost nothing" = min(cores × 10^6 / (client + nginx + Redis), 10^6 / nginx, 10^6 / Redis): the
  most uploads/s this machine could carry with frames.fcgi free, all cores busy and neither Redis
  nor the one nginx worker past one core.
- Row 3: `wsload -P` writes 4 streams × 10 fps straight into Redis, stamping each frame; latency =
  viewer receipt − XADD time; missed = frames a viewer skipped; errors = error messages, refused or
  failed connects, closes, protocol/integrity errors.
- Row 3's figures cover a window of SECS seconds that starts once 95 % of the viewers are
  connected (wsload is told by SIGUSR1 to start its figures there, and stopped by SIGTERM).
- Rows 5 and 6 are taken in that window: PSS = sum of `Pss` from
  /proc/PID/smaps_rollup over nginx (master+worker), the FastCGI responders and workers, the three
  websocketd and every ws-* program (Redis excluded); idle = the same before the first viewer of
  row 3 (and once just after the stack started); per added viewer = (PSS with N − PSS just
  before that run) / N, median over the runs.
  CPU = utime+stime+cutime+cstime of the same processes (from /proc/PID/stat) between two snapshots
  SECS s apart: a process that exits in between has its time moved into its parent's cutime, so
  nothing that ran is lost. GB = the frame messages the viewers received in the window (wsload).
- Row 4: Redis `total_commands_processed` delta over SECS seconds with 100 viewers connected and
  nothing written, minus our own INFO; bytes = what wsload received after each viewer's initial
  frames. Row 7: `wsload -C` loops: connect, upgrade, first frame, close, again. Its ceiling:
  the same loops against a websocketd started as the stack's /ws/labels one but serving
  `tests/tools/wsreplay` (one frame captured from /ws/labels/push, sent as it is, nothing else:
  no Redis, no token check, no program start-up of ours), connected to directly (no nginx);
  the loops alternate with ours. "websocketd alone" in row 6 is websocketd's own CPU per GB.
EOF
    echo
    cat "$top/tests/bench/CHANGES.md"
    echo
    echo "Raw key=value output of every run:"
    echo
    echo '```'
    for l in "${raw[@]}"; do echo "$l"; done
    echo '```'
  } >"$RESULTS"
}

main() {
  local t
  for t in wsload xaddload wsupload mkjwt; do
    [ -x "$tools/$t" ] || { say "$tools/$t missing: run make first"; exit 1; }
  done
  COMMIT=$(commit)
  say "machine: $(machine); commit $COMMIT; rows:$ROWS; $RUNS runs × ${SECS} s"
  stack_start
  say "stack on port $PORT (FCGI_WORKERS=$WORKERS, STREAM_MAXLEN=$MAXLEN), raw outputs in $out"
  # The stack just started, before any load: the other idle figure of row 5 is taken after rows
  # 1 and 2, once the processes hold what uploads made them grow to.
  if selected 5; then sleep 1; snapshot "$out/start.snap"; fi
  if selected 1; then say "row 1: POST /frames"; row1; fi
  if selected 2; then say "row 2: /ws/frames"; row2; fi
  if selected 3 5 6; then say "rows 3, 5, 6: push to 20 / 100 / 500 viewers"; push_rows; fi
  if selected 3; then row3; fi
  if selected 4; then say "row 4: idle viewers"; row4; fi
  if selected 5; then row5; fi
  if selected 6; then row6; fi
  # websocketd 0.4.1 keeps memory for viewers that left while frames flowed (row 7 measures it):
  # after rows 3-6 it can hold GBs, so connect cost is measured on a fresh stack.
  if selected 7; then
    if selected 3 4 5 6; then stack_stop; stack_start; fi
    say "row 7: connect cost (fresh stack on port $PORT)"; row7
  fi
  stack_stop
  echo
  print_table
  write_results
  echo
  if [ ${#failed_rows[@]} -gt 0 ]; then
    echo "targets FAILED (${#failed_rows[@]}):"
    printf '  row %s\n' "${failed_rows[@]}"
  else
    echo "every target held"
  fi
  echo "written: ${RESULTS#"$top"/}"
  [ "$not_run" = 0 ]
}

main "$@"
