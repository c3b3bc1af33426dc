#!/usr/bin/env bash
# WireGuard, issue 3: drift made by hand shows in `atlas plan` (exit 2) and is
# healed by `apply`; bad input is refused with a clear message and nothing is
# applied; only interfaces Atlas created are ever removed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-wg.sh"
wg_setup 3
IF=atwsrv$N

{ wg_yaml_head; cat <<Y
    - name: $IF
      listen_port: 51823
      address: [10.66.$N.1/24, 'fd66:$N::1/64']
      peers:
        - name: alice
          keepalive: 25
        - name: bob
        - name: old
          expires: 2020-01-01
Y
} > "$T/state.yaml"
A import "$T/state.yaml" > /dev/null
SA apply > "$T/apply"
grep -q "peer old" "$T/apply" && { cat "$T/apply"; fail "expired peer applied"; }
[ "$(S wg show $IF peers | wc -l)" = 2 ] || fail "expired peer on the interface"
ok "expired peer kept off the interface"
grep -q "~ system net.ipv6.conf.all.forwarding 0 -> 1" "$T/apply" || { cat "$T/apply"; fail "v6 forwarding"; }
[ "$(S cat /proc/sys/net/ipv6/conf/all/forwarding)" = 1 ] || fail "v6 forwarding on"
S nft list table inet atlas_wireguard > "$T/nft"
grep -q "ip6 saddr fd66:$N::/64 oifname \"atwsi$N\" masquerade" "$T/nft" || { cat "$T/nft" "$T/apply"; fail "v6 masquerade"; }
S wg show $IF allowed-ips | grep -c "10.66.$N.2/32 fd66:$N::2/128" > /dev/null || fail "v6 peer addresses"
ok "dual-stack interface: v6 forwarding, v6 masquerade, v6 peer addresses"
expect_rc 0 SA plan > /dev/null
S ip link add atwhost$N type veth peer name atwhostp$N   # the host's own interface: never Atlas's
key() { A export | awk -v p="name: $1" '$0 ~ p {f=1} f && !d && /public_key:/{print $2; d=1}'; }
alice=$(key alice); bob=$(key bob)

# Peer removed by hand, foreign peer added by hand.
S wg set $IF peer "$bob" remove
foreign=$(wg genkey | wg pubkey)
S wg set $IF peer "$foreign" allowed-ips 10.66.$N.99/32
expect_rc 2 SA plan > "$T/plan"
grep -q "+ wireguard/$IF peer bob (10.66.$N.3/32, fd66:$N::3/128)" "$T/plan" || { cat "$T/plan"; fail "removed peer not in plan"; }
grep -qF -- "- wireguard/$IF foreign peer $foreign (not in the desired state)" "$T/plan" || { cat "$T/plan"; fail "foreign peer not in plan"; }
# Reading through `wg show dump` instead of the UAPI socket sees the same.
expect_rc 2 S env ATLAS_WG_OBSERVE=dump "$ATLAS_BIN" --data "$T/data" plan > "$T/plan.dump"
cmp -s "$T/plan" "$T/plan.dump" || { diff "$T/plan" "$T/plan.dump"; fail "uapi and dump observations differ"; }
SA apply > /dev/null
expect_rc 0 SA plan > /dev/null
present "$bob" S wg show $IF peers || fail "bob not restored"
absent "$foreign" S wg show $IF peers || fail "foreign peer kept (or wg show failed)"
ok "peer removed by hand and foreign peer added by hand: planned (exit 2) and healed"

# Peer changed by hand: keepalive, PSK cleared, allowed IPs; port and address of the interface.
S wg set $IF peer "$alice" persistent-keepalive 99 preshared-key /dev/null allowed-ips 10.66.$N.2/32,10.99.0.0/16,fd66:$N::2/128
S wg set $IF listen-port 40000
S ip addr del 10.66.$N.1/24 dev $IF
expect_rc 2 SA plan > "$T/plan"
grep -q "~ wireguard/$IF peer alice: allowed ips 10.66.$N.2/32, 10.99.0.0/16, fd66:$N::2/128 -> 10.66.$N.2/32, fd66:$N::2/128; preshared key set; keepalive 99 -> 25" "$T/plan" || { cat "$T/plan"; fail "changed peer"; }
grep -q "~ wireguard/$IF listen port 40000 -> 51823" "$T/plan" || { cat "$T/plan"; fail "port drift"; }
grep -q "+ wireguard/$IF address 10.66.$N.1/24" "$T/plan" || { cat "$T/plan"; fail "address drift"; }
expect_rc 2 S env ATLAS_WG_OBSERVE=dump "$ATLAS_BIN" --data "$T/data" plan > "$T/plan.dump"
cmp -s "$T/plan" "$T/plan.dump" || { diff "$T/plan" "$T/plan.dump"; fail "uapi and dump observations differ"; }
SA apply > /dev/null
expect_rc 0 SA plan > /dev/null
expect_rc 0 S env ATLAS_WG_OBSERVE=dump "$ATLAS_BIN" --data "$T/data" plan > /dev/null
[ "$(S wg show $IF persistent-keepalive | awk -v k="$alice" '$1==k{print $2}')" = 25 ] || fail "keepalive healed"
[ "$(S wg show $IF preshared-keys | awk -v k="$alice" '$1==k{print $2}')" != "(none)" ] || fail "psk healed"
ok "peer, port and address changed by hand: planned and healed"

