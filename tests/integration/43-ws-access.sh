#!/usr/bin/env bash
# servers: nginx lighttpd
# Who may connect and to what (API §2, §4): tokens in the header or
# the query, sites per role, path decoding and refusal, session limit,
# public viewers by configuration, revoked tokens. Behind the web server a
# refusal is the handshake's answer (authorize.fcgi): 401 with
# WWW-Authenticate: Bearer and {"detail": ...}, and no ws program starts;
# straight to websocketd the program refuses by itself, with {"error": ...}.
. "$(dirname "$0")/lib.sh"
WS_MAX_SESSION_SECONDS=3 stack_start
printf 'img' >"$work/f"
xadd 'site A' cam1 "$work/f"
xadd '工地 東' '攝影機/1' "$work/f" 2>/dev/null || true
xadd '工地 東' '攝影機 1' "$work/f"
xadd other cam "$work/f"
admin=$(token)
pull='text:{"action": "pull"}'

r=$(wsclient -T 5000 "$WSBASE/ws/labels/site%20A?token=$admin" recv:1)
expect_match "token in the query string" "$r" '"key": "cam1"'
r=$(wsclient -T 5000 -H "Authorization: Bearer $admin" "$WSBASE/ws/labels/site%20A" recv:1)
expect_match "token in the Authorization header" "$r" '"key": "cam1"'
r=$(wsclient -T 5000 "$WSBASE/ws/labels/%E5%B7%A5%E5%9C%B0%20%E6%9D%B1?token=$admin" recv:1)
expect_match "unicode label, percent-encoded" "$r" '"key": "攝影機 1"'
r=$(wsclient -T 5000 "$WSBASE/ws/stream/%E5%B7%A5%E5%9C%B0%20%E6%9D%B1/%E6%94%9D%E5%BD%B1%E6%A9%9F%201?token=$admin" "$pull" recv:1)
expect_match "unicode label and key on /ws/stream" "$r" 'IMG 3 '

for p in "/ws/labels/a%2Fb" "/ws/labels/.." "/ws/labels/%2E%2E" "/ws/labels/a%00b" "/ws/labels/a%0Ab" \
         "/ws/labels/%FF" "/ws/stream/site%20A/a%2Fb" "/ws/stream/site%20A/.." "/ws/stream/site%20A"; do
  # Refused at the handshake: 404 with the reason from authorize.fcgi, or
  # already by the web server itself (its own 400, or 404 for a path that
  # normalises out of /ws/labels/).
  r=$(wsclient -T 5000 "$WSBASE$p?token=$admin" recvall 2>&1)
  expect_match "bad path $p refused at the handshake" "$r" \
    '^HANDSHAKE (404 .*BODY [0-9]+ \{"detail": "Invalid (label|key|path)[^"]*"\}|400 |404 .*text/html)'
done
# The same paths straight to the programs, as websocketd passes them (through
# ws-admit, as websocketd runs them): each refused with a reason.
for p in "/ws/labels/a%2Fb" "/ws/labels/.." "/ws/labels/%2E%2E" "/ws/labels/a%00b" "/ws/labels/a%0Ab" \
         "/ws/labels/%FF" "/ws/labels/x%zz" "/ws/labels/" "/ws/labels/a/b"; do
  r=$(REQUEST_URI="$p?token=$admin" "$build/ws-admit" "$build/ws-labels" </dev/null 2>/dev/null)
  expect_match "ws-labels refuses $p itself" "$r" '^\{"error": "Invalid (label|path)'
done
for p in "/ws/stream/a/%2E" "/ws/stream/a/b%2Fc" "/ws/stream/a" "/ws/stream/a/b/c" "/ws/stream/%C2%85/b"; do
  r=$(REQUEST_URI="$p?token=$admin" "$build/ws-admit" "$build/ws-stream" </dev/null 2>/dev/null)
  expect_match "ws-stream refuses $p itself" "$r" '^\{"error": "Invalid (label|key|path)'
done
# A program started without ws-admit serves no one, whatever it is asked.
for n in labels stream frames; do
  r=$(REQUEST_URI="/ws/$n/a/b?token=$admin" "$build/ws-$n" </dev/null 2>&1)
  expect_match "ws-$n started without ws-admit refuses" "$r" 'started without ws-admit'
