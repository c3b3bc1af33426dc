#!/usr/bin/env bash
# scripts/install.sh into a test root (DESTDIR): the second run changes
# nothing (same files, bytes, modes and times), an edited /etc/default/atlas
# is kept, the data directory is 0700; `systemd-analyze verify` accepts the
# installed unit with its binary in place (a private mount namespace puts
# the test root's /usr/local/bin there) and finds a broken copy; the unit's
# exposure (`systemd-analyze security --offline`) stays at 5.0 or under.
. "$(dirname "$0")/lib.sh"
need systemd-analyze unshare cmp
cd "$(dirname "$0")/../.."
[ -x build/atlas ] || fail "build/atlas is missing"
T=$(mktemp -d /tmp/atlas-e2e-install.XXXXXX)
trap 'rm -rf "$T"' EXIT
R=$T/root
listing() { (cd "$R" && find . -printf '%p %y %m %s %T@\n' | sort; find . -type f -print0 | sort -z | xargs -0 sha256sum); }

DESTDIR=$R bash scripts/install.sh --no-build > "$T/run1.out" || fail "first install"
listing > "$T/l1"
sleep 1.1 # a rewrite would show in the times
DESTDIR=$R bash scripts/install.sh --no-build > "$T/run2.out" || fail "second install"
listing > "$T/l2"
diff "$T/l1" "$T/l2" || fail "the second run changed files"
grep_q 'everything is already in place' "$T/run2.out" || fail "second run: $(cat "$T/run2.out")"
cmp -s build/atlas "$R/usr/local/bin/atlas" || fail "binary not installed"
[ "$(stat -c %a "$R/usr/local/bin/atlas")" = 755 ] || fail "binary mode"
[ "$(stat -c %a "$R/var/lib/atlas")" = 700 ] || fail "data directory is not 0700"
grep_q '^ATLAS_LISTEN=0.0.0.0:8443$' "$R/etc/default/atlas" || fail "default listen"
ok "install twice: identical files ($(grep -c . "$T/l1") lines of listing), data dir 0700"

# The admin's settings survive a re-install; a changed binary is replaced.
sed -i 's/^ATLAS_LISTEN=.*/ATLAS_LISTEN=203.0.113.7:443/' "$R/etc/default/atlas"
printf 'x' >> "$R/usr/local/bin/atlas"
DESTDIR=$R bash scripts/install.sh --no-build --listen 0.0.0.0:9999 > "$T/run3.out" || fail "third install"
grep_q '^ATLAS_LISTEN=203.0.113.7:443$' "$R/etc/default/atlas" || fail "the admin's settings were overwritten"
cmp -s build/atlas "$R/usr/local/bin/atlas" || fail "a changed binary was not replaced"
grep_q 'wrote /usr/local/bin/atlas' "$T/run3.out" || fail "run 3 did not say what it wrote"
grep_q 'panel: https://203.0.113.7:443' "$T/run3.out" || fail "run 3 does not say how to reach the panel"
expect_rc 1 env DESTDIR=$R bash scripts/install.sh --no-build --listen 'x;rm -rf /' 2>/dev/null
ok "settings kept, changed binary replaced, the panel's URL printed, a bad --listen refused"

# systemd-analyze verify on the installed unit, its ExecStart present.
U=$R/etc/systemd/system/atlas.service
verify() { unshare -m --propagation private bash -c 'mount --bind "$1/usr/local/bin" /usr/local/bin && shift && exec "$@"' _ "$R" "$@"; }
out=$(verify systemd-analyze verify "$U" 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify complained: $out"
sed 's/^ProtectSystem=strict/ProtectSystem=stric/' "$U" > "$T/atlas.service"
out=$(verify systemd-analyze verify "$T/atlas.service" 2>&1) || true
[ -n "$out" ] || fail "verify did not notice a broken unit"
for d in NoNewPrivileges=yes ProtectSystem=strict ReadWritePaths=/var/lib/atlas ProtectHome=yes PrivateTmp=yes \
  CapabilityBoundingSet=CAP_NET_ADMIN RestrictAddressFamilies=AF_UNIX SystemCallFilter=@system-service; do
  grep_q "^$d" "$U" || fail "the unit lacks $d"
done
out=$(verify systemd-analyze security --offline=yes --threshold=50 "$U" 2>&1) || fail "exposure above 5: $(tail -1 <<<"$out")"
ok "systemd-analyze verify accepts the unit (and flags a broken copy); $(tail -1 <<<"$out" | sed 's/^→ //')"
