#!/usr/bin/env bash
# WireGuard figures (issue 3), printed, never asserted: with 1,000 and 10,000
# peers on a wireguard-go interface in a throwaway namespace,
#  - a no-op `atlas plan` (reading the device over UAPI, and with
#    ATLAS_WG_OBSERVE=dump through `wg show dump`) next to a bare
#    `wg show IF dump` and a raw in-process UAPI get,
#  - `atlas apply` of every peer from scratch next to `wg syncconf` of the same
#    config on a fresh interface,
#  - one more peer (CLI add + apply) on the full interface,
#  - peak RSS (/usr/bin/time) of import, apply and plan.
# usage: bench/wg.sh [BUILD_DIR] (env WG_BENCH_SIZES="1000 10000", WG_BENCH_ROUNDS=5,
#   WG_BENCH_APPLY_ROUNDS=3: rounds of apply from scratch and of syncconf)
set -euo pipefail
B=${1:-build}
cd "$(dirname "$0")/.."
. bench/table.sh
ATLAS=${ATLAS_BIN:-$PWD/$B/atlas}
SIZES=${WG_BENCH_SIZES:-"1000 10000"}
ROUNDS=${WG_BENCH_ROUNDS:-5}
APPLY_ROUNDS=${WG_BENCH_APPLY_ROUNDS:-3}
NS=atw-bench
T=$(mktemp -d /tmp/atlas-bench-wg.XXXXXX)
[ "$(id -u)" = 0 ] || { echo "bench/wg.sh: needs root (network namespaces)"; exit 1; }
for p in wg wireguard-go ip nft cc; do
  command -v $p >/dev/null || { echo "bench/wg.sh: missing $p"; exit 1; }
