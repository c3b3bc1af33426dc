#!/usr/bin/env bash
# Runs the CLI end-to-end test (t01) with the ASan+UBSan atlas of build-asan/
# (built by `make asan`). Sanitizer reports go to files, not to the stderr that
# the test captures and greps, so none is swallowed: any report fails the
# step and is printed. Prints "asan-e2e: N passed, M failed".
set -u
B=${1:-build-asan}
cd "$(dirname "$0")/.." || exit 1
logs=$(mktemp -d /tmp/atlas-asan-e2e.XXXXXX)
trap 'rm -rf "$logs"' EXIT
pass=0; fail=0
case $B in /*) ;; *) B=$PWD/$B ;; esac
if [ ! -x "$B/atlas" ]; then
  echo "asan-e2e: $B/atlas is missing (make asan builds it)"
  echo "asan-e2e: 0 passed, 1 failed"
  exit 1
fi
for t in tests/e2e/t01-cli.sh; do
  if ATLAS_BIN=$B/atlas \
     ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:log_path=$logs/asan \
     UBSAN_OPTIONS=print_stacktrace=1:log_path=$logs/ubsan \
     bash "$t" > "$logs/out" 2>&1 && [ -z "$(ls "$logs" | grep -v '^out$')" ]; then
    pass=$((pass+1)); echo "--- PASS $t (asan)"
  else
    fail=$((fail+1)); echo "--- FAIL $t (asan)"
    tail -20 "$logs/out"
    for f in "$logs"/asan* "$logs"/ubsan*; do [ -f "$f" ] && { echo "== $f"; head -60 "$f"; }; done
  fi
  rm -f "$logs"/asan* "$logs"/ubsan*
done
echo "asan-e2e: $pass passed, $fail failed"
[ $fail -eq 0 ]
