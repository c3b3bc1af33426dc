#!/usr/bin/env bash
# Quota overshoot (issue 12), printed, never asserted: a WireGuard peer with
# `quota: 20MiB` fetches at a steady 50 Mbit/s (curl --limit-rate 6250K)
# through the tunnel from an HTTP server in the server namespace, with
# `atlas serve` enforcing. A sampler reads the peer's counters (rx + tx, what
# Atlas counts) from `wg show` every ~50 ms until the peer leaves the
# interface. Prints: the status tick, the time from crossing the quota to the
# cut, the bytes past the quota by the last counter reading before the cut,
# by Atlas's own record (`atlas usage --json`, which misses what moved
# between its last tick and the removal) and by what curl received.
# Root; creates namespaces atbo-s/atbo-c: run it under
# `flock /tmp/atlas-e2e.lock`. usage: bench/overshoot.sh [BUILD_DIR]
set -euo pipefail
B=${1:-build}
cd "$(dirname "$0")/.."
. bench/table.sh
export ATLAS_BIN=${ATLAS_BIN:-$PWD/$B/atlas}
[ "$(id -u)" = 0 ] || { echo "bench/overshoot.sh: needs root (network namespaces)"; exit 1; }
. tests/e2e/lib-api.sh
need ip wg wireguard-go curl python3 jq
export ATLAS_LOG=info
QUOTA=$((20 * 1048576))
RATE=6250K                       # 6,400,000 B/s payload (curl's K is 1024): ~51 Mbit/s
TICK=$(sed -n 's/^#define TICK_SECONDS \([0-9]*\).*/\1/p' api/ticker.c)
IF=atbosrv; CIF=atbocli
SNS_=atbo-s; CNS_=atbo-c
T=$(mktemp -d /tmp/atlas-bench-overshoot.XXXXXX)
cleanup() {
  [ -z "${SAMPLER:-}" ] || kill "$SAMPLER" 2>/dev/null || true
  api_stop
  ns_remove $CNS_ $SNS_
  rm -f /var/run/wireguard/$IF.sock /var/run/wireguard/$CIF.sock
  rm -rf "$T"
}
trap cleanup EXIT
ns_remove $CNS_ $SNS_
export ATLAS_SERVICE_MODE=direct
for ns in $SNS_ $CNS_; do ip netns add $ns; ip -n $ns link set lo up; done
ip link add atbovc netns $CNS_ type veth peer name atbovs netns $SNS_
ip -n $SNS_ addr add 172.28.90.1/24 dev atbovs; ip -n $SNS_ link set atbovs up
ip -n $CNS_ addr add 172.28.90.2/24 dev atbovc; ip -n $CNS_ link set atbovc up
SV() { ip netns exec $SNS_ "$@"; }
CL() { ip netns exec $CNS_ "$@"; }

API_NS=$SNS_
api_start "$T/data" 18090
U=$API_URL/api/v1
cat > "$T/state.yaml" <<Y
version: 1
settings:
  host: 172.28.90.1
  egress_interface: atbovs
wireguard:
  interfaces:
    - name: $IF
      listen_port: 51990
      address: [10.90.0.1/24]
      peers:
        - {name: alice, address: [10.90.0.2/32], allowed_ips: [10.90.0.0/24], quota: 20MiB}
Y
api -fsS -X PUT --data-binary @"$T/state.yaml" "$U/state" >/dev/null || fail "PUT /state"
wait_for 10 SV wg show $IF >/dev/null || fail "interface $IF not created"
pub=$(api -fsS "$U/wireguard/interfaces/$IF/peers/alice" | jq -r .public_key)
api -fsS -o "$T/alice.conf" "$U/wireguard/interfaces/$IF/peers/alice/config" || fail "alice's config"
grep -Ev '^(Address|DNS|MTU) *=' "$T/alice.conf" > "$T/alice.wg"
CL wireguard-go $CIF >/dev/null 2>&1 || fail "wireguard-go $CIF"
CL wg setconf $CIF "$T/alice.wg"
CL ip addr add 10.90.0.2/32 dev $CIF
CL ip link set $CIF up
CL ip route replace 10.90.0.0/24 dev $CIF
mkdir -p "$T/www"
head -c $((100 * 1048576)) /dev/zero > "$T/www/big"
head -c 1024 /dev/zero > "$T/www/small"
SV python3 -m http.server 8090 --bind 10.90.0.1 --directory "$T/www" >/dev/null 2>&1 &
wait_for 10 CL curl -fsS -o /dev/null http://10.90.0.1:8090/small >/dev/null || fail "HTTP server not reachable through the tunnel"

# sampler: "ns-epoch rx+tx" per reading while the peer is on, then "ns-epoch gone"
sample() {
  local line
  while :; do
    line=$(SV wg show $IF transfer | awk -v k="$pub" '$1 == k { print $2 + $3 }')
    if [ -z "$line" ]; then echo "$(date +%s%N) gone"; return 0; fi
    echo "$(date +%s%N) $line"
    sleep 0.05
  done
}
sample > "$T/samples" &
SAMPLER=$!
got=$(CL curl -s --max-time 15 --limit-rate $RATE -o /dev/null -w '%{size_download}' http://10.90.0.1:8090/big || true)
wait "$SAMPLER" || true
SAMPLER=
grep -q ' gone$' "$T/samples" || fail "alice never cut: $(tail -2 "$T/samples")"
used=$(SV "$ATLAS_BIN" --data "$T/data" usage --json | jq -r '.[] | select(.user == "'$IF'/alice") | .period_bytes')
state=$(SV "$ATLAS_BIN" --data "$T/data" usage --json | jq -r '.[] | select(.user == "'$IF'/alice") | .state')
read -r cross_ns cut_ns last_bytes < <(awk -v q=$QUOTA '
  $2 == "gone" { cut = $1; exit }
  { if (!cross && $2 >= q) cross = $1; last = $2 }
  END { printf "%s %s %s\n", cross ? cross : 0, cut ? cut : 0, last ? last : 0 }' "$T/samples")
ms=$(( (cut_ns - cross_ns) / 1000000 ))
over_wg=$((last_bytes - QUOTA)); over_atlas=$((used - QUOTA)); over_curl=$((${got%.*} - QUOTA))
echo "  status tick: ${TICK} s; sampler: $(wc -l < "$T/samples") readings, ~50 ms apart"
echo "  crossing -> cut: ${ms} ms"
echo "  past the 20 MiB quota: ${over_wg} B by the peer's last counter reading ($last_bytes), ${over_atlas} B by atlas usage ($used, $state), ${over_curl} B by curl's payload ($got)"
row "quota overshoot at 50 Mbit/s (WireGuard)" "<= one tick" \
  "$(awk -v b=$over_wg -v m=$ms -v t=$TICK 'BEGIN { printf "%.1f MiB, %.2f s (tick %d s)", b / 1048576, m / 1000, t }')"
