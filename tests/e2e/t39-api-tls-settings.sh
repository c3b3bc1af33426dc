#!/usr/bin/env bash
# HTTPS from the desired state: settings.tls_cert / tls_key name the pair
# `atlas serve` serves (here on a non-loopback address, where it would
# otherwise make a self-signed one): the served certificate is that file's
# (openssl s_client from the client namespace), no self-signed pair is made;
# a relative path is refused by import with its line and column and changes
# nothing; --tls-cert on the command line wins over the settings.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
T=$(mktemp -d /tmp/atlas-e2e-tls-settings.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; wait 2>/dev/null; api_cleanup_topology; rm -rf "$T"' EXIT
api_topology 87
ADDR=172.29.87.1; PORT=18087
A() { "$ATLAS_BIN" --data "$T/d" "$@"; }
mkcert() { # mkcert NAME CN: an ECDSA self-signed pair $T/NAME.{crt,key}
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$2" \
    -keyout "$T/$1.key" -out "$T/$1.crt" 2>/dev/null || fail "openssl req"
  chmod 600 "$T/$1.key"
}
fp() { openssl x509 -noout -fingerprint -sha256 | cut -d= -f2; }
served() { CNS openssl s_client -connect $ADDR:$PORT -servername x < /dev/null 2>/dev/null | fp; }
mkcert set settings.example
mkcert cli cli.example
printf 'version: 1\nsettings:\n  tls_cert: %s\n  tls_key: %s\n' "$T/set.crt" "$T/set.key" > "$T/s.yaml"
A import "$T/s.yaml" >/dev/null || fail "import of settings.tls_cert/tls_key"
printf 'version: 1\nsettings:\n  tls_cert: set.crt\n  tls_key: %s\n' "$T/set.key" > "$T/bad.yaml"
expect_rc 1 A import "$T/bad.yaml" 2> "$T/bad.err"
grep -qF "$T/bad.yaml:3:13: settings: tls_cert \"set.crt\" is not an absolute path" "$T/bad.err" || fail "no position: $(cat "$T/bad.err")"
A export | grep -qF "tls_cert: $T/set.crt" || fail "the refused import changed the state"
ok "a relative tls_cert is refused at its line and column; the state stays"

start() {
  ip netns exec ata-s87 "$ATLAS_BIN" --data "$T/d" serve --listen $ADDR:$PORT "$@" > "$T/out" 2> "$T/log" &
  PID=$!
  wait_for 10 grep -q 'serving on https' "$T/log" >/dev/null || { cat "$T/log" >&2; fail "atlas serve did not serve https"; }
}
stop() { kill $PID; wait $PID || true; PID=; }
start
want=$(fp < "$T/set.crt")
[ -n "$want" ] && [ "$(served)" = "$want" ] || fail "served $(served), want the settings' certificate $want"
grep -qF "fingerprint $want" "$T/out" || fail "the printed fingerprint is not the settings' certificate: $(cat "$T/out")"
[ ! -e "$T/d/tls/cert.pem" ] || fail "a self-signed pair was made despite settings.tls_cert"
ok "atlas serve serves settings.tls_cert ($want)"
stop
start --tls-cert "$T/cli.crt" --tls-key "$T/cli.key"
[ "$(served)" = "$(fp < "$T/cli.crt")" ] || fail "--tls-cert does not win over the settings"
stop
ok "--tls-cert on the command line wins over settings.tls_cert"

# settings naming a pair that does not load (a typo stored through the API,
# files moved): the next start served nothing at all (exit 1), and only the
# panel could fix the setting. It serves the self-signed pair instead and
# says why; the setting is kept for the administrator to fix.
printf 'version: 1\nsettings:\n  tls_cert: %s\n  tls_key: %s\n' "$T/gone.crt" "$T/gone.key" > "$T/gone.yaml"
A import "$T/gone.yaml" >/dev/null || fail "import of settings naming missing files"
start
grep -q "error settings.tls_cert/tls_key: .*gone.crt.*serving the self-signed certificate of $T/d/tls/ instead" "$T/log" ||
  fail "no error naming the setting's pair: $(cat "$T/log")"
[ -s "$T/d/tls/cert.pem" ] && [ "$(served)" = "$(fp < "$T/d/tls/cert.pem")" ] ||
  fail "served $(served), want the self-signed $T/d/tls/cert.pem"
A export | grep -qF "tls_cert: $T/gone.crt" || fail "the setting was changed"
# the pair appears (certbot's first issue after the boot); SIGHUP serves it
kill -HUP $PID
wait_for 5 grep -q "TLS: .*gone.crt.*still serving $T/d/tls/cert.pem" "$T/log" >/dev/null ||
  fail "a SIGHUP before the pair exists does not say so: $(tail -3 "$T/log")"
cp "$T/set.crt" "$T/gone.crt"; cp "$T/set.key" "$T/gone.key"
kill -HUP $PID
want=$(fp < "$T/set.crt")
wait_for 5 sh -c "[ \"\$(ip netns exec ata-c87 openssl s_client -connect $ADDR:$PORT -servername x < /dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 | cut -d= -f2)\" = '$want' ]" >/dev/null ||
  fail "after the pair appeared and SIGHUP, served $(served), want $want"
stop
ok "settings.tls_cert naming a missing file: atlas serve still starts, serving its self-signed pair, says why, and serves the settings' pair once it exists (SIGHUP)"
