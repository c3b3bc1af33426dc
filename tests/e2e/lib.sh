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
