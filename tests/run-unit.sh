#!/usr/bin/env bash
# Runs the cmocka test programs the Makefile lists (TEST_BINS: one per
# tests/unit/test_*.c, so a stale binary of a removed test never runs), each
# under a timeout (ATLAS_UNIT_TIMEOUT seconds, 300 by default: a hang fails
# instead of stalling CI). Prints "unit: N passed, M failed (cmocka cases in
# P programs)"; a program that crashes or times out counts as one failure on
# top of its failed cases.
#
#   tests/run-unit.sh [--regen-golden] BUILD_DIR [PROGRAM...]
#
# Golden files are compared, never rewritten, unless --regen-golden is given
# (what `make golden` does): ATLAS_REGEN_GOLDEN from the caller's environment
# is ignored.
set -u
if [ "${1:-}" = --regen-golden ]; then
  shift
  export ATLAS_REGEN_GOLDEN=1
else
  unset ATLAS_REGEN_GOLDEN
fi
B=${1:-build}
shift || true
cd "$(dirname "$0")/.." || exit 1
bins=("$@")
if [ ${#bins[@]} -eq 0 ]; then
  # The Makefile's list, not a glob of whatever was built once.
  mapfile -t bins < <(make -s --no-print-directory B="$B" print-test-bins | tr ' ' '\n' | sed '/^$/d')
fi
if [ ${#bins[@]} -eq 0 ]; then
  echo "unit: FAILED: the Makefile lists no test program"
  echo "unit: 0 passed, 1 failed (cmocka cases in 0 programs)"
  exit 1
fi
limit=${ATLAS_UNIT_TIMEOUT:-300}
pass=0; fail=0; failed_bins=()
for t in "${bins[@]}"; do
  if [ ! -x "$t" ]; then
    echo "[  FAILED  ] $t is not built"
    fail=$((fail + 1)); failed_bins+=("$t"); continue
  fi
  out=$(timeout -k 5 "$limit" "$t" 2>&1); rc=$?
  printf '%s\n' "$out" | grep -E '^\[ *(FAILED|  ERROR|PASSED) *\]|^\[  FAILED  \] [a-z_]|^\[==========\]' || true
  p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
  if [ $rc -ne 0 ]; then
    [ -z "$f" ] && fail=$((fail + 1))
    failed_bins+=("$t")
    [ $rc -eq 124 ] || [ $rc -eq 137 ] && echo "[  FAILED  ] $t timed out after ${limit}s"
    printf '%s\n' "$out" | tail -30
  fi
done
echo "unit: $pass passed, $fail failed (cmocka cases in ${#bins[@]} programs)"
[ ${#failed_bins[@]} -eq 0 ] || { echo "failing: ${failed_bins[*]}"; exit 1; }
