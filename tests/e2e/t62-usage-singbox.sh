#!/usr/bin/env bash
# Quotas on sing-box (issue 12): `atlas serve` runs the real sing-box in the
# server namespace; real sing-box clients fetch through it. ss1 (Shadowsocks,
# quota 2MiB) fetches 4 MiB: at the next status tick it is removed live
# through the SSM API (no reload: same pid, same start count) and can fetch
# nothing more, while ss2 on the same inbound keeps working. vl1 (VLESS,
# quota 2MiB) fetches 4 MiB: it is cut by one reload whose plan line names
# it and why. `atlas usage` shows both suspended; nothing is written into the
# desired state.
# Then the counters survive: ss2's total after a reload (a user added
# through the API) and after sing-box is killed and started again by
# `atlas serve` is never below the total before, and new traffic adds on.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/lib-api.sh
. tests/e2e/lib-sb.sh

net_setup 62
cat > "$T/state.yaml" <<YAML
version: 1
settings:
  host: $SRV_IP
  singbox_binary: $SB
  resync: 2
singbox:
  inbounds:
    - name: ssin
      type: shadowsocks
      port: 8388
      users:
        - {name: ss1, quota: 2MiB}
        - name: ss2
    - name: edge
      type: vless
      port: 443
      security: reality
      server_name: www.example.com
      reality_handshake: $NET_IP:443
      users:
        - {name: vl1, quota: 2MiB}
        - name: vl2
YAML
cli import "$T/state.yaml" > /dev/null || fail "import"
head -c $((4 * 1048576)) /dev/urandom > "$T/www/blob4"
API_NS=$SRV
api_start "$D" 18062
U=$API_URL/api/v1
for _ in $(seq 100); do alive "$(sb_pid)" && break; sleep 0.1; done
alive "$(sb_pid)" || fail "sing-box not started by atlas serve"
usage_of() { cli usage --json | jq -r --arg u "$1" ".[] | select(.user == \$u) | .$2"; }
client_up ss1 ssin 1080
client_up ss2 ssin 1081
client_up vl1 edge 1082
for p in 1080 1081 1082; do
  [ "$(fetch $p)" = "hello from the internet 62" ] || fail "no page through port $p"
done
ok "three real sing-box clients fetch through Shadowsocks and VLESS+REALITY"

pid=$(sb_pid); before=$(starts)
fetch 1080 blob4 > "$T/ss1.blob" || fail "ss1's 4 MiB fetch"
# counted at the next tick (before anything else: sing-box lists only so many closed connections)
suspended() { [ "$(usage_of "$1" state)" = suspended ]; }
wait_for 20 suspended ss1 >/dev/null || fail "ss1 not suspended: $(cli usage 2>&1)"
gone() { ! fetch 1080 > /dev/null 2>&1; }
ms=$(wait_for 20 gone) || fail "ss1 still fetches after going over quota: $(cli singbox status 2>&1 | head -5; cli usage 2>&1; cat "$D/singbox/traffic.json" 2>&1 | head -c 600)"
[ "$(fetch 1081)" = "hello from the internet 62" ] || fail "ss2 lost its access"
[ "$(sb_pid)" = "$pid" ] && [ "$(starts)" = "$before" ] || fail "the Shadowsocks cut reloaded or restarted sing-box"
[ "$(usage_of ss1 state)" = suspended ] || fail "atlas usage: ss1 is $(usage_of ss1 state)"
# what ss1's subscription tells its client: the period's count Atlas cut by, of the 2 MiB quota
sub=$(api -sS "$U/singbox/users/ss1/subscription" | jq -r .url) || fail "ss1's subscription URL"
info=$(api_run curl -sS -D - -o /dev/null "$API_URL/sub/${sub##*/}" | tr -d '\r' |
  sed -n 's/^Subscription-Userinfo: //Ip') || fail "GET /sub of $sub"
used=$(usage_of ss1 period_bytes)
up=$(sed -n 's/.*upload=\([0-9]*\).*/\1/p' <<<"$info"); down=$(sed -n 's/.*download=\([0-9]*\).*/\1/p' <<<"$info")
grep_q "total=$((2 * 1048576));" <<<"$info" && [ -n "$up" ] && [ $((up + down)) -ge $((2 * 1048576)) ] &&
  [ $((up + down)) -le "$used" ] || fail "Subscription-Userinfo '$info', usage period_bytes $used"
