#!/usr/bin/env bash
# OpenVPN through the API (issue 5): `atlas serve` in a server namespace;
# a client created with POST gets its inline .ovpn from the API and a real
# openvpn client connects with it; its live status shows; DELETE revokes it
# and cuts the session; POST /openvpn/restart restarts the daemon on
# purpose and is recorded in the history.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
need ip openvpn ping
N=32
api_test $N api-ovpn 18082
{ api_settings; cat <<Y; } > "$T/base.yaml"
openvpn:
  port: 11932
  network: 10.32.0.0/24
  routes: [10.32.0.0/24]
Y
api -fsS -X PUT --data-binary @"$T/base.yaml" "$U/state" >/dev/null || fail "PUT /state"
api -fsS -X POST -d '{"name":"bob","note":"laptop"}' "$U/openvpn/clients" > "$T/bob.json" || fail "POST client"
jq -e '.name == "bob" and .note == "laptop"' "$T/bob.json" >/dev/null || fail "client answer $(cat "$T/bob.json")"
wait_for 20 api_check $U/status '.pending == false and .engines.openvpn.running' >/dev/null ||
  fail "openvpn not running: $(api -sS "$U/status") $(tail -5 "$T/data.log")"
ok "client created; the loop started the server"

hdr=$(api -fsS -D - -o "$T/bob.ovpn" "$U/openvpn/clients/bob/config") || fail "GET .ovpn: $(cat "$T/bob.ovpn")"
grep -qi '^Content-Type: application/x-openvpn-profile' <<<"$hdr" || fail "ovpn type: $hdr"
grep -qi '^Content-Disposition: attachment; filename="bob.ovpn"' <<<"$hdr" || fail "ovpn disposition"
grep -q '^<cert>' "$T/bob.ovpn" && grep -q "^remote 172.29.$N.1 11932" "$T/bob.ovpn" || fail "profile: $(head -20 "$T/bob.ovpn")"
CNS openvpn --config "$T/bob.ovpn" --dev atat$N --dev-type tun --writepid "$T/client.pid" \
  --log "$T/client.log" --daemon || fail "openvpn client start"
wait_for 20 sh -c "ip netns exec ata-c$N ip -4 addr show atat$N | grep 'inet 10.32.0.' >/dev/null" >/dev/null ||
  fail "client got no tunnel address: $(tail -20 "$T/client.log")"
CNS ping -c 3 -W 1 -i 0.2 10.32.0.1 >/dev/null || fail "client cannot ping the server"
ok "a real openvpn client connects with the downloaded profile"

wait_for 8 api_check $U/openvpn/clients/bob '.status.connected' >/dev/null ||
  fail "bob's status: $(api -sS "$U/openvpn/clients/bob")"
wait_for 5 sh -c "ip netns exec ata-s$N curl -fsS $API_URL/metrics | grep '^atlas_openvpn_clients_connected 1$' >/dev/null" >/dev/null ||
  fail "metrics: $(api_run curl -sS "$API_URL/metrics" | grep openvpn)"
api_run curl -fsS "$API_URL/metrics" | grep -Eq '^atlas_openvpn_client_bytes_received\{client="bob"\} [1-9]' ||
  fail "no per-client traffic metric"
ok "client status shows the session; per-client metrics"

serial=$(sed -n '/^<cert>/,/^<\/cert>/p' "$T/bob.ovpn" | sed '1d;$d' | openssl x509 -noout -serial | cut -d= -f2)
[ -n "$serial" ] || fail "no serial in bob's certificate"
srv_log=$T/data/openvpn/openvpn.log
refusals() { grep -ciE 'certificate revoked|CRL.*(revoked|reject)' "$srv_log" || true; }
code=$(api -o /dev/null -w '%{http_code}' -X DELETE "$U/openvpn/clients/bob")
[ "$code" = 204 ] || fail "DELETE client: $code"
# Cut: three pings in a row without a reply (one lost ping proves nothing).
cut() { ! CNS ping -c 3 -i 0.3 -W 1 10.32.0.1 >/dev/null 2>&1; }
wait_for 15 cut >/dev/null || fail "bob's session survived DELETE"
wait_for 8 api_check $U/status '.engines.openvpn.connected == 0 and .pending == false' >/dev/null ||
  fail "status after revoke: $(api -sS "$U/status")"
openssl crl -in "$T/data/pki/crl.pem" -noout -text > "$T/crl.txt" || fail "the CRL is unreadable"
grep -qi "Serial Number: *$serial" "$T/crl.txt" || fail "bob's serial $serial is not in the CRL: $(grep -i serial "$T/crl.txt")"
# A reconnect with the same profile is refused by the server (its CRL check).
kill "$(cat "$T/client.pid")" 2>/dev/null || true
wait_for 5 sh -c "! kill -0 $(cat "$T/client.pid") 2>/dev/null" >/dev/null || fail "old bob client did not stop"
refused0=$(refusals)
CNS openvpn --config "$T/bob.ovpn" --dev atat$N --dev-type tun --writepid "$T/client.pid" \
  --log "$T/client2.log" --connect-retry 1 1 --daemon || fail "openvpn client restart"
wait_for 20 sh -c "[ \$(grep -ciE 'certificate revoked|CRL.*(revoked|reject)' '$srv_log') -gt $refused0 ]" >/dev/null ||
  fail "the server did not refuse bob's reconnect: $(tail -10 "$srv_log")"
grep -q 'Initialization Sequence Completed' "$T/client2.log" && fail "revoked bob completed a connection"
cut || fail "revoked bob reaches the server again"
ok "DELETE revoked bob (serial in the CRL), cut the session (3 pings in a row lost), and his reconnect is refused"

pid0=$(cat "$T/data/run/openvpn.pid") || fail "no openvpn pid file"
kill -0 "$pid0" || fail "openvpn pid $pid0 not running"
api -fsS -X POST "$U/openvpn/restart" > "$T/restart.json" || fail "POST /openvpn/restart: $(cat "$T/restart.json")"
jq -e '.ok' "$T/restart.json" >/dev/null || fail "restart: $(cat "$T/restart.json")"
pid1=$(cat "$T/data/run/openvpn.pid") || fail "no openvpn pid file after restart"
[ "$pid1" != "$pid0" ] && kill -0 "$pid1" || fail "openvpn not restarted: pid $pid0 -> $pid1"
! alive "$pid0" || fail "the old openvpn $pid0 still runs"
api -fsS "$U/history" | jq -e '.runs[0].trigger == "restart openvpn"' >/dev/null || fail "restart not in history"
api -fsS "$U/plan" | jq -e '.changes == 0' >/dev/null || fail "plan after restart: $(api -sS "$U/plan")"
ok "restart on purpose: a new daemon (pid $pid0 -> $pid1), recorded; plan empty"
