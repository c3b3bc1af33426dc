# Shared setup for the OpenVPN end-to-end tests (sourced; sources lib.sh).
#
# One server namespace ato-<TAG>s with a bridge 10.250.0.1/24, and client
# namespaces ato-<TAG>c<N> (10.250.0.1N) joined to it by veths atov<TAG><N>.
# Only names with the prefix "ato" are used (OVPN_PFX, set before sourcing,
# picks another: t23 uses "atn"); every openvpn process started here has a
# config path under $T, and cleanup kills those processes by pid.
# Atlas runs in direct service mode.

ATLAS_BIN=${ATLAS_BIN:-$PWD/build/atlas}
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ATLAS=$ATLAS_BIN
export ATLAS_SERVICE_MODE=direct
[ "$(id -u)" = 0 ] || fail "needs root"
need openvpn ip ping openssl bc awk
[ -x "$ATLAS" ] || fail "$ATLAS is not built"

P=${OVPN_PFX:-ato}
T=$(mktemp -d "/tmp/$P-XXXXXX")
D=$T/data
NSS=()

# On failure, lib.sh's fail also shows the tail of every log of this test.
fail_details() {
  local f
  for f in "$T"/*.log "$D"/openvpn/openvpn.log; do
    [ -f "$f" ] && { echo "--- $f"; tail -15 "$f"; }
  done
  return 0
}

cleanup() {
  local rc=$?
  kill_ours "$T"
  ns_remove "${NSS[@]}"
  if [ $rc -ne 0 ] && [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
  exit $rc
}
trap cleanup EXIT

# net_setup TAG NCLIENTS
net_setup() {
  local tag=$1 n=$2 i
  SRV=$P-${tag}s
  # Leftovers of an earlier run that did not clean up (killed, power cut).
  ns_remove "$SRV" $(for i in $(seq 1 "$n"); do echo "$P-${tag}c$i"; done)
  ip netns add "$SRV"; NSS+=("$SRV")
  ip -n "$SRV" link set lo up
  ip -n "$SRV" link add "${P}br" type bridge
  ip -n "$SRV" addr add 10.250.0.1/24 dev "${P}br"
  ip -n "$SRV" link set "${P}br" up
  for i in $(seq 1 "$n"); do
    local c=$P-${tag}c$i
    ip netns add "$c"; NSS+=("$c")
    ip -n "$c" link set lo up
    ip -n "$SRV" link add "${P}v${tag}$i" type veth peer name eth0 netns "$c"
    ip -n "$SRV" link set "${P}v${tag}$i" master "${P}br" up
    ip -n "$c" addr add "10.250.0.1$i/24" dev eth0
    ip -n "$c" link set eth0 up
  done
}

srv() { ip netns exec "$SRV" "$ATLAS" --data "$D" "$@"; }
cli() { "$ATLAS" --data "$D" "$@"; }

# client_up NAME NS: writes the exact `atlas ovpn config NAME` text and runs it.
client_up() {
  local name=$1 ns=$2
  cli ovpn config "$name" > "$T/$name.ovpn" || fail "atlas ovpn config $name"
  rm -f "$T/$name.log"
  ip netns exec "$ns" openvpn --config "$T/$name.ovpn" --writepid "$T/$name.pid" \
    --log "$T/$name.log" --connect-retry 1 1 --daemon || fail "openvpn client $name"
}

client_down() {
  local name=$1 pid i
  # until it has exited: a client still closing keeps its tun0, and the next one in the
  # namespace gets tun1 (tun_addr then reads no address from tun0)
  if [ -f "$T/$name.pid" ] && pid=$(cat "$T/$name.pid") && kill "$pid" 2>/dev/null; then
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$T/$name.pid"
  sleep 0.2
}

# wait_ping NS ADDR SECONDS: true once ADDR answers from NS.
wait_ping() {
  local i
  for i in $(seq 1 "$3"); do
    ip netns exec "$1" ping -c1 -W1 "$2" >/dev/null 2>&1 && return 0
    sleep 1
  done
  return 1
}

# The tunnel IPv4 of a client namespace.
tun_addr() { ip -n "$1" -4 -o addr show dev tun0 2>/dev/null | awk '{print $4}' | cut -d/ -f1; }

# session_field NAME COLUMN: from `atlas ovpn status` (1 name .. 7 client id).
session_field() {
  cli ovpn status | awk -v n="$1" -v c="$2" '$1 == n { print $c }'
}
# client id is the last column
session_cid() { cli ovpn status | awk -v n="$1" '$1 == n { print $NF }'; }

server_pid() { cat "$D/run/openvpn.pid"; }

# plan_rc: the exit status of `atlas plan` (0 none, 2 changes, 1 error).
plan_rc() { local rc=0; srv plan > "$T/plan.out" 2>&1 || rc=$?; echo $rc; }

# Applies and checks that a second apply changes nothing and plan is empty.
apply_converged() {
  srv apply > "$T/apply.out" 2>&1 || { cat "$T/apply.out"; fail "apply"; }
  cat "$T/apply.out"
  [ "$(plan_rc)" = 0 ] || { cat "$T/plan.out"; fail "plan after apply is not empty"; }
  srv apply > "$T/apply2.out" 2>&1 || fail "second apply"
  if grep -qE '^(ok|FAIL) ' "$T/apply2.out"; then cat "$T/apply2.out"; fail "second apply changed something"; fi
}

# refusals NAME: how many times the server refused NAME's certificate as
# revoked (OpenSSL's verify error, or openvpn's own CRL check). Not a bare
# "CRL" match: the server logs "CRL: loaded ..." at every start.
refusals() {
  local n
  n=$(grep -cE "error=certificate revoked.*CN=$1([, ]|\$)|VERIFY CRL: .*CN=$1[, ].* is revoked" "$D/openvpn/openvpn.log" 2>/dev/null) || true
  echo "${n:-0}"
}

# ovpn_yaml_head: the start of a state file: the host 10.250.0.1 and an
# openvpn section on port 1194 with the network 10.9.0.0/24; the test's own
# openvpn keys follow.
ovpn_yaml_head() {
  printf 'version: 1\nsettings:\n  host: 10.250.0.1\nopenvpn:\n  port: 1194\n  network: 10.9.0.0/24\n'
}
