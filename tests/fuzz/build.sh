# build.sh: sourced by run.sh (clang + libFuzzer) and regress.sh (gcc + a
# file-replay driver): the target list and the build, given CC, CFLAGS, OUT
# and DRIVER (extra sources linked into each target, may be empty).
# Flags and package lists are word lists: unquoted on purpose.
# shellcheck disable=SC2086,SC2034
ALL_TARGETS="multipart upframe auth path header resp"
TARGETS=${FUZZ_TARGETS:-$ALL_TARGETS}
PKGS="hiredis json-c libjwt openssl"
LIBS=$(pkg-config --libs $PKGS)
# print_stacktrace: UBSan reports otherwise name only the faulting line.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

check_targets() {
    local t
    for t in $TARGETS; do
        [[ " $ALL_TARGETS " == *" $t "* ]] || { echo "unknown fuzz target: $t (known: $ALL_TARGETS)" >&2; exit 2; }
    done
}

# common/*.c once for all targets, in parallel; always rebuilt, as it is cheap.
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

build_all() {
    local t
    build_common || { echo "build of common/ failed" >&2; exit 1; }
    for t in $TARGETS; do
        $CC $CFLAGS -Wall -Wextra $DRIVER "tests/fuzz/fuzz_$t.c" "$OUT"/obj/*.o $LIBS -o "$OUT/fuzz_$t" ||
            { echo "build of fuzz_$t failed" >&2; exit 1; }
    done
}
