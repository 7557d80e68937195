#!/usr/bin/env bash
# bench: `make bench`. Starts the stack as `make run` does, on private ports, and measures each row
# BENCH_RUNS times: the upload rows U1, U2 against ceilings taken in the same run, the viewer rows
# 1-7 on the patched websocketd and on stock 0.4.1 (both built from Debian's source), alternating.
# Prints the medians and writes tests/bench/RESULTS.md. Exit 0 when every measurement ran (targets
# may FAIL), 1 if one could not run.
#   BENCH_RUNS (3)  BENCH_SECONDS (10)  BENCH_ROWS ("U1 U2 1 2 3 4 5 6 7")
#   BENCH_CHURN (10000) BENCH_CHURN_STOCK (2000): row 4's connections on each build
#   BENCH_WEBSOCKETD, BENCH_WEBSOCKETD_STOCK: the two builds (build/websocketd, build/websocketd-stock)
#   BENCH_WORKERS (FCGI_WORKERS for the stack, 2)  BENCH_MAXLEN (STREAM_MAXLEN, 10)
#   BENCH_RESULTS (tests/bench/RESULTS.md)  BENCH_KEEP=1 keeps the raw outputs
set -u -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
build=${BUILD:-$top/build}
tools=$build/tools
. "$top/tests/bench/lib.sh"

RUNS=${BENCH_RUNS:-3} SECS=${BENCH_SECONDS:-10} ROWS=" ${BENCH_ROWS:-U1 U2 1 2 3 4 5 6 7} "
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
    row U1 "POST /frames, $c conns: uploads/s ($cpu)" "$rate" "$crate" "$(calc "100 * $rate / $crate" %.1f) %" \
      "≥ 80 %" "$(verdict ge "$(calc "$rate / $crate")" 0.8)"
    row U1 "POST /frames, $c conns: p50 / p99 ms (ceiling's p99)" "$(med lat_p50_ms "${h[@]}") / $p99" \
      "$(med lat_p99_ms "${e[@]}")" - "$([ "$c" = 8 ] && echo "p99 ≤ 10 ms" || echo -)" \
      "$([ "$c" = 8 ] && verdict le "$p99" 10 || echo -)"
    row U1 "POST /frames, $c conns: errors, runs where XADDs ≠ 200s" "$errs, $mism" - - "0, 0" \
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
  row U1 "POST /frames, $c conns: CPU µs per upload: client $cl, nginx $ng, FastCGI $fc, Redis $rd (ceiling: client $ecl, Redis $erd); uploads/s possible here if FastCGI cost nothing" \
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
  row U2 "/ws/frames, 1 conn: uploads/s (client CPU $(med client_cpu_s "${one[@]}") s / $(med client_cpu_s "${e[@]}") s)" \
    "$rate1" "$crate" "$(calc "100 * $rate1 / $crate" %.1f) %" "≥ 70 %" "$(verdict ge "$(calc "$rate1 / $crate")" 0.7)"
  row U2 "/ws/frames, 1 conn: round trip p50 / p99 ms (ceiling's XADD p50)" "$p50 / $(med lat_p99_ms "${one[@]}")" \
    "$(med lat_p50_ms "${e[@]}")" - "p50 ≤ 1 ms" "$(verdict le "$p50" 1)"
  row U2 "/ws/frames, 4 conns: uploads/s, p50 ms (client CPU $(med client_cpu_s "${four[@]}") s)" \
    "$rate4, $(med lat_p50_ms "${four[@]}")" "$crate" "$(calc "100 * $rate4 / $crate" %.1f) %" - -
  row U2 "/ws/frames: errors + runs where XADDs ≠ ok replies" "$errs" - - 0 "$(verdict [ "$errs" = 0 ])"
  local k parts key fs
  for k in 1 4; do
    mapfile -t fs < <(runs "r2_c$k")
    parts=$(for g in client_cpu nginx websocketd ws redis_cpu; do
      case $g in client_cpu|redis_cpu) key=${g}_s ;; *) key=suite_cpu_${g}_s ;; esac
      printf '%s %s, ' "${g%_cpu}" "$(per_op "$key" "${fs[@]}")"; done)
    row U2 "/ws/frames, $k conn(s): suite CPU µs per upload (${parts%, }; ceiling: client $(per_op client_cpu_s "${e[@]}"), Redis $(per_op redis_cpu_s "${e[@]}"))" \
      "$(per_op suite_cpu_s "${fs[@]}")" - - - -
  done
}

