#!/usr/bin/env bash
# Quotas on WireGuard (issue 12): `atlas serve` in a server namespace with two
# real wireguard-go clients in their own namespaces. alice (quota 2MiB)
# fetches 4 MiB from an HTTP server in the server namespace: at the next
# status tick she is off the interface and her pings fail, while bob pings
# on with no loss; `atlas usage` shows her quota used and suspended, the
# recorded run says why. The counters survive killing wireguard-go (Atlas
# recreates the interface, the new counters start from 0 and are added, not
# lost) and a restart of `atlas serve` (nothing counted twice, alice stays
# off). `atlas usage reset alice` brings her back with the same keys.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
need ip wg wireguard-go ping curl python3 jq
N=60
IF=atus$N
SNS_=atus-s$N; ANS=atus-a$N; BNS=atus-b$N
T=$(mktemp -d /tmp/atlas-e2e-usage-wg.XXXXXX)
cleanup() {
  local rc=$?
  # each step may fail (a process already gone): none may skip the rest, nor change the status
  [ -z "${PING_PID:-}" ] || kill "$PING_PID" 2>/dev/null || true
  [ -z "${SSE_PID:-}" ] || kill "$SSE_PID" 2>/dev/null || true
  api_stop
  ns_remove $ANS $BNS $SNS_
  rm -f /var/run/wireguard/$IF.sock /var/run/wireguard/atusa$N.sock /var/run/wireguard/atusb$N.sock
  rm -rf "$T"
  exit $rc
}
trap cleanup EXIT
ns_remove $ANS $BNS $SNS_
export ATLAS_SERVICE_MODE=direct
for ns in $SNS_ $ANS $BNS; do ip netns add $ns; ip -n $ns link set lo up; done
ip link add atusva$N netns $ANS type veth peer name atussa$N netns $SNS_
ip link add atusvb$N netns $BNS type veth peer name atussb$N netns $SNS_
ip -n $SNS_ addr add 172.28.60.1/24 dev atussa$N; ip -n $SNS_ link set atussa$N up
ip -n $SNS_ addr add 172.28.61.1/24 dev atussb$N; ip -n $SNS_ link set atussb$N up
ip -n $ANS addr add 172.28.60.2/24 dev atusva$N; ip -n $ANS link set atusva$N up
ip -n $BNS addr add 172.28.61.2/24 dev atusvb$N; ip -n $BNS link set atusvb$N up
ip -n $BNS route add 172.28.60.1/32 via 172.28.61.1
SV() { ip netns exec $SNS_ "$@"; }
A() { ip netns exec $ANS "$@"; }
B() { ip netns exec $BNS "$@"; }
usage_json() { SV "$ATLAS_BIN" --data "$T/data" usage --json; }
# usage_of USER FIELD
usage_of() { usage_json | jq -r --arg u "$IF/$1" ".[] | select(.user == \$u) | .$2"; }

API_NS=$SNS_
api_start "$T/data" 18060
U=$API_URL/api/v1
cat > "$T/state.yaml" <<Y
version: 1
settings:
  host: 172.28.60.1
  egress_interface: atussa$N
  resync: 2
wireguard:
  interfaces:
    - name: $IF
      listen_port: 51960
      address: [10.60.0.1/24]
      peers:
        - {name: alice, address: [10.60.0.2/32], allowed_ips: [10.60.0.0/24], quota: 2MiB}
        - {name: bob, address: [10.60.0.3/32], allowed_ips: [10.60.0.0/24]}
