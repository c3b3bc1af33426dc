#!/usr/bin/env bash
# Runs every fuzz target of BUILD_DIR/fuzz/ (linked with driver.c, no
# libFuzzer: `make fuzz-seed` builds them under ASan+UBSan) once on each of
# its seed inputs (targets.sh). A sanitizer report or an abort() of a
# target's property fails it. Prints "fuzz-seed: N passed, M failed
# (targets)".
set -u
B=${1:-build-asan}
cd "$(dirname "$0")/../.." || exit 1
. tests/fuzz/targets.sh
pass=0; fail=0
for t in $FUZZ_TARGETS; do
  mapfile -t seeds < <(fuzz_seeds "$t")
  if [ ! -x "$B/fuzz/fuzz_$t" ] || [ ${#seeds[@]} = 0 ]; then
    echo "FAIL: fuzz_$t: no binary in $B/fuzz or no seed"
    fail=$((fail + 1)); continue
  fi
  # (under a timeout: an input that makes a parser loop for ever is a finding too)
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 timeout 120 \
      "$B/fuzz/fuzz_$t" "${seeds[@]}" > /tmp/atlas-fuzz-seed.log 2>&1; then
    echo "ok - fuzz_$t: ${#seeds[@]} seed inputs"
    pass=$((pass + 1))
  else
    echo "FAIL: fuzz_$t on its seeds:"; tail -30 /tmp/atlas-fuzz-seed.log
    fail=$((fail + 1))
  fi
done
echo "fuzz-seed: $pass passed, $fail failed (targets)"
[ $fail = 0 ]
