#!/usr/bin/env bash
# REDIS_URL=unix:///path (API §6): every program talks to a Redis that
# listens on a unix socket only (hiredis' TCP keepalive setting failed there,
# and with it every command).
. "$(dirname "$0")/lib.sh"
sock=$work/redis.sock
redis-server --port 0 --unixsocket "$sock" --unixsocketperm 777 --dir "$work" --save '' --appendonly no \
  --logfile "$work/redis.log" &
redis_pid=$!
wait_until 10 redis-cli -s "$sock" ping || { echo "# redis did not start"; exit 1; }
export REDIS_URL="unix://$sock"
stack_start
tok=$(token)
printf 'unix-frame' >"$work/f.bin"
expect_match "POST /frames stores through the unix socket" "$(upload site cam "$work/f.bin")" '^200 '
expect "... into the stream" "$(redis-cli -s "$sock" XLEN "$(stream_key site cam)")" 1
expect "GET /labels lists it" "$(http GET /labels -H "Authorization: Bearer $tok")" '200 {"labels": ["site"]}'
expect_match "/healthz: Redis answers" "$(http GET /healthz)" '^200 \{"status": "ok", "redis": "ok"'
WSOPTS=(-T 10000 -H "Authorization: Bearer $tok")
expect_match "/ws/labels pushes it" "$(ws /ws/labels/site recv:1)" " IMG 10 $(sha256sum <"$work/f.bin" | cut -d' ' -f1)"
printf '{"label": "site", "key": "cam2", "size": 3}--IMG--abc' >"$work/up.bin"
expect_match "/ws/frames stores through it too" "$(ws /ws/frames bin:"$work/up.bin" recv:1)" '"status": "ok"'
