#!/usr/bin/env bash
# Browser tests (tests/run-browser.sh [BUILD_DIR [FILE...]]): playwright-core driving Debian's chromium against a real
# `atlas serve`. Installs playwright-core (npm) when missing. Each file runs
# under a timeout (ATLAS_BROWSER_TIMEOUT seconds, 600 by default). The unit
# is the test (node:test's count); a file that crashes, times out or runs no
# test counts one failure more. Prints "browser: N passed, M failed (tests
# in F files)".
set -u
unset ATLAS_REGEN_GOLDEN
B=${1:-build}
cd "$(dirname "$0")/.." || exit 1
export ATLAS_BIN=$PWD/$B/atlas
if [ ! -x /usr/bin/chromium ]; then
  echo "browser: FAILED: /usr/bin/chromium is missing (make deps installs it)"
  echo "browser: 0 passed, 1 failed"; exit 1
fi
# Further arguments: only these test files (default: every one).
if [ $# -gt 1 ]; then tests=("${@:2}"); else tests=(tests/browser/*.test.mjs); fi
if [ ! -e "${tests[0]}" ]; then
  echo "browser: FAILED: no browser tests yet"
  echo "browser: 0 passed, 1 failed"; exit 1
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  (cd tests/browser && npm install --no-audit --no-fund --silent) || { echo "browser: 0 passed, 1 failed"; exit 1; }
fi
# The server applies for real (interfaces, nftables, forwarding): run the
# whole test, server and browser, in a network namespace of its own so the
# host is never touched; it goes away with everything in it.
if [ "$(id -u)" != 0 ]; then
  echo "browser: FAILED: the browser test needs root (network namespace, wireguard-go)"
  echo "browser: 0 passed, 1 failed"; exit 1
fi
NS=atu-browser
# Ends what runs in the namespace (atlas, chromium, wireguard-go outlive a
# deleted namespace), then deletes it.
ns_down() {
  local pid
  for pid in $(ip netns pids $NS 2>/dev/null); do kill "$pid" 2>/dev/null; done
  sleep 0.3
  for pid in $(ip netns pids $NS 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  ip netns del $NS 2>/dev/null
  return 0
}
ns_down
ip netns add $NS
trap ns_down EXIT
ip -n $NS link set lo up
limit=${ATLAS_BROWSER_TIMEOUT:-600}
pass=0; fail=0; failed=()
for t in "${tests[@]}"; do
  log=/tmp/atlas-browser-$(basename "$t").log
  timeout -k 10 "$limit" ip netns exec $NS node --test --test-reporter=tap "$t" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -1)
  f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -1)
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
  if [ $rc -ne 0 ] || [ "${p:-0}" = 0 ]; then
    failed+=("$t")
    [ $rc -eq 124 ] && echo "FAIL: $t timed out after ${limit}s"
    [ "${f:-0}" = 0 ] && fail=$((fail + 1))
  fi
done
# What failed, at the end where a cut log still shows it: each failing
# test's name, where, and the first lines of its error (from the TAP).
for t in "${failed[@]}"; do
  awk -v file="$t" '
    /^ *not ok / { name = $0; sub(/^ *not ok [0-9]+ - /, "", name); inblk = 1; err = 0; n = 0
                   printf "FAIL: %s: %s\n", file, name; next }
    inblk && /^ *\.\.\.$/ { inblk = 0; next }
    inblk && /^ *location:/ { sub(/^ */, "  "); print; next }
    inblk && /^ *error:/ { err = 1; sub(/^ */, "  "); print; next }
    inblk && err && /^ *(code|name|expected|actual|operator|stack):/ { err = 0 }
    inblk && err && n < 8 { sub(/^ */, "    "); print; n++ }
  ' "/tmp/atlas-browser-$(basename "$t").log"
done
[ ${#failed[@]} -gt 0 ] && echo "failing: ${failed[*]}"
echo "browser: $pass passed, $fail failed (tests in ${#tests[@]} files)"
[ ${#failed[@]} -eq 0 ]
