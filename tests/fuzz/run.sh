#!/usr/bin/env bash
# Builds the YAML importer with clang + libFuzzer + ASan/UBSan into build-fuzz/
# and fuzzes it for FUZZ_SECONDS (default 60) from the golden YAML files.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v clang >/dev/null || { echo "fuzz: clang is missing (apt-get install clang libclang-rt-14-dev)"; exit 1; }
B=build-fuzz
FLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer"
make -s -j2 B=$B CC=clang CFLAGS="$FLAGS -fsanitize=fuzzer-no-link" LDFLAGS="-fsanitize=address,undefined" all
objs=$(find $B -name '*.o' ! -path "$B/cli/main.o" ! -path "$B/tests/*" | sort)
[ -n "$objs" ] || { echo "fuzz: build failed"; exit 1; }
clang $FLAGS -fsanitize=fuzzer -D_GNU_SOURCE -I. $(pkg-config --cflags yaml-0.1 jansson) \
  -o $B/fuzz_yaml tests/fuzz/fuzz_yaml.c $objs \
  $(pkg-config --libs yaml-0.1 sqlite3 jansson libmicrohttpd gnutls openssl libqrencode) -lpthread
corpus=$B/corpus-yaml; mkdir -p "$corpus"
cp tests/unit/golden/yaml/*.yaml "$corpus"/ 2>/dev/null || true
secs=${FUZZ_SECONDS:-60}
echo "fuzz: running fuzz_yaml for ${secs}s"
$B/fuzz_yaml -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "$corpus" 2>&1 | tail -15

# The OpenVPN parsers (management replies, easy-rsa index.txt).
clang $FLAGS -fsanitize=fuzzer -D_GNU_SOURCE -I. $(pkg-config --cflags jansson) \
  -o $B/fuzz_ovpn tests/fuzz/fuzz_ovpn.c $objs \
  $(pkg-config --libs yaml-0.1 sqlite3 jansson libmicrohttpd gnutls openssl libqrencode) -lpthread
corpus=$B/corpus-ovpn; mkdir -p "$corpus"
printf 'V\t290228022926Z\t\t88B0\tunknown\t/CN=server\nR\t290228022927Z\t261126022927Z\tF7\tunknown\t/CN=erin\n' > "$corpus/index.txt"
printf '>INFO:x\r\nCLIENT_LIST\ta\t1.2.3.4:5\t10.9.0.2\t\t1\t2\td\t3\tUNDEF\t4\t0\tAES-256-GCM\r\n>LOG:x\r\nEND\r\n' > "$corpus/status.txt"
echo "fuzz: running fuzz_ovpn for ${secs}s"
$B/fuzz_ovpn -max_total_time="$secs" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "$corpus" 2>&1 | tail -15

# The JSON bodies of the API (state/json.c). First byte: 0 peer, 1 interface,
# 2 openvpn section, 3 client.
clang $FLAGS -fsanitize=fuzzer -D_GNU_SOURCE -I. $(pkg-config --cflags jansson) \
  -o $B/fuzz_json tests/fuzz/fuzz_json.c $objs \
  $(pkg-config --libs yaml-0.1 sqlite3 jansson libmicrohttpd gnutls openssl libqrencode) -lpthread
corpus=$B/corpus-json; mkdir -p "$corpus"
printf '\000{"name":"alice","keepalive":25,"address":["10.0.0.2/32"],"note":"x"}' > "$corpus/peer"
printf '\001{"name":"wg0","listen_port":51820,"address":["10.8.0.1/24"],"dns":["1.1.1.1"]}' > "$corpus/iface"
printf '\002{"network":"10.9.0.0/24","proto":"tcp","port":443,"enabled":false}' > "$corpus/ovpn"
printf '\003{"name":"bob","static_ip":"10.9.0.5","disabled":true}' > "$corpus/client"
echo "fuzz: running fuzz_json for ${secs}s"
$B/fuzz_json -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "$corpus" 2>&1 | tail -15
