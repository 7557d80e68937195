#!/usr/bin/env bash
# servers: nginx lighttpd
# GET /labels rate limit (API §3): counted in Redis across workers,
# before authentication, OPTIONS not counted, 429 with Retry-After.
. "$(dirname "$0")/lib.sh"
RATE_LIMIT_LABELS=5/30 FCGI_WORKERS=3 stack_start

codes=""
for i in $(seq 1 10); do
  codes+=$(curl -s -o /dev/null -w '%{http_code} ' -X OPTIONS -H 'Origin: http://x' "$BASE/labels")
done
expect "preflights are answered and not counted" "$codes" "$(printf '204 %.0s' $(seq 1 10))"
admin=$(token)
codes=""
for i in 1 2 3; do codes+=$(curl -s -o /dev/null -w '%{http_code} ' -H "Authorization: Bearer $admin" "$BASE/labels"); done
for i in 1 2; do codes+=$(curl -s -o /dev/null -w '%{http_code} ' -H "Authorization: Bearer bad.to.ken" "$BASE/labels"); done
expect "the first 5 requests pass to authentication" "$codes" "200 200 200 401 401 "
r=$(curl -s -D "$work/h" -w ' %{http_code}' -H "Authorization: Bearer $admin" "$BASE/labels")
expect "the 6th is refused: 429 Too Many Requests" "$r" '{"detail": "Too Many Requests"} 429'
retry=$(tr -d '\r' <"$work/h" | sed -n 's/^Retry-After: //Ip')
check "Retry-After is a whole number of seconds within the window" test "${retry:-0}" -ge 1 -a "${retry:-99}" -le 30
expect_match "bad tokens are limited too (checked before auth)" \
  "$(http GET /labels -H 'Authorization: Bearer bad.to.ken')" '^429 '
expect_match "a client's own X-Real-IP does not reset its count" \
  "$(http GET /labels -H "Authorization: Bearer $admin" -H 'X-Real-IP: 203.0.113.9')" '^429 '
check "the counter lives in Redis, shared by all workers" \
  test "$(rcli GET streamweb:ratelimit:labels:127.0.0.1)" -ge 8
rcli DEL streamweb:ratelimit:labels:127.0.0.1 >/dev/null
expect_match "a new window lets the client in again" "$(http GET /labels -H "Authorization: Bearer $admin")" '^200 '
