#!/usr/bin/env bash
# t21-ovpn-drift: a CCD file edited or removed by hand, the CRL deleted by
# hand and the daemon killed are each reported by `plan` and healed by
# `apply`; a server-level change restarts the server and the plan says how
# many clients it drops; `enabled: false` stops the daemon and keeps the PKI.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/lib-ovpn.sh

net_setup 21 1
write_state() { # $1: enabled, $2: dns, $3: proto (udp)
  { ovpn_yaml_head; cat <<YAML
  enabled: $1
  proto: ${3:-udp}
  dns: [$2]
  routes: [10.99.0.0/24]
  clients:
    - name: alice
      static_ip: 10.9.0.10
    - name: bob
YAML
  } > "$T/state.yaml"
  cli import "$T/state.yaml" >/dev/null
}
# a server without clients starts too (its empty CCD folder must exist)
printf 'version: 1\nsettings:\n  host: 10.250.0.1\nopenvpn:\n  network: 10.9.0.0/24\n' > "$T/empty.yaml"
cli import "$T/empty.yaml" >/dev/null
apply_converged
alive "$(server_pid)" || fail "the server without clients is not running"
ok "a server without clients starts and converges"
write_state true 10.9.0.1
apply_converged
client_up alice ato-21c1
wait_ping ato-21c1 10.9.0.1 30 || fail "alice cannot ping the server"
alice_cid=$(session_cid alice)
pid=$(server_pid)

# CCD edited by hand
good=$(cat "$D/openvpn/ccd/alice")
echo 'ifconfig-push 10.9.0.99 255.255.255.0' > "$D/openvpn/ccd/alice"
[ "$(plan_rc)" = 2 ] || fail "plan misses the edited CCD"
grep -q '~ openvpn ccd/alice (changed' "$T/plan.out" || { cat "$T/plan.out"; fail "plan does not name ccd/alice"; }
apply_converged
[ "$(cat "$D/openvpn/ccd/alice")" = "$good" ] || fail "ccd/alice not restored"
[ "$(session_cid alice)" = "$alice_cid" ] || fail "healing alice's CCD cut her session"
ok "edited CCD reported and restored, alice's session kept"

# CCD removed by hand
rm "$D/openvpn/ccd/bob"
[ "$(plan_rc)" = 2 ] || fail "plan misses the removed CCD"
grep -q '~ openvpn ccd/bob (missing' "$T/plan.out" || fail "plan does not name ccd/bob"
apply_converged
[ -f "$D/openvpn/ccd/bob" ] || fail "ccd/bob not restored"
ok "removed CCD reported and restored"

# a stray CCD file of nobody
echo disable > "$D/openvpn/ccd/mallory"
[ "$(plan_rc)" = 2 ] || fail "plan misses the stray CCD"
grep -q -- '- openvpn ccd/mallory' "$T/plan.out" || fail "plan does not remove ccd/mallory"
apply_converged
[ ! -e "$D/openvpn/ccd/mallory" ] || fail "ccd/mallory still there"
ok "stray CCD reported and removed"

# a client's certificate deleted by hand: reissued, the lost one revoked
old=$(awk -F'\t' '$1 == "V" && $6 == "/CN=bob" { print $4 }' "$D/pki/index.txt")
rm "$D/pki/issued/bob.crt"
[ "$(plan_rc)" = 2 ] || fail "plan misses bob's lost certificate"
grep -q 'certificate "bob" (its lost certificate is revoked)' "$T/plan.out" || { cat "$T/plan.out"; fail "plan does not reissue bob"; }
apply_converged
new=$(awk -F'\t' '$1 == "V" && $6 == "/CN=bob" { print $4 }' "$D/pki/index.txt")
[ -n "$new" ] && [ "$new" != "$old" ] || fail "bob was not reissued"
openssl crl -in "$D/pki/crl.pem" -noout -text | grep_q -i "Serial Number: $old" || fail "bob's lost certificate is not in the CRL"
ok "lost certificate reissued and the old one revoked ($old)"

