#!/usr/bin/env bash
# regress.sh: replays every seed and saved crash through each fuzz target built with gcc, ASan and UBSan
# (no libFuzzer, so it runs wherever the project builds). One process per input, so each is judged alone.
#   bash tests/fuzz/regress.sh            FUZZ_TARGETS="auth path" for a subset
# Flags and package lists are word lists: unquoted on purpose.
# shellcheck disable=SC2086
set -u
cd "$(dirname "$0")/../.." || exit 2

OUT=build-fuzz/regress
CC=${REGRESS_CC:-gcc}
DRIVER=tests/fuzz/driver.c
. tests/fuzz/build.sh
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-g -O1 $SAN -std=c11 -D_GNU_SOURCE -Icommon $(pkg-config --cflags $PKGS)"
check_targets
build_all

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
