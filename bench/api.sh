#!/usr/bin/env bash
# `atlas serve` figures (issues 5 and 18), printed, never asserted, next to
# the Python baseline (bench/baseline/app.py: FastAPI + Uvicorn +
# SQLAlchemy + SQLite + PyJWT from the Debian packages, installed once when
# missing), both in one throwaway network namespace, in the same run:
#  - memory of `atlas serve` with 10 and 10,000 peers applied: VmRSS, PSS,
#    RssAnon, the start-up peak (VmHWM), and during a status tick;
#  - authenticated GET of a 50-, 1,000- and 10,000-peer list with
#    wrk -t1 -c10, Atlas then the baseline; one login of each;
#  - POST of a peer until it is on the interface (bench/post_latency.c,
#    what one UAPI get costs, then three observations side by side: a get
#    polled every ms, gets spaced by a get's length, a handshake probe of
#    the new peer every ms): median, p99, max
#    over 200 POSTs at 10 and at 10,000 peers, CPU per POST of atlas and of
#    wireguard-go, and a burst of 1,000 POSTs (applies, total time).
# usage: bench/api.sh [BUILD_DIR]
#   env API_BENCH_POSTS=200, API_BENCH_BURST=1000, API_BENCH_WRK_SECONDS=5,
#   API_BENCH_SIZES="10 50 1000 10000", API_BENCH_ONLY=memory (only the
#   memory rows: 10 and 10,000 peers, no baseline, no wrk, no POSTs),
#   API_BENCH_ONLY=latency (only the POST rows: 10 and 10,000 peers),
#   API_BENCH_SMAPS=DIR (memory: /proc/PID/smaps of the server idle into
#   DIR/N-idle.smaps and after the round of use into DIR/N.smaps),
#   API_BENCH_SAMPLE=DIR (memory: VmRSS and RssAnon sampled every 20 ms over
#   the first 3 s of the start; prints where the peak was, keeps the samples
#   in DIR/N.samples: ms, VmRSS, RssAnon)
#   API_BENCH_METHODS="1 get probe" (how the POST rows see the peer),
#   API_BENCH_PERF=DIR (perf record of atlas serve during each POST row,
#   into DIR/N-METHOD.perf: where the CPU per POST goes; the options of perf
#   record in API_BENCH_PERF_ARGS, default -g)
set -euo pipefail
B=${1:-build}
cd "$(dirname "$0")/.."
. bench/table.sh
ATLAS=${ATLAS_BIN:-$PWD/$B/atlas}
POSTS=${API_BENCH_POSTS:-200}
BURST=${API_BENCH_BURST:-1000}
WRK_S=${API_BENCH_WRK_SECONDS:-5}
SIZES=${API_BENCH_SIZES:-"10 50 1000 10000"}
ONLY=${API_BENCH_ONLY:-}
[ -z "$ONLY" ] || SIZES=${API_BENCH_SIZES:-"10 10000"}
NS=ata-bench
PORT=18090
BPORT=18091
IF=atabench
PY=/usr/bin/python3
[ "$(id -u)" = 0 ] || { echo "bench/api.sh: needs root (network namespace)"; exit 1; }
for p in ip curl jq wrk wg wireguard-go cc; do
  command -v $p >/dev/null || { echo "bench/api.sh: missing $p (make deps)"; exit 1; }
done
if [ -z "$ONLY" ] && ! $PY -c 'import fastapi, uvicorn, sqlalchemy, jwt' 2>/dev/null; then
  echo "installing the baseline's Debian packages (once)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-fastapi python3-uvicorn \
    python3-sqlalchemy python3-jwt > /dev/null
