#!/usr/bin/env bash
# The command-line contract of issue 2: validate/import/export/plan/apply/
# history exit codes and messages, all-or-nothing imports, refusals.
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d /tmp/atlas-e2e-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
A() { "$ATLAS_BIN" --data "$T/data" "$@"; }

cat > "$T/good.yaml" <<'Y'
version: 1
settings:
  host: vpn.example.com
singbox:
  inbounds: []
Y
# Two bad peers, after bad settings (bad.yaml) and after good ones (bad2.yaml).
bad_peers() {
  cat <<'Y'
wireguard:
  interfaces:
    - name: wg0
      listen_port: 51820
      address: [10.8.0.1/24]
      peers:
        - name: alice
          address: [10.8.0.300/32]
        - name: alice
Y
}
{ printf 'version: 1\nsettings:\n  hots: x\n  resync: never\n'; bad_peers; } > "$T/bad.yaml"

for c in validate import export plan apply history; do
  out=$(A $c --help) || fail "$c --help exits non-zero"
  grep -q "^usage: atlas $c\( \|$\)" <<<"$out" || fail "$c --help: no usage line for $c: $out"
done
# version has no options: --help prints the version, nothing else.
[ "$(A version --help)" = "$(A version)" ] && A version | grep -qE '^atlas [0-9]+\.[0-9]+\.[0-9]+$' || fail "version --help"
ok "--help on every command: its own usage line"

# Reading commands in a directory without a database (the wrong directory,
# a forgotten --data) say so and make nothing: no empty export, no all-clear.
for c in export plan history "wg config alice" "ovpn config bob"; do
  expect_rc 1 A $c > "$T/out" 2> "$T/err"
  grep_q "no desired state in $T/data (no atlas.db there)" "$T/err" || { cat "$T/err"; fail "$c without a database: $(cat "$T/err")"; }
  [ ! -s "$T/out" ] || fail "$c without a database printed: $(cat "$T/out")"
  [ ! -e "$T/data" ] || fail "$c without a database made $T/data"
done
# a bad listen address is refused before serve makes anything
for l in localhost:19080 19080 127.0.0.1:0; do
  expect_rc 1 A serve --listen "$l" > "$T/out" 2> "$T/err"
  grep_q "atlas serve: --listen: listen address \"$l\"" "$T/err" || fail "serve --listen $l: $(cat "$T/err")"
  [ ! -e "$T/data" ] || fail "serve --listen $l made $(ls "$T/data")"
done
ok "export, plan, history and client configs without a database: an error naming the directory, nothing made; nor by serve with a bad --listen"

expect_rc 0 A validate "$T/good.yaml"
expect_rc 1 A validate "$T/bad.yaml" 2> "$T/err"
grep -q "^$T/bad.yaml:3:3: settings: unknown key \"hots\"$" "$T/err" || { cat "$T/err"; fail "unknown key message"; }
grep -q "^$T/bad.yaml:4:11: settings: resync: \"never\" is not an integer$" "$T/err" || { cat "$T/err"; fail "type message"; }
ok "validate reports every error with FILE:LINE:COL"

{ printf 'version: 1\nsettings: {}\n'; bad_peers; } > "$T/bad2.yaml"
expect_rc 1 A validate "$T/bad2.yaml" 2> "$T/err"
grep -q "bad2.yaml:10:21: wireguard interface \"wg0\": peer \"alice\": address \"10.8.0.300/32\" is not an IPv4 or IPv6 prefix" "$T/err" || { cat "$T/err"; fail "semantic message"; }
grep -q "bad2.yaml:11:17: .*peer name \"alice\" is used twice" "$T/err" || { cat "$T/err"; fail "duplicate message"; }
ok "semantic errors carry positions too"

expect_rc 0 A import "$T/good.yaml" > /dev/null
A export > "$T/before.yaml"
for f in bad.yaml bad2.yaml; do expect_rc 1 A import "$T/$f" 2>/dev/null; done
head -c 3000 /dev/urandom > "$T/binary.yaml"; expect_rc 1 A import "$T/binary.yaml" 2>/dev/null
printf 'version: 1\nwireguard:\n  interfaces: [{name: wg0, listen_port: 5' > "$T/trunc.yaml"; expect_rc 1 A import "$T/trunc.yaml" 2>/dev/null
head -c $((17*1024*1024)) /dev/zero | tr '\0' 'a' > "$T/huge.yaml"; expect_rc 1 A import "$T/huge.yaml" 2> "$T/err"
grep -q "larger than" "$T/err" || fail "huge file message"
printf 'version: 1\nversion: 1\n' > "$T/dup.yaml"; expect_rc 1 A import "$T/dup.yaml" 2> "$T/err"
grep -q 'dup.yaml:2:1: duplicate key "version"' "$T/err" || fail "duplicate key message"
A export > "$T/after.yaml"
cmp "$T/before.yaml" "$T/after.yaml" || fail "a failed import changed the store"
[ "$(A history | grep -c import)" = 1 ] || fail "failed imports must not create generations"
ok "bad imports exit 1 and change nothing"

