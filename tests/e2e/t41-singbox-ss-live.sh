#!/usr/bin/env bash
# t41-singbox-ss-live: Shadowsocks 2022 users change live through the SSM
# API. Adding a user and removing one keep sing-box's pid and reload nothing;
# another user's open transfer runs to its end; the removed user's open
# connection is closed and cannot come back; a disabled user is cut the same
# way; a user deleted from SSM by hand is planned and put back; per-user bytes
# appear in `atlas singbox status` and are still counted after a reload.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/lib-sb.sh

net_setup 41
write_state() { # users YAML of the ss inbound, extra inbound YAML (optional)
  { sb_yaml_head; cat <<YAML
    - name: ss
      type: shadowsocks
      port: 8388
      method: 2022-blake3-aes-128-gcm
      users:
$1
${2:-}
YAML
  } > "$T/state.yaml"
  cli import "$T/state.yaml" > /dev/null
}
U_ALICE="        - name: alice"
U_CAROL="        - name: carol"
U_DAVE="        - name: dave"
write_state "$U_ALICE
$U_CAROL"
apply_converged
# the first start's users came from the seeded SSM cache, which sing-box read
grep_q '2 Shadowsocks users set in the SSM cache before the start' "$T/apply.out" || { cat "$T/apply.out"; fail "the SSM cache was not seeded"; }
! grep_q 'load cache' "$D/singbox/sing-box.log" || fail "sing-box could not read the seeded cache: $(grep 'load cache' "$D/singbox/sing-box.log")"
pid=$(sb_pid)
alive "$pid" || fail "sing-box is not running"
starts0=$(starts)
! grep_q '"users"' <(jq '.inbounds[] | select(.tag == "ss")' "$D/singbox/config.json") ||
  fail "the managed Shadowsocks inbound lists its users in config.json"
client_up alice ss 1080
client_up carol ss 1081
[ "$(fetch 1080)" = "hello from the internet 41" ] || fail "alice cannot fetch through Shadowsocks"
[ "$(fetch 1081)" = "hello from the internet 41" ] || fail "carol cannot fetch through Shadowsocks"
ok "alice and carol fetch through Shadowsocks 2022 (users set live through SSM)"

# alice's long transfer stays open through every live change below
SLOW=$((400 * 65536)) # bytes of /slow/400: open on the server side for 20 s
xfer() { # PORT OUT: a slow download in the background
  ip netns exec "$CLI" curl -s --max-time 120 --socks5-hostname "127.0.0.1:$1" \
    -o "$2" "http://$NET_IP:8080/slow/400" &
}
connected() { # USER: waits until status lists USER with an open connection
  for _ in $(seq 100); do
    cli singbox status > "$T/status.out" 2>&1 && grep_q "^$1  *[1-9]" "$T/status.out" && return 0
    sleep 0.1
  done
  cat "$T/status.out"; fail "$1 is not listed as connected"
}
xfer 1080 "$T/alice.bin"; alice_xfer=$!
connected alice

# a new user: live, no reload
write_state "$U_ALICE
$U_CAROL
$U_DAVE"
[ "$(plan_rc)" = 2 ] || fail "plan misses dave"
grep_q '+ singbox/ss user dave (live, no reload)' "$T/plan.out" || { cat "$T/plan.out"; fail "plan does not add dave live"; }
grep_q 'reload' <(grep -v 'no reload' "$T/plan.out") && { cat "$T/plan.out"; fail "adding a Shadowsocks user plans a reload"; }
apply_converged
[ "$(sb_pid)" = "$pid" ] && [ "$(starts)" = "$starts0" ] || fail "adding dave restarted or reloaded sing-box"
client_up dave ss 1082
[ "$(fetch 1082)" = "hello from the internet 41" ] || fail "dave cannot fetch"
ok "dave added live: same pid, no reload, dave fetches"

# a removed user: its open connection closed, no way back in
xfer 1081 "$T/carol.bin"; carol_xfer=$!
connected carol
write_state "$U_ALICE
$U_DAVE"
[ "$(plan_rc)" = 2 ] || fail "plan misses carol's removal"
grep_q -- '- singbox/ss user carol (not in the desired state; live, no reload)' "$T/plan.out" || { cat "$T/plan.out"; fail "plan does not remove carol live"; }
grep_q 'x singbox/ss/carol connection' "$T/plan.out" || { cat "$T/plan.out"; fail "plan does not close carol's connection"; }
apply_converged
set +e; wait "$carol_xfer"; rc=$?; set -e
got=$(stat -c %s "$T/carol.bin" 2>/dev/null || echo 0)
[ $rc != 0 ] && [ "$got" -lt $SLOW ] || fail "carol's transfer survived her removal (rc $rc, $got bytes)"
fetch 1081 > /dev/null 2>&1 && fail "carol can still fetch after her removal"
[ "$(sb_pid)" = "$pid" ] && [ "$(starts)" = "$starts0" ] || fail "removing carol restarted or reloaded sing-box"
ok "carol removed live: her open connection closed ($got of $SLOW bytes), she cannot reconnect"

