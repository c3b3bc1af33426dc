#!/usr/bin/env bash
# First-load transfer of the panel: starts `atlas serve` on a throwaway data
# directory (port 18113), fetches / and every file index.html loads, as a
# browser would (Accept-Encoding: gzip), and prints the bytes on the wire
# next to what the same requests cost without compression, and what a
# reload costs when every file is revalidated with its ETag (304s).
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
total=0; totalid=0; total304=0
printf '%-24s %9s %9s %9s %s\n' path identity gzip headers encoding
for p in "${paths[@]}"; do
  u="http://127.0.0.1:$PORT$p"
  read -r body hdr enc etag < <(curl -s -o /dev/null -H 'Accept-Encoding: gzip' \
    -w '%{size_download} %{size_header} %header{content-encoding} %header{etag}\n' "$u")
  read -r idbody idhdr < <(curl -s -o /dev/null -w '%{size_download} %{size_header}\n' "$u")
  read -r nmbody nmhdr < <(curl -s -o /dev/null -H 'Accept-Encoding: gzip' -H "If-None-Match: $etag" \
    -w '%{size_download} %{size_header}\n' "$u")
  printf '%-24s %9d %9d %9d %s\n' "$p" "$idbody" "$body" "$hdr" "${enc:--}"
  total=$((total + body + hdr)); totalid=$((totalid + idbody + idhdr)); total304=$((total304 + nmbody + nmhdr))
done
echo "ui first load: ${total} bytes transferred with gzip (bodies + headers, ${#paths[@]} requests); ${totalid} bytes without compression; reload with ETags (304): ${total304} bytes"
