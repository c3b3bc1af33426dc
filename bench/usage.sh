#!/usr/bin/env bash
# Accounting (issue 12): the cost of one status tick's accounting at 1,000
# and 10,000 users (bench/usage_tick_bench.c: time and resident set of each
# kind of tick). Prints figures; asserts nothing.
set -euo pipefail
: "${ATLAS_BIN:?}"
cd "$(dirname "$0")/.."
B=$(dirname "$ATLAS_BIN")
T=$(mktemp -d /tmp/atlas-bench-usage.XXXXXX)
trap 'rm -rf "$T"' EXIT
objs=$(find "$B" -name '*.o' ! -path "$B/tests/*" ! -path "$B/cli/main.o" | sort)
# shellcheck disable=SC2086
cc -O2 -std=c11 -D_GNU_SOURCE -I. -I"$B/gen" -o "$T/usage_bench" bench/usage_tick_bench.c $objs \
  $(make -s --no-print-directory print-libs)
for n in 1000 10000; do
  rm -rf "$T/data"
  /usr/bin/time -f "  whole run: %e s, peak RSS %M KiB" "$T/usage_bench" "$n" "$T/data"
done
