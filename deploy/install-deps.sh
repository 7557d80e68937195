#!/usr/bin/env bash
# install-deps: installs the Debian packages the suite needs to build, run and
# test, and only the missing ones. Uses sudo when not root; prints the exact
# command when neither works.
set -euo pipefail

# "check command ; package" pairs: a package is wanted when its check fails.
needs=(
  "command -v cc ; gcc"
  "command -v make ; make"
  "command -v pkg-config ; pkg-config"
  "pkg-config --exists hiredis ; libhiredis-dev"
  "pkg-config --exists json-c ; libjson-c-dev"
  "pkg-config --exists libjwt ; libjwt-dev"
  "pkg-config --exists openssl ; libssl-dev"
  "pkg-config --exists fcgi ; libfcgi-dev"
  "command -v spawn-fcgi ; spawn-fcgi"
  "command -v websocketd ; websocketd"
  # websocketd is built from Debian's source (deploy/websocketd/build.sh); the stock
  # binary above stays for WEBSOCKETD=/usr/bin/websocketd and the stdio-contract test.
  "command -v go ; golang-go"
  "test -d /usr/share/gocode/src/github.com/gorilla/websocket ; golang-github-gorilla-websocket-dev"
  "command -v dpkg-source ; dpkg-dev"
  "command -v patch ; patch"
  "command -v xz ; xz-utils"
  "test -s /usr/share/keyrings/debian-archive-keyring.gpg ; debian-archive-keyring"
  "command -v nginx || test -x /usr/sbin/nginx ; nginx"
  "command -v lighttpd || test -x /usr/sbin/lighttpd ; lighttpd"
  "command -v redis-server ; redis-server"
  "command -v redis-cli ; redis-tools"
  "command -v curl ; curl"
  "command -v jq ; jq"
  "command -v sha256sum ; coreutils"
  "command -v valgrind ; valgrind"
  # the viewer page's tests (tests/browser): a real browser, node for playwright-core,
  # and a font for the CJK label they show (else the screenshot has empty boxes)
  "command -v chromium ; chromium"
  "command -v node ; nodejs"
  "command -v npm ; npm"
  "fc-list :lang=zh | grep -q . ; fonts-wqy-microhei"
)

# `install-deps.sh fuzz`: also clang with its libFuzzer runtime (make fuzz).
if [ "${1:-}" = fuzz ]; then
  needs+=("command -v clang ; clang")
  needs+=("echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' | clang -fsanitize=fuzzer -x c - -o /dev/null ; libclang-rt-14-dev")
fi

missing=()
for pair in "${needs[@]}"; do
  check=${pair% ; *}
  pkg=${pair##* ; }
  bash -c "$check" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${missing[*]}"
echo "install-deps: installing ${missing[*]}" >&2
if [ "$(id -u)" = 0 ]; then
  bash -c "$cmd" >&2
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo bash -c "$cmd" >&2
else
  echo "install-deps: missing packages; run as root:" >&2
  echo "  $cmd" >&2
  exit 1
fi