# a disabled user: the same
write_state "$U_ALICE
$U_DAVE
          disabled: true"
[ "$(plan_rc)" = 2 ] || fail "plan misses dave's disabling"
grep_q -- '- singbox/ss user dave (disabled; live, no reload)' "$T/plan.out" || { cat "$T/plan.out"; fail "plan does not remove disabled dave"; }
apply_converged
fetch 1082 > /dev/null 2>&1 && fail "disabled dave can still fetch"
ok "dave disabled live: refused"

# alice's transfer, open all along, ran to its end
alive "$alice_xfer" || fail "alice's transfer ended before the live changes were done: the test proves nothing"
wait "$alice_xfer" || fail "alice's transfer broke during the live changes"
[ "$(stat -c %s "$T/alice.bin")" = $SLOW ] || fail "alice's transfer is incomplete"
[ "$(sb_pid)" = "$pid" ] && [ "$(starts)" = "$starts0" ] || fail "sing-box was restarted or reloaded"
ok "alice's open transfer survived every live change ($SLOW bytes)"

# per-user traffic: alice's download is counted, and survives a reload
cli singbox status > "$T/status.out"
down=$(awk '$1 == "alice" { print $4 }' "$T/status.out")
[ -n "$down" ] && [ "$down" -ge $SLOW ] || { cat "$T/status.out"; fail "alice's downloaded bytes are not counted ($down)"; }
write_state "$U_ALICE" "$(sb_reality_edge)
        - name: alice"
apply_converged
[ "$(starts)" = $((starts0 + 1)) ] || fail "the new inbound did not reload sing-box exactly once"
[ "$(fetch 1080)" = "hello from the internet 41" ] || fail "alice cannot fetch after the reload"
cli singbox status > "$T/status.out"
after=$(awk '$1 == "alice" { print $4 }' "$T/status.out")
[ -n "$after" ] && [ "$after" -ge "$down" ] || { cat "$T/status.out"; fail "alice's bytes were lost on the reload ($down before, $after after)"; }
ok "alice's bytes are counted ($down) and still there after a reload ($after)"

# drift: alice deleted from SSM by hand
ip netns exec "$SRV" curl -s -o /dev/null -w '%{http_code}' -X DELETE \
  "http://127.0.0.1:9092/ss/server/v1/users/alice" | grep_q 204 || fail "cannot delete alice from SSM by hand"
fetch 1080 > /dev/null 2>&1 && fail "alice still gets through after her SSM deletion"
[ "$(plan_rc)" = 2 ] || fail "plan misses alice's SSM deletion"
grep_q '+ singbox/ss user alice (live, no reload)' "$T/plan.out" || { cat "$T/plan.out"; fail "plan does not put alice back"; }
apply_converged
[ "$(fetch 1080)" = "hello from the internet 41" ] || fail "alice cannot fetch after the heal"
ok "a user deleted from SSM by hand is planned and put back"

# The api and ssm-api ports moved: until the reload sing-box answers on the
# old ones, where the plan counts the connections it will drop and the
# status reads the counters; after it, on the new ones.
xfer 1080 "$T/alice2.bin"; alice_xfer=$!
connected alice
cli singbox status > "$T/status.out"
before=$(awk '$1 == "alice" { print $4 }' "$T/status.out")
write_state "$U_ALICE" "$(sb_reality_edge)
        - name: alice"
sed -i 's/^singbox:$/singbox:\n  api_port: 19190\n  ssm_port: 19192/' "$T/state.yaml"
cli import "$T/state.yaml" > /dev/null
[ "$(plan_rc)" = 2 ] || { cat "$T/plan.out"; fail "plan misses the new ports"; }
grep -Eq 'singbox reload: drops [1-9][0-9]* connections? of 1 user' "$T/plan.out" ||
  { cat "$T/plan.out"; fail "the plan does not count the connections the reload drops"; }
cli singbox status > "$T/status.out" 2>&1 || { cat "$T/status.out"; fail "status fails before the reload"; }
grep_q "^alice  *[1-9]" "$T/status.out" || { cat "$T/status.out"; fail "alice is not listed as connected before the reload"; }
apply_converged
jq -e '.services[] | select(.type == "api") | .listen_port == 19190' "$D/singbox/config.json" > /dev/null ||
  fail "the api service did not move"
wait "$alice_xfer" 2>/dev/null || true # the reload cut it, as the plan said
[ "$(fetch 1080)" = "hello from the internet 41" ] || fail "alice cannot fetch after the ports moved"
cli singbox status > "$T/status.out" 2>&1 || { cat "$T/status.out"; fail "status fails after the reload"; }
now=$(awk '$1 == "alice" { print $4 }' "$T/status.out")
[ -n "$now" ] && [ "$now" -gt "$before" ] || { cat "$T/status.out"; fail "alice's bytes: $before before, $now after"; }
ok "api and ssm-api ports moved: connections counted on the old ones before the reload ($before -> $now bytes)"
