#!/usr/bin/env bash
# run: every unit test program, then every integration script (HTTP ones once
# behind nginx and once behind lighttpd); ends with "N passed, N failed".
# TESTS=pattern runs only the matching integration scripts.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${BUILD:-build}
log=$(mktemp -d /tmp/streamweb-tests.XXXXXX)
. tests/runlib.sh

for t in "$build"/tests/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  # shellcheck disable=SC2086
  out=$(${UNIT_WRAPPER:-} "$t" 2>"$log/$name.err"); rc=$?
  line=$(grep -E '^unit .*: [0-9]+ passed, [0-9]+ failed$' <<<"$out" | tail -1)
  p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line"); f=$(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$line")
  [ -n "$line" ] || { p=0; f=1; }
  [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
  echo "${line:-unit $name: crashed (exit $rc)}"
  [ "$f" -gt 0 ] && sed 's/^/    /' "$log/$name.err" | head -20
  add "$p" "$f" "$name"
done

# Every fuzz seed and past crash, replayed under ASan+UBSan (gcc, no clang needed).
if [ -z "${UNIT_ONLY:-}" ]; then
  out=$(bash tests/fuzz/regress.sh 2>"$log/fuzz-regress.err"); rc=$?
  line=$(tail -1 <<<"$out")
  p=$(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1/p' <<<"$line"); f=$(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\2/p' <<<"$line")
  [ -n "$p" ] || { p=0; f=1; }
  [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
  echo "fuzz-regress: $p passed, $f failed"
  [ "$f" -gt 0 ] && { grep -v ' 0 failed' <<<"$out"; tail -20 "$log/fuzz-regress.err"; } | sed 's/^/    /'
  add "$p" "$f" fuzz-regress
fi

# The viewer page's pure modules (deploy/www/js: framing, overlay, liveinfo)
# under node's own test runner; its TAP summary ends with "# pass N", "# fail N".
if [ -z "${UNIT_ONLY:-}" ]; then
  out=$(node --test --test-reporter=tap tests/browser/unit/*.test.mjs 2>"$log/page-js.err"); rc=$?
  p=$(sed -nE 's/^# pass ([0-9]+)$/\1/p' <<<"$out"); f=$(sed -nE 's/^# fail ([0-9]+)$/\1/p' <<<"$out")
  [ -n "$p" ] && [ -n "$f" ] || { p=0; f=1; }
  [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
  echo "unit page-js: $p passed, $f failed"
  [ "$f" -gt 0 ] && { grep -E -A12 '^not ok' <<<"$out"; tail -5 "$log/page-js.err"; } | sed 's/^/    /' | head -40
  add "$p" "$f" page-js
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
[ -n "${UNIT_ONLY:-}" ] || for script in tests/integration/[0-9]*.sh; do
  [ -f "$script" ] || continue
  [ -n "${TESTS:-}" ] && [[ "$script" != *${TESTS}* ]] && continue
  run_script_all "$script"
done

[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]} (logs in $log)"
[ "$failed" -eq 0 ] && rm -rf "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
