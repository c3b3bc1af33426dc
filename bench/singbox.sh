#!/usr/bin/env bash
# bench/singbox.sh - sing-box figures with the real test binary, in a
# throwaway network namespace (run under the e2e lock): for N users (one
# VLESS and one Shadowsocks inbound, N users each) the no-op plan (render and
# compare), `sing-box check` of the rendered config, the first apply (check,
# start, N Shadowsocks users added live), the apply of one more VLESS user (a
# reload) and of one more Shadowsocks user (live, no reload). Prints figures;
# asserts nothing. SB_BENCH_N: the user counts (default "1000 10000").
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/table.sh
ATLAS_BIN=${ATLAS_BIN:-$PWD/${1:-build}/atlas}
SB=$(bash scripts/singbox.sh)
export ATLAS_SERVICE_MODE=direct
NS=atsb-bench
T=$(mktemp -d /tmp/atsb-bench-XXXXXX)
cleanup() {
  [ -f "$T/data/run/sing-box.pid" ] && kill "$(cat "$T/data/run/sing-box.pid")" 2>/dev/null
  ip netns del "$NS" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
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
for n in ${SB_BENCH_N:-1000 10000}; do
  rm -rf "$T/data"
  a() { ip netns exec "$NS" "$ATLAS_BIN" --data "$T/data" "$@"; }
  state "$n" "" "" > "$T/s.yaml"; a import "$T/s.yaml" > /dev/null
  s=$(now); a apply > /dev/null; e=$(now)
  printf 'singbox: first apply, %d+%d users (check, start, %d SSM adds): %.0f ms\n' "$n" "$n" "$n" "$(ms "$s" "$e")"
  s=$(now); a plan > /dev/null || true; e=$(now)
  printf 'singbox: no-op plan with %d+%d users: %.0f ms\n' "$n" "$n" "$(ms "$s" "$e")"
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
