#!/usr/bin/env bash
# bench/singbox.sh - sing-box figures with the real test binary, in a
# throwaway network namespace (run under the e2e lock): for N users (one
# VLESS and one Shadowsocks inbound, N users each) the no-op plan (render and
# compare), `sing-box check` of the rendered config, the first apply (check,
# start, N Shadowsocks users set in the SSM cache it loads at start, then
# synced), the apply of one more VLESS user (a
# reload) and of one more Shadowsocks user (live, no reload). Then the whole
# proxy stack (issue 18): `atlas serve` managing sing-box with SB_STACK_N
# users per inbound (default "500 1000": 1,000 users in all, then 2,000): the VmRSS and RssAnon of both processes
# and their sum (the lowest of 35 samples over a status period, as
# bench/api.sh does), and the authenticated GET of a 50-user inbound's list
# with wrk -t1 -c10, next to s-ui's figures quoted in issue 18 (measured
# elsewhere: s-ui cannot be installed here). Prints figures; asserts nothing.
# Then a user added through the API with SB_POST_N users per inbound
# (default "1000 10000"; auto_apply off: the commit alone), median and max
# of 30 POSTs. SB_BENCH_N: the user counts (default "1000 10000"; "" none);
# SB_BENCH_WRK_SECONDS=5; SB_STACK_N="" leaves the stack out, SB_POST_N="" the POSTs;
# SB_BENCH_SMAPS=DIR copies both processes' /proc/PID/smaps there after the stack's samples,
# and the stack's server log (stack.log) when the bench ends.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/table.sh
ATLAS_BIN=${ATLAS_BIN:-$PWD/${1:-build}/atlas}
SB=$(bash scripts/singbox.sh)
export ATLAS_SERVICE_MODE=direct
NS=atsb-bench
T=$(mktemp -d /tmp/atsb-bench-XXXXXX)
cleanup() { # every step may fail (set -e would end the trap before the namespace is gone)
  [ -f "$T/data/run/sing-box.pid" ] && { kill "$(cat "$T/data/run/sing-box.pid")" 2>/dev/null || true; }
  for pid in $(ip netns pids "$NS" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  sleep 0.3
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT
ip netns del "$NS" 2>/dev/null || true # left by a killed run
ip netns add "$NS"
ip -n "$NS" link set lo up
now() { date +%s.%N; }
ms() { echo "($2 - $1) * 1000" | bc; }
state() { # N EXTRA_VLESS EXTRA_SS
  echo "version: 1"
  echo "settings: {host: 127.0.0.1, singbox_binary: $SB}"
  echo "singbox:"
  echo "  inbounds:"
  echo "    - {name: edge, type: vless, port: 10443, security: none, users: ["
  for i in $(seq 1 "$1"); do echo "        {name: u$i},"; done
  [ -n "$2" ] && echo "        {name: $2},"
  echo "      ]}"
  echo "    - {name: ss, type: shadowsocks, port: 10388, users: ["
  for i in $(seq 1 "$1"); do echo "        {name: u$i},"; done
  [ -n "$3" ] && echo "        {name: $3},"
  echo "      ]}"
}
for n in ${SB_BENCH_N-1000 10000}; do
  rm -rf "$T/data"
  a() { ip netns exec "$NS" "$ATLAS_BIN" --data "$T/data" "$@"; }
  state "$n" "" "" > "$T/s.yaml"; a import "$T/s.yaml" > /dev/null
  s=$(now); a apply > /dev/null; e=$(now)
  printf 'singbox: first apply, %d+%d users (check, the SSM cache set with %d users, start, sync): %.0f ms\n' "$n" "$n" "$n" "$(ms "$s" "$e")"
  s=$(now); a plan > /dev/null || true; e=$(now)
  printf 'singbox: no-op plan with %d+%d users: %.0f ms\n' "$n" "$n" "$(ms "$s" "$e")"
  row "no-op atlas plan, $n+$n sing-box users, ms" "-" "$(ms "$s" "$e" | awk '{ printf "%.0f", $1 }')"
  s=$(now); "$SB" check -c "$T/data/singbox/config.json"; e=$(now)
  printf 'singbox: sing-box check of the rendered config (%d KiB): %.0f ms\n' \
    "$(( $(stat -c %s "$T/data/singbox/config.json") / 1024 ))" "$(ms "$s" "$e")"
  state "$n" newv "" > "$T/s.yaml"; a import "$T/s.yaml" > /dev/null
  s=$(now); a apply > /dev/null; e=$(now)
  printf 'singbox: apply of one more VLESS user (reload) with %d users: %.0f ms\n' "$n" "$(ms "$s" "$e")"
  state "$n" newv news > "$T/s.yaml"; a import "$T/s.yaml" > /dev/null
  s=$(now); a apply > /dev/null; e=$(now)
  printf 'singbox: apply of one more Shadowsocks user (live) with %d users: %.0f ms\n' "$n" "$(ms "$s" "$e")"
  rss=$(awk '/VmRSS/ { print $2 }' "/proc/$(cat "$T/data/run/sing-box.pid")/status")
  printf 'singbox: sing-box RSS with %d+%d users: %d KiB\n' "$n" "$n" "$rss"
  row "sing-box VmRSS with $n+$n users (Atlas's own: bench/api.sh)" "Atlas + sing-box <= 45 MB" "$(awk -v k="$rss" 'BEGIN { printf "%.1f MB", k / 1024 }')"
  a apply > /dev/null
  kill "$(cat "$T/data/run/sing-box.pid")"; sleep 0.5
done

# The whole proxy stack: `atlas serve` applies the state itself and keeps
# observing sing-box (status over the gRPC api and SSM: libcurl is loaded).
PORT=18095
URL=http://127.0.0.1:$PORT/api/v1
X() { ip netns exec "$NS" "$@"; }
serve() { # DATADIR: starts atlas serve there, logs in (TOKEN), waits until applied
  # Not through X (a function): $! must be atlas itself.
  ip netns exec "$NS" "$ATLAS_BIN" --data "$1" serve --listen 127.0.0.1:$PORT > "$1.log" 2>&1 &
  APID=$!
  for _ in $(seq 1 400); do X curl -fsS "$URL/health" > /dev/null 2>&1 && break; sleep 0.05; done
  TOKEN=$(X curl -fsS -X POST "$URL/auth/login" \
    -d "{\"username\":\"admin\",\"password\":\"$(tr -d '\n' < "$1/initial-admin-password")\"}" | jq -r .token)
  for _ in $(seq 1 3000); do
    X curl -fsS -H "Authorization: Bearer $TOKEN" "$URL/status" |
      jq -e '.pending == false and .last_run != null and .engines.singbox.running == true' > /dev/null && return 0
    sleep 0.1
  done
  echo "  (not settled: $(X curl -fsS -H "Authorization: Bearer $TOKEN" "$URL/status" | jq -c .last_run.error))"
}
unserve() { # stops atlas serve and the sing-box it started
  kill "$APID" 2>/dev/null; wait "$APID" 2>/dev/null || true
  for pid in $(ip netns pids "$NS"); do kill "$pid" 2>/dev/null || true; done
  sleep 0.5
}
kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }
stack() { # N: the stack with N users in each of the two inbounds
  local n=$1 ar= aa= sr= sa= v curl_state
  rm -rf "$T/stack"
  state "$n" "" "" > "$T/s.yaml"
  [ -z "${SB_BENCH_SMAPS:-}" ] || trap 'cp "$T/stack.log" "$SB_BENCH_SMAPS/" 2>/dev/null; cleanup' EXIT
  "$ATLAS_BIN" --data "$T/stack" import "$T/s.yaml" > /dev/null
  serve "$T/stack"
  SPID=$(cat "$T/stack/run/sing-box.pid")
  sleep 4 # a status round with both inbounds observed
  for _ in $(seq 1 35); do # the lowest of each over a status period (3 s)
    v=$(kb "$APID" VmRSS); [ -z "$ar" ] || [ "$v" -lt "$ar" ] && ar=$v
    v=$(kb "$APID" RssAnon); [ -z "$aa" ] || [ "$v" -lt "$aa" ] && aa=$v
    v=$(kb "$SPID" VmRSS); [ -z "$sr" ] || [ "$v" -lt "$sr" ] && sr=$v
    v=$(kb "$SPID" RssAnon); [ -z "$sa" ] || [ "$v" -lt "$sa" ] && sa=$v
    sleep 0.1
  done
  [ -z "${SB_BENCH_SMAPS:-}" ] || { cp "/proc/$APID/smaps" "$SB_BENCH_SMAPS/atlas-$n.smaps"
    cp "/proc/$SPID/smaps" "$SB_BENCH_SMAPS/sing-box-$n.smaps"; }
  grep -q libcurl "/proc/$APID/maps" && curl_state="libcurl loaded" || curl_state="libcurl NOT loaded"
  printf 'stack: atlas serve managing sing-box, %d+%d users (%s): Atlas VmRSS %d KiB (RssAnon %d), sing-box VmRSS %d KiB (RssAnon %d), together %d KiB (RssAnon %d)\n' \
    "$n" "$n" "$curl_state" "$ar" "$aa" "$sr" "$sa" $((ar + sr)) $((aa + sa))
  row "Atlas + sing-box VmRSS, $n+$n users ($((2 * n)) in all)" "<= 45 MB (1,000 users)" \
    "$(mb $((ar + sr))) (Atlas $(mb "$ar"), sing-box $(mb "$sr"))" "s-ui 64 MiB, 1,000 users (issue 18, measured elsewhere)"
  row "Atlas + sing-box RssAnon, $n+$n users" "-" \
    "$(mb $((aa + sa))) (Atlas $(mb "$aa"), sing-box $(mb "$sa"))"
  unserve
}
# 1,000 users in all (the issue's figure: 500 in each inbound), then 1,000 in each.
for n in ${SB_STACK_N-500 1000}; do stack "$n"; done

# A user added through the API with N+N users: the commit alone (auto_apply off,
# so no apply follows), 30 POSTs one after the other: the median and the max.
post_users() { # N
  local n=$1 i t
  rm -rf "$T/post"
  state "$n" "" "" | sed 's/^settings: {/settings: {auto_apply: false, /' > "$T/s.yaml"
  "$ATLAS_BIN" --data "$T/post" import "$T/s.yaml" > /dev/null
  serve_only "$T/post"
  : > "$T/post.times"
  for i in $(seq 1 30); do
    X curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $TOKEN" \
      -X POST "$URL/singbox/inbounds/ss/users" -d "{\"name\":\"new$i\"}" >> "$T/post.times"
  done
  [ "$(grep -vc '^201 ' "$T/post.times" || true)" = 0 ] || echo "  NOT 201: $(grep -v '^201 ' "$T/post.times" | head -3)"
  t=$(awk '{ print $2 * 1000 }' "$T/post.times" | sort -n | awk '{ v[NR] = $1 } END { printf "%.0f ms median, %.0f ms max", v[int((NR + 1) / 2)], v[NR] }')
  printf 'singbox: POST of a user with %d+%d users (commit only, 30 POSTs): %s\n' "$n" "$n" "$t"
  row "POST of a sing-box user, $n+$n users (commit only)" "-" "$t"
  unserve
}
serve_only() { # DATADIR: atlas serve there, logged in (TOKEN); nothing to settle
  ip netns exec "$NS" "$ATLAS_BIN" --data "$1" serve --listen 127.0.0.1:$PORT > "$1.log" 2>&1 &
  APID=$!
  for _ in $(seq 1 400); do X curl -fsS "$URL/health" > /dev/null 2>&1 && break; sleep 0.05; done
  TOKEN=$(X curl -fsS -X POST "$URL/auth/login" \
    -d "{\"username\":\"admin\",\"password\":\"$(tr -d '\n' < "$1/initial-admin-password")\"}" | jq -r .token)
}
for n in ${SB_POST_N-1000 10000}; do post_users "$n"; done

# Atlas's authenticated list of one inbound's 50 users, with sing-box managed.
S_UI_RPS=1400 # s-ui 1.5.1's 50-client list, issue 18 (measured elsewhere, not in this run)
rm -rf "$T/list"
state 50 "" "" > "$T/s.yaml"
"$ATLAS_BIN" --data "$T/list" import "$T/s.yaml" > /dev/null
serve "$T/list"
LIST=$URL/singbox/inbounds/edge/users
[ "$(X curl -fsS -H "Authorization: Bearer $TOKEN" "$LIST" | jq length)" = 50 ] || echo "  the list does not have 50 users"
X wrk -t1 -c10 -d"${SB_BENCH_WRK_SECONDS:-5}s" -H "Authorization: Bearer $TOKEN" "$LIST" > "$T/wrk"
grep -q Non-2xx "$T/wrk" && echo "  NON-2xx answers: $(grep Non-2xx "$T/wrk")"
rps=$(awk '/^Requests\/sec/ { printf "%.0f", $2 }' "$T/wrk")
printf 'stack: GET of a 50-user sing-box inbound list, wrk -t1 -c10: %s req/s (s-ui ~%d req/s in issue 18: %sx)\n' \
  "$rps" "$S_UI_RPS" "$(ratio "$rps" "$S_UI_RPS")"
row "GET 50-user sing-box list, req/s (wrk -t1 -c10)" ">= 10x s-ui" "$rps ($(ratio "$rps" "$S_UI_RPS")x)" \
  "s-ui ~$S_UI_RPS (issue 18, measured elsewhere)"
unserve
