#!/usr/bin/env bash
# servers: nginx lighttpd
# Dead peers are dropped (issue 10 §4): websocketd pings every WS_PING_INTERVAL_SECONDS
# and drops a peer that sent nothing (no pong, no message) for two intervals, ending its
# ws process. A viewer and a camera that stop answering (wsclient -P ignores pings and
# sends nothing, as a host that vanished without a FIN) go within 2 intervals + slack;
# a client that answers stays connected past several intervals.
. "$(dirname "$0")/lib.sh"
interval=2
WS_PING_INTERVAL_SECONDS=$interval stack_start
tok=$(token)
printf 'f1' >"$work/f1"
xadd site cam "$work/f1"
gone() { [ -z "$(ws_procs "$1")" ]; }
there() { [ -n "$(ws_procs "$1")" ]; }

# Each client alone, so its process is the only one of its endpoint.
dropped_within() { # dropped_within NAME PATH: seconds from connect until NAME's process ended
  local t0 c
  t0=$(now_ms)
  wsclient -P -T 30000 -H "Authorization: Bearer $tok" "$WSBASE$2" recvall >"$work/$1.out" 2>&1 &
  c=$!
  wait_until 10 there "$1" || { echo "# no $1 process appeared"; kill "$c"; return; }
  wait_until 20 gone "$1"
  echo "$(( $(now_ms) - t0 ))"
  wait "$c"
}
limit=$(( (2 * interval + interval / 8 + 2) * 1000 ))    # 2 intervals (+1/8), + 2 s slack

ms=$(dropped_within labels /ws/labels/site)
check "a viewer that answers no ping: dropped, its ws-labels ended after ${ms:-?} ms (≥ $((2 * interval))000, ≤ $limit)" \
  test "${ms:-0}" -ge $((2 * interval * 1000)) -a "${ms:-99999}" -le "$limit"
expect_match "... and the viewer saw its connection end" "$(tail -2 "$work/labels.out")" 'CLOSED 1006'

ms=$(dropped_within frames /ws/frames)
check "a camera that answers no ping and sends nothing: dropped, its ws-frames ended after ${ms:-?} ms (≥ $((2 * interval))000, ≤ $limit)" \
  test "${ms:-0}" -ge $((2 * interval * 1000)) -a "${ms:-99999}" -le "$limit"

# Answering clients: they read (and so answer pings) but send nothing else for 5 intervals.
stay=$(( 5 * interval * 1000 ))
ws_live() { wsclient -T $(( stay + 10000 )) -H "Authorization: Bearer $tok" "$WSBASE$1" "${@:2}"; }
printf '{"label": "site", "key": "cam", "size": 2}--IMG--ok' >"$work/up"
ws_live /ws/labels/site recv:1 idle:$stay close >"$work/live-viewer.out" 2>&1 &
viewer=$!
ws_live /ws/frames idle:$stay bin:"$work/up" recv:1 >"$work/live-camera.out" 2>&1 &
camera=$!
wait "$viewer"; vrc=$?
wait "$camera"; crc=$?
expect "a viewer that answers pings is still connected after 5 intervals, and closes itself" \
  "$vrc $(grep -c CLOSED "$work/live-viewer.out") $(grep CLOSED "$work/live-viewer.out")" "0 1 CLOSED 1000"
expect_match "a camera that answers pings, quiet for 5 intervals, then uploads: answered" \
  "$crc $(cat "$work/live-camera.out")" '^0 TEXT [0-9]+ \{"status": "ok"'
check "no ws process is left once the clients are gone" wait_until 10 eval 'gone labels && gone frames'
