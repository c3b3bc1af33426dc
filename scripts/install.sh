#!/usr/bin/env bash
# Installs Atlas on a Debian 12 / Ubuntu 22.04 server: packages, the binary
# in /usr/local/bin, the data directory /var/lib/atlas (0700) and the systemd
# unit. Run from a checkout as root. The first start prints the admin password
# once: read it with `journalctl -u atlas | grep password`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "install: run as root" >&2; exit 1; }
ATLAS_DEPS_BROWSER=0 bash scripts/deps.sh
make -j"$(nproc)"
install -m 0755 build/atlas /usr/local/bin/atlas
install -d -m 0700 /var/lib/atlas
install -m 0644 scripts/atlas.service /etc/systemd/system/atlas.service
systemctl daemon-reload
systemctl enable --now atlas
echo "atlas installed: http://127.0.0.1:8080 (use an SSH tunnel or a reverse proxy with TLS)"
