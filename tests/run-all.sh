#!/usr/bin/env bash
# The whole test suite (`make test`): build with warnings as errors, the
# no-shell check, unit tests, unit tests under ASan+UBSan, the CLI end-to-end
# test with the ASan+UBSan atlas, end-to-end tests with the real engines,
# browser tests. Prints one closing line:
# "N passed, M failed" over every test that ran.
set -u
cd "$(dirname "$0")/.." || exit 1
export CI=${CI:-}
total_pass=0; total_fail=0
count() { # parse "X: N passed, M failed" from a log
  local line; line=$(grep -a -E '^[a-z0-9-]+: [0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
  local p f; p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line"); f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
  total_pass=$((total_pass + ${p:-0})); total_fail=$((total_fail + ${f:-0}))
}
step() { # name, command...
  local name=$1; shift
  local log=/tmp/atlas-test-$name.log
  echo "### $name"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  if grep -aqE '^[a-z0-9-]+: [0-9]+ passed, [0-9]+ failed' "$log"; then
    count "$log"
    [ $rc -ne 0 ] && ! grep -aqE ' [1-9][0-9]* failed' "$log" && total_fail=$((total_fail + 1))
  elif [ $rc -eq 0 ]; then total_pass=$((total_pass + 1)); else total_fail=$((total_fail + 1)); fi
  return 0
}
step build make -j2 CI=1 all
step no-shell bash tests/check-no-shell.sh
step pure bash tests/check-pure.sh
step unit make -j2 CI=1 unit
step asan make -j2 asan
step asan-e2e bash tests/run-asan-e2e.sh build-asan
step singbox bash scripts/singbox.sh
step e2e make e2e
step browser make browser
echo
echo "tests: $total_pass passed, $total_fail failed"
[ $total_fail -eq 0 ]
