#!/usr/bin/env bash
# run.sh: builds the libFuzzer targets into build-fuzz/ and fuzzes each for FUZZ_SECONDS on a copy of its seeds.
#   bash tests/fuzz/run.sh                      every target, 60 s each
#   FUZZ_SECONDS=20 FUZZ_TARGETS="auth path" bash tests/fuzz/run.sh
# A crash, leak or timeout fails the target; its input is copied to tests/fuzz/crashes/<target>-<kind>-<hash>
# (replayed by tests/fuzz/regress.sh) and the script exits 1.
# Flags and package lists are word lists: unquoted on purpose.
# shellcheck disable=SC2086
set -u
cd "$(dirname "$0")/../.." || exit 2

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
OUT=build-fuzz
CC=clang
DRIVER=
. tests/fuzz/build.sh
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=c11 -D_GNU_SOURCE -Icommon $(pkg-config --cflags $PKGS)"
check_targets
command -v "$CC" >/dev/null || { echo "run.sh needs clang with libFuzzer (clang, libclang-rt-14-dev)" >&2; exit 2; }

echo "building fuzz targets into $OUT/"
build_all

# Keeps crash/leak/timeout/oom inputs; slow-unit files are only informative.
save_artefacts() {
    local t=$1 f n=0
    for f in "$OUT/artifacts/$t"/{crash,leak,timeout,oom}-*; do
        [ -e "$f" ] || continue
        mkdir -p tests/fuzz/crashes
        cp "$f" "tests/fuzz/crashes/$t-$(basename "$f")"
        echo "  saved tests/fuzz/crashes/$t-$(basename "$f")" >&2
        n=$((n + 1))
    done
    echo "$n"
}

# Fuzzes one target on a fresh copy of its seeds, so tests/fuzz/corpus/ never changes.
fuzz_one() {
    local t=$1 corpus=$OUT/corpus/$1 log=$OUT/fuzz_$1.log rc execs crashes
    rm -rf "$corpus" "$OUT/artifacts/$t"
    mkdir -p "$corpus" "$OUT/artifacts/$t"
    cp tests/fuzz/corpus/"$t"/* "$corpus"/
    "$OUT/fuzz_$t" -max_total_time="$FUZZ_SECONDS" -max_len=65536 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$OUT/artifacts/$t/" "$corpus" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    crashes=$(save_artefacts "$t")
    echo "fuzz $t: ${execs:-?} execs, $crashes crashes"
    if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
        grep -m 3 -E '^(SUMMARY|==[0-9]+==ERROR)|runtime error|deadly signal|timeout' "$log" | sed 's/^/  /' >&2
        echo "  full log: $log" >&2
        return 1
    fi
}

passed=0 failed=0
for t in $TARGETS; do
    if fuzz_one "$t"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
