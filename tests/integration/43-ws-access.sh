#!/usr/bin/env bash
# servers: nginx lighttpd
# Who may connect and to what (PROTOCOL.md §2, §4): tokens in the header or
# the query, sites per role, path decoding and refusal, session limit,
# public viewers by configuration, revoked tokens.
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
  # Refused by us with a reason, or already by the web server or websocketd
  # at the handshake: either way no session starts.
  r=$(wsclient -T 5000 "$WSBASE$p?token=$admin" recvall 2>&1)
  expect_match "bad path $p refused" "$r" '("error": "Invalid (label|key|path)[^"]*".*CLOSED|^HANDSHAKE [34][0-9][0-9] )'
done
# The same paths straight to the program, as websocketd passes them: each
# refused with a reason.
for p in "/ws/labels/a%2Fb" "/ws/labels/.." "/ws/labels/%2E%2E" "/ws/labels/a%00b" "/ws/labels/a%0Ab" \
         "/ws/labels/%FF" "/ws/labels/x%zz" "/ws/labels/" "/ws/labels/a/b"; do
  r=$(REQUEST_URI="$p?token=$admin" "$build/ws-labels" </dev/null 2>/dev/null)
  expect_match "ws-labels refuses $p itself" "$r" '^\{"error": "Invalid (label|path)'
done
for p in "/ws/stream/a/%2E" "/ws/stream/a/b%2Fc" "/ws/stream/a" "/ws/stream/a/b/c" "/ws/stream/%C2%85/b"; do
  r=$(REQUEST_URI="$p?token=$admin" "$build/ws-stream" </dev/null 2>/dev/null)
  expect_match "ws-stream refuses $p itself" "$r" '^\{"error": "Invalid (label|key|path)'
done

viewer=$(token bob viewer '["other"]')
r=$(wsclient -T 5000 "$WSBASE/ws/labels/other?token=$viewer" recv:1)
expect_match "a viewer may watch a label of its sites" "$r" '"key": "cam"'
r=$(wsclient -T 5000 "$WSBASE/ws/labels/site%20A?token=$viewer" recvall)
expect_match "... but not another one (refused like an unknown label)" "$r" "No keys found for label 'site A'.*CLOSED"
r=$(wsclient -T 5000 "$WSBASE/ws/stream/site%20A/cam1?token=$viewer" "$pull" recvall)
expect_match "... on /ws/stream too" "$r" "No keys found for label 'site A'.*CLOSED"

now=$(date +%s)
declare -A attacks=(
  [no token]=
  [alg none]=$(mkjwt -a none "{\"subject\":{\"username\":\"e\",\"role\":\"admin\"},\"exp\":$((now + 60))}")
  [HS512]=$(mkjwt -s "$JWT_SECRET_KEY" -a HS512 "{\"subject\":{\"username\":\"e\",\"role\":\"admin\"},\"exp\":$((now + 60))}")
  [expired]=$(mkjwt -s "$JWT_SECRET_KEY" "{\"subject\":{\"username\":\"e\",\"role\":\"admin\"},\"exp\":$((now - 1))}")
  [refresh]=$(mkjwt -s "$JWT_SECRET_KEY" "{\"subject\":{\"username\":\"e\",\"role\":\"admin\"},\"type\":\"refresh\",\"exp\":$((now + 60))}")
  [wrong secret]=$(mkjwt -s nope "{\"subject\":{\"username\":\"e\",\"role\":\"admin\"},\"exp\":$((now + 60))}")
)
for name in "${!attacks[@]}"; do
  for p in "/ws/labels/site%20A" "/ws/stream/site%20A/cam1" "/ws/frames"; do
    r=$(wsclient -T 5000 "$WSBASE$p?token=${attacks[$name]}" recvall)
    expect_match "$name refused on ${p%%/site*}" "$r" '\{"error": "[^"]+"\}.*CLOSED'
  done
done

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
expect_match "... but a bad token presented is still refused" "$r" '"error": "Invalid token".*CLOSED'
{ printf '{"label": "p", "key": "k", "size": 1}--IMG--x'; } >"$work/up"
r=$(wsclient -T 5000 "$WSBASE/ws/frames" bin:"$work/up" recvall)
expect_match "... and /ws/frames still requires one" "$r" '"error": "Not authenticated".*CLOSED'

# JWT_REQUIRE_ACTIVE_JTI: the token's jti must be in the auth service's cache.
tok=$(token alice admin)
r=$(wsclient -T 5000 "$WSBASE/ws/frames?token=$tok" bin:"$work/up" recvall)
expect_match "jti not in the user cache: refused" "$r" '"error": "Invalid token: revoked or not active".*CLOSED'
expect_match "... on HTTP too" "$(http GET /labels -H "Authorization: Bearer $tok")" '^401 .*revoked'
rcli SET construction-hazard-detection:user_cache:alice '{"username": "alice", "jti_list": ["other", "j-alice"]}' >/dev/null
r=$(wsclient -T 5000 "$WSBASE/ws/frames?token=$tok" bin:"$work/up" recv:1)
expect_match "jti listed: accepted" "$r" '"status": "ok"'
expect_match "... on HTTP too" "$(http GET /labels -H "Authorization: Bearer $tok")" '^200 '