fi
T=$(mktemp -d /tmp/atlas-bench-api.XXXXXX)
PID=
BPID=
stop() {
  [ -n "$PID" ] && { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; }
  [ -n "$BPID" ] && { kill "$BPID" 2>/dev/null; wait "$BPID" 2>/dev/null || true; }
  PID=; BPID=
  for pid in $(ip netns pids $NS 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  sleep 0.3
  rm -f /var/run/wireguard/$IF.sock
}
cleanup() {
  stop
  ip netns del $NS 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT
X() { ip netns exec $NS "$@"; }
ip netns del $NS 2>/dev/null || true
ip netns add $NS; X ip link set lo up
export ATLAS_SERVICE_MODE=direct
URL=http://127.0.0.1:$PORT/api/v1
BURL=http://127.0.0.1:$BPORT/api
LIST=$URL/wireguard/interfaces/$IF/peers
cc -O2 -o "$T/post_latency" bench/post_latency.c -lcurl -lcrypto

state() { # N: a state with N peers (explicit addresses: allocation is not measured here)
  printf 'version: 1\nsettings:\n  host: 10.200.0.1\n  egress_interface: lo\nwireguard:\n  interfaces:\n'
  printf '    - name: %s\n      listen_port: 51990\n      address: [10.200.0.1/16]\n      peers:\n' $IF
  awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++)
    printf "        - {name: p%d, address: [10.200.%d.%d/32]}\n", i, int(i / 250), i % 250 + 2 }'
}
start() { # DATADIR
  # Not through X (a function): $! must be atlas itself.
  ip netns exec $NS "$ATLAS" --data "$1" serve --listen 127.0.0.1:$PORT > "$1.out" 2> "$1.log" &
  PID=$!
  [ -z "${API_BENCH_SAMPLE:-}" ] || sample_start "$1.samples" &
  for _ in $(seq 1 400); do X curl -fsS "$URL/health" >/dev/null 2>&1 && break; sleep 0.05; done
  local pw; pw=$(tr -d "\n" < "$1/initial-admin-password")
  LOGIN_BODY="{\"username\":\"admin\",\"password\":\"$pw\"}"
  TOKEN=$(X curl -fsS -X POST "$URL/auth/login" -d "$LOGIN_BODY" | jq -r .token)
}
start_baseline() { # N
  rm -f "$T/baseline.db"
  ip netns exec $NS env BASELINE_DB="$T/baseline.db" BASELINE_PEERS="$1" \
    $PY -m uvicorn --app-dir bench/baseline app:app --host 127.0.0.1 --port $BPORT \
    --log-level warning > "$T/baseline.log" 2>&1 &
  BPID=$!
  for _ in $(seq 1 600); do X curl -fsS "$BURL/health" >/dev/null 2>&1 && break; sleep 0.1; done
  BLOGIN_BODY='{"username":"admin","password":"baseline-password"}'
  BTOKEN=$(X curl -fsS -X POST "$BURL/auth/login" -H 'Content-Type: application/json' \
    -d "$BLOGIN_BODY" | jq -r .token)
}
api() { X curl -fsS -H "Authorization: Bearer $TOKEN" "$@"; }
settle() { # waits until the current generation is applied (or 300 s)
  for _ in $(seq 1 3000); do
    api "$URL/status" | jq -e '.pending == false and .last_run != null' >/dev/null && return 0
    sleep 0.1
  done
  echo "  (not settled: $(api "$URL/status" | jq -c '{generation,applied_generation,last_run:.last_run.error}'))"
}
st_kb() { awk -v k="$1:" '$1 == k { print $2 }' /proc/$PID/status; }
pss_kb() { awk '/^Pss:/ { print $2 }' /proc/$PID/smaps_rollup; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }
# Samples VmRSS and RssAnon every 0.1 s over one ticker period (3 s, plus a
# margin): a status round is short-lived, so one sample may land in it.
# The idle figures (VmRSS, RssAnon, PSS) are each the lowest sample.
sample_tick() {
  local k r a p
  idle=; idle_anon=; idle_pss=; peak=0; peak_anon=0
  for k in $(seq 1 35); do
    r=$(st_kb VmRSS); a=$(st_kb RssAnon); p=$(pss_kb)
    [ -z "$idle" ] || [ "$r" -lt "$idle" ] && idle=$r
    [ -z "$idle_pss" ] || [ "$p" -lt "$idle_pss" ] && idle_pss=$p
    [ -z "$idle_anon" ] || [ "$a" -lt "$idle_anon" ] && idle_anon=$a
    [ "$r" -gt "$peak" ] && peak=$r
    [ "$a" -gt "$peak_anon" ] && peak_anon=$a
    sleep 0.1
  done
}
# ms VmRSS RssAnon (KiB) every 20 ms over the first 3 s of $PID, into FILE.
sample_start() { # FILE
  local t0 now
  t0=$(date +%s%N)
  for _ in $(seq 1 150); do
    now=$(date +%s%N)
    awk -v ms=$(( (now - t0) / 1000000 )) '$1 == "VmRSS:" { r = $2 } $1 == "RssAnon:" { a = $2 }
      END { if (r) print ms, r, a }' /proc/$PID/status 2>/dev/null >> "$1" || return 0
    sleep 0.02
  done
}
sample_report() { # FILE: the highest sample, and the highest RssAnon
  [ -s "$1" ] || return 0
  sort -k2,2n "$1" | tail -1 | awk '{ printf "  start-up samples (20 ms): VmRSS peak %d KiB at %d ms (RssAnon %d KiB);", $2, $1, $3 }'
  sort -k3,3n "$1" | tail -1 | awk '{ printf " RssAnon peak %d KiB at %d ms\n", $3, $1 }'
}
wrk_rps() { # OUT ARGS...: requests/s of wrk -t1 -c10 (a note on stderr for non-2xx)
  local out=$1; shift
  X wrk -t1 -c10 -d"${WRK_S}s" "$@" > "$out"
  if grep -q Non-2xx "$out"; then echo "  NON-2xx answers: $(grep Non-2xx "$out")" >&2; fi
  awk '/^Requests\/sec/ { printf "%.0f", $2 }' "$out"
}
login_ms() { # URL BODY: one login, ms
  X curl -fsS -o /dev/null -w '%{time_total}' -X POST "$1" -H 'Content-Type: application/json' \
    -d "$2" | awk '{ printf "%.1f", $1 * 1000 }'
}
memory() { # N: memory rows of the settled server
  local n=$1 hwm pss
  hwm=$(st_kb VmHWM)
  sleep 4 # one ticker round with live status
  sample_tick
  pss=$idle_pss
  [ -z "${API_BENCH_SMAPS:-}" ] || cp /proc/$PID/smaps "$API_BENCH_SMAPS/$n-idle.smaps"
  printf '  %6d peers: VmRSS %6d KiB, PSS %6d KiB, RssAnon %6d KiB; start-up peak (VmHWM) %6d KiB;\n' \
    "$n" "$idle" "$pss" "$idle_anon" "$hwm"
  printf '  %6s        during a status tick up to %6d KiB (RssAnon %6d KiB)\n' "" "$peak" "$peak_anon"
  # What the panel and a script do next: the figures with the code that
  # serves them mapped again (the start-up's pages are unmapped once it has
  # settled: docs/performance.md, "File-backed pages")
  local k used used_anon
  # the login first: its password hash is one-off work whose pages the
  # next tick unmaps (with whatever else is mapped then); the reads after
  # it keep theirs, as a server in use does
  login_ms "$URL/auth/login" "$LOGIN_BODY" > /dev/null
  sleep 4
  for k in $(seq 1 20); do
    api "$LIST" > /dev/null; api "$URL/status" > /dev/null; api "$URL/usage" > /dev/null
    api "$URL/history" > /dev/null; X curl -fsS "$URL/../../metrics" > /dev/null
  done
  api "$LIST/p1/config" > /dev/null
  sleep 4
  local i0=$idle a0=$idle_anon p0=$peak pa0=$peak_anon
  sample_tick
  used=$idle; used_anon=$idle_anon
  idle=$i0; idle_anon=$a0; peak=$p0; peak_anon=$pa0
  printf '  %6s        after use (a login; then 20 x list, status, usage, history, metrics; a client config): VmRSS %6d KiB, RssAnon %6d KiB\n' \
    "" "$used" "$used_anon"
  [ -z "${API_BENCH_SMAPS:-}" ] || cp /proc/$PID/smaps "$API_BENCH_SMAPS/$n.smaps"
  [ -z "${API_BENCH_SAMPLE:-}" ] || { sample_report "$T/d$n.samples"; cp "$T/d$n.samples" "$API_BENCH_SAMPLE/$n.samples"; }
  if [ "$n" -ge 10000 ]; then
    row "VmRSS, $n peers applied" "<= 8 MB" "$(mib "$idle")"
    row "PSS, $n peers applied" "-" "$(mib "$pss")"
    row "RssAnon, $n peers applied" "<= 4 MB" "$(mib "$idle_anon")"
    row "start-up peak (VmHWM), $n peers" "<= 20 MB" "$(mib "$hwm")"
    row "VmRSS during a status tick, $n peers" "-" "$(mib "$peak")"
    row "VmRSS after use (lists, status, a login), $n peers" "<= 8 MB" "$(mib "$used")"
    row "RssAnon after use, $n peers" "<= 4 MB" "$(mib "$used_anon")"
  else
    row "VmRSS, $n peers applied" "-" "$(mib "$idle")"
    row "RssAnon, $n peers applied" "-" "$(mib "$idle_anon")"
    row "VmRSS after use (lists, status, a login), $n peers" "-" "$(mib "$used")"
  fi
}
throughput() { # N
  local n=$1 a b ah bh
  start_baseline "$n"
  [ "$(X curl -fsS -H "Authorization: Bearer $BTOKEN" "$BURL/wireguard/interfaces/wg0/peers" | jq length)" = "$n" ] ||
    echo "  baseline: the list does not have $n peers"
  [ "$(api "$LIST" | jq length)" = "$n" ] || echo "  atlas: the list does not have $n peers"
  a=$(wrk_rps "$T/wrk-a" -H "Authorization: Bearer $TOKEN" "$LIST")
  b=$(wrk_rps "$T/wrk-b" -H "Authorization: Bearer $BTOKEN" "$BURL/wireguard/interfaces/wg0/peers")
  printf '  GET of a %d-peer list, wrk -t1 -c10 -d%ss: atlas %s req/s, baseline %s req/s (%s x)\n' \
    "$n" "$WRK_S" "$a" "$b" "$(ratio "$a" "$b")"
  row "GET $n-peer list, req/s (wrk -t1 -c10)" "$([ "$n" = 50 ] && echo '>= 100x baseline' || echo -)" "$a ($(ratio "$a" "$b")x)" "$b"
  if [ "$n" = 50 ]; then
    ah=$(wrk_rps "$T/wrk-ah" "$URL/health")
    bh=$(wrk_rps "$T/wrk-bh" "$BURL/health")
    printf '  (for scale: unauthenticated /health atlas %s req/s, baseline %s req/s)\n' "$ah" "$bh"
    row "GET /health, req/s" "-" "$ah" "$bh"
    a=$(login_ms "$URL/auth/login" "$LOGIN_BODY"); b=$(login_ms "$BURL/auth/login" "$BLOGIN_BODY")
    printf '  one login: atlas %s ms (password hash), baseline %s ms (plain compare)\n' "$a" "$b"
    row "login, one request, ms" "-" "$a" "$b"
  fi
  kill "$BPID" 2>/dev/null; wait "$BPID" 2>/dev/null || true; BPID=
}
runs_total() { X curl -fsS "$URL/../../metrics" | awk '$1 == "atlas_apply_runs_total" { print $2 }'; }
cpu_ms() { # [PID]: user + system CPU of atlas serve (or of PID), ms
  awk '{ printf "%d\n", ($14 + $15) * 1000 / '"$(getconf CLK_TCK)"' }' "/proc/${1:-$PID}/stat"
}
wgo_pid() { # the wireguard-go of the interface
  local p
  for p in $(ip netns pids $NS); do
    [ "$(cat /proc/"$p"/comm 2>/dev/null)" = wireguard-go ] && { echo "$p"; return; }
  done
}
latency() { # N
  local n=$1 med p99 max r0 posts total c0 w0 wgo gap gmed gmax how ca cw srv args perf
  wgo=$(wgo_pid)
  read -r gmed gmax < <(X "$T/post_latency" - - $IF 20 - getcost)
  printf '  one UAPI get of the %d-peer device (what each poll costs): median %s ms, max %s ms\n' \
    "$n" "$gmed" "$gmax"
  row "one UAPI get (a poll) at $n peers, median / max ms" "-" "$gmed / $gmax"
  # Three observations from outside Atlas, side by side: a UAPI get polled
  # every ms (the first method), gets spaced by a get's length, and the
  # handshake probe (the bench's own key pair, POSTed as public_key; a
  # handshake initiation every ms until wireguard-go answers it). At 10,000
  # peers a get holds wireguard-go's lock about as long as it takes, so a
  # set waits behind the poll and the get-based figures measure the poll too.
  srv=$(api "$URL/wireguard/interfaces/$IF" | jq -r .public_key)
  for gap in ${API_BENCH_METHODS:-1 get probe}; do
    case $gap in
      1) how="UAPI get every 1 ms"; args=1 ;;
      get) how="UAPI gets spaced by a get"; args=get ;;
      probe) how="handshake probe every 1 ms"; args="probe $srv 51990" ;;
    esac
    c0=$(cpu_ms); w0=$(cpu_ms "$wgo")
    perf=
    if [ -n "${API_BENCH_PERF:-}" ]; then
      # shellcheck disable=SC2086
      perf record -q ${API_BENCH_PERF_ARGS:--g} -p "$PID" -o "$API_BENCH_PERF/$n-$gap.perf" > /dev/null 2>&1 &
      perf=$!
      sleep 0.5
    fi
    # shellcheck disable=SC2086
    read -r med p99 max < <(X "$T/post_latency" "$LIST" "$TOKEN" $IF "$POSTS" "q$gap" serial $args)
    [ -z "$perf" ] || { kill -INT "$perf"; wait "$perf" || true; }
    printf '  POST of a peer until on the interface (%s), %d POSTs at %d peers: median %s ms, p99 %s ms, max %s ms\n' \
      "$how" "$POSTS" "$n" "$med" "$p99" "$max"
    ca=$(( ($(cpu_ms) - c0) / POSTS )); cw=$(( ($(cpu_ms "$wgo") - w0) / POSTS ))
    printf '  CPU per POST (applies and status ticks included): atlas serve %s ms, wireguard-go %s ms (the polls included)\n' \
      "$ca" "$cw"
    row "POST -> on interface at $n peers ($how), median / p99 / max ms" "p99 <= 50 ms" "$med / $p99 / $max"
    row "CPU per POST at $n peers ($how), atlas / wireguard-go ms" "-" "$ca / $cw"
    settle
  done
  [ "$n" -lt 10000 ] || return 0
  settle
  r0=$(runs_total)
  read -r posts total < <(X "$T/post_latency" "$LIST" "$TOKEN" $IF "$BURST" "b" burst probe "$srv" 51990)
  settle
  printf '  burst of %d POSTs at %d peers: POSTs took %s ms, all on the interface after %s ms, %s applies\n' \
    "$BURST" "$n" "$posts" "$total" "$(( $(runs_total) - r0 ))"
  row "burst of $BURST POSTs: total ms (POSTs ms), applies" "-" "$total ($posts), $(( $(runs_total) - r0 ))"
}

for n in $SIZES; do
  echo "$n peers:"
  state "$n" > "$T/s$n.yaml"
  "$ATLAS" --data "$T/d$n" import "$T/s$n.yaml" >/dev/null
  start "$T/d$n"
  settle
  [ "$ONLY" = latency ] || case $n in 10 | 10000) memory "$n" ;; esac
  if [ "$ONLY" = memory ]; then
    printf '  one login: %s ms\n' "$(login_ms "$URL/auth/login" "$LOGIN_BODY")"
    stop; continue
  fi
  [ "$ONLY" = latency ] || case $n in 10) ;; *) throughput "$n" ;; esac
  case $n in 10 | 10000) latency "$n" ;; esac
  stop
done
