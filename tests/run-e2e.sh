#!/usr/bin/env bash
# Runs every tests/e2e/tNN-*.sh (real engines in network namespaces, as root),
# each under a timeout of 600 s. The unit is the check: each "ok - ..." line a
# script prints is one passed check; a failing script counts one failed check
# (it stops at its first failure), and so does a script that exits 0 without
# a single check. Prints "e2e: N passed, M failed (checks in S scripts)".
#
#   tests/run-e2e.sh [BUILD_DIR]      E2E_ONLY=t3 runs only the scripts whose
#                                     path contains t3 (space-separated list)
set -u
B=${1:-build}
cd "$(dirname "$0")/.." || exit 1
unset ATLAS_REGEN_GOLDEN
case $B in /*) ;; *) B=$PWD/$B ;; esac
export ATLAS_BIN=$B/atlas
name=${E2E_SUITE:-e2e}
if [ "$(id -u)" != 0 ]; then
  echo "$name: FAILED: end-to-end tests need root (network namespaces, wireguard-go, openvpn)"
  echo "$name: 0 passed, 1 failed (checks in 0 scripts)"
  exit 1
fi
pass=0; fail=0; scripts=0; failed=()
only=${E2E_ONLY:-}
selected() {
  local o
  [ -z "$only" ] && return 0
  for o in $only; do [[ "$1" == *"$o"* ]] && return 0; done
  return 1
}
for t in tests/e2e/t[0-9]*.sh; do
  [ -f "$t" ] || continue
  selected "$t" || continue
  scripts=$((scripts+1))
  log=/tmp/atlas-$name-$(basename "$t").log
  echo "=== $t"
  start=$(date +%s)
  timeout -k 10 600 bash "$t" > "$log" 2>&1; rc=$?
  n=$(grep -c '^ok - ' "$log")
  pass=$((pass + n))
  if [ $rc -eq 0 ] && [ "$n" -gt 0 ]; then
    echo "--- PASS $t ($n checks, $(( $(date +%s) - start ))s)"
  else
    fail=$((fail+1)); failed+=("$t")
    [ $rc -eq 0 ] && echo "FAIL: $t ran no check"
    [ $rc -eq 124 ] && echo "FAIL: $t timed out after 600s"
    echo "--- FAIL $t ($n checks passed before, $(( $(date +%s) - start ))s)"
    tail -40 "$log"
    # the check that failed, which logs printed after it may push out of the tail
    grep -a '^FAIL: ' "$log" | head -3
  fi
done
[ ${#failed[@]} -gt 0 ] && echo "failing: ${failed[*]}"
echo "$name: $pass passed, $fail failed (checks in $scripts scripts)"
[ $fail -eq 0 ]