done
cleanup() {
  for pid in $(ip netns pids $NS 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  ip netns del $NS 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT
cleanup; T=$(mktemp -d /tmp/atlas-bench-wg.XXXXXX)
cc -O2 -o "$T/uapi_get" bench/wg_uapi_get.c
X() { ip netns exec $NS "$@"; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
now() { date +%s%N; }
# best_ms CMD...: the best of ROUNDS runs, in ms
best_ms() {
  local best= t0 t1 i d
  for i in $(seq "$ROUNDS"); do
    t0=$(now); "$@" > /dev/null; t1=$(now)
    d=$(ms "$t0" "$t1"); [ -z "$best" ] || [ "$d" -lt "$best" ] && best=$d
  done
  echo "$best"
}
rss() { awk '/Maximum resident/ {print $6}' "$1"; }
# gone IF: the interface and its wireguard-go are gone
gone() {
  local pid
  X ip link del "$1" 2>/dev/null || true
  for pid in $(pgrep -f "wireguard-go $1\$" || true); do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do pgrep -f "wireguard-go $1\$" > /dev/null || break; sleep 0.1; done
  rm -f "/var/run/wireguard/$1.sock"
}

printf '%-7s %-40s %10s %10s\n' peers measure ms "peak RSS KB"
for n in $SIZES; do
  ip netns add $NS; X ip link set lo up
  D=$T/data$n
  awk -v n="$n" 'BEGIN {
    print "version: 1\nsettings:\n  host: 192.0.2.1\n  egress_interface: lo\nwireguard:\n  interfaces:"
    print "    - name: atwbench0\n      listen_port: 51900\n      address: [10.200.0.1/16]\n      peers:"
    for (i = 1; i <= n; i++) { a = i + 1
      printf "        - {name: p%05d, address: [10.200.%d.%d/32], keepalive: 25}\n", i, int(a / 256), a % 256 }
  }' > "$T/s$n.yaml"
  t0=$(now); /usr/bin/time -v "$ATLAS" --data "$D" import "$T/s$n.yaml" > /dev/null 2> "$T/time"; t1=$(now)
  printf '%-7s %-40s %10s %10s\n' "$n" "atlas import (keys generated)" "$(ms "$t0" "$t1")" "$(rss "$T/time")"

  # `atlas apply` from scratch and `wg syncconf` of the same config on a fresh
  # interface, in turn, APPLY_ROUNDS times: each figure the best of its
  # rounds (one run of either moves by a few hundred ms with wireguard-go's
  # scheduling). Between rounds the interface goes and the data directory
  # is the one of after the import again.
  cp -a "$D" "$T/tpl$n"
  apply_ms= sync_ms=
  for r in $(seq "$APPLY_ROUNDS"); do
    if [ "$r" -gt 1 ]; then
      gone atwbench0; rm -rf "$D"; cp -a "$T/tpl$n" "$D"
    fi
    t0=$(now); X /usr/bin/time -v "$ATLAS" --data "$D" apply > "$T/apply.out" 2> "$T/time"; t1=$(now)
    d=$(ms "$t0" "$t1"); [ -z "$apply_ms" ] || [ "$d" -lt "$apply_ms" ] && apply_ms=$d
    printf '%-7s %-40s %10s %10s\n' "$n" "atlas apply from scratch, round $r" "$d" "$(rss "$T/time")"
    # the same config through wg syncconf, on a fresh interface (wg-quick keys stripped)
    grep -Ev '^(Address|MTU) *=' "$D/wireguard/atwbench0.conf" | sed 's/^ListenPort = .*/ListenPort = 51901/' > "$T/sync.conf"
    gone atwbench1
    X wireguard-go atwbench1 > /dev/null 2>&1
    t0=$(now); X wg syncconf atwbench1 "$T/sync.conf"; t1=$(now)
    d=$(ms "$t0" "$t1"); [ -z "$sync_ms" ] || [ "$d" -lt "$sync_ms" ] && sync_ms=$d
    printf '%-7s %-40s %10s\n' "$n" "wg syncconf from scratch, round $r" "$d"
  done
  X "$ATLAS" --data "$D" plan > /dev/null || { echo "bench: plan after apply is not empty"; cat "$T/apply.out" | tail -5; }
  [ "$(X wg show atwbench0 peers | wc -l)" = "$n" ] || echo "bench: peer count differs from $n"

  plan_ms=$(best_ms X "$ATLAS" --data "$D" plan)
  printf '%-7s %-40s %10s\n' "$n" "atlas plan (no-op, UAPI), best of $ROUNDS" "$plan_ms"
  printf '%-7s %-40s %10s\n' "$n" "atlas plan (no-op, wg show dump)" "$(best_ms X env ATLAS_WG_OBSERVE=dump "$ATLAS" --data "$D" plan)"
  X /usr/bin/time -v "$ATLAS" --data "$D" plan > /dev/null 2> "$T/time"
  printf '%-7s %-40s %10s %10s\n' "$n" "  its peak RSS" "" "$(rss "$T/time")"
  dump_ms=$(best_ms X wg show atwbench0 dump)
  printf '%-7s %-40s %10s\n' "$n" "wg show IF dump, best of $ROUNDS" "$dump_ms"
  row "no-op atlas plan, $n peers, ms (baseline: wg show dump)" "<= 1.5x baseline" "$plan_ms ($(ratio "$plan_ms" "$dump_ms")x)" "$dump_ms"
  read -r ubest umean upeers < <(X "$T/uapi_get" atwbench0 "$ROUNDS")
  printf '%-7s %-40s %10s\n' "$n" "UAPI get=1 in-process, best" "$ubest"

  # One more peer on the full interface (CLI edit, then apply), best of 3.
  best=
  for i in 1 2 3; do
    "$ATLAS" --data "$D" wg peer add extra$i > /dev/null
    t0=$(now); X "$ATLAS" --data "$D" apply > /dev/null; t1=$(now)
    d=$(ms "$t0" "$t1"); [ -z "$best" ] || [ "$d" -lt "$best" ] && best=$d
  done
  printf '%-7s %-40s %10s\n' "$n" "atlas apply of one added peer" "$best"

  # Every peer changed (keepalive 25 -> 30): batched `wg set` runs.
  "$ATLAS" --data "$D" export --secrets | sed 's/keepalive: 25/keepalive: 30/' > "$T/ka.yaml"
  "$ATLAS" --data "$D" import "$T/ka.yaml" > /dev/null
  t0=$(now); X "$ATLAS" --data "$D" apply > /dev/null; t1=$(now)
  printf '%-7s %-40s %10s\n' "$n" "atlas apply: keepalive of every peer" "$(ms "$t0" "$t1")"

  row "atlas apply of $n new peers, ms, best of $APPLY_ROUNDS (baseline: wg syncconf)" "<= 1.2x baseline" "$apply_ms ($(ratio "$apply_ms" "$sync_ms")x)" "$sync_ms"
  t0=$(now); X wg syncconf atwbench1 "$T/sync.conf"; t1=$(now)
  printf '%-7s %-40s %10s\n' "$n" "wg syncconf no-op" "$(ms "$t0" "$t1")"

  X ip link del atwbench0 2>/dev/null || true
  X ip link del atwbench1 2>/dev/null || true
  for pid in $(ip netns pids $NS 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  ip netns del $NS
done
