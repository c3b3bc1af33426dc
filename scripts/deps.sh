#!/usr/bin/env bash
# Installs the Debian packages Atlas needs to build, run and be tested, when
# missing. apt-get update runs only when something must be installed.
set -euo pipefail
pkgs=(
  build-essential pkg-config
  libyaml-dev libsqlite3-dev libjansson-dev libmicrohttpd-dev libgnutls28-dev libssl-dev libcmocka-dev libqrencode-dev
  wireguard-tools wireguard-go openvpn nftables conntrack iproute2 iputils-ping easy-rsa
  inotify-tools wrk sqlite3 time clang libclang-rt-14-dev jq curl openssl
  zbar-tools librsvg2-bin systemd
  protobuf-c-compiler libprotobuf-c-dev libcurl4-openssl-dev libnghttp2-dev
  # atlas is not linked with libcurl: it loads libcurl.so.4 when it manages
  # sing-box, so the run-time library is named here, not only its headers
  libcurl4
)
[ "${ATLAS_DEPS_BROWSER:-1}" = 1 ] && pkgs+=(chromium)
# Node.js may come from elsewhere than Debian (it carries npm then): only
# install Debian's when no node/npm is on the machine.
command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then
    echo "deps: missing packages and not root: run 'sudo apt-get install -y ${missing[*]}'" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
