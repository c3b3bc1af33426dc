#!/usr/bin/env bash
# `atlas apply -f FILE` end to end: `plan -f` shows the file's changes and
# stores nothing; `apply -f` imports the file and applies it (a real
# interface, a real client pings through it); an edited file applies only
# the difference (alice keeps her key and her handshake); an invalid file is
# refused with file:line:col, and neither the store nor the interface
# changes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-wg.sh"
wg_setup 15
state() { # peer names...
  wg_yaml_head
  printf '    - name: atwsrv%s\n      listen_port: 51815\n      address: [10.66.%s.1/24]\n      peers:\n' $N $N
  for p in "$@"; do printf '        - name: %s\n' "$p"; done
}
gens() { A history | grep -c '^  [0-9]' || true; }
state alice > "$T/atlas.yaml"
expect_rc 2 SA plan -f "$T/atlas.yaml" > "$T/plan"
grep -q "+ wireguard/atwsrv$N interface" "$T/plan" || { cat "$T/plan"; fail "plan -f: no interface"; }
grep -q "+ wireguard/atwsrv$N peer alice" "$T/plan" || { cat "$T/plan"; fail "plan -f: no alice"; }
[ "$(gens)" = 0 ] || fail "plan -f stored a generation"
absent " atwsrv$N:" S ip -o link show || fail "plan -f created the interface"
ok "plan -f shows the file's changes and stores and applies nothing"

SA apply -f "$T/atlas.yaml" > "$T/apply" || { cat "$T/apply"; fail "apply -f"; }
[ "$(gens)" = 1 ] || fail "apply -f did not store the file as one generation: $(A history)"
A export | grep_q 'name: alice' || fail "alice not in the stored state"
[ "$(S wg show atwsrv$N peers | wc -l)" = 1 ] || fail "interface peers: $(S wg show atwsrv$N peers)"
expect_rc 0 SA plan
A wg config alice > "$T/alice.conf"
wg_client $N "$T/alice.conf"
C ping -c 2 -i 0.2 -W 2 10.66.$N.1 > /dev/null || fail "alice cannot ping through the applied interface"
alice=$(A export | awk '/name: alice/{f=1} f && !d && /public_key:/{print $2; d=1}')
hs0=$(wg_handshake atwsrv$N "$alice")
[ -n "$hs0" ] && [ "$hs0" != 0 ] || fail "no handshake for alice"
ok "apply -f stored the file and applied it: alice pings through the interface"

state alice bob > "$T/atlas.yaml"
SA apply -f "$T/atlas.yaml" > "$T/apply" || { cat "$T/apply"; fail "apply -f (bob)"; }
grep -q "+ wireguard/atwsrv$N peer bob" "$T/apply" || { cat "$T/apply"; fail "bob not added"; }
grep -q "peer alice" "$T/apply" && { cat "$T/apply"; fail "the edit touched alice"; }
[ "$(gens)" = 2 ] || fail "second apply -f: $(gens) generations"
present "$alice" S wg show atwsrv$N peers || fail "alice gone"
[ "$(S wg show atwsrv$N peers | wc -l)" = 2 ] || fail "bob not on the interface"
[ "$(wg_handshake atwsrv$N "$alice")" = "$hs0" ] || fail "alice's handshake changed"
[ "$(A export | awk '/name: alice/{f=1} f && !d && /public_key:/{print $2; d=1}')" = "$alice" ] || fail "alice's key changed"
ok "edited file: apply -f adds bob only; alice keeps her key and handshake"

{ state alice bob; printf '        - name: carol\n          keepalive: often\n'; } > "$T/atlas.yaml"
A export > "$T/before.yaml"
set +e; SA apply -f "$T/atlas.yaml" > "$T/out" 2>&1; rc=$?; set -e
[ $rc = 1 ] || { cat "$T/out"; fail "invalid file: exit $rc, want 1"; }
grep -qE "atlas.yaml:1[0-9]:[0-9]+: .*keepalive" "$T/out" || { cat "$T/out"; fail "no file:line:col naming keepalive"; }
A export | cmp -s - "$T/before.yaml" || fail "the invalid file changed the stored state"
[ "$(gens)" = 2 ] || fail "the invalid file stored a generation"
[ "$(S wg show atwsrv$N peers | wc -l)" = 2 ] || fail "the invalid file changed the interface"
ok "invalid file refused with $(grep -oE 'atlas.yaml:[0-9]+:[0-9]+' "$T/out" | head -1); store and interface unchanged"