# ---- viewer rows 1-7 (issue 9): each on the patched websocketd and on stock 0.4.1 ----
# Both builds come from the same Debian source (deploy/websocketd/build.sh); a run alternates them,
# each on a fresh stack, so a row's two figures see the same machine.
WSD_PATCHED=${BENCH_WEBSOCKETD:-$build/websocketd}
WSD_STOCK=${BENCH_WEBSOCKETD_STOCK:-$build/websocketd-stock}
CHURN=${BENCH_CHURN:-10000}              # viewer connections of row 4 (patched build)
CHURN_STOCK=${BENCH_CHURN_STOCK:-2000}   # stock 0.4.1 keeps ~2.4 MB per connection: fewer
builds() { echo patched stock; }
wsd_of() { if [ "$1" = stock ]; then echo "$WSD_STOCK"; else echo "$WSD_PATCHED"; fi; }

# peak_sampler FILE: while it runs, the largest total PSS of the suite seen, once a second, in FILE.
peak_sampler() {
  local f=$1 max=0 t
  while :; do
    snapshot "$f.tmp"
    t=$(snap_total pss "$f.tmp")
    [ "$t" -gt "$max" ] && { max=$t; cp "$f.tmp" "$f"; }
    sleep 1
  done
}

# view_run B N I: N viewers of 4 streams × 10 fps × 100 KB through nginx, on build B. Once 95 %
# are connected: SIGUSR1 to wsload (its figures start here), SECS seconds with the PSS peak
# sampled, a CPU snapshot, SIGTERM (its summary covers exactly that window). Then the viewers
# leave; 10 s after the last one has gone, PSS again (row 5).
view_run() {
  local b=$1 n=$2 i=$3 f=$out/v_$1_n$2_$3 t pid wl sampler
  snapshot "$f.idle"
  client "$f" "$tools/wsload" -P "$REDIS_URL" -L push -s 4 -f 10 -n "$n" -r "$RATE" -d $(( 3 * SECS + 120 )) \
    "$WSBASE/ws/labels/push?token=$TOKEN"
  pid=$client_pid
  wait_until $(( n / 5 + 30 )) eval '[ "$(ws_children)" -ge '"$(( n * 95 / 100 ))"' ]' ||
    say "$b, $n viewers: only $(ws_children) connected"
  sleep 1
  wl=$(ps --ppid "$pid" -o pid= | tr -d ' ')     # wsload itself, under timeout
  snapshot "$f.s0" nopss
  kill -USR1 "$wl"
  t=$(now_ms)
  peak_sampler "$f.peak" & sampler=$!
  sleep "$SECS"
  kill "$sampler"; wait "$sampler" 2>/dev/null
  snapshot "$f.s1" nopss
  kill -TERM "$wl"
  wait "$pid"
  cpu_window "$f.s0" "$f.s1" "$f.cpu"
  echo "window_s=$(calc "($(now_ms) - $t) / 1000" %.2f) gb=$(calc "$(kv bytes "$f") / 1e9" %.4f)" \
    "peak_kb=$(snap_total pss "$f.peak") idle_kb=$(snap_total pss "$f.idle")" >>"$f.cpu"
  settle
  sleep 10
  snapshot "$f.after"
  echo "after_kb=$(snap_total pss "$f.after")" >>"$f.cpu"
  raw+=("$(basename "$f"): $(cat "$f") | $(tr '\n' ' ' <"$f.cpu")")
}

