#!/usr/bin/env bash
# Faults (issue 4): Redis killed under live viewers and uploaders, clients
# that vanish mid-upload, SIGTERM to FastCGI workers mid-load. Nothing lost,
# nothing half-written, nothing left behind, nothing restarted by hand.
. "$(dirname "$0")/lib.sh"
REDIS_TIMEOUT_MS=500 stack_start
tok=$(token)
WSOPTS=(-T 30000 -H "Authorization: Bearer $tok")
printf 'one' >"$work/f1"
xadd site cam "$work/f1"
daemons_before="$(cat "$work"/stack/ws-*.pid | sort | xargs -r ps -o pid= -p | tr -d ' ' | tr '\n' ' ')|$(fcgi_procs)"

# --- Redis killed while a viewer watches and a camera uploads -------------
# Each step waits for the state the next one needs (a reply in, Redis really
# down, Redis really back), never for a fixed time: on a busy machine a fixed
# pause let the second upload reach Redis before it was stopped.
mkdir -p "$work/up"
for i in 1 2 3; do printf '{"label": "site", "key": "cam", "size": 3}--IMG--u%02d' "$i" >"$work/up/$i"; done
after_ms() { [ "$(now_ms)" -ge "$1" ]; }
# none_of NAME...: no ws-NAME program runs; some_of NAME: one does.
none_of() { local n; for n; do [ -z "$(ws_procs "$n")" ] || return 1; done; }
some_of() { [ -n "$(ws_procs "$1")" ]; }
ws /ws/labels/site recv:4 >"$work/viewer.out" &
viewer=$!
wait_until 10 has "$work/viewer.out" IMG 1   # its first frame: then 3 messages, in a known order
ws /ws/frames bin:"$work/up/1" recv:1 waitfor:"$work/redis-down" bin:"$work/up/2" recv:1 \
  waitfor:"$work/redis-up" bin:"$work/up/3" recv:1 >"$work/cam.out" &
camera=$!
wait_until 10 has "$work/cam.out" status 1
wait_until 10 has "$work/viewer.out" IMG 2   # u01 reached the viewer
rcli SAVE >/dev/null
redis_stop
wait_until 10 bash -c "! redis-cli -p $redis_port ping"
touch "$work/redis-down"
wait_until 10 has "$work/cam.out" status 2
t_error=$(now_ms)
wait_until 10 grep -q '"error"' "$work/viewer.out"          # the viewer noticed too
redis_start
# ws-frames retries Redis no sooner than its backoff allows (common/store.c,
# at most 1 s after the failure): the third upload must not come earlier.
wait_until 10 after_ms $((t_error + 1000))
touch "$work/redis-up"
wait "$camera"
wait "$viewer"
expect "camera: ok, then an error while Redis is down, then ok again" \
  "$(grep -o '"status": "[a-z]*"' "$work/cam.out" | tr '\n' ' ')" '"status": "ok" "status": "error" "status": "ok" '
expect_match "... the error says why" "$(sed -n 2p "$work/cam.out")" 'Failed to store frame: Redis unavailable'
expect_match "viewer: told that Redis is unavailable" "$(cat "$work/viewer.out")" '"error": "Failed to fetch frames: Redis unavailable'
expect_match "viewer: frames flow again once Redis is back" "$(tail -2 "$work/viewer.out" | head -1)" 'IMG 3 '
incomplete=$(rcli XRANGE "$(stream_key site cam)" - + | awk 'NF' | grep -cvE '^(frame|warnings|cone_polygons|pole_polygons|detection_items|width|height|[0-9]+-[0-9]+)$' || true)
fields=$(rcli XRANGE "$(stream_key site cam)" - + | grep -cx frame)
expect "no half-written entry: every entry has a frame" "$fields" "$(rcli XLEN "$(stream_key site cam)")"
expect "no websocketd or FastCGI process died or was restarted" \
  "$(cat "$work"/stack/ws-*.pid | sort | xargs -r ps -o pid= -p | tr -d ' ' | tr '\n' ' ')|$(fcgi_procs)" "$daemons_before"
wait_until 10 none_of labels frames
expect "no ws process is left once the clients are gone" "$(ws_procs labels)$(ws_procs frames)" ""

