#!/usr/bin/env bash
# t40-singbox-reality: VLESS + REALITY with the real sing-box. A client
# configured from Atlas's profile fetches a page of the "internet" through
# the server (REALITY's handshake target: a TLS 1.3 server of the test);
# `atlas singbox status` lists the connected user; adding a VLESS user
# reloads sing-box exactly once and `plan` said beforehand how many
# connections of how many users it drops; a config `sing-box check` rejects is
# not installed and the old one keeps serving; a port taken by another
# process is refused before any reload; drift (config edited by hand,
# process killed) is planned and healed; plan exits 0 after every apply.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/lib-sb.sh

net_setup 40
write_state() { # extra inbound YAML (optional), extra vless users (optional)
  { sb_yaml_head; sb_reality_edge; cat <<YAML
        - name: alice
        - name: bob
${2:-}
${1:-}
YAML
  } > "$T/state.yaml"
  cli import "$T/state.yaml" > /dev/null
}
write_state
apply_converged
pid=$(sb_pid)
alive "$pid" || fail "sing-box is not running after apply"
[ "$(stat -c %a "$D/singbox/config.json")" = 600 ] || fail "config.json is not 0600"
grep_q '"listen": "::"' "$D/singbox/config.json" || fail "config.json does not say listen \"::\""
ok "apply starts sing-box (pid $pid), plan exits 0"

client_up alice edge 1080
[ "$(fetch 1080)" = "hello from the internet 40" ] || fail "alice cannot fetch through VLESS+REALITY"
ok "alice fetches a page through VLESS+REALITY"

# a wrong public key: the client sees the target's own certificate, no tunnel
jq '(.outbounds[] | select(.tag == "edge") | .tls.reality.public_key) = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    | .inbounds[0].listen_port = 1089' "$T/alice-edge.client.json" > "$T/wrong.client.json"
ip netns exec "$CLI" "$SB" run -c "$T/wrong.client.json" > "$T/wrong.client.log" 2>&1 &
wrong=$!
for _ in $(seq 50); do ip netns exec "$CLI" bash -c "exec 3<>/dev/tcp/127.0.0.1/1089" 2>/dev/null && break; sleep 0.1; done
if fetch 1089 > /dev/null 2>&1; then fail "a client with a wrong REALITY key got through"; fi
kill "$wrong" 2>/dev/null || true
ok "a client with a wrong REALITY public key gets nothing"

# a transfer open, then the status lists alice as connected
ip netns exec "$CLI" curl -s --max-time 60 --socks5-hostname 127.0.0.1:1080 \
  -o "$T/big1" "http://$NET_IP:8080/slow/400" &
xfer=$!
for _ in $(seq 100); do
  cli singbox status > "$T/status.out" 2>&1 && grep_q '^alice  *1 ' "$T/status.out" && break
  sleep 0.1
done
grep_q '^alice  *1 ' "$T/status.out" || { cat "$T/status.out"; fail "atlas singbox status does not list alice with one connection"; }
ok "atlas singbox status lists alice as connected"

# adding a VLESS user: the plan says what the reload drops, then one reload
before=$(starts)
write_state "" "        - name: carol"
[ "$(plan_rc)" = 2 ] || { cat "$T/plan.out"; fail "plan misses the new user"; }
grep_q '~ singbox reload: drops 1 connection of 1 user' "$T/plan.out" || { cat "$T/plan.out"; fail "plan does not say the reload drops alice's connection"; }
apply_converged
[ "$(sb_pid)" = "$pid" ] || fail "adding a user restarted sing-box instead of reloading it"
[ "$(starts)" = $((before + 1)) ] || fail "expected exactly one reload, sing-box started $(( $(starts) - before )) times"
wait "$xfer" && [ "$(stat -c %s "$T/big1")" = $((400 * 65536)) ] && fail "alice's transfer survived the reload (the plan said it would drop)"
client_up carol edge 1081
[ "$(fetch 1081)" = "hello from the internet 40" ] || fail "carol cannot fetch after the reload"
[ "$(fetch 1080)" = "hello from the internet 40" ] || fail "alice cannot fetch after the reload"
ok "adding carol reloads once (same pid), as the plan announced"

