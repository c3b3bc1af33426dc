#!/usr/bin/env bash
# WireGuard, issue 3: when wg, wireguard-go or nft is missing, `plan` and
# `apply` say exactly which and how to install them (exit 1, nothing done).
# The programs are hidden in a private mount namespace only (unshare -m).
. "$(dirname "$0")/lib.sh"
need unshare mount wg wireguard-go nft ip
T=$(mktemp -d /tmp/atlas-e2e-wg4.XXXXXX)
NS=atw-m4
trap 'ns_remove $NS; rm -rf "$T"' EXIT
ns_remove $NS
ip netns add $NS   # should anything be applied, it lands here, not on the host
cat > "$T/state.yaml" <<'Y'
version: 1
settings:
  host: 192.0.2.1
wireguard:
  interfaces:
    - name: atwsrv4
      listen_port: 51824
      address: [10.66.4.1/24]
      peers:
        - name: alice
Y
"$ATLAS_BIN" --data "$T/data" import "$T/state.yaml" > /dev/null
# hidden CMD PROGRAM...: runs atlas CMD with PROGRAMs replaced by /dev/null (not regular files).
hidden() {
  local cmd=$1; shift
  local paths=() p
  for p in "$@"; do paths+=("$(readlink -f "$(command -v "$p")")"); done
  ip netns exec $NS unshare -m bash -c \
    'a=$1 d=$2 c=$3; shift 3; for p in "$@"; do mount --bind /dev/null "$p"; done; exec "$a" --data "$d" "$c"' \
    _ "$ATLAS_BIN" "$T/data" "$cmd" "${paths[@]}"
}
hint="install them with: apt-get install wireguard-tools wireguard-go nftables"
set +e
hidden plan wg nft > "$T/out" 2>&1; rc=$?
set -e
[ $rc = 1 ] || { cat "$T/out"; fail "plan exit $rc, want 1"; }
grep -qF "missing programs: wg (wireguard-tools), nft (nftables); $hint" "$T/out" || { cat "$T/out"; fail "plan message"; }
ok "plan: $(grep -F missing "$T/out")"
set +e
hidden apply wg wireguard-go > "$T/out" 2>&1; rc=$?
set -e
[ $rc = 1 ] || { cat "$T/out"; fail "apply exit $rc, want 1"; }
want="wg (wireguard-tools)"
# wireguard-go is needed only without the kernel module.
[ -e /sys/module/wireguard ] || want="$want, wireguard-go (no wireguard kernel module)"
grep -qF "missing programs: $want; $hint" "$T/out" || { cat "$T/out"; fail "apply message"; }
ok "apply: $(grep -F missing "$T/out")"
absent " atwsrv4:" ip -n $NS -o link show || fail "something was applied"
ok "nothing applied"

# A device of the interface's name that is not WireGuard (a typo for eth0,
# a name in use): the plan says so, apply stops, the device keeps its address.
ip -n $NS link add atwsrv4 type veth peer name atwm4peer
ip -n $NS addr add 172.31.4.1/24 dev atwsrv4
foreign="a network device of that name exists and is not WireGuard: Atlas leaves it alone"
set +e
ip netns exec $NS "$ATLAS_BIN" --data "$T/data" plan > "$T/out" 2>&1
ip netns exec $NS "$ATLAS_BIN" --data "$T/data" apply > "$T/apply.out" 2>&1; rc=$?
set -e
grep -qF "$foreign" "$T/out" || { cat "$T/out"; fail "the plan does not say atwsrv4 is another kind of device"; }
[ $rc = 1 ] && grep -qF "$foreign" "$T/apply.out" || { cat "$T/apply.out"; fail "apply over a foreign atwsrv4: exit $rc"; }
ip -n $NS -d link show atwsrv4 | grep_q veth || fail "atwsrv4 is no longer the veth: $(ip -n $NS -d link show atwsrv4)"
ip -n $NS addr show dev atwsrv4 | grep_q 172.31.4.1/24 || fail "atwsrv4 lost its address"
ok "a veth named like the interface: plan and apply say so and leave it as it was"
