#!/usr/bin/env bash
# servers: nginx lighttpd
# /ws/stream/{label}/{key} (API §4): ping/pong, pull of the newest
# frame not yet sent (waiting up to PULL_WAIT_MS), errors that keep the
# connection, idle timeout.
. "$(dirname "$0")/lib.sh"
PULL_WAIT_MS=800 WS_IDLE_TIMEOUT_SECONDS=2 stack_start
tok=$(token)
WSOPTS=(-T 20000 -H "Authorization: Bearer $tok")
ping='text:{"action": "ping"}' pull='text:{"action": "pull"}'

r=$(ws "/ws/stream/site/cam" "$ping" recv:1)
expect_match "ping -> pong" "$r" '^BINARY 18 [0-9a-f]+ \{"action": "pong"\}'

t0=$(now_ms)
r=$(ws "/ws/stream/site/cam" "$pull" recv:1)
waited=$(( $(now_ms) - t0 ))
expect_match "empty stream: error after the wait" "$r" '\{"error": "No frames for this stream"\}'
check "... having waited about PULL_WAIT_MS (${waited} ms)" test "$waited" -ge 700

head -c 300000 /dev/urandom >"$work/f1"
xadd site cam "$work/f1" width 1280 height 720 detection_items '[{"c":1}]'
r=$(ws "/ws/stream/site/cam" "$pull" recv:1)
id1=$(rcli XREVRANGE "$(stream_key site cam)" + - COUNT 1 | head -1)
expect_match "pull: header with id and fields as stored" "$r" \
  "\\{\"id\": \"$id1\", \"warnings\": \"\", \"cone_polygons\": \"\", \"pole_polygons\": \"\", \"detection_items\": \"\\[\\{\\\\\"c\\\\\":1\\}\\]\", \"width\": \"1280\", \"height\": \"720\"\\}"
expect_match "pull: the frame bytes intact" "$r" "IMG 300000 $(sha256sum <"$work/f1" | cut -d' ' -f1)"

# Nothing newer: the pull waits, then re-sends the newest (same id).
t0=$(now_ms)
r=$(ws "/ws/stream/site/cam" "$pull" recv:1 "$pull" recv:1)
waited=$(( $(now_ms) - t0 ))
expect "nothing newer: the same entry is re-sent" "$(grep -o '"id": "[^"]*"' <<<"$r" | sort -u)" "\"id\": \"$id1\""
check "... after waiting for a newer one (${waited} ms)" test "$waited" -ge 700

# A frame written during the wait is sent at once.
WSOPTS=(-t -T 20000 -H "Authorization: Bearer $tok")
ws "/ws/stream/site/cam" "$pull" recv:1 "$pull" recv:1 >"$work/wait.out" &
viewer=$!
wait_until 10 has "$work/wait.out" BINARY 1   # the first pull answered: the second one waits
printf 'new' >"$work/f2"
xpub 127.0.0.1 "$redis_port" "$(stream_key site cam)" 1 0 "$work/f2"
wait "$viewer"
id2=$(rcli XREVRANGE "$(stream_key site cam)" + - COUNT 1 | head -1)
expect_match "a frame written during the wait is the answer" "$(tail -2 "$work/wait.out")" "\"id\": \"$id2\""
stamp=$(json_field warnings "$(tail -2 "$work/wait.out" | head -1)")
got=$(tail -2 "$work/wait.out" | head -1 | cut -d' ' -f1)
check "... delivered within 50 ms of the write ($(( (got - stamp) / 1000 )) ms)" test $(( (got - stamp) / 1000 )) -le 50

# A pull loop follows the camera without duplicates.
WSOPTS=(-T 20000 -H "Authorization: Bearer $tok")
xpub 127.0.0.1 "$redis_port" "$(stream_key site run)" 1 0 "$work/f2"
ws "/ws/stream/site/run" "$pull" recv:1 "$pull" recv:1 "$pull" recv:1 "$pull" recv:1 "$pull" recv:1 >"$work/run.out" &
viewer=$!
wait_until 10 has "$work/run.out" BINARY 1
xpub 127.0.0.1 "$redis_port" "$(stream_key site run)" 4 250 "$work/f2"
wait "$viewer"
r=$(cat "$work/run.out")
expect "5 pulls while the camera writes 4 more: 5 distinct entries in order" \
  "$(grep -o '"id": "[^"]*"' <<<"$r" | uniq | wc -l) $(grep -o '"id": "[^"]*"' <<<"$r" | sort -c && echo sorted)" "5 sorted"

r=$(ws "/ws/stream/site/cam" 'text:not json' recv:1 'text:{"action": "dance"}' recv:1 'text:{"no": "action"}' recv:1 "$ping" recv:1)
expect_match "not JSON -> Invalid JSON format" "$r" '\{"error": "Invalid JSON format"\}'
expect_match "unknown action -> unknown action" "$r" '\{"error": "unknown action"\}.*'
expect_match "... and the connection stays open" "$(tail -2 <<<"$r" | head -1)" '\{"action": "pong"\}'

t0=$(now_ms)
r=$(ws "/ws/stream/site/cam" "$ping" recv:1 recvall)
idle=$(( $(now_ms) - t0 ))
expect_match "no command for WS_IDLE_TIMEOUT_SECONDS: closing message, then close" "$r" \
  '\{"status": "closing", "reason": "idle_timeout", "message": "[^"]+"\}.*CLOSED'
check "... after about 2 s (${idle} ms)" test "$idle" -ge 1800 -a "$idle" -le 4000
