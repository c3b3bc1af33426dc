#!/usr/bin/env bash
# atlas adopt openvpn (issue 14): a server laid out the way openvpn-install
# (angristan) leaves /etc/openvpn, built here with Debian's easy-rsa and
# openvpn: an EC PKI in easy-rsa/pki with a randomly named server
# certificate, copies of ca/cert/key/crl next to server.conf, tls-crypt.key,
# ipp.txt with fixed addresses, one client revoked. The old server runs and
# alice connects with her original .ovpn. `atlas adopt openvpn --dry-run`
# stores nothing (no atlas.db either); the adoption announces one restart;
# the old server is stopped and `atlas apply` starts Atlas's own. The same
# .ovpn files connect again, each client gets its ipp.txt address, the
# revoked client is still refused and the plan ends empty.
set -euo pipefail
cd "$(dirname "$0")/../.."
OVPN_PFX=atad
. tests/e2e/lib-ovpn.sh
[ -x /usr/share/easy-rsa/easyrsa ] || fail "easy-rsa is not installed (/usr/share/easy-rsa/easyrsa)"
# the old server drops to nobody and reads crl.pem from its folder
chmod 711 "$T"

E=$T/etc/openvpn
SN=server_aZ3kQ9xP
mkdir -p "$E/ccd"
cp -r /usr/share/easy-rsa "$E/easy-rsa"
(
  cd "$E/easy-rsa" || exit 1
  export EASYRSA_BATCH=1 EASYRSA_ALGO=ec EASYRSA_CURVE=prime256v1 EASYRSA_CRL_DAYS=3650
  ./easyrsa init-pki &&
  EASYRSA_REQ_CN=cn_Ht2wLm8Q ./easyrsa build-ca nopass &&
  ./easyrsa build-server-full "$SN" nopass &&
  ./easyrsa build-client-full alice nopass &&
  ./easyrsa build-client-full bob nopass &&
  ./easyrsa build-client-full carol nopass &&
  ./easyrsa build-client-full dave nopass &&
  ./easyrsa revoke carol &&
  ./easyrsa gen-crl
) > "$T/easyrsa.log" 2>&1 || fail "easy-rsa failed (see $T/easyrsa.log)"
grep_q "^R.*/CN=carol$" "$E/easy-rsa/pki/index.txt" || fail "easy-rsa did not revoke carol (test premise)"
cp "$E/easy-rsa/pki/ca.crt" "$E/easy-rsa/pki/private/ca.key" "$E/easy-rsa/pki/issued/$SN.crt" \
  "$E/easy-rsa/pki/private/$SN.key" "$E/easy-rsa/pki/crl.pem" "$E/"
chmod 644 "$E/crl.pem"
openvpn --genkey secret "$E/tls-crypt.key" || fail "openvpn --genkey"
cat > "$E/server.conf" <<EOF
port 1194
proto udp
dev tun
user nobody
group nogroup
persist-key
persist-tun
keepalive 10 120
topology subnet
server 10.8.51.0 255.255.255.0
ifconfig-pool-persist ipp.txt
push "dhcp-option DNS 10.250.0.1"
push "route 10.99.51.0 255.255.255.0"
dh none
ecdh-curve prime256v1
tls-crypt tls-crypt.key
crl-verify crl.pem
ca ca.crt
cert $SN.crt
key $SN.key
auth SHA256
cipher AES-128-GCM
ncp-ciphers AES-128-GCM
tls-server
tls-version-min 1.2
tls-cipher TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256
client-config-dir ccd
status openvpn-status.log
verb 3
EOF
# fixed addresses, the way the old server remembered them (2.6 writes "name,ip,")
printf 'alice,10.8.51.7,\nbob,10.8.51.9,\ncarol,10.8.51.11,\n' > "$E/ipp.txt"
# dave has a CCD address, which wins over ipp.txt in openvpn too
echo "ifconfig-push 10.8.51.20 255.255.255.0" > "$E/ccd/dave"