# idle_run B I: 100 viewers of a label nobody writes to: Redis commands/s and bytes sent.
idle_run() {
  local f=$out/i_$1_$2 c0 c1 t0 w pid
  client "$f" "$tools/wsload" -n 100 -r "$RATE" -d $(( SECS + 4 )) "$WSBASE/ws/labels/idle?token=$TOKEN"
  pid=$client_pid
  wait_until 30 eval '[ "$(ws_children)" -ge 100 ]' || say "idle: not all viewers connected"
  sleep 1
  c0=$(commands_total); t0=$(now_ms)
  sleep "$SECS"
  c1=$(commands_total); w=$(calc "($(now_ms) - $t0) / 1000")
  # Our own INFO calls: the second one is counted in c1.
  echo "cmds_per_s=$(calc "($c1 - $c0 - 1) / $w" %.2f)" >>"$f.cpu"
  wait "$pid"
  raw+=("$(basename "$f"): $(cat "$f") | $(tr '\n' ' ' <"$f.cpu")")
  settle
}

# churn_run B I COUNT: COUNT viewer connections, 16 at a time, each leaving after its first frame
# while 4 streams × 10 fps flow. websocketd's RSS before, and 10 s after the last one left; the ws
# processes still running then.
churn_run() {
  local b=$1 i=$2 count=$3 f=$out/c_$1_$2 wsd rss0 prod
  wsd=$(root_pid ws-labels); rss0=$(rss_kb "$wsd")
  client "$f.prod" "$tools/wsload" -P "$REDIS_URL" -L churn -s 4 -f 10 -n 0 -d $(( 3 * SECS + 600 )) \
    "$WSBASE/ws/labels/churn"
  prod=$client_pid
  wait_until 10 eval '[ -n "$(rcli --scan --pattern "stream_frame:$(printf churn | base64)*" | head -1)" ]'
  # wsload -C runs for a time: rounds of it until COUNT connections have come and gone, each
  # round as long as the rate so far says the rest needs (5 s at least).
  local conns=0 k=0 left rate=1000   # a short first round, then the rate it measured
  while [ "$conns" -lt "$count" ]; do
    k=$((k + 1)) left=$((count - conns))
    run_client "$f.$k" "$tools/wsload" -C -n 16 -r 1000 -d "$(calc "s = $left / $rate + 1; if (s < 5) s = 5; s" %.0f)" \
      "$WSBASE/ws/labels/churn?token=$TOKEN"
    conns=$((conns + $(kv connected "$f.$k")))
    rate=$(calc "r = $(kv cycle_rate "$f.$k"); if (r < 1) r = 1; r" %.1f)
    [ "$(kv connected "$f.$k")" -gt 0 ] || break    # nothing connects: do not loop forever
  done
  kill -TERM "$prod"; wait "$prod" 2>/dev/null
  settle
  sleep 10
  proc_scan
  echo "conns=$conns rss0_kb=${rss0:-0}" \
    "rss_after_kb=$(rss_kb "$wsd" || echo gone) ws_left=$(ws_children) alive=$([ -d "/proc/$wsd" ] && echo yes || echo no)" >"$f.cpu"
  raw+=("$(basename "$f"): $(cat "$f".[0-9]*) | $(tr '\n' ' ' <"$f.cpu")")
}
rss_kb() { sed -nE 's/^VmRSS:[[:space:]]*([0-9]+) kB/\1/p' "/proc/$1/status" 2>/dev/null; }

# ERROR lines websocketd wrote in a stack's life (ordinary disconnects happen in every run); it
# logs to stdout (the stack's output) and passes on what the programs write to stderr.
wsd_errors() { cat "$STACK_DIR"/ws-*.log "$out/stack.out" 2>/dev/null | grep -c ' ERROR ' ; }

