#!/usr/bin/env bash
# First-load transfer of the panel: starts `atlas serve` on a throwaway data
# directory (port 18113), fetches / and every file index.html loads, as a
# browser would (Accept-Encoding: gzip), and prints the bytes on the wire,
# next to what gzip -9 of the same files would weigh.
set -u
cd "$(dirname "$0")/.." || exit 1
ATLAS=${ATLAS_BIN:-build/atlas}
PORT=18113
d=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$d"' EXIT
"$ATLAS" --data "$d" serve --listen 127.0.0.1:$PORT >"$d/log" 2>&1 &
pid=$!
for _ in $(seq 50); do curl -sf http://127.0.0.1:$PORT/api/v1/health >/dev/null && break; sleep 0.1; done
paths=(/ $(grep -oE '(href|src)="/[^"]+"' ui/index.html | sed -E 's/.*="([^"]+)"/\1/'))
total=0; totalgz=0
printf '%-24s %9s %9s %9s %s\n' path body headers gzip-9 encoding
for p in "${paths[@]}"; do
  read -r body hdr enc < <(curl -s -o /dev/null -H 'Accept-Encoding: gzip' \
    -w '%{size_download} %{size_header} %header{content-encoding}\n' "http://127.0.0.1:$PORT$p")
  f=ui${p}; [ "$p" = / ] && f=ui/index.html
  gz=$(gzip -9c "$f" | wc -c)
  printf '%-24s %9d %9d %9d %s\n' "$p" "$body" "$hdr" "$gz" "${enc:--}"
  total=$((total + body + hdr)); totalgz=$((totalgz + gz))
done
echo "ui first load: ${total} bytes transferred (bodies + headers, ${#paths[@]} requests); gzip -9 of the same files: ${totalgz} bytes"
