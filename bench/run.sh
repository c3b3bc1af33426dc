#!/usr/bin/env bash
# `make bench`: runs every bench/*.sh (but this one and the sourced
# table.sh); each prints its figures, and the headline ones become rows of
# one table printed at the end: figure, target, Atlas's value, the
# baseline's where one exists. BENCH_ONLY="api wg": only those scripts.
set -u
B=${1:-build}
cd "$(dirname "$0")/.." || exit 1
export ATLAS_BIN=$PWD/$B/atlas
BENCH_TABLE=$(mktemp /tmp/atlas-bench-table.XXXXXX)
export BENCH_TABLE
trap 'rm -f "$BENCH_TABLE"' EXIT
for b in bench/*.sh; do
  case $b in bench/run.sh | bench/table.sh) continue ;; esac
  if [ -n "${BENCH_ONLY:-}" ]; then
    n=${b#bench/}; n=${n%.sh}
    case " $BENCH_ONLY " in *" $n "*) ;; *) continue ;; esac
  fi
  echo "## $b"
  bash "$b" || echo "bench $b failed (exit $?)"
done
echo
echo "## the table (issue 18): figure | target | Atlas | baseline"
awk -F'\t' '
  { f[NR] = $1; t[NR] = $2; a[NR] = $3; b[NR] = $4
    for (i = 1; i <= 4; i++) if (length($i) > w[i]) w[i] = length($i) }
  END {
    if (w[1] < 6) w[1] = 6
    printf "%-" w[1] "s | %-" w[2] "s | %-" w[3] "s | %s\n", "figure", "target", "Atlas", "baseline"
    for (r = 1; r <= NR; r++)
      printf "%-" w[1] "s | %-" w[2] "s | %-" w[3] "s | %s\n", f[r], t[r], a[r], b[r]
  }' "$BENCH_TABLE"
