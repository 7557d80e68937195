#!/usr/bin/env bash
# servers: nginx lighttpd
# GET /labels (API §1 label listing, §2 auth, §3): listing, filtering,
# role/sites, every token attack, CORS and preflight.
. "$(dirname "$0")/lib.sh"
RATE_LIMIT_LABELS=0 stack_start

# Streams written the way other producers write them: straight into Redis.
add() { rcli XADD "$1" '*' frame x >/dev/null; }
add "$(stream_key siteB cam1)"
add "$(stream_key siteA cam1)"
add "$(stream_key siteA cam2)"
add "$(stream_key '工地 東' 攝影機)"
add "$(stream_key test-site cam)"
add "$(stream_key mytestlabel cam)"
add "stream_frame:!!notbase64!!|$(b64url cam)"
add "stream_frame:$(printf '\xff\xfe' | base64 | tr '+/' '-_')|$(b64url cam)"
add "stream_frame:$(b64url siteC)"
rcli SET "stream_frame:$(b64url siteD)|$(b64url cam)" plain >/dev/null

admin=$(token alice admin)
expect "admin sees every valid label, sorted, without 'test' ones" \
  "$(http GET /labels -H "Authorization: Bearer $admin")" \
  '200 {"labels": ["siteA", "siteB", "siteD", "工地 東"]}'

viewer=$(token bob viewer '["siteB","nowhere"]')
expect "a viewer sees only the labels of its sites" \
  "$(http GET /labels -H "Authorization: Bearer $viewer")" '200 {"labels": ["siteB"]}'
expect "a viewer without sites sees none" \
  "$(http GET /labels -H "Authorization: Bearer $(token carol viewer)")" '200 {"labels": []}'

headers=$(curl -s -D - -o /dev/null "$BASE/labels")
expect_match "no token: 401 with WWW-Authenticate: Bearer" "$headers" $'^HTTP/1.1 401.*[Ww][Ww][Ww]-[Aa]uthenticate: Bearer\r'
expect "no token: FastAPI-shaped detail" "$(http GET /labels)" '401 {"detail": "Not authenticated"}'

now=$(date +%s)
claims() { echo "{\"subject\":{\"username\":\"eve\",\"role\":\"admin\"},\"type\":\"access\",\"exp\":$((now + 600))${1:-}}"; }
declare -A attacks=(
  [alg none]=$(mkjwt -a none "$(claims)")
  [HS512 with the right secret]=$(mkjwt -s "$JWT_SECRET_KEY" -a HS512 "$(claims)")
  [wrong secret]=$(mkjwt -s not-the-secret "$(claims)")
  [RS256 header]=$(mkjwt -s "$JWT_SECRET_KEY" -h '{"alg":"RS256","typ":"JWT"}' "$(claims)")
  [expired]=$(mkjwt -s "$JWT_SECRET_KEY" "{\"subject\":{\"username\":\"eve\",\"role\":\"admin\"},\"exp\":$((now - 5))}")
  [no exp]=$(mkjwt -s "$JWT_SECRET_KEY" '{"subject":{"username":"eve","role":"admin"}}')
  [nbf in the future]=$(mkjwt -s "$JWT_SECRET_KEY" "$(claims ",\"nbf\":$((now + 300))")")
  [refresh token]=$(mkjwt -s "$JWT_SECRET_KEY" "{\"subject\":{\"username\":\"eve\",\"role\":\"admin\"},\"type\":\"refresh\",\"exp\":$((now + 600))}")
  [no username]=$(mkjwt -s "$JWT_SECRET_KEY" "{\"subject\":{\"role\":\"admin\"},\"exp\":$((now + 600))}")
  [garbage]=not.a.token
)
for name in "${!attacks[@]}"; do
  expect_match "token attack refused: $name" \
    "$(http GET /labels -H "Authorization: Bearer ${attacks[$name]}")" '^401 \{"detail": "[^"]+"\}$'
done
expect_match "Basic auth is not a bearer token" \
  "$(http GET /labels -H 'Authorization: Basic YWxpY2U6cHc=')" '^401 '

cors=$(curl -s -D - -o /dev/null -H "Origin: http://dash.example" -H "Authorization: Bearer $admin" "$BASE/labels")
expect_match "CORS: Access-Control-Allow-Origin on answers" "$cors" $'Access-Control-Allow-Origin: \\*\r'
pre=$(curl -s -D - -o /dev/null -X OPTIONS -H "Origin: http://dash.example" \
  -H "Access-Control-Request-Method: GET" -H "Access-Control-Request-Headers: authorization" "$BASE/labels")
expect_match "preflight: 204" "$pre" '^HTTP/1.1 204'
expect_match "preflight: allowed methods" "$pre" 'Access-Control-Allow-Methods: GET, OPTIONS'
expect_match "preflight: allowed headers" "$pre" 'Access-Control-Allow-Headers: Authorization, Content-Type'
expect_match "POST /labels is 405" "$(http POST /labels --data "" -H "Authorization: Bearer $admin")" '^405 '
