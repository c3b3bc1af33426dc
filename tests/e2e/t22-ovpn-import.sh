#!/usr/bin/env bash
# t22-ovpn-import: a PKI made by Debian's easy-rsa (one client revoked) is
# imported; its clients keep their certificates and connect through the
# Atlas-rendered server; the client revoked in easy-rsa stays refused. A
# foreign folder and an encrypted CA key are refused with clear messages and
# change nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/lib-ovpn.sh
[ -x /usr/share/easy-rsa/easyrsa ] || fail "easy-rsa is not installed (/usr/share/easy-rsa/easyrsa)"

# --- an easy-rsa 3 PKI, as the install scripts make it ---
make_pki() { # DIR [CA passphrase]
  cp -r /usr/share/easy-rsa "$1"
  (
    cd "$1" || exit 1
    export EASYRSA_BATCH=1
    ./easyrsa init-pki || exit 1
    if [ -n "${2:-}" ]; then
      EASYRSA_REQ_CN="Old VPN CA" EASYRSA_PASSOUT=pass:$2 EASYRSA_PASSIN=pass:$2 \
        ./easyrsa build-ca || exit 1
    else
      EASYRSA_REQ_CN="Old VPN CA" ./easyrsa build-ca nopass &&
      ./easyrsa build-server-full server nopass &&
      ./easyrsa build-client-full dave nopass &&
      ./easyrsa build-client-full erin nopass &&
      ./easyrsa build-client-full frank nopass &&
      ./easyrsa revoke erin &&
      ./easyrsa gen-crl || exit 1
    fi
  ) > "$T/easyrsa-$(basename "$1").log" 2>&1 || fail "easy-rsa failed in $1"
}
make_pki "$T/ersa"
make_pki "$T/ersa-enc" secret
grep -q "^R.*/CN=erin$" "$T/ersa/pki/index.txt" || fail "easy-rsa did not revoke erin"
grep -q "Certificate:" "$T/ersa/pki/issued/dave.crt" || fail "easy-rsa's dave.crt has no text dump (test premise)"

net_setup 22 3
{ ovpn_yaml_head; cat <<YAML
  routes: [10.99.0.0/24]
YAML
} > "$T/state.yaml"
cli import "$T/state.yaml" >/dev/null
gen0=$(cli history | grep -c '^  [0-9]')

# --- bad input: clear errors, nothing changed ---
expect_refused() { # DIR PATTERN
  local out rc=0
  out=$(cli ovpn import-easyrsa "$1" 2>&1) || rc=$?
  [ $rc = 1 ] || fail "import of $1 exited $rc, not 1: $out"
  echo "$out" | grep_q -E "$2" || fail "import of $1: unclear message: $out"
  [ ! -e "$D/pki" ] || fail "import of $1 left $D/pki behind"
  [ "$(cli history | grep -c '^  [0-9]')" = "$gen0" ] || fail "import of $1 changed the state"
  echo "refused as expected: $out"
}
mkdir -p "$T/foreign/pki/private"; echo hello > "$T/foreign/pki/ca.crt"; echo x > "$T/foreign/pki/private/ca.key"
expect_refused "$T/foreign" 'is not a PEM certificate'
expect_refused "$T/nothing-here" 'is not an easy-rsa 3 PKI'
expect_refused "$T/ersa-enc/pki" 'CA key .* is encrypted: decrypt it first'
# a PKI whose certificate is not signed by its CA
cp -r "$T/ersa" "$T/ersa-mixed"
cp "$T/ersa-enc/pki/ca.crt" "$T/ersa-mixed/pki/ca.crt"
expect_refused "$T/ersa-mixed" 'does not belong to|not signed by'
ok "foreign, missing, encrypted and mismatched PKIs refused; nothing changed"

# --- the import, with the old server's tls-crypt key ---
openvpn --genkey tls-crypt "$T/old-tc.key" || fail "openvpn --genkey tls-crypt"
cli ovpn import-easyrsa "$T/ersa" --tls-crypt "$T/old-tc.key" || fail "import-easyrsa"
cmp -s "$T/old-tc.key" "$D/pki/tls-crypt.key" || fail "--tls-crypt: the old key was not taken over"
[ "$(stat -c %a "$D/pki/tls-crypt.key")" = 600 ] || fail "imported tls-crypt.key is not 0600"
cli export > "$T/export.yaml"
grep -q 'name: dave' "$T/export.yaml" && grep -q 'name: frank' "$T/export.yaml" || fail "dave/frank not imported"
grep -q 'name: erin' "$T/export.yaml" && fail "revoked erin was imported as a client"
grep -q 'name: server' "$T/export.yaml" && fail "the server certificate became a client"
[ "$(cat "$D/pki/server_cn")" = server ] || fail "server CN not kept"
[ "$(stat -c %a "$D/pki/ca.key")" = 600 ] || fail "imported ca.key is not 0600"
ok "dave and frank imported, erin not, server CN kept"

