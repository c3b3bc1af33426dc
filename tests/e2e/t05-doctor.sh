#!/usr/bin/env bash
# atlas doctor in a network namespace of its own: IP forwarding off is
# reported with the fix and on is ok; a port of the desired state taken by
# another program fails naming it, and is ok once free; an nftables forward
# chain with policy drop fails naming it (Atlas's own tables do not count);
# a data directory or secret readable by others fails with the chmod to
# run; the engines' versions are those the programs print.
. "$(dirname "$0")/lib.sh"
need python3 nft openvpn ip
NS=atdoc
T=$(mktemp -d /tmp/atlas-e2e-doctor.XXXXXX)
HOLD=
trap '[ -n "$HOLD" ] && kill $HOLD 2>/dev/null; ip netns del $NS 2>/dev/null; rm -rf "$T"' EXIT
ip netns del $NS 2>/dev/null || true
ip netns add $NS
ip -n $NS link set lo up
D=$T/data
SB=$(bash scripts/singbox.sh) # the test build: not on PATH, named by the settings
cat > "$T/s.yaml" <<YAML
version: 1
settings:
  host: vpn.example.test
  singbox_binary: $SB
singbox:
  api_port: 18955
  ssm_port: 18956
  inbounds:
    - {name: ss, type: shadowsocks, port: 18954, users: [{name: a}]}
wireguard:
  interfaces:
    - name: atdoc0
      listen_port: 18951
      address: [10.251.51.1/24]
openvpn:
  port: 18952
  proto: udp
  network: 10.251.52.0/24
YAML
"$ATLAS_BIN" --data "$D" import "$T/s.yaml" >/dev/null
doctor() { set +e; ip netns exec $NS "$ATLAS_BIN" --data "$D" doctor --listen 127.0.0.1:18953 > "$T/doc.out" 2>&1; RC=$?; set -e; }
line() { grep -A1 "$1" "$T/doc.out" || true; }

ip netns exec $NS sysctl -qw net.ipv4.ip_forward=0
doctor
grep_q '^WARN ip forwarding: net.ipv4.ip_forward = 0' "$T/doc.out" || fail "forwarding off not reported: $(cat "$T/doc.out")"
grep_q 'fix: .*net.ipv4.ip_forward=1.*/etc/sysctl.d/' "$T/doc.out" || fail "no fix for forwarding"
ip netns exec $NS sysctl -qw net.ipv4.ip_forward=1
doctor
grep_q '^ok   ip forwarding: net.ipv4.ip_forward = 1' "$T/doc.out" || fail "forwarding on not ok"
ok "ip forwarding: off is a warning with its fix, on is ok"

want=$(openvpn --version | head -1 || true)
grep_q -F "ok   openvpn: $want" "$T/doc.out" || fail "openvpn version: $(line 'openvpn:')"
grep_q -F "ok   nft: $(nft --version)" "$T/doc.out" || fail "nft version: $(line 'nft:')"
grep_q -F "ok   sing-box: $("$SB" version | head -1)" "$T/doc.out" || fail "sing-box version (settings.singbox_binary): $(line 'sing-box:')"
ok "engine versions: $want; sing-box from settings.singbox_binary"

for p in 18951 18952 18953 18954 18955 18956; do grep_q "^ok   port .*/$p: free" "$T/doc.out" || fail "port $p not free: $(cat "$T/doc.out")"; done
grep_q "^ok   port tcp/18954: free for sing-box inbound ss" "$T/doc.out" || fail "sing-box inbound port: $(cat "$T/doc.out")"
ip netns exec $NS python3 -c 'import socket,time
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("0.0.0.0",18951))
t=socket.socket(); t.bind(("127.0.0.1",18953)); t.listen()
time.sleep(60)' &
HOLD=$!
for i in $(seq 1 100); do ip netns exec $NS ss -lun | grep_q ':18951 ' && break; sleep 0.05; done
doctor
[ $RC = 1 ] || fail "doctor exit $RC with ports taken, want 1"
grep_q "^FAIL port udp/18951: wireguard atdoc0 needs it, but python3 (pid $HOLD) holds it" "$T/doc.out" ||
  fail "udp port not reported: $(cat "$T/doc.out")"
grep_q "^FAIL port tcp/18953: the panel needs it, but python3 (pid $HOLD) holds it" "$T/doc.out" ||
  fail "tcp port not reported: $(cat "$T/doc.out")"
kill $HOLD; wait $HOLD 2>/dev/null || true; HOLD=
ok "ports taken by another program fail, naming it and its pid"

# the panel's port held by the atlas of another data directory: no "ok" (it said in use by an engine of Atlas)
ip netns exec $NS "$ATLAS_BIN" --data "$T/other" serve --listen 127.0.0.1:18953 > "$T/other.out" 2> "$T/other.log" &
HOLD=$!
wait_for 10 grep -q 'serving on' "$T/other.log" >/dev/null || fail "the other atlas did not serve: $(cat "$T/other.log")"
doctor
grep_q "^FAIL port tcp/18953: the panel needs it, but atlas (pid $HOLD) of another data directory holds it" "$T/doc.out" ||
  fail "a port held by another data directory's atlas: $(grep 18953 "$T/doc.out")"
kill $HOLD; wait $HOLD 2>/dev/null || true; HOLD=
ok "the panel's port held by another data directory's atlas fails, naming its pid"

ip netns exec $NS nft add table inet hostfw
ip netns exec $NS nft add chain inet hostfw hostforward '{ type filter hook forward priority 0; policy drop; }'
ip netns exec $NS nft add table inet atlas_test
ip netns exec $NS nft add chain inet atlas_test hostforward '{ type filter hook forward priority 0; policy drop; }'
doctor
grep_q '^FAIL firewall: nftables chain "inet hostfw hostforward" drops forwarded packets' "$T/doc.out" ||
  fail "drop policy not reported: $(cat "$T/doc.out")"
grep_q 'atlas_test' "$T/doc.out" && fail "Atlas's own table was reported"
ip netns exec $NS nft delete table inet hostfw
doctor
grep_q '^ok   firewall' "$T/doc.out" || fail "firewall not ok after removing the chain"
ok "an nftables forward chain with policy drop fails; Atlas's own tables do not"

chmod 755 "$D"
mkdir -p "$D/pki"; printf 'k' > "$D/pki/ca.key"; chmod 640 "$D/pki/ca.key"
doctor
grep_q "^FAIL data directory: \"$D\" is mode 0755" "$T/doc.out" || fail "data dir mode: $(cat "$T/doc.out")"
grep_q "fix: chmod 700 $D\$" "$T/doc.out" || fail "no chmod 700 fix"
grep_q "^FAIL data directory: \"$D/pki/ca.key\" is mode 0640" "$T/doc.out" || fail "ca.key mode not reported"
grep_q "fix: chmod 600 $D/pki/ca.key\$" "$T/doc.out" || fail "no chmod 600 fix"
chmod 700 "$D"; chmod 600 "$D/pki/ca.key"
doctor
grep_q '^ok   data directory' "$T/doc.out" || fail "data dir not ok after the fix"
[ $RC = 0 ] || fail "doctor exit $RC with nothing failing: $(grep FAIL "$T/doc.out")"
ok "data directory and secret modes fail with the chmod to run; exit 0 once fixed"
cat "$T/doc.out"
