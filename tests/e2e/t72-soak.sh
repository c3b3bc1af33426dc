#!/usr/bin/env bash
# t72-soak: `atlas serve` under load. With 200 SSE streams open (the panel
# of 200 admins), wrk runs 256 connections for SOAK_SECONDS (60) against an
# authenticated 50-peer list, then against /health, all from one address:
# atlas accepts all 456 connections (none left waiting in the listen
# backlog by a connection limit), no answer but 2xx, no socket error
# (connect, read, write, timeout), every SSE stream still open at the end, and VmRSS at the end within 10 % of the
# start (measured after a short warm-up at the same load, so the buffers of
# 456 connections are counted in both, and each once the server unmapped
# the code pages the load touched). The figures (requests per second)
# are printed for the log only: nothing here asserts speed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
need ip wrk python3
NS=atsk-72
PORT=18172
SECS=${SOAK_SECONDS:-60}
T=$(mktemp -d /tmp/atlas-e2e-soak.XXXXXX)
SSE=
ns_clean() {
  local pid
  for pid in $(ip netns pids $NS 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  ip netns del $NS 2>/dev/null || true
  rm -f /var/run/wireguard/atsk72.sock
}
# (every step may fail: the server must go whatever else does, or it keeps
# the e2e lock it inherited)
cleanup() {
  [ -z "$SSE" ] || kill "$SSE" 2>/dev/null || true
  api_stop
  ns_clean
  rm -rf "$T"
}
trap cleanup EXIT
fail_details() { tail -20 "$T/data.log"; }
ns_clean
ip netns add $NS
ip -n $NS link set lo up
export API_NS=$NS ATLAS_SERVICE_MODE=direct ATLAS_LOG=info
{ printf 'version: 1\nsettings:\n  host: 10.72.0.1\nwireguard:\n  interfaces:\n'
  printf '    - name: atsk72\n      listen_port: 51872\n      address: [10.72.0.1/24]\n      peers:\n'
  for i in $(seq 1 50); do printf '        - name: p%d\n' "$i"; done
} > "$T/state.yaml"
"$ATLAS_BIN" --data "$T/data" import "$T/state.yaml" > /dev/null
api_start "$T/data" $PORT
U=$API_URL/api/v1
LIST=$U/wireguard/interfaces/atsk72/peers
[ "$(api "$LIST" | jq length)" = 50 ] || fail "the list does not hold the 50 peers"

# 200 SSE streams, each open once its first event came
mkfifo "$T/sse-in"
ip netns exec $NS python3 tests/e2e/sse-hold.py 127.0.0.1 $PORT "/api/v1/events?token=$API_TOKEN" 200 \
  < "$T/sse-in" > "$T/sse.out" 2>&1 &
SSE=$!
exec 7> "$T/sse-in"
for i in $(seq 1 300); do grep_q -E '^(ready|ended)' "$T/sse.out" && break; sleep 0.1; done
grep_q '^ready 200' "$T/sse.out" || { cat "$T/sse.out"; fail "the 200 SSE streams did not all send their first event"; }

rss() { awk '/^VmRSS:/ { print $2 }' /proc/$API_PID/status; }
# for the log: the private (RssAnon) and file-backed (RssFile) parts
rss_parts() { awk '/^(RssAnon|RssFile):/ { printf "%s %s kB ", $1, $2 }' /proc/$API_PID/status; }
# quiet_rss: VmRSS (into QUIET_RSS) once the load has stopped and the
# server has unmapped the file pages it touched (after a quiet tick:
# api/ticker.c; seen as RssFile falling by a quarter), or after 15 s: both
# sides are measured in the same state, their code pages not on one only
rss_file() { awk '/^RssFile:/ { print $2 }' /proc/$API_PID/status; }
quiet_rss() {
  local f0 f
  f0=$(rss_file)
  for _ in $(seq 1 75); do
    sleep 0.2
    f=$(rss_file)
    [ "$f" -lt $(( f0 * 3 / 4 )) ] && { sleep 1; break; }
    [ "$f" -gt "$f0" ] && f0=$f
  done
  QUIET_RSS=$(rss)
}
# soak URL SECONDS [wrk args]: wrk's verdict; fails on any non-2xx or socket error
soak() {
  local url=$1 secs=$2 out; shift 2
  out=$T/wrk.$(date +%s%N)
  ip netns exec $NS wrk -t2 -c256 -d"${secs}s" --timeout 10s "$@" "$url" > "$out" 2>&1 ||
    { cat "$out"; fail "wrk on $url failed"; }
  if grep_q -E 'Non-2xx|Socket errors' "$out"; then
    cat "$out"; fail "$url under 256 connections for ${secs}s: $(grep -E 'Non-2xx|Socket errors' "$out" | tr -s ' ')"
  fi
  grep_q -E '^ +[0-9]+ requests in' "$out" || { cat "$out"; fail "wrk printed no request count"; }
  echo "$url ${secs}s: $(grep -E 'requests in|Requests/sec' "$out" | tr -s ' ' | tr '\n' ' ')"
}
AUTHH="Authorization: Bearer $API_TOKEN"
# served: how many of the established connections to the server atlas has
# accepted (ss names the owner; a connection left in the listen backlog by
# a connection limit has none, and its client just waits)
served() { ip netns exec $NS ss -Htnp state established "( sport = :$PORT )" | grep -c '"atlas"' || true; }
# (the most of four looks: a client reconnecting at one look is not a limit)
( sleep 2; m=0; for _ in 1 2 3 4; do k=$(served); [ "$k" -gt "$m" ] && m=$k; sleep 0.4; done
  echo "$m" > "$T/served" ) &
soak "$LIST" 5 -H "$AUTHH"
wait $! || true
[ "$(cat "$T/served")" = 456 ] ||
  fail "atlas had accepted $(cat "$T/served") of the 456 connections (200 SSE streams, 256 of wrk)"
soak "$U/health" 5
quiet_rss; rss0=$QUIET_RSS; parts0=$(rss_parts)
soak "$LIST" "$SECS" -H "$AUTHH"
soak "$U/health" "$SECS"
quiet_rss; rss1=$QUIET_RSS; parts1=$(rss_parts)
echo "VmRSS: $rss0 kB after the warm-up ($parts0), $rss1 kB after the soak ($parts1)"
exec 7>&-
wait $SSE || true
SSE=
grep_q '^open 200' "$T/sse.out" || { cat "$T/sse.out"; fail "SSE streams ended during the soak"; }
[ $(( rss1 * 10 )) -le $(( rss0 * 11 )) ] && [ $(( rss1 * 10 )) -ge $(( rss0 * 9 )) ] ||
  fail "VmRSS went from $rss0 kB to $rss1 kB over the soak (more than 10 %)"
ok "256 connections for ${SECS}s on the 50-peer list and on /health with 200 SSE streams: only 2xx, no socket error, the 200 streams stay open, VmRSS $rss0 -> $rss1 kB"
echo "PASS t72-soak"