# a config sing-box check refuses: never installed, the old one keeps serving
good=$(sha256sum < "$D/singbox/config.json")
write_state "    - name: broken
      type: trojan
      port: 8443
      security: tls
      server_name: www.example.com
      tls_certificate: $T/missing.crt
      tls_key: $T/missing.key
      users:
        - name: alice"
before=$(starts)
# apply_refused MESSAGE WHAT: apply fails and says MESSAGE; the installed
# config ($good), the process ($pid, $before starts) and the page stay.
apply_refused() {
  local rc
  set +e; cli apply > "$T/apply.out" 2>&1; rc=$?; set -e
  [ $rc != 0 ] || fail "apply of $2 succeeded"
  grep_q "$1" "$T/apply.out" || { cat "$T/apply.out"; fail "apply does not say \"$1\" for $2"; }
  [ "$(sha256sum < "$D/singbox/config.json")" = "$good" ] || fail "$2 was installed"
  [ "$(sb_pid)" = "$pid" ] && [ "$(starts)" = "$before" ] || fail "sing-box was restarted or reloaded for $2"
  [ "$(fetch 1080)" = "hello from the internet 40" ] || fail "the old config stopped serving after $2"
}
apply_refused 'sing-box check refused the new config' "a config check rejects"
ok "a config check rejects is not installed, the old one keeps serving"

# a port taken by another process: refused before the reload
ip netns exec "$SRV" python3 -c "import socket,time,sys; s=socket.socket(socket.AF_INET6); s.bind(('::', 8444)); s.listen(); print('up', flush=True); time.sleep(600)" "$T/squatter" > "$T/squatter.log" 2>&1 &
squatter=$!
for _ in $(seq 50); do grep_q up "$T/squatter.log" 2>/dev/null && break; sleep 0.1; done
write_state "    - name: more
      type: vless
      port: 8444
      security: none
      users:
        - name: alice"
apply_refused 'port 8444/tcp is taken by another process' "a config with a taken port"
kill "$squatter"; wait "$squatter" 2>/dev/null || true
apply_converged
[ "$(sb_pid)" = "$pid" ] || fail "sing-box restarted"
ok "a taken port is refused before any reload; freed, the same change applies"

# drift: config.json edited by hand
write_state "" "        - name: carol"
apply_converged
sed -i 's/"listen_port": 443/"listen_port": 4443/' "$D/singbox/config.json"
[ "$(plan_rc)" = 2 ] || fail "plan misses the edited config.json"
grep_q '~ singbox reload' "$T/plan.out" || { cat "$T/plan.out"; fail "plan does not reload the edited config"; }
apply_converged
grep_q '"listen_port": 443,' "$D/singbox/config.json" || fail "config.json not restored"
ok "config.json edited by hand: planned and healed"

# drift: sing-box killed
kill -9 "$(sb_pid)"
for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
[ "$(plan_rc)" = 2 ] || fail "plan misses the killed sing-box"
grep_q '+ singbox start' "$T/plan.out" || { cat "$T/plan.out"; fail "plan does not start sing-box"; }
apply_converged
alive "$(sb_pid)" || fail "sing-box not restarted"
[ "$(fetch 1080)" = "hello from the internet 40" ] || fail "alice cannot fetch after the restart"
ok "sing-box killed: planned and restarted"

# the section removed: sing-box stopped, its files gone
pid=$(sb_pid)
printf 'version: 1\nsettings:\n  host: %s\n' "$SRV_IP" > "$T/none.yaml"
cli import "$T/none.yaml" > /dev/null
[ "$(plan_rc)" = 2 ] || fail "plan misses the removed section"
grep_q -- '- singbox: section removed' "$T/plan.out" || { cat "$T/plan.out"; fail "plan does not remove sing-box"; }
apply_converged
alive "$pid" && fail "sing-box still runs after its section was removed"
[ ! -e "$D/singbox" ] || fail "$D/singbox is still there"
ok "section removed: sing-box stopped, files removed"
