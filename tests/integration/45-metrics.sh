#!/usr/bin/env bash
# servers: nginx lighttpd
# GET /metrics: a strictly valid exposition, and every counter moves by exactly
# what the test did — uploads stored and refused by endpoint and reason over
# HTTP and /ws/frames, frames delivered and skipped, Redis errors and
# reconnects — while nothing else moves; connection gauges follow live
# processes (a SIGKILLed viewer counts no more); counters survive a killed
# worker; per-process start times. One worker per responder, so each
# program's Redis counters are one connection's.
. "$(dirname "$0")/lib.sh"
export LC_ALL=C
t_start=$(date +%s)
FCGI_WORKERS=1 MAX_FRAME_BYTES=4096 REDIS_TIMEOUT_MS=500 stack_start
tok=$(token)
WSOPTS=(-T 30000 -H "Authorization: Bearer $tok")

# scrape NAME: GET /metrics into $work/m.NAME; it must be valid.
scrape() {
  local st problems
  st=$(curl -s -o "$work/m.$1" -w '%{http_code}' "$BASE/metrics")
  problems=$(awk -f "$top/tests/tools/promcheck.awk" "$work/m.$1")
  [ "$(tail -c1 "$work/m.$1" | od -An -tx1 | tr -d ' ')" = 0a ] || problems+="no final newline"
  [ "$st" = 200 ] && [ -z "$problems" ] || { not_ok "scrape $1: $st ${problems:0:300}"; return 1; }
}
counters() { # every counter sample of scrape $1 as "series value", sorted
  awk '/^# TYPE / { t[$3] = $4; next } /^#/ { next }
       { n = $1; sub(/\{.*/, "", n); if (t[n] == "counter") print $1, $2 }' "$work/m.$1" | sort
}
moved() { # moved A B: "series +delta" for each counter that moved between scrapes A and B
  join <(counters "$1") <(counters "$2") | awk '$3 != $2 { printf "%s +%d\n", $1, $3 - $2 }' | sort
}
# expect_moved DESC A B "series +delta"...: exactly these counters moved, by exactly that much.
expect_moved() {
  local d=$1 a=$2 b=$3; shift 3
  expect "$d" "$(moved "$a" "$b" | tr '\n' ';')" "$(printf '%s\n' "$@" | sort | tr '\n' ';')"
}
value() { awk -v s="$1" '$1 == s { print $2 }' "$work/m.$2"; } # value SERIES SCRAPE
live() { scrape live >/dev/null && value "$1" live; }             # live SERIES: its value now
gauge_is() { [ "$(live "$1")" = "$2" ]; }
ep() { printf 'endpoint="%s"' "$1"; }
has_lines() { [ "$(grep -c "$2" "$1" 2>/dev/null)" -ge "$3" ]; } # has_lines FILE REGEX N (for wait_until)
prog() { printf 'program="%s"' "$1"; }

# ---- the checker itself finds what it is for ----
scrape s0
bad=0
for mutation in 's/^# TYPE \(streamweb_processes\) gauge/# TYPE \1 summary/' \
    's/^streamweb_uploads_stored_total{endpoint="\/frames"} 0/streamweb_uploads_stored_total{endpoint="\/frames} 0/' \
    's/^streamweb_uploads_stored_total{endpoint="\/frames"} 0/streamweb_uploads_stored_total{endpoint="\/frames"}  0/' \
    's/^\(streamweb_ws_connections{endpoint="\/ws\/frames"}\) 0/\1 zero/' \
    's/^# HELP streamweb_processes .*/&\n# HELP streamweb_processes again/' \
    's/^\(streamweb_redis_errors_total{program="other"} 0\)/\1\n\1/' \
    's/^# TYPE streamweb_uploads_stored_total counter/# TYPE streamweb_uploads_stored_total gauge\n# TYPE x counter/' \
    's/^\(streamweb_metrics_slots_exhausted_total\) 0/\1{a="x\\q"} 0/'; do
  sed "$mutation" "$work/m.s0" >"$work/m.mut"
  awk -f "$top/tests/tools/promcheck.awk" "$work/m.mut" >/dev/null && { bad=$((bad + 1)); echo "# not caught: $mutation"; }
done
expect "the exposition checker refuses each of 8 malformed variants" "$bad" 0
# A family split in two blocks (a sample moved to the end).
{ grep -v '^streamweb_uploads_stored_total{endpoint="/ws/frames"}' "$work/m.s0"
  grep '^streamweb_uploads_stored_total{endpoint="/ws/frames"}' "$work/m.s0"; } >"$work/m.mut"
check "... and a family split into two blocks" bash -c "! awk -f '$top/tests/tools/promcheck.awk' '$work/m.mut'"

# ---- a fresh stack ----
expect "a fresh stack: every counter is 0" "$(counters s0 | awk '$2 != 0' | tr '\n' ';')" ""
expect "names prefixed streamweb_, each with HELP and TYPE" \
  "$(grep -vc '^streamweb_\|^# HELP streamweb_\|^# TYPE streamweb_' "$work/m.s0")" 0
h=$(curl -s -D - -o /dev/null "$BASE/metrics" | tr -d '\r')
expect_match "served as text/plain; version=0.0.4" "$h" $'\nContent-Type: text/plain; version=0.0.4; charset=utf-8\n'
now=$(date +%s) starts=0
for p in labels frames status; do
  pid=$(cat "$work/stack/$p.pid")
  t=$(value "streamweb_process_start_time_seconds{program=\"$p.fcgi\",pid=\"$pid\"}" s0)
  [ -n "$t" ] && [ "${t%.*}" -ge $((t_start - 1)) ] && [ "${t%.*}" -le "$now" ] && starts=$((starts + 1))
done
expect "each FastCGI responder's start time, by program and pid, since this test began" "$starts" 3
expect "one process per responder (FCGI_WORKERS=1)" \
  "$(for p in labels frames status; do value "streamweb_processes{$(prog $p.fcgi)}" s0; done | tr '\n' ' ')" "1 1 1 "

# ---- uploads over HTTP: 5 stored, one of each refusal ----
for n in 100 200 300 400 500; do head -c "$n" /dev/urandom >"$work/f$n"; done
head -c 5000 /dev/zero >"$work/f5000"
printf -- '--XyZ\r\nContent-Disposition: form-data; name="label"\r\n\r\nsite' >"$work/cut.txt"
codes=$(for n in 100 200 300 400 500; do upload site cam "$work/f$n" | cut -c1-3; done
  http POST /frames -F label=site -F key=cam -F "file=@$work/f100" | cut -c1-3
  upload site cam "$work/f5000" | cut -c1-3
  http POST /frames -H "Authorization: Bearer $tok" -H 'Content-Type: text/plain' --data x | cut -c1-3
  http POST /frames -H "Authorization: Bearer $tok" -F key=cam -F "file=@$work/f100" | cut -c1-3
  http POST /frames -H "Authorization: Bearer $tok" -H 'Content-Type: multipart/form-data; boundary=XyZ' \
    --data-binary "@$work/cut.txt" | cut -c1-3
  http GET /labels -H "Authorization: Bearer $tok" | cut -c1-3
  http GET /healthz | cut -c1-3)
expect "the requests got what they were sent for" "$(echo $codes)" "200 200 200 200 200 401 413 415 422 400 200 200"
scrape a
expect_moved "HTTP: 5 stored (1500 bytes), one refusal of each kind, one Redis connection per responder" s0 a \
  "streamweb_uploads_stored_total{$(ep /frames)} +5" \
  "streamweb_uploads_stored_bytes_total{$(ep /frames)} +1500" \
  "streamweb_uploads_refused_total{$(ep /frames),reason=\"400\"} +1" \
  "streamweb_uploads_refused_total{$(ep /frames),reason=\"401\"} +1" \
  "streamweb_uploads_refused_total{$(ep /frames),reason=\"413\"} +1" \
  "streamweb_uploads_refused_total{$(ep /frames),reason=\"415\"} +1" \
  "streamweb_uploads_refused_total{$(ep /frames),reason=\"422\"} +1" \
  "streamweb_redis_connections_total{$(prog frames.fcgi)} +1" \
  "streamweb_redis_connections_total{$(prog labels.fcgi)} +1" \
  "streamweb_redis_connections_total{$(prog status.fcgi)} +1"

# ---- uploads over /ws/frames ----
d=$work/msgs one=$work/one short=$work/short
mkdir -p "$d" "$one" "$short"
msg() { { printf '%s--IMG--' "$2"; cat "$3"; } >"$1"; }
mkimg jpeg 500 1 >"$work/j.jpg" # bad messages carry an image: its end is found without a size
msg "$d/01" '{"label": "wsite", "key": "wcam", "size": 100}' "$work/f100"
msg "$d/02" '{"label": [1, "key": 2}' "$work/j.jpg"
msg "$d/03" '{"label": "wsite", "key": "wcam", "size": "x"}' "$work/j.jpg"
msg "$d/04" '{"label": "wsite", "key": "wcam", "size": 200}' "$work/f200"
msg "$d/05" '{"label": "wsite", "key": "wcam", "size": 5000}' "$work/f5000"
msg "$d/06" "{\"key\": \"wcam\", \"size\": $(stat -c %s "$work/j.jpg")}" "$work/j.jpg"
# No delimiter after a header, and the next message right behind it.
{ printf '{"label": "wsite", "key": "wcam", "size": 3}{"label": "wsite", "key": "wcam", "size": 300}--IMG--'
  cat "$work/f300"; } >"$one/07"
printf '{"label": "wsite", "key": "wcam", "size": 100}--IMG--abc' >"$short/08"
wsclient "${WSOPTS[@]}" "$WSBASE/ws/frames" sendwait:"$d" sleep:30000 >"$work/cam.out" &
cam=$!
wait_until 20 has_lines "$work/cam.out" '^TEXT' 6
expect "/ws/frames: the replies, in order" \
  "$(grep '^TEXT' "$work/cam.out" | cut -d'"' -f8 | cut -c1-22 | tr '\n' '|')" \
  "Frame stored successfu|Invalid JSON header|size must be an intege|Frame stored successfu|frame larger than MAX_|label: Field required|"
check "a camera connected: gauge 1" wait_until 10 gauge_is "streamweb_ws_connections{$(ep /ws/frames)}" 1
kill "$cam"; wait "$cam" 2>/dev/null
check "... it leaves: gauge 0" wait_until 10 gauge_is "streamweb_ws_connections{$(ep /ws/frames)}" 0
expect "missing delimiter, then a message right behind: error, then stored" \
  "$(ws /ws/frames bin:"$one/07" recv:2 | grep -c '^TEXT')" 2
# A frame shorter than its size is declared so only after a 10 s stall.
expect_match "a frame shorter than its size: refused after the stall" \
  "$(ws /ws/frames sendwait:"$short" | head -1)" 'frame shorter than its size'
expect_match "no token: refused at the handshake" "$(wsclient -T 5000 "$WSBASE/ws/frames" recvall | head -1)" \
  '^HANDSHAKE 401'
scrape b
expect_moved "/ws/frames: 3 stored (600 bytes), one refusal of each kind, 3 sessions admitted" a b \
  "streamweb_uploads_stored_total{$(ep /ws/frames)} +3" \
  "streamweb_uploads_stored_bytes_total{$(ep /ws/frames)} +600" \
  "streamweb_uploads_refused_total{$(ep /ws/frames),reason=\"invalid_header\"} +1" \
  "streamweb_uploads_refused_total{$(ep /ws/frames),reason=\"bad_size\"} +1" \
  "streamweb_uploads_refused_total{$(ep /ws/frames),reason=\"413\"} +1" \
  "streamweb_uploads_refused_total{$(ep /ws/frames),reason=\"422\"} +1" \
  "streamweb_uploads_refused_total{$(ep /ws/frames),reason=\"missing_delimiter\"} +1" \
  "streamweb_uploads_refused_total{$(ep /ws/frames),reason=\"short_frame\"} +1" \
  "streamweb_uploads_refused_total{$(ep /ws/frames),reason=\"401\"} +1" \
  "streamweb_ws_sessions_total{$(ep /ws/frames)} +3" \
  "streamweb_redis_connections_total{$(prog ws-frames)} +2"

# ---- viewers ----
img_bytes() { sed -nE 's/.* IMG ([0-9]+) .*/\1/p' "$1" | paste -sd+ | bc; }
frames_in() { grep -c 'BINARY' "$1"; }
xadd site cam2 "$work/f400"
# A /ws/labels viewer: the newest frame of both cameras at once, then each new one.
wsclient "${WSOPTS[@]}" "$WSBASE/ws/labels/site" recv:100 >"$work/v1.out" &
v1=$!
check "a /ws/labels viewer: gauge 1" wait_until 10 gauge_is "streamweb_ws_connections{$(ep /ws/labels)}" 1
wait_until 10 has_lines "$work/v1.out" BINARY 2
for i in 1 2 3; do
  xadd site cam "$work/f$((i * 100))"
  wait_until 10 has_lines "$work/v1.out" BINARY $((2 + i))
done
expect "... got 2 + 3 frames" "$(frames_in "$work/v1.out")" 5
# Fall behind: the viewer's process is stopped while it waits in XREAD, three
# frames are written and grow older than the 100 ms a viewer may lag
# (STORE_FRESH_MS); it resumes and skips to the newest.
newest_ws() { pgrep -n -P "$(cat "$work/stack/ws-$1.pid")"; }
pid=$(newest_ws labels)
blocked() { rcli CLIENT LIST | grep -q 'flags=b .*cmd=xread'; }
wait_until 10 blocked
kill -STOP "$pid"
for n in 100 200 300; do xadd site cam "$work/f$n"; done
sleep 0.3
kill -CONT "$pid"
newest_arrived() { tail -n +6 "$work/v1.out" | grep -q "IMG 300 $(sha256sum <"$work/f300" | cut -d' ' -f1)"; }
wait_until 10 newest_arrived
check "... fell behind and skipped to the newest (got $(( $(frames_in "$work/v1.out") - 5 )) of 3)" \
  test "$(frames_in "$work/v1.out")" -lt 8
delivered1=$(frames_in "$work/v1.out") bytes1=$(img_bytes "$work/v1.out")
kill "$v1"; wait "$v1" 2>/dev/null
check "... it leaves: gauge 0" wait_until 10 gauge_is "streamweb_ws_connections{$(ep /ws/labels)}" 0
# A /ws/stream viewer pulls one frame.
wsclient "${WSOPTS[@]}" "$WSBASE/ws/stream/site/cam" 'text:{"action": "pull"}' recv:1 'text:{"action": "ping"}' recv:1 sleep:30000 >"$work/v2.out" &
v2=$!
wait_until 10 grep -q pong "$work/v2.out"
check "a /ws/stream viewer: gauge 1" wait_until 10 gauge_is "streamweb_ws_connections{$(ep /ws/stream)}" 1
kill "$v2"; wait "$v2" 2>/dev/null
check "... it leaves: gauge 0" wait_until 10 gauge_is "streamweb_ws_connections{$(ep /ws/stream)}" 0
# A viewer whose process is SIGKILLed: no goodbye, and the gauge still falls.
wsclient "${WSOPTS[@]}" "$WSBASE/ws/labels/site" recv:100 >"$work/v3.out" &
v3=$!
wait_until 10 has_lines "$work/v3.out" BINARY 2
check "a third viewer: gauge 1" wait_until 10 gauge_is "streamweb_ws_connections{$(ep /ws/labels)}" 1
kill -KILL "$(newest_ws labels)"
check "... its ws-labels SIGKILLed: gauge back to 0" \
  wait_until 10 gauge_is "streamweb_ws_connections{$(ep /ws/labels)}" 0
wait "$v3" 2>/dev/null
none_left() { for p in ws-labels ws-stream ws-frames; do gauge_is "streamweb_processes{$(prog $p)}" 0 || return 1; done; }
check "no ws program left among the processes" wait_until 10 none_left
scrape c
expect_moved "viewers: every frame the clients got counted, one skip, 3 sessions" b c \
  "streamweb_frames_delivered_total{$(ep /ws/labels)} +$((delivered1 + 2))" \
  "streamweb_frames_delivered_bytes_total{$(ep /ws/labels)} +$((bytes1 + $(img_bytes "$work/v3.out")))" \
  "streamweb_frames_delivered_total{$(ep /ws/stream)} +1" \
  "streamweb_frames_delivered_bytes_total{$(ep /ws/stream)} +$(img_bytes "$work/v2.out")" \
  "streamweb_viewer_skips_total{$(ep /ws/labels)} +1" \
  "streamweb_ws_sessions_total{$(ep /ws/labels)} +2" \
  "streamweb_ws_sessions_total{$(ep /ws/stream)} +1" \
  "streamweb_redis_connections_total{$(prog ws-labels)} +2" \
  "streamweb_redis_connections_total{$(prog ws-stream)} +1"

# ---- Redis away: 503s and errors counted (no Redis needed to count), then recovery ----
redis_stop
codes=$(for i in 1 2 3; do upload site cam "$work/f100" | cut -c1-3; done
  for i in 1 2; do http GET /labels -H "Authorization: Bearer $tok" | cut -c1-3; done
  http GET /healthz | cut -c1-3)
expect "Redis stopped: 3 uploads, 2 listings and a probe all 503" "$(echo $codes)" "503 503 503 503 503 503"
msg "$one/09" '{"label": "wsite", "key": "wcam", "size": 100}' "$work/f100"
expect_match "... and a /ws/frames upload gets its error" "$(ws /ws/frames bin:"$one/09" recv:1 | head -1)" \
  '"status": "error", "message": "Failed to store frame: Redis unavailable'
scrape d
expect_moved "Redis stopped: every failure counted once, by program" c d \
  "streamweb_uploads_refused_total{$(ep /frames),reason=\"503\"} +3" \
  "streamweb_uploads_refused_total{$(ep /ws/frames),reason=\"503\"} +1" \
  "streamweb_redis_errors_total{$(prog frames.fcgi)} +3" \
  "streamweb_redis_errors_total{$(prog labels.fcgi)} +2" \
  "streamweb_redis_errors_total{$(prog status.fcgi)} +1" \
  "streamweb_redis_errors_total{$(prog ws-frames)} +1" \
  "streamweb_ws_sessions_total{$(ep /ws/frames)} +1"
redis_start
# until_ok CMD...: repeats CMD until it answers 200, counting the 503s on the way in $fails.
fails=0
until_ok() {
  local deadline=$(( $(now_ms) + 5000 )) r
  while (( $(now_ms) < deadline )); do
    r=$("$@" | cut -c1-3)
    [ "$r" = 200 ] && return 0
    [ "$r" = 503 ] && fails=$((fails + 1))
    sleep 0.05
  done
  return 1
}
check "Redis back: an upload is stored again" until_ok upload site cam "$work/f100"
up_fails=$fails fails=0
check "... a listing served" until_ok http GET /labels -H "Authorization: Bearer $tok"
ls_fails=$fails fails=0
check "... and /healthz says 200" until_ok http GET /healthz
hz_fails=$fails
scrape e
want=()
((up_fails)) && want+=("streamweb_uploads_refused_total{$(ep /frames),reason=\"503\"} +$up_fails"
                       "streamweb_redis_errors_total{$(prog frames.fcgi)} +$up_fails")
((ls_fails)) && want+=("streamweb_redis_errors_total{$(prog labels.fcgi)} +$ls_fails")
((hz_fails)) && want+=("streamweb_redis_errors_total{$(prog status.fcgi)} +$hz_fails")
expect_moved "Redis back: one reconnect per responder, each 503 on the way counted ($up_fails, $ls_fails, $hz_fails)" d e \
  "${want[@]}" \
  "streamweb_uploads_stored_total{$(ep /frames)} +1" \
  "streamweb_uploads_stored_bytes_total{$(ep /frames)} +100" \
  "streamweb_redis_connections_total{$(prog frames.fcgi)} +1" \
  "streamweb_redis_connections_total{$(prog labels.fcgi)} +1" \
  "streamweb_redis_connections_total{$(prog status.fcgi)} +1" \
  "streamweb_redis_reconnects_total{$(prog frames.fcgi)} +1" \
  "streamweb_redis_reconnects_total{$(prog labels.fcgi)} +1" \
  "streamweb_redis_reconnects_total{$(prog status.fcgi)} +1"

# ---- a killed worker: the counts stay, the new worker gets its own start time ----
old=$(cat "$work/stack/frames.pid") # the responder itself, with one worker
stored=$(value "streamweb_uploads_stored_total{$(ep /frames)}" e)
kill -KILL "$old"
wait_until 10 bash -c "! kill -0 $old 2>/dev/null"
scrape f
expect "frames.fcgi SIGKILLed: the uploads it counted are still there" \
  "$(value "streamweb_uploads_stored_total{$(ep /frames)}" f)" "$stored"
expect "... and it is no longer among the processes" "$(value "streamweb_processes{$(prog frames.fcgi)}" f)" 0
expect "... nor its start time" "$(grep -c "program=\"frames.fcgi\",pid=\"$old\"" "$work/m.f")" 0
