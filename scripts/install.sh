#!/usr/bin/env bash
# Installs Atlas on a Debian 12 / Ubuntu 22.04+ server from a checkout: the
# binary (/usr/local/bin/atlas), the hardened systemd unit, its settings file
# /etc/default/atlas (made once, never overwritten), the data directory
# /var/lib/atlas (0700) and the docs. Running it again changes nothing that
# is already right (files are compared before they are written).
#
#   scripts/install.sh [--engines] [--listen ADDR:PORT] [--no-build]
#
# --engines      also install WireGuard, OpenVPN and nftables (apt)
# --listen A:P   the panel's address for a new /etc/default/atlas
#                (default 0.0.0.0:8443: HTTPS with a self-signed certificate)
# --no-build     install build/atlas as it is
# DESTDIR=/root  install under another root (packaging, tests): no packages,
#                no systemctl.
set -euo pipefail
cd "$(dirname "$0")/.."
engines=0 build=1 listen=0.0.0.0:8443
while [ $# -gt 0 ]; do
  case $1 in
    --engines) engines=1 ;;
    --no-build) build=0 ;;
    --listen) [ $# -ge 2 ] || { echo "install: --listen needs ADDR:PORT" >&2; exit 1; }; listen=$2; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "install: unknown argument \"$1\"" >&2; exit 1 ;;
  esac
  shift
done
[[ $listen =~ ^(\[[0-9a-fA-F:.]+\]|[0-9.]+):[0-9]+$ ]] || { echo "install: --listen \"$listen\" is not ADDR:PORT" >&2; exit 1; }
root=${DESTDIR:-}
if [ -z "$root" ]; then
  [ "$(id -u)" = 0 ] || { echo "install: run as root (or set DESTDIR)" >&2; exit 1; }
  ATLAS_DEPS_BROWSER=0 bash scripts/deps.sh
  if [ $engines = 1 ]; then
    missing=()
    for p in wireguard-tools openvpn nftables iproute2; do
      dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
  fi
fi
[ $build = 1 ] && make -j"$(nproc)" >/dev/null
[ -x build/atlas ] || { echo "install: build/atlas is missing (make)" >&2; exit 1; }

changed=()
# put MODE SRC DST: installs SRC as DST unless DST already has these bytes and mode.
put() {
  local mode=$1 src=$2 dst=$root$3
  if [ -f "$dst" ] && cmp -s "$src" "$dst" && [ "$(stat -c %a "$dst")" = "${mode#0}" ]; then return 0; fi
  install -D -m "$mode" "$src" "$dst"
  changed+=("$3")
}
dir() { # dir MODE PATH
  local p=$root$2
  if [ -d "$p" ] && [ "$(stat -c %a "$p")" = "${1#0}" ]; then return 0; fi
  install -d -m "$1" "$p"
  changed+=("$2/")
}
put 0755 build/atlas /usr/local/bin/atlas
put 0644 scripts/atlas.service /etc/systemd/system/atlas.service
put 0644 docs/deployment.md /usr/local/share/doc/atlas/deployment.md
dir 0700 /var/lib/atlas
dir 0755 /etc/openvpn/server
if [ ! -e "$root/etc/default/atlas" ]; then
  tmp=$(mktemp)
  cat > "$tmp" <<CONF
# Settings of atlas.service (read at start: systemctl restart atlas).
# ATLAS_LISTEN: the panel's address. Beyond loopback it serves HTTPS: with a
# self-signed certificate made on the first start (its fingerprint is in
# journalctl -u atlas), or the pair given in ATLAS_SERVE_ARGS.
ATLAS_LISTEN=$listen
# Further arguments of \`atlas serve\`, e.g. a certbot pair:
# ATLAS_SERVE_ARGS=--tls-cert /etc/letsencrypt/live/vpn.example.com/fullchain.pem --tls-key /etc/letsencrypt/live/vpn.example.com/privkey.pem
ATLAS_SERVE_ARGS=
CONF
  put 0644 "$tmp" /etc/default/atlas
  rm -f "$tmp"
fi

if [ ${#changed[@]} -eq 0 ]; then
  echo "install: everything is already in place"
else
  printf 'install: wrote %s\n' "${changed[@]}"
fi
if [ -z "$root" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  if [ ${#changed[@]} -gt 0 ] && systemctl is-active -q atlas; then systemctl restart atlas; fi
  systemctl enable -q --now atlas
fi
# How to reach the panel.
. "$root/etc/default/atlas"
host=${ATLAS_LISTEN%:*} port=${ATLAS_LISTEN##*:}
case $host in
  127.*|'[::1]') echo "panel: http://$ATLAS_LISTEN (loopback only: ssh -L $port:$ATLAS_LISTEN this-server)" ;;
  0.0.0.0|'[::]') echo "panel: https://THIS-SERVER-IP:$port (self-signed: compare the fingerprint)" ;;
  *) echo "panel: https://$host:$port (self-signed: compare the fingerprint)" ;;
esac
echo "first start: the admin password is in /var/lib/atlas/initial-admin-password (0600), the certificate fingerprint in: journalctl -u atlas | grep fingerprint"
echo "check the host: atlas doctor"
