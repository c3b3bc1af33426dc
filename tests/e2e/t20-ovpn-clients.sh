#!/usr/bin/env bash
# t20-ovpn-clients: real openvpn clients in namespaces connect with the exact
# text of `atlas ovpn config`; alice gets her static IP; deleting bob revokes
# him and cuts his session at once while alice and the server stay untouched;
# disabling carol kicks and refuses her, enabling lets her in again with the
# same certificate; apply converges.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/lib-ovpn.sh

net_setup 20 3
{ ovpn_yaml_head; cat <<YAML
  routes: [10.99.0.0/24]
  clients:
    - name: alice
      static_ip: 10.9.0.10
    - name: bob
    - name: carol
YAML
} > "$T/state.yaml"
cli import "$T/state.yaml" >/dev/null
[ "$(plan_rc)" = 2 ] || fail "plan before the first apply should exit 2"
grep -q 'certificate "alice"' "$T/plan.out" || fail "plan does not issue alice"
apply_converged
ok "first apply converged; second apply did nothing"

# The PKI: modes and contents.
[ "$(stat -c %a "$D/pki/ca.key")" = 600 ] || fail "ca.key is not 0600"
[ "$(stat -c %a "$D/pki/private/alice.key")" = 600 ] || fail "alice.key is not 0600"
[ "$(stat -c %a "$D/pki/tls-crypt.key")" = 600 ] || fail "tls-crypt.key is not 0600"
[ "$(stat -c %a "$D/pki/crl.pem")" = 644 ] || fail "crl.pem is not 0644"
grep -q "^V.*/CN=alice$" "$D/pki/index.txt" || fail "index has no alice"
if grep -qE 'comp-lzo|^compress|ncp-ciphers|ns-cert-type|^cipher ' "$D/openvpn/server.conf"; then
  fail "server.conf has legacy directives"
fi

client_up alice ato-20c1
client_up bob ato-20c2
client_up carol ato-20c3
wait_ping ato-20c1 10.9.0.1 30 || fail "alice cannot ping the server"
wait_ping ato-20c2 10.9.0.1 30 || fail "bob cannot ping the server"
wait_ping ato-20c3 10.9.0.1 30 || fail "carol cannot ping the server"
ok "alice, bob and carol ping 10.9.0.1 through the tunnel"
[ "$(tun_addr ato-20c1)" = 10.9.0.10 ] || fail "alice has $(tun_addr ato-20c1), not her static 10.9.0.10"
bob_ip=$(tun_addr ato-20c2)
[ "${bob_ip%.*}" = 10.9.0 ] && [ "${bob_ip##*.}" -ge 128 ] || fail "bob's $bob_ip is not in the pool"
ok "alice got her static 10.9.0.10, bob $bob_ip from the pool"
cli ovpn status
[ "$(session_field alice 3)" = 10.9.0.10 ] || fail "status does not show alice at 10.9.0.10"

# ---- delete bob: revoke + kill, only him ----
alice_cid=$(session_cid alice)
pid=$(server_pid)
ip netns exec ato-20c1 ping -i 0.2 -c 100 -W 1 10.9.0.1 > "$T/alice-ping.txt" 2>&1 &
pinger=$!
wait_for 10 grep -q 'bytes from' "$T/alice-ping.txt" >/dev/null || fail "alice does not ping before bob's removal"
cli ovpn client rm bob
[ "$(plan_rc)" = 2 ] || fail "plan after rm bob should exit 2"
cat "$T/plan.out"
grep -q 'certificate "bob": revoked' "$T/plan.out" || fail "plan does not revoke bob"
grep -q 'x openvpn session "bob"' "$T/plan.out" || fail "plan does not kill bob's session"
grep -q 'restart' "$T/plan.out" && fail "plan restarts the server for a client change"
ip netns exec ato-20c2 ping -D -i 0.2 -W 1 10.9.0.1 > "$T/bob-ping.txt" 2>&1 &
bob_pinger=$!
wait_for 10 grep -q 'bytes from' "$T/bob-ping.txt" >/dev/null || fail "bob never pinged before his revocation"
refused0=$(refusals bob)
t0=$(date +%s.%N)
apply_converged
t1=$(date +%s.%N)
alive $pinger || fail "alice's pinger ended before the apply did: her count would prove nothing"
alive $bob_pinger || fail "bob's pinger ended before the apply did"
# bob's client tries again (connect-retry 1): the event that shows he is refused.
bob_refused() { [ "$(refusals bob)" -gt "$refused0" ]; }
wait_for 60 bob_refused >/dev/null || fail "the server log shows no CRL refusal of bob's reconnect"
kill -INT $bob_pinger; wait $bob_pinger || true   # lost pings make ping exit 1: its log is the result
last=$(grep -oE '^\[[0-9.]+\] [0-9]+ bytes from' "$T/bob-ping.txt" | tail -1 | tr -d '[]' | cut -d' ' -f1)
# Order, not latency: no reply once the apply has returned.
[ "$(echo "$last < $t1" | bc)" = 1 ] || fail "bob got a ping reply after the apply returned ($last > $t1)"
ok "bob's last ping reply came before the apply returned ($(echo "$last - $t0" | bc)s after it started, logged only)"
[ -z "$(session_cid bob)" ] || fail "bob reconnected"
ip netns exec ato-20c2 ping -c2 -W1 10.9.0.1 >/dev/null 2>&1 && fail "bob pings again"
grep -q "^R.*/CN=bob$" "$D/pki/index.txt" || fail "bob is not revoked in the index"
bob_serial=$(awk -F'\t' '$6 == "/CN=bob" { print $4 }' "$D/pki/index.txt")
openssl crl -in "$D/pki/crl.pem" -noout -text | grep_q -i "Serial Number: $bob_serial" ||
  fail "crl.pem does not list bob's serial $bob_serial"