# client profiles as openvpn-install writes them (client-template.txt + inline blocks)
mkprofile() { # NAME CERTFILE KEYFILE
  cat <<EOF
client
proto udp
explicit-exit-notify
remote 10.250.0.1 1194
dev tun
resolv-retry infinite
nobind
persist-key
persist-tun
remote-cert-tls server
verify-x509-name $SN name
auth SHA256
auth-nocache
cipher AES-128-GCM
tls-client
tls-version-min 1.2
tls-cipher TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256
ignore-unknown-option block-outside-dns
setenv opt block-outside-dns
verb 3
<ca>
$(cat "$E/ca.crt")
</ca>
<cert>
$(openssl x509 -in "$2")
</cert>
<key>
$(cat "$3")
</key>
<tls-crypt>
$(cat "$E/tls-crypt.key")
</tls-crypt>
EOF
}
mkdir -p "$T/profiles"
for n in alice bob dave; do
  mkprofile $n "$E/easy-rsa/pki/issued/$n.crt" "$E/easy-rsa/pki/private/$n.key" > "$T/profiles/$n.ovpn"
done
cserial=$(awk -F'\t' '$6 == "/CN=carol" {print $4}' "$E/easy-rsa/pki/index.txt")
mkprofile carol "$E/easy-rsa/pki/revoked/certs_by_serial/$cserial.crt" \
  "$E/easy-rsa/pki/revoked/private_by_serial/$cserial.key" > "$T/profiles/carol.ovpn"
cp -r "$T/profiles" "$T/profiles.orig"

net_setup o 4
# profile_up NAME NS: runs the original profile
profile_up() {
  rm -f "$T/$1.log"
  ip netns exec "$2" openvpn --config "$T/profiles/$1.ovpn" --writepid "$T/$1.pid" \
    --log "$T/$1.log" --connect-retry 1 1 --daemon || fail "openvpn client $1"
}
# refused NAME NS: the revoked client gets no tunnel and the server log says why
refused() {
  local log=$3 i
  profile_up "$1" "$2"
  for i in $(seq 1 20); do grep_q -iE 'revoked|CRL' "$log" && break; sleep 1; done
  grep_q -iE 'revoked|CRL' "$log" || fail "$1: no CRL refusal in $log"
  [ -z "$(tun_addr "$2")" ] || fail "revoked $1 got a tunnel address $(tun_addr "$2")"
  ip netns exec "$2" ping -c1 -W1 10.8.51.1 >/dev/null 2>&1 && fail "revoked $1 pings the server"
  client_down "$1"
}

# --- the old server, as systemd's openvpn@server would run it ---
ip netns exec "$SRV" openvpn --cd "$E" --config "$E/server.conf" --writepid "$T/old.pid" \
  --log "$T/old.log" --daemon || fail "the old server does not start"
profile_up alice atad-oc1
wait_ping atad-oc1 10.8.51.1 30 || fail "alice cannot connect to the old server (test premise)"
[ "$(tun_addr atad-oc1)" = 10.8.51.7 ] || fail "the old server gave alice $(tun_addr atad-oc1), not her ipp.txt 10.8.51.7 (test premise)"
refused carol atad-oc3 "$T/old.log"
ok "old server: alice connected at 10.8.51.7, revoked carol refused"

# --- a dry run stores nothing, not even a new atlas.db ---
srv adopt openvpn "$E" --dry-run > "$T/dry.out" 2>&1 || { cat "$T/dry.out"; fail "adopt --dry-run"; }
grep_q -E '^--- plan after adoption' "$T/dry.out" || { cat "$T/dry.out"; fail "dry run printed no plan"; }
grep_q 'static_ip: 10.8.51.7' "$T/dry.out" || { cat "$T/dry.out"; fail "dry run YAML lacks alice's address"; }
[ ! -e "$D/atlas.db" ] || fail "--dry-run created $D/atlas.db"
[ ! -e "$D/pki" ] || fail "--dry-run imported the PKI into $D/pki"
ok "dry run: YAML and plan printed, no atlas.db, no PKI"

# --- the adoption ---
srv adopt openvpn "$E" > "$T/adopt.out" 2>&1 || { cat "$T/adopt.out"; fail "adopt openvpn"; }
cat "$T/adopt.out"
grep_q 'restarts once' "$T/adopt.out" || fail "the adoption does not announce the restart"
# the plan: the server start is its only action that touches sessions
awk '/^--- plan:/ {p=1; next} p' "$T/adopt.out" > "$T/adopt-plan.out"
starts=$(grep -cE 'openvpn.*server.*(start|restart)' "$T/adopt-plan.out" || true)
[ "$starts" = 1 ] || fail "the plan announces $starts server starts/restarts, not one"
others=$(grep -E '^\s*[-+~!]' "$T/adopt-plan.out" | grep -vE 'openvpn.*server.*(start|restart)' |
  grep -E 'restart|reload|drop|disconnect|kill' || true)
