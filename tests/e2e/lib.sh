# Shared helpers for the end-to-end tests (sourced; every lib-*.sh sources it
# too, so sourcing it twice is harmless).
# fail MSG: prints "FAIL: MSG" (and whatever the optional function
# fail_details prints, for example the tail of daemon logs) and exits 1.
# ok MSG: prints "ok - MSG".
set -euo pipefail
[ -n "${ATLAS_E2E_LIB:-}" ] && return 0
ATLAS_E2E_LIB=1
: "${ATLAS_BIN:?ATLAS_BIN must point to build/atlas}"
fail() {
  echo "FAIL: $*" >&2
  if declare -F fail_details >/dev/null; then fail_details >&2 || true; fi
  exit 1
}
ok() { echo "ok - $*"; }
# expect_rc WANT CMD...: runs CMD, fails unless its exit status is WANT
expect_rc() {
  local want=$1; shift
  set +e; "$@"; local rc=$?; set -e
  [ "$rc" = "$want" ] || fail "expected exit $want, got $rc: $*"
}
# grep_q PATTERN...: like `grep -q`, but reads all of its input. In a
# pipeline under pipefail, `cmd | grep -q` can fail when grep exits at the
# first match and cmd then dies of SIGPIPE: a flaky test.
grep_q() { grep "$@" > /dev/null; }
need() { for p in "$@"; do command -v "$p" >/dev/null 2>&1 || fail "missing program: $p (make deps installs it)"; done; }
# absent STRING CMD...: runs the probe CMD; true only when it succeeds and no
# line of its output contains STRING (fixed string). A negative check that
# passed when the probe itself failed (interface gone, export refused) would
# prove nothing, so a failed probe is a failed check.
absent() {
  local s=$1 out; shift
  out=$("$@") || { echo "probe failed: $*" >&2; return 1; }
  ! grep -qF -- "$s" <<<"$out"
}
# present STRING CMD...: the probe CMD succeeds and its output contains STRING.
present() {
  local s=$1 out; shift
  out=$("$@") || { echo "probe failed: $*" >&2; return 1; }
  grep -qF -- "$s" <<<"$out"
}
# wait_for SECONDS CMD...: polls CMD every 20 ms until it succeeds; prints the
# milliseconds it took (for the log only: tests assert events and order, not
# latency), fails after SECONDS.
wait_for() {
  local limit=$(( $1 * 1000 )) start now; shift
  start=$(date +%s%N)
  while :; do
    if "$@" >/dev/null 2>&1; then echo $(( ($(date +%s%N) - start) / 1000000 )); return 0; fi
    now=$(( ($(date +%s%N) - start) / 1000000 ))
    [ $now -ge $limit ] && return 1
    sleep 0.02
  done
}
# alive PID: the process exists and is not a zombie (orphans may wait for
# their reaper here).
alive() { [ -r "/proc/$1/stat" ] && ! awk '{ exit ($3 == "Z") ? 0 : 1 }' "/proc/$1/stat"; }
# ns_remove NS...: ends every process in each namespace (TERM, then KILL: a
# daemon would outlive its deleted namespace), then deletes it. Quiet when it
# does not exist; used to clean up and to remove leftovers of an earlier run.
ns_remove() {
  local ns pid
  for ns in "$@"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  done
  for ns in "$@"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      local i
      for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
      kill -9 "$pid" 2>/dev/null || true
    done
    ip netns del "$ns" 2>/dev/null || true
  done
  return 0
}
# kill_ours DIR: ends, by pid, every process whose command line mentions DIR/
# (the daemons and clients a test started with paths under its temp dir):
# TERM, then KILL.
kill_ours() {
  local dir=$1 pids=() p
  for p in /proc/[0-9]*; do
    [ -r "$p/cmdline" ] || continue
    if tr '\0' ' ' < "$p/cmdline" 2>/dev/null | grep_q -F -- "$dir/"; then
      pids+=("${p#/proc/}")
    fi
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  kill "${pids[@]}" 2>/dev/null || true
  sleep 0.5
  kill -9 "${pids[@]}" 2>/dev/null || true
  return 0
}
