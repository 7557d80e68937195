# runlib.sh: shared by tests/run.sh and tests/prove.sh. Runs integration scripts and
# tallies their "ok" / "not ok" lines into passed, failed and failures[].
# The caller sets log (a directory for the scripts' output).
passed=0 failed=0 failures=()

add() { # add PASSED FAILED NAME
  passed=$((passed + $1)); failed=$((failed + $2))
  [ "$2" -gt 0 ] && failures+=("$3")
}

# run_script SCRIPT [SERVER]: output in $log/NAME.out, NAME = script[@server] (RUN_NAME if set).
run_script() {
  local script=$1 server=${2:-} name
  name=${RUN_NAME:-$(basename "$script" .sh)${server:+@$server}}
  STACK_SERVER=${server:-nginx} timeout 600 bash "$script" >"$log/$name.out" 2>&1
  local rc=$? p f
  p=$(grep -c '^ok ' "$log/$name.out"); f=$(grep -c '^not ok ' "$log/$name.out")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $name exited with $rc" >>"$log/$name.out"; fi
  echo "integration $name: $p passed, $f failed"
  [ "$f" -gt 0 ] && { grep -A3 '^not ok ' "$log/$name.out" | sed 's/^/    /' | head -40; }
  add "$p" "$f" "$name"
}

# run_script_all SCRIPT: once per server the script names ("# servers: nginx lighttpd"), else once.
run_script_all() {
  if grep -q '^# servers: nginx lighttpd' "$1"; then
    run_script "$1" nginx
    run_script "$1" lighttpd
  else
    run_script "$1"
  fi
}
