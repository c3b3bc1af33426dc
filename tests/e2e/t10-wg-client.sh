#!/usr/bin/env bash
# WireGuard, issue 3: a real client from the exact text of `atlas wg config`,
# the internet through NAT, convergence, disable/enable, QR, file modes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-wg.sh"
need rsvg-convert zbarimg
wg_setup 1

{ wg_yaml_head; cat <<Y
    - name: atwsrv$N
      listen_port: 51821
      address: [10.66.$N.1/24]
      peers:
        - name: alice
          allowed_ips: [10.66.$N.0/24, 172.30.$N.0/24]
          keepalive: 5
        - name: bob
Y
} > "$T/state.yaml"
A import "$T/state.yaml" >/dev/null
expect_rc 2 SA plan > "$T/plan"
grep -q "+ wireguard/atwsrv$N interface (listen port 51821" "$T/plan" || { cat "$T/plan"; fail "plan shows the interface"; }
grep -q "+ wireguard/atwsrv$N peer alice (10.66.$N.2/32)" "$T/plan" || fail "plan shows alice"
grep -q "~ system net.ipv4.ip_forward 0 -> 1" "$T/plan" || fail "plan shows forwarding"
grep -q "+ nftables table inet atlas_wireguard: masquerade 1 network out of atwsi$N (default route)" "$T/plan" || { cat "$T/plan"; fail "plan shows NAT"; }
ok "plan lists interface, peers, forwarding and NAT"

SA apply > "$T/apply" || { cat "$T/apply"; fail "apply"; }
expect_rc 0 SA plan > /dev/null
ok "plan exits 0 right after apply"
SA apply > "$T/apply2"
grep -q '^ok\|^FAIL' "$T/apply2" && { cat "$T/apply2"; fail "second apply did something"; }
ok "second apply changes nothing"

[ "$(S cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || fail "ip_forward"
[ "$(stat -c %a "$T/data/wireguard/atwsrv$N.conf")" = 600 ] || fail "server config mode"
grep -q "^ListenPort = 51821$" "$T/data/wireguard/atwsrv$N.conf" || fail "server config"
[ "$(S wg show atwsrv$N listen-port)" = 51821 ] || fail "listen port"
[ "$(S wg show atwsrv$N peers | wc -l)" = 2 ] || fail "two peers"
ok "interface, record 0600, forwarding"

A wg config alice > "$T/alice.conf"
for k in $(grep -o '^[A-Za-z]*' "$T/alice.conf" | sort -u); do
  case $k in Address|DNS|MTU|PrivateKey|PublicKey|PresharedKey|AllowedIPs|Endpoint|PersistentKeepalive) ;;
  *) fail "client config key $k";; esac
done
grep -q "^Endpoint = 172.31.$N.1:51821$" "$T/alice.conf" || fail "endpoint"
A wg qr alice > "$T/alice.svg"
grep -q '^<svg xmlns="http://www.w3.org/2000/svg"' "$T/alice.svg" || fail "qr svg"
# What a phone camera reads from the QR code is the exact config text.
rsvg-convert -o "$T/alice.png" "$T/alice.svg"
zbarimg -q --raw "$T/alice.png" 2> /dev/null | sed '$d' > "$T/alice.scanned"
cmp -s "$T/alice.scanned" "$T/alice.conf" || { diff "$T/alice.scanned" "$T/alice.conf"; fail "QR does not decode to the config"; }
ok "client config holds only app keys; its QR code (SVG) scans back to the exact text"

wg_client $N "$T/alice.conf"
C ping -c 3 -i 0.2 -W 2 10.66.$N.1 > /dev/null || fail "client cannot ping the server tunnel address"
ok "real client pings the server through the tunnel"
C ping -c 3 -i 0.2 -W 2 172.30.$N.2 > /dev/null || fail "client cannot reach the internet namespace"
ok "client reaches the internet namespace through NAT"
SA wg status > "$T/status.json"
jq -e '.interfaces[0].peers[] | select(.name == "alice") | .connected and .rx_bytes > 0 and .latest_handshake > 0' "$T/status.json" > /dev/null || { cat "$T/status.json"; fail "status of alice"; }
jq -e '.interfaces[0].peers[] | select(.name == "bob") | .connected == false' "$T/status.json" > /dev/null || fail "status of bob"
ok "atlas wg status: alice connected with traffic, bob not"

# Without the masquerade rule the internet cannot answer: the rule is what works.
S nft delete table inet atlas_wireguard
C ping -c 2 -i 0.2 -W 1 172.30.$N.2 > /dev/null 2>&1 && fail "internet reachable without NAT?"
expect_rc 2 SA plan > "$T/plan"
grep -q "+ nftables table inet atlas_wireguard" "$T/plan" || { cat "$T/plan"; fail "NAT drift not in plan"; }
SA apply > /dev/null
C ping -c 3 -i 0.2 -W 2 172.30.$N.2 > /dev/null || fail "NAT not healed"
expect_rc 0 SA plan > /dev/null
ok "NAT removed by hand: internet unreachable, plan shows it, apply heals it"

# Disable / enable alice: her pings stop, then resume with the same keys.
pub=$(A export | awk '/name: alice/{f=1} f && !d && /public_key:/{print $2; d=1}')
[ -n "$pub" ] || fail "alice's public key"
A wg peer disable alice > /dev/null
expect_rc 2 SA plan > "$T/plan"
grep -q -- "- wireguard/atwsrv$N peer alice (disabled)" "$T/plan" || { cat "$T/plan"; fail "plan disable"; }
SA apply > /dev/null
absent "$pub" S wg show atwsrv$N peers || fail "alice still on the interface (or wg show failed)"
C ping -c 3 -i 0.2 -W 1 10.66.$N.1 > /dev/null 2>&1 && fail "alice pings while disabled"
expect_rc 0 SA plan > /dev/null
ok "disabled alice is off the interface and cannot ping"
A wg peer enable alice > /dev/null
SA apply > /dev/null
S wg show atwsrv$N peers | grep -cF "$pub" > /dev/null || fail "alice not back with the same key"
# The client still holds the old session; WireGuard re-handshakes by itself
# when its packets go unanswered (keepalive 10 s + rekey timeout 5 s).
t0=$(date +%s)
until C ping -c 1 -W 1 10.66.$N.1 > /dev/null 2>&1; do
  [ $(( $(date +%s) - t0 )) -lt 40 ] || fail "alice cannot ping after enable"
done
echo "  (alice pinged again $(( $(date +%s) - t0 ))s after enable)"
A wg config alice | cmp -s - "$T/alice.conf" || fail "alice's config changed across disable/enable"
expect_rc 0 SA plan > /dev/null
ok "enabled alice pings again with the same keys and config"

# wireguard: enabled: false removes the interface, keeps the state.
A export --secrets | sed 's/^wireguard:$/wireguard:\n  enabled: false/' > "$T/off.yaml"
A import "$T/off.yaml" > /dev/null
SA apply > /dev/null
absent " atwsrv$N:" S ip -o link show || fail "interface still there"
absent "table inet atlas_wireguard" S nft list tables || fail "nat table still there"
[ -e "$T/data/wireguard/atwsrv$N.conf" ] && fail "record still there"
A wg config alice > /dev/null || fail "state lost"
expect_rc 0 SA plan > /dev/null
ok "wireguard disabled: interface, NAT table and record removed, state kept"
