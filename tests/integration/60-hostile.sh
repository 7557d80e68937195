#!/usr/bin/env bash
# servers: nginx lighttpd
# Hostile input (issue 4): header injection, huge headers, 10,000 multipart
# parts, slow clients, disallowed WebSocket origins. Each refused, and the
# service answers normally afterwards.
. "$(dirname "$0")/lib.sh"
CORS_ALLOW_ORIGINS="https://dash.example" stack_start
admin=$(token)
healthy() { expect_match "$1: the service still answers" "$(http GET /labels -H "Authorization: Bearer $admin")" '^200 '; }

h=$(curl -s -D - -o /dev/null -H $'Origin: https://dash.example\r\nX-Injected: yes' -H "Authorization: Bearer $admin" "$BASE/labels" | tr -d '\r')
check "CRLF in a header value is never echoed as a header" bash -c "! grep -qi '^X-Injected' <<<'$h'"

{ printf 'X-Big: '; head -c 1048576 /dev/zero | tr '\0' 'a'; printf '\n'; } >"$work/bighdr"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "@$work/bighdr" -H "Authorization: Bearer $admin" "$BASE/labels")
expect_match "1 MB header refused by the web server (4xx, or the connection closed: $code)" "$code" '^(4[0-9][0-9]|000)$'
healthy "after a 1 MB header"

{ for i in $(seq 1 10000); do printf -- '--B\r\nContent-Disposition: form-data; name="p%d"\r\n\r\nx\r\n' "$i"; done
  printf -- '--B--\r\n'; } >"$work/parts"
t0=$(now_ms)
r=$(http POST /frames -H "Authorization: Bearer $admin" -H 'Content-Type: multipart/form-data; boundary=B' --data-binary "@$work/parts")
expect_match "10,000 multipart parts refused" "$r" '^413 \{"detail": "There was an error parsing the body: '
check "... quickly ($(( $(now_ms) - t0 )) ms)" test $(( $(now_ms) - t0 )) -lt 3000
healthy "after 10,000 parts"

# Slowloris: a request line, then nothing; the web server must hang up.
t0=$(now_ms)
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'GET /labels HTTP/1.1\r\nHost: x\r\n' >&3
timeout 30 cat <&3 >/dev/null
took=$(( $(now_ms) - t0 ))
exec 3<&- 3>&-
check "a client that never finishes its headers is cut off (${took} ms)" test "$took" -lt 25000
healthy "after a slow client"

# websocketd --origin (deploy/stack.sh passes WS_ORIGIN).
stack_stop
WS_ORIGIN=dash.example stack_start
r=$(wsclient -T 5000 -H 'Origin: https://evil.example' "$WSBASE/ws/labels/x?token=$admin" recvall)
expect_match "a WebSocket from a disallowed origin is refused at the handshake" "$r" '^HANDSHAKE 403'
r=$(wsclient -T 5000 -H 'Origin: https://dash.example' "$WSBASE/ws/labels/x?token=$admin" recvall)
expect_match "... an allowed origin gets through" "$r" '"error": "No keys found for label'
