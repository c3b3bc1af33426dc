#!/usr/bin/env bash
# t71-crash: SIGKILL at random moments. A state of 2,000 WireGuard peers,
# 200 OpenVPN clients and a Shadowsocks inbound with 200 users (real
# wireguard-go, openvpn and sing-box in a namespace); `atlas apply` is
# killed CRASH_APPLY times at a random moment of its run (each preceded by
# work to do: engines gone, or a peer and a client added), `atlas serve` is
# killed CRASH_SERVE times during a burst of API edits. After each kill: the
# database passes PRAGMA integrity_check; every engine config file is whole
# (after an apply kill: byte for byte the one before or the one after; after
# a serve kill: every peer block complete, config.json valid JSON); a normal
# apply then converges (plan exits 0), leaves no temporary file or staging
# folder, and the export is the expected one (after an apply kill: the one
# before it; after a serve kill: every edit the API acknowledged is in, none
# is twice); no peer is duplicated, on the interface, in the export, or as
# two valid certificates of one client. The seed of the random moments is
# printed (CRASH_SEED=N repeats a run).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh
. tests/e2e/lib-api.sh
export ATLAS_SERVICE_MODE=direct
[ "$(id -u)" = 0 ] || fail "needs root"
need sqlite3 wg wireguard-go openvpn nft jq
SB=$(bash scripts/singbox.sh) || fail "no sing-box test binary (scripts/singbox.sh)"
NS=atcr-71s WG=atcr71 PORT=18171
NAPPLY=${CRASH_APPLY:-30} NSERVE=${CRASH_SERVE:-20}
SEED=${CRASH_SEED:-$(( $(date +%s) % 32768 ))}
RANDOM=$SEED
T=$(mktemp -d /tmp/atcr-XXXXXX)
D=$T/data
export API_NS=$NS
cleanup() {
  api_stop
  ns_remove $NS
  rm -f /var/run/wireguard/$WG.sock
  rm -rf "$T"
}
trap cleanup EXIT
fail_details() {
  echo "seed $SEED (CRASH_SEED=$SEED repeats this run)"
  for f in "$T"/*.out "$T/data.log"; do [ -f "$f" ] && { echo "--- $f"; tail -15 "$f"; }; done
  return 0
}
fresh_ns() {
  ns_remove $NS
  rm -f /var/run/wireguard/$WG.sock
  ip netns add $NS
  ip -n $NS link set lo up
}
A() { ip netns exec $NS "$ATLAS_BIN" --data "$D" "$@"; }
{ printf 'version: 1\nsettings:\n  host: 10.71.0.1\n  singbox_binary: %s\n' "$SB"
  printf 'wireguard:\n  interfaces:\n    - name: %s\n      listen_port: 51871\n      address: [10.71.0.1/20]\n      peers:\n' $WG
  for i in $(seq 1 2000); do printf '        - name: p%d\n' "$i"; done
  printf 'openvpn:\n  port: 1171\n  network: 10.9.0.0/23\n  clients:\n'
  for i in $(seq 1 200); do printf '    - name: c%d\n' "$i"; done
  printf 'singbox:\n  inbounds:\n    - name: ss\n      type: shadowsocks\n      port: 8371\n'
  printf '      method: 2022-blake3-aes-128-gcm\n      users:\n'
  for i in $(seq 1 200); do printf '        - name: u%d\n' "$i"; done
} > "$T/state.yaml"
fresh_ns
"$ATLAS_BIN" --data "$D" import "$T/state.yaml" > /dev/null
echo "seed $SEED"

CONFS="wireguard/$WG.conf openvpn/server.conf singbox/config.json"
# hashes of the engine config files (a missing one is "-")
conf_hashes() {
  local f
  for f in $CONFS; do
    if [ -f "$D/$f" ]; then sha256sum < "$D/$f" | cut -c1-16; else echo -; fi
  done | tr '\n' ' '
}
# whole: every engine config file that exists is complete
whole() {
  local f=$D/wireguard/$WG.conf
  if [ -f "$f" ]; then
    [ "$(tail -c1 "$f" | od -An -c | tr -d ' ')" = '\n' ] || fail "$1: $f does not end with a newline (cut short)"
    [ "$(grep -c '^\[Peer\]' "$f")" = "$(grep -c '^PublicKey = ' "$f")" ] ||
      fail "$1: $f has a peer block without its key (half-written)"
    [ "$(grep -c '^\[Peer\]' "$f")" = "$(grep -c '^AllowedIPs = ' "$f")" ] ||
      fail "$1: $f has a peer block without AllowedIPs (half-written)"
  fi
  f=$D/openvpn/server.conf
  [ ! -f "$f" ] || grep_q '^management ' "$f" || fail "$1: $f lacks its management line (half-written)"
  f=$D/singbox/config.json
  [ ! -f "$f" ] || jq -e . "$f" > /dev/null || fail "$1: $f is not valid JSON (half-written)"
}
integrity() {
  local r
  r=$(sqlite3 "$D/atlas.db" 'PRAGMA integrity_check') || fail "$1: sqlite3 cannot open the database"
  [ "$r" = ok ] || fail "$1: integrity_check: $r"
}
# heal WHAT: the normal run after a kill, and the checks after it
heal() {
  local rc=0 left names
  A apply > "$T/heal.out" 2>&1 || { tail -20 "$T/heal.out"; fail "$1: the apply after the kill failed"; }
  A plan > "$T/plan.out" 2>&1 || rc=$?
  [ $rc = 0 ] || { cat "$T/plan.out"; fail "$1: plan exits $rc after the healing apply"; }
  left=$(find "$D" \( -name '*.tmp.*' -o -name '*.new' \) | head -3)
  [ -z "$left" ] || fail "$1: left after the healing apply: $left"
  "$ATLAS_BIN" --data "$D" export > "$T/export.yaml"
  awk '/^wireguard:/{w=1} /^openvpn:/{w=0} w && /^ *- name: /{print $3}' "$T/export.yaml" | sort > "$T/wg-names"
  names=$(uniq -d "$T/wg-names" | head -3)
  [ -z "$names" ] || fail "$1: peers twice in the export: $names"
  [ -z "$(ip netns exec $NS wg show $WG peers | sort | uniq -d)" ] || fail "$1: a peer is twice on the interface"
  [ "$(ip netns exec $NS wg show $WG peers | wc -l)" = "$(grep -c '^\[Peer\]' "$D/wireguard/$WG.conf")" ] ||
    fail "$1: the interface and its config file hold different numbers of peers"
  names=$(awk -F'\t' '$1 == "V" { print $NF }' "$D/pki/index.txt" | sort | uniq -d | head -3)
  [ -z "$names" ] || fail "$1: two valid certificates for: $names"
  whole "$1 (healed)"
}
# a first apply, measured: the kills fall within its duration
t0=$(date +%s%N)
A apply > "$T/first.out" 2>&1 || { tail -20 "$T/first.out"; fail "first apply"; }
full_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
heal "first apply"
echo "a full apply (2000 peers, 200 clients, 200 users) took $full_ms ms"

# --- atlas apply killed ---
midrun=0
for k in $(seq 1 "$NAPPLY"); do
  case $((k % 3)) in
    0) fresh_ns ;;                                             # every engine to start again
    1) A wg peer add "k$k" -i $WG > /dev/null                  # a peer and a client to add
       A ovpn client add "kc$k" > /dev/null ;;
    2) for f in $CONFS; do rm -f "$D/$f"; done                 # files to write again
       A wg peer rm "k$((k - 1))" -i $WG > /dev/null ;;         # and a peer to remove
  esac
  "$ATLAS_BIN" --data "$D" export > "$T/expected.yaml"
  before=$(conf_hashes)
  # the restart of every engine takes about a full apply, the smaller edits less
  span=$(( k % 3 ? full_ms / 3 : full_ms ))
  delay=$(( RANDOM % (span + 20) ))
  ip netns exec $NS "$ATLAS_BIN" --data "$D" apply > "$T/killed.out" 2>&1 &
  pid=$!
  sleep "$(printf '0.%03d' "$delay")" 2>/dev/null || sleep $((delay / 1000))
  kill -9 $pid 2>/dev/null || true
  rc=0; wait $pid 2>/dev/null || rc=$?
  [ $rc = 137 ] && midrun=$((midrun + 1))
  echo "apply kill $k at $delay ms ($(date +%T.%N | cut -c1-12))"
  integrity "apply kill $k at ${delay} ms"
  whole "apply kill $k at ${delay} ms"
  mid=$(conf_hashes)
  heal "apply kill $k at ${delay} ms"
  after=$(conf_hashes)
  read -r -a b <<<"$before"; read -r -a m <<<"$mid"; read -r -a a <<<"$after"
  i=0
  for f in $CONFS; do
    [ "${m[$i]}" = "${b[$i]}" ] || [ "${m[$i]}" = "${a[$i]}" ] ||
      fail "apply kill $k at ${delay} ms: $f is neither the file before nor the one after"
    i=$((i + 1))
  done
  cmp -s "$T/expected.yaml" "$T/export.yaml" ||
    { diff "$T/expected.yaml" "$T/export.yaml" | head; fail "apply kill $k: the export changed"; }
done
[ $midrun -gt 0 ] || fail "no kill fell before its apply finished"
ok "atlas apply killed $NAPPLY times ($midrun before it finished): database ok, config files whole, the next apply converges, export unchanged, no peer twice"

# --- atlas serve killed during an API edit burst ---
api_start "$D" $PORT
API_PW_KNOWN=$API_PW
api_stop
for k in $(seq 1 "$NSERVE"); do
  api_start "$D" $PORT
  U=$API_URL/api/v1
  delay=$(( 200 + RANDOM % 1500 ))
  : > "$T/acked"
  (
    for j in $(seq 1 40); do
      code=$(api -o /dev/null -w '%{http_code}' -X POST "$U/wireguard/interfaces/$WG/peers" \
        -d "{\"name\":\"s$k-$j\"}" 2>/dev/null) || break
      [ "$code" = 201 ] && echo "s$k-$j" >> "$T/acked"
    done
  ) &
  burst=$!
  sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
  kill -9 "$API_PID" 2>/dev/null || true
  wait "$API_PID" 2>/dev/null || true
  API_PID=
  wait $burst 2>/dev/null || true
  echo "serve kill $k at $delay ms, $(wc -l < "$T/acked") edits acknowledged ($(date +%T.%N | cut -c1-12))"
  integrity "serve kill $k at ${delay} ms"
  whole "serve kill $k at ${delay} ms"
  heal "serve kill $k at ${delay} ms"
  while read -r name; do
    grep_q -x -- "$name" "$T/wg-names" ||
      fail "serve kill $k: the acknowledged peer $name is not in the export"
  done < "$T/acked"
done
ok "atlas serve killed $NSERVE times during API edit bursts: database ok, config files whole, the next apply converges, every acknowledged edit kept, no peer twice"
echo "PASS t71-crash"
