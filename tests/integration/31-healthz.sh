#!/usr/bin/env bash
# servers: nginx lighttpd
# GET /healthz: 200 while Redis answers a PING, 503 with the reason within
# REDIS_TIMEOUT_MS when it does not (stopped or hung), 200 again by itself;
# one PING per probe on a kept connection, no token, no rate limit.
. "$(dirname "$0")/lib.sh"
REDIS_TIMEOUT_MS=400 RATE_LIMIT_LABELS=2/60 FCGI_WORKERS=1 stack_start
ok_body='{"status": "ok", "redis": "ok", "metrics": "ok"}'
probe() { http GET /healthz; }
stat() { rcli INFO "$1" | tr -d '\r' | sed -n "s/^$2:\([0-9]*\).*/\1/p"; }
pings() { rcli INFO commandstats | tr -d '\r' | sed -nE 's/^cmdstat_ping:calls=([0-9]+).*/\1/p'; }

expect "Redis up: 200, all ok" "$(probe)" "200 $ok_body"
h=$(curl -s -D - -o /dev/null "$BASE/healthz" | tr -d '\r')
expect_match "... as JSON, never cached" "$h" $'Content-Type: application/json\n(.*\n)*Cache-Control: no-store'
expect_match "HEAD works too" "$(curl -s -I -o /dev/null -w '%{http_code}' "$BASE/healthz")" '^200$'
expect_match "POST: 405" "$(http POST /healthz -d '')" '^405 \{"detail": "Method Not Allowed"\}'

# Cheap: 50 probes cost Redis 50 PINGs and not one new connection.
pings0=$(pings) conns0=$(stat stats total_connections_received) t0=$(now_ms)
fails=0
for i in $(seq 1 50); do [ "$(probe)" = "200 $ok_body" ] || fails=$((fails + 1)); done
elapsed=$(( $(now_ms) - t0 ))
conns=$(( $(stat stats total_connections_received) - conns0 ))
expect "50 probes in a row: all 200 (${elapsed} ms in all)" "$fails" 0
# One new connection: the redis-cli asking.
expect "... and no new Redis connection for them" "$conns" 1
expect "... exactly one PING each" "$(( $(pings) - pings0 ))" 50
expect_match "... on the one connection status.fcgi keeps" "$(http GET /metrics)" \
  'streamweb_redis_connections_total\{program="status.fcgi"\} 1'$'\n'
expect_match "not rate limited: /labels is (RATE_LIMIT_LABELS=2/60) ..." \
  "$(for i in 1 2 3; do http GET /labels | cut -c1-3; done | tr '\n' ' ')" '429 $'
expect "... /healthz is not" "$(for i in 1 2 3 4 5; do probe | cut -c1-3; done | tr '\n' ' ')" "200 200 200 200 200 "

timed() { local t; t=$(now_ms); "$@" >"$work/timed.out"; echo $(( $(now_ms) - t )); }
back_within() { # back_within MS: polls until a probe says 200; prints how long it took
  local t; t=$(now_ms)
  wait_until $(( $1 / 1000 + 1 )) bash -c "curl -sf -o /dev/null $BASE/healthz" || { echo never; return; }
  echo $(( $(now_ms) - t ))
}

# Hung: Redis accepts but never answers; the PING times out.
kill -STOP "$redis_pid"
ms=$(timed probe)
expect "Redis hung: 503, timed out" "$(cat "$work/timed.out")" \
  '503 {"status": "error", "redis": "Redis unavailable: timed out", "metrics": "ok"}'
check "... after waiting REDIS_TIMEOUT_MS (400) for the PING, not much longer (${ms} ms)" \
  test "$ms" -ge 390 -a "$ms" -lt 1400
kill -CONT "$redis_pid"
ms=$(back_within 3000)
check "Redis resumed: 200 again by itself within 3 s (${ms} ms)" test "$ms" != never
expect "... all ok" "$(probe)" "200 $ok_body"

# Stopped: refused at once.
redis_stop
ms=$(timed probe)
expect "Redis stopped: 503 with the reason" "$(cat "$work/timed.out")" \
  '503 {"status": "error", "redis": "Redis unavailable: Connection refused", "metrics": "ok"}'
check "... within REDIS_TIMEOUT_MS (${ms} ms)" test "$ms" -lt 400
expect_match "... every probe while it is away" "$(probe)" '^503 '
redis_start
ms=$(back_within 3000)
check "Redis back: 200 again within 3 s, no restart (${ms} ms)" test "$ms" != never
expect "... all ok" "$(probe)" "200 $ok_body"

# Viewers read from a replica (REDIS_READ_URL): it is probed too.
stack_stop
REDIS_READ_URL="redis://127.0.0.1:$(free_port)/0" stack_start
expect "read replica down: 503 naming it" "$(probe)" \
  '503 {"status": "error", "redis": "ok", "redis_read": "Redis unavailable: Connection refused", "metrics": "ok"}'
stack_stop
REDIS_READ_URL="redis://127.0.0.1:$redis_port/0" stack_start
expect "read replica up: 200" "$(probe)" '200 {"status": "ok", "redis": "ok", "metrics": "ok"}'
