# lib.sh: shared by the integration scripts. Starts real servers on free
# loopback ports (through deploy/stack.sh, as `make run` does), mints tokens,
# and reports "ok - ..." / "not ok - ..." lines that tests/run.sh counts.
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD:-$top/build}
tools=$build/tools
export PATH=$tools:$PATH
work=$(mktemp -d /tmp/streamweb-it.XXXXXX)
chmod 755 "$work"
stack_pid= redis_pid= redis_port=

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }
# check DESC CMD...: passes when CMD succeeds.
check() { local d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else not_ok "$d"; fi; }
# expect DESC GOT WANT: passes when the strings are equal; shows both if not.
expect() {
  if [ "$2" == "$3" ]; then ok "$1"; else not_ok "$1"; echo "#   got:  $2"; echo "#   want: $3"; fi
}
# expect_match DESC GOT REGEX
expect_match() {
  if [[ "$2" =~ $3 ]]; then ok "$1"; else not_ok "$1"; echo "#   got:  $2"; echo "#   want: /$3/"; fi
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
port_free() { ! (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Below Linux's ephemeral range (32768-60999), so no outgoing connection holds it.
free_port() {
  local p
  while :; do p=$(( 20000 + RANDOM % 12768 )); port_free "$p" && { echo "$p"; return; }; done
}
wait_until() { # wait_until SECONDS CMD...: CMD runs again each time (so no $(...) in its words)
  local deadline=$(( $(now_ms) + $1 * 1000 )); shift
  until "$@" >/dev/null 2>&1; do (( $(now_ms) < deadline )) || return 1; sleep 0.05; done
}
# has FILE REGEX N: FILE has at least N lines matching REGEX, e.g. what a client
# running in the background received so far (for wait_until).
has() { [ "$(grep -cE -- "$2" "$1" 2>/dev/null)" -ge "$3" ]; }

# A Redis of the test's own, so it can be stopped and started again.
redis_start() {
  redis_port=${redis_port:-$(free_port)}
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work" --save '' --appendonly no \
    --logfile "$work/redis.log" &
  redis_pid=$!
  if ! wait_until 10 redis-cli -p "$redis_port" ping; then
    echo "# redis did not start:"; sed 's/^/#   /' "$work/redis.log"; exit 1
  fi
  export REDIS_URL="redis://127.0.0.1:$redis_port/0"
}
redis_stop() { [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null; redis_pid=; }
rcli() { redis-cli -p "$redis_port" "$@"; }

# stack_start: the whole stack behind $STACK_SERVER, with the test's Redis.
stack_start() {
  [ -n "$redis_pid" ] || redis_start
  export JWT_SECRET_KEY=${JWT_SECRET_KEY:-test-secret-$$}
  export PORT=$(free_port)
  rm -rf "$work/stack"
  mkdir -p "$work/stack"
  STACK_DIR=$work/stack STACK_BIN=$build "$top/deploy/stack.sh" >"$work/stack.out" 2>&1 &
  stack_pid=$!
  if ! wait_until 20 test -f "$work/stack/ready"; then
    echo "# stack did not start:"; sed 's/^/#   /' "$work/stack.out"; exit 1
  fi
  # shellcheck disable=SC1091
  . "$work/stack/stack.env"
  BASE="http://127.0.0.1:$PORT"
  WSBASE="ws://127.0.0.1:$PORT"
}
stack_stop() {
  [ -n "$stack_pid" ] && kill -TERM "$stack_pid" 2>/dev/null && wait "$stack_pid" 2>/dev/null
  stack_pid=
}
# Sanitizer builds report to the programs' logs: any report fails the script.
sanitizer_check() {
  local hits
  # UBSan's "file.c:LINE:COL: runtime error:", not a Go panic's "runtime error:" (websocketd's own)
  hits=$(grep -lE 'ERROR: (Address|Leak)Sanitizer|\.[ch]:[0-9]+:[0-9]+: runtime error:' "$work"/stack/*.log 2>/dev/null)
  if [ -n "$hits" ]; then
    not_ok "sanitizer report in $(basename -a $hits | tr '\n' ' ')"
    grep -hE -A12 'ERROR: (Address|Leak)Sanitizer|\.[ch]:[0-9]+:[0-9]+: runtime error:' $hits | sed 's/^/#   /' | head -40
  fi
}
cleanup() {
  stack_stop
  sanitizer_check
  redis_stop
  if [ -n "${KEEP_WORK:-}" ]; then echo "# work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# This stack's processes only (another stack may run on the same machine):
# ws_procs NAME: the ws-NAME programs under our websocketd for NAME;
# fcgi_procs: our FastCGI responders' masters and workers.
ws_procs() { pgrep -P "$(cat "$work/stack/ws-$1.pid")" | sort | tr '\n' ' '; }
fcgi_procs() {
  local m
  for m in $(cat "$work/stack/labels.pid" "$work/stack/frames.pid"); do echo "$m"; pgrep -P "$m"; done | sort | tr '\n' ' '
}

# token [USERNAME] [ROLE] [SITES_JSON] [EXTRA_CLAIMS]: a valid access token.
token() {
  local user=${1:-alice} role=${2:-admin} sites=${3:-[]} extra=${4:-} now; now=$(date +%s)
  mkjwt -s "$JWT_SECRET_KEY" "{\"subject\":{\"username\":\"$user\",\"role\":\"$role\",\"sites\":$sites,\"jti\":\"j-$user\"},\"type\":\"access\",\"jti\":\"j-$user\",\"iat\":$now,\"exp\":$((now + 600))$extra}"
}

b64url() { printf '%s' "$1" | base64 -w0 | tr '+/' '-_'; }
stream_key() { echo "stream_frame:$(b64url "$1")|$(b64url "$2")"; }
# stored FIELD LABEL KEY [N] > file: a field of the N-th newest entry, raw.
stored() { xfield 127.0.0.1 "$redis_port" "$(stream_key "$2" "$3")" "$1" "${4:-1}"; }

# http METHOD PATH [curl args...]: prints "<status> <body>".
http() {
  local m=$1 p=$2; shift 2
  curl -s -o "$work/body" -w '%{http_code}' -X "$m" "$@" "$BASE$p" >"$work/status"
  echo "$(cat "$work/status") $(cat "$work/body")"
}
# upload LABEL KEY FILE [extra curl -F args]: POST /frames with the admin token.
upload() {
  local l=$1 k=$2 f=$3; shift 3
  http POST /frames -H "Authorization: Bearer ${UPLOAD_TOKEN:-$(token)}" \
    -F "label=$l" -F "key=$k" -F "file=@$f" "$@"
}

# ws PATH [wsclient args...]: a WebSocket client through the web server.
# The URL comes first, then actions; options go in WSOPTS (an array).
WSOPTS=()
ws() { local p=$1; shift; wsclient "${WSOPTS[@]}" "$WSBASE$p" "$@"; }
# xadd LABEL KEY FILE [field value]...: writes a frame as another producer would.
xadd() {
  local l=$1 k=$2 f=$3; shift 3
  rcli -x XADD "$(stream_key "$l" "$k")" '*' "$@" frame <"$f" >/dev/null
}
# field NAME JSON-LINE: a string field of a one-line JSON object.
json_field() { sed -nE "s/.*\"$1\": \"([^\"]*)\".*/\\1/p" <<<"$2"; }
