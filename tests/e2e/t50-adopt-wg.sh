#!/usr/bin/env bash
# atlas adopt wireguard (issue 14): an interface brought up by `wg-quick up`
# (userspace, wireguard-go) from a hand-made file with five peers named in
# three comment styles (one with a preshared key, one with no name at all),
# a client connected and pinging. After `atlas adopt wireguard` the plan is
# empty (exit 0); the client loses no ping during adoption and the next
# apply; `atlas wg config` gives back the client file's keys; a sixth peer
# added through Atlas leaves the five untouched (same dump lines, same
# handshake).
. "$(dirname "$0")/lib.sh"
need ip wg wg-quick wireguard-go nft ping
T=$(mktemp -d /tmp/atlas-e2e-adwg.XXXXXX)
IF=atadwg0
CIF=atadcli0
PING=
cleanup() {
  [ -n "$PING" ] && kill "$PING" 2>/dev/null
  for ns in atad-s atad-c; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -f /var/run/wireguard/$IF.sock /var/run/wireguard/$CIF.sock
  rm -rf "$T"
}
trap cleanup EXIT
cleanup; T=$(mktemp -d /tmp/atlas-e2e-adwg.XXXXXX)
S() { ip netns exec atad-s "$@"; }
C() { ip netns exec atad-c "$@"; }
A() { "$ATLAS_BIN" --data "$T/data" "$@"; }
SA() { S "$ATLAS_BIN" --data "$T/data" "$@"; }

for ns in atad-s atad-c; do ip netns add $ns; ip -n $ns link set lo up; done
ip link add atadc netns atad-c type veth peer name atads netns atad-s
ip -n atad-c addr add 172.29.50.2/24 dev atadc; ip -n atad-c link set atadc up
ip -n atad-s addr add 172.29.50.1/24 dev atads; ip -n atad-s link set atads up
S sysctl -qw net.ipv4.ip_forward=0

# Keys: the server's, five peers', one PSK (alice's).
SK=$(wg genkey); SPUB=$(echo "$SK" | wg pubkey)
for n in alice bob carol dave x; do
  k=$(wg genkey); eval "K_$n=\$k"; eval "P_$n=\$(echo \$k | wg pubkey)"
done
PSK=$(wg genpsk)
mkdir -p "$T/etc" "$T/clients"
cat > "$T/etc/$IF.conf" <<EOF
# hand-made server config
[Interface]
Address = 10.77.50.1/24
ListenPort = 51950
PrivateKey = $SK
PostUp = touch $T/postup
PostDown = rm -f $T/postup
SaveConfig = false

# Name = alice
[Peer]
PublicKey = $P_alice
PresharedKey = $PSK
AllowedIPs = 10.77.50.2/32

### Client bob
[Peer]
PublicKey = $P_bob
AllowedIPs = 10.77.50.3/32

# carol
[Peer]
PublicKey = $P_carol
AllowedIPs = 10.77.50.4/32
PersistentKeepalive = 25

# dave
[Peer]
PublicKey = $P_dave
AllowedIPs = 10.77.50.5/32

[Peer]
PublicKey = $P_x
AllowedIPs = 10.77.50.6/32
EOF
chmod 600 "$T/etc/$IF.conf"
# alice's client file, as wireguard-install leaves it.
cat > "$T/clients/$IF-client-alice.conf" <<EOF
[Interface]
PrivateKey = $K_alice
Address = 10.77.50.2/32
DNS = 1.1.1.1

[Peer]
PublicKey = $SPUB
PresharedKey = $PSK
Endpoint = 172.29.50.1:51950
AllowedIPs = 10.77.50.0/24
EOF

S env WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 \
  wg-quick up "$T/etc/$IF.conf" > "$T/wgquick.log" 2>&1 || { cat "$T/wgquick.log"; fail "wg-quick up"; }
[ -f "$T/postup" ] || fail "wg-quick did not run PostUp"
[ -S /var/run/wireguard/$IF.sock ] || fail "not a userspace interface"
ok "wg-quick up $IF (wireguard-go) with 5 peers"

# The client, from its file (wg-quick-only keys stripped for wg setconf).
grep -Ev '^(Address|DNS|MTU) *=' "$T/clients/$IF-client-alice.conf" > "$T/alice.wg"
C wireguard-go $CIF > /dev/null 2>&1 || fail "wireguard-go $CIF"
C wg setconf $CIF "$T/alice.wg"
C ip addr add 10.77.50.2/32 dev $CIF
C ip link set $CIF up
C ip route add 10.77.50.0/24 dev $CIF
C ping -c 2 -i 0.2 -W 2 10.77.50.1 > /dev/null || fail "alice cannot ping before adoption"
hs0=$(S wg show $IF latest-handshakes | awk -v k="$P_alice" '$1 == k {print $2}')
[ -n "$hs0" ] && [ "$hs0" != 0 ] || fail "no handshake for alice"
S wg show $IF dump | tail -n +2 | cut -f1,2,4,8 | sort > "$T/dump0"
ok "alice connected (handshake $hs0)"

