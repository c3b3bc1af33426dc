#!/usr/bin/env bash
# `atlas serve` figures (issue 5), printed, never asserted:
#  - RSS of `atlas serve` idle with 10 and with 10,000 peers (after the start
#    apply settled; the lowest and highest over one 3 s status tick), and
#    after one GET of the whole peer list;
#  - authenticated GET of a 50-peer list with wrk (1 thread, 10 connections);
#  - time from POST of a peer to its presence on the interface, median and
#    p99 over 100 posts (needs the WireGuard driver).
# usage: bench/api.sh [BUILD_DIR]  (env API_BENCH_POSTS=100, API_BENCH_WRK_SECONDS=5)
set -euo pipefail
B=${1:-build}
cd "$(dirname "$0")/.."
ATLAS=${ATLAS_BIN:-$PWD/$B/atlas}
POSTS=${API_BENCH_POSTS:-100}
WRK_S=${API_BENCH_WRK_SECONDS:-5}
NS=ata-bench
PORT=18090
IF=atabench
[ "$(id -u)" = 0 ] || { echo "bench/api.sh: needs root (network namespace)"; exit 1; }
for p in ip curl jq wrk wg wireguard-go; do
  command -v $p >/dev/null || { echo "bench/api.sh: missing $p (make deps)"; exit 1; }
