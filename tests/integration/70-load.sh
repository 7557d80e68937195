#!/usr/bin/env bash
# Load with integrity (issue 4): LOAD_VIEWERS viewers on /ws/labels and LOAD_PRODUCERS cameras
# uploading over POST /frames, all through nginx, for LOAD_SECONDS; the FastCGI workers, websocketd
# and the ws programs run as an unprivileged user. Every frame a viewer gets is checked (SHA-256 in
# the frame, per-stream sequence), every acknowledged upload is compared with Redis afterwards, and
# a viewer past --maxforks must be refused cleanly while the others carry on.
# make test runs it small; make prove runs it at 300 viewers, 10 producers, 60 s, with
# LOAD_SYSCTL=1 applying deploy/sysctl-streamweb.conf for the run (restored afterwards).
# Lines "# figure KEY=VALUE" feed tests/RESULTS.md.
. "$(dirname "$0")/lib.sh"
viewers=${LOAD_VIEWERS:-30} producers=${LOAD_PRODUCERS:-10} seconds=${LOAD_SECONDS:-6}
fps=${LOAD_FPS:-2} bytes=${LOAD_BYTES:-20000} probes=10
# The load clients share this machine's cores with the suite: a process may wait
# for a CPU longer than the 1 s default before it reads Redis' answer, which
# would be reported as Redis timing out rather than as the overload it is.
export REDIS_TIMEOUT_MS=${REDIS_TIMEOUT_MS:-5000}
# an unprivileged user needs root to switch to; others run it as themselves
if [ "$(id -u)" = 0 ]; then user=${LOAD_USER:-nobody}; else user=$(id -un); fi

# kv KEY FILE: a value from a tool's key=value summary line.
kv() { grep -oE "(^| )$1=[^ ]*" "$2" | tail -1 | cut -d= -f2; }

# The sysctl drop-in, applied as its unit would; the old values come back at exit.
declare -A sysctl_saved=()
apply_sysctl() {
  local k v f
  while IFS='= ' read -r k v; do
    [[ -z "$k" || "$k" == \#* ]] && continue
    f=/proc/sys/${k//.//}
    sysctl_saved[$f]=$(cat "$f") || return 1
    echo "$v" >"$f" 2>/dev/null || return 1
  done <"$top/deploy/sysctl-streamweb.conf"
}
restore_sysctl() {
  local f
  for f in "${!sysctl_saved[@]}"; do echo "${sysctl_saved[$f]}" >"$f"; done
}
trap 'cleanup; restore_sysctl' EXIT
if [ "${LOAD_SYSCTL:-0}" = 1 ]; then
  check "deploy/sysctl-streamweb.conf applied (needs root and a writable /proc/sys)" apply_sysctl || exit 1
fi

STACK_USER=$([ "$(id -u)" = 0 ] && echo "$user") WS_MAXFORKS=$viewers STREAM_MAXLEN=1000000 FCGI_WORKERS=2 stack_start
tok=$(token)
fcgi_before=$(fcgi_procs)
ws_daemons=$(cat "$work"/stack/ws-*.pid | tr '\n' ' ')

# Cameras first, so the label has every stream before the viewers come.
ramp=$(( viewers / 50 + 2 ))
httpload -c "$producers" -f "$fps" -b "$bytes" -d $(( ramp + seconds + 4 )) -t "$tok" -L load \
  -m "$work/manifest" "$BASE/frames" >"$work/producers.out" 2>&1 &
prod=$!
streams_up() { [ "$(rcli --scan --pattern 'stream_frame:*' | wc -l)" -ge "$producers" ]; }
check "all $producers camera streams exist" wait_until 10 streams_up

wsload -n "$viewers" -r 50 -d "$seconds" "$WSBASE/ws/labels/load?token=$tok" >"$work/viewers.out" 2>&1 &
view=$!
full() { [ "$(ws_procs labels | wc -w)" -ge "$viewers" ]; }
check "all $viewers viewers connected" wait_until $(( ramp + 20 )) full
child=$(ws_procs labels | awk '{print $1}')
expect "the ws programs run as $user" "$(awk '/^Uid:/ {print $2}' "/proc/$child/status" 2>/dev/null)" "$(id -u "$user")"

# Past --maxforks: refused with 429 at the upgrade, nobody else disturbed.
wsload -n "$probes" -r 50 -d 1 "$WSBASE/ws/labels/load?token=$tok" >"$work/probe.out" 2>&1
expect "viewers past --maxforks are refused with 429" "$(kv refused "$work/probe.out") $(kv refused_by "$work/probe.out")" \
  "$probes 429:$probes"

# websocketd 0.4.1 can panic in a connection's goroutine when its client closes
# mid-message (upstream #342; net/http recovers it, the ws program is still
# ended): so a panic may follow the viewers' departure, never precede it.
panics() { cat "$work"/stack/ws-*.log | grep -c 'http: panic serving'; }
expect "no websocketd panic while the viewers watch" "$(panics)" 0

wait "$view"; view_rc=$?
expect "viewer client: no integrity error (exit 0)" "$view_rc" 0
for k in connected closed refused connect_fail corrupt dup reorder proto errors silent; do
  want=0; [ "$k" = connected ] && want=$viewers
  expect "viewers: $k" "$(kv "$k" "$work/viewers.out")" "$want"
done
expect_match "viewers got live frames" "$(kv msgs "$work/viewers.out")" '^[1-9][0-9]*$'

wait "$prod"; prod_rc=$?
expect "producers: every upload answered 200" "$prod_rc $(kv conn_errors "$work/producers.out")" "0 0"
httpload -V "$REDIS_URL" -m "$work/manifest" -L load >"$work/verify.out" 2>&1
verify_rc=$?
expect "every acknowledged upload is byte-identical in Redis" "$verify_rc $(kv missing "$work/verify.out") $(kv corrupt "$work/verify.out") $(kv duplicate "$work/verify.out")" "0 0 0 0"
expect "acknowledged = stored" "$(kv acked "$work/verify.out")" "$(kv found "$work/verify.out")"

gone() { [ -z "$(ws_procs labels)" ]; }
check "no ws program left once the viewers are gone" wait_until 5 gone
expect "no FastCGI process died or was replaced" "$(fcgi_procs)" "$fcgi_before"
check "every websocketd still running" kill -0 $ws_daemons

echo "# figure load_viewers=$viewers load_producers=$producers camera_fps=$fps load_seconds=$seconds frame_bytes=$bytes"
echo "# figure uploads_acked=$(kv acked "$work/verify.out") uploads_verified=$(kv found "$work/verify.out") upload_p99_ms=$(kv lat_p99_ms "$work/producers.out")"
echo "# figure viewer_frames_checked=$(( $(kv msgs "$work/viewers.out") + $(kv initial "$work/viewers.out") )) viewer_skipped=$(kv skipped "$work/viewers.out") viewer_p50_ms=$(kv lat_p50_ms "$work/viewers.out") viewer_p99_ms=$(kv lat_p99_ms "$work/viewers.out")"
echo "# figure maxforks_refused=$(kv refused "$work/probe.out") websocketd_panics_at_disconnect=$(panics)"
sed 's/^/# viewers: /' "$work/viewers.out"
sed 's/^/# producers: /' "$work/producers.out"
