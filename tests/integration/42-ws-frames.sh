#!/usr/bin/env bash
# servers: nginx lighttpd
# /ws/frames (API §4): uploads sent back to back, one reply each, in
# order, every entry byte-identical; bad messages never swallow the next.
. "$(dirname "$0")/lib.sh"
MAX_FRAME_BYTES=$((2 << 20)) stack_start
tok=$(token)
WSOPTS=(-T 60000 -H "Authorization: Bearer $tok")
sha() { sha256sum | cut -d' ' -f1; }
okreply='TEXT 57 {"status": "ok", "message": "Frame stored successfully."}'

# msg DIR NAME HEADER FRAME_FILE: writes one upload message.
msg() { { printf '%s--IMG--' "$3"; cat "$4"; } >"$1/$2"; }

# 50 JPEG/PNG uploads back to back, without waiting for replies.
mkdir -p "$work/imgs" "$work/m50"
for i in $(seq -w 1 50); do
  fmt=jpeg; [ $((10#$i % 2)) = 0 ] && fmt=png
  mkimg $fmt $(( (RANDOM % 200 + 1) * 1000 )) "$i" >"$work/imgs/$i"
  msg "$work/m50" "$i" "{\"label\": \"burst\", \"key\": \"cam$i\", \"width\": 640, \"height\": \"480\", \"warnings_json\": \"[\\\"n$i\\\"]\"}" "$work/imgs/$i"
done
ws /ws/frames binfiles:"$work/m50" recv:50 >"$work/r50"
expect "50 images back to back: 50 ok replies" "$(grep -cxF "$okreply" "$work/r50")" 50
same=0
for i in $(seq -w 1 50); do
  [ "$(stored frame burst "cam$i" | sha)" = "$(sha <"$work/imgs/$i")" ] && \
  [ "$(stored warnings burst "cam$i")" = "[\"n$i\"]" ] && same=$((same + 1))
done
expect "... and 50 byte-identical entries with their own fields" "$same" 50
expect "width as a JSON number, height as a string: both stored as text" \
  "$(stored width burst cam01) $(stored height burst cam01)" "640 480"

# The same with `size` and arbitrary bytes, one stream, in order.
mkdir -p "$work/raw" "$work/mraw"
for i in $(seq -w 1 50); do
  { head -c $((RANDOM * 3)) /dev/urandom; printf -- '--IMG--{"x": "}"}\n'; } >"$work/raw/$i"
  msg "$work/mraw" "$i" "{\"label\": \"raw\", \"key\": \"k\", \"size\": $(stat -c %s "$work/raw/$i")}" "$work/raw/$i"
done
ws /ws/frames binfiles:"$work/mraw" recv:50 >"$work/rraw"
expect "50 sized raw frames back to back: 50 ok replies" "$(grep -cxF "$okreply" "$work/rraw")" 50
same=0
for n in $(seq 1 10); do # STREAM_MAXLEN keeps the newest 10: 50..41
  i=$(printf '%02d' $((51 - n)))
  [ "$(stored frame raw k "$n" | sha)" = "$(sha <"$work/raw/$i")" ] && same=$((same + 1))
done
expect "... stored byte-identical and in order (the 10 kept)" "$same" 10

# A header string may contain the delimiter and braces.
printf 'abc' >"$work/abc"
mkdir -p "$work/tricky"
msg "$work/tricky" 1 '{"label": "tricky", "key": "k", "warnings_json": "a --IMG-- b } {", "size": 3}' "$work/abc"
r=$(ws /ws/frames binfiles:"$work/tricky" recv:1 | head -1)
expect "a header containing --IMG-- and braces: stored" "$r" "$okreply"
expect "... with the field and frame intact" "$(stored warnings tricky k)|$(stored frame tricky k)" "a --IMG-- b } {|abc"

# Bad messages between good ones, back to back: one error each, in order,
# and the messages around them intact.
mkdir -p "$work/mixed"
mkimg jpeg 5000 7 >"$work/good.jpg"
head -c $(( (2 << 20) + 1 )) /dev/zero >"$work/over"
msg "$work/mixed" 01 '{"label": "mixed", "key": "a"}' "$work/good.jpg"
msg "$work/mixed" 02 '{"label": "mixed/x", "key": "d", "size": 3}' "$work/abc"
msg "$work/mixed" 03 '{"label": "mixed", "key": "c"}' "$work/good.jpg"
msg "$work/mixed" 04 '{"key": "f", "width": "wide", "size": 3}' "$work/abc"
msg "$work/mixed" 05 '{"label": "mixed", "key": "e", "size": 3}' "$work/abc"
msg "$work/mixed" 06 "{\"label\": \"mixed\", \"key\": \"h\", \"size\": $(stat -c %s "$work/over")}" "$work/over"
msg "$work/mixed" 07 '{"label": "mixed", "key": "g"}' "$work/good.jpg"
msg "$work/mixed" 08 '{"label": "mixed", "key": "i", "size": 0}' /dev/null
msg "$work/mixed" 09 '{"label": [1, "key": 2}' "$work/good.jpg"
msg "$work/mixed" 10 '{"label": "mixed", "key": "j", "size": -1}' "$work/good.jpg"
msg "$work/mixed" 11 '{"label": "mixed", "key": "k", "size": 3}' "$work/abc"
ws /ws/frames binfiles:"$work/mixed" recv:11 >"$work/rmixed"
expect "11 messages, 11 replies, in order" \
  "$(grep '^TEXT' "$work/rmixed" | sed -E 's/.*"status": "(ok|error)".*/\1/' | tr '\n' ' ')" \
  "ok error ok error ok error ok error error error ok "
expect_match "invalid label explained" "$(sed -n 2p "$work/rmixed")" 'label: Value error, label must not contain'
expect_match "missing label and bad width explained" "$(sed -n 4p "$work/rmixed")" 'label: Field required; width: Input should be a valid integer'
expect_match "frame over MAX_FRAME_BYTES refused" "$(sed -n 6p "$work/rmixed")" 'larger than MAX_FRAME_BYTES'
expect_match "empty frame refused" "$(sed -n 8p "$work/rmixed")" 'file: Value error, file must not be empty'
expect_match "invalid JSON header refused" "$(sed -n 9p "$work/rmixed")" 'Invalid JSON header'
expect_match "negative size refused" "$(sed -n 10p "$work/rmixed")" 'size must not be negative'
expect "good messages around bad ones stored intact" \
  "$(for k in a c g; do stored frame mixed $k | sha; done | sort -u) $(stored frame mixed e) $(stored frame mixed k)" \
  "$(sha <"$work/good.jpg") abc abc"
expect "nothing stored for refused messages" "$(rcli EXISTS "$(stream_key mixed h)" "$(stream_key mixed i)")" 0

# Issue 10 §2: messages that cannot be framed, each answered with its error
# as soon as it ended (websocketd writes a message whole: the framer knows
# where it stops), the connection kept, and the next message on it stored.
# The old framer gave no answer, or the answer only after a 10 s stall, or
# took the next message for the rest of the bad one.
mkdir -p "$work/bad"
head -c 4000 /dev/urandom | tr -d -- '-{ \t\r\n' | head -c 500 >"$work/junk500"
printf '{"label": "bad", "key": "a"}' >"$work/bad/1"; cat "$work/junk500" >>"$work/bad/1"
{ printf '{'; for i in $(seq 1 50000); do printf '"a":1,'; done; } >"$work/bad/2"
printf '{"label": "bad", "key": "c", "size": 9007199254740992}--IMG--abc' >"$work/bad/3"
printf '{"label": "bad", "key": "d", "size": -5}--IMG--abc' >"$work/bad/4"
want=("missing --IMG-- delimiter" "Invalid JSON header" "frame larger than MAX_FRAME_BYTES" "size must not be negative")
for i in 1 2 3 4; do
  mkdir -p "$work/bad$i"
  cp "$work/bad/$i" "$work/bad$i/1"
  msg "$work/bad$i" 2 "{\"label\": \"bad\", \"key\": \"next$i\", \"size\": 3}" "$work/abc"
  t0=$(now_ms)
  ws /ws/frames sendwait:"$work/bad$i" >"$work/rbad$i"
  took=$(( $(now_ms) - t0 ))
  expect_match "bad message $i answered: ${want[$((i - 1))]}" "$(sed -n 1p "$work/rbad$i")" \
    "\"status\": \"error\", \"message\": \"${want[$((i - 1))]}"
  expect "... the next message on the connection stored and acked" \
    "$(sed -n 2p "$work/rbad$i") $(stored frame bad "next$i")" "$okreply abc"
  # 1 s on an idle machine; the bound leaves room for a busy one, and is
  # still far from the 10 s the old framer waited
  check "... both within 3 s (${took} ms)" test "$took" -lt 3000
done
# Size-less uploads of bytes that are neither JPEG nor PNG were answered
# only after a 20 ms quiet period (45 uploads/s); now a message's end is known
# when it arrives (the stdin pipe takes it whole).
r=$(wsupload -u -b 100000 -d 2 -L unsized "$WSBASE/ws/frames?token=$tok")
rate=$(sed -nE 's/.* rate=([0-9]+).*/\1/p' <<<"$r")
expect_match "100 KB size-less uploads, one connection, send and wait: all ok" "$r" ' errors=0 conn_errors=0 '
# ~1,000/s on an idle machine (≥ 500 is the target); 100 holds on a busy one
check "... at ${rate:-?}/s, not paced by a quiet period (> 100/s)" test "${rate:-0}" -gt 100

# A header that never closes cannot be framed; a client that waits for each
# reply (as API §4 asks of clients sending neither size nor an image)
# gets the error, and its next message is stored.
mkdir -p "$work/wait"
printf '{"label": "w", "key": "x", "size": 3--IMG--abc' >"$work/wait/1"
msg "$work/wait" 2 '{"label": "w", "key": "y"}' "$work/good.jpg"
ws /ws/frames sendwait:"$work/wait" >"$work/rwait"
expect_match "unterminated header: one error" "$(sed -n 1p "$work/rwait")" '"status": "error", "message": "Invalid JSON header"'
expect "... and the next message is stored" "$(sed -n 2p "$work/rwait") $(stored frame w y | sha)" "$okreply $(sha <"$work/good.jpg")"

# A camera without a token is refused at the handshake, 401, even when it
# sends a frame at once.
told=0 missed=
for i in $(seq 1 10); do
  r=$(wsclient -T 5000 "$WSBASE/ws/frames" bin:"$work/m50/01" recvall)
  if [[ "$r" =~ ^'HANDSHAKE 401 '.*'{"detail": "Not authenticated"}' ]]; then told=$((told + 1)); else missed=$r; fi
done
expect "no token, 10 times: 401 at the handshake every time${missed:+ (one got: $missed)}" "$told" 10
# Straight to websocketd, ws-frames refuses by itself, and a camera that has
# already sent a frame must still get the refusal (websocketd resets a
# socket closed with bytes unread; 14 of 100 were lost).
told=0 missed=
for i in $(seq 1 30); do
  r=$(wsclient -T 5000 "ws://127.0.0.1:$WS_FRAMES_PORT/ws/frames" bin:"$work/m50/01" recvall)
  if [[ "$r" =~ '"error": "Not authenticated"'.*CLOSED ]]; then told=$((told + 1)); else missed=$r; fi
done
expect "no token straight to websocketd, 30 times: error, then close, every time${missed:+ (one got: $missed)}" "$told" 30
r=$(wsclient -T 5000 "$WSBASE/ws/frames?token=$tok" bin:"$work/tricky/1" recv:1 | head -1)
expect "token in the query string works" "$r" "$okreply"
