#!/usr/bin/env bash
# t25-ovpn-multihome: OpenVPN over UDP on a host with several addresses.
# settings.host is a second address of the server's interface (a floating IP,
# a second public address): the kernel would answer from the interface's
# first address, which the client rejects ("Incoming packet rejected ...
# expected peer address"). The client reaches the host address through a
# second veth; it must connect and ping the server through the tunnel, and
# its log must show no rejected packet.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/lib-ovpn.sh

net_setup 25 1
C=ato-25c1
# the second path: server side atomh25 10.252.0.1/24 (first) + 10.252.0.9/24 (the host address)
ip link add atomh25 netns "$SRV" type veth peer name eth1 netns "$C"
ip -n "$SRV" addr add 10.252.0.1/24 dev atomh25
ip -n "$SRV" addr add 10.252.0.9/24 dev atomh25
ip -n "$SRV" link set atomh25 up
ip -n "$C" addr add 10.252.0.2/24 dev eth1
ip -n "$C" link set eth1 up
# the kernel's choice for a reply is the first address, not the host address
ip -n "$SRV" route get 10.252.0.2 | grep_q 'src 10.252.0.1 ' || fail "setup: reply source is not 10.252.0.1"

cat > "$T/state.yaml" <<YAML
version: 1
settings:
  host: 10.252.0.9
openvpn:
  port: 1194
  proto: udp
  network: 10.9.0.0/24
  clients:
    - name: alice
YAML
cli import "$T/state.yaml" >/dev/null
apply_converged
grep_q '^remote 10.252.0.9 1194' <(cli ovpn config alice) || fail "alice's profile does not point at 10.252.0.9"
client_up alice "$C"
if ! wait_ping "$C" 10.9.0.1 20; then
  grep -m1 'Incoming packet rejected' "$T/alice.log" || true
  fail "alice cannot reach the server at its second address 10.252.0.9"
fi
grep_q 'Incoming packet rejected' "$T/alice.log" && fail "alice's client rejected packets from the server"
ok "alice connects to 10.252.0.9 over UDP and pings 10.9.0.1; no packet rejected"
[ "$(plan_rc)" = 0 ] || fail "final plan not empty"
echo "PASS t25-ovpn-multihome"
