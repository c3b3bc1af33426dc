#!/usr/bin/env bash
# t42-singbox-types: every other inbound type with the real sing-box:
# VMess, VMess+TLS, Trojan, Hysteria2, TUIC, VLESS+TLS over ws, VLESS+TLS over
# httpupgrade and Shadowsocks 2022 with aes-256. For each, a client configured
# from alice's profile (`atlas singbox profile alice`, its inbounds replaced
# by a local mixed inbound, its route sent to that inbound's outbound) fetches
# a page of the "internet" through the server. TLS uses Atlas's self-signed
# certificate: the profile carries it, no client skips verification.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/lib-sb.sh

net_setup 42
{ sb_yaml_head; cat <<YAML
    - name: vm
      type: vmess
      port: 10001
      security: none
      users: [{name: alice}]
    - name: vmtls
      type: vmess
      port: 10002
      security: tls
      users: [{name: alice}]
    - name: tj
      type: trojan
      port: 10003
      users: [{name: alice}]
    - name: hy
      type: hysteria2
      port: 10004
      users: [{name: alice}]
    - name: tu
      type: tuic
      port: 10005
      users: [{name: alice}]
    - name: ws
      type: vless
      port: 10006
      security: tls
      transport: ws
      path: /ws
      users: [{name: alice}]
    - name: hu
      type: vless
      port: 10007
      security: tls
      transport: httpupgrade
      path: /up
      users: [{name: alice}]
    - name: ss256
      type: shadowsocks
      port: 10008
      method: 2022-blake3-aes-256-gcm
      users: [{name: alice}]
YAML
} > "$T/state.yaml"
cli import "$T/state.yaml" > /dev/null
apply_converged
alive "$(sb_pid)" || fail "sing-box is not running"
grep_q '"insecure": *true' <(cli singbox profile alice) && fail "the profile tells a client to skip certificate verification"
grep_q "singbox/hu: sing-box's httpupgrade server loses the first byte" "$T/plan.out" ||
  { cat "$T/plan.out"; fail "the plan does not warn of the httpupgrade inbound's engine defect"; }
ok "the plan warns of sing-box's httpupgrade defect for hu"

# lost_byte: how many connections the server's hu inbound has failed by
# reading the second byte of VLESS's header as its version.
lost_byte() { grep -c 'inbound/vless\[hu\].*unknown version' "$D/singbox/sing-box.log" || true; }
# logged_loss N: within 1 s the server has logged more than N such losses
# (sing-box may close the connection before it writes the line).
logged_loss() {
  local i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    [ "$(lost_byte)" -gt "$1" ] && return 0
    sleep 0.1
  done
  return 1
}

# sing-box's httpupgrade server loses the first byte a client sends when it
# arrives before the server has taken the socket over from Go's HTTP server
# (docs/singbox.md, "Engine defects"): about 1 fetch in 11 over this veth.
# A fetch through hu is tried again only when the server logged that loss
# for it; any other failure, or five losses in a row, fails the test.
port=1080
for ib in vm vmtls tj hy tu ws hu ss256; do
  client_up alice "$ib" "$port"
  tries=0 lost=0
  while :; do
    before=$(lost_byte)
    body=$(fetch "$port" 2>&1) || true
    tries=$((tries + 1))
    [ "$body" = "hello from the internet 42" ] && break
    [ "$ib" = hu ] && [ "$tries" -lt 5 ] && logged_loss "$before" ||
      fail "alice cannot fetch through $ib: $body"
    lost=$((lost + 1))
  done
  ok "alice fetches through $ib ($(jq -r --arg t "$ib" '.outbounds[] | select(.tag == $t) | .type' "$T/alice-$ib.client.json"))$([ "$lost" -gt 0 ] && echo ", after $lost fetch(es) lost to the engine's httpupgrade defect")"
  client_down alice "$ib"
  port=$((port + 1))
done
[ "$(plan_rc)" = 0 ] || { cat "$T/plan.out"; fail "plan is not empty at the end"; }
ok "plan exits 0"