ok "bob is revoked, in the CRL, and cannot reconnect"
wait $pinger || true   # the loss figure below is the result
loss=$(grep -oE '[0-9.]+% packet loss' "$T/alice-ping.txt" | cut -d% -f1)
[ "$loss" = 0 ] || fail "alice lost $loss% of her pings during bob's revocation"
[ "$(session_cid alice)" = "$alice_cid" ] || fail "alice's client id changed"
[ "$(server_pid)" = "$pid" ] && alive "$pid" || fail "the server restarted"
ok "alice untouched (client id $alice_cid, 0% loss), server pid $pid unchanged"

# ---- disable / enable carol ----
carol_serial=$(awk -F'\t' '$1 == "V" && $6 == "/CN=carol" { print $4 }' "$D/pki/index.txt")
cli ovpn client disable carol
[ "$(plan_rc)" = 2 ] || fail "plan after disable carol should exit 2"
grep -q 'ccd/carol' "$T/plan.out" || fail "plan does not rewrite carol's CCD"
grep -q 'x openvpn session "carol".*disabled' "$T/plan.out" || fail "plan does not kill carol"
apply_converged
grep -qx disable "$D/openvpn/ccd/carol" || fail "carol's CCD has no disable"
# a refused client is listed until its delayed exit (5 s) ends
for i in $(seq 1 20); do [ -z "$(session_cid carol)" ] && break; sleep 0.5; done
[ -z "$(session_cid carol)" ] || fail "carol is still connected"
ip netns exec ato-20c3 ping -c2 -W1 10.9.0.1 >/dev/null 2>&1 && fail "disabled carol pings"
grep -q AUTH_FAILED "$T/carol.log" || fail "carol was not refused (no AUTH_FAILED)"
ok "disabled carol is kicked and refused"
client_down carol
cli ovpn client enable carol
apply_converged
client_up carol ato-20c3
wait_ping ato-20c3 10.9.0.1 30 || fail "enabled carol cannot connect"
[ "$(session_cid alice)" = "$alice_cid" ] || fail "alice's client id changed"
[ "$(server_pid)" = "$pid" ] || fail "the server restarted"
[ "$(awk -F'\t' '$1 == "V" && $6 == "/CN=carol" { print $4 }' "$D/pki/index.txt")" = "$carol_serial" ] ||
  fail "carol's certificate changed"
ok "enabled carol connects again with the same certificate ($carol_serial)"

# ---- issue 16.1: the server's files are apart from the clients', names reserved ----
[ -e "$D/pki/issued/atlas-server.crt" ] && fail "the server certificate lies among the client certificates"
[ "$(stat -c %a "$D/pki/server/server.key")" = 600 ] || fail "server.key is not 0600"
out=$(cli ovpn client add atlas-server 2>&1) && fail "a client named atlas-server was accepted: $out"
grep -q 'reserved' <<<"$out" || fail "refusal of atlas-server does not say why: $out"
# a data directory of the old layout moves, without restarting the running server
mv "$D/pki/server/server.crt" "$D/pki/issued/atlas-server.crt"
mv "$D/pki/server/server.key" "$D/pki/private/atlas-server.key"
rmdir "$D/pki/server"
sed -i "s|^cert .*|cert $D/pki/issued/atlas-server.crt|; s|^key .*|key $D/pki/private/atlas-server.key|" "$D/openvpn/server.conf"
[ "$(plan_rc)" = 2 ] || fail "plan of the old layout should exit 2"
grep -q 'moves to pki/server/' "$T/plan.out" || fail "plan does not move the server certificate"
grep -q '! openvpn server: restart' "$T/plan.out" && fail "moving the server certificate restarts the server"
apply_converged
[ -f "$D/pki/server/server.key" ] && [ ! -e "$D/pki/private/atlas-server.key" ] || fail "the server key did not move"
[ "$(server_pid)" = "$pid" ] && alive "$pid" || fail "the server restarted for the move"
[ "$(session_cid alice)" = "$alice_cid" ] || fail "alice's session changed during the move"
ok "old layout moved to pki/server/ without a restart; atlas-server refused as a client name"

[ "$(plan_rc)" = 0 ] || fail "final plan not empty"
echo "PASS t20-ovpn-clients"