viewer_runs() {
  local i b
  for i in $(seq "$RUNS"); do
    for b in $(builds); do
      say "viewers, run $i, $b websocketd"
      stack_stop; WEBSOCKETD=$(wsd_of "$b") stack_start
      seed idle
      sleep 2
      if selected 6; then idle_run "$b" "$i"; fi
      if selected 2; then view_run "$b" 20 "$i"; fi
      if selected 1; then view_run "$b" 100 "$i"; fi
      if selected 3 5; then view_run "$b" 300 "$i"; fi
      echo "errors=$(wsd_errors)" >"$out/e_${b}_$i"
      if selected 4 && [ "$i" = 1 ]; then
        stack_stop; WEBSOCKETD=$(wsd_of "$b") stack_start
        churn_run "$b" "$i" "$([ "$b" = stock ] && echo "$CHURN_STOCK" || echo "$CHURN")"
        echo "churn_errors=$(wsd_errors)" >>"$out/e_${b}_$i"
      fi
    done
  done
  stack_stop; stack_start
}

# vfiles B N SUFFIX: the runs' files of build B with N viewers.
vfiles() { local i; for i in $(seq "$RUNS"); do [ -f "$out/v_$1_n$2_$i${3:-}" ] && echo "$out/v_$1_n$2_$i${3:-}"; done; }
# per-run figures, medians over the runs: missed %, errors, PSS per viewer, CPU s/GB, MB/s.
missed_pct() { calc "100 * $(kv skipped "$1") / ($(kv msgs "$1") + $(kv skipped "$1") + 1e-9)" %.2f; }
errs_of() { echo $(( $(kv errors "$1") + $(kv connect_fail "$1") + $(kv refused "$1") + $(kv closed "$1") \
  + $(kv proto "$1") + $(kv corrupt "$1") + $(kv reorder "$1") + $(kv dup "$1") )); }
per_run() { local fn=$1 f; shift; for f in "$@"; do "$fn" "$f"; echo; done | median; }
s_per_gb() { calc "$(kv suite_cpu_s "$1.cpu") / ($(kv gb "$1.cpu") + 1e-9)" %.2f; }
peak_mb() { calc "($(kv peak_kb "$1.cpu") - $(kv idle_kb "$1.cpu")) / 1024" %.1f; }
mb_per_s() { calc "$(kv gb "$1.cpu") * 1000 / $(kv window_s "$1.cpu")" %.0f; }
back_mb() { calc "($(kv after_kb "$1.cpu") - $(kv idle_kb "$1.cpu")) / 1024" %.1f; }
wsd_share() { calc "$(kv suite_cpu_websocketd_s "$1.cpu") / ($(kv gb "$1.cpu") + 1e-9)" %.2f; }

# vrow B N: "figure" strings for build B (p50/p99, missed %, errors, peak, s/GB, MB/s, back).
vfig() {
  local fs; mapfile -t fs < <(vfiles "$1" "$2")
  [ ${#fs[@]} -gt 0 ] || { echo "-"; return; }
  case $3 in
    lat) echo "$(med lat_p50_ms "${fs[@]}") / $(med lat_p99_ms "${fs[@]}")" ;;
    p50) med lat_p50_ms "${fs[@]}" ;;
    p99) med lat_p99_ms "${fs[@]}" ;;
    missed) per_run missed_pct "${fs[@]}" ;;
    errors) per_run errs_of "${fs[@]}" ;;
    connected) med connected "${fs[@]}" ;;
    skipped) med skipped "${fs[@]}" ;;
    peak) per_run peak_mb "${fs[@]}" ;;
    idle) for f in "${fs[@]}"; do calc "$(kv idle_kb "$f.cpu") / 1024" %.1f; echo; done | median ;;
    perviewer) for f in "${fs[@]}"; do calc "$(peak_mb "$f") / $2" %.3f; echo; done | median ;;
    spgb) per_run s_per_gb "${fs[@]}" ;;
    wsdgb) per_run wsd_share "${fs[@]}" ;;
    mbps) per_run mb_per_s "${fs[@]}" ;;
    back) per_run back_mb "${fs[@]}" ;;
    parts) for g in nginx websocketd ws; do printf '%s %s ' "$g" "$(med suite_cpu_${g}_s "${fs[@]/%/.cpu}")"; done ;;
  esac
}

