#!/usr/bin/env bash
# servers: nginx lighttpd
# CORS with CORS_ALLOW_ORIGINS restricted (API §3): allowed origins
# are echoed, others get no grant, and nothing from a header is reflected raw.
. "$(dirname "$0")/lib.sh"
CORS_ALLOW_ORIGINS="https://dash.example, https://ops.example" stack_start
admin=$(token)
hdr() { curl -s -D - -o /dev/null "$@" | tr -d '\r'; }

h=$(hdr -H "Origin: https://ops.example" -H "Authorization: Bearer $admin" "$BASE/labels")
expect_match "an allowed origin is echoed" "$h" $'\nAccess-Control-Allow-Origin: https://ops.example'"(\$|"$'\n'")"
expect_match "... with Vary: Origin" "$h" $'\nVary: Origin\n'
h=$(hdr -H "Origin: https://evil.example" -H "Authorization: Bearer $admin" "$BASE/labels")
check "a disallowed origin gets no Access-Control-Allow-Origin" bash -c "! grep -qi '^Access-Control-Allow-Origin' <<<'$h'"
h=$(hdr -X OPTIONS -H "Origin: https://evil.example" -H "Access-Control-Request-Method: POST" "$BASE/frames")
expect_match "a disallowed preflight is answered without a grant" "$h" '^HTTP/1.1 204'
check "... and without Access-Control-Allow-Origin" bash -c "! grep -qi '^Access-Control-Allow-Origin' <<<'$h'"
h=$(hdr -X OPTIONS -H "Origin: https://dash.example" -H "Access-Control-Request-Method: POST" "$BASE/frames")
expect_match "an allowed preflight to /frames is granted" "$h" $'\nAccess-Control-Allow-Origin: https://dash.example'"(\$|"$'\n'")"
expect_match "... for POST" "$h" 'Access-Control-Allow-Methods: POST, OPTIONS'
h=$(hdr -H "Origin: https://dash.example.evil" -H "Authorization: Bearer $admin" "$BASE/labels")
check "a longer origin sharing a prefix is not granted" bash -c "! grep -qi '^Access-Control-Allow-Origin' <<<'$h'"
