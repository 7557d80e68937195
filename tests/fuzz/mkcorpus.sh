#!/usr/bin/env bash
# mkcorpus.sh: regenerates the seed corpora in tests/fuzz/corpus/ (needs build/tools/mkimg and mkjwt: `make all`).
# The seeds are committed; run this only to change them. Every seed is small: the whole corpus stays far under 200 KB.
set -eu
cd "$(dirname "$0")/../.."
MKIMG=build/tools/mkimg MKJWT=build/tools/mkjwt
if [ ! -x "$MKIMG" ] || [ ! -x "$MKJWT" ]; then
    echo "build/tools/mkimg and mkjwt are missing: run make all" >&2
    exit 1
fi
C=tests/fuzz/corpus
rm -rf "$C"
mkdir -p "$C"/{multipart,upframe,auth,path,header,resp}
SECRET=fuzz-secret   # as in fuzz_auth.c, so the valid tokens verify

# --- multipart (boundary XyZ-boundary, as fuzz_multipart.c uses) -------------------------------------
B=XyZ-boundary
field() { printf -- '--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' "$B" "$1" "$2"; }
filepart() { # name filename content-type file
    printf -- '--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\nContent-Type: %s\r\n\r\n' "$B" "$1" "$2" "$3"
    cat "$4"
    printf '\r\n'
}
close() { printf -- '--%s--\r\n' "$B"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$MKIMG" jpeg 400 1 >"$tmp/a.jpg"
"$MKIMG" png 400 2 >"$tmp/a.png"
"$MKIMG" jpeg 1500 3 >"$tmp/b.jpg"
"$MKIMG" png 3000 4 >"$tmp/b.png"
"$MKIMG" jpeg 3000 5 >"$tmp/c.jpg"
{ field label siteA; field key cam1; filepart file f.jpg image/jpeg "$tmp/a.jpg"; field width 640; field height 480; close; } >"$C/multipart/form-jpeg"
{ field label 'site A'; field key cam2; filepart file f.png image/png "$tmp/a.png"; field warnings_json '[{"w":1}]'; close; } >"$C/multipart/form-png"
# Data that almost holds the delimiter, CRs and LFs in odd places, a NUL.
{ field label x; printf -- '--%s\r\nContent-Disposition: form-data; name="file"\r\n\r\n\r\r\n--XyZ-boundar\r\n--XyZ\0\r\n-\r\n--%s\r\n' "$B" "$B"
  printf 'Content-Disposition: form-data; name=key\r\n\r\nk\r\n'; close; } >"$C/multipart/near-delimiter"
# Preamble, transport padding after the boundary, an epilogue.
{ printf 'preamble text\r\n'; printf -- '--%s \t\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n' "$B"; close; printf 'epilogue\r\n'; } >"$C/multipart/preamble-padding"
# Bare LF line ends; quoted name with escapes; filename*; header without value.
printf -- '--%s\nContent-Disposition: form-data; name="we\\"ird\\\\"; filename*=utf-8'"''"'x; filename="a b.bin"\nX-Empty:\n\nbody\n\r\n--%s--' "$B" "$B" >"$C/multipart/bare-lf-escapes"
{ field label siteA; printf -- '--%s\r\nContent-Disposition: form-data; name="file"\r\n\r\n' "$B"; head -c 200 "$tmp/b.jpg"; } >"$C/multipart/truncated"
{ field abort x; close; } >"$C/multipart/abort"
printf -- '--%s\r\nContent-Disposition: form-data; name="a"; name="b"\r\n\r\nx\r\n' "$B" >"$C/multipart/duplicate-name"
printf -- '--%s\r\nContent-Type: text/plain\r\n\r\nx\r\n' "$B" >"$C/multipart/no-disposition"
{ field label ''; filepart file '' application/octet-stream /dev/null; close; } >"$C/multipart/empty-parts"
{ for i in $(seq 1 18); do field "f$i" "$i"; done; close; } >"$C/multipart/many-parts"
{ printf -- '--%s\r\n' "$B"; printf 'Content-Disposition: form-data; name="%s"\r\n\r\nx\r\n' "$(head -c 1100 /dev/zero | tr '\0' n)"; close; } >"$C/multipart/long-header"
{ filepart file b.png image/png "$tmp/b.png"; close; } >"$C/multipart/form-png-large"
# For mp_boundary_from_content_type, which reads the input's prefix.
printf 'multipart/form-data; boundary="XyZ-boundary"' >"$C/multipart/ctype-quoted"
printf 'Multipart/Form-Data; charset=utf-8; boundary=abc\\def ; x="y;z"' >"$C/multipart/ctype-params"
printf 'multipart/form-data; boundary=a; boundary=b' >"$C/multipart/ctype-twice"

# --- upframe: byte 0 mode, byte 1 chunk seed, then "<JSON header>--IMG--<frame>" messages ------------
msg() { printf '%s--IMG--' "$1"; cat "$2"; }
size_of() { wc -c <"$1" | tr -d ' '; }
{ printf '\x06\x01'; msg "{\"label\":\"siteA\",\"key\":\"cam1\",\"size\":$(size_of "$tmp/a.jpg")}" "$tmp/a.jpg"; } >"$C/upframe/sized-jpeg"
{ printf '\x01\x07'; msg '{"label":"siteA","key":"cam1","width":2,"height":"3"}' "$tmp/a.png"; } >"$C/upframe/png-bytewise"
{ printf '\x0b\x33'
  msg "{\"label\":\"a\",\"key\":\"b\",\"size\":$(size_of "$tmp/a.jpg")}" "$tmp/a.jpg"
  msg '{"label":"a","key":"b"}' "$tmp/b.jpg"
  printf '\n'; msg '{"label":"a","key":"b","size":5}' <(printf 'hello'); } >"$C/upframe/three-held"
{ printf '\x16\x02'; msg '{"label":"a","key":"b","size":2100}' <(head -c 2100 "$tmp/c.jpg"); msg '{"size":3}' <(printf 'abc'); } >"$C/upframe/tiny-over-size"
{ printf '\x14\x09'; msg '{"label":"a","key":"b"}' "$tmp/c.jpg"; msg '{"size":1}' <(printf 'z'); } >"$C/upframe/tiny-walkdrop"
{ printf '\x05\x04'; msg '{"label":"x --IMG-- \"}{\\","key":{"n":[{"d":{}}]},"size":4}' <(printf 'abcd'); } >"$C/upframe/delim-in-header"
{ printf '\x23\x05garbage here {"a":1}xyz{"b":[1,2}--IMG--zz {"size":2}--IMG--ok'; } >"$C/upframe/errors"
{ printf '\x12\x06{"pad":"%s"}--IMG--x' "$(head -c 400 /dev/zero | tr '\0' p)"; msg '{"size":1}' <(printf 'y'); } >"$C/upframe/huge-header"
{ printf '\x23\x08'; msg '{"size":-1}' <(printf 'a'); msg '{"size":"3"}' <(printf 'abc'); msg '{"size":1.5}' <(printf 'a'); msg '[1]' <(printf 'a'); } >"$C/upframe/bad-sizes"
{ printf '\x02\x0a'; msg '{"label":"a"}' <(head -c 300 "$tmp/b.png"); } >"$C/upframe/png-truncated"
# issue 10 §2, with the input ended after every chunk: a header and no delimiter, a header
# that never closes, a size of 2^53, each followed by a good message.
{ printf '\x25\x03{"label":"a","key":"cam"}'; head -c 120 /dev/zero | tr '\0' '\201'; msg '{"size":2}' <(printf 'ok'); } >"$C/upframe/ended-nodelim"
{ printf '\x24\x03{'; for i in $(seq 1 60); do printf '"a":1,'; done; } >"$C/upframe/ended-open-header"
{ printf '\x25\x05{"size":9007199254740992}--IMG--abc'; msg '{"size":2}' <(printf 'ok'); } >"$C/upframe/ended-size-2p53"
cp "$tmp/a.jpg" "$C/upframe/raw-jpeg"
cp "$tmp/a.png" "$C/upframe/raw-png"

# --- auth: tokens, claims (signed by the target), JOSE headers and user caches -----------------------
good='{"subject":{"username":"alice","role":"admin","jti":"j1","sites":["a","b"]},"type":"access","exp":1900000000,"iat":1600000000,"jti":"j1"}'
"$MKJWT" -s "$SECRET" "$good" | tr -d '\n' >"$C/auth/token-valid"
"$MKJWT" -s "$SECRET" '{"username":"bob","role":"user","exp":1600000000}' | tr -d '\n' >"$C/auth/token-expired"
"$MKJWT" -a none '{"username":"bob","exp":1900000000}' | tr -d '\n' >"$C/auth/token-alg-none"
"$MKJWT" -s "$SECRET" -a HS512 "$good" | tr -d '\n' >"$C/auth/token-hs512"
"$MKJWT" -s "$SECRET" '{"subject":{"username":"bob"},"type":"refresh","exp":1900000000}' | tr -d '\n' >"$C/auth/token-refresh"
"$MKJWT" -s wrong-secret "$good" | tr -d '\n' >"$C/auth/token-bad-signature"
printf 'a.b.c' >"$C/auth/token-garbage"
printf '%s' "$good" >"$C/auth/claims-admin"
printf '{"username":"carol","role":"viewer","sites":["x",1,null],"exp":1900000000.5,"nbf":1600000000}' >"$C/auth/claims-top-level"
printf '{"username":"carol","exp":1900000000,"nbf":1800000000}' >"$C/auth/claims-future-nbf"
printf '{"username":null,"subject":null,"exp":null,"nbf":null,"type":null}' >"$C/auth/claims-nulls"
printf '{"subject":{"username":""},"exp":1900000000,"type":"access"}' >"$C/auth/claims-empty-user"
printf '{"alg":"HS256","typ":"JWT","kid":"k1"}' >"$C/auth/header-kid"
printf '{"alg":"none"}' >"$C/auth/header-none"
printf '{"jti_list":["jti-1","j1",3,null]}' >"$C/auth/cache-jti-list"

# --- path: URL path segments, queries, stream keys, base64url ----------------------------------------
printf 'siteA/cam1' >"$C/path/plain"
printf 'site%%20A/cam%%2F1' >"$C/path/encoded-slash"
printf '..%%2F../x' >"$C/path/dot-dot"
printf '%%E2%%9C%%93/%%F0%%9F%%98%%80?token=abc%%2Bdef+x' >"$C/path/unicode-token"
printf 'a/b?x=1&token=eyJhbGciOiJIUzI1NiJ9.e30.c2ln&token=2' >"$C/path/query-token"
printf 'stream_frame:c2l0ZSBB|Y2FtMQ==' >"$C/path/stream-key"
printf 'stream_frame:w6nDqQ==|Y2FtMQ' >"$C/path/stream-key-unpadded"
printf 'c2l0ZSBB_-8' >"$C/path/base64url"
printf '%%C2%%80/%%00x' >"$C/path/control-nul"
printf 'bad%%zz/x%%2' >"$C/path/bad-escape"
printf '\xc3\xbcn\xc3\xaf/\xc3\xa7\xc3\xb8d\xc3\xa9' >"$C/path/raw-utf8"
printf './..' >"$C/path/dots"
printf '%s/k' "$(head -c 300 /dev/zero | tr '\0' a)" >"$C/path/long-label"
printf 'a/b/c?token=' >"$C/path/extra-segment"

# --- header: /ws/frames JSON headers ------------------------------------------------------------------
printf '{"label":"siteA","key":"cam1","warnings_json":"[]","cone_polygons_json":"","pole_polygons_json":"","detection_items_json":"[]","width":1280,"height":"720","size":1234}' >"$C/header/valid"
printf '{"label":"s","key":"k","warnings_json":[{"a":{"b":[1,2,{"c":null}]}}],"detection_items_json":{"x":"y"}}' >"$C/header/nested-values"
printf '{"label":"s","key":"k","width":"  12 ","height":"-5"}' >"$C/header/int-text"
printf '{"label":"a/b","key":"..","width":"1e3","height":99999999999}' >"$C/header/invalid-fields"
printf '{"label":null,"key":null,"width":null,"height":true}' >"$C/header/nulls"
printf '{"label":"\\u0000x","key":"\\ud800","warnings_json":"\\u00e9\\t\xff\xfe"}' >"$C/header/escapes-bad-utf8"
printf '[{"label":"a"}]' >"$C/header/array"
printf '"just a string \\" with quote"' >"$C/header/string"
printf '{"label":"%s","key":"k"}' "$(head -c 300 /dev/zero | tr '\0' L)" >"$C/header/long-label"
printf '{"a":%s1%s}' "$(head -c 60 /dev/zero | tr '\0' '[')" "$(head -c 60 /dev/zero | tr '\0' ']')" >"$C/header/deep"
printf '{"label":"s","key":"k"} trailing' >"$C/header/trailing"

# --- resp: Redis replies as the store reads them in place ---------------------------------------------
printf '*1\r\n*2\r\n$9\r\nstream:ab\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*4\r\n$5\r\nframe\r\n$6\r\na\r\n\0bc\r\n$5\r\nwidth\r\n$0\r\n\r\n*2\r\n$3\r\n2-0\r\n*-1\r\n' >"$C/resp/xread"
printf '*1\r\n*2\r\n$3\r\n5-1\r\n*2\r\n$5\r\nframe\r\n$5\r\nabcde\r\n' >"$C/resp/xrevrange"
printf '*-1\r\n' >"$C/resp/nil"
printf -- '-ERR WRONGTYPE Operation against a key holding the wrong kind of value\r\n' >"$C/resp/error"
printf '+OK\r\n:-12\r\n' >"$C/resp/scalars"
printf '*2\r\n$100000\r\nabc' >"$C/resp/truncated-bulk"
printf '%s:1\r\n' "$(for _ in $(seq 20); do printf '*1\r\n'; done)" >"$C/resp/deep"
printf ':-5\r\n' >"$C/resp/negative-int"

du -sb "$C" | awk '{print "corpus: " $1 " bytes"}'