done
STREAMWEB_ADMITTED=/ws/stream/ REQUEST_URI="/ws/labels/a?token=$admin" "$build/ws-labels" </dev/null >"$work/adm.out" 2>&1
expect_match "... and so does one admitted for another endpoint" "$(cat "$work/adm.out")" 'started without ws-admit'

viewer=$(token bob viewer '["other"]')
r=$(wsclient -T 5000 "$WSBASE/ws/labels/other?token=$viewer" recv:1)
expect_match "a viewer may watch a label of its sites" "$r" '"key": "cam"'
# refused401 DESC OUTPUT DETAIL: the handshake answer of a refusal.
refused401() {
  local r=$2
  expect_match "$1" "$r" "^HANDSHAKE 401 .*HEADER WWW-Authenticate: Bearer.*BODY [0-9]+ \\{\"detail\": \"$3\"\\}"
}
r=$(wsclient -T 5000 "$WSBASE/ws/labels/site%20A?token=$viewer" recvall)
refused401 "... but not another one: 401, refused like an unknown label" "$r" "No keys found for label 'site A'"
r=$(wsclient -T 5000 -H "Authorization: Bearer $viewer" "$WSBASE/ws/stream/site%20A/cam1" "$pull" recvall)
refused401 "... on /ws/stream too" "$r" "No keys found for label 'site A'"

now=$(date +%s)
claims() { echo "{\"subject\":{\"username\":\"e\",\"role\":\"admin\"},\"exp\":$((now + 60))$1}"; }
declare -A attacks=(
  [no token]=
  [alg none]=$(mkjwt -a none "$(claims)")
  [HS512]=$(mkjwt -s "$JWT_SECRET_KEY" -a HS512 "$(claims)")
  [expired]=$(mkjwt -s "$JWT_SECRET_KEY" "{\"subject\":{\"username\":\"e\",\"role\":\"admin\"},\"exp\":$((now - 1))}")
  [future nbf]=$(mkjwt -s "$JWT_SECRET_KEY" "$(claims ",\"nbf\":$((now + 3600))")")
  [refresh]=$(mkjwt -s "$JWT_SECRET_KEY" "$(claims ',"type":"refresh"')")
  [no username]=$(mkjwt -s "$JWT_SECRET_KEY" "{\"subject\":{\"role\":\"admin\"},\"exp\":$((now + 60))}")
  [wrong secret]=$(mkjwt -s nope "$(claims)")
)
declare -A reasons=(
  [no token]='Not authenticated' [alg none]='Invalid token[^"]*' [HS512]='Invalid token[^"]*'
  [expired]='Token expired' [future nbf]='Token not yet valid' [refresh]='Invalid token: not an access token'
  [no username]='Invalid token: no username' [wrong secret]='Invalid token'
)
before=$(for n in labels stream frames; do ws_procs $n; done)
refusals_logged() { cat "$work"/stack/ws-*.log 2>/dev/null | grep -c 'refused'; }
logged=$(refusals_logged)
for name in "${!attacks[@]}"; do
  t=${attacks[$name]}
  for p in "/ws/labels/site%20A" "/ws/stream/site%20A/cam1" "/ws/frames"; do
    r=$(wsclient -T 5000 "$WSBASE$p${t:+?token=$t}" recvall)
    refused401 "$name refused on ${p%%/site*} with ?token=" "$r" "${reasons[$name]}"
    r=$(wsclient -T 5000 ${t:+-H "Authorization: Bearer $t"} "$WSBASE$p" recvall)
    refused401 "$name refused on ${p%%/site*} with the Authorization header" "$r" "${reasons[$name]}"
  done
done
expect "refused handshakes started no ws program (none running, none logged a refusal)" \
  "$(for n in labels stream frames; do ws_procs $n; done) $(refusals_logged)" "$before $logged"

