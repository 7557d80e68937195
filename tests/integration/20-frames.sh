#!/usr/bin/env bash
# servers: nginx lighttpd
# POST /frames (API §1 layout, §3): byte-exact storage, every field
# rule and status code, limits detected while reading, exact MAXLEN trim.
. "$(dirname "$0")/lib.sh"
MAX_FRAME_BYTES=$((3 << 20)) stack_start
admin=$(token)
sha() { sha256sum | cut -d' ' -f1; }

head -c 2000000 /dev/urandom >"$work/rand.bin"
printf '\x00\x00\r\n--IMG--\r\n--' >>"$work/rand.bin"
expect "2 MB of random binary is stored" \
  "$(upload 'site A' cam1 "$work/rand.bin" -F width=1280 -F height=720 -F 'warnings_json=["no helmet"]' \
     -F 'cone_polygons_json=[[1,2]]' -F 'pole_polygons_json=[]' -F 'detection_items_json={"a":1}')" \
  '200 {"status": "ok", "message": "Frame stored successfully."}'
expect "the stored frame is byte-identical" "$(stored frame 'site A' cam1 | sha)" "$(sha <"$work/rand.bin")"
expect "key layout: stream_frame:<b64 label>|<b64 key>" \
  "$(rcli --scan --pattern 'stream_frame:*')" 'stream_frame:c2l0ZSBB|Y2FtMQ=='
for f in "warnings:[\"no helmet\"]" "cone_polygons:[[1,2]]" "pole_polygons:[]" \
         "detection_items:{\"a\":1}" "width:1280" "height:720"; do
  expect "field ${f%%:*} stored" "$(stored "${f%%:*}" 'site A' cam1)" "${f#*:}"
done

# A JPEG-shaped 2 MB frame, as the cameras send.
{ printf '\xff\xd8\xff\xe0'; head -c 2097152 /dev/urandom; printf '\xff\xd9'; } >"$work/cam.jpg"
upload 'site A' cam2 "$work/cam.jpg" >/dev/null
expect "a 2 MB JPEG reads back byte-identical" "$(stored frame 'site A' cam2 | sha)" "$(sha <"$work/cam.jpg")"

printf 'img' >"$work/small.bin"
upload 'site A' cam3 "$work/small.bin" >/dev/null
expect "optional fields default to \"\" and 0" \
  "$(for f in warnings cone_polygons pole_polygons detection_items width height; do printf '%s=%s;' $f "$(stored $f 'site A' cam3)"; done)" \
  'warnings=;cone_polygons=;pole_polygons=;detection_items=;width=0;height=0;'

upload '工地 東' '攝影機 1' "$work/small.bin" >/dev/null
expect "unicode label and key encoded as UTF-8 base64url" \
  "$(rcli EXISTS "stream_frame:5bel5ZywIOadsQ==|5pSd5b2x5qmfIDE=")" 1

# Exact trim: STREAM_MAXLEN (10) entries, never more.
for i in $(seq 1 13); do upload trim cam "$work/small.bin" >/dev/null; done
expect "MAXLEN trims exactly to 10" "$(rcli XLEN "$(stream_key trim cam)")" 10

loc() { sed -E 's/.*"loc": \["body", "([^"]+)"\].*/\1/' <<<"$1"; }
r=$(http POST /frames -H "Authorization: Bearer $admin" -F key=k -F "file=@$work/small.bin")
expect "missing label: 422" "${r%% *}" 422
expect_match "missing label: FastAPI detail names label" "$r" '"type": "missing", "loc": \["body", "label"\], "msg": "Field required"'
r=$(http POST /frames -H "Authorization: Bearer $admin" -F label=l -F "file=@$work/small.bin")
expect_match "missing key: 422 naming key" "$r" '^422 .*"loc": \["body", "key"\]'
r=$(http POST /frames -H "Authorization: Bearer $admin" -F label=l -F key=k)
expect_match "missing file: 422 naming file" "$r" '^422 .*"loc": \["body", "file"\]'
expect_match "non-integer width: 422 naming width" \
  "$(upload l k "$work/small.bin" -F width=wide)" '^422 .*"type": "int_parsing", "loc": \["body", "width"\]'
expect_match "non-integer height: 422 naming height" \
  "$(upload l k "$work/small.bin" -F height=1.5)" '^422 .*"loc": \["body", "height"\]'
: >"$work/empty.bin"
expect_match "empty file: 422 (improved)" "$(upload l k "$work/empty.bin")" '^422 .*"loc": \["body", "file"\]'
long=$(printf 'x%.0s' $(seq 1 257))
for bad in "a/b" "." ".." "tab$(printf '\t')here" "$long" "$(printf 'bad\xff')"; do
  expect_match "label $(printf %q "${bad:0:12}") refused with 422" "$(upload "$bad" k "$work/small.bin")" '^422 .*"loc": \["body", "label"\]'
  expect_match "key $(printf %q "${bad:0:12}") refused with 422" "$(upload l "$bad" "$work/small.bin")" '^422 .*"loc": \["body", "key"\]'
done
expect "label of 256 bytes is fine" "$(upload "${long:1}" k "$work/small.bin" | cut -c1-3)" 200

head -c $((3 << 20)) /dev/zero >"$work/max.bin"
expect "file of exactly MAX_FRAME_BYTES is accepted" "$(upload big ok "$work/max.bin" | cut -c1-3)" 200
head -c $(((3 << 20) + 1)) /dev/zero >"$work/over.bin"
expect_match "file over MAX_FRAME_BYTES: 413" "$(upload big over "$work/over.bin")" '^413 \{"detail": "file larger than'
expect "nothing stored for the refused file" "$(rcli EXISTS "$(stream_key big over)")" 0
head -c $(((1 << 20) + 1)) /dev/zero | tr '\0' 'w' >"$work/field.txt"
expect_match "form field over 1 MiB: 413" "$(upload big field "$work/small.bin" -F "warnings_json=<$work/field.txt")" '^413 '
head -c $((12 << 20)) /dev/zero >"$work/huge.bin"
expect_match "body over the web server's limit: 413" "$(upload big huge "$work/huge.bin")" '^413'
expect_match "not multipart: 415" \
  "$(http POST /frames -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' --data '{"label":"x"}')" '^415 \{"detail"'
printf -- '--XyZ\r\nContent-Disposition: form-data; name="label"\r\n\r\nsite' >"$work/cut.txt"
expect_match "multipart that never closes: 400" \
  "$(http POST /frames -H "Authorization: Bearer $admin" -H 'Content-Type: multipart/form-data; boundary=XyZ' --data-binary "@$work/cut.txt")" '^400 \{"detail": "There was an error parsing the body'
expect_match "no token: 401" "$(http POST /frames -F label=l -F key=nope -F "file=@$work/small.bin")" '^401 '
expect "nothing stored without a token" "$(rcli EXISTS "$(stream_key l nope)")" 0
expect_match "GET /frames: 405" "$(http GET /frames -H "Authorization: Bearer $admin")" '^405 '

# Neighbours: parallel uploads of different frames, each stored intact.
for i in $(seq 1 8); do head -c $((100000 + i * 7919)) /dev/urandom >"$work/p$i.bin"; done
pids=()
for i in $(seq 1 8); do upload par "cam$i" "$work/p$i.bin" >"$work/p$i.out" & pids+=($!); done
wait "${pids[@]}"
bad=0
for i in $(seq 1 8); do
  [ "$(stored frame par "cam$i" | sha)" = "$(sha <"$work/p$i.bin")" ] || bad=$((bad + 1))
done
expect "8 parallel uploads all stored intact" "$bad" 0
