# Shared helpers for the API end-to-end tests (sourced; sources lib.sh).
#
# api_start DATADIR PORT [serve args...] starts `atlas serve` in the
# background (in namespace $API_NS when set), waits for /health, and sets
# API_PID, API_URL, API_PW (the first-start password) and API_TOKEN.
# api_stop ends it. api CURL-ARGS... calls the API with the token;
# api_code prints only the HTTP status of a call.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# loop_runs TRIGGER prints how many loop runs with TRIGGER have finished
# (recorded or not: the server logs each at debug level, ATLAS_LOG=debug);
# wait_runs TRIGGER N SECONDS waits until more than N have: the event that
# proves the loop ran before a test asserts that nothing happened.
need curl jq openssl
API_PID=
export ATLAS_LOG=debug
# On failure, lib.sh's fail also shows the tail of the server's log.
fail_details() { [ -n "${API_LOG:-}" ] && [ -f "$API_LOG" ] && { echo "--- $API_LOG"; tail -25 "$API_LOG"; }; return 0; }
api_run() { if [ -n "${API_NS:-}" ]; then ip netns exec "$API_NS" "$@"; else "$@"; fi; }
api_start() {
  local data=$1 port=$2; shift 2
  API_URL=http://127.0.0.1:$port
  # Not through a shell function: $! must be atlas itself (ip netns exec execs).
  if [ -n "${API_NS:-}" ]; then
    ip netns exec "$API_NS" "$ATLAS_BIN" --data "$data" serve --listen 127.0.0.1:$port "$@" \
      > "$data.out" 2>> "$data.log" &
  else
    "$ATLAS_BIN" --data "$data" serve --listen 127.0.0.1:$port "$@" > "$data.out" 2>> "$data.log" &
  fi
  API_PID=$!
  API_LOG=$data.log
  local i
  for i in $(seq 1 100); do
    kill -0 $API_PID 2>/dev/null || { cat "$data.log" >&2; fail "atlas serve exited"; }
    api_run curl -fsS "$API_URL/api/v1/health" >/dev/null 2>&1 && break
    kill -0 $API_PID 2>/dev/null || { cat "$data.log" >&2; fail "atlas serve exited"; }
    sleep 0.05
  done
  # the first start writes the password to a 0600 file (stdout is no terminal here)
  if grep -q 'first start: created user "admin"' "$data.out" 2>/dev/null; then
    API_PW=$(cat "$data/initial-admin-password")
  else
    API_PW=
  fi
  [ -n "$API_PW" ] || API_PW=${API_PW_KNOWN:-}
  [ -n "$API_PW" ] || fail "no first-start password printed"
  API_TOKEN=$(api_login "$API_PW") || fail "login with the first-start password failed"
}
api_login() {
  api_run curl -fsS -X POST "$API_URL/api/v1/auth/login" \
    -d "{\"username\":\"admin\",\"password\":\"$1\"}" | jq -er .token
}
api_stop() {
  [ -n "$API_PID" ] || return 0
  kill "$API_PID" 2>/dev/null || true
  wait "$API_PID" 2>/dev/null || true
  API_PID=
}
api() { api_run curl -sS -H "Authorization: Bearer $API_TOKEN" "$@"; }
api_code() { api_run curl -sS -o /dev/null -w '%{http_code}' "$@"; }
# api_answer CURL-ARGS...: prints the HTTP status of an authorised call and
# leaves its body in $T/body. api_expect WANT BODY-REGEX CURL-ARGS...: fails
# unless the call answers WANT with a body matching BODY-REGEX (grep -E).
api_answer() { api -o "$T/body" -w '%{http_code}' "$@"; }
api_expect() {
  local want=$1 re=$2; shift 2
  local got; got=$(api_answer "$@")
  [ "$got" = "$want" ] || fail "$* -> $got, want $want: $(cat "$T/body")"
  grep -Eq -- "$re" "$T/body" || fail "$* -> body $(cat "$T/body") lacks /$re/"
}
# Every "METHOD PATH" of docs/openapi.yaml (test_openapi checks it equals the router table).
api_routes() {
  awk '/^paths:/ { p = 1; next }
       p && /^  \/[^ ]*:$/ { path = $1; sub(/:$/, "", path); next }
       p && /^    (get|post|put|patch|delete):$/ { m = $1; sub(/:$/, "", m); print toupper(m), path }
       p && /^[^ ]/ { p = 0 }' "$(dirname "$0")/../../docs/openapi.yaml"
}
# An HS256 token signed with the key in DATADIR/jwt.key: jwt_forge DATADIR JSON-CLAIMS
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
jwt_forge() {
  local key h p s
  key=$(od -An -v -tx1 "$1/jwt.key" | tr -d ' \n')
  h=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
  p=$(printf '%s' "$2" | b64url)
  s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary | b64url)
  printf '%s.%s.%s' "$h" "$p" "$s"
}
# api_topology N: namespaces ata-sN (server, runs atlas serve) and ata-cN
# (client), joined by veth atavcN (172.29.N.2) -- atavsN (172.29.N.1).
# Interfaces and namespaces carry the "ata" prefix of the API tests.
API_N=
api_topology() {
  local n=$1
  API_N=$n
  api_cleanup_topology
  API_N=$n
  ip netns add ata-s$n; ip netns add ata-c$n
  ip -n ata-s$n link set lo up; ip -n ata-c$n link set lo up
  ip link add atavc$n netns ata-c$n type veth peer name atavs$n netns ata-s$n
  ip -n ata-c$n addr add 172.29.$n.2/24 dev atavc$n; ip -n ata-c$n link set atavc$n up
  ip -n ata-s$n addr add 172.29.$n.1/24 dev atavs$n; ip -n ata-s$n link set atavs$n up
  API_NS=ata-s$n
}
api_cleanup_topology() {
  local n=$API_N ns pid
  [ -n "$n" ] || return 0
  for ns in ata-s$n ata-c$n; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  done
  sleep 0.2
  for ns in ata-s$n ata-c$n; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -f /var/run/wireguard/atasrv$n.sock /var/run/wireguard/atacli$n.sock
}
# api_test N NAME [PORT]: the start of an API test in a topology of its own
# (api_topology N), the engines' services run directly, in a temp dir T
# (/tmp/atlas-e2e-NAME.XXXXXX); the EXIT trap api_test_end ends an SSE
# listener in SSE_PID, the server and the namespaces and removes T. With
# PORT it also starts the server there (data in $T/data) and sets U to the
# API's base URL.
api_test() {
  T=$(mktemp -d "/tmp/atlas-e2e-$2.XXXXXX")
  trap api_test_end EXIT
  export ATLAS_SERVICE_MODE=direct
  api_topology "$1"
  if [ -n "${3:-}" ]; then
    api_start "$T/data" "$3"
    U=$API_URL/api/v1
  fi
}
api_test_end() {
  [ -z "${SSE_PID:-}" ] || kill "$SSE_PID" 2>/dev/null || true
  api_stop
  api_cleanup_topology
  rm -rf "$T"
}
# api_ns_test NS NAME: the start of an API test whose server runs in one
# namespace NS of its own with only loopback (API_NS), in a temp dir T; the
# EXIT trap api_ns_test_end ends the server and all in NS, deletes NS and
# removes T.
api_ns_test() {
  T=$(mktemp -d "/tmp/atlas-e2e-$2.XXXXXX")
  trap api_ns_test_end EXIT
  ns_remove "$1"
  ip netns add "$1"
  ip -n "$1" link set lo up
  API_NS=$1
}
api_ns_test_end() {
  api_stop
  ns_remove "$API_NS"
  rm -rf "$T"
}
# api_settings: the start of a state file for the topology: the server's
# address as host, its veth as the NAT egress (more settings lines may follow).
# api_wg_state PEER...: a whole state file with that start and one WireGuard
# interface atasrvN (port 519N, 10.N.0.1/24) with the named peers.
api_settings() {
  printf 'version: 1\nsettings:\n  host: 172.29.%s.1\n  egress_interface: atavs%s\n' $API_N $API_N
}
api_wg_state() {
  local p
  api_settings
  printf 'wireguard:\n  interfaces:\n    - name: atasrv%s\n      listen_port: 519%s\n      address: [10.%s.0.1/24]\n' \
    $API_N $API_N $API_N
  [ $# = 0 ] || printf '      peers:\n'
  for p in "$@"; do printf '        - name: %s\n' "$p"; done
}
SNS() { ip netns exec ata-s$API_N "$@"; }
CNS() { ip netns exec ata-c$API_N "$@"; }
# api_wg_client CONFFILE: a real WireGuard client (wireguard-go atacliN) in the
# client namespace from the exact text of the downloaded config.
api_wg_client() {
  local conf=$1 dev=atacli$API_N a
  grep -Ev '^(Address|DNS|MTU) *=' "$conf" > "$conf.wg"
  CNS wireguard-go $dev >/dev/null 2>&1 || fail "wireguard-go $dev"
  CNS wg setconf $dev "$conf.wg"
  for a in $(sed -n 's/^Address = //p' "$conf" | tr -d ' ' | tr ',' ' '); do CNS ip addr add "$a" dev $dev; done
  CNS ip link set $dev up
  for a in $(sed -n 's/^AllowedIPs = //p' "$conf" | tr -d ' ' | tr ',' ' '); do CNS ip route replace "$a" dev $dev; done
}
# api_check URL JQ-FILTER: 0 when the GET succeeds and the filter is true
# (jq -e alone says yes to an empty input, so the fetch is checked first).
api_check() {
  local b
  b=$(api -fsS "$1" 2>/dev/null) || return 1
  [ -n "$b" ] && jq -e "$2" <<<"$b" >/dev/null 2>&1
}
loop_runs() { local n; n=$(grep -c "loop: $1 run finished" "$API_LOG") || true; echo "${n:-0}"; }
wait_runs() { wait_for "$3" sh -c "[ \$(grep -c 'loop: $1 run finished' '$API_LOG') -gt $2 ]"; }