# Straight to websocketd (its loopback port), the programs still refuse by
# themselves: one {"error": ...} message, then the close.
for p in "$WS_LABELS_PORT/ws/labels/site%20A" "$WS_STREAM_PORT/ws/stream/site%20A/cam1" "$WS_FRAMES_PORT/ws/frames"; do
  for name in "expired" "wrong secret" "no token"; do
    t=${attacks[$name]}
    r=$(wsclient -T 5000 "ws://127.0.0.1:$p${t:+?token=$t}" recvall)
    expect_match "$name refused by the program itself on ${p#*/ws/}" "$r" "^(TEXT|BINARY) .*\\{\"error\": \"${reasons[$name]}\"\\}.*CLOSED"
  done
done
r=$(wsclient -T 5000 "ws://127.0.0.1:$WS_LABELS_PORT/ws/labels/site%20A?token=$viewer" recvall)
expect_match "... and a label outside the viewer's sites" "$r" "No keys found for label 'site A'.*CLOSED"

t0=$(now_ms)
r=$(wsclient -T 10000 "$WSBASE/ws/labels/site%20A?token=$admin" recvall)
took=$(( $(now_ms) - t0 ))
expect_match "session limit: closing message with session_timeout, then close" "$r" \
  '\{"status": "closing", "reason": "session_timeout", "message": "[^"]+"\}.*CLOSED'
check "... after WS_MAX_SESSION_SECONDS (${took} ms)" test "$took" -ge 2800 -a "$took" -le 5000

# Public viewers by configuration; uploads still need a token.
stack_stop
WS_VIEWER_AUTH=false JWT_REQUIRE_ACTIVE_JTI=true stack_start
r=$(wsclient -T 5000 "$WSBASE/ws/labels/site%20A" recv:1)
expect_match "WS_VIEWER_AUTH=false: /ws/labels without a token" "$r" '"key": "cam1"'
r=$(wsclient -T 5000 "$WSBASE/ws/stream/site%20A/cam1" "$pull" recv:1)
expect_match "WS_VIEWER_AUTH=false: /ws/stream without a token" "$r" 'IMG 3 '
r=$(wsclient -T 5000 "$WSBASE/ws/labels/site%20A?token=garbage" recvall)
refused401 "... but a bad token presented is still refused" "$r" "Invalid token"
{ printf '{"label": "p", "key": "k", "size": 1}--IMG--x'; } >"$work/up"
r=$(wsclient -T 5000 "$WSBASE/ws/frames" bin:"$work/up" recvall)
refused401 "... and /ws/frames still requires one" "$r" "Not authenticated"

# JWT_REQUIRE_ACTIVE_JTI: the token's jti must be in the auth service's cache.
tok=$(token alice admin)
for p in "/ws/frames" "/ws/labels/site%20A" "/ws/stream/site%20A/cam1"; do
  r=$(wsclient -T 5000 "$WSBASE$p?token=$tok" recvall)
  refused401 "jti not in the user cache: refused on ${p%%/site*}" "$r" "Invalid token: revoked or not active"
done
expect_match "... on HTTP too" "$(http GET /labels -H "Authorization: Bearer $tok")" '^401 .*revoked'
rcli SET construction-hazard-detection:user_cache:alice '{"username": "alice", "jti_list": ["other", "j-alice"]}' >/dev/null
r=$(wsclient -T 5000 "$WSBASE/ws/frames?token=$tok" bin:"$work/up" recv:1)
expect_match "jti listed: accepted" "$r" '"status": "ok"'
expect_match "... on HTTP too" "$(http GET /labels -H "Authorization: Bearer $tok")" '^200 '
rcli SET construction-hazard-detection:user_cache:alice '{"username": "alice", "jti_list": ["other"]}' >/dev/null
r=$(wsclient -T 5000 -H "Authorization: Bearer $tok" "$WSBASE/ws/frames" recvall)
refused401 "jti revoked again: refused at the next handshake" "$r" "Invalid token: revoked or not active"

# Redis away: the jti cannot be checked, so 503 with the reason, not 401.
redis_stop
wait_until 10 bash -c "! redis-cli -p $redis_port ping"
r=$(wsclient -T 5000 "$WSBASE/ws/frames?token=$tok" recvall)
expect_match "Redis down with the jti check: 503 with its reason" "$r" \
  '^HANDSHAKE 503 .*BODY [0-9]+ \{"detail": "Failed to verify token: [^"]+"\}'
check "... and no WWW-Authenticate (the token is not at fault)" bash -c "! grep -q WWW-Authenticate <<<'$r'"
