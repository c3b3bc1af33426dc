#!/usr/bin/env bash
# `make fuzz`: builds Atlas with clang + libFuzzer + ASan/UBSan into
# build-fuzz/ and fuzzes every target of targets.sh for FUZZ_SECONDS each
# (default 60; FUZZ_ONLY="yaml links" picks targets; FUZZ_RUNS=N stops a
# target after N executions, whichever comes first), starting from its
# seeds. Inputs that crash land in build-fuzz/crash-NAME/ (copy one into
# tests/fuzz/corpus/NAME/ with its fix: it becomes a regression seed of
# `make fuzz-seed`). Prints one line per target: executions, executions
# per second, corpus size, crashes; fails when any target crashed.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v clang >/dev/null || { echo "fuzz: clang is missing (apt-get install clang libclang-rt-14-dev)"; exit 1; }
. tests/fuzz/targets.sh
B=build-fuzz
FLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer"
make -s -j2 B=$B CC=clang CFLAGS="$FLAGS -fsanitize=fuzzer-no-link" LDFLAGS="-fsanitize=address,undefined" all
objs=$(find $B -name '*.o' ! -path "$B/cli/main.o" ! -path "$B/tests/*" ! -path "$B/fuzz/*" | sort)
[ -n "$objs" ] || { echo "fuzz: build failed"; exit 1; }
secs=${FUZZ_SECONDS:-60}
libs=$(make -s --no-print-directory print-libs)
summary=(); crashed=0
for t in ${FUZZ_ONLY:-$FUZZ_TARGETS}; do
  clang $FLAGS -fsanitize=fuzzer -D_GNU_SOURCE -I. -I$B/gen $(pkg-config --cflags jansson) \
    -o $B/fuzz_$t tests/fuzz/fuzz_$t.c $objs $libs
  corpus=$B/corpus-$t; crashes=$B/crash-$t
  mkdir -p "$corpus" "$crashes"
  fuzz_seeds "$t" | while read -r f; do cp "$f" "$corpus/seed-$(basename "$f")"; done
  echo "fuzz: fuzz_$t for ${secs}s"
  rc=0
  $B/fuzz_$t -max_total_time="$secs" -runs="${FUZZ_RUNS:--1}" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$crashes/" "$corpus" > $B/fuzz_$t.log 2>&1 || rc=$?
  tail -12 $B/fuzz_$t.log
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' $B/fuzz_$t.log | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' $B/fuzz_$t.log | tail -1)
  found=$(find "$crashes" -type f | wc -l)
  [ $rc = 0 ] && [ "$found" = 0 ] || crashed=1
  summary+=("$(printf '%-12s %12s execs %8s/s %6s corpus %3s crashes (rc %s)' "$t" "${execs:-?}" \
    "${speed:-?}" "$(ls "$corpus" | wc -l)" "$found" "$rc")")
done
echo
printf 'fuzz: %s\n' "${summary[@]}"
[ $crashed = 0 ]