C ping -c 50 -i 0.2 -W 2 10.77.50.1 > "$T/ping.log" 2>&1 & PING=$!
sleep 1

# Malformed input: a key that is not base64, an unknown key; file:line:col, nothing stored.
sed -e "s|^PublicKey = $P_bob\$|PublicKey = notbase64|" -e 's|^SaveConfig = false|Colour = blue|' \
  "$T/etc/$IF.conf" > "$T/etc/bad.conf"
expect_rc 1 SA adopt wireguard "$T/etc/bad.conf" 2> "$T/bad.err"
grep_q "bad.conf:[0-9]*:13: PublicKey is not a base64 key" "$T/bad.err" || { cat "$T/bad.err"; fail "no file:line:col for the bad key"; }
grep_q "bad.conf:8:1: unknown key \"Colour\"" "$T/bad.err" || { cat "$T/bad.err"; fail "no file:line:col for the unknown key"; }
[ ! -e "$T/data/atlas.db" ] || [ "$(A history | grep -c ' adopt ')" = 0 ] || fail "malformed input stored something"
ok "malformed file: every error with file:line:col, nothing stored"

# A dry run stores nothing.
SA adopt wireguard "$T/etc/$IF.conf" --clients "$T/clients" --dry-run > "$T/dry" || { cat "$T/dry"; fail "dry run"; }
grep_q "^dry run: nothing stored" "$T/dry" || fail "dry run did not say so"
grep_q -- "- name: alice" "$T/dry" || fail "dry run YAML lacks alice"
[ "$(A history | grep -c ' adopt ')" = 0 ] || fail "the dry run stored a generation"
ok "dry run prints YAML and plan, stores nothing"

SA adopt wireguard "$T/etc/$IF.conf" --clients "$T/clients" > "$T/adopt" 2>&1 || { cat "$T/adopt"; fail "adopt"; }
cat "$T/adopt"
for n in alice bob carol dave; do A export | grep_q "name: $n\$" || fail "peer $n not named from its comment"; done
A export | grep_q "name: peer-10.77.50.6" || fail "the unnamed peer is not named from its address"
A export --secrets > "$T/export.yaml"
A validate "$T/export.yaml" > /dev/null 2> "$T/validate.err" ||
  fail "the export of the adoption does not validate again: $(cat "$T/validate.err")"
grep_q "PostUp = touch" "$T/adopt" || fail "PostUp not reported"
grep_q "SaveConfig = false is not carried over" "$T/adopt" || fail "SaveConfig not reported"
A history | grep_q " adopt " || fail "no generation with trigger adopt"
ok "adopted: names from three comment styles and from an address; unmanaged keys reported"

expect_rc 0 SA plan > "$T/plan1"
ok "first plan after adoption is empty (exit 0)"
SA apply > "$T/apply1" || { cat "$T/apply1"; fail "apply"; }
grep_q "peer" "$T/apply1" && { cat "$T/apply1"; fail "the first apply touched a peer"; }

A wg config alice -i $IF > "$T/alice.atlas"
grep_q "^PrivateKey = $K_alice\$" "$T/alice.atlas" || fail "atlas wg config: not alice's private key"
grep_q "^PresharedKey = $PSK\$" "$T/alice.atlas" || fail "atlas wg config: not alice's preshared key"
grep_q "^PublicKey = $SPUB\$" "$T/alice.atlas" || fail "atlas wg config: not the server's public key"
grep_q "^Endpoint = 172.29.50.1:51950\$" "$T/alice.atlas" || fail "atlas wg config: endpoint"
A wg config bob -i $IF | grep_q "PresharedKey" && fail "bob got a preshared key he never had"
ok "atlas wg config reproduces alice's keys (and bob has no PSK)"

A wg peer add frank -i $IF > /dev/null
SA apply > "$T/apply2" || { cat "$T/apply2"; fail "apply frank"; }
grep_q "+ wireguard/$IF peer frank" "$T/apply2" || fail "frank not added"
[ "$(grep -c 'peer' "$T/apply2")" = 1 ] || { cat "$T/apply2"; fail "the apply touched another peer"; }
S wg show $IF dump | tail -n +2 | cut -f1,2,4,8 | sort | grep -v "$(A export | awk '/name: frank/{f=1} f && /public_key:/{print $2; exit}')" > "$T/dump1"
diff "$T/dump0" "$T/dump1" || fail "the five adopted peers changed on the interface"
ok "a sixth peer leaves the five untouched"

wait $PING; PING=
sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$T/ping.log")
recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T/ping.log")
[ "$sent" = 50 ] && [ "$recv" = 50 ] || { cat "$T/ping.log"; fail "alice lost pings: $recv of $sent"; }
hs1=$(S wg show $IF latest-handshakes | awk -v k="$P_alice" '$1 == k {print $2}')
[ "$hs1" = "$hs0" ] || fail "alice's handshake changed: $hs0 -> $hs1"
ok "alice lost none of 50 pings across adoption and two applies; same handshake"
expect_rc 0 SA plan > /dev/null
ok "converged"
