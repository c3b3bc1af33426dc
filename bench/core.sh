#!/usr/bin/env bash
# Core figures (issue 2): YAML import and export of 1,000 and 10,000 peers,
# wall time and peak RSS of each command. Prints figures; asserts nothing.
set -euo pipefail
: "${ATLAS_BIN:?}"
T=$(mktemp -d /tmp/atlas-bench-core.XXXXXX)
trap 'rm -rf "$T"' EXIT
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
