#!/usr/bin/env bash
# The systemd service mode, for real: systemd runs as PID 1 of its own PID,
# mount, network, UTS, IPC and cgroup namespaces, on an overlay of / (every
# write lands in a tmpfs that goes away with it), and Atlas runs inside.
# - auto detection picks systemd there (no ATLAS_SERVICE_MODE), and direct
#   mode outside (the other e2e tests);
# - apply starts OpenVPN as the unit openvpn-server@atlas pointed at Atlas's
#   server.conf; a client change leaves the unit's MainPID alone, a server
#   change restarts it; WireGuard's wireguard-go runs in a scope of its own;
# - scripts/atlas.service passes `systemd-analyze verify`, runs `atlas serve`,
#   and restarting it leaves the tunnels' daemons running.
# Files for the inside go in through stdin (SD tee): the overlay does not
# show what is written to / after it was mounted.
# Units that would touch what the namespaces do not isolate (udev, kernel
# modules, global sysctls, the clock, /dev nodes) are masked.
. "$(dirname "$0")/lib.sh"
need unshare nsenter chroot systemctl systemd-analyze openvpn wireguard-go curl jq
[ -x /lib/systemd/systemd ] || fail "missing /lib/systemd/systemd (apt-get install systemd)"
R=$(mktemp -d /tmp/atlas-e2e-systemd.XXXXXX)
ROOT=$R/root
SDPID=
cg_before=$R/cgroups.before
find /sys/fs/cgroup -mindepth 1 -type d 2>/dev/null | sort > "$cg_before"
cleanup() {
  # Killing PID 1 of the namespace ends everything in it.
  if [ -n "$SDPID" ]; then kill -9 "$SDPID" 2>/dev/null || true; fi
  if [ -n "${UNSHARE_PID:-}" ]; then wait "$UNSHARE_PID" 2>/dev/null || true; fi
  # systemd's cgroups of this run (removable once their processes are gone).
  local i left
  for i in $(seq 1 50); do
    left=$(find /sys/fs/cgroup -mindepth 1 -type d 2>/dev/null | sort | comm -13 "$cg_before" -)
    [ -z "$left" ] && break
    sort -r <<<"$left" | while read -r d; do rmdir "$d" 2>/dev/null || true; done
    sleep 0.1
  done
  [ -z "$left" ] || echo "cgroups left behind: $left" >&2
  rm -rf "$R"
  return 0
}
trap cleanup EXIT
mkdir -p "$ROOT" "$R/layer"

masked="systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket
  systemd-udev-trigger.service systemd-udev-settle.service systemd-sysctl.service
  systemd-modules-load.service systemd-binfmt.service proc-sys-fs-binfmt_misc.automount
  kmod-static-nodes.service systemd-tmpfiles-setup-dev.service
  systemd-tmpfiles-setup-dev-early.service systemd-timesyncd.service systemd-remount-fs.service
  systemd-hwdb-update.service systemd-random-seed.service getty.target console-getty.service
  systemd-firstboot.service cron.service apt-daily.timer apt-daily-upgrade.timer"
# shellcheck disable=SC2016
unshare --pid --fork --mount --net --uts --ipc --cgroup --propagation private bash -c '
  set -e
  R=$1 ROOT=$1/root BIN=$2; shift 2
  mount -t tmpfs tmpfs "$R/layer"
  mkdir -p "$R/layer/u" "$R/layer/w"
  mount -t overlay overlay -o "lowerdir=/,upperdir=$R/layer/u,workdir=$R/layer/w" "$ROOT"
  mount -t proc proc "$ROOT/proc"
  mount --rbind /sys "$ROOT/sys"
  mount --rbind /dev "$ROOT/dev"
  mount -t tmpfs tmpfs "$ROOT/run"
  # the build under test, at a path systemd-tmpfiles does not empty at boot
  # (the checkout may live under /tmp)
  mkdir -p "$ROOT/opt/atlas-under-test"
  mount --bind "$BIN" "$ROOT/opt/atlas-under-test"
  echo atlas-systemd-test > "$ROOT/etc/hostname"
  for u in "$@"; do ln -sf /dev/null "$ROOT/etc/systemd/system/$u"; done
  cd "$ROOT"
  exec chroot . env -i container=atlas-test PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    /lib/systemd/systemd --log-target=console --unit=basic.target
