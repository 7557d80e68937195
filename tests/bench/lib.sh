# shellcheck shell=bash
# lib.sh: helpers of tests/bench/run.sh — medians, key=value figures, the suite's processes
# (found from the stack's pid files, never by name) and their CPU time and PSS.

# kv KEY FILE: a value from a tool's key=value summary line ("" when absent).
kv() { grep -oE "(^| )$1=[^ ]*" "$2" 2>/dev/null | tail -1 | cut -d= -f2; }

# median: the median of the numbers on stdin (mean of the two middle ones for an even count).
median() {
  sort -g | awk '{ v[NR] = $1 } END {
    if (!NR) { print ""; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# med KEY FILE...: median of KEY over the runs' output files.
med() {
  local k=$1 f; shift
  for f in "$@"; do kv "$k" "$f"; done | grep -E '^-?[0-9.]+$' | median
}

# calc EXPR: floating-point arithmetic (awk), printed with %.4g unless a format is given.
calc() { awk "BEGIN { v = $1; printf \"${2:-%.4g}\", v }"; }
# ge A B / le A B: numeric comparisons for the targets; an empty figure never passes.
ge() { [ -n "$1" ] && awk "BEGIN { exit !($1 >= $2) }"; }
le() { [ -n "$1" ] && awk "BEGIN { exit !($1 <= $2) }"; }
verdict() { if "$@"; then echo PASS; else echo FAIL; fi; }

# ---- the suite's processes ----
# The roots are the stack's pid files: the two FastCGI responders (spawn-fcgi exec'd into them,
# they pre-fork their workers), the three websocketd and the nginx master; every descendant
# belongs to the root's group. Redis is not in the suite. One scan of /proc per snapshot.
declare -A P_PPID P_SELF P_CHILD KIDS
proc_scan() {
  P_PPID=() P_SELF=() P_CHILD=() KIDS=()
  local f l pid
  for f in /proc/[0-9]*/stat; do
    { read -r l <"$f"; } 2>/dev/null || continue
    pid=${f#/proc/}; pid=${pid%/stat}
    # shellcheck disable=SC2086
    set -- ${l##*) }     # after the command name: state ppid ... utime(12) stime cutime cstime
    P_PPID[$pid]=$2 P_SELF[$pid]=$(( ${12} + ${13} )) P_CHILD[$pid]=$(( ${14} + ${15} ))
    KIDS[$2]+="$pid "
  done
}

# tree PID: PID and all its descendants (from the last proc_scan).
tree() {
  local todo=("$1") p
  while [ ${#todo[@]} -gt 0 ]; do
    p=${todo[0]}; todo=("${todo[@]:1}")
    [ -n "${P_PPID[$p]:-}" ] || continue
    echo "$p"
    # shellcheck disable=SC2206
    todo+=(${KIDS[$p]:-})
  done
}

root_pid() { cat "$STACK_DIR/$1.pid" 2>/dev/null; }
ws_roots() { local n; for n in ws-labels ws-stream ws-frames; do root_pid "$n"; done; }

# suite_groups: lines "GROUP PID" for every suite process: nginx, fcgi, websocketd, ws (the ws-*
# programs under websocketd).
suite_groups() {
  local r p
  for p in $(tree "$(root_pid nginx)"); do echo "nginx $p"; done
  for r in $(root_pid labels) $(root_pid frames); do for p in $(tree "$r"); do echo "fcgi $p"; done; done
  for r in $(ws_roots); do
    echo "websocketd $r"
    for p in $(tree "$r"); do [ "$p" = "$r" ] || echo "ws $p"; done
  done
}

# snapshot FILE: CPU ticks per group (cpu_GROUP), PSS kB per group (pss_GROUP), process counts
# (n_GROUP) and the bytes nginx has sent to its clients (nginx_sent, from ss), as key=value lines.
# CPU method: utime+stime of every live suite process plus the cutime+cstime of each (the time of
# its children that exited and were reaped). A process that exits between two snapshots moves its
# whole time into its parent's cutime, so the difference of two snapshots counts every process
# that ran in between, exited or not. websocketd's own utime+stime is "websocketd"; its reaped
# children's time counts as "ws".
snapshot() { # snapshot FILE [nopss]
  local file=$1 want_pss=${2:-pss} g p k v pss
  local -A cpu=() mem=() cnt=()
  proc_scan
  while read -r g p; do
    cnt[$g]=$(( ${cnt[$g]:-0} + 1 ))
    if [ "$g" = websocketd ]; then
      cpu[websocketd]=$(( ${cpu[websocketd]:-0} + ${P_SELF[$p]:-0} ))
      cpu[ws]=$(( ${cpu[ws]:-0} + ${P_CHILD[$p]:-0} ))
    else
      cpu[$g]=$(( ${cpu[$g]:-0} + ${P_SELF[$p]:-0} + ${P_CHILD[$p]:-0} ))
    fi
    pss=0
    [ "$want_pss" = pss ] && { while read -r k v _; do
        [ "$k" = Pss: ] && { pss=$v; break; }
      done <"/proc/$p/smaps_rollup"; } 2>/dev/null     # a viewer may have just left
    mem[$g]=$(( ${mem[$g]:-0} + pss ))
  done < <(suite_groups)
  {
    for g in nginx fcgi websocketd ws; do
      echo "cpu_$g=${cpu[$g]:-0} pss_$g=${mem[$g]:-0} n_$g=${cnt[$g]:-0}"
    done
    # What nginx has sent on its client connections (viewers stay connected through a window).
    echo "nginx_sent=$(ss -tinH state established "( sport = :$PORT )" | grep -oE 'bytes_sent:[0-9]+' |
      awk -F: '{ s += $2 } END { printf "%d", s }')"
  } >"$file"
}

# snap_total KIND FILE: the sum over the groups (cpu in ticks, pss in kB, n).
snap_total() {
  local g t=0 v
  for g in nginx fcgi websocketd ws; do v=$(kv "$1_$g" "$2"); t=$(( t + ${v:-0} )); done
  echo "$t"
}

# cpu_window BEFORE AFTER OUT: CPU seconds per group spent between two snapshots, and the total.
cpu_window() {
  local g hz t=0 d
  hz=$(getconf CLK_TCK)
  for g in nginx fcgi websocketd ws; do
    d=$(( $(kv "cpu_$g" "$2") - $(kv "cpu_$g" "$1") ))
    t=$(( t + d ))
    printf 'suite_cpu_%s_s=%s ' "$g" "$(calc "$d / $hz" %.2f)"
  done >"$3"
  echo "suite_cpu_s=$(calc "$t / $hz" %.2f)" >>"$3"
}
