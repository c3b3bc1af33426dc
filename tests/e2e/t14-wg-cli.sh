#!/usr/bin/env bash
# WireGuard, issue 3: the `atlas wg` commands (no engine needed): peer edits go
# through the one commit path (validated, nothing stored on error), -i choice,
# bring-your-own-key peers, missing settings.host.
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d /tmp/atlas-e2e-wg5.XXXXXX)
trap 'rm -rf "$T"' EXIT
A() { "$ATLAS_BIN" --data "$T/data" "$@"; }
byo=$(wg genkey | wg pubkey)
cat > "$T/state.yaml" <<Y
version: 1
settings:
  host: '2001:db8::7'
wireguard:
  interfaces:
    - name: atwcli5
      listen_port: 51825
      address: [10.66.5.1/24]
      dns: [10.66.5.1]
      peers:
        - name: alice
        - name: byo
          public_key: $byo
Y
A import "$T/state.yaml" > /dev/null
A wg --help | grep -c "usage: atlas wg config PEER" > /dev/null || fail "wg --help"
expect_rc 1 A wg frobnicate 2> /dev/null
ok "wg --help and unknown subcommand"

A wg config alice > "$T/alice.conf"
grep -qx "Endpoint = \[2001:db8::7\]:51825" "$T/alice.conf" || { cat "$T/alice.conf"; fail "IPv6 endpoint in brackets"; }
grep -qx "DNS = 10.66.5.1" "$T/alice.conf" || fail "DNS"
grep -qx "Address = 10.66.5.2/32" "$T/alice.conf" || fail "address"
grep -q "^PresharedKey = " "$T/alice.conf" || fail "psk"
ok "client config: IPv6 endpoint in brackets, DNS, address, PSK"

A wg config byo > "$T/byo.conf" 2> "$T/err"
grep -q "^# PrivateKey = (bring-your-own key: put the private key of public key $byo here)" "$T/byo.conf" || { cat "$T/byo.conf"; fail "byo placeholder"; }
grep -q "brings its own key" "$T/err" || fail "byo warning"
expect_rc 1 A wg qr byo > /dev/null 2> "$T/err"
grep -q "no private key to put in a QR code" "$T/err" || fail "byo qr message"
ok "bring-your-own-key peer: placeholder comment in the config, QR refused"

# Peer edits through state_commit: validated, all or nothing.
A wg peer add carol --address 10.66.5.40/32 --allowed-ips 10.66.5.0/24,192.0.2.0/24 --keepalive 15 > /dev/null
A wg config carol > "$T/carol.conf"
grep -qx "AllowedIPs = 10.66.5.0/24, 192.0.2.0/24" "$T/carol.conf" || { cat "$T/carol.conf"; fail "carol allowed ips"; }
grep -qx "PersistentKeepalive = 15" "$T/carol.conf" || fail "carol keepalive"
A export > "$T/before.yaml"
expect_rc 1 A wg peer add carol 2> "$T/err"
grep -q 'already has a peer "carol"' "$T/err" || fail "duplicate add message"
expect_rc 1 A wg peer add dan --address 10.99.0.2/32 2> "$T/err"
grep -q 'address "10.99.0.2/32" is outside the networks' "$T/err" || { cat "$T/err"; fail "outside message"; }
expect_rc 1 A wg peer add 'Bad;name' 2> "$T/err"
grep -q 'name "Bad;name" is invalid' "$T/err" || { cat "$T/err"; fail "name message"; }
expect_rc 1 A wg peer add dan --keepalive x 2> /dev/null
expect_rc 1 A wg peer rm nobody 2> /dev/null
A export | cmp -s - "$T/before.yaml" || fail "a refused edit changed the state"
ok "wg peer add: options applied; bad name, address, duplicate refused with nothing stored"
A wg peer disable carol > /dev/null
carol_entry() { local y; y=$(A export) || return 1; awk '/- name: /{f = ($3 == "carol")} f' <<<"$y"; }
present 'disabled: true' carol_entry || fail "disable"
A wg peer enable carol > /dev/null
present 'name: carol' carol_entry || fail "carol gone after enable"
absent 'disabled' carol_entry || fail "enable (or export failed)"
A wg peer rm carol > /dev/null
expect_rc 1 A wg config carol 2> /dev/null
ok "wg peer disable/enable/rm"

# two commands editing at once: each edit is stored on top of the other's
# (a commit made from an older generation is refused and made again), so
# no peer is lost
for side in a b; do
  ( for i in $(seq 1 12); do A wg peer add "par-$side$i" > /dev/null || echo "add par-$side$i failed"; done ) > "$T/par-$side.out" 2>&1 &
done
wait
cat "$T/par-a.out" "$T/par-b.out"
[ ! -s "$T/par-a.out" ] && [ ! -s "$T/par-b.out" ] || fail "parallel peer adds failed"
n=$(A export | grep -c 'name: par-')
[ "$n" = 24 ] || fail "24 peers added by two commands at once, $n are in the state"
ok "24 peers added by two commands at once: all 24 stored"

# Two interfaces: -i is required, and picks.
A export --secrets | sed 's/^  interfaces:$/  interfaces:\n  - {name: atwcli5b, listen_port: 51826, address: [10.67.5.1\/24], peers: [{name: alice}]}/' > "$T/two.yaml"
A import "$T/two.yaml" > /dev/null
expect_rc 1 A wg config alice 2> "$T/err"
grep -q "2 wireguard interfaces: choose one with -i IF" "$T/err" || fail "-i message"
A wg config alice -i atwcli5b | grep -c "^Endpoint = \[2001:db8::7\]:51826$" > /dev/null || fail "-i picks"
expect_rc 1 A wg config alice -i nope 2> /dev/null
ok "-i required with two interfaces, and picks one"

# No settings.host: a clear error, not a config without Endpoint.
A export --secrets | sed '/^  host:/d' > "$T/nohost.yaml"
A import "$T/nohost.yaml" > /dev/null
expect_rc 1 A wg config alice -i atwcli5 2> "$T/err"
grep -q "settings.host is not set" "$T/err" || { cat "$T/err"; fail "host message"; }
ok "missing settings.host is a clear error"