' _ "$R" "$(dirname "$ATLAS_BIN")" $masked > "$R/console.log" 2>&1 &
UNSHARE_PID=$!
# PID 1 of the namespace: unshare's child, once it has exec'd systemd.
sd_pid() {
  local c; c=$(cat "/proc/$UNSHARE_PID/task/$UNSHARE_PID/children" 2>/dev/null) || return 1
  c=${c%% *}; [ -n "$c" ] && [ "$(cat "/proc/$c/comm" 2>/dev/null)" = systemd ] && echo "$c"
}
SDPID=$(wait_for 20 sd_pid >/dev/null && sd_pid) || { cat "$R/console.log"; fail "systemd did not start"; }
# SD CMD...: runs CMD inside (namespaces, root and cwd of systemd).
SD() { nsenter -t "$SDPID" -a -r -w env -u ATLAS_SERVICE_MODE "$@"; }
booted() { local s; s=$(SD systemctl is-system-running 2>/dev/null); [ "$s" = running ] || [ "$s" = degraded ]; }
wait_for 60 booted >/dev/null || { tail -30 "$R/console.log"; fail "systemd did not finish booting: $(SD systemctl is-system-running 2>&1)"; }
SD test -d /run/systemd/system || fail "/run/systemd/system missing inside"
ok "systemd runs as PID 1 of its own namespaces ($(SD systemctl is-system-running 2>&1))"

D=/var/lib/atlas
ATLAS_IN=/opt/atlas-under-test/$(basename "$ATLAS_BIN")
A() { SD "$ATLAS_IN" --data "$D" "$@"; }
SD ip link set lo up
state() { # $1: dns, then client names
  local dns=$1; shift
  printf 'version: 1\nsettings:\n  host: 127.0.0.1\nwireguard:\n  interfaces:\n    - name: atwsrv17\n      listen_port: 51817\n      address: [10.66.17.1/24]\n      peers:\n        - name: wgpeer\nopenvpn:\n  port: 11917\n  network: 10.17.0.0/24\n  dns: [%s]\n  routes: [10.17.0.0/24]\n  clients:\n' "$dns"
  for c in "$@"; do printf '    - name: %s\n' "$c"; done
}
state 10.17.0.1 alice > "$R/state.yaml"
SD tee /tmp/state.yaml < "$R/state.yaml" > /dev/null
A import /tmp/state.yaml > /dev/null || fail "import"
A apply > "$R/apply" 2>&1 || { cat "$R/apply"; fail "apply under systemd"; }
unit=openvpn-server@atlas
[ "$(SD systemctl is-active $unit)" = active ] || fail "$unit is not active: $(SD systemctl status $unit --no-pager 2>&1 | tail -5)"
[ "$(SD cat /etc/openvpn/server/atlas.conf)" = "config $D/openvpn/server.conf" ] ||
  fail "/etc/openvpn/server/atlas.conf: $(SD cat /etc/openvpn/server/atlas.conf 2>&1)"
SD test ! -e "$D/run/openvpn.pid" || fail "a direct-mode pid file exists: auto did not pick systemd"
mainpid() { SD systemctl show -p MainPID --value $unit; }
pid0=$(mainpid)
[ "$pid0" -gt 0 ] || fail "no MainPID"
expect_rc 0 A plan
ok "auto picked systemd: apply started $unit (MainPID $pid0) on Atlas's server.conf; plan empty"

scope=atlas-wireguard-go-atwsrv17.scope
[ "$(SD systemctl is-active $scope)" = active ] || fail "wireguard-go not in its scope $scope"
present "atwsrv17" SD wg show interfaces || fail "interface atwsrv17 missing"
ok "wireguard-go runs in the scope $scope, outside any service's cgroup"

