#!/usr/bin/env bash
# The stdio contract is websocketd 0.4.1's, unchanged by our patches: the same ws programs
# run under Debian's stock binary (WEBSOCKETD=/usr/bin/websocketd) — frames whole on
# /ws/labels, a pull on /ws/stream, an upload stored and acked on /ws/frames — and the
# stack refuses, with a clear message, a setting only the patched build has.
. "$(dirname "$0")/lib.sh"
stock=${STOCK_WEBSOCKETD:-/usr/bin/websocketd}
if ! "$stock" --version >/dev/null 2>&1; then
  not_ok "Debian's websocketd at $stock (deploy/install-deps.sh installs it)"; exit 0
fi

out=$(WEBSOCKETD=$stock WS_PING_INTERVAL_SECONDS=1 STACK_DIR=$work/refused PORT=$(free_port) \
  STACK_BIN=$build "$top/deploy/stack.sh" 2>&1)
expect_match "a setting the stock binary lacks: the stack does not start, and says why" "$out" \
  "WS_PING_INTERVAL_SECONDS: $stock has no --pinginterval"

WEBSOCKETD=$stock stack_start
tok=$(token)
WSOPTS=(-T 20000 -H "Authorization: Bearer $tok")
expect "the stack runs the stock binary" "$(readlink "/proc/$(cat "$work/stack/ws-labels.pid")/exe")" \
  "$(readlink -f "$stock")"

head -c 100000 /dev/urandom >"$work/f1"
head -c 900000 /dev/urandom >"$work/f2"
img() { echo "IMG $(stat -c %s "$1") $(sha256sum <"$1" | cut -d' ' -f1)"; }
xadd site cam "$work/f1"
xadd site cam2 "$work/f2"
r=$(ws /ws/labels/site recv:2)
expect_match "/ws/labels: a 100 KB frame arrives whole" "$r" "$(img "$work/f1")"
expect_match "... and a 900 KB one" "$r" "$(img "$work/f2")"

r=$(ws /ws/stream/site/cam 'text:{"action": "pull"}' recv:1)
expect_match "/ws/stream: a pull gets the frame whole" "$r" "$(img "$work/f1")"

printf '{"label": "up", "key": "cam", "size": 5}--IMG--hello' >"$work/up"
r=$(ws /ws/frames bin:"$work/up" recv:1)
expect "/ws/frames: an upload is acked" "$(head -1 <<<"$r")" 'TEXT 57 {"status": "ok", "message": "Frame stored successfully."}'
expect "... and stored" "$(stored frame up cam)" hello
check "no ws process is left once the clients are gone" wait_until 10 eval \
  '[ -z "$(ws_procs labels)$(ws_procs stream)$(ws_procs frames)" ]'
