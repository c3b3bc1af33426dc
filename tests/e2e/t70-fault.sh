#!/usr/bin/env bash
# t70-fault: injected failures at the two choke points (lib/fault.h), over a
# whole apply of a WireGuard interface and an OpenVPN server with clients,
# with the test build (build-asan: ASan+UBSan and -DATLAS_FAULT_INJECT).
# For every N from 1 to the number of spawns (ATLAS_FAULT_SPAWN=N), and of
# atomic file writes (ATLAS_FAULT_WRITE=N), that apply makes, from a fresh
# data directory and a fresh namespace: the faulty apply fails cleanly (exit
# 0 or 1, no sanitizer report, no temporary file left), the next apply
# succeeds and `plan` then exits 0. Then `atlas serve` with three spawns in
# a row failing: the recorded runs show the failed runs retried with the
# doubling backoff, and the last retry succeeds. The release build
# (build/atlas) holds no trace of the injection.
set -euo pipefail
cd "$(dirname "$0")/../.."
OVPN_PFX=atf
. tests/e2e/lib-ovpn.sh
need sqlite3 strings wireguard-go wg
FAULT_BIN=${ATLAS_FAULT_BIN:-$PWD/build-asan/atlas}
[ -x "$FAULT_BIN" ] || fail "$FAULT_BIN is missing (make asan builds the test build)"
strings "$FAULT_BIN" | grep_q -x ATLAS_FAULT_SPAWN ||
  fail "$FAULT_BIN has no fault injection (make asan builds it with -DATLAS_FAULT_INJECT)"
# the release build is build/atlas even when ATLAS_BIN is the test build (make asan-e2e)
RELEASE_BIN=${ATLAS_RELEASE_BIN:-$PWD/build/atlas}
[ -x "$RELEASE_BIN" ] || fail "$RELEASE_BIN is missing (make builds the release build)"
if strings "$RELEASE_BIN" | grep_q -E 'ATLAS_FAULT_(SPAWN|WRITE)|injected fault'; then
  fail "the release build $RELEASE_BIN holds the fault injection"
fi
ok "the test build injects faults; the release build $RELEASE_BIN holds no ATLAS_FAULT_SPAWN/WRITE"

WG=atf70
SRV=$P-70s
export ASAN_OPTIONS=detect_leaks=1:log_path=$T/asan UBSAN_OPTIONS=print_stacktrace=1:log_path=$T/ubsan
F() { ip netns exec "$SRV" "$FAULT_BIN" --data "$D" "$@"; }
reports() { ls "$T"/asan.* "$T"/ubsan.* 2>/dev/null || true; }
{ ovpn_yaml_head; cat <<YAML
  clients:
    - name: alice
    - name: bob
      static_ip: 10.9.0.7
wireguard:
  interfaces:
    - name: $WG
      listen_port: 51870
      address: [10.70.0.1/24]
      peers:
        - name: p1
        - name: p2
          address: [10.70.0.9/32]
YAML
} > "$T/state.yaml"
"$FAULT_BIN" --data "$D" import "$T/state.yaml" > /dev/null
cp -a "$D" "$T/data.tpl"

# fresh: the imported data directory and a namespace without engines
fresh() {
  ns_remove "$SRV"
  rm -f /var/run/wireguard/$WG.sock
  rm -rf "$D"; cp -a "$T/data.tpl" "$D"
  net_setup 70 0
}
fresh
ATLAS_FAULT_SPAWN=1000000 ATLAS_FAULT_WRITE=1000000 F apply > "$T/count.out" 2>&1 ||
  { cat "$T/count.out"; fail "the apply without a fault failed"; }
spawns=$(grep -c '^fault: spawn call #' "$T/count.out") || true
writes=$(grep -c '^fault: write call #' "$T/count.out") || true
[ "$spawns" -ge 5 ] && [ "$writes" -ge 5 ] || fail "a whole apply made only $spawns spawns and $writes writes"
ok "a whole apply makes $spawns spawns and $writes atomic writes"