# A client change: the daemon keeps running (same MainPID).
A ovpn config alice > "$R/alice.ovpn" || fail "ovpn config alice"
SD tee /tmp/alice.ovpn < "$R/alice.ovpn" > /dev/null
state 10.17.0.1 alice bob > "$R/state.yaml"; SD tee /tmp/state.yaml < "$R/state.yaml" > /dev/null
A import /tmp/state.yaml > /dev/null
A apply > "$R/apply" 2>&1 || { cat "$R/apply"; fail "apply (bob)"; }
grep -q 'restart' "$R/apply" && { cat "$R/apply"; fail "a client change restarted the server"; }
[ "$(mainpid)" = "$pid0" ] || fail "MainPID changed on a client change: $pid0 -> $(mainpid)"
SD openvpn --config /tmp/alice.ovpn --dev atat17 --dev-type tun --log /tmp/alice.log --daemon --writepid /tmp/alice.pid ||
  fail "openvpn client"
alice_on() { A ovpn status | grep_q '^alice '; }
wait_for 30 alice_on >/dev/null || fail "alice not connected to the systemd-run server: $(SD tail -5 /tmp/alice.log)"
ok "client change: $unit keeps MainPID $pid0; alice connects to it"

# A server change: systemctl restart (a new MainPID).
state 10.17.0.2 alice bob > "$R/state.yaml"; SD tee /tmp/state.yaml < "$R/state.yaml" > /dev/null
A import /tmp/state.yaml > /dev/null
A apply > "$R/apply" 2>&1 || { cat "$R/apply"; fail "apply (dns)"; }
pid1=$(mainpid)
[ "$pid1" != "$pid0" ] && [ "$pid1" -gt 0 ] || fail "server change did not restart the unit: $pid0 -> $pid1"
[ "$(SD systemctl is-active $unit)" = active ] || fail "$unit not active after restart"
expect_rc 0 A plan
ok "server change: systemctl restart, MainPID $pid0 -> $pid1"

# scripts/atlas.service as shipped: verified, then run.
SD install -m 0755 "$ATLAS_IN" /usr/local/bin/atlas
SD tee /etc/systemd/system/atlas.service < "$(cd "$(dirname "$0")/../.." && pwd)/scripts/atlas.service" > /dev/null
SD chmod 0644 /etc/systemd/system/atlas.service
SD systemd-analyze verify /etc/systemd/system/atlas.service > "$R/verify" 2>&1 || { cat "$R/verify"; fail "systemd-analyze verify atlas.service"; }
grep -i 'atlas.service' "$R/verify" && fail "systemd-analyze warns about atlas.service"
SD systemctl daemon-reload
SD systemctl start atlas.service || fail "systemctl start atlas: $(SD journalctl -u atlas --no-pager 2>&1 | tail -5)"
health() { SD curl -fsS http://127.0.0.1:8080/api/v1/health > /dev/null; }
wait_for 30 health >/dev/null || fail "atlas.service does not answer: $(SD journalctl -u atlas --no-pager 2>&1 | tail -8)"
apid0=$(SD systemctl show -p MainPID --value atlas.service)
wg0=$(SD systemctl show -p ControlGroup --value $scope)
SD systemctl restart atlas.service || fail "systemctl restart atlas"
wait_for 30 health >/dev/null || fail "atlas.service does not answer after restart"
apid1=$(SD systemctl show -p MainPID --value atlas.service)
[ "$apid1" != "$apid0" ] || fail "atlas.service did not restart"
[ "$(SD systemctl is-active $scope)" = active ] || fail "restarting atlas.service ended wireguard-go"
[ "$(SD systemctl show -p ControlGroup --value $scope)" = "$wg0" ] || fail "the wireguard-go scope changed"
[ "$(mainpid)" = "$pid1" ] || fail "restarting atlas.service restarted openvpn: $pid1 -> $(mainpid)"
present atwsrv17 SD wg show interfaces || fail "the interface went away with atlas.service's restart"
ok "atlas.service verified and running; its restart ($apid0 -> $apid1) leaves openvpn ($pid1) and wireguard-go running"
