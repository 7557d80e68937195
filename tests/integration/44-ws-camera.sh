#!/usr/bin/env bash
# servers: nginx lighttpd
# A camera that behaves like the upstream aiohttp client (issue 10): it gets a
# new token only on a handshake 401 (or a close with 1008), reconnects after a
# close, and never resends a frame answered "closing". Refused tokens are
# refreshed after the 401 and its frames stored; across session ends nothing
# acked is lost and no frame is left without its answer.
. "$(dirname "$0")/lib.sh"
WS_MAX_SESSION_SECONDS=2 STREAM_MAXLEN=1000000 stack_start
mkdir -p "$work/img"
# 300 KB is more than the stdin pipe takes at first: such a message arrives in pieces.
mkimg jpeg 20000 1 >"$work/img/1"; mkimg jpeg 100000 2 >"$work/img/2"; mkimg jpeg 300000 3 >"$work/img/3"
now=$(date +%s)
claims="{\"subject\":{\"username\":\"cam\",\"role\":\"admin\"},\"type\":\"access\",\"exp\":$((now + 3600))}"
fresh="mkjwt -s '$JWT_SECRET_KEY' '$claims'"
# seqs KEY: the frame numbers stored for camera KEY, one per line, sorted.
seqs() {
  rcli EVAL "local out = {} for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do
    for j = 1, #e[2], 2 do if e[2][j] == 'warnings' then out[#out + 1] = e[2][j + 1] end end end
    return out" 1 "$(stream_key cam "$1")" | sort -n
}
summary() { grep '^SUMMARY' "$1"; }
field() { sed -nE "s/.* $1=([0-9]+).*/\\1/p" <<<"$2"; }

declare -A refused=(
  [wrong secret]=$(mkjwt -s nope "$claims")
  [expired]=$(mkjwt -s "$JWT_SECRET_KEY" "{\"subject\":{\"username\":\"cam\",\"role\":\"admin\"},\"exp\":$((now - 60))}")
)
k=0
for name in "wrong secret" "expired"; do
  k=$((k + 1))
  wscamera -t "${refused[$name]}" -r "$fresh" -f "$work/img" -n 6 -k "r$k" "$WSBASE/ws/frames" >"$work/r$k"
  s=$(summary "$work/r$k")
  expect_match "$name: refused at the handshake once, one new token, then 6 of 6 answered ok" "$s" \
    ' ok=6 errors=0 closing=0 resent=0 refused=1 refreshes=1 '
  expect "... and stored" "$(seqs "r$k" | tr '\n' ' ')" "1 2 3 4 5 6 "
done
wscamera -r "$fresh" -f "$work/img" -n 3 -k good "$WSBASE/ws/frames" >"$work/good"
expect_match "a good token: no refusal, no new token" "$(summary "$work/good")" ' ok=3 .* refused=0 refreshes=0 '

# Back to back across session ends (WS_MAX_SESSION_SECONDS=2): every frame
# answered ok, every one of them stored, none answered "closing".
wscamera -r "$fresh" -f "$work/img" -n 100000000 -d 7 -k ends "$WSBASE/ws/frames" >"$work/ends"
s=$(summary "$work/ends")
expect_match "7 s of frames back to back: none answered closing, none lost, no error" "$s" \
  ' errors=0 closing=0 resent=0 '
check "... across at least 3 session ends ($(field closings "$s") closing messages)" test "$(field closings "$s")" -ge 3
sed -nE 's/^FRAME ([0-9]+) ok$/\1/p' "$work/ends" | sort -n >"$work/acked"
seqs ends >"$work/stored"
expect "... every frame acked ok is stored, once, and nothing else ($(wc -l <"$work/acked") frames)" \
  "$(cmp -s "$work/acked" "$work/stored" && echo same)" same

# The upstream BackendFrameSender takes the first message after a send for
# its answer, "closing" too, and never resends that frame: it is stored anyway.
wscamera -v -r "$fresh" -f "$work/img" -n 100000000 -d 4 -k naive "$WSBASE/ws/frames" >"$work/naive"
sed -nE 's/^FRAME ([0-9]+) closing$/\1/p' "$work/naive" >"$work/closed"
check "a client taking closing for an answer: some frame was ($(wc -l <"$work/closed"))" test -s "$work/closed"
expect "... and each such frame is stored all the same" \
  "$(seqs naive | sort | comm -23 <(sort "$work/closed") - | tr '\n' ' ')" ""
