#!/usr/bin/env bash
# Runs every tests/e2e/*.sh (real engines in network namespaces, as root).
# Each script is one test; prints "e2e: N passed, M failed".
set -u
B=${1:-build}
cd "$(dirname "$0")/.." || exit 1
export ATLAS_BIN=$PWD/$B/atlas
if [ "$(id -u)" != 0 ]; then
  echo "e2e: FAILED: end-to-end tests need root (network namespaces, wireguard-go, openvpn)"
  echo "e2e: 0 passed, 1 failed"
  exit 1
fi
pass=0; fail=0; failed=()
only=${E2E_ONLY:-}
for t in tests/e2e/t[0-9]*.sh; do
  [ -f "$t" ] || continue
  [ -n "$only" ] && [[ "$t" != *"$only"* ]] && continue
  echo "=== $t"
  start=$(date +%s)
  if timeout 600 bash "$t" > "/tmp/atlas-e2e-$(basename "$t").log" 2>&1; then
    pass=$((pass+1)); echo "--- PASS $t ($(( $(date +%s) - start ))s)"
  else
    fail=$((fail+1)); failed+=("$t"); echo "--- FAIL $t ($(( $(date +%s) - start ))s)"
    tail -40 "/tmp/atlas-e2e-$(basename "$t").log"
  fi
done
echo "e2e: $pass passed, $fail failed"
[ $fail -eq 0 ]