# CRL deleted by hand
rm "$D/pki/crl.pem"
[ "$(plan_rc)" = 2 ] || fail "plan misses the deleted CRL"
grep -q 'crl.pem (missing)' "$T/plan.out" || fail "plan does not name the CRL"
apply_converged
[ "$(stat -c %a "$D/pki/crl.pem")" = 644 ] || fail "crl.pem not restored 0644"
openssl crl -in "$D/pki/crl.pem" -noout -CAfile "$D/pki/ca.crt" 2>&1 | grep_q 'verify OK' ||
  fail "restored CRL does not verify"
[ "$(server_pid)" = "$pid" ] || fail "the server restarted for a CRL"
ok "deleted CRL reported and reissued, server pid unchanged"

# daemon killed
kill -9 "$pid"
sleep 0.5
[ "$(plan_rc)" = 2 ] || fail "plan misses the dead daemon"
grep -q '+ openvpn server: start' "$T/plan.out" || fail "plan does not start the server"
apply_converged
newpid=$(server_pid)
[ "$newpid" != "$pid" ] && alive "$newpid" || fail "the server was not restarted"
ok "killed daemon reported and restarted (pid $pid -> $newpid)"
# alice comes back by herself (restart her client to avoid the 60 s ping-restart)
client_down alice
client_up alice ato-21c1
wait_ping ato-21c1 10.9.0.1 30 || fail "alice cannot reconnect"

# a server-level change restarts and says how many clients it drops
write_state true 10.9.0.2
[ "$(plan_rc)" = 2 ] || fail "plan misses the server change"
grep -q '! openvpn server: restart, server.conf changed (drops 1 connected client)' "$T/plan.out" ||
  { cat "$T/plan.out"; fail "plan does not announce the restart with its drops"; }
grep -q 'drops 1 session' "$T/plan.out" || fail "plan summary does not count the dropped session"
expect_rc 2 srv plan --json > "$T/plan.json"
grep -q '"drops": 1' "$T/plan.json" || fail "plan --json has no drops"
apply_converged
[ "$(server_pid)" != "$newpid" ] || fail "server.conf changed but the server did not restart"
grep -q 'dhcp-option DNS 10.9.0.2' "$D/openvpn/server.conf" || fail "server.conf not rewritten"
ok "server.conf change restarts the server, the plan says it drops 1 client"

# switching to TCP: a restart, and a new profile connects over TCP
write_state true 10.9.0.2 tcp
[ "$(plan_rc)" = 2 ] || fail "plan misses the proto change"
grep -q 'restart, server.conf changed' "$T/plan.out" || fail "plan does not restart for tcp"
apply_converged
grep -qx 'proto tcp-server' "$D/openvpn/server.conf" || fail "server.conf is not tcp"
grep -q 'explicit-exit-notify' "$D/openvpn/server.conf" && fail "explicit-exit-notify with tcp"
client_down alice
client_up alice ato-21c1
grep -qx 'proto tcp-client' "$T/alice.ovpn" || fail "alice's profile is not tcp"
wait_ping ato-21c1 10.9.0.1 30 || fail "alice cannot connect over tcp"
[ "$(tun_addr ato-21c1)" = 10.9.0.10 ] || fail "alice lost her static address over tcp"
ok "proto tcp: server restarted, alice connects over TCP with a new profile"

# enabled: false stops the daemon, keeps the state and PKI
pid=$(server_pid)
write_state false 10.9.0.2 tcp
[ "$(plan_rc)" = 2 ] || fail "plan misses disabling openvpn"
grep -q -- '- openvpn server: stop' "$T/plan.out" || fail "plan does not stop the server"
apply_converged
alive "$pid" && fail "the server still runs"
[ -f "$D/pki/issued/alice.crt" ] || fail "disabling removed the PKI"
cli export | grep_q 'name: alice' || fail "disabling removed alice"
write_state true 10.9.0.2 tcp
apply_converged
alive "$(server_pid)" || fail "the server did not start again"
ok "enabled: false stops the daemon, true starts it again"
echo "PASS t21-ovpn-drift"
