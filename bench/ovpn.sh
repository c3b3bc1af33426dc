#!/usr/bin/env bash
# bench/ovpn.sh - OpenVPN figures: issuing 1,000 client certificates,
# regenerating a CRL with 1,000 revoked entries, and a no-op `atlas plan`
# with 1,000 clients (openvpn `enabled: false`, so no daemon or namespace is
# needed: observe still reads the index, every certificate path, the CRL,
# server.conf and 1,000 CCD files). Prints figures; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
ATLAS_BIN=${ATLAS_BIN:-$PWD/${1:-build}/atlas}
B=$(dirname "$ATLAS_BIN")
N=${OVPN_BENCH_N:-1000}
T=$(mktemp -d /tmp/atlas-bench-ovpn-XXXXXX)
trap 'rm -rf "$T"' EXIT

objs=$(find "$B" -name '*.o' ! -path "$B/tests/*" ! -path "$B/cli/main.o" | sort)
# shellcheck disable=SC2086
cc -O2 -std=c11 -D_GNU_SOURCE -I. -o "$T/pki_bench" bench/ovpn_pki_bench.c $objs \
  $(make -s --no-print-directory print-libs)
"$T/pki_bench" "$T/pki" "$N"

{
  echo "version: 1"
  echo "settings:"
  echo "  host: vpn.example.org"
  echo "openvpn:"
  echo "  enabled: false"
  echo "  network: 10.9.0.0/16"
  echo "  clients:"
  for i in $(seq 1 "$N"); do echo "    - name: client$i"; done
} > "$T/state.yaml"
A=$ATLAS_BIN
export ATLAS_SERVICE_MODE=direct
"$A" --data "$T/data" import "$T/state.yaml" >/dev/null
s=$(date +%s.%N)
"$A" --data "$T/data" apply >/dev/null
e=$(date +%s.%N)
printf 'ovpn: first apply with %d clients (PKI, certificates, CRL, CCD files): %.2f s\n' "$N" "$(echo "$e - $s" | bc)"
rc=0
best=
for i in 1 2 3 4 5; do
  s=$(date +%s.%N)
  "$A" --data "$T/data" plan >/dev/null || rc=$?
  e=$(date +%s.%N)
  ms=$(echo "($e - $s) * 1000" | bc)
  if [ -z "$best" ] || [ "$(echo "$ms < $best" | bc)" = 1 ]; then best=$ms; fi
done
printf 'ovpn: no-op `atlas plan` with %d clients: %.1f ms (best of 5, exit %d)\n' "$N" "$best" "$rc"
/usr/bin/time -f 'ovpn: no-op plan max RSS: %M KiB' "$A" --data "$T/data" plan >/dev/null 2> "$T/rss" || true
tail -1 "$T/rss"