# --- clients that vanish mid-upload ----------------------------------------
printf '{"label": "cut", "key": "ws", "size": 1000000}--IMG--only a few bytes' >"$work/cut.msg"
ws /ws/frames bin:"$work/cut.msg" sleep:300 close >/dev/null
wait_until 10 none_of frames     # once it is gone, it can store nothing more
expect "WebSocket upload cut short: nothing stored" "$(rcli EXISTS "$(stream_key cut ws)")" 0
expect "... and no ws-frames process left" "$(ws_procs frames)" ""
head -c 3000000 /dev/urandom >"$work/big"
timeout 0.5 curl -s --limit-rate 1M -H "Authorization: Bearer $tok" -F label=cut -F key=http -F "file=@$work/big" "$BASE/frames" >/dev/null
# nginx buffers a request body before passing it on: a cut one never reaches a worker
expect "HTTP upload cut short: nothing stored" "$(rcli EXISTS "$(stream_key cut http)")" 0
expect "... and every FastCGI worker still there" "$(fcgi_procs)" "${daemons_before#*|}"

# --- A viewer that stops reading: nothing grows without bound ----------------
# (that it does not delay other viewers is tested in 40-ws-labels.sh)
rss_kb() { local p; for p; do awk '/^VmRSS:/ {print $2}' "/proc/$p/status"; done | awk '{s += $1} END {print s + 0}'; }
head -c 400000 /dev/urandom >"$work/fat"
xadd stall cam "$work/fat"
ws /ws/labels/stall sleep:30000 >/dev/null 2>&1 &
stalled=$!
wait_until 5 some_of labels
watched="$(ws_procs labels) $(cat "$work/stack/ws-labels.pid")"
# settled_rss PIDS: their RSS once it stops changing (what was pushed is
# where it will stay), read every 300 ms, for 15 s at most.
settled_rss() {
  local prev=-1 cur deadline=$(( $(now_ms) + 15000 ))
  while cur=$(rss_kb "$@"); [ $(( cur - prev )) -gt 64 ] || [ $(( prev - cur )) -gt 64 ]; do
    [ "$(now_ms)" -lt "$deadline" ] || break
    prev=$cur; sleep 0.3
  done
  echo "$cur"
}
push40() { xpub 127.0.0.1 "$redis_port" "$(stream_key stall cam)" 100 10 "$work/fat" >/dev/null; }
start=$(settled_rss $watched)
push40  # fills what is bounded: the pipe, the message websocketd has in flight
warm=$(settled_rss $watched)
push40; push40
grown=$(( $(settled_rss $watched) - warm ))
check "stalled viewer: its ws program and websocketd grew $(( (warm - start) / 1024 )) MB for the first 40 MB pushed past it, then ${grown} KB for 80 MB more (bound 1 MB)" \
  test "$grown" -lt 1024
r=$(ws /ws/labels/stall recv:1)
expect_match "... and a new viewer still gets the newest frame" "$r" 'IMG 400000 '
kill "$stalled" 2>/dev/null; wait "$stalled" 2>/dev/null

# --- SIGTERM to the FastCGI responder mid-load -------------------------------
head -c 1500000 /dev/urandom >"$work/mid"
uploads=()
for i in $(seq 1 8); do
  curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $tok" -F label=term -F "key=k$i" \
    -F "file=@$work/mid" "$BASE/frames" >"$work/term$i" &
  uploads+=($!)
done
sleep 0.15 # not a state the checks need: they hold for a SIGTERM at any moment of the load
frames_master=$(cat "$work/stack/frames.pid")
frames_workers=$(pgrep -P "$frames_master" | tr '\n' ' ')
kill -TERM "$frames_master"
wait_until 10 bash -c "! kill -0 $frames_master 2>/dev/null"
wait "${uploads[@]}"
codes=$(cat "$work"/term* | sort | uniq -c | awk '{print $2"x"$1}' | tr '\n' ' ')
stored=0 ok=0
for i in $(seq 1 8); do
  [ "$(cat "$work/term$i")" = 200 ] && ok=$((ok + 1)) && \
    [ "$(stored frame term "k$i" | sha256sum)" = "$(sha256sum <"$work/mid")" ] && stored=$((stored + 1))
done
check "SIGTERM mid-load: the responder and its workers exit ($codes)" bash -c "! kill -0 $frames_master $frames_workers 2>/dev/null"
expect "... every request answered 200 is stored whole" "$stored" "$ok"
check "... and answers are 200, or 502/503 from the web server for requests never accepted" \
  bash -c "! grep -qvE '^(200|502|503)$' $work/term*"
expect_match "... the workers logged a clean stop" "$(cat "$work/stack/frames.log")" 'INFO stopped'
