# prove-report.sh: sourced by tests/prove.sh after its runs; write_report prints tests/RESULTS.md
# from the logs in $log, so every figure in it is one a run printed.

commit_id() {
  local c; c=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  git diff --quiet HEAD 2>/dev/null || c="$c-dirty"
  echo "$c"
}

machine() {
  echo "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores, Linux $(uname -r), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
}

# checks FILE: the descriptions of the checks a script ran, as a Markdown list.
checks() { sed -nE 's/^(not )?ok - (.*)/- \1ok: \2/p' "$1" | sed 's/^- ok: /- /'; }

# per_script SCRIPT...: one table row per script and server, from the outputs in $log.
per_script() {
  local s name out
  echo "| script | passed | failed |"
  echo "|---|---|---|"
  for s in "$@"; do
    for out in "$log/$(basename "$s" .sh)".out "$log/$(basename "$s" .sh)"@*.out; do
      [ -f "$out" ] || continue
      name=$(basename "$out" .out)
      echo "| $name | $(grep -c '^ok ' "$out") | $(grep -c '^not ok ' "$out") |"
    done
  done
}

fuzz_table() {
  echo "| target | executions | crashes |"
  echo "|---|---|---|"
  sed -nE 's/^fuzz ([a-z_]+): ([0-9?]+) execs, ([0-9]+) crashes$/| \1 | \2 | \3 |/p' "$log/fuzz.out"
}

# figure FILE KEY: a value from a load run's "# figure KEY=VALUE" lines.
figure() { grep -h '^# figure ' "$1" 2>/dev/null | grep -oE "(^| )$2=[^ ]*" | tail -1 | cut -d= -f2; }

# load_table FILE: one load run's figures and checks.
load_table() {
  echo "| figure | value |"
  echo "|---|---|"
  local k
  for k in load_viewers load_producers camera_fps load_seconds frame_bytes uploads_acked uploads_verified upload_p99_ms \
           viewer_frames_checked viewer_skipped viewer_p50_ms viewer_p99_ms maxforks_refused \
           websocketd_panics_at_disconnect; do
    echo "| $k | $(figure "$1" "$k") |"
  done
  echo
  echo "Checks:"
  echo
  checks "$1"
}

load_section() {
  echo "Through nginx, FastCGI workers, websocketd and ws programs running as an unprivileged user,"
  echo "deploy/sysctl-streamweb.conf applied for the run. Viewers check every frame (SHA-256 and"
  echo "per-stream sequence in the frame bytes); uploads are compared with Redis afterwards."
  echo
  echo "### Many cameras, small frames"
  echo
  load_table "$log/70-load.out"
  echo
  echo "### 4 cameras × 10 fps × 100 KB: more than the viewers can all be sent, so they skip"
  echo
  load_table "$log/70-load-100k.out"
}

write_report() {
  cat <<EOF
# Proof results

Written by \`make prove\` (tests/prove.sh); every figure is taken from that run's output.

- Date: $started
- Commit: $(commit_id)
- Machine: $(machine)
- Overall: $passed passed, $failed failed

## 1. Fuzzing

libFuzzer with ASan and UBSan, $FUZZ_SECONDS s per target, each from its seed corpus.
Inputs kept as regression tests (tests/fuzz/crashes/, replayed by \`make test\`): $(find tests/fuzz/crashes -type f | wc -l).

$(fuzz_table)

## 2. Sanitizers and leaks

- \`make test-asan\` (every unit and integration test, ASan+UBSan builds of every program): $(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log/asan.out" | tail -1)
- \`make test-valgrind\` (unit tests, zero errors and zero leaks required): $(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log/valgrind.out" | tail -1)

## 3. Faults

$(per_script "${fault_scripts[@]}")

Checks (behind nginx):

$(checks "$log/50-faults.out"; checks "$log/30-redis-down.out")

## 4. Load with integrity

$(load_section)

## 5. Hostile input

$(per_script "${hostile_scripts[@]}")

Cases (behind nginx; the same run behind lighttpd):

$(checks "$log/60-hostile@nginx.out"; checks "$log/43-ws-access@nginx.out"; checks "$log/11-cors@nginx.out")
EOF
}
