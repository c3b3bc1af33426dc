#!/usr/bin/env bash
# Runs every bench/*.sh but itself; each prints its own figures (no assertions).
B=${1:-build}
cd "$(dirname "$0")/.." || exit 1
rc=0
for b in bench/*.sh; do
  [ "$b" = bench/run.sh ] && continue
  echo "=== $b"
  bash "$b" "$B" || rc=1
done
exit $rc
