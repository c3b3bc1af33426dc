#!/usr/bin/env bash
# t24-ovpn-crash: `atlas apply` killed (SIGKILL, through the ATLAS_FAULT crash
# points) between the two files of the CA, between staging the server pair
# and putting it in place, and between a client's certificate and the index
# that lists it. Each time the next apply finishes the work, the real
# openvpn server starts with a whole PKI, a client connects, the certificate
# written before the kill is in the CRL, and a second plan is empty.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/lib-ovpn.sh

net_setup 24 1
{ ovpn_yaml_head; cat <<YAML
  clients:
    - name: alice
YAML
} > "$T/state.yaml"
cli import "$T/state.yaml" >/dev/null

# killed_apply FAULT: an apply that must die by SIGKILL at that crash point.
killed_apply() {
  local rc=0
  ATLAS_FAULT=$1 srv apply > "$T/killed.out" 2>&1 || rc=$?
  [ $rc = 137 ] || { cat "$T/killed.out"; fail "apply with ATLAS_FAULT=$1 exited $rc, not 137 (SIGKILL)"; }
}

# 1. between ca.key and ca.crt
killed_apply pki-ca-key-written
[ -f "$D/pki/ca.key" ] && [ ! -e "$D/pki/ca.crt" ] || fail "the kill did not fall between ca.key and ca.crt"
key_before=$(openssl pkey -in "$D/pki/ca.key" -pubout | sha256sum)
# 2. the server pair staged in server.new, not yet in place
killed_apply pki-server-staged
[ -f "$D/pki/ca.crt" ] || fail "the second apply did not finish the CA"
[ "$(openssl x509 -in "$D/pki/ca.crt" -noout -pubkey | sha256sum)" = "$key_before" ] ||
  fail "the CA certificate is not for the key written before the kill"
[ -d "$D/pki/server.new" ] && [ ! -e "$D/pki/server" ] || fail "the kill did not fall before the server pair was put in place"
ok "killed between ca.key and ca.crt: finished with the same key; killed with the server pair staged"
# 3. alice's certificate written, the index not
killed_apply pki-cert-written
[ -f "$D/pki/issued/alice.crt" ] || fail "alice's certificate was not written before the kill"
grep -q "/CN=alice$" "$D/pki/index.txt" 2>/dev/null && fail "the index lists alice: the kill came too late"
orphan=$(openssl x509 -in "$D/pki/issued/alice.crt" -noout -serial | cut -d= -f2)
[ -f "$D/pki/server/server.crt" ] && [ -f "$D/pki/server/server.key" ] || fail "the server pair is not whole"

apply_converged
[ -e "$D/pki/server.new" ] && fail "server.new is left over"
[ "$(openssl x509 -in "$D/pki/server/server.crt" -noout -pubkey | sha256sum)" = \
  "$(openssl pkey -in "$D/pki/server/server.key" -pubout | sha256sum)" ] || fail "server.crt and server.key do not match"
openssl crl -in "$D/pki/crl.pem" -noout -text | grep_q -i "Serial Number: $orphan" ||
  fail "the certificate written before the kill ($orphan) is not in the CRL"
grep -q "^V.*/CN=alice$" "$D/pki/index.txt" || fail "alice has no valid certificate"
client_up alice ato-24c1
wait_ping ato-24c1 10.9.0.1 30 || fail "alice cannot connect after the crashed applies"
ok "after three kills one apply converged: openvpn runs, alice connects, $orphan is revoked"
# 4. issue 16.4: killed before a temporary file was renamed: bob's new key
# stays as private/bob.key.tmp.*; the next apply removes it
cli ovpn client add bob >/dev/null
killed_apply write-before-rename
ls "$D"/pki/private/bob.key.tmp.* >/dev/null 2>&1 || fail "the kill left no temporary key (test premise)"
apply_converged
left=$(find "$D" -name '*.tmp.*' -o -name '*.new' | head -5)
[ -z "$left" ] || fail "stale temporary files after the next apply: $left"
ok "the temporary key a killed apply left is removed by the next apply"
echo "PASS t24-ovpn-crash"