Y
api -fsS -X PUT --data-binary @"$T/state.yaml" "$U/state" >/dev/null || fail "PUT /state"
wait_for 10 SV wg show $IF >/dev/null || fail "interface $IF not created"
alice_pub=$(SV wg show $IF peers | head -0; api -fsS "$U/wireguard/interfaces/$IF/peers/alice" | jq -r .public_key)
[ ${#alice_pub} = 44 ] || fail "alice's public key"
# client_up NS DEV CONF: a wireguard-go client from the exact downloaded config
client_up() {
  local ns=$1 dev=$2 conf=$3 a
  grep -Ev '^(Address|DNS|MTU) *=' "$conf" > "$conf.wg"
  ip netns exec $ns wireguard-go $dev >/dev/null 2>&1 || fail "wireguard-go $dev"
  ip netns exec $ns wg setconf $dev "$conf.wg"
  for a in $(sed -n 's/^Address = //p' "$conf" | tr -d ' ' | tr ',' ' '); do ip netns exec $ns ip addr add "$a" dev $dev; done
  ip netns exec $ns ip link set $dev up
  for a in $(sed -n 's/^AllowedIPs = //p' "$conf" | tr -d ' ' | tr ',' ' '); do ip netns exec $ns ip route replace "$a" dev $dev; done
}
api -fsS -o "$T/alice.conf" "$U/wireguard/interfaces/$IF/peers/alice/config" || fail "alice config"
api -fsS -o "$T/bob.conf" "$U/wireguard/interfaces/$IF/peers/bob/config" || fail "bob config"
client_up $ANS atusa$N "$T/alice.conf"
client_up $BNS atusb$N "$T/bob.conf"
A ping -c 2 -W 1 -i 0.2 10.60.0.1 >/dev/null || fail "alice cannot ping through the tunnel"
B ping -c 2 -W 1 -i 0.2 10.60.0.1 >/dev/null || fail "bob cannot ping through the tunnel"
mkdir -p "$T/www"
head -c $((4 * 1048576)) /dev/urandom > "$T/www/blob4"
head -c $((3 * 1048576)) /dev/urandom > "$T/www/blob3"
head -c $((1 * 1048576)) /dev/urandom > "$T/www/blob1"
SV python3 -m http.server 8060 --bind 10.60.0.1 --directory "$T/www" >/dev/null 2>&1 &
wait_for 10 A curl -fsS -o /dev/null http://10.60.0.1:8060/blob1 >/dev/null || fail "HTTP server not reachable through the tunnel"
ok "two real clients through the tunnel, an HTTP server in the server namespace"

api_run curl -sS -N -H "Authorization: Bearer $API_TOKEN" "$U/events" > "$T/events" &
SSE_PID=$!
B curl -fsS -o /dev/null http://10.60.0.1:8060/blob3 || fail "bob's fetch"
# bob pings all along alice's cut: 0 loss expected
B ping -c 60 -i 0.2 -W 1 10.60.0.1 > "$T/bob.ping" 2>&1 &
PING_PID=$!
A curl -fsS -o /dev/null http://10.60.0.1:8060/blob4 || fail "alice's 4 MiB fetch"
ms=$(wait_for 15 absent "$alice_pub" SV wg show $IF peers) || fail "alice still on the interface"
ok "alice over quota: off the interface ${ms} ms after her fetch ended"
A ping -c 2 -W 1 10.60.0.1 >/dev/null 2>&1 && fail "alice still reaches the server"
ok "alice's pings fail"
wait "$PING_PID" || true
PING_PID=
grep -q ' 0% packet loss' "$T/bob.ping" || fail "bob lost packets: $(tail -2 "$T/bob.ping")"
ok "bob pinged on with 0 % loss while alice was cut"

st=$(usage_of alice state); used=$(usage_of alice period_bytes); reason=$(usage_of alice reason)
[ "$st" = suspended ] || fail "atlas usage: alice is \"$st\": $(usage_json)"
[ "$used" -ge $((2 * 1048576)) ] || fail "atlas usage: alice used $used"
grep -q "^quota 2 MiB used (" <<<"$reason" || fail "reason \"$reason\""
echo "  alice: $used bytes counted for a 2 MiB quota (overshoot $((used - 2 * 1048576)) bytes)"
SV "$ATLAS_BIN" --data "$T/data" usage | grep -E "^$IF/alice +wireguard .*2 MiB .*suspended: quota 2 MiB used" >/dev/null ||
  fail "atlas usage table: $(SV "$ATLAS_BIN" --data "$T/data" usage)"
api -fsS "$U/history" | jq -e --arg t "- wireguard/$IF peer alice: quota 2 MiB used (" \
  '[.runs[] | select(.trigger == "quota") | .actions[].text | select(startswith($t))] | length >= 1' >/dev/null ||
  fail "no recorded quota run saying why: $(api -sS "$U/history" | jq -c '.runs[0]')"
wait_for 8 grep -q '^event: suspended' "$T/events" >/dev/null || fail "no SSE suspended event"
grep -A1 '^event: suspended' "$T/events" | grep_q "\"user\":\"$IF/alice\"" || fail "suspended event for alice"
SV "$ATLAS_BIN" --data "$T/data" export | grep_q "suspended" && fail "suspension written into the desired state"
# one person's report: only alice's entry, from the CLI and the API; a bad name is refused
SV "$ATLAS_BIN" --data "$T/data" usage --json --user alice | jq -e --arg u "$IF/alice" \
  'length == 1 and .[0].user == $u and .[0].state == "suspended"' >/dev/null ||
  fail "usage --user alice: $(SV "$ATLAS_BIN" --data "$T/data" usage --json --user alice)"
api -fsS "$U/usage?days=3&user=alice" | jq -e --arg u "$IF/alice" \
  '(.users | length) == 1 and .users[0].user == $u and (.users[0].daily | length) >= 1' >/dev/null ||
  fail "GET /usage?user=alice: $(api -sS "$U/usage?days=3&user=alice")"
code=$(api -s -o "$T/bad" -w '%{http_code}' "$U/usage?user=a%20b")
[ "$code" = 400 ] && jq -e '.field == "user"' "$T/bad" >/dev/null || fail "usage?user=a b: $code $(cat "$T/bad")"
api_run curl -fsS "$API_URL/metrics" > "$T/metrics"
grep -Eq "^atlas_user_tx_bytes_total\{engine=\"wireguard\",user=\"$IF/alice\"\} [1-9][0-9]{6}" "$T/metrics" ||
  fail "metrics: $(grep atlas_user "$T/metrics" | head)"
ok "atlas usage shows alice suspended with the reason; the run said why; SSE suspended; metrics; desired state untouched"

bob_before=$(usage_of bob total_bytes)
for p in $(ip netns pids $SNS_); do
  tr '\0' ' ' 2>/dev/null < /proc/$p/cmdline | grep -q "^wireguard-go $IF" && kill -9 $p
done
wait_for 10 sh -c "! ip netns exec $SNS_ wg show $IF >/dev/null 2>&1" >/dev/null || fail "wireguard-go not killed"
wait_for 20 SV wg show $IF >/dev/null || fail "interface not recreated"
wait_for 20 B ping -c 1 -W 1 10.60.0.1 >/dev/null || fail "bob not back after the interface came back"
B curl -fsS -o /dev/null http://10.60.0.1:8060/blob1 || fail "bob's fetch after the recreation"
absent "$alice_pub" SV wg show $IF peers || fail "alice back on the recreated interface"
# the new counters (1 MiB, below the old 3 MiB) are added, not dropped
wait_for 15 sh -c "[ \$(ip netns exec $SNS_ '$ATLAS_BIN' --data '$T/data' usage --json | jq '.[] | select(.user == \"$IF/bob\") | .total_bytes') -ge $((bob_before + 1048576)) ]" >/dev/null ||
  fail "bob's usage after the recreation: $(usage_of bob total_bytes), before $bob_before"
ok "wireguard-go killed: interface recreated, alice kept off, bob's new traffic added to $bob_before"

bob_before=$(usage_of bob total_bytes)
alice_before=$(usage_of alice period_bytes)
api_stop
API_PW_KNOWN=$API_PW api_start "$T/data" 18060
sleep 7 # two status ticks and a resync after the restart: anything counted twice would show
bob_after=$(usage_of bob total_bytes)
alice_after=$(usage_of alice period_bytes)
[ "$alice_after" -ge "$alice_before" ] || fail "alice's usage went down across the restart: $alice_before -> $alice_after"
[ "$bob_after" -ge "$bob_before" ] && [ "$bob_after" -lt $((bob_before + 262144)) ] ||
  fail "bob's usage across the restart: $bob_before -> $bob_after (lost or counted twice)"
absent "$alice_pub" SV wg show $IF peers || fail "alice back on the interface after the restart"
ok "atlas serve restarted: usage kept (bob $bob_before -> $bob_after), alice still off"

susp0=$(grep -c "usage: wireguard/$IF/alice suspended" "$API_LOG" || true)
SV "$ATLAS_BIN" --data "$T/data" usage reset alice >/dev/null || fail "usage reset"
# the running server logs alice resumed after the CLI's reset (test_usage book_sees_a_reset
# checks that the reset itself, not new traffic, makes its accounting read the store again)
wait_for 10 grep -q "usage: wireguard/$IF/alice resumed" "$API_LOG" >/dev/null ||
  fail "the running server's accounting did not see the reset: $(grep "usage: " "$API_LOG" | tail -3)"
wait_for 20 present "$alice_pub" SV wg show $IF peers >/dev/null || fail "alice not back after the reset"
wait_for 10 A ping -c 1 -W 1 10.60.0.1 >/dev/null || fail "alice cannot ping after the reset (same config, same keys)"
[ "$(usage_of alice state)" = active ] || fail "alice not active after the reset"
ok "usage reset: alice back with the same keys"

# The overshoot at a steady 50 Mbit/s (logged, not asserted: bench figures are not test results):
# alice downloads at 6.25 MB/s until the cut stops her transfer.
head -c $((40 * 1048576)) /dev/zero > "$T/www/big"
A curl -s --max-time 12 --limit-rate 6250000 -o /dev/null http://10.60.0.1:8060/big || true
wait_for 15 absent "$alice_pub" SV wg show $IF peers >/dev/null || fail "alice not cut at 50 Mbit/s"
[ "$(grep -c "usage: wireguard/$IF/alice suspended" "$API_LOG")" -gt "$susp0" ] ||
  fail "alice's new crossing was not seen as one (cut by a resync only?)"
used=$(usage_of alice period_bytes)
echo "  overshoot at 50 Mbit/s: $((used - 2 * 1048576)) bytes past the 2 MiB quota ($used counted)"
ok "alice cut again during a 50 Mbit/s transfer"
sleep 2.5
api -fsS "$U/plan" | jq -e '.changes == 0' >/dev/null || fail "plan not empty: $(api -sS "$U/plan")"
ok "converged: empty plan"