done
T=$(mktemp -d /tmp/atlas-bench-api.XXXXXX)
PID=
stop() { [ -n "$PID" ] && { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; }; PID=; }
cleanup() {
  stop
  for pid in $(ip netns pids $NS 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  sleep 0.2
  ip netns del $NS 2>/dev/null || true
  rm -f /var/run/wireguard/$IF.sock
  rm -rf "$T"
}
trap cleanup EXIT
X() { ip netns exec $NS "$@"; }
ip netns del $NS 2>/dev/null || true
ip netns add $NS; X ip link set lo up
export ATLAS_SERVICE_MODE=direct
URL=http://127.0.0.1:$PORT/api/v1

state() { # N: a state with N peers (explicit addresses: allocation is not measured here)
  printf 'version: 1\nsettings:\n  host: 10.200.0.1\n  egress_interface: lo\nwireguard:\n  interfaces:\n'
  printf '    - name: %s\n      listen_port: 51990\n      address: [10.200.0.1/16]\n      peers:\n' $IF
  local i
  for i in $(seq 1 "$1"); do
    printf '        - name: p%d\n          address: [10.200.%d.%d/32]\n' "$i" $((i / 250)) $((i % 250 + 2))
  done
}
start() { # DATADIR
  # Not through X (a function): $! must be atlas itself.
  ip netns exec $NS "$ATLAS" --data "$1" serve --listen 127.0.0.1:$PORT > "$1.out" 2> "$1.log" &
  PID=$!
  for _ in $(seq 1 200); do X curl -fsS "$URL/health" >/dev/null 2>&1 && break; sleep 0.05; done
  local pw; pw=$(sed -n 's/.*with password \([^ ]*\)$/\1/p' "$1.out")
  TOKEN=$(X curl -fsS -X POST "$URL/auth/login" -d "{\"username\":\"admin\",\"password\":\"$pw\"}" | jq -r .token)
}
api() { X curl -fsS -H "Authorization: Bearer $TOKEN" "$@"; }
settle() { # waits until the current generation is applied (or 300 s)
  for _ in $(seq 1 3000); do
    api "$URL/status" | jq -e '.pending == false and .last_run != null' >/dev/null && return 0
    sleep 0.1
  done
  echo "  (not settled: $(api "$URL/status" | jq -c '{generation,applied_generation,last_run:.last_run.error}'))"
}
rss_kb() { awk '/^VmRSS/ { print $2 }' /proc/$PID/status; }
anon_kb() { awk '/^RssAnon/ { print $2 }' /proc/$PID/status; }
# Samples VmRSS and RssAnon every 0.1 s over one ticker period (3 s, plus a
# margin): the ticker's status round is short-lived but big with 10,000
# peers, so one sample may land in it. Sets idle/idle_anon (the lowest:
# between ticks) and peak/peak_anon (the highest: during a tick).
sample_tick() {
  local k r a
  idle=; idle_anon=; peak=0; peak_anon=0
  for k in $(seq 1 35); do
    r=$(rss_kb); a=$(anon_kb)
    [ -z "$idle" ] || [ "$r" -lt "$idle" ] && idle=$r
    [ -z "$idle_anon" ] || [ "$a" -lt "$idle_anon" ] && idle_anon=$a
    [ "$r" -gt "$peak" ] && peak=$r
    [ "$a" -gt "$peak_anon" ] && peak_anon=$a
    sleep 0.1
  done
}

echo "RSS of atlas serve (VmRSS; private = RssAnon, without the shared library pages)"
for n in 10 10000; do
  state $n > "$T/s$n.yaml"
  "$ATLAS" --data "$T/d$n" import "$T/s$n.yaml" >/dev/null
  start "$T/d$n"
  settle
  sleep 4   # one ticker round with live status
  sample_tick
  api "$URL/wireguard/interfaces/$IF/peers" > "$T/list.json"
  after=$(rss_kb); after_anon=$(anon_kb)
  printf '  %6d peers: idle %6d KiB (private %6d KiB), during a status tick up to %6d KiB (private %6d KiB),\n' \
    "$n" "$idle" "$idle_anon" "$peak" "$peak_anon"
  printf '  %6s        after listing all peers %6d KiB (private %6d KiB; list %d bytes)\n' \
    "" "$after" "$after_anon" "$(stat -c %s "$T/list.json")"
  stop
  for pid in $(ip netns pids $NS 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  sleep 0.3
  rm -f /var/run/wireguard/$IF.sock
done

echo "GET of a 50-peer list, wrk -t1 -c10 -d${WRK_S}s"
state 50 > "$T/s50.yaml"
"$ATLAS" --data "$T/d50" import "$T/s50.yaml" >/dev/null
driver=$(X "$ATLAS" --data "$T/d50" plan --json 2>/dev/null | jq -r '.engines[] | select(.engine=="wireguard") | .status' || true)
start "$T/d50"
settle
X wrk -t1 -c10 -d"${WRK_S}s" -H "Authorization: Bearer $TOKEN" "$URL/wireguard/interfaces/$IF/peers" > "$T/wrk.txt"
rps=$(awk '/^Requests\/sec/ { print $2 }' "$T/wrk.txt")
lat=$(awk '/^ *Latency/ { print $2 }' "$T/wrk.txt")
non2xx=$(awk '/Non-2xx/ { print $NF }' "$T/wrk.txt")
printf '  %s requests/s, mean latency %s%s\n' "$rps" "$lat" "${non2xx:+, NON-2xx: $non2xx}"
X wrk -t1 -c10 -d"${WRK_S}s" "$URL/health" > "$T/wrk0.txt"
printf '  (for scale: unauthenticated /health %s requests/s)\n' "$(awk '/^Requests\/sec/ { print $2 }' "$T/wrk0.txt")"

echo "POST of a peer until it is on the interface ($POSTS posts, interface with 50+ peers)"
if [ "$driver" != ok ] && [ "$driver" != incomplete ]; then
  echo "  NOT MEASURED: this build has no WireGuard driver (engine status: ${driver:-?})"
  exit 1
fi
: > "$T/lat"
for i in $(seq 1 "$POSTS"); do
  t0=$(date +%s%N)
  key=$(api -X POST -d "{\"name\":\"q$i\"}" "$URL/wireguard/interfaces/$IF/peers" | jq -r .public_key)
  until X wg show $IF peers | grep -qx "$key"; do
    [ $(( ($(date +%s%N) - t0) / 1000000 )) -gt 10000 ] && { echo "  q$i not on the interface after 10 s"; exit 1; }
    sleep 0.002
  done
  echo $(( ($(date +%s%N) - t0) / 1000000 )) >> "$T/lat"
done
sort -n "$T/lat" > "$T/lat.s"
med=$(awk -v n="$POSTS" 'NR == int((n + 1) / 2)' "$T/lat.s")
p99=$(awk -v n="$POSTS" 'NR == int(n * 0.99 + 0.999)' "$T/lat.s")
printf '  median %s ms, p99 %s ms, max %s ms (debounce 200 ms included)\n' "$med" "$p99" "$(tail -1 "$T/lat.s")"
