#!/usr/bin/env bash
# t02-readonly: a data directory on a disk remounted read-only (a tmpfs in a
# private mount namespace): the commands that only read (export, plan,
# history, ovpn config) work and give what they give on the writable
# directory; a command that writes fails naming the directory; nothing in
# it changed.
. "$(dirname "$0")/lib.sh"
need unshare mount cmp
[ "$(id -u)" = 0 ] || fail "needs root (mount namespace)"
T=$(mktemp -d /tmp/atlas-e2e-ro.XXXXXX)
trap 'rm -rf "$T"' EXIT
D=$T/data
cat > "$T/state.yaml" <<YAML
version: 1
settings:
  host: vpn.example.com
wireguard:
  interfaces:
    - name: atro0
      listen_port: 51899
      address: [10.77.0.1/24]
      peers:
        - name: alice
YAML
"$ATLAS_BIN" --data "$D" import "$T/state.yaml" >/dev/null || fail "import"
"$ATLAS_BIN" --data "$D" export --secrets > "$T/export.rw" || fail "export (writable)"
"$ATLAS_BIN" --data "$D" wg config alice > "$T/alice.rw" || fail "wg config (writable)"
rc=0; "$ATLAS_BIN" --data "$D" plan > "$T/plan.rw" 2>&1 || rc=$?
[ $rc = 2 ] || { cat "$T/plan.rw"; fail "plan (writable) exited $rc, not 2"; }
(cd "$D" && find . -type f -exec sha256sum {} + | sort) > "$T/sums.before"
# shellcheck disable=SC2016
unshare --mount --propagation private bash -c '
  set -e
  T=$1; ATLAS=$2
  mkdir -p "$T/ro"
  mount -t tmpfs -o size=16m tmpfs "$T/ro"
  cp -a "$T/data" "$T/ro/data"
  mount -o remount,ro "$T/ro"
  touch "$T/ro/data/probe" 2>/dev/null && { echo "FAIL: the mount is writable"; exit 1; }
  "$ATLAS" --data "$T/ro/data" export --secrets > "$T/export.ro" || { echo "FAIL: export on a read-only directory"; exit 1; }
  "$ATLAS" --data "$T/ro/data" wg config alice > "$T/alice.ro" || { echo "FAIL: wg config on a read-only directory"; exit 1; }
  "$ATLAS" --data "$T/ro/data" history > "$T/history.ro" || { echo "FAIL: history on a read-only directory"; exit 1; }
  rc=0; "$ATLAS" --data "$T/ro/data" plan > "$T/plan.ro" 2>&1 || rc=$?
  [ $rc = 2 ] || { cat "$T/plan.ro"; echo "FAIL: plan on a read-only directory exited $rc, not 2"; exit 1; }
  rc=0; "$ATLAS" --data "$T/ro/data" import "$T/state.yaml" > "$T/import.ro" 2>&1 || rc=$?
  [ $rc = 1 ] || { echo "FAIL: import on a read-only directory exited $rc"; exit 1; }
  grep -q "not writable" "$T/import.ro" || { cat "$T/import.ro"; echo "FAIL: import does not say the directory is not writable"; exit 1; }
  (cd "$T/ro/data" && find . -type f -exec sha256sum {} + | sort) > "$T/sums.ro"
' _ "$T" "$ATLAS_BIN" || fail "read-only run failed"
cmp -s "$T/export.rw" "$T/export.ro" || fail "export differs on the read-only directory"
cmp -s "$T/alice.rw" "$T/alice.ro" || fail "wg config differs on the read-only directory"
sed -i "s|$T/ro/data|$T/data|g" "$T/plan.ro" # the same plan, at the other path
cmp -s "$T/plan.rw" "$T/plan.ro" || { diff "$T/plan.rw" "$T/plan.ro"; fail "plan differs on the read-only directory"; }
grep -q "import" "$T/history.ro" || fail "history on the read-only directory lists no import"
cmp -s "$T/sums.before" "$T/sums.ro" || fail "files changed"
ok "read-only data directory: export, wg config, history and plan work and match; import refused"
echo "PASS t02-readonly"
