# promcheck.awk: a strict check of a Prometheus text exposition (format 0.0.4)
# as streamweb writes it; prints one line per problem, exits 1 if any.
#   awk -f tests/tools/promcheck.awk metrics.txt
# Checked: only "# HELP" and "# TYPE" comments, each at most once per family and
# before its samples; every family typed counter or gauge and prefixed
# streamweb_; counters named *_total with values >= 0; a family's samples in
# one block; metric and label names, quoted label values and their escapes
# (\\ \" \n), float values, optional integer timestamps; no series twice; no
# blank lines. (awk cannot see a missing final newline: the caller checks it.)
# POSIX awk (Debian's mawk).

function problem(msg) { printf "line %d: %s: %s\n", NR, msg, $0; bad++ }

# Starts (or continues) the block of family n.
function enter(n) {
  if (n == current) return
  if (n in closed) problem("family " n " split into two blocks")
  if (current != "") closed[current] = 1
  current = n
}

# The label set at the start of s ("{...}"), normalised into lbl; the rest in rest.
# 0 on a syntax error.
function labels(s,    name, v, c, e, seen) {
  lbl = ""
  if (substr(s, 1, 1) != "{") { rest = s; return 1 }
  s = substr(s, 2)
  if (substr(s, 1, 1) == "}") { rest = substr(s, 2); return 1 }
  for (;;) {
    if (!match(s, /^[a-zA-Z_][a-zA-Z0-9_]*="/)) return 0
    name = substr(s, 1, RLENGTH - 2); s = substr(s, RLENGTH + 1)
    if (name ~ /^__/ || index(seen, "," name ",")) return 0
    seen = seen "," name ","
    v = ""
    for (;;) {
      c = substr(s, 1, 1)
      if (c == "") return 0
      if (c == "\\") {
        e = substr(s, 2, 1)
        if (e != "\\" && e != "\"" && e != "n") return 0
        v = v c e; s = substr(s, 3); continue
      }
      s = substr(s, 2)
      if (c == "\"") break
      v = v c
    }
    lbl = lbl (lbl == "" ? "" : ",") name "=\"" v "\""
    c = substr(s, 1, 1); s = substr(s, 2)
    if (c == "}") { rest = s; return 1 }
    if (c != ",") return 0
  }
}

/^# HELP / {
  n = $3
  if (n !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*$/) problem("bad metric name")
  if (n in help) problem("second HELP for " n)
  if (NF < 4) problem("HELP without text")
  if (n in sampled) problem("HELP after samples of " n)
  help[n] = 1; enter(n); next
}
/^# TYPE / {
  n = $3
  if (NF != 4) problem("TYPE needs a name and a type")
  if (n in type) problem("second TYPE for " n)
  if (n in sampled) problem("TYPE after samples of " n)
  if ($4 != "counter" && $4 != "gauge") problem("type " $4 " (streamweb exposes counters and gauges)")
  type[n] = $4; enter(n); next
}
/^#/ { problem("a comment other than HELP or TYPE"); next }
/^$/ { problem("blank line"); next }
{
  if (!match($0, /^[a-zA-Z_:][a-zA-Z0-9_:]*/)) { problem("no metric name"); next }
  n = substr($0, 1, RLENGTH)
  if (!labels(substr($0, RLENGTH + 1))) { problem("bad label set"); next }
  if (substr(rest, 1, 1) != " ") { problem("no single space before the value"); next }
  k = split(substr(rest, 2), f, " ")
  if (k < 1 || k > 2 || substr(rest, 2, 1) == " ") { problem("expected VALUE [TIMESTAMP]"); next }
  if (f[1] !~ /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$/ && f[1] !~ /^([+-]Inf|NaN)$/)
    problem("bad value " f[1])
  if (k == 2 && f[2] !~ /^-?[0-9]+$/) problem("bad timestamp " f[2])
  if (n !~ /^streamweb_/) problem("name without the streamweb_ prefix")
  if (!(n in type)) problem("sample of " n " without TYPE")
  if (!(n in help)) problem("sample of " n " without HELP")
  if (type[n] == "counter" && n !~ /_total$/) problem("counter not named *_total")
  if (type[n] == "counter" && f[1] + 0 < 0) problem("negative counter")
  series = n "{" lbl "}"
  if (series in seen_series) problem("series twice")
  seen_series[series] = 1; sampled[n] = 1; samples++
  enter(n)
}
END {
  if (samples == 0) { print "no samples"; bad++ }
  exit bad > 0
}
