#!/usr/bin/env bash
# Runs every bench/*.sh (except this one) with the build folder as $1; each
# prints its own figures. Nothing is asserted.
set -u
B=${1:-build}
cd "$(dirname "$0")/.." || exit 1
rc=0
for b in bench/*.sh; do
  [ "$(basename "$b")" = run.sh ] && continue
  echo "=== $b"
  bash "$b" "$B" || rc=1
done
exit $rc
