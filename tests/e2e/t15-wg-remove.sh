#!/usr/bin/env bash
# WireGuard teardown: a removed interface, then the removed wireguard
# section, leave nothing behind. Removing one of two interfaces deletes its
# device (its wireguard-go process exits) and its record while the other
# keeps its peer's handshake; removing the whole section deletes the other
# interface, its record and the NAT table, and plan is empty afterwards.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-wg.sh"
wg_setup 15
iface() {  # iface NAME PORT SUBNET
  cat <<Y
    - name: $1
      listen_port: $2
      address: [10.$3.$N.1/24]
      peers:
        - name: alice
          address: [10.$3.$N.2/32]
Y
}
{ wg_yaml_head
  iface atwsrv$N 51825 66; iface atwx$N 51835 67; } > "$T/two.yaml"
{ wg_yaml_head
  iface atwsrv$N 51825 66; } > "$T/one.yaml"
printf 'version: 1\nsettings:\n  host: 172.31.%s.1\n' $N > "$T/none.yaml"
# wgpid IF: the pid of the wireguard-go process of interface IF in the server namespace
wgpid() { for p in $(ip netns pids atw-s$N); do
  tr '\0' ' ' < /proc/$p/cmdline 2>/dev/null | grep_q -E "^wireguard-go( -f)? $1 " && echo "$p"; done; true; }

A import "$T/two.yaml" > /dev/null
SA apply > /dev/null || fail "first apply"
A wg config -i atwsrv$N alice > "$T/alice.conf"
wg_client $N "$T/alice.conf"
C ping -c 2 -i 0.2 -W 2 10.66.$N.1 > /dev/null || fail "alice cannot ping"
S ip link show atwx$N > /dev/null || fail "no interface atwx$N"
xpid=$(wgpid atwx$N)
[ -n "$xpid" ] || fail "no wireguard-go for atwx$N"
S nft list table inet atlas_wireguard > /dev/null || fail "no NAT table"
alice=$(S wg show atwsrv$N peers | head -1)
hs0=$(wg_handshake atwsrv$N "$alice")
ok "two interfaces up (atwx$N run by wireguard-go $xpid), alice connected on atwsrv$N"

A import "$T/one.yaml" > /dev/null
SA plan > "$T/plan1" && fail "plan after removing atwx$N should exit 2"
cat "$T/plan1"
grep_q -- "- wireguard/atwx$N interface" "$T/plan1" || fail "plan does not delete atwx$N"
SA apply > /dev/null || fail "apply without atwx$N"
S ip link show atwx$N > /dev/null 2>&1 && fail "device atwx$N is left"
for i in 1 2 3 4 5 6 7 8 9 10; do [ -d /proc/$xpid ] || break; sleep 0.5; done
[ -d /proc/$xpid ] && fail "wireguard-go $xpid of atwx$N still runs"
[ -e "$T/data/wireguard/atwx$N.conf" ] && fail "record atwx$N.conf is left"
[ "$(wg_handshake atwsrv$N "$alice")" = "$hs0" ] || fail "alice's handshake on atwsrv$N changed"
expect_rc 0 SA plan > /dev/null
ok "atwx$N: device, wireguard-go and record gone; atwsrv$N untouched; plan empty"

spid=$(wgpid atwsrv$N)
A import "$T/none.yaml" > /dev/null
SA plan > "$T/plan2" && { cat "$T/plan2"; fail "plan after removing the section should exit 2"; }
cat "$T/plan2"
grep_q -- "- wireguard/atwsrv$N interface (1 peer)" "$T/plan2" || fail "plan does not delete atwsrv$N"
grep_q -- "- nftables table inet atlas_wireguard" "$T/plan2" || fail "plan does not delete the NAT table"
SA apply > "$T/apply2" || { cat "$T/apply2"; fail "apply without the section"; }
S ip link show atwsrv$N > /dev/null 2>&1 && fail "device atwsrv$N is left"
for i in 1 2 3 4 5 6 7 8 9 10; do [ -d /proc/$spid ] || break; sleep 0.5; done
[ -d /proc/$spid ] && fail "wireguard-go $spid of atwsrv$N still runs"
[ -e "$T/data/wireguard/atwsrv$N.conf" ] && fail "record atwsrv$N.conf is left"
S nft list table inet atlas_wireguard > /dev/null 2>&1 && fail "NAT table atlas_wireguard is left"
expect_rc 0 SA plan > /dev/null
ok "section gone: device, wireguard-go, record and NAT table gone; plan empty"