row_v1() {
  local p99 mis err peak spgb
  p99=$(vfig patched 100 p99) mis=$(vfig patched 100 missed) err=$(vfig patched 100 errors)
  peak=$(vfig patched 100 peak) spgb=$(vfig patched 100 spgb)
  row 1 "100 viewers: p50 / p99 ms (stock 0.4.1: $(vfig stock 100 lat))" "$(vfig patched 100 lat)" \
    "$(vfig stock 100 lat)" - "p99 ≤ 50 ms" "$(verdict le "$p99" 50)"
  row 1 "100 viewers: missed %, errors (stock: $(vfig stock 100 missed) %, $(vfig stock 100 errors))" \
    "$mis %, $err" "$(vfig stock 100 missed) %" - "≤ 1 %, 0" "$(verdict eval 'le "$mis" 1 && [ "$err" = 0 ]')"
  row 1 "100 viewers: peak PSS above idle, MB (idle $(vfig patched 100 idle) MB; stock: idle $(vfig stock 100 idle), peak +$(vfig stock 100 peak))" \
    "$peak" "$(vfig stock 100 peak)" "$(calc "$(vfig stock 100 peak) / ($peak + 1e-9)" %.0f) × less" "≤ 100 MB" "$(verdict le "$peak" 100)"
  row 1 "100 viewers: suite CPU s per GB delivered ($(vfig patched 100 parts)s; websocketd alone $(vfig patched 100 wsdgb), stock $(vfig stock 100 wsdgb))" \
    "$spgb" "$(vfig stock 100 spgb)" - "≤ 2 s/GB" "$(verdict le "$spgb" 2)"
}

row_v2() {
  local p50 p99 sk
  p50=$(vfig patched 20 p50) p99=$(vfig patched 20 p99) sk=$(vfig patched 20 skipped)
  row 2 "20 viewers: p50 / p99 ms, frames missed (stock 0.4.1: $(vfig stock 20 lat), $(vfig stock 20 skipped))" \
    "$p50 / $p99, $sk" "$(vfig stock 20 lat)" - "p50 ≤ 2, p99 ≤ 10, 0 missed" \
    "$(verdict eval 'le "$p50" 2 && le "$p99" 10 && [ "$sk" = 0 ]')"
}

row_v3() {
  local con err per mbps
  con=$(vfig patched 300 connected) err=$(vfig patched 300 errors) per=$(vfig patched 300 perviewer)
  mbps=$(vfig patched 300 mbps)
  row 3 "300 viewers: connected, errors, frames skipped (counted; stock: $(vfig stock 300 connected), $(vfig stock 300 errors), $(vfig stock 300 skipped))" \
    "$con, $err, $(vfig patched 300 skipped)" - - "300, 0" "$(verdict eval '[ "$con" = 300 ] && [ "$err" = 0 ]')"
  row 3 "300 viewers: PSS per viewer, MB (peak above idle / 300; stock $(vfig stock 300 perviewer))" \
    "$per" "$(vfig stock 300 perviewer)" - "≤ 1 MB" "$(verdict le "$per" 1)"
  row 3 "300 viewers: MB/s delivered (p50 / p99 $(vfig patched 300 lat) ms; stock $(vfig stock 300 mbps) MB/s)" \
    "$mbps" "$(vfig stock 300 mbps)" - "≥ 600 MB/s" "$(verdict ge "$mbps" 600)"
}