# the run is recorded once its apply is done: wait for it
quota_run() {
  api -fsS "$U/history" | jq -e --arg re "$1" '[.runs[] | select(.trigger == "quota") |
    .actions[].text | select(test($re))] | length >= 1' >/dev/null
}
wait_for 20 quota_run '^- singbox/ssin user ss1 \(quota 2 MiB used \(.*live, no reload\)' >/dev/null ||
  fail "no recorded quota run removing ss1 live: $(api -sS "$U/history" | jq -c '[.runs[] | select(.trigger == "quota")]')"
ok "ss1 over quota: removed live through the SSM API ${ms} ms after its fetch (no reload), ss2 unaffected"

before=$(starts)
fetch 1082 blob4 > "$T/vl1.blob" || fail "vl1's 4 MiB fetch"
wait_for 20 suspended vl1 >/dev/null || fail "vl1 not suspended: $(cli usage 2>&1)"
gone_vl() { ! fetch 1082 > /dev/null 2>&1; }
ms=$(wait_for 20 gone_vl) || fail "vl1 still fetches after going over quota"
wait_for 20 quota_run '^~ singbox reload: .*cuts edge/vl1 \(quota 2 MiB used \(' >/dev/null ||
  fail "no recorded reload naming vl1: $(api -sS "$U/history" | jq -c '[.runs[] | select(.trigger == "quota")]')"
[ "$(starts)" = $((before + 1)) ] || fail "expected one reload for vl1, got $(( $(starts) - before ))"
[ "$(fetch 1081)" = "hello from the internet 62" ] || fail "ss2 lost its access after the reload"
[ "$(usage_of vl1 state)" = suspended ] || fail "atlas usage: vl1 is $(usage_of vl1 state)"
cli export | grep_q suspended && fail "suspension written into the desired state"
ok "vl1 over quota: cut by one reload whose plan line names it and why (${ms} ms)"

# Counters survive a reload and a restart of sing-box.
total() { cli usage --json | jq -r --arg u "$1" '.[] | select(.user == $u) | .total_bytes'; }
# at_least USER N: the persisted total of USER reached N bytes
at_least() { [ "$(total "$1")" -ge "$2" ]; }
fetch 1081 blob4 > /dev/null || fail "ss2's 4 MiB fetch"
wait_for 20 at_least ss2 $((4 * 1048576)) >/dev/null || fail "ss2's fetch not counted: $(total ss2)"
# counted_after WHAT T0: after WHAT ss2 fetches again, its total is not below T0
# (its total before), and 4 MiB more adds on
counted_after() {
  local what=$1 t0=$2 t1
  wait_for 20 fetch 1081 >/dev/null || fail "ss2 does not fetch after the $what"
  t1=$(total ss2)
  [ "$t1" -ge "$t0" ] || fail "ss2's total went back across the $what: $t0 -> $t1"
  fetch 1081 blob4 > /dev/null || fail "ss2's fetch after the $what"
  wait_for 20 at_least ss2 $((t1 + 4 * 1048576)) >/dev/null ||
    fail "ss2's fetch after the $what not added: $t1 -> $(total ss2)"
  ok "ss2's counter survives a $what of sing-box: $t0 before, $(total ss2) after 4 MiB more"
}
t0=$(total ss2); before=$(starts)
api -fsS -X POST "$U/singbox/inbounds/edge/users" \
  -d '{"name":"vl3"}' > /dev/null || fail "adding vl3 through the API"
reloaded() { [ "$(starts)" -gt "$before" ]; }
wait_for 20 reloaded >/dev/null || fail "adding vl3 did not reload sing-box"
counted_after reload "$t0"

t0=$(total ss2); old=$(sb_pid)
kill -9 "$old"
restarted() { local p; p=$(sb_pid); [ -n "$p" ] && [ "$p" != "$old" ] && alive "$p"; }
wait_for 30 restarted >/dev/null || fail "atlas serve did not start sing-box again"
counted_after restart "$t0"
