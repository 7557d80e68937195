#!/usr/bin/env bash
# build: websocketd from Debian's own source package (bookworm's 0.4.1-1) plus the
# patch series in deploy/websocketd/patches/, built offline as dh-golang would,
# with Debian's golang and golang-github-gorilla-websocket-dev.
#
#   deploy/websocketd/build.sh [--stock] [OUTPUT]
#     OUTPUT   the binary to write (build/websocketd; build/websocketd-stock with --stock)
#     --stock  build the unpatched source (the benchmark compares the two)
#   WEBSOCKETD_PATCHES  another patch directory (e.g. a prefix of the series, to measure
#            one patch against the one before it)
#
# The source is fetched once per clean tree into OUTPUT's directory (websocketd.work/src);
# the fetch uses a private apt state, so the system's sources, lists and cache are
# untouched. Every build extracts the source afresh and applies the patches in order.
set -euo pipefail

PKG=websocketd VERSION=0.4.1-1
MIRROR=${WEBSOCKETD_MIRROR:-http://deb.debian.org/debian}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
GOPKG=github.com/joewalnes/websocketd
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "websocketd build: $*" >&2; exit 1; }
say() { echo "websocketd build: $*" >&2; }

stock=0
if [ "${1:-}" = --stock ]; then stock=1; shift; fi
top=$(cd "$here/../.." && pwd)
suffix=
[ "$stock" = 0 ] || suffix=-stock
out=${1:-$top/build/websocketd$suffix}
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
cache=$(dirname "$out")/websocketd.work
dl=$cache/src

for tool in apt-get dpkg-source patch go; do
  command -v "$tool" >/dev/null || die "$tool is missing (deploy/install-deps.sh installs it)"
done
[ -d /usr/share/gocode/src/github.com/gorilla/websocket ] ||
  die "golang-github-gorilla-websocket-dev is missing (deploy/install-deps.sh installs it)"

# fetch: the .dsc and its tarballs, through apt with a private sources list, lists and
# cache (with only its own SourceList, `apt-get update` would prune the system's lists).
fetch() {
  local apt=$cache/apt opts
  rm -rf "$apt" "$dl.tmp"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$dl.tmp"
  echo "deb-src [signed-by=$KEYRING] $MIRROR bookworm main" >"$apt/sources.list"
  opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o APT::Sandbox::User=root)
  say "fetching $PKG $VERSION source from $MIRROR (private apt state in $apt)"
  apt-get -qq "${opts[@]}" update >&2 || die "apt-get update of $MIRROR bookworm failed"
  (cd "$dl.tmp" && apt-get -qq "${opts[@]}" source --download-only "$PKG=$VERSION") >&2 ||
    die "apt-get source $PKG=$VERSION failed"
  grep -qx "Version: $VERSION" "$dl.tmp/${PKG}_$VERSION.dsc" ||
    die "fetched source is not $PKG $VERSION"
  rm -rf "$apt"
  mv "$dl.tmp" "$dl"
}
mkdir -p "$cache"
exec 9>"$cache/fetch.lock"      # make -j may build both binaries at once: one fetch
flock 9
[ -f "$dl/${PKG}_$VERSION.dsc" ] || fetch
flock -u 9

# The GOPATH dh-golang would set up: our source at its import path, Debian's Go
# libraries (gorilla/websocket) from /usr/share/gocode.
kind=patched
[ "$stock" = 0 ] || kind=stock
work=$cache/$kind
rm -rf "$work"
mkdir -p "$work/gopath/src/$(dirname "$GOPKG")"
srcdir=$work/gopath/src/$GOPKG
dpkg-source -q -x "$dl/${PKG}_$VERSION.dsc" "$srcdir" >&2 2>"$work/dpkg-source.log" ||
  { cat "$work/dpkg-source.log" >&2; die "dpkg-source -x failed"; }
grep -q "^$PKG ($VERSION)" "$srcdir/debian/changelog" || die "extracted source is not $PKG $VERSION"

label=$VERSION
if [ "$stock" = 0 ]; then
  n=0
  for p in "${WEBSOCKETD_PATCHES:-$here/patches}"/[0-9][0-9]-*.patch; do
    [ -f "$p" ] || continue
    name=$(basename "$p")
    patch -d "$srcdir" -p1 --dry-run -s -f <"$p" >"$work/patch.log" 2>&1 ||
      { sed 's/^/  /' "$work/patch.log" >&2; die "patch $name does not apply to $PKG $VERSION"; }
    patch -d "$srcdir" -p1 -s -f <"$p" >&2
    n=$((n + 1))
  done
  label=$VERSION+streamweb$n
fi

say "building $kind $PKG $label with $(go version | cut -d' ' -f3)"
t0=$(date +%s%N)
(cd "$srcdir" &&
  GOPATH=$work/gopath:/usr/share/gocode GO111MODULE=off GOPROXY=off GOFLAGS= \
  GOCACHE=$cache/gocache \
  go build -trimpath -ldflags "-s -w -X main.version=$label" -o "$out.tmp" "$GOPKG") ||
  die "go build failed"
mv "$out.tmp" "$out"
say "wrote $out ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
