#!/usr/bin/env bash
# t25-ovpn-expired: a client whose `expires` date has passed is refused when
# it connects with its own valid certificate and the exact text of `atlas
# ovpn config` (its CCD says `disable`), while a client expiring tomorrow
# connects; moving the date into the future lets the expired one in without
# a new certificate or a server restart.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/lib-ovpn.sh

net_setup 25 2
yesterday=$(date -u -d yesterday +%F)
tomorrow=$(date -u -d tomorrow +%F)
write_state() { # $1: gina's expiry
  { ovpn_yaml_head; cat <<YAML
  routes: [10.99.0.0/24]
  clients:
    - name: hank
      expires: $tomorrow
    - name: gina
      expires: $1
YAML
  } > "$T/state.yaml"
  cli import "$T/state.yaml" > /dev/null || fail "import"
}
write_state "$yesterday"
apply_converged
grep -qx 'disable' "$D/openvpn/ccd/gina" || fail "expired gina's CCD has no disable: $(cat "$D/openvpn/ccd/gina" 2>&1)"
[ ! -e "$D/openvpn/ccd/hank" ] || ! grep -q disable "$D/openvpn/ccd/hank" || fail "hank's CCD disables him"
ok "apply: expired gina's CCD says disable, hank's does not"

pid=$(server_pid)
client_up hank ato-25c1
wait_ping ato-25c1 10.9.0.1 30 || fail "hank (expires tomorrow) cannot connect"
rejected() { grep -c "gina.*rejected due to 'disable'" "$D/openvpn/openvpn.log" || true; }
client_up gina ato-25c2
# The event: the server rejects gina's session, and her client hears AUTH_FAILED.
gina_rejected() { [ "$(rejected)" -ge 1 ] && grep -q AUTH_FAILED "$T/gina.log"; }
wait_for 60 gina_rejected >/dev/null || fail "the server did not reject expired gina: $(tail -8 "$D/openvpn/openvpn.log")"
# (the rejected instance lingers for openvpn's delayed exit, then goes)
no_session() { [ -z "$(session_cid gina)" ]; }
wait_for 20 no_session >/dev/null || fail "expired gina keeps a session"
ip netns exec ato-25c2 ping -c 3 -i 0.3 -W 1 10.9.0.1 >/dev/null 2>&1 && fail "expired gina reaches the server"
[ -n "$(session_cid hank)" ] || fail "hank lost his session"
ok "expired gina is refused at connect with her valid certificate; hank is connected"

cert0=$(sed -n '/<cert>/,/<\/cert>/p' "$T/gina.ovpn" | sed '1d;$d' | openssl x509 -noout -fingerprint -sha256)
write_state "$tomorrow"
apply_converged
client_down gina
client_up gina ato-25c2
wait_ping ato-25c2 10.9.0.1 60 || fail "gina, no longer expired, cannot connect"
cli ovpn config gina > "$T/gina2.ovpn"
cert1=$(sed -n '/<cert>/,/<\/cert>/p' "$T/gina2.ovpn" | sed '1d;$d' | openssl x509 -noout -fingerprint -sha256)
[ "$cert0" = "$cert1" ] || fail "gina got a new certificate"
[ "$(server_pid)" = "$pid" ] && alive "$pid" || fail "the server restarted"
ok "expiry moved to tomorrow: gina connects with the same certificate, server pid $pid unchanged"