A export > "$T/e1.yaml"; A import "$T/e1.yaml" >/dev/null; A export > "$T/e2.yaml"
cmp "$T/e1.yaml" "$T/e2.yaml" || fail "export/import/export not byte-identical"
ok "export round-trips"

expect_rc 0 A plan > "$T/plan"
grep -q "singbox: no changes" "$T/plan" || fail "plan must say singbox has no changes (no inbounds: no daemon)"
grep -q "wireguard: not managed" "$T/plan" || fail "plan must say wireguard is not managed"
A plan --json | grep_q '"changes": 0' || fail "plan --json"
expect_rc 0 A plan -f "$T/good.yaml" >/dev/null
expect_rc 1 A plan -f "$T/bad.yaml" 2>/dev/null
expect_rc 0 A apply >/dev/null
A history | grep_q "gen 1 .*cli .*ok" || { A history; fail "apply run not recorded"; }
ok "plan/apply exit codes and history"

expect_rc 1 A frobnicate 2>/dev/null
expect_rc 1 A export --bogus 2>/dev/null
expect_rc 1 "$ATLAS_BIN" --data 2> "$T/err"
grep -q 'atlas: --data needs a directory' "$T/err" || { cat "$T/err"; fail "--data without a value"; }
expect_rc 1 A history -n abc 2> "$T/err"
grep -q 'atlas history: -n "abc" is not a number' "$T/err" || { cat "$T/err"; fail "history -n abc"; }
ok "unknown commands and arguments exit 1"

mkdir -p "$T/ro"; touch "$T/ro/file"
# a command that writes cannot create the directory; one that only reads has nothing to read
expect_rc 1 "$ATLAS_BIN" --data "$T/ro/file/sub" import "$T/good.yaml" 2> "$T/err"
grep -q 'cannot create directory' "$T/err" || fail "unwritable data dir message"
expect_rc 1 "$ATLAS_BIN" --data "$T/ro/file/sub" export 2> "$T/err"
grep -q 'no desired state in' "$T/err" || fail "export of a missing data dir: $(cat "$T/err")"
sqlite3 "$T/data/atlas.db" 'PRAGMA user_version = 99'
expect_rc 1 A export 2> "$T/err"
grep -q 'newer than this atlas knows' "$T/err" || fail "newer database message"
ok "unwritable data directory and newer database are refused"

# --- a migration under a running older server, and a check that migrates nothing
# A database of schema 3 (the fixture of tests/unit/test_migrate.c); an older
# atlas serve holds DATA/serve.lock (a process holding the lock with its pid
# in it, as serve does). Before, any command of the newer binary migrated the
# database under it, and the old server's next start was refused.
M=$T/mig; mkdir -m 700 "$M"; cp tests/unit/fixtures/schema3/atlas.db "$M/"
v() { sqlite3 "$M/atlas.db" 'PRAGMA user_version'; }
want=$(v)
exec 9> "$M/serve.lock"
flock -x 9
sleep 60 & holder=$!
echo $holder >&9
"$ATLAS_BIN" --data "$M" doctor > "$T/doc.out" 2>&1 || true
grep -q 'WARN database.*schema version 3 and needs a migration' "$T/doc.out" ||
  fail "doctor does not tell the pending migration: $(grep -i database "$T/doc.out")"
set +e; "$ATLAS_BIN" --data "$M" export > /dev/null 2> "$T/mig.err"; rc=$?; set -e
[ $rc = 1 ] && grep -q "has schema version 3 and this atlas would migrate it to .*, but atlas serve (pid $holder) runs on it with an older atlas: stop it first" "$T/mig.err" ||
  fail "export under a running older serve: rc $rc, $(cat "$T/mig.err")"
[ "$(v)" = "$want" ] && [ ! -d "$M/backups" ] || fail "the database was migrated (schema $(v)) or backed up under a running server"
kill $holder; wait $holder 2>/dev/null || true
exec 9>&-
"$ATLAS_BIN" --data "$M" export > /dev/null 2> "$T/mig.err" || fail "export once the server stopped: $(cat "$T/mig.err")"
[ "$(v)" -gt "$want" ] && ls "$M"/backups/pre-migration-*.atlas-backup > /dev/null ||
  fail "no migration (schema $(v)) or no backup once the server stopped"
ok "doctor only tells a pending migration; no command migrates under a running older atlas serve (names its pid); once it stopped, the migration backs up first"