# Several peers changed at once: batched `wg set`, one PSK per run (stdin carries one key).
S wg set $IF peer "$alice" preshared-key /dev/null peer "$bob" preshared-key /dev/null persistent-keepalive 7
expect_rc 2 SA plan > "$T/plan"
[ "$(grep -c '^  ~ wireguard/'$IF' peer .*preshared key set' "$T/plan")" = 2 ] || { cat "$T/plan"; fail "two PSK updates"; }
SA apply > /dev/null
expect_rc 0 SA plan > /dev/null
[ "$(S wg show $IF preshared-keys | grep -c '(none)')" = 0 ] || fail "PSKs not restored"
[ "$(S wg show $IF persistent-keepalive | awk -v k="$bob" '$1==k{print $2}')" = off ] || fail "bob's keepalive not cleared"
ok "two peers changed at once: both PSKs restored, keepalive cleared"

# Bad input: clear errors, nothing stored, nothing applied.
A export --secrets > "$T/before.yaml"
bad() {  # bad NAME EXPECTED-MESSAGE-PART YAML-PEERS-PART [SECOND-INTERFACE]
  { wg_yaml_head; cat <<Y
    - name: $IF
      listen_port: 51823
      address: [10.66.$N.1/24, 'fd66:$N::1/64']
      peers:
$3
${4:-}
Y
  } > "$T/bad.yaml"
  expect_rc 1 A import "$T/bad.yaml" 2> "$T/err"
  grep -qF "$2" "$T/err" || { cat "$T/err"; fail "$1: message"; }
  A export --secrets | cmp -s - "$T/before.yaml" || fail "$1: state changed"
  expect_rc 0 SA plan > /dev/null
  ok "bad input refused: $1 ($(grep -m1 -F "$2" "$T/err" | sed 's/^[^ ]* //'))"
}
bad "invalid public key" 'public_key' '        - {name: alice, public_key: notakey}'
bad "duplicate public key" "public_key is the same as peer" "        - {name: alice, public_key: $alice}
        - {name: carl, public_key: $alice}"
bad "address outside the network" 'address "10.77.0.2/32" is outside the networks' '        - {name: alice, address: [10.77.0.2/32]}'
bad "address taken" 'address "10.66.'$N'.2/32" is already used by peer' "        - {name: alice, address: [10.66.$N.2/32]}
        - {name: bob, address: [10.66.$N.2/32]}"
bad "listen port in use" 'listen_port 51823 is already used by interface' '        - {name: alice}' "    - {name: atwsrv${N}x, listen_port: 51823, address: [10.67.$N.1/24]}"

# Renaming the interface: Atlas removes the one it created, never the host's own.
sed "s/name: $IF\$/name: ${IF}b/" "$T/state.yaml" > "$T/renamed.yaml"
A import "$T/renamed.yaml" > /dev/null
expect_rc 2 SA plan > "$T/plan"
grep -q -- "- wireguard/$IF interface (2 peers)" "$T/plan" || { cat "$T/plan"; fail "old interface not removed"; }
grep -q "+ wireguard/${IF}b interface" "$T/plan" || fail "new interface"
grep -q atwhost$N "$T/plan" && fail "the host's interface is in the plan"
SA apply > /dev/null
absent " $IF:" S ip -o link show || fail "old interface still there"
S ip link show atwhost$N > /dev/null || fail "the host's interface was removed"
expect_rc 0 SA plan > /dev/null
ok "renamed interface: the old one Atlas made is removed, the host's own interface untouched"

# disabled: true on the interface removes it (and its record); the state stays.
pub=$(A export | awk '/public_key:/ && !d {print $2; d=1}')
sed "s/^      listen_port: 51823$/      listen_port: 51823\n      disabled: true/" "$T/renamed.yaml" > "$T/disabled.yaml"
A import "$T/disabled.yaml" > /dev/null
SA apply > /dev/null
absent " ${IF}b:" S ip -o link show || fail "disabled interface still there"
[ -e "$T/data/wireguard/${IF}b.conf" ] && fail "disabled interface's record still there"
expect_rc 0 SA plan > /dev/null
A import "$T/renamed.yaml" > /dev/null
SA apply > /dev/null
[ "$(S wg show ${IF}b public-key)" = "$pub" ] || fail "re-enabled interface has another key"
[ "$(S wg show ${IF}b peers | wc -l)" = 2 ] || fail "re-enabled interface peers"
expect_rc 0 SA plan > /dev/null
ok "disabled interface removed, state kept; enabled again with the same key and peers"
