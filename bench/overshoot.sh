#!/usr/bin/env bash
# Quota overshoot (issue 12), printed, never asserted: a user with
# `quota: 20MiB` fetches from an HTTP server at a steady 50 Mbit/s (a token
# bucket on the server's veth towards the client) with `atlas serve`
# enforcing, in two parts, each in its own process:
#  - WireGuard: a wireguard-go peer fetches from the server namespace through
#    the tunnel; a sampler reads the peer's counters (rx + tx, what Atlas
#    counts) from `wg show` every ~50 ms until the peer leaves the interface;
#  - Shadowsocks: a real sing-box client (lib-sb.sh's namespaces, tag 190)
#    fetches from "the internet"; the sampler follows curl's payload, about
#    what SSM counts (the HTTP server runs ahead by what the proxies buffer).
# Prints the status tick, the time from crossing the quota to the cut and
# the bytes past the quota: by Atlas's own record (`atlas usage --json`; for
# WireGuard it misses what moved between its last tick and the removal), by
# the last counter reading and by curl. Each fetch starts at a random phase
# of the tick. Root; namespaces atbo-s/atbo-c and atsb-190*: run it under
# `flock /tmp/atlas-e2e.lock`. usage: bench/overshoot.sh [BUILD_DIR]
# (OVERSHOOT_PART=wg|ss: one part; OVERSHOOT_KEEP=FILE keeps the Shadowsocks samples)
set -euo pipefail
B=${1:-build}
cd "$(dirname "$0")/.."
. bench/table.sh
export ATLAS_BIN=${ATLAS_BIN:-$PWD/$B/atlas}
[ "$(id -u)" = 0 ] || { echo "bench/overshoot.sh: needs root (network namespaces)"; exit 1; }
QUOTA=$((20 * 1048576))
# the steady 50 Mbit/s: a token bucket on the server's veth towards the client (curl's
# --limit-rate reads in bursts: through a local proxy the tunnel would see 10 MB at once)
shape() { ip netns exec "$1" tc qdisc replace dev "$2" root tbf rate 50mbit burst 32kb latency 100ms; }
TICK=$(sed -n 's/^#define TICK_SECONDS \([0-9]*\).*/\1/p' api/ticker.c)
# phase: sleeps a random part of the status tick, so runs spread over its range
phase() { sleep "$(awk -v t="$TICK" 'BEGIN { srand(); printf "%.2f", rand() * t }')"; }
# each part in its own process, with its own cleanup
case ${OVERSHOOT_PART:-} in
  "")
    OVERSHOOT_PART=wg bash "$0" "$@" || echo "overshoot: the WireGuard part failed"
    OVERSHOOT_PART=ss bash "$0" "$@" || echo "overshoot: the Shadowsocks part failed"
    exit 0 ;;
  ss)
    . tests/e2e/lib-api.sh
    . tests/e2e/lib-sb.sh
    export ATLAS_LOG=info
    net_setup 190
    { sb_yaml_head
      printf '    - name: ssin\n      type: shadowsocks\n      port: 8388\n      users:\n        - {name: ss1, quota: 20MiB}\n'
    } > "$T/state.yaml"
    cli import "$T/state.yaml" > /dev/null || fail "import"
    head -c $((100 * 1048576)) /dev/zero > "$T/www/big"
    API_NS=$SRV
    api_start "$D" 18190
    for _ in $(seq 100); do alive "$(sb_pid)" && break; sleep 0.1; done
    alive "$(sb_pid)" || fail "sing-box not started by atlas serve"
    client_up ss1 ssin 1080
    [ "$(fetch 1080)" = "hello from the internet 190" ] || fail "no page through the client"
    # bytes the internet's HTTP server sent (IP packets: ~3 % above the payload)
    sent() { ip -n "$NET" -j -s link show eth0 | jq '.[0].stats64.tx.bytes'; }
    shape "$SRV" atsbc
    phase
    base=$(sent)
    ip netns exec "$CLI" curl -s --max-time 15 --socks5-hostname 127.0.0.1:1080 \
      -o "$T/got" "http://$NET_IP:8080/big" &
    CURL=$!
    while kill -0 $CURL 2>/dev/null; do
      echo "$(date +%s%N) $(( $(sent) - base )) $(stat -c %s "$T/got" 2>/dev/null || echo 0)"
      sleep 0.05
    done > "$T/samples"
    wait $CURL || true
    [ -z "${OVERSHOOT_KEEP:-}" ] || cp "$T/samples" "$OVERSHOOT_KEEP"
    got=$(stat -c %s "$T/got")
    sleep $((TICK + 1))            # the tick that reads the last bytes
    used=$(cli usage --json | jq -r '.[] | select(.user == "ss1") | .period_bytes')
    state=$(cli usage --json | jq -r '.[] | select(.user == "ss1") | .state')
    # crossing: curl has received the quota (what SSM counts is about curl's payload; the
    # HTTP server runs ahead by what the proxies buffer); cut: curl's last growth
    read -r cross_ns cut_ns sent_bytes < <(awk -v q=$QUOTA '
      { if (!cross && $3 >= q) cross = $1; if ($3 > prev) cut = $1; prev = $3; s = $2 }
      END { printf "%s %s %s\n", cross ? cross : 0, cut ? cut : 0, s ? s : 0 }' "$T/samples")
    ms=$(( (cut_ns - cross_ns) / 1000000 ))
    echo "  Shadowsocks (sing-box), status tick: ${TICK} s; sampler: $(wc -l < "$T/samples") readings, ~50 ms apart"
    echo "  crossing -> cut: ${ms} ms (by curl's payload; ss1 $state)"
    echo "  past the 20 MiB quota: $((used - QUOTA)) B by atlas usage ($used), $((sent_bytes - QUOTA)) B sent by the HTTP server ($sent_bytes, IP), $((got - QUOTA)) B by curl's payload ($got)"
    row "quota overshoot at 50 Mbit/s (Shadowsocks)" "<= one tick" \
      "$(awk -v b=$((used - QUOTA)) -v m=$ms -v t=$TICK 'BEGIN { printf "%.1f MiB, %.2f s (tick %d s)", b / 1048576, m / 1000, t }')"
    exit 0 ;;
esac
. tests/e2e/lib-api.sh
need ip wg wireguard-go curl python3 jq
export ATLAS_LOG=info
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

shape $SNS_ atbovs
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
# start at a random phase of the status tick, so runs spread over its range
phase
sample > "$T/samples" &
SAMPLER=$!
got=$(CL curl -s --max-time 15 -o /dev/null -w '%{size_download}' http://10.90.0.1:8090/big || true)
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