# fault_run KIND N: one faulty apply from scratch, then the healing run.
fault_run() {
  local var=ATLAS_FAULT_$1 n=$2 rc=0 left
  fresh
  ip netns exec "$SRV" env "$var=$n" "$FAULT_BIN" --data "$D" apply > "$T/f.out" 2>&1 || rc=$?
  [ $rc -le 1 ] || { tail -20 "$T/f.out"; fail "$var=$n: apply exited $rc"; }
  grep_q "call #$n (.*) fails (injected)" "$T/f.out" || fail "$var=$n: the fault did not fire"
  left=$(find "$D" -name '*.tmp.*' | head -3)
  [ -z "$left" ] || fail "$var=$n: temporary files left: $left"
  F apply > "$T/h.out" 2>&1 || { tail -20 "$T/h.out"; fail "$var=$n: the apply after the fault failed"; }
  rc=0; F plan > "$T/p.out" 2>&1 || rc=$?
  [ $rc = 0 ] || { cat "$T/p.out"; fail "$var=$n: plan exits $rc after the healing apply"; }
  [ -z "$(reports)" ] || { head -40 $(reports); fail "$var=$n: sanitizer report"; }
}

for n in $(seq 1 "$spawns"); do fault_run SPAWN "$n"; done
ok "each of the $spawns spawns failing in turn: the apply fails cleanly, the next apply heals, plan exits 0"
for n in $(seq 1 "$writes"); do fault_run WRITE "$n"; done
ok "each of the $writes atomic writes failing in turn: no temporary file left, the next apply heals, plan exits 0"

# The backoff: `atlas serve` on a WireGuard-only state, its file writes 3 to
# 6 failing (1 and 2 are its secret key and first-start password): the
# start run and two retries fail, each retry waits twice as long as the
# one before (LOOP_RETRY_BASE_MS = 1 s), the third retry succeeds.
fresh
rm -rf "$D"
{ printf 'version: 1\nsettings:\n  host: 10.250.0.1\nwireguard:\n  interfaces:\n'; cat <<YAML
    - name: $WG
      listen_port: 51870
      address: [10.70.0.1/24]
      peers:
        - name: p1
YAML
} > "$T/wg.yaml"
"$FAULT_BIN" --data "$D" import "$T/wg.yaml" > /dev/null
ip netns exec "$SRV" env ATLAS_FAULT_WRITE=3:4 "$FAULT_BIN" --data "$D" serve --listen 127.0.0.1:18170 \
  > "$T/serve.log" 2>&1 &
SERVE=$!
fail_details() { tail -20 "$T/serve.log"; }
runs() { sqlite3 -separator '|' "$D/atlas.db" "SELECT id, started_at, finished_at, trigger, ok FROM apply_runs ORDER BY id"; }
for i in $(seq 1 600); do
  runs 2>/dev/null | awk -F'|' '$5 == 1 { f = 1 } END { exit !f }' && break
  alive $SERVE || fail "atlas serve died"
  sleep 0.1
done
kill $SERVE; wait $SERVE || true
runs > "$T/runs"
cat "$T/runs"
# A run another event starts at once ("wireguard atf70 down": the status
# tick sees the interface missing) counts as a failure too but is no retry:
# only retries are held to the delay, base << (failures in a row - 1).
awk -F'|' 'BEGIN { fails = 0; retries = 0; bad = "" }
  NR == 1 && ($4 != "start" || $5 != 0) { bad = "the start run did not fail;" }
  NR > 1 && $4 == "retry" {
    retries++
    want = 1000 * 2 ^ (fails - 1)
    if ($2 - prev_end < want) bad = bad " run " NR " came " ($2 - prev_end) " ms after failure " fails ", not >= " want ";"
  }
  { fails = $5 ? 0 : fails + 1; prev_end = $3; last_ok = $5 }
  END {
    if (NR != 4) bad = bad " " NR " runs, not 4 (3 failing, 1 healing);"
    if (retries < 2) bad = bad " only " retries " retries;"
    if (!last_ok) bad = bad " the last run failed;"
    if (bad != "") { print bad; exit 1 }
  }' "$T/runs" || fail "the recorded runs do not show the doubling retry backoff"
"$FAULT_BIN" --data "$D" history > "$T/history" 2>&1
[ "$(grep -c retry "$T/history")" -ge 2 ] || { cat "$T/history"; fail "atlas history does not list the retries"; }
rc=0; F plan > "$T/p.out" 2>&1 || rc=$?
[ $rc = 0 ] || { cat "$T/p.out"; fail "plan exits $rc after the retries"; }
[ -z "$(reports)" ] || { head -40 $(reports); fail "sanitizer report"; }
ok "serve with writes failing: 3 failed runs, each retry waits 1 s << (failures - 1) (runs table, atlas history), the last run heals"
echo "PASS t70-fault"
