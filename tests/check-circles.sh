#!/usr/bin/env bash
# Fails when two source files depend on each other round a circle: a.c
# calls a function of b.c that calls (maybe through others) back into a.c,
# or headers include each other. What is shared then belongs in a lower
# file (docs/contributing.md, Layout).
#
# Calls are read from the built objects: a relocation in a code section
# against a global symbol another object defines. A table of function
# pointers (routes, drivers) is data, not a call, and does not count.
#
# check-circles.sh [BUILD]: BUILD (default build) holds the objects of `make all`.
set -u
B=${1:-build}
cd "$(dirname "$0")/.." || exit 1
command -v readelf >/dev/null || { echo "circle check FAILED: readelf (binutils) is missing"; exit 1; }
objs=$(find "$B" -name '*.o' ! -path "$B/tests/*" ! -path "$B/gen/*" | sort)
[ -n "$objs" ] || { echo "circle check FAILED: no objects under $B (run make all)"; exit 1; }
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
for o in $objs; do
  src=${o#"$B"/}; src=${src%.o}.c
  # defined globals: "D file symbol"
  nm --defined-only -g "$o" | awk -v f="$src" 'NF == 3 { print "D", f, $3 }'
  # code relocations: "U file symbol"
  readelf -rW "$o" | awk -v f="$src" '
    /^Relocation section/ { code = ($3 ~ /^.\.rela\.text/) ; next }
    code && $1 ~ /^[0-9a-f]+$/ && NF >= 5 { print "U", f, $5 }'
done > "$edges"
# include edges: "I file header"
git ls-files '*.c' '*.h' | grep -vE '^(tests|bench)/' | while read -r f; do
  sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]+"([^"]+)".*/\1/p' "$f" |
    while read -r h; do echo "I $f $h"; done
done >> "$edges"
awk '
  $1 == "D" { def[$3] = $2; next }
  $1 == "U" { use[$2, $3] = 1; next }
  $1 == "I" { inc[$2] = inc[$2] " " $3; next }
  END {
    for (k in use) {
      split(k, p, SUBSEP)
      t = def[p[2]]
      if (t != "" && t != p[1] && index(calls[p[1]] " ", " " t " ") == 0)
        calls[p[1]] = calls[p[1]] " " t
    }
    bad = 0
    bad += circles(calls, "calls")
    bad += circles(inc, "includes")
    if (bad) { print "circle check FAILED"; exit 1 }
    print "circle check: ok (no file calls or includes itself round a circle)"
  }
  # Reports every edge a -> b of graph g from which a can be reached again.
  function circles(g, what,    a, n, i, e, seen, q, h, t, k, m, found) {
    found = 0
    for (a in g) {
      n = split(g[a], e, " ")
      for (i = 1; i <= n; i++) {
        delete seen; h = 1; t = 1; q[1] = e[i]; seen[e[i]] = 1
        while (h <= t) {
          m = split(g[q[h++]], nb, " ")
          for (k = 1; k <= m; k++)
            if (!(nb[k] in seen)) { seen[nb[k]] = 1; q[++t] = nb[k] }
        }
        if (a in seen) { print what ": " a " -> " e[i] " -> ... -> " a; found = 1 }
      }
    }
    return found
  }' "$edges"
