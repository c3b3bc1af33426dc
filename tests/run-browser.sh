#!/usr/bin/env bash
# Browser tests: playwright-core driving Debian's chromium against a real
# `atlas serve`. Installs playwright-core (npm) when missing.
set -u
B=${1:-build}
cd "$(dirname "$0")/.." || exit 1
export ATLAS_BIN=$PWD/$B/atlas
if [ ! -x /usr/bin/chromium ]; then
  echo "browser: FAILED: /usr/bin/chromium is missing (make deps installs it)"
  echo "browser: 0 passed, 1 failed"; exit 1
fi
tests=(tests/browser/*.test.mjs)
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
ip netns del $NS 2>/dev/null || true
ip netns add $NS
trap 'ip netns del $NS 2>/dev/null || true' EXIT
ip -n $NS link set lo up
pass=0; fail=0
for t in "${tests[@]}"; do
  if ip netns exec $NS node --test "$t"; then pass=$((pass+1)); else fail=$((fail+1)); fi
done
echo "browser: $pass passed, $fail failed"
[ $fail -eq 0 ]