row_v4() {
  local p=$out/c_patched_1.cpu s=$out/c_stock_1.cpu grow left alive sgrow
  [ -f "$p" ] || { cannot 4 "churn" "no churn run"; return; }
  grow=$(calc "($(kv rss_after_kb "$p") - $(kv rss0_kb "$p")) / 1024" %.1f) left=$(kv ws_left "$p") alive=$(kv alive "$p")
  sgrow=$( [ -f "$s" ] && calc "($(kv rss_after_kb "$s") - $(kv rss0_kb "$s")) / 1024" %.1f || echo -)
  row 4 "churn: $(kv conns "$p") connections leaving while frames flow: websocketd RSS 10 s after the last left, MB above its start ($(kv rss0_kb "$p") KB at start; ws processes left $left; alive $alive). Stock 0.4.1 over $(kv conns "$s"): +$sgrow MB, $(kv ws_left "$s") left, alive $(kv alive "$s")" \
    "$grow" "$sgrow" "$(calc "1024 * $sgrow / ($(kv conns "$s") + 1e-9)" %.0f) KB/conn stock" "≤ 20 MB, 0 left" \
    "$(verdict eval 'le "$grow" 20 && [ "$left" = 0 ] && [ "$alive" = yes ] && [ "$(kv conns "$p")" -ge '"$CHURN"' ]')"
}

row_v5() {
  local back; back=$(vfig patched 300 back)
  row 5 "memory comes back: total PSS 10 s after 300 viewers left, MB above idle (stock 0.4.1: $(vfig stock 300 back))" \
    "$back" "$(vfig stock 300 back)" - "≤ 20 MB" "$(verdict le "$back" 20)"
}

