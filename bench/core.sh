#!/usr/bin/env bash
# Core figures (issue 2): YAML import and export of 1,000 and 10,000 peers,
# wall time and peak RSS of each command; saving one changed peer (CLI, and
# phase by phase through the C API: bench/store_save_bench.c). Prints
# figures; asserts nothing.
set -euo pipefail
: "${ATLAS_BIN:?}"
cd "$(dirname "$0")/.."
B=$(dirname "$ATLAS_BIN")
T=$(mktemp -d /tmp/atlas-bench-core.XXXXXX)
trap 'rm -rf "$T"' EXIT
objs=$(find "$B" -name '*.o' ! -path "$B/tests/*" ! -path "$B/cli/main.o" | sort)
# shellcheck disable=SC2086
cc -O2 -std=c11 -D_GNU_SOURCE -I. -o "$T/save_bench" bench/store_save_bench.c $objs \
  $(make -s --no-print-directory print-libs)
gen() { # N -> YAML with N peers without keys or addresses
  echo "version: 1"; echo "settings: {host: vpn.example.com}"
  echo "wireguard:"; echo "  interfaces:"
  echo "    - name: wg0"; echo "      listen_port: 51820"; echo "      address: [10.100.0.1/16]"
  echo "      peers:"
  seq -f "        - name: peer%05g" 1 "$1"
}
measure() { # label cmd... -> "label: X.XXX s, peak RSS N KiB"
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$T/time" "$@" > "$T/out" 2> "$T/err" || { cat "$T/err"; return 1; }
  read -r secs rss < "$T/time"
  printf '  %-46s %7.3f s   peak RSS %6d KiB\n' "$label" "$secs" "$rss"
}
median_ms() { # label reps cmd... -> "label: median X ms" (finer than time's 10 ms)
  local label=$1 reps=$2; shift 2
  for _ in $(seq "$reps"); do
    local t0 t1; t0=$(date +%s%N); "$@" > /dev/null 2> "$T/err" || { cat "$T/err"; return 1; }
    t1=$(date +%s%N); echo $(( (t1 - t0) / 1000 ))
  done | sort -n | awk -v l="$label" '{ v[NR] = $1 } END { printf "  %-46s %7.1f ms (median of %d)\n", l, v[int((NR + 1) / 2)] / 1000, NR }'
}
toggle_peer() { # DIR: disables, then enables peer00002 (two saves of one field)
  "$ATLAS_BIN" --data "$1" wg peer disable peer00002 -i wg0 && "$ATLAS_BIN" --data "$1" wg peer enable peer00002 -i wg0
}
for n in 1000 10000; do
  gen $n > "$T/in-$n.yaml"
  rm -rf "$T/d$n"
  echo "$n peers ($(wc -c < "$T/in-$n.yaml") bytes in):"
  measure "validate (generates $n key pairs + PSKs)" "$ATLAS_BIN" --data "$T/d$n" validate "$T/in-$n.yaml"
  measure "import, first (keys generated, addresses allocated)" "$ATLAS_BIN" --data "$T/d$n" import "$T/in-$n.yaml"
  measure "export" "$ATLAS_BIN" --data "$T/d$n" export
  "$ATLAS_BIN" --data "$T/d$n" export --secrets > "$T/full-$n.yaml"
  measure "export --secrets ($(wc -c < "$T/full-$n.yaml") bytes)" "$ATLAS_BIN" --data "$T/d$n" export --secrets
  measure "import of the export (no change)" "$ATLAS_BIN" --data "$T/d$n" import "$T/full-$n.yaml"
  sed 's/peer00001$/peer00001x/' "$T/full-$n.yaml" > "$T/chg-$n.yaml"
  measure "import with one peer renamed (new generation)" "$ATLAS_BIN" --data "$T/d$n" import "$T/chg-$n.yaml"
  sed '/- name: peer00003$/a\      keepalive: 25' "$T/full-$n.yaml" > "$T/one-$n.yaml"
  measure "import with one field changed" "$ATLAS_BIN" --data "$T/d$n" import "$T/one-$n.yaml"
  median_ms "atlas wg peer disable + enable (2 saves)" 5 toggle_peer "$T/d$n"
  "$T/save_bench" "$T/c$n" "$n" 7
  # Every name new: each is looked up among $n old names (was O(n^2)).
  gen $n | sed 's/name: peer/name: other/' > "$T/ren-$n.yaml"
  measure "validate with every peer renamed (new keys)" "$ATLAS_BIN" --data "$T/d$n" validate "$T/ren-$n.yaml"
  echo "  database: $(du -k "$T/d$n/atlas.db" | cut -f1) KiB"
done
# OpenVPN clients with static addresses: duplicate checks are O(n log n).
{
  echo "version: 1"; echo "openvpn:"; echo "  network: 10.9.0.0/16"; echo "  clients:"
  for i in $(seq 0 9999); do
    echo "    - {name: c$i, static_ip: 10.9.$(( (i + 2) / 256 )).$(( (i + 2) % 256 ))}"
  done
} > "$T/ovpn.yaml"
echo "10000 openvpn clients with static_ip:"
measure "validate" "$ATLAS_BIN" --data "$T/dovpn" validate "$T/ovpn.yaml"
# issue 16.13: the size of 100 generations of 10,000 peers (one peer edited each time)
# shellcheck disable=SC2086
cc -O2 -std=c11 -D_GNU_SOURCE -I. -o "$T/hist_bench" bench/history_size_bench.c $objs \
  $(make -s --no-print-directory print-libs)
"$T/hist_bench" "$T/dhist" 10000 100
