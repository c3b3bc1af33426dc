# Shared setup for the WireGuard end-to-end tests (sourced; sources lib.sh).
#
# wg_topology N builds three network namespaces, with names unique to test N
# (atw-sN server, atw-cN client, atw-iN "the internet"):
#
#   atw-cN  atwcN 172.31.N.2 ---- atwscN 172.31.N.1  atw-sN  atwsiN 172.30.N.1 ---- atwiN 172.30.N.2  atw-iN
#                                                    default via 172.30.N.2
#
# The internet namespace has no route back to the tunnel network 10.66.N.0/24:
# a client reaches it only through the server's masquerade rule.
# wg_client N CONF brings up the client interface atwcliN from the exact text of
# `atlas wg config` (wg-quick-only keys Address/DNS/MTU stripped for `wg setconf`,
# Address and AllowedIPs turned into ip addr/route as wg-quick would do).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need ip wg wireguard-go nft ping ss jq
WG_N=
wg_cleanup() {
  local n=$WG_N ns pid
  [ -n "$n" ] || return 0
  for ns in atw-s$n atw-c$n atw-i$n; do
    # wireguard-go outlives its namespace: end the processes this test started there.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -f /var/run/wireguard/atwsrv$n.sock /var/run/wireguard/atwcli$n.sock
}
wg_topology() {
  local n=$1
  WG_N=$n
  wg_cleanup
  WG_N=$n
  for ns in atw-s$n atw-c$n atw-i$n; do ip netns add $ns; ip -n $ns link set lo up; done
  ip link add atwc$n netns atw-c$n type veth peer name atwsc$n netns atw-s$n
  ip link add atwi$n netns atw-i$n type veth peer name atwsi$n netns atw-s$n
  ip -n atw-c$n addr add 172.31.$n.2/24 dev atwc$n; ip -n atw-c$n link set atwc$n up
  ip -n atw-s$n addr add 172.31.$n.1/24 dev atwsc$n; ip -n atw-s$n link set atwsc$n up
  ip -n atw-s$n addr add 172.30.$n.1/24 dev atwsi$n; ip -n atw-s$n link set atwsi$n up
  ip -n atw-i$n addr add 172.30.$n.2/24 dev atwi$n; ip -n atw-i$n link set atwi$n up
  ip -n atw-s$n route add default via 172.30.$n.2
  # A new namespace copies the host's IPv4 forwarding: start from "off" whatever the host has.
  S sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
}
S() { ip netns exec atw-s$WG_N "$@"; }
C() { ip netns exec atw-c$WG_N "$@"; }
I() { ip netns exec atw-i$WG_N "$@"; }
# wg_client N CONFFILE
wg_client() {
  local n=$1 conf=$2 dev=atwcli$1 a
  grep -Ev '^(Address|DNS|MTU) *=' "$conf" > "$conf.wg"
  C wireguard-go $dev >/dev/null 2>&1 || fail "wireguard-go $dev"
  C wg setconf $dev "$conf.wg"
  for a in $(sed -n 's/^Address = //p' "$conf" | tr -d ' ' | tr ',' ' '); do
    C ip addr add "$a" dev $dev
  done
  C ip link set $dev up
  for a in $(sed -n 's/^AllowedIPs = //p' "$conf" | tr -d ' ' | tr ',' ' '); do
    C ip route replace "$a" dev $dev
  done
}
# The latest handshake (epoch) of the peer with public key $2 on server interface $1.
wg_handshake() { S wg show "$1" latest-handshakes | awk -v k="$2" '$1 == k { print $2 }'; }
# The kernel's inode of the UDP socket bound to port $1 in the server namespace.
udp_inode() { S ss -Huanpe "sport = :$1" | grep -o 'ino:[0-9]*' | sed -n 1p; }
# wg_setup N: the test's temp dir $T and the topology of wg_topology N, both
# removed at exit (after the optional function wg_on_exit, for what the test
# itself started); A and SA run atlas on $T/data, on the host and in the
# server namespace.
wg_setup() {
  N=$1
  T=$(mktemp -d "/tmp/atlas-e2e-wg$1.XXXXXX")
  trap 'if declare -F wg_on_exit >/dev/null; then wg_on_exit || true; fi; wg_cleanup; rm -rf "$T"' EXIT
  wg_topology "$1"
}
A() { "$ATLAS_BIN" --data "$T/data" "$@"; }
SA() { S "$ATLAS_BIN" --data "$T/data" "$@"; }
# wg_yaml_head: the start of a state file with the host 172.31.N.1 and an
# interface list, for the test's interfaces to follow.
wg_yaml_head() {
  printf 'version: 1\nsettings:\n  host: 172.31.%s.1\nwireguard:\n  interfaces:\n' "$N"
}
