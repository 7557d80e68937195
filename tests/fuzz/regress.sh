#!/usr/bin/env bash
# regress.sh: replays every seed and saved crash through each fuzz target built with gcc, ASan and UBSan
# (no libFuzzer, so it runs wherever the project builds). One process per input, so each is judged alone.
#   bash tests/fuzz/regress.sh            FUZZ_TARGETS="auth path" for a subset
# Flags and package lists are word lists: unquoted on purpose.
# shellcheck disable=SC2086
set -u
cd "$(dirname "$0")/../.." || exit 2

ALL_TARGETS="multipart upframe auth path header"
TARGETS=${FUZZ_TARGETS:-$ALL_TARGETS}
OUT=build-fuzz/regress
PKGS="hiredis json-c libjwt openssl"
CC=${REGRESS_CC:-gcc}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-g -O1 $SAN -std=c11 -D_GNU_SOURCE -Icommon $(pkg-config --cflags $PKGS)"
LIBS=$(pkg-config --libs $PKGS)
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

for t in $TARGETS; do
    [[ " $ALL_TARGETS " == *" $t "* ]] || { echo "unknown fuzz target: $t (known: $ALL_TARGETS)" >&2; exit 2; }
done

# common/*.c once for all targets, rebuilt every run since others edit common/ concurrently.
build_common() {
    local src obj pids=() rc=0
    mkdir -p "$OUT/obj"
    rm -f "$OUT"/obj/*.o
    for src in common/*.c; do
        obj=$OUT/obj/$(basename "${src%.c}").o
        $CC $CFLAGS -c "$src" -o "$obj" &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || rc=1; done
    return $rc
}

build_target() {
    $CC $CFLAGS -Wall -Wextra tests/fuzz/driver.c "tests/fuzz/fuzz_$1.c" "$OUT"/obj/*.o $LIBS -o "$OUT/fuzz_$1"
}

build_common || { echo "build of common/ failed" >&2; exit 1; }
for t in $TARGETS; do
    build_target "$t" || { echo "build of fuzz_$t failed" >&2; exit 1; }
done

total_pass=0 total_fail=0
for t in $TARGETS; do
    pass=0 fail=0
    for f in tests/fuzz/corpus/"$t"/* tests/fuzz/crashes/"$t"-*; do
        [ -f "$f" ] || continue
        if "$OUT/fuzz_$t" "$f" >"$OUT/last.log" 2>&1; then
            pass=$((pass + 1))
        else
            fail=$((fail + 1))
            echo "  FAIL $t $f" >&2
            grep -m 3 -E '^(SUMMARY|==[0-9]+==ERROR)|runtime error' "$OUT/last.log" | sed 's/^/    /' >&2
        fi
    done
    echo "fuzz-regress $t: $pass passed, $fail failed"
    total_pass=$((total_pass + pass)) total_fail=$((total_fail + fail))
done
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
