#!/usr/bin/env bash
# t43-singbox-traffic: per-user bytes of a VLESS user while `atlas serve`
# runs. sing-box forgets closed connections at every garbage collection, so
# reading snapshots alone misses connections that open and close between two
# reads; serve follows sing-box's connection stream and counts each closed
# connection's final bytes. Many short fetches and a large transfer (that
# makes sing-box collect garbage) later, every byte alice fetched is counted,
# and still is after a reload. The first apply names the data directory
# relative to the current one, as `atlas --data data apply` does.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/lib-sb.sh

net_setup 43
head -c 1048576 /dev/zero > "$T/www/1m.bin"
head -c 50000000 /dev/zero > "$T/www/50m.bin"
write_state() {
  { sb_yaml_head; cat <<YAML
    - name: edge
      type: vless
      port: 443
      security: none
      users:
        - name: alice
        - name: bob
$1
YAML
  } > "$T/state.yaml"
  cli import "$T/state.yaml" > /dev/null
}
write_state ""
# sing-box changes to its working directory (-D) before it reads its config:
# a relative path on its command line would name nothing there
( cd "$T" && ip netns exec "$SRV" "$ATLAS" --data data apply ) > "$T/apply.out" 2>&1 ||
  { cat "$T/apply.out"; fail "apply with a relative data directory (data) failed"; }
alive "$(sb_pid)" || fail "sing-box is not running after an apply with --data data"
tr '\0' ' ' < "/proc/$(sb_pid)/cmdline" | grep_q -- "-c $D/singbox/config.json -D $D/singbox" ||
  fail "sing-box's command line has no absolute paths: $(tr '\0' ' ' < "/proc/$(sb_pid)/cmdline")"
[ "$(plan_rc)" = 0 ] || { cat "$T/plan.out"; fail "plan is not empty after apply"; }
ok "an apply with a relative data directory starts sing-box with absolute paths"
# the same directory spelled otherwise (a trailing '/', '..', a symbolic
# link) is the same directory: Atlas knows its sing-box, the plan is empty
ln -s "$D" "$T/link"
for d in "$D/" "$T/link" "$T/link/../data//"; do
  set +e; ip netns exec "$SRV" "$ATLAS" --data "$d" plan > "$T/plan.out" 2>&1; rc=$?; set -e
  [ "$rc" = 0 ] || { cat "$T/plan.out"; fail "plan with --data $d is not empty (exit $rc)"; }
done
ok "--data $D/, a link to it and a path through '..' plan nothing"
ip netns exec "$SRV" "$ATLAS" --data "$D" serve --listen 127.0.0.1:18043 > "$T/serve.log" 2>&1 &
serve=$!
for _ in $(seq 100); do ip netns exec "$SRV" curl -fsS http://127.0.0.1:18043/api/v1/health > /dev/null 2>&1 && break; sleep 0.1; done
alive "$serve" || fail "atlas serve is not running"
client_up alice edge 1080
client_up bob edge 1081
N=${SB_T43_N:-20}
for i in $(seq "$N"); do
  ip netns exec "$CLI" curl -fsS --socks5-hostname 127.0.0.1:1080 -o /dev/null "http://$NET_IP:8080/1m.bin" ||
    fail "alice's fetch $i failed"
done
for i in 1 2 3; do
  ip netns exec "$CLI" curl -fsS --socks5-hostname 127.0.0.1:1081 -o /dev/null "http://$NET_IP:8080/50m.bin" ||
    fail "bob's transfer failed"
done
want=$((N * 1048576))
for _ in $(seq 100); do # the next ticks of serve
  cli singbox status > "$T/status.out"
  down=$(awk '$1 == "alice" { print $4 }' "$T/status.out")
  [ -n "$down" ] && [ "$down" -ge "$want" ] && break
  sleep 0.1
done
[ -n "$down" ] && [ "$down" -ge "$want" ] || { cat "$T/status.out"; fail "alice fetched $want bytes, $down are counted"; }
ok "alice's $N short fetches are all counted ($down >= $want bytes)"
write_state "        - name: carol"
apply_converged
cli singbox status > "$T/status.out"
after=$(awk '$1 == "alice" { print $4 }' "$T/status.out")
[ -n "$after" ] && [ "$after" -ge "$down" ] || { cat "$T/status.out"; fail "alice's bytes were lost on the reload ($down, then $after)"; }
ok "and still after a reload ($after bytes)"
kill "$serve"