apply_converged
grep -q "cert $D/pki/server/server.crt" "$D/openvpn/server.conf" || fail "server.conf does not use pki/server/server.crt"
[ "$(openssl x509 -in "$D/pki/server/server.crt" -noout -fingerprint -sha256)" = "$(openssl x509 -in "$T/ersa/pki/issued/server.crt" -noout -fingerprint -sha256)" ] || fail "server does not use the old server cert"
[ -e "$D/pki/issued/server.crt" ] && fail "the server certificate is still where a client named server would find it"
openssl crl -in "$D/pki/crl.pem" -noout -text | grep_q -i "Serial Number: $(awk -F'\t' '$6 == "/CN=erin" {print $4}' "$T/ersa/pki/index.txt")" ||
  fail "the CRL does not list erin"

# dave: the Atlas profile carries his old certificate
cli ovpn config dave > "$T/dave.ovpn"
old=$(openssl x509 -in "$T/ersa/pki/issued/dave.crt" -noout -fingerprint -sha256)
new=$(sed -n '/<cert>/,/<\/cert>/p' "$T/dave.ovpn" | sed '1d;$d' | openssl x509 -noout -fingerprint -sha256)
[ "$old" = "$new" ] || fail "dave's profile does not carry his old certificate"
grep -q 'Certificate:' "$T/dave.ovpn" && fail "the profile carries easy-rsa's text dump"
grep -q 'verify-x509-name server name' "$T/dave.ovpn" || fail "profile does not verify the old server CN"
client_up dave ato-22c1
wait_ping ato-22c1 10.9.0.1 30 || fail "dave cannot connect with his old certificate"
ok "dave connects with his old certificate ($new)"

# frank: a profile made by hand from the old server's files alone: easy-rsa's
# and the old tls-crypt key (an old profile keeps working after the move).
# easyrsa_profile CERT KEY TLS_CRYPT: dave's profile with easy-rsa's CA and
# these files inline instead of Atlas's.
easyrsa_profile() {
  sed '/<ca>/,$d' "$T/dave.ovpn"
  echo '<ca>'; cat "$T/ersa/pki/ca.crt"; echo '</ca>'
  echo '<cert>'; openssl x509 -in "$1"; echo '</cert>'
  echo '<key>'; cat "$2"; echo '</key>'
  echo '<tls-crypt>'; cat "$3"; echo '</tls-crypt>'
}
easyrsa_profile "$T/ersa/pki/issued/frank.crt" "$T/ersa/pki/private/frank.key" "$T/old-tc.key" \
  > "$T/frank.ovpn"
ip netns exec ato-22c2 openvpn --config "$T/frank.ovpn" --writepid "$T/frank.pid" \
  --log "$T/frank.log" --connect-retry 1 1 --daemon
wait_ping ato-22c2 10.9.0.1 30 || fail "frank cannot connect with his easy-rsa files"
ok "frank connects with the files easy-rsa gave him and the old tls-crypt key"

# erin: revoked in easy-rsa, stays refused
serial=$(awk -F'\t' '$6 == "/CN=erin" {print $4}' "$T/ersa/pki/index.txt")
easyrsa_profile "$T/ersa/pki/revoked/certs_by_serial/$serial.crt" \
  "$T/ersa/pki/revoked/private_by_serial/$serial.key" "$D/pki/tls-crypt.key" > "$T/erin.ovpn"
refused0=$(refusals erin)
ip netns exec ato-22c3 openvpn --config "$T/erin.ovpn" --writepid "$T/erin.pid" \
  --log "$T/erin.log" --connect-retry 1 1 --daemon
# The event: the server refuses her certificate as revoked.
erin_refused() { [ "$(refusals erin)" -gt "$refused0" ]; }
wait_for 60 erin_refused >/dev/null || fail "the server log shows no CRL refusal of erin: $(tail -5 "$D/openvpn/openvpn.log")"
ip netns exec ato-22c3 ping -c2 -W1 10.9.0.1 >/dev/null 2>&1 && fail "revoked erin connected"
[ -z "$(session_cid erin)" ] || fail "erin has a session"
grep -q 'Initialization Sequence Completed' "$T/erin.log" && fail "erin's client completed a connection"
ok "erin, revoked in easy-rsa, is refused"

[ "$(plan_rc)" = 0 ] || fail "final plan not empty"
echo "PASS t22-ovpn-import"
