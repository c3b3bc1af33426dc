#!/usr/bin/env bash
# t26-ovpn-backup: `atlas backup` of a data directory with a running OpenVPN
# server and a connected client; truncated and edited archives are refused
# and change nothing; restore --force into the same directory leaves the
# plan empty at once (same host); restore into a fresh directory on a "new
# host" gives the same `export --secrets` and byte-identical .ovpn, and the
# old profile connects to the server run from it; plan is empty.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/lib-ovpn.sh

net_setup 26 1
cat > "$T/state.yaml" <<YAML
version: 1
settings:
  host: 10.250.0.1
openvpn:
  port: 1194
  network: 10.9.0.0/24
  clients:
    - name: alice
      static_ip: 10.9.0.10
    - name: bob
YAML
cli import "$T/state.yaml" >/dev/null
apply_converged
client_up alice ato-26c1
wait_ping ato-26c1 10.9.0.1 30 || fail "alice cannot ping the server"
cli export --secrets > "$T/export.before"
cli ovpn config bob > "$T/bob.ovpn.before"
ok "server up, alice connected"

cli backup "$T/b.atlas-backup" > "$T/backup.out" || fail "atlas backup"
cat "$T/backup.out"
[ "$(stat -c %a "$T/b.atlas-backup")" = 600 ] || fail "the backup is not 0600"
cli restore --check "$T/b.atlas-backup" >/dev/null || fail "restore --check of a good backup"
ok "backup written 0600 and checks"

# Bad archives: refused with a message; neither the target nor the data
# directory changes.
size=$(stat -c %s "$T/b.atlas-backup")
head -c $((size - 1)) "$T/b.atlas-backup" > "$T/trunc.atlas-backup"
head -c $((size / 2)) "$T/b.atlas-backup" > "$T/half.atlas-backup"
cp "$T/b.atlas-backup" "$T/edit.atlas-backup"
# One byte inside the database member (past the header and manifest).
printf 'Z' | dd of="$T/edit.atlas-backup" bs=1 seek=$((size / 3)) conv=notrunc 2>/dev/null
cmp -s "$T/b.atlas-backup" "$T/edit.atlas-backup" && fail "the edit changed nothing"
snap() { (cd "$D" && find . -path ./run -prune -o -type f -print0 | sort -z | xargs -0 sha256sum); }
snap > "$T/snap.before"
for bad in trunc half edit; do
  set +e
  "$ATLAS" --data "$T/never" restore "$T/$bad.atlas-backup" > "$T/r.out" 2> "$T/r.err"; rc=$?
  srv restore --force "$T/$bad.atlas-backup" > "$T/r2.out" 2> "$T/r2.err"; rc2=$?
  set -e
  [ $rc = 1 ] && [ $rc2 = 1 ] || fail "$bad archive: exit $rc/$rc2, want 1"
  grep_q 'atlas restore: backup ".*": \(truncated\|checksum mismatch\)' "$T/r.err" || fail "$bad: $(cat "$T/r.err")"
  [ ! -e "$T/never" ] || fail "$bad archive created the target directory"
  echo "  $bad: $(cat "$T/r.err")"
done
snap > "$T/snap.after"
cmp -s "$T/snap.before" "$T/snap.after" || fail "a refused restore changed the data directory"
[ ! -d "$D/backups" ] || fail "a refused restore left a backup behind"
set +e; srv restore "$T/b.atlas-backup" 2> "$T/r.err"; rc=$?; set -e
[ $rc = 1 ] && grep_q 'is not empty' "$T/r.err" || fail "restore into a used directory without --force: $rc $(cat "$T/r.err")"
ok "truncated and edited archives, and a used directory without --force, are refused; nothing changed"

# Same host, same directory: the plan is empty right away and alice stays.
pid=$(server_pid)
cli ovpn client add carol >/dev/null # a change after the backup, undone by the restore
srv restore --force "$T/b.atlas-backup" > "$T/force.out" || fail "restore --force"
cat "$T/force.out"
saved=$(sed -n 's/^the replaced data directory was saved in //p' "$T/force.out")
[ -f "$saved" ] || fail "no backup of the replaced directory"
"$ATLAS" --data "$T/check" restore "$saved" >/dev/null && "$ATLAS" --data "$T/check" export | grep_q 'name: carol' ||
  fail "the saved copy of the replaced directory lacks carol"
[ "$(plan_rc)" = 0 ] || { cat "$T/plan.out"; fail "plan after restore --force on the same host is not empty"; }
[ "$(server_pid)" = "$pid" ] || fail "the server was restarted"
wait_ping ato-26c1 10.9.0.1 10 || fail "alice lost the tunnel"
cli export --secrets | cmp -s - "$T/export.before" || fail "export differs after restore --force"
ok "restore --force on the same host: plan empty, server $pid untouched, carol gone, old directory saved"

# A new host: nothing running, restore into a fresh directory.
kill_ours "$T"
sleep 0.5
D2=$T/data2
"$ATLAS" --data "$D2" restore "$T/b.atlas-backup" || fail "restore into a fresh directory"
[ "$(stat -c %a "$D2")" = 700 ] || fail "restored data directory is not 0700"
[ "$(stat -c %a "$D2/pki/ca.key")" = 600 ] || fail "restored ca.key is not 0600"
"$ATLAS" --data "$D2" export --secrets | cmp - "$T/export.before" || fail "export --secrets differs"
"$ATLAS" --data "$D2" ovpn config bob | cmp - "$T/bob.ovpn.before" || fail "bob's .ovpn differs"
ok "fresh directory: export --secrets and bob's .ovpn byte-identical"
D=$D2
apply_converged
client_up_old() { # the profile downloaded before the backup, not a new one
  ip netns exec ato-26c1 openvpn --config "$T/alice.ovpn" --writepid "$T/alice2.pid" \
    --log "$T/alice2.log" --connect-retry 1 1 --daemon || fail "openvpn client alice"
}
client_up_old
wait_ping ato-26c1 10.9.0.1 30 || fail "alice's old profile does not connect to the restored server"
[ "$(tun_addr ato-26c1)" = 10.9.0.10 ] || fail "alice has $(tun_addr ato-26c1), not 10.9.0.10"
[ "$(plan_rc)" = 0 ] || { cat "$T/plan.out"; fail "plan not empty"; }
ok "restored server: alice connects with her old profile at 10.9.0.10; plan empty"
