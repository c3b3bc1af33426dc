#!/usr/bin/env bash
# t24-ovpn-remove: deleting the openvpn section tears the engine down
# completely. With a client connected, a state without the section plans
# the stop (counting the dropped client), the removal of the rendered files
# and of the NAT table; after apply no openvpn process is left, the tun
# device is gone, server.conf and ccd/ are gone, the NAT table is gone, the
# PKI is kept, and plan is empty. Adding the section back reuses the same CA
# and client certificate: the client's old profile connects again.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/lib-ovpn.sh

net_setup 24 1
with_ovpn() {
  ovpn_yaml_head
  cat <<YAML
  clients:
    - name: alice
YAML
}
with_ovpn > "$T/with.yaml"
printf 'version: 1\nsettings:\n  host: 10.250.0.1\n' > "$T/without.yaml"
cli import "$T/with.yaml" >/dev/null
apply_converged
client_up alice ato-24c1
wait_ping ato-24c1 10.9.0.1 30 || fail "alice cannot ping the server"
pid=$(server_pid)
alive "$pid" || fail "no openvpn server process"
ip -n "$SRV" link show atlas-ovpn >/dev/null 2>&1 || fail "no tun device atlas-ovpn"
ip netns exec "$SRV" nft list table inet atlas_openvpn >/dev/null 2>&1 || fail "no NAT table"
ca=$(sha256sum "$D/pki/ca.crt" | cut -d' ' -f1)
ok "server $pid up with alice connected, tun device and NAT table present"

cli import "$T/without.yaml" >/dev/null
[ "$(plan_rc)" = 2 ] || { cat "$T/plan.out"; fail "plan without the section should exit 2"; }
cat "$T/plan.out"
grep_q -- '- openvpn server: stop, its section is gone (drops 1 connected client)' "$T/plan.out" ||
  fail "plan does not stop the server, counting alice"
grep_q -- '- openvpn server.conf, ccd/ and status.log (the PKI is kept)' "$T/plan.out" ||
  fail "plan does not remove the rendered files"
grep_q -- '- nftables table inet atlas_openvpn' "$T/plan.out" || fail "plan does not remove the NAT table"
grep_q -i 'certificate' "$T/plan.out" && fail "plan touches a certificate"
apply_converged
ok "the teardown was planned as such and converged"

alive "$pid" && fail "openvpn server $pid still runs"
for p in /proc/[0-9]*; do
  if tr '\0' ' ' < "$p/cmdline" 2>/dev/null | grep_q -F -- "$D/openvpn/server.conf"; then
    fail "an openvpn server process is left: ${p#/proc/}"
  fi
done
ip -n "$SRV" link show atlas-ovpn >/dev/null 2>&1 && fail "tun device atlas-ovpn is left"
ip netns exec "$SRV" nft list table inet atlas_openvpn >/dev/null 2>&1 && fail "NAT table is left"
[ -e "$D/openvpn/server.conf" ] && fail "server.conf is left"
[ -e "$D/openvpn/ccd" ] && fail "ccd/ is left"
[ -e "$D/openvpn/status.log" ] && fail "status.log is left"
[ -e "$D/run/openvpn.pid" ] && fail "the pid file is left"
[ -f "$D/pki/ca.key" ] && [ -f "$D/pki/private/alice.key" ] && [ -f "$D/pki/issued/alice.crt" ] ||
  fail "the PKI was not kept"
ok "daemon, device, files and NAT table gone; PKI kept"

# The section back: same CA, alice's old profile (the file already on her side) works.
cli import "$T/with.yaml" >/dev/null
apply_converged
[ "$(sha256sum "$D/pki/ca.crt" | cut -d' ' -f1)" = "$ca" ] || fail "the CA changed"
client_down alice
ip netns exec ato-24c1 openvpn --config "$T/alice.ovpn" --writepid "$T/alice.pid" \
  --log "$T/alice.log" --connect-retry 1 1 --daemon || fail "openvpn client alice"
wait_ping ato-24c1 10.9.0.1 30 || fail "alice's old profile does not connect after the section came back"
ok "section added back: same CA, alice's old profile connects"
echo "PASS t24-ovpn-remove"
