#!/usr/bin/env bash
# t23-ovpn-nat: an OpenVPN client reaches "the internet" (a namespace with no
# route back to the tunnel network) through the server only thanks to the
# masquerade rule of table inet atlas_openvpn. apply switches forwarding on
# and loads the table out of the default route's interface; the table
# deleted by hand cuts the client off, `plan` reports it (exit 2) and
# `apply` heals it; `enabled: false` and then the openvpn section removed
# from the desired state each remove the table Atlas made, while a table of
# that name Atlas did not make is left alone.
#
#   atn-23c1 eth0 10.250.0.11 -- atnbr 10.250.0.1  atn-23s  atn23si 10.251.0.1 -- atn23i 10.251.0.2  atn-23i
#                                                  default via 10.251.0.2
set -euo pipefail
cd "$(dirname "$0")/../.."
OVPN_PFX=atn
. tests/e2e/lib-ovpn.sh
command -v nft >/dev/null || { echo "FAIL: nft is not installed"; exit 1; }

net_setup 23 1
INET=atn-23i
ns_remove "$INET"
ip netns add "$INET"; NSS+=("$INET")
ip -n "$INET" link set lo up
ip -n "$SRV" link add atn23si type veth peer name atn23i netns "$INET"
ip -n "$SRV" addr add 10.251.0.1/24 dev atn23si
ip -n "$SRV" link set atn23si up
ip -n "$INET" addr add 10.251.0.2/24 dev atn23i
ip -n "$INET" link set atn23i up
ip -n "$SRV" route add default via 10.251.0.2
# a new namespace copies the host's forwarding: start from "off"
ip netns exec "$SRV" sysctl -qw net.ipv4.ip_forward=0
[ -z "$(ip -n "$INET" route show 10.9.0.0/24)" ] && ! ip -n "$INET" route show | grep_q default ||
  fail "the internet namespace has a route back to the tunnel"

S() { ip netns exec "$SRV" "$@"; }
table() { S nft list table inet atlas_openvpn 2>/dev/null; }
write_state() { # $1: enabled
  { ovpn_yaml_head; cat <<YAML
  enabled: $1
  routes: [10.251.0.0/24]
  clients:
    - name: alice
YAML
  } > "$T/state.yaml"
  cli import "$T/state.yaml" >/dev/null
}

write_state true
[ "$(plan_rc)" = 2 ] || fail "plan before the first apply should exit 2"
cat "$T/plan.out"
grep -q '~ system net.ipv4.ip_forward 0 -> 1' "$T/plan.out" || fail "plan does not switch forwarding on"
grep -q '+ nftables table inet atlas_openvpn: masquerade 1 network out of atn23si (default route)' \
  "$T/plan.out" || fail "plan does not create the NAT table out of the default route"
apply_converged
[ "$(S sysctl -n net.ipv4.ip_forward)" = 1 ] || fail "forwarding is still off"
table | grep_q 'ip saddr 10.9.0.0/24 oifname "atn23si" masquerade' || { table; fail "no masquerade rule"; }
S ip link show dev atlas-ovpn >/dev/null || fail "the server's tunnel is not named atlas-ovpn"
[ -f "$D/run/atlas_openvpn.nft" ] || fail "the loaded table is not recorded in the run directory"
ok "apply switched forwarding on and loaded the masquerade rule out of atn23si"

client_up alice atn-23c1
wait_ping atn-23c1 10.9.0.1 30 || fail "alice cannot ping the server"
wait_ping atn-23c1 10.251.0.2 10 || fail "alice cannot reach the internet through the tunnel"
ok "alice reaches the internet namespace 10.251.0.2 through the tunnel"

# The table deleted by hand: no way back from the internet.
S nft delete table inet atlas_openvpn
S conntrack -F >/dev/null 2>&1 || true
ip netns exec atn-23c1 ping -c2 -W1 10.251.0.2 >/dev/null 2>&1 &&
  fail "alice reaches the internet without the masquerade rule"
ok "without the table alice cannot reach the internet"
[ "$(plan_rc)" = 2 ] || { cat "$T/plan.out"; fail "plan misses the deleted table"; }
cat "$T/plan.out"
grep -q '+ nftables table inet atlas_openvpn: masquerade 1 network' "$T/plan.out" ||
  fail "plan does not name the missing table"
pid=$(server_pid)
apply_converged
[ "$(server_pid)" = "$pid" ] || fail "healing the table restarted the server"
wait_ping atn-23c1 10.251.0.2 10 || fail "alice cannot reach the internet after apply"
ok "plan reported the deleted table, apply restored it (server pid $pid kept), alice is back"

# settings.egress_interface overrides the default route.
sed -i 's/^  host: 10.250.0.1$/  host: 10.250.0.1\n  egress_interface: atnbr/' "$T/state.yaml"
cli import "$T/state.yaml" >/dev/null
[ "$(plan_rc)" = 2 ] || fail "plan misses the egress change"
grep -q '~ nftables table inet atlas_openvpn: masquerade 1 network out of atnbr$' "$T/plan.out" ||
  { cat "$T/plan.out"; fail "plan does not move the rule to atnbr"; }
apply_converged
table | grep_q 'oifname "atnbr" masquerade' || fail "the rule does not use atnbr"
ip netns exec atn-23c1 ping -c2 -W1 10.251.0.2 >/dev/null 2>&1 &&
  fail "alice reaches the internet although nothing is masqueraded out of atn23si"
write_state true
apply_converged
wait_ping atn-23c1 10.251.0.2 10 || fail "alice cannot reach the internet after the egress came back"
ok "egress_interface moves the rule, and back"

# enabled: false removes the table (the server stops); enabled again brings it back.
write_state false
[ "$(plan_rc)" = 2 ] || fail "plan after enabled: false should exit 2"
grep -q '^  - nftables table inet atlas_openvpn$' "$T/plan.out" || { cat "$T/plan.out"; fail "plan keeps the table"; }
apply_converged
table >/dev/null && fail "the table is still there with openvpn disabled"
[ -f "$D/run/atlas_openvpn.nft" ] && fail "the record of the table is still there"
ok "enabled: false removed the table"
write_state true
apply_converged
table | grep_q masquerade || fail "the table did not come back"

# The section gone from the desired state: Atlas removes the table it made...
printf 'version: 1\nsettings:\n  host: 10.250.0.1\n' > "$T/none.yaml"
cli import "$T/none.yaml" >/dev/null
[ "$(plan_rc)" = 2 ] || { cat "$T/plan.out"; fail "plan without the openvpn section should exit 2"; }
cat "$T/plan.out"
grep -q '^openvpn: not managed' "$T/plan.out" || fail "openvpn is reported as managed"
grep -q '^  - nftables table inet atlas_openvpn$' "$T/plan.out" || fail "plan keeps the table"
# (the whole teardown, daemon and files too, is t24-ovpn-remove's; the PKI is never touched)
grep -qE 'certificate|crl' "$T/plan.out" && fail "plan touches the PKI"
apply_converged
table >/dev/null && fail "the table is still there without the openvpn section"
# ... and leaves alone a table of that name it did not make.
S nft add table inet atlas_openvpn
[ "$(plan_rc)" = 0 ] || { cat "$T/plan.out"; fail "plan wants to touch a table Atlas did not make"; }
table >/dev/null || fail "the foreign table is gone"
ok "the section removed: Atlas removed its table, and leaves a foreign one alone"
echo "PASS t23-ovpn-nat"
