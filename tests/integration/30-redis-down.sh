#!/usr/bin/env bash
# Redis unreachable (API §3): 503 within
# the timeout, never a hang; recovery within 2 s without restarting workers.
. "$(dirname "$0")/lib.sh"
REDIS_TIMEOUT_MS=500 stack_start
admin=$(token)
printf 'frame' >"$work/f.bin"
expect_match "upload works while Redis is up" "$(upload site cam "$work/f.bin")" '^200 '
workers_before=$(fcgi_procs)

timed() { local t0; t0=$(now_ms); "$@"; echo " $(( $(now_ms) - t0 ))ms" >"$work/elapsed"; }
within() { local ms; ms=$(tr -dc 0-9 <"$work/elapsed"); check "$1 (took ${ms}ms)" test "$ms" -lt "$2"; }

redis_stop
r=$(timed http GET /labels -H "Authorization: Bearer $admin")
expect_match "Redis stopped: GET /labels is 503 with the reason" "$r" '^503 \{"detail": "Failed to fetch labels: Redis unavailable: '
within "Redis stopped: answered quickly" 2000
r=$(timed upload site cam "$work/f.bin")
expect_match "Redis stopped: POST /frames is 503" "$r" '^503 \{"detail": "Failed to store frame: '
within "Redis stopped: upload answered quickly" 2000

# all_serve: six requests in a row answered 200 (more than there are workers).
all_serve() {
  local i
  for i in 1 2 3 4 5 6; do curl -sf -o /dev/null -H "Authorization: Bearer $admin" "$BASE/labels" || return 1; done
}

redis_start
t0=$(now_ms)
wait_until 5 bash -c "curl -sf -H 'Authorization: Bearer $admin' $BASE/labels"
recovered=$(( $(now_ms) - t0 ))
check "Redis back: /labels serves again within 2 s (${recovered}ms)" test "$recovered" -lt 2000
expect_match "Redis back: uploads work again" "$(upload site cam "$work/f.bin")" '^200 '
expect_match "Redis back: uploads work on every worker" \
  "$(for i in 1 2 3 4 5 6; do upload site cam "$work/f.bin" | cut -c1-3; done | sort -u | tr '\n' ' ')" '^200 $'

# A Redis that accepts but never answers (stopped process): the command
# timeout bounds the wait.
kill -STOP "$redis_pid"
r=$(timed http GET /labels -H "Authorization: Bearer $admin")
expect_match "Redis hung: 503 saying it timed out, not a hang" "$r" '^503 \{"detail": "Failed to fetch labels: Redis unavailable: timed out"\}'
within "Redis hung: answered within the timeout" 2500
kill -CONT "$redis_pid"
# A worker whose command timed out waits out its reconnect backoff (50 ms
# first) before it tries again: judge recovery by every worker serving.
t0=$(now_ms)
wait_until 5 all_serve
recovered=$(( $(now_ms) - t0 ))
check "Redis resumed: every worker serves again within 2 s (${recovered}ms)" test "$recovered" -lt 2000
expect_match "Redis resumed: serving again" "$(http GET /labels -H "Authorization: Bearer $admin")" '^200 '
expect "no worker was restarted" "$(fcgi_procs)" "$workers_before"
