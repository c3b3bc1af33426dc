#!/usr/bin/env bash
# Runs every cmocka test program; prints "unit: N passed, M failed".
set -u
B=${1:-build}
pass=0; fail=0; failed_bins=()
cd "$(dirname "$0")/.." || exit 1
for t in "$B"/tests/test_*; do
  [ -x "$t" ] || continue
  out=$("$t" 2>&1); rc=$?
  printf '%s\n' "$out" | grep -E '^\[ *(FAILED|  ERROR|PASSED) *\]|^\[  FAILED  \] [a-z_]|^\[==========\]' || true
  p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
  if [ $rc -ne 0 ]; then
    [ -z "$f" ] && fail=$((fail + 1))
    failed_bins+=("$t")
    printf '%s\n' "$out" | tail -30
  fi
done
echo "unit: $pass passed, $fail failed"
[ ${#failed_bins[@]} -eq 0 ] || { echo "failing: ${failed_bins[*]}"; exit 1; }
