#!/usr/bin/env bash
# Runs the CLI end-to-end test (t01) and the API end-to-end tests
# (t3N-api-*: `atlas serve` with its threads, libmicrohttpd callbacks and the
# reconcile loop) with the ASan+UBSan atlas of build-asan/ (built by
# `make asan`); with ASAN_E2E_ALL=1 (`make asan-e2e`), every end-to-end test,
# the real engines' included. These tests assert events and order, never
# latency, so the slower binary does not change their verdict. Sanitizer reports go to files,
# not to the stderr that the tests capture and grep, so none is swallowed:
# any report fails the script and is printed. Like tests/run-e2e.sh, the unit
# is the check ("ok - " line); prints "asan-e2e: N passed, M failed (checks
# in S scripts)".
set -u
B=${1:-build-asan}
cd "$(dirname "$0")/.." || exit 1
unset ATLAS_REGEN_GOLDEN
logs=$(mktemp -d /tmp/atlas-asan-e2e.XXXXXX)
trap 'rm -rf "$logs"' EXIT
pass=0; fail=0; scripts=0; failed=()
case $B in /*) ;; *) B=$PWD/$B ;; esac
if [ ! -x "$B/atlas" ]; then
  echo "asan-e2e: $B/atlas is missing (make asan builds it)"
  echo "asan-e2e: 0 passed, 1 failed (checks in 0 scripts)"
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "asan-e2e: FAILED: the API end-to-end tests need root (network namespaces)"
  echo "asan-e2e: 0 passed, 1 failed (checks in 0 scripts)"
  exit 1
fi
only=${E2E_ONLY:-}
scripts_of() {
  if [ "${ASAN_E2E_ALL:-}" = 1 ]; then echo tests/e2e/t[0-9]*.sh
  else echo tests/e2e/t01-cli.sh tests/e2e/t3[0-9]-api-*.sh
  fi
}
for t in $(scripts_of); do
  [ -f "$t" ] || continue
  if [ -n "$only" ]; then
    sel=0; for o in $only; do [[ "$t" == *"$o"* ]] && sel=1; done
    [ $sel = 1 ] || continue
  fi
  scripts=$((scripts + 1))
  start=$(date +%s)
  ATLAS_BIN=$B/atlas \
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:log_path=$logs/asan \
    UBSAN_OPTIONS=print_stacktrace=1:log_path=$logs/ubsan \
    timeout -k 10 600 bash "$t" > "$logs/out" 2>&1; rc=$?
  n=$(grep -c '^ok - ' "$logs/out")
  pass=$((pass + n))
  reports=$(ls "$logs" | grep -v '^out$')
  # A report that reached stderr instead (the server's log, shown on failure).
  grep -qE 'runtime error:|AddressSanitizer|LeakSanitizer' "$logs/out" && reports="$reports (in the output)"
  if [ $rc -eq 0 ] && [ "$n" -gt 0 ] && [ -z "$reports" ]; then
    echo "--- PASS $t (asan, $n checks, $(( $(date +%s) - start ))s)"
  else
    fail=$((fail + 1)); failed+=("$t")
    [ -n "$reports" ] && echo "FAIL: sanitizer reports from $t"
    [ $rc -eq 124 ] && echo "FAIL: $t timed out after 600s"
    echo "--- FAIL $t (asan, $n checks passed before, $(( $(date +%s) - start ))s)"
    tail -20 "$logs/out"
    # the check that failed, which logs printed after it may push out of the tail
    grep -a '^FAIL: ' "$logs/out" | head -3
    for f in "$logs"/asan* "$logs"/ubsan*; do [ -f "$f" ] && { echo "== $f"; head -60 "$f"; }; done
  fi
  rm -f "$logs"/asan* "$logs"/ubsan*
done
[ ${#failed[@]} -gt 0 ] && echo "failing: ${failed[*]}"
echo "asan-e2e: $pass passed, $fail failed (checks in $scripts scripts)"
[ $fail -eq 0 ]
