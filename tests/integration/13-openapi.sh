#!/usr/bin/env bash
# servers: nginx lighttpd
# deploy/www/openapi.json: served at /openapi.json as it is, a valid OpenAPI
# 3.0 document, and true: every documented operation and status is provoked
# for real, and each answer's status, required headers, content type and JSON
# body must be what the document says (tests/tools/openapi.jq).
. "$(dirname "$0")/lib.sh"
doc=$top/deploy/www/openapi.json
RATE_LIMIT_LABELS=5/60 MAX_FRAME_BYTES=4096 TRUSTED_PROXIES=127.0.0.1 REDIS_TIMEOUT_MS=500 stack_start
admin=$(token)
tested=()

# oa DESC METHOD PATH WANT [curl args...]: sends the request; the status must
# be WANT and the answer must match the document.
oa() {
  local d=$1 m=$2 p=$3 want=$4 out st ct probs; shift 4
  out=$(curl -s -D "$work/h" -o "$work/b" -w '%{http_code} %{content_type}' -X "$m" "$@" "$BASE$p")
  st=${out%% *} ct=${out#* }
  tr -d '\r' <"$work/h" >"$work/h.lf"
  expect "$d: $m $p answers $want" "$st" "$want"
  probs=$(jq -r -L "$top/tests/tools" --arg method "${m,,}" --arg path "$p" --arg status "$st" \
    --arg ctype "$ct" --rawfile headers "$work/h.lf" --rawfile body "$work/b" \
    'include "openapi"; check_response' "$doc" 2>&1)
  expect "$d: the answer is what the document says" "$probs" ""
  tested+=("${m,,} $p $st")
}

r=$(curl -s -D "$work/h" -o "$work/served.json" -w '%{http_code} %{content_type}' "$BASE/openapi.json")
expect "GET /openapi.json: 200 as application/json" "$r" "200 application/json"
check "... byte for byte deploy/www/openapi.json" cmp "$work/served.json" "$doc"
expect "the document is valid OpenAPI 3.0 (version, paths, responses, \$refs, operationIds)" \
  "$(jq -r -L "$top/tests/tools" 'include "openapi"; lint' "$work/served.json" 2>&1)" ""
# The checker finds what it is there to find.
jq '.paths["/labels"].get.responses["200"].content["application/json"].schema["$ref"] = "#/components/schemas/Nope"
    | del(.paths["/healthz"].get.responses["503"].description)' "$doc" >"$work/broken.json"
expect_match "the lint catches a dangling \$ref and a response without description" \
  "$(jq -r -L "$top/tests/tools" 'include "openapi"; lint' "$work/broken.json" | tr '\n' ' ')" \
  'unresolved \$ref #/components/schemas/Nope .*GET /healthz 503: no description'
printf '{"labels": ["a", 7], "extra": 1}' >"$work/b"
printf 'HTTP/1.1 200 OK\n' >"$work/h.lf"
expect "the response check catches a wrong item type and an undocumented field" \
  "$(jq -r -L "$top/tests/tools" --arg method get --arg path /labels --arg status 200 --arg ctype application/json \
     --rawfile headers "$work/h.lf" --rawfile body "$work/b" 'include "openapi"; check_response' "$doc" | LC_ALL=C sort | tr '\n' '|')" \
  "GET /labels 200: body.labels[1]: number where string is documented|GET /labels 200: body: extra is not documented|"

printf 'frame' >"$work/f.bin"
head -c 5000 /dev/zero >"$work/big.bin"
printf -- '--XyZ\r\nContent-Disposition: form-data; name="label"\r\n\r\nsite' >"$work/cut.txt"
oa "upload" POST /frames 200 -H "Authorization: Bearer $admin" -F label=site -F key=cam -F "file=@$work/f.bin"
oa "upload without a token" POST /frames 401 -F label=site -F key=cam -F "file=@$work/f.bin"
oa "upload with a bad token" POST /frames 401 -H "Authorization: Bearer nope" -F label=site -F key=cam -F "file=@$work/f.bin"
oa "file over MAX_FRAME_BYTES" POST /frames 413 -H "Authorization: Bearer $admin" -F label=site -F key=cam -F "file=@$work/big.bin"
oa "not multipart" POST /frames 415 -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' --data '{}'
oa "missing label" POST /frames 422 -H "Authorization: Bearer $admin" -F key=cam -F "file=@$work/f.bin"
oa "bad width, key and file missing" POST /frames 422 -H "Authorization: Bearer $admin" -F label=site -F width=wide
oa "multipart cut short" POST /frames 400 -H "Authorization: Bearer $admin" \
  -H 'Content-Type: multipart/form-data; boundary=XyZ' --data-binary "@$work/cut.txt"
oa "preflight" OPTIONS /frames 204 -H 'Origin: https://dash.example' -H 'Access-Control-Request-Method: POST'
oa "preflight" OPTIONS /labels 204 -H 'Origin: https://dash.example' -H 'Access-Control-Request-Method: GET'
# RATE_LIMIT_LABELS=5/60, counted before authentication: the sixth request is over.
oa "labels" GET /labels 200 -H "Authorization: Bearer $admin"
expect "... and they list the label uploaded" "$(cat "$work/b")" '{"labels": ["site"]}'
oa "labels without a token" GET /labels 401
oa "labels with an expired token" GET /labels 401 \
  -H "Authorization: Bearer $(mkjwt -s "$JWT_SECRET_KEY" '{"subject": {"username": "bob", "role": "admin"}, "type": "access", "exp": 1}')"
oa "labels again" GET /labels 200 -H "Authorization: Bearer $admin"
oa "labels, fifth" GET /labels 200 -H "Authorization: Bearer $admin"
oa "labels over the rate limit" GET /labels 429 -H "Authorization: Bearer $admin"
oa "health" GET /healthz 200
oa "metrics from loopback" GET /metrics 200
oa "metrics for a client outside METRICS_ALLOW (named by a trusted proxy)" GET /metrics 403 -H 'X-Real-IP: 203.0.113.9'

redis_stop
oa "labels, Redis stopped" GET /labels 503 -H "Authorization: Bearer $admin"
oa "upload, Redis stopped" POST /frames 503 -H "Authorization: Bearer $admin" -F label=site -F key=cam -F "file=@$work/f.bin"
oa "health, Redis stopped" GET /healthz 503

# A metrics file that is not ours: metrics are off, everything else serves on.
stack_stop
redis_start
printf 'not a metrics file, but the path METRICS_FILE names' >"$work/foreign"
chmod 600 "$work/foreign"
METRICS_FILE=$work/foreign stack_start
oa "metrics off (foreign METRICS_FILE)" GET /metrics 503
expect_match "... saying why" "$(cat "$work/b")" 'not a streamweb metrics file'
oa "health with metrics off" GET /healthz 200
expect_match "... reports it" "$(cat "$work/b")" '"metrics": "METRICS_FILE=.*foreign: not a streamweb metrics file"'
oa "upload with metrics off" POST /frames 200 -H "Authorization: Bearer $admin" -F label=site -F key=cam -F "file=@$work/f.bin"

export LC_ALL=C
documented=$(jq -r '.paths | to_entries[] | .key as $p | .value | to_entries[] | .key as $m
  | .value.responses | keys[] | "\($m) \($p) \(.)"' "$doc" | sort -u)
expect "every documented operation and status was provoked and checked" \
  "$(comm -23 <(echo "$documented") <(printf '%s\n' "${tested[@]}" | sort -u) | tr '\n' ';')" ""
