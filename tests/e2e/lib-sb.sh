# lib-sb.sh - shared setup of the sing-box end-to-end tests (sourced).
#
# Three namespaces per test, all named atsb-<TAG><role>:
#   atsb-<TAG>s  the server: Atlas and the real sing-box it runs,
#                10.253.<TAG>.1 to the client, 10.254.<TAG>.1 to the internet
#   atsb-<TAG>c  the client: a sing-box client configured from what Atlas
#                produced, its local mixed inbound on 127.0.0.1:1080
#   atsb-<TAG>i  "the internet": an HTTP server on 10.254.<TAG>.2:8080 (sb-www.py:
#                files, and /slow/N that stays open N/20 s) and a
#                TLS 1.3 server (openssl s_server) on 10.254.<TAG>.2:443
# Atlas runs in direct service mode. The sing-box binary is the test build of
# scripts/singbox.sh (built once per machine). Every process started here has
# a path under $T on its command line; cleanup kills those by pid.

: "${ATLAS_BIN:=$PWD/build/atlas}"
export ATLAS_BIN
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ATLAS=$ATLAS_BIN
export ATLAS_SERVICE_MODE=direct
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root"; exit 1; }
for p in ip openssl python3 curl jq; do
  command -v "$p" >/dev/null || { echo "FAIL: $p is not installed"; exit 1; }
done
[ -x "$ATLAS" ] || { echo "FAIL: $ATLAS is not built"; exit 1; }
SB=$(bash scripts/singbox.sh) || { echo "FAIL: no sing-box test binary (scripts/singbox.sh)"; exit 1; }

T=$(mktemp -d /tmp/atsb-XXXXXX)
D=$T/data
NSS=()

# fail (lib.sh) shows the tails of the logs of this test
fail_details() {
  for f in "$T"/*.log "$D"/singbox/sing-box.log; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done
  return 0
}

cleanup() {
  local rc=$?
  kill_ours "$T"
  for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null; done
  if [ $rc -ne 0 ] && [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
  exit $rc
}
trap cleanup EXIT

# net_setup TAG (a number 1..250)
net_setup() {
  local tag=$1
  SRV=atsb-${tag}s CLI=atsb-${tag}c NET=atsb-${tag}i
  SRV_IP=10.253.$tag.1 NET_IP=10.254.$tag.2
  # Leftovers of an earlier run that did not clean up (killed, power cut).
  ns_remove "$SRV" "$CLI" "$NET"
  for ns in "$SRV" "$CLI" "$NET"; do
    ip netns add "$ns"; NSS+=("$ns")
    ip -n "$ns" link set lo up
  done
  ip -n "$SRV" link add atsbc type veth peer name eth0 netns "$CLI"
  ip -n "$SRV" addr add "$SRV_IP/24" dev atsbc
  ip -n "$SRV" link set atsbc up
  ip -n "$CLI" addr add "10.253.$tag.2/24" dev eth0
  ip -n "$CLI" link set eth0 up
  ip -n "$SRV" link add atsbi type veth peer name eth0 netns "$NET"
  ip -n "$SRV" addr add "10.254.$tag.1/24" dev atsbi
  ip -n "$SRV" link set atsbi up
  ip -n "$NET" addr add "$NET_IP/24" dev eth0
  ip -n "$NET" link set eth0 up
  # the internet: a page, slow downloads, and a TLS 1.3 server (the REALITY target)
  mkdir -p "$T/www"
  echo "hello from the internet $tag" > "$T/www/index.html"
  ip netns exec "$NET" python3 tests/e2e/sb-www.py "$NET_IP" 8080 "$T/www/" > "$T/http.log" 2>&1 &
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=www.example.com -addext subjectAltName=DNS:www.example.com \
    -keyout "$T/target.key" -out "$T/target.crt" 2>/dev/null
  ip netns exec "$NET" openssl s_server -quiet -tls1_3 -accept 443 -www \
    -cert "$T/target.crt" -key "$T/target.key" > "$T/s_server.log" 2>&1 < /dev/null &
  for _ in $(seq 50); do
    ip netns exec "$NET" bash -c "exec 3<>/dev/tcp/$NET_IP/8080" 2>/dev/null && break
    sleep 0.1
  done
}

cli() { ip netns exec "$SRV" "$ATLAS" --data "$D" "$@"; }

# plan_rc: runs `atlas plan`, output in $T/plan.out, prints its exit status.
plan_rc() { set +e; cli plan > "$T/plan.out" 2>&1; local rc=$?; set -e; echo $rc; }
apply_ok() { cli apply > "$T/apply.out" 2>&1 || { cat "$T/apply.out"; fail "apply failed"; }; }
# apply, then a plan that must have nothing left
apply_converged() {
  apply_ok
  [ "$(plan_rc)" = 0 ] || { cat "$T/plan.out"; fail "plan is not empty after apply"; }
}
sb_pid() { cat "$D/run/sing-box.pid" 2>/dev/null; }
# alive PID: the process runs (a zombie nobody reaped yet does not count)
alive() {
  [ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
  local st; st=$(sed -E 's/^[0-9]+ \(.*\) ([A-Z]).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
# how many times sing-box has (re)started its instance: once per start and per reload
starts() { grep -c 'sing-box started' "$D/singbox/sing-box.log" 2>/dev/null || true; }

# client_up USER INBOUND PORT: a sing-box client in $CLI from `atlas singbox
# profile USER`, only its inbounds replaced by one local mixed inbound on
# 127.0.0.1:PORT and its route sent to the outbound tagged INBOUND.
client_up() {
  local user=$1 inbound=$2 port=$3 name=$1-$2
  cli singbox profile "$user" > "$T/$user.profile.json" || fail "atlas singbox profile $user"
  jq --arg tag "$inbound" --argjson port "$port" '
    .inbounds = [{"type": "mixed", "tag": "local", "listen": "127.0.0.1", "listen_port": $port}]
    | .route = ((.route // {}) | .final = $tag | del(.rules))
  ' "$T/$user.profile.json" > "$T/$name.client.json"
  jq -e --arg tag "$inbound" '.outbounds[] | select(.tag == $tag)' "$T/$name.client.json" \
    > /dev/null || fail "the profile of $user has no outbound \"$inbound\""
  ip netns exec "$CLI" "$SB" run -c "$T/$name.client.json" > "$T/$name.client.log" 2>&1 &
  echo $! > "$T/$name.client.pid"
  for _ in $(seq 50); do
    ip netns exec "$CLI" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "the client of $user/$inbound does not listen on $port"
}
client_down() { kill "$(cat "$T/$1-$2.client.pid")" 2>/dev/null || true; }

# fetch PORT [PATH]: the page through the client's mixed inbound; prints the body
fetch() {
  ip netns exec "$CLI" curl -sS --max-time 15 --socks5-hostname "127.0.0.1:$1" \
    "http://$NET_IP:8080/${2:-}"
}

# sb_yaml_head: the start of a state file: the server's host, the test build
# of sing-box and an inbound list, for the test's inbounds to follow.
sb_yaml_head() {
  printf 'version: 1\nsettings:\n  host: %s\n  singbox_binary: %s\nsingbox:\n  inbounds:\n' "$SRV_IP" "$SB"
}
# sb_reality_edge: the REALITY inbound "edge" on port 443 (handshake target
# the internet's TLS server), up to its "users:" line, for the users to follow.
sb_reality_edge() {
  printf '    - name: edge\n      type: vless\n      port: 443\n      security: reality\n'
  printf '      server_name: www.example.com\n      reality_handshake: %s:443\n      users:\n' "$NET_IP"
}
