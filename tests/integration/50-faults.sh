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
mkdir -p "$work/up"
for i in 1 2 3; do printf '{"label": "site", "key": "cam", "size": 3}--IMG--u%02d' "$i" >"$work/up/$i"; done
ws /ws/labels/site recv:4 >"$work/viewer.out" &
viewer=$!
sleep 0.5 # the viewer has its first frame: then 4 messages, in a known order
ws /ws/frames bin:"$work/up/1" recv:1 sleep:1500 bin:"$work/up/2" recv:1 sleep:3000 bin:"$work/up/3" recv:1 >"$work/cam.out" &
camera=$!
sleep 0.7
rcli SAVE >/dev/null
redis_stop
sleep 2
redis_start
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
sleep 0.3
expect "no websocketd or FastCGI process died or was restarted" \
  "$(cat "$work"/stack/ws-*.pid | sort | xargs -r ps -o pid= -p | tr -d ' ' | tr '\n' ' ')|$(fcgi_procs)" "$daemons_before"
expect "no ws process is left once the clients are gone" "$(ws_procs labels)$(ws_procs frames)" ""

# --- clients that vanish mid-upload ----------------------------------------
printf '{"label": "cut", "key": "ws", "size": 1000000}--IMG--only a few bytes' >"$work/cut.msg"
ws /ws/frames bin:"$work/cut.msg" sleep:300 close >/dev/null
sleep 0.3
expect "WebSocket upload cut short: nothing stored" "$(rcli EXISTS "$(stream_key cut ws)")" 0
expect "... and no ws-frames process left" "$(ws_procs frames)" ""
head -c 3000000 /dev/urandom >"$work/big"
timeout 0.5 curl -s --limit-rate 1M -H "Authorization: Bearer $tok" -F label=cut -F key=http -F "file=@$work/big" "$BASE/frames" >/dev/null
sleep 0.5
expect "HTTP upload cut short: nothing stored" "$(rcli EXISTS "$(stream_key cut http)")" 0
expect "... and every FastCGI worker still there" "$(fcgi_procs)" "${daemons_before#*|}"

# --- A viewer that stops reading: nothing grows without bound ----------------
# (that it does not delay other viewers is tested in 40-ws-labels.sh)
rss_kb() { local p; for p; do awk '/^VmRSS:/ {print $2}' "/proc/$p/status"; done | awk '{s += $1} END {print s + 0}'; }
head -c 400000 /dev/urandom >"$work/fat"
xadd stall cam "$work/fat"
ws /ws/labels/stall sleep:30000 >/dev/null 2>&1 &
stalled=$!
wait_until 5 test -n "$(ws_procs labels)"
sleep 0.5
watched="$(ws_procs labels) $(cat "$work/stack/ws-labels.pid")"
push40() { xpub 127.0.0.1 "$redis_port" "$(stream_key stall cam)" 100 10 "$work/fat" >/dev/null; sleep 0.5; }
start=$(rss_kb $watched)
push40  # fills what is bounded: the pipe, the message websocketd has in flight
warm=$(rss_kb $watched)
push40; push40
grown=$(( $(rss_kb $watched) - warm ))
check "stalled viewer: its ws program and websocketd grew $(( (warm - start) / 1024 )) MB for the first 40 MB pushed past it, then ${grown} KB for 80 MB more (bound 1 MB)" \
  test "$grown" -lt 1024
r=$(ws /ws/labels/stall recv:1)
expect_match "... and a new viewer still gets the newest frame" "$r" 'IMG 400000 '
kill "$stalled" 2>/dev/null; wait "$stalled" 2>/dev/null

# --- SIGTERM to the FastCGI responder mid-load -------------------------------
head -c 1500000 /dev/urandom >"$work/mid"
for i in $(seq 1 8); do
  curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $tok" -F label=term -F "key=k$i" \
    -F "file=@$work/mid" "$BASE/frames" >"$work/term$i" &
done
sleep 0.15
frames_master=$(cat "$work/stack/frames.pid")
frames_workers=$(pgrep -P "$frames_master" | tr '\n' ' ')
kill -TERM "$frames_master"
wait_until 10 bash -c "! kill -0 $frames_master 2>/dev/null"
sleep 1
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
