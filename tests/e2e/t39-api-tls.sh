#!/usr/bin/env bash
# HTTPS: a panel on a non-loopback address refuses plain HTTP unless told
# (--insecure-http), makes a self-signed ECDSA certificate on its first start
# (0600, fingerprint printed), serves only TLS 1.2 and 1.3 (openssl s_client
# from another namespace), sends HSTS, accepts a login; SIGHUP loads a new
# pair without a restart and keeps the old one when the new is broken; a
# given certificate chain (CA + leaf) is served whole and verifies.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
T=$(mktemp -d /tmp/atlas-e2e-tls.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; wait 2>/dev/null; api_cleanup_topology; rm -rf "$T"' EXIT
api_topology 39
ADDR=172.29.39.1; PORT=18443; URL=https://$ADDR:$PORT

# Plain HTTP beyond loopback: refused, with the reason and the way out.
set +e
SNS "$ATLAS_BIN" --data "$T/d0" serve --listen $ADDR:$PORT --no-tls > "$T/no.out" 2> "$T/no.err"
rc=$?
set -e
[ $rc = 1 ] || fail "--no-tls on $ADDR: exit $rc, want 1"
grep_q 'refusing plain HTTP on 172.29.39.1:18443' "$T/no.err" || fail "no clear refusal: $(cat "$T/no.err")"
grep_q -- '--insecure-http' "$T/no.err" || fail "the refusal does not name --insecure-http"
ok "--no-tls on a non-loopback address is refused: $(head -c 80 "$T/no.err")..."

start() { # start DATADIR [args]: atlas serve in the server namespace on ADDR:PORT
  local d=$1; shift
  ip netns exec ata-s39 "$ATLAS_BIN" --data "$d" serve --listen $ADDR:$PORT "$@" > "$d.out" 2> "$d.log" &
  PID=$!
  for i in $(seq 1 100); do
    kill -0 $PID 2>/dev/null || { cat "$d.log" >&2; fail "atlas serve exited"; }
    grep_q 'serving on' "$d.log" && return 0
    sleep 0.05
  done
  fail "atlas serve did not start"
}
stop() { kill $PID; wait $PID || true; PID=; }
start "$T/d"
D=$T/d
[ "$(stat -c %a "$D/tls/cert.pem")" = 600 ] || fail "cert.pem is not 0600"
[ "$(stat -c %a "$D/tls/key.pem")" = 600 ] || fail "key.pem is not 0600"
openssl pkey -in "$D/tls/key.pem" -noout -text | grep_q 'ASN1 OID: prime256v1' || fail "key is not ECDSA P-256"
openssl x509 -in "$D/tls/cert.pem" -noout -ext subjectAltName | grep_q "IP Address:$ADDR" || fail "no SAN for $ADDR"
fp=$(sed -n 's/^atlas: TLS certificate SHA-256 fingerprint //p' "$D.out")
want=$(openssl x509 -in "$D/tls/cert.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
[ -n "$fp" ] && [ "$fp" = "$want" ] || fail "printed fingerprint \"$fp\", certificate has \"$want\""
grep_q 'created a self-signed TLS certificate' "$D.out" || fail "first start did not say it made a certificate"
grep_q 'created user "admin" with password' "$D.out" || grep_q password "$D.out" "$D.log" 2>/dev/null || true
ok "first start made a self-signed ECDSA P-256 certificate, 0600, fingerprint $fp printed"

sclient() { CNS openssl s_client -connect $ADDR:$PORT -servername atlas "$@" < /dev/null 2>&1; }
served_fp() { sclient -tls1_2 | openssl x509 -noout -fingerprint -sha256 | sed 's/.*=//'; }
out=$(sclient -tls1_2) || fail "TLS 1.2 handshake failed: $out"
grep_q '^New, TLSv1.2' <<<"$out" || fail "not TLS 1.2: $out"
out=$(sclient -tls1_3) || fail "TLS 1.3 handshake failed: $out"
grep_q '^New, TLSv1.3' <<<"$out" || fail "not TLS 1.3: $out"
[ "$(served_fp)" = "$fp" ] || fail "served certificate is not the stored one"
for v in tls1_1 tls1; do
  if out=$(sclient -$v -cipher 'DEFAULT@SECLEVEL=0'); then fail "$v accepted: $out"; fi
  # The client did offer it (sent its hello); the server gave no certificate.
  grep_q 'written [1-9][0-9]* bytes' <<<"$out" || fail "$v: the client sent nothing: $out"
  grep_q 'Cipher is (NONE)' <<<"$out" || fail "$v: unexpected answer: $out"
done
ok "TLS 1.2 and 1.3 accepted with the stored certificate, TLS 1.1 and 1.0 refused"

hdrs=$(CNS curl -sS -D - -o /dev/null --cacert "$D/tls/cert.pem" "$URL/api/v1/health") || fail "https health"
grep_q -i '^Strict-Transport-Security: max-age=31536000' <<<"$hdrs" || fail "no HSTS: $hdrs"
grep_q 'panel: https://' "$D.out" || fail "first start does not name the https URL"
PW=$(cat "$D/initial-admin-password" 2>/dev/null || true)
[ -n "$PW" ] || fail "no first-start password found"
tok=$(CNS curl -fsS --cacert "$D/tls/cert.pem" -X POST "$URL/api/v1/auth/login" \
  -d "{\"username\":\"admin\",\"password\":\"$PW\"}" | jq -er .token) || fail "login over HTTPS"
CNS curl -fsS --cacert "$D/tls/cert.pem" -H "Authorization: Bearer $tok" "$URL/api/v1/status" | jq -e . >/dev/null ||
  fail "status over HTTPS"
if CNS curl -fsS -m 5 "http://$ADDR:$PORT/api/v1/health" >/dev/null 2>&1; then fail "plain HTTP answered on the TLS port"; fi
ok "HTTPS: HSTS sent, login and status work, plain HTTP on the port gets no answer"

# SIGHUP: a new pair is served by the same process; a broken one is refused
# and the previous one kept.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=renewed \
  -keyout "$T/k2.pem" -out "$T/c2.pem" 2>/dev/null
cp "$T/k2.pem" "$D/tls/key.pem"; cp "$T/c2.pem" "$D/tls/cert.pem"
kill -HUP $PID
fp2=$(openssl x509 -in "$T/c2.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
for i in $(seq 1 100); do [ "$(served_fp)" = "$fp2" ] && break; sleep 0.05; done
[ "$(served_fp)" = "$fp2" ] || fail "after SIGHUP the new certificate is not served"
kill -0 $PID || fail "atlas serve died on SIGHUP"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=other \
  -keyout "$T/k3.pem" -out "$T/c3.pem" 2>/dev/null
cp "$T/k3.pem" "$D/tls/key.pem" # key of another certificate
kill -HUP $PID
for i in $(seq 1 100); do grep_q 'does not belong to the certificate' "$D.log" && break; sleep 0.05; done
grep_q 'does not belong to the certificate' "$D.log" || fail "a mismatched pair was not reported"
[ "$(served_fp)" = "$fp2" ] || fail "a broken reload replaced the working certificate"
stop
ok "SIGHUP serves a renewed pair from the same process; a mismatched pair is refused, the old one kept"

# A given chain (CA + leaf, as certbot's fullchain.pem) is served whole.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=TestCA \
  -keyout "$T/ca.key" -out "$T/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=panel.test \
  -keyout "$T/leaf.key" -out "$T/leaf.csr" 2>/dev/null
printf 'subjectAltName=IP:%s\n' $ADDR > "$T/ext"
openssl x509 -req -in "$T/leaf.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial -days 30 \
  -extfile "$T/ext" -out "$T/leaf.crt" 2>/dev/null
cat "$T/leaf.crt" "$T/ca.crt" > "$T/fullchain.pem"
start "$T/e" --tls-cert "$T/fullchain.pem" --tls-key "$T/leaf.key"
[ ! -e "$T/e/tls/cert.pem" ] || fail "a self-signed certificate was made though one was given"
out=$(sclient -showcerts -CAfile "$T/ca.crt" -verify_return_error)
[ "$(grep -c 'BEGIN CERTIFICATE' <<<"$out")" = 2 ] || fail "chain not served whole: $out"
grep_q 'Verify return code: 0 (ok)' <<<"$out" || fail "chain does not verify: $out"
CNS curl -fsS --cacert "$T/ca.crt" "$URL/api/v1/health" >/dev/null || fail "curl with the CA"
stop
ok "a given chain is served whole and verifies against its CA"
# --insecure-http beyond loopback serves plain HTTP, as asked, and warns (it said only "serving on http://")
start "$T/f" --insecure-http
CNS curl -fsS "http://$ADDR:$PORT/api/v1/health" >/dev/null || fail "plain HTTP with --insecure-http"
grep_q "warn plain HTTP on $ADDR:$PORT (--insecure-http): passwords and tokens cross the network in clear text" "$T/f.log" ||
  fail "no warning for plain HTTP beyond loopback: $(cat "$T/f.log")"
stop
ok "--insecure-http beyond loopback serves plain HTTP and warns in the log"
# on a wildcard address the self-signed certificate names localhost alone (it named IP 0.0.0.0)
ip netns exec ata-s39 "$ATLAS_BIN" --data "$T/g" serve --listen 0.0.0.0:$PORT > "$T/g.out" 2> "$T/g.log" &
PID=$!
wait_for 10 grep -q 'serving on' "$T/g.log" >/dev/null || fail "atlas serve on 0.0.0.0 did not start: $(cat "$T/g.log")"
stop
san=$(openssl x509 -in "$T/g/tls/cert.pem" -noout -ext subjectAltName | tail -1)
grep_q 'DNS:localhost' <<<"$san" && ! grep_q 'IP Address' <<<"$san" || fail "SAN on 0.0.0.0: $san"
ok "the self-signed certificate of a wildcard listen address names localhost, not 0.0.0.0 ($san)"
