#!/usr/bin/env bash
# IPv6 traffic through a WireGuard tunnel, not only its configuration: a
# dual-stack interface; a real client built from the exact text of `atlas wg
# config` pings the server's tunnel address over IPv6, and reaches an IPv6
# "internet" namespace that has no route back to the tunnel network only
# through Atlas's IPv6 masquerade (NAT66) and forwarding; IPv4 keeps working
# beside it. Deleting the NAT table by hand cuts IPv6 off; apply heals it.
#
#   atw-c16 ---- atw-s16  atwsi16 172.30.16.1, fd30:16::1/64 ---- fd30:16::2/64 atw-i16
#                         default via 172.30.16.2, fd30:16::2
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-wg.sh"
need conntrack
wg_setup 16
S ip addr add fd30:$N::1/64 dev atwsi$N nodad
I ip addr add fd30:$N::2/64 dev atwi$N nodad
S ip -6 route add default via fd30:$N::2
{ wg_yaml_head; cat <<Y
    - name: atwsrv$N
      listen_port: 51816
      address: [10.66.$N.1/24, fd66:$N::1/64]
      peers:
        - name: alice
          keepalive: 5
Y
} > "$T/state.yaml"
A import "$T/state.yaml" > /dev/null
expect_rc 2 SA plan > "$T/plan"
grep -q "~ system net.ipv6.conf.all.forwarding 0 -> 1" "$T/plan" || { cat "$T/plan"; fail "plan: no IPv6 forwarding"; }
SA apply > "$T/apply" || { cat "$T/apply"; fail "apply"; }
expect_rc 0 SA plan > /dev/null
S nft list table inet atlas_wireguard > "$T/nat" || fail "no NAT table"
grep -q "ip6 saddr fd66:$N::/64" "$T/nat" || { cat "$T/nat"; fail "no IPv6 masquerade of fd66:$N::/64"; }
[ "$(S sysctl -n net.ipv6.conf.all.forwarding)" = 1 ] || fail "IPv6 forwarding off"
ok "apply: dual-stack interface, IPv6 forwarding and an ip6 masquerade rule"

A wg config alice > "$T/alice.conf"
grep -q "^Address = 10.66.$N.2/32, fd66:$N::2/128$" "$T/alice.conf" || { cat "$T/alice.conf"; fail "alice's addresses"; }
grep -qE '^AllowedIPs = .*::/0' "$T/alice.conf" || { cat "$T/alice.conf"; fail "alice's config does not route IPv6 through the tunnel"; }
wg_client $N "$T/alice.conf"
ping6() { C ping -6 -c 1 -W 1 "$1" > /dev/null 2>&1; }
wait_for 15 ping6 fd66:$N::1 > /dev/null || fail "alice cannot ping the server's tunnel address over IPv6"
C ping -6 -c 3 -i 0.2 -W 1 fd66:$N::1 > /dev/null || fail "IPv6 pings through the tunnel lost"
C ping -c 2 -i 0.2 -W 1 10.66.$N.1 > /dev/null || fail "IPv4 beside IPv6 broken"
ok "IPv6 and IPv4 pings through the tunnel"

# The internet has no route to fd66:16::/64: a reply comes back only through NAT66.
absent "fd66:$N:" I ip -6 route show || fail "the internet namespace has a route to the tunnel network (test premise)"
wait_for 10 ping6 fd30:$N::2 > /dev/null || fail "alice cannot reach the IPv6 internet through the tunnel"
C ping -6 -c 3 -i 0.2 -W 1 fd30:$N::2 > /dev/null || fail "IPv6 internet pings lost"
ok "alice reaches the IPv6 internet namespace fd30:$N::2 through NAT66"

S nft delete table inet atlas_wireguard
S conntrack -F > /dev/null 2>&1 || fail "conntrack -F"
C ping -6 -c 2 -i 0.3 -W 1 fd30:$N::2 > /dev/null 2>&1 && fail "IPv6 internet reachable without the masquerade rule"
C ping -6 -c 2 -i 0.2 -W 1 fd66:$N::1 > /dev/null || fail "the tunnel itself broke with the NAT table"
expect_rc 2 SA plan > "$T/plan"
SA apply > /dev/null
wait_for 10 ping6 fd30:$N::2 > /dev/null || fail "apply did not heal NAT66"
ok "without the NAT table IPv6 stops at the server; apply heals it"