[ -z "$others" ] || fail "the plan disturbs more than the one restart: $others"
grep_q 'user nobody is not carried over' "$T/adopt.out" ||
  fail "user/group not reported as not carried over"
cli export > "$T/export.yaml"
for n in alice bob dave; do grep_q "name: $n" "$T/export.yaml" || fail "$n not adopted"; done
grep_q 'name: carol' "$T/export.yaml" && fail "revoked carol was adopted as a client"
grep_q "name: $SN" "$T/export.yaml" && fail "the server certificate became a client"
grep_q 'port: 1194' "$T/export.yaml" || fail "port not kept"
grep_q 'network: 10.8.51.0/24' "$T/export.yaml" || fail "network not kept"
grep_q '10.99.51.0/24' "$T/export.yaml" || fail "pushed route not kept"
cli validate "$T/export.yaml" > /dev/null 2> "$T/validate.err" ||
  fail "the export of the adoption does not validate again: $(cat "$T/validate.err")"
cli history | grep_q 'adopt' || fail "no generation with trigger adopt in the history"
cmp -s "$E/tls-crypt.key" "$D/pki/tls-crypt.key" || fail "the tls-crypt key was not taken over"
ok "adopted: alice, bob, dave; carol not; port, network, route, tls-crypt key kept; one restart announced"

# --- stop the old server, then apply ---
client_down alice
kill "$(cat "$T/old.pid")"
for i in $(seq 1 20); do alive "$(cat "$T/old.pid")" || break; sleep 0.5; done
alive "$(cat "$T/old.pid")" && fail "the old server does not stop"
srv apply > "$T/apply.out" 2>&1 || { cat "$T/apply.out"; fail "apply after adoption"; }
cat "$T/apply.out"
[ "$(plan_rc)" = 0 ] || { cat "$T/plan.out"; fail "plan after apply is not empty"; }
sc=$(sed -n 's/^cert //p' "$D/openvpn/server.conf")
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256; }
[ -n "$sc" ] && [ "$(fp "$sc")" = "$(fp "$E/$SN.crt")" ] ||
  fail "Atlas's server does not use the old server certificate ($sc)"

# --- the same original profiles ---
for n in alice bob carol dave; do cmp -s "$T/profiles/$n.ovpn" "$T/profiles.orig/$n.ovpn" || fail "$n.ovpn changed"; done
profile_up alice atad-oc1
wait_ping atad-oc1 10.8.51.1 30 || fail "alice's original .ovpn does not connect to Atlas's server"
[ "$(tun_addr atad-oc1)" = 10.8.51.7 ] || fail "alice got $(tun_addr atad-oc1), not her ipp.txt 10.8.51.7"
profile_up bob atad-oc2
wait_ping atad-oc2 10.8.51.1 30 || fail "bob's original .ovpn does not connect"
[ "$(tun_addr atad-oc2)" = 10.8.51.9 ] || fail "bob got $(tun_addr atad-oc2), not his ipp.txt 10.8.51.9"
ip netns exec atad-oc1 ping -c3 -W2 10.8.51.1 >/dev/null || fail "alice loses pings through the tunnel"
ok "alice (10.8.51.7) and bob (10.8.51.9) connect with their original .ovpn files and ping through the tunnel"
profile_up dave atad-oc4
wait_ping atad-oc4 10.8.51.1 30 || fail "dave's original .ovpn does not connect"
[ "$(tun_addr atad-oc4)" = 10.8.51.20 ] || fail "dave got $(tun_addr atad-oc4), not his CCD 10.8.51.20"
ok "dave keeps his CCD address 10.8.51.20"
refused carol atad-oc3 "$D/openvpn/openvpn.log"
ok "revoked carol is still refused by Atlas's server"
[ "$(plan_rc)" = 0 ] || { cat "$T/plan.out"; fail "final plan not empty"; }
echo "PASS t51-adopt-ovpn"
