#!/usr/bin/env bash
# prove: issue 4's proof in one run, then tests/RESULTS.md written from what the runs printed.
#   1 fuzzing (tests/fuzz/run.sh)   2 the suite under ASan+UBSan, the unit tests under valgrind
#   3 faults   4 load with integrity (300 viewers: 10 producers of 20 KB frames at 1 fps, then
#   4 cameras × 10 fps × 100 KB; 60 s each)   5 hostile input
# FUZZ_SECONDS (60) per fuzz target; LOAD_VIEWERS (300), LOAD_PRODUCERS (10), LOAD_SECONDS (60),
# LOAD_FPS (1 per camera), LOAD_BYTES (20000 per frame).
# Ends with "N passed, N failed" over every check of every part; exits 1 if any failed.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
log=$(mktemp -d /tmp/streamweb-prove.XXXXXX)
. tests/runlib.sh
export FUZZ_SECONDS=${FUZZ_SECONDS:-60}
# The full load is for part 4 only: the suites of part 2 run their own small one.
viewers=${LOAD_VIEWERS:-300} producers=${LOAD_PRODUCERS:-10} seconds=${LOAD_SECONDS:-60}
fps=${LOAD_FPS:-1} bytes=${LOAD_BYTES:-20000}
unset LOAD_VIEWERS LOAD_PRODUCERS LOAD_SECONDS LOAD_FPS LOAD_BYTES LOAD_SYSCTL
started=$(date -u '+%Y-%m-%d %H:%M UTC')

# tally NAME FILE: adds the "N passed, N failed" line a make target or script ended with.
tally() {
  local line p f
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$2" | tail -1)
  p=$(sed -E 's/ passed.*//' <<<"$line"); f=$(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$line")
  [ -n "$line" ] || { p=0; f=1; echo "    $1: no result line (log: $2)"; }
  echo "$1: ${line:-did not finish}"
  add "$p" "$f" "$1"
}

echo "== 1 fuzzing, $FUZZ_SECONDS s per target"
bash tests/fuzz/run.sh >"$log/fuzz.out" 2>&1
grep -E '^fuzz |saved' "$log/fuzz.out"
tally fuzz "$log/fuzz.out"

echo "== 2 sanitizers and leaks"
make --no-print-directory test-asan >"$log/asan.out" 2>&1
tally test-asan "$log/asan.out"
make --no-print-directory test-valgrind >"$log/valgrind.out" 2>&1
tally test-valgrind "$log/valgrind.out"

echo "== 3 faults"
fault_scripts=(tests/integration/30-redis-down.sh tests/integration/50-faults.sh)
for s in "${fault_scripts[@]}"; do run_script_all "$s"; done

echo "== 4 load: $viewers viewers, $producers producers, $seconds s"
LOAD_SYSCTL=1 LOAD_VIEWERS=$viewers LOAD_PRODUCERS=$producers LOAD_SECONDS=$seconds LOAD_FPS=$fps LOAD_BYTES=$bytes \
  run_script tests/integration/70-load.sh
# The same viewers on the cameras of issue 9: 4 of them at 10 fps, 100 KB frames (more than this
# machine can deliver to all: viewers skip, and what they get must still be whole and in order).
echo "== 4 load: $viewers viewers, 4 cameras × 10 fps × 100 KB, $seconds s"
RUN_NAME=70-load-100k LOAD_SYSCTL=1 LOAD_VIEWERS=$viewers LOAD_PRODUCERS=4 LOAD_SECONDS=$seconds LOAD_FPS=10 \
  LOAD_BYTES=100000 run_script tests/integration/70-load.sh

echo "== 5 hostile input"
hostile_scripts=(tests/integration/60-hostile.sh tests/integration/43-ws-access.sh tests/integration/11-cors.sh)
for s in "${hostile_scripts[@]}"; do run_script_all "$s"; done

echo "writing tests/RESULTS.md"
. tests/prove-report.sh
# Into a temporary file first: truncating RESULTS.md would make the tree look dirty to the report.
write_report >"$log/RESULTS.md" && mv "$log/RESULTS.md" tests/RESULTS.md

[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]} (logs in $log)"
[ "$failed" -eq 0 ] && rm -rf "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
