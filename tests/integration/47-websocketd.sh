#!/usr/bin/env bash
# servers: nginx lighttpd
# websocketd as the suite runs it: Debian's 0.4.1 source with deploy/websocketd/patches/
# (deploy/websocketd/build.sh). Frames arrive whole through it; viewers that come and go
# while frames flow leave no process, goroutine or memory behind; an ordinary disconnect
# logs no ERROR line, a real error logs one, with the connection's identity.
. "$(dirname "$0")/lib.sh"
stack_start
tok=$(token)
WSOPTS=(-T 30000 -H "Authorization: Bearer $tok")
wsd=$(cat "$work/stack/ws-labels.pid")
log=$work/stack/ws-labels.log
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
errors() { grep -hE '\| ERROR |http: panic' "$work"/stack/ws-*.log; }
viewers_gone() { [ -z "$(ws_procs labels)" ]; }

expect "the stack runs the patched build" "$(readlink "/proc/$wsd/exe")" "$top/build/websocketd"
expect_match "... which says so in its version" "$("$top/build/websocketd" --version)" \
  "^websocketd 0\\.4\\.1-1\\+streamweb[0-9]+ "
expect "... and so does every endpoint's websocketd" \
  "$(for n in labels stream frames; do readlink "/proc/$(cat "$work/stack/ws-$n.pid")/exe"; done | sort -u)" \
  "$top/build/websocketd"

# --- frames arrive whole: 100 KB and about 1 MB ----------------------------------
# Each frame is written once the viewer has the one before, so none is skipped.
mkdir -p "$work/f"
for i in $(seq -w 1 20); do head -c 100000 /dev/urandom >"$work/f/s$i"; done
for i in 1 2 3 4 5; do head -c $(( 1000000 - i * 1000 )) /dev/urandom >"$work/f/b$i"; done
img() { echo "IMG $(stat -c %s "$1") $(sha256sum <"$1" | cut -d' ' -f1)"; }
xadd whole cam "$work/f/s01"
ws /ws/labels/whole recv:25 >"$work/whole.out" &
viewer=$!
wait_until 10 grep -q "$(img "$work/f/s01")" "$work/whole.out"
for f in "$work"/f/s* "$work"/f/b*; do
  [ "$f" = "$work/f/s01" ] && continue
  xadd whole cam "$f"
  wait_until 10 grep -q "$(img "$f")" "$work/whole.out" || break
done
wait "$viewer"
want=$(for f in "$work"/f/s* "$work"/f/b*; do img "$f"; done | sort)
expect "20 frames of 100 KB and 5 of ~1 MB: each arrived whole, once" \
  "$(grep -oE 'IMG [0-9]+ [0-9a-f]+' "$work/whole.out" | sort)" "$want"

# --- churn: viewers that leave while frames flow -----------------------------------
wait_until 10 viewers_gone
rss0=$(rss_kb "$wsd")
wsload -P "$REDIS_URL" -L churn -s 4 -f 10 -b 100000 -n 0 -d 120 "$WSBASE/ws/labels/churn?token=$tok" \
  >"$work/prod.out" 2>&1 &
prod=$!
sleep 0.5
wsload -C -l 300 -n 20 -r 200 -d 8 "$WSBASE/ws/labels/churn?token=$tok" >"$work/churn.out" 2>&1
cycles=$(grep -oE 'cycles=[0-9]+' "$work/churn.out" | cut -d= -f2)
check "churn: ${cycles:-0} viewers came, got frames and left while 4 cameras wrote (at least 150)" \
  test "${cycles:-0}" -ge 150
# A viewer that stalls and one killed mid-frame: both ordinary disconnects too.
head -c 900000 /dev/urandom >"$work/big"
ws /ws/labels/churn recv:2 sleep:60000 >/dev/null 2>&1 &
stalled=$!
wsclient -T 30000 "$WSBASE/ws/labels/churn?token=$tok" recvall >/dev/null 2>&1 &
killed=$!
sleep 1
for i in 1 2 3; do xadd churn cam9 "$work/big"; done
kill -9 "$killed" "$stalled"; wait "$killed" "$stalled" 2>/dev/null
kill "$prod"; wait "$prod"
check "churn: no ws-labels process left once the viewers are gone" wait_until 30 viewers_gone
rss_ok() { [ "$(rss_kb "$wsd")" -le $(( rss0 + 20480 )) ]; }
check "churn: websocketd's RSS came back within 20 MB of its start (${rss0} KB, now $(rss_kb "$wsd") KB)" \
  wait_until 20 rss_ok
expect "ordinary disconnects (closed, stalled, killed mid-frame) logged no ERROR line" "$(errors | head -3)" ""

# --- a real error still logs once, with the connection's identity -------------------
port=$(free_port)
cp "$build/ws-labels" "$work/prog"
"$top/build/websocketd" --address=127.0.0.1 --port="$port" --loglevel=error --binary "$work/prog" \
  >"$work/own.log" 2>&1 &
own=$!
wait_until 10 bash -c "(: </dev/tcp/127.0.0.1/$port)"
chmod 0 "$work/prog"              # found at start, cannot be started now
wsclient -T 5000 "ws://127.0.0.1:$port/ws/labels/x" recvall >/dev/null 2>&1
kill "$own"; wait "$own" 2>/dev/null
expect "a program that cannot be started: one ERROR line" "$(grep -c '| ERROR ' "$work/own.log")" 1
expect_match "... naming the program and the connection (url, id, remote)" "$(grep '| ERROR ' "$work/own.log")" \
  "url:'[^']*/ws/labels/x' id:'[0-9]+' remote:'127\\.0\\.0\\.1' .*Could not launch process $work/prog"

# --- no goroutine left (last: SIGQUIT makes the Go runtime print them all, and exit) ---
kill -QUIT "$wsd"
wait_until 10 bash -c "! kill -0 $wsd" 2>/dev/null
# One paragraph per goroutine; the runtime's own (GC, finalizer, scavenger) and the server's
# (main, listener) are all that may remain.
left=$(awk -v RS= '/^goroutine [0-9]+ \[/ && /libwebsocketd|gorilla\/websocket|os\/exec/' "$log" | grep -c '^goroutine ')
total=$(grep -c '^goroutine [1-9]' "$log")
expect "no goroutine of a session left after ${cycles:-0} churned viewers ($total in all)" "$left" 0
check "... and at most 12 goroutines in all" test "$total" -le 12
