#!/usr/bin/env bash
# Builds the YAML importer with clang + libFuzzer + ASan/UBSan into build-fuzz/
# and fuzzes it for FUZZ_SECONDS (default 60) from the golden YAML files; then
# the same for the JSON bodies of the API (fuzz_json.c).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v clang >/dev/null || { echo "fuzz: clang is missing (apt-get install clang libclang-rt-14-dev)"; exit 1; }
B=build-fuzz
FLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer"
make -s -j2 B=$B CC=clang CFLAGS="$FLAGS -fsanitize=fuzzer-no-link" LDFLAGS="-fsanitize=address,undefined" all
objs=$(find $B -name '*.o' ! -path "$B/cli/main.o" ! -path "$B/tests/*" | sort)
[ -n "$objs" ] || { echo "fuzz: build failed"; exit 1; }
secs=${FUZZ_SECONDS:-60}
rc=0
for t in yaml json; do
  clang $FLAGS -fsanitize=fuzzer -D_GNU_SOURCE -I. $(pkg-config --cflags yaml-0.1 jansson) \
    -o $B/fuzz_$t tests/fuzz/fuzz_$t.c $objs \
    $(pkg-config --libs yaml-0.1 sqlite3 jansson libmicrohttpd openssl libqrencode) -lpthread
  corpus=$B/corpus-$t; mkdir -p "$corpus"
  if [ $t = yaml ]; then
    cp tests/unit/golden/yaml/*.yaml "$corpus"/ 2>/dev/null || true
  else
    # first byte: 0 peer, 1 interface, 2 openvpn section, 3 client
    printf '\000{"name":"alice","keepalive":25,"address":["10.0.0.2/32"],"note":"x"}' > "$corpus/peer"
    printf '\001{"name":"wg0","listen_port":51820,"address":["10.8.0.1/24"],"dns":["1.1.1.1"]}' > "$corpus/iface"
    printf '\002{"network":"10.9.0.0/24","proto":"tcp","port":443,"enabled":false}' > "$corpus/ovpn"
    printf '\003{"name":"bob","static_ip":"10.9.0.5","disabled":true}' > "$corpus/client"
  fi
  echo "fuzz: running fuzz_$t for ${secs}s"
  $B/fuzz_$t -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "$corpus" 2>&1 | tail -15 || rc=1
done
exit $rc
