#!/usr/bin/env bash
# Builds the sing-box the tests use, once per machine, into a cache folder
# that later runs reuse: v1.14.1 from its Go module, version-stamped (as
# release builds are: a stamped binary fails on options 1.14 removed), with
# the release tags that build here. Not with_v2ray_api (release builds lack
# it), not with_wireguard (a dependency is not served), not with_acme.
# Prints the binary's path on stdout; fails loudly when it cannot build it.
#   ATLAS_SINGBOX_CACHE  the cache folder (default /var/cache/atlas-test/sing-box-1.14.1)
set -euo pipefail
VERSION=1.14.1
TAGS=with_quic,with_utls,with_clash_api
CACHE=${ATLAS_SINGBOX_CACHE:-/var/cache/atlas-test/sing-box-$VERSION}
BIN=$CACHE/sing-box

good() { [ -x "$BIN" ] && "$BIN" version 2>/dev/null | head -1 | grep -qx "sing-box version $VERSION"; }

if good; then echo "$BIN"; exit 0; fi
GO=$(command -v go || true)
[ -z "$GO" ] && [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go
if [ -z "$GO" ]; then
  echo "singbox.sh: FAILED: no Go toolchain (go on PATH or /usr/local/go/bin/go) to build sing-box $VERSION" >&2
  exit 1
fi
mkdir -p "$CACHE"
# One build at a time on this machine; a second caller waits and reuses it.
exec 9>"$CACHE/.build.lock"
flock 9
if ! good; then
  echo "singbox.sh: building sing-box $VERSION ($TAGS) into $CACHE (a few minutes)" >&2
  rm -f "$BIN"
  GOBIN=$CACHE CGO_ENABLED=0 "$GO" install -trimpath \
    -ldflags "-s -w -X github.com/sagernet/sing-box/constant.Version=$VERSION" \
    -tags "$TAGS" "github.com/sagernet/sing-box/cmd/sing-box@v$VERSION" >&2 || {
    echo "singbox.sh: FAILED: go install of sing-box $VERSION failed" >&2; exit 1; }
  good || { echo "singbox.sh: FAILED: $BIN does not say 'sing-box version $VERSION'" >&2; exit 1; }
fi
echo "$BIN"