row_v6() {
  local b fs cps bytes integ=0 f
  mapfile -t fs < <(for i in $(seq "$RUNS"); do [ -f "$out/i_patched_$i" ] && echo "$out/i_patched_$i"; done)
  [ ${#fs[@]} -gt 0 ] || { cannot 6 "idle viewers" "no idle run"; return; }
  cps=$(for f in "${fs[@]}"; do calc "$(kv cmds_per_s "$f.cpu") / 100" %.3f; echo; done | median)
  bytes=$(med bytes "${fs[@]}")
  for f in $(vfiles patched 20) $(vfiles patched 100) $(vfiles patched 300); do
    integ=$(( integ + $(kv corrupt "$f") + $(kv dup "$f") + $(kv reorder "$f") + $(kv proto "$f") ))
  done
  row 6 "idle viewer: Redis commands/s each, bytes sent (100 idle viewers)" "$cps, $bytes" - - "≤ 0.5, 0" \
    "$(verdict eval 'le "$cps" 0.5 && [ "$bytes" = 0 ]')"
  row 6 "frames whole: corrupt + duplicate + out-of-order + protocol errors over every viewer run" "$integ" - - 0 \
    "$(verdict [ "$integ" = 0 ])"
}

row_v7() {
  local b p=0 s=0 i
  local -a ps ss
  for i in $(seq "$RUNS"); do
    ps+=("$(kv errors "$out/e_patched_$i")" "$(kv churn_errors "$out/e_patched_$i")")
    ss+=("$(kv errors "$out/e_stock_$i")" "$(kv churn_errors "$out/e_stock_$i")")
  done
  p=$(printf '%s\n' "${ps[@]}" | awk '{ s += $1 } END { print s + 0 }')
  s=$(printf '%s\n' "${ss[@]}" | awk '{ s += $1 } END { print s + 0 }')
  row 7 "websocketd ERROR log lines over every run (ordinary disconnects only)" "$p" "$s (stock)" - 0 "$(verdict [ "$p" = 0 ])"
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
      "WS_MAXFORKS=1024, 100 KB frames, viewers connect at $RATE/s, churn $CHURN (stock $CHURN_STOCK), user $(id -un)," \
      "$("$WSD_PATCHED" --version 2>&1 | head -1 | sed 's/ --$//') against $("$WSD_STOCK" --version 2>&1 | head -1 | sed 's/ --$//')"
    echo
    echo "| # | measurement | figure | ceiling or stock 0.4.1 (same run) | ratio | target | result |"
    echo "|---|---|---|---|---|---|---|"
    for l in "${table[@]}"; do echo "| ${l//|/ | } |"; done
    echo
    cat <<'EOF'
How each figure is taken:
- Upload rows U1, U2. Ceilings: `xaddload` (tests/tools) — N threads, each its own hiredis
  connection, doing the XADD of common/store.c (same seven fields, `MAXLEN <STREAM_MAXLEN>`) in a
  closed loop; run right before the measurement it bounds, alternating, so both see the same
  machine. U1: `httpload -R` through nginx (one random frame per connection, as xaddload sends
  one frame throughout); "XADDs ≠ 200s" compares Redis' `cmdstat_xadd` calls delta with the 200
  responses of each run. U2: `wsupload`, a message with `size`, the next one sent when the reply
  is in; XADD delta checked likewise. CPU µs per upload: the client's own CPU time, the suite's
  processes and Redis (`INFO cpu`) over the run, divided by the ok replies. "Possible here if
  FastCGI cost nothing" = min(cores × 10^6 / (client + nginx + Redis), 10^6 / nginx, 10^6 / Redis).
- Viewer rows 1-7 run every measurement twice in a row, on a fresh stack each: once with the
  patched websocketd (build/websocketd) and once with the same source unpatched
  (build/websocketd-stock, stock 0.4.1); the stock figure stands beside the patched one.
- Rows 1-3, 5: `wsload -P` writes 4 streams × 10 fps × 100 KB straight into Redis, stamping each
  frame; N viewers of that label through nginx. Latency = viewer receipt − XADD time; missed =
  frames a viewer skipped over (sequence gaps) / (received + missed); errors = error messages,
  refused or failed connects, closes, protocol, integrity (corrupt, duplicate, out-of-order)
  errors. Figures cover a window of SECS seconds that starts once 95 % of the viewers are
  connected (SIGUSR1 starts wsload's figures, SIGTERM ends them). PSS = sum of `Pss` from
  /proc/PID/smaps_rollup over nginx (master + worker), the FastCGI responders and workers, the
  three websocketd and every ws program (Redis and the client excluded), sampled once a second
  in the window; "peak above idle" = the largest sample − the same sum just before the run.
  CPU = utime+stime+cutime+cstime of the same processes between the window's two snapshots (a
  process that exits in between has its time in its parent's cutime, so nothing that ran is
  lost), per GB of frame messages the viewers received in the window.
- Row 4: `wsload -C`: 16 loops, each connecting, taking its first frame and closing, again, in
  rounds until the count is reached, while 4 streams × 10 fps flow. websocketd's (the /ws/labels
  one) RSS from /proc/PID/status before and 10 s after the last one left; ws processes still
  under it then. Stock 0.4.1 keeps about 2.5 MB per connection, so it is measured over fewer.
- Row 5: the PSS sum 10 s after the 300 viewers of row 3 left, against the same sum before.
- Row 6: 100 viewers of a label nobody writes to: Redis `total_commands_processed` delta over
  SECS seconds (minus our own INFO), per viewer; bytes = what wsload received after each
  viewer's first frame. Integrity: wsload checks every frame (SHA-256 and per-stream sequence).
- Row 7: lines with " ERROR " in websocketd's log (its own, and the programs' stderr it passes
  on) over every stack of the run; every run ends viewers' connections by the hundred.
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
  for t in "$WSD_PATCHED" "$WSD_STOCK"; do
    [ -x "$t" ] || { say "$t missing: run make first (deploy/websocketd/build.sh)"; exit 1; }
  done
  COMMIT=$(commit)
  say "machine: $(machine); commit $COMMIT; rows:$ROWS; $RUNS runs × ${SECS} s"
  stack_start
  say "stack on port $PORT (FCGI_WORKERS=$WORKERS, STREAM_MAXLEN=$MAXLEN), raw outputs in $out"
  if selected U1; then say "row U1: POST /frames"; row1; fi
  if selected U2; then say "row U2: /ws/frames"; row2; fi
  if selected 1 2 3 4 5 6 7; then
    viewer_runs
    if selected 1; then row_v1; fi
    if selected 2; then row_v2; fi
    if selected 3; then row_v3; fi
    if selected 4; then row_v4; fi
    if selected 5; then row_v5; fi
    if selected 6; then row_v6; fi
    if selected 7; then row_v7; fi
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
