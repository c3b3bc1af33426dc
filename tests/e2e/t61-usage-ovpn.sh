#!/usr/bin/env bash
# Quotas on OpenVPN (issue 12): `atlas serve` in the server namespace, two
# real openvpn clients. alice (quota 2MiB) fetches 4 MiB from an HTTP server
# in the server namespace: at the next status tick her session is killed
# (management kill) and she cannot reconnect (CCD disable), while bob pings
# on with no loss and keeps the same client id; `atlas usage` shows her
# quota used; the recorded run said why. A restart of `atlas serve` keeps
# the usage; `atlas usage reset alice` lets her back in with the same
# certificate.
set -euo pipefail
cd "$(dirname "$0")/../.."
OVPN_PFX=atus
. tests/e2e/lib-ovpn.sh
. tests/e2e/lib-api.sh
need curl python3 jq

net_setup 61 2
cat > "$T/state.yaml" <<YAML
version: 1
settings:
  host: 10.250.0.1
  resync: 2
openvpn:
  port: 1194
  network: 10.61.0.0/24
  routes: [10.99.61.0/24]
  clients:
    - {name: alice, quota: 2MiB}
    - name: bob
YAML
cli import "$T/state.yaml" > /dev/null || fail "import"
API_NS=$SRV
api_start "$D" 18061
U=$API_URL/api/v1
wait_for 30 test -s "$D/run/openvpn.pid" >/dev/null || fail "openvpn not started by atlas serve"
usage_json() { cli usage --json; }
usage_of() { usage_json | jq -r --arg u "$1" ".[] | select(.user == \$u and .engine == \"openvpn\") | .$2"; }
client_up alice $P-61c1
client_up bob $P-61c2
wait_ping $P-61c1 10.61.0.1 30 || fail "alice cannot connect"
wait_ping $P-61c2 10.61.0.1 30 || fail "bob cannot connect"
mkdir -p "$T/www"
head -c $((4 * 1048576)) /dev/urandom > "$T/www/blob4"
ip netns exec "$SRV" python3 -m http.server 8061 --bind 10.61.0.1 --directory "$T/www" > "$T/http.log" 2>&1 &
wait_for 10 ip netns exec $P-61c2 curl -fsS -o /dev/null http://10.61.0.1:8061/ >/dev/null || fail "HTTP server not reachable"
bob_cid=$(session_cid bob)
[ -n "$bob_cid" ] || fail "bob has no session"
ok "two real openvpn clients connected; HTTP server in the server namespace"

ip netns exec $P-61c2 ping -c 60 -i 0.2 -W 1 10.61.0.1 > "$T/bob.ping" 2>&1 &
PING=$!
ip netns exec $P-61c1 curl -fsS -o /dev/null http://10.61.0.1:8061/blob4 || fail "alice's fetch"
no_session() { [ -z "$(session_cid alice)" ]; }
ms=$(wait_for 20 no_session) || fail "alice keeps her session: $(cli ovpn status)"
ok "alice over quota: session killed ${ms} ms after her fetch ended"
# her client restarts, reconnects and is refused: AUTH_FAILED (it then gives up)
wait_for 30 grep -q AUTH_FAILED "$T/alice.log" >/dev/null ||
  fail "alice's reconnect was not refused: $(tail -5 "$T/alice.log")"
no_session || fail "alice got a session back"
ip netns exec $P-61c1 ping -c 2 -W 1 10.61.0.1 >/dev/null 2>&1 && fail "alice still reaches the server"
ok "alice's client reconnects and is refused (CCD disable); her pings fail"
wait "$PING" || true
grep -q ' 0% packet loss' "$T/bob.ping" || fail "bob lost packets: $(tail -2 "$T/bob.ping")"
[ "$(session_cid bob)" = "$bob_cid" ] || fail "bob's session changed: $bob_cid -> $(session_cid bob)"
ok "bob pinged on with 0 % loss, same client id $bob_cid"

[ "$(usage_of alice state)" = suspended ] || fail "atlas usage: $(usage_json)"
used=$(usage_of alice period_bytes)
[ "$used" -ge $((2 * 1048576)) ] || fail "alice used $used"
echo "  alice: $used bytes counted for a 2 MiB quota"
api -fsS "$U/history" | jq -e '[.runs[] | select(.trigger == "quota") | .actions[].text |
    select(test("^x openvpn session \"alice\" .*: quota 2 MiB used \\("))] | length >= 1' >/dev/null ||
  fail "no recorded run saying why: $(api -sS "$U/history" | jq -c '[.runs[] | select(.trigger == "quota")]')"
grep -qx disable "$D/openvpn/ccd/alice" || fail "alice's CCD has no disable"
cli export | grep_q suspended && fail "suspension written into the desired state"
ok "atlas usage shows alice suspended ($used bytes); the run said why; desired state untouched"

before=$(usage_of bob total_bytes)
api_stop
API_PW_KNOWN=$API_PW api_start "$D" 18061
sleep 7
after=$(usage_of bob total_bytes)
[ "$after" -ge "$before" ] && [ "$after" -lt $((before + 262144)) ] || fail "bob's usage across the restart: $before -> $after"
[ "$(usage_of alice state)" = suspended ] || fail "alice not suspended after the restart"
ok "atlas serve restarted: bob's usage kept ($before -> $after), alice still suspended"

cli usage reset alice > /dev/null || fail "usage reset"
wait_for 30 sh -c "! grep -qx disable '$D/openvpn/ccd/alice'" >/dev/null || fail "alice's CCD still disables her"
# her client gave up at AUTH_FAILED: start it again, same profile, same certificate
client_down alice
client_up alice $P-61c1
wait_ping $P-61c1 10.61.0.1 60 || fail "alice cannot reconnect after the reset"
ok "usage reset: alice reconnects with the same certificate"
