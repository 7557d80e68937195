#!/usr/bin/env bash
# servers: nginx lighttpd
# The viewer page (deploy/www) in a real browser: Debian's chromium driven by
# playwright-core (tests/browser, installed by `make test` with npm ci).
# Behind each server: the page's checks (tests/browser/page.mjs) against a
# stack with the default session length, then the session end and token
# expiry (session.mjs) against one whose sessions last 3 s. Behind nginx
# only, to keep the browser part near 6 minutes in all: the 2-minute soak
# at 10 fps (soak.mjs; SOAK_SECONDS changes its length).
. "$(dirname "$0")/lib.sh"
browser=$top/tests/browser
if [ ! -d "$browser/node_modules/playwright-core" ]; then
  not_ok "playwright-core is installed in tests/browser/node_modules (make test runs npm ci there)"
  exit 1
fi
export OUTPUT_DIR=$build/test-output
# node_modules is found from the scripts' own directory.
page_test() { # page_test SCRIPT: runs one node script against the running stack
  BASE=$BASE TOKEN=$(token) JWT_SECRET_KEY=$JWT_SECRET_KEY node "$browser/$1" 2>"$work/$1.err"
  local rc=$?
  [ "$rc" -eq 0 ] || { echo "# $1 exited with $rc; its stderr:"; sed 's/^/#   /' "$work/$1.err" | tail -20; }
}

now=$(date +%s)
stack_start
# The page's files with the types browsers insist on (a module script that
# is not served as JavaScript is not run), revalidated on every load.
ctype() { curl -s -o /dev/null -w '%{http_code} %{content_type}' "$BASE$1"; }
expect_match "GET / is the page" "$(ctype /)" '^200 text/html'
expect_match "GET /js/main.mjs is JavaScript" "$(ctype /js/main.mjs)" '^200 text/javascript'
expect_match "GET /app.css is CSS" "$(ctype /app.css)" '^200 text/css'
expect_match "GET /favicon.svg is SVG" "$(ctype /favicon.svg)" '^200 image/svg\+xml'
expect_match "... no-cache, nosniff" "$(curl -sI "$BASE/js/api.mjs" | tr -d '\r' | grep -iE '^(cache-control|x-content-type-options):' | sort -f | tr '\n' ' ')" \
  '^Cache-Control: no-cache X-Content-Type-Options: nosniff $'
expect_match "a missing file is 404" "$(ctype /nosuch.mjs)" '^404 '
expect_match "GET /labels is still the API" "$(ctype /labels)" '^401 application/json'
EXPIRED_TOKEN=$(mkjwt -s "$JWT_SECRET_KEY" "{\"subject\":{\"username\":\"alice\",\"role\":\"admin\"},\"type\":\"access\",\"iat\":$((now - 120)),\"exp\":$((now - 60))}")
VIEWER_TOKEN=$(token bob viewer '["other"]')
export EXPIRED_TOKEN VIEWER_TOKEN
page_test page.mjs
[ "$STACK_SERVER" = nginx ] && page_test soak.mjs
stack_stop

WS_MAX_SESSION_SECONDS=3 stack_start
page_test session.mjs
