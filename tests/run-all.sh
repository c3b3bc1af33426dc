#!/usr/bin/env bash
# The whole test suite (`make test`): build with warnings as errors, the
# no-shell and purity checks, unit tests, unit tests under ASan+UBSan, every
# fuzz target on its seed inputs under ASan+UBSan, the CLI and API
# end-to-end tests with the ASan+UBSan atlas, end-to-end tests with the real
# engines (the fault test with the ASan build), browser tests.
#
# Each suite ends with one line in its own unit (a build step, a cmocka case,
# an e2e check -- one "ok - " line --, a browser test), repeated in the
# summary. The closing line "tests: N passed, M failed" (CI reads it) counts
# checks: N counts each check once, so the sanitizer suites, which rerun
# checks already counted (the same unit cases, the same e2e checks), add only
# their failures, to M. M is 0 exactly when every suite passed.
set -u
cd "$(dirname "$0")/.." || exit 1
export CI=${CI:-}
unset ATLAS_REGEN_GOLDEN
total_pass=0; total_fail=0; summary=(); whatfailed=()
# step NAME RERUN(0/1) UNIT COMMAND...
step() {
  local name=$1 rerun=$2 unit=$3; shift 3
  local log=/tmp/atlas-test-$name.log line p f rc
  echo "### $name"
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  line=$(grep -a -E '^[a-z0-9-]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  if [ -n "$line" ]; then
    p=$(sed -E 's/^[^:]*: ([0-9]+) passed.*/\1/' <<<"$line")
    f=$(sed -E 's/^[^:]*: [0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")
    # A non-zero exit that the suite's own count does not show is one failure more.
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
  elif [ "$rc" -eq 0 ]; then p=1; f=0
  else p=0; f=1
  fi
  [ "$rerun" = 1 ] || total_pass=$((total_pass + p))
  total_fail=$((total_fail + f))
  summary+=("$(printf '%-9s %s passed, %s failed (%s)' "$name:" "$p" "$f" "$unit")")
  # what failed, repeated at the end, where a log cut in the middle shows it:
  # the suites' FAIL lines (a browser test's are followed by indented ones)
  if [ "$f" -gt 0 ]; then
    whatfailed+=("[$name]")
    while IFS= read -r line; do whatfailed+=("$line"); done < <(awk '
      /^(--- FAIL |FAIL: |failing: )/ { print; more = /^FAIL: /; next }
      more && /^  / { print; next }
      { more = 0 }' "$log" | head -40)
  fi
  return 0
}
step build    0 "build step"            make -j2 CI=1 all
step no-shell 0 "source check"          bash tests/check-no-shell.sh
step pure     0 "source check"          bash tests/check-pure.sh
step circles  0 "source check"          bash tests/check-circles.sh build
# before the unit tests: two of them run `sing-box check` on what Atlas renders
step singbox  0 "build step"            bash scripts/singbox.sh
step unit     0 "cmocka cases"          make -j2 CI=1 unit
step asan     1 "the same cmocka cases under ASan+UBSan" make -j2 asan
step fuzz-seed 0 "fuzz targets on their seeds under ASan+UBSan" make -s fuzz-seed
step asan-e2e 1 "the same CLI and API e2e checks with the ASan+UBSan atlas" bash tests/run-asan-e2e.sh build-asan
step e2e      0 "e2e checks"            make e2e
step browser  0 "browser tests"         make browser
echo
if [ ${#whatfailed[@]} -gt 0 ]; then
  echo "what failed:"
  printf '%s\n' "${whatfailed[@]}"
  echo
fi
printf '%s\n' "${summary[@]}"
echo "tests: $total_pass passed, $total_fail failed"
[ $total_fail -eq 0 ]
