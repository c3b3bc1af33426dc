#!/usr/bin/env bash
# `make bench`: runs every bench/*.sh (except this one); each prints figures.
set -u
B=${1:-build}
cd "$(dirname "$0")/.." || exit 1
export ATLAS_BIN=$PWD/$B/atlas
for b in bench/*.sh; do
  [ "$b" = bench/run.sh ] && continue
  echo "## $b"
  bash "$b" || echo "bench $b failed (exit $?)"
done
