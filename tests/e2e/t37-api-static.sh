#!/usr/bin/env bash
# The panel's files as a browser gets them: gzip when Accept-Encoding takes
# it (the same bytes once decompressed), identity otherwise (and for
# "gzip;q=0"), Vary and an ETag on both, 304 on If-None-Match; security
# headers on every answer (CSP on HTML; nosniff and no-referrer on files,
# JSON, errors and the SSE stream). `atlas serve` with an empty state in a
# namespace of its own: atm-s37, port 18122.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
need ip curl gzip
NS=atm-s37
api_ns_test $NS api-static
api_start "$T/data" 18122
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CSP="default-src 'none'; script-src 'self' 'unsafe-eval'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
get() { api_run curl -sS -D "$T/h" -o "$T/b" "$@"; tr -d '\r' < "$T/h" > "$T/hdr"; }
hdr() { sed -n "s/^$1: //Ip" "$T/hdr"; }

get -H 'Accept-Encoding: gzip, deflate, br' "$API_URL/"
[ "$(hdr Content-Encoding)" = gzip ] || fail "no gzip for /: $(cat "$T/hdr")"
gzip -dc "$T/b" | cmp -s - "$ROOT/ui/index.html" || fail "gzip body of / is not ui/index.html"
[ "$(hdr Vary)" = Accept-Encoding ] || fail "Vary"
[ "$(hdr Content-Security-Policy)" = "$CSP" ] || fail "CSP of /: $(hdr Content-Security-Policy)"
[ "$(hdr X-Content-Type-Options)" = nosniff ] && [ "$(hdr Referrer-Policy)" = no-referrer ] || fail "security headers of /"
etag_gz=$(hdr ETag)
get "$API_URL/index.html"
[ -z "$(hdr Content-Encoding)" ] || fail "gzip sent to a client that did not ask"
cmp -s "$T/b" "$ROOT/ui/index.html" || fail "identity body of /index.html"
etag=$(hdr ETag)
[[ "$etag" =~ ^\"[0-9a-f]{20}\"$ ]] && [ "$etag_gz" != "$etag" ] || fail "ETags: $etag / $etag_gz"
get -H 'Accept-Encoding: gzip;q=0, identity' "$API_URL/"
[ -z "$(hdr Content-Encoding)" ] || fail "gzip;q=0 got gzip"
ok "/: gzip when accepted (same bytes), identity otherwise; Vary, distinct ETags, CSP"

rm -f "$T/b"
code=$(api_run curl -sS -o "$T/b" -w '%{http_code}' -H 'Accept-Encoding: gzip' -H "If-None-Match: $etag_gz" "$API_URL/")
[ "$code" = 304 ] && [ ! -s "$T/b" ] || fail "If-None-Match: $code, $(wc -c < "$T/b") bytes"
code=$(api_run curl -sS -o /dev/null -w '%{http_code}' -H 'Accept-Encoding: gzip' -H "If-None-Match: $etag" "$API_URL/")
[ "$code" = 200 ] || fail "the identity ETag revalidated the gzip variant: $code"
ok "If-None-Match with the ETag: 304 and no body; another variant's ETag: 200"

plain=0; wire=0; files=0
for p in $(grep -oE '(href|src)="/[^"]+"' "$ROOT/ui/index.html" | sed -E 's/.*="([^"]+)"/\1/'); do
  get -H 'Accept-Encoding: gzip' "$API_URL$p"
  [ "$(hdr Content-Encoding)" = gzip ] || fail "$p not compressed"
  gzip -dc "$T/b" | cmp -s - "$ROOT/ui$p" || fail "$p: gzip body differs from ui$p"
  [ "$(hdr X-Content-Type-Options)" = nosniff ] || fail "$p: nosniff"
  [ -z "$(hdr Content-Security-Policy)" ] || fail "$p: CSP on a non-HTML file"
  grep -qi '^Cache-Control: public, max-age=' "$T/hdr" || fail "$p: cache"
  plain=$((plain + $(wc -c < "$ROOT/ui$p"))); wire=$((wire + $(wc -c < "$T/b"))); files=$((files + 1))
done
# index.html loads app.css, core.js and the other modules, alpine: a loop over nothing proves nothing.
[ $files -ge 4 ] || fail "only $files files found in index.html"
ok "every file index.html loads ($files) is sent gzip: $wire bytes for $plain"

for u in /api/v1/health /api/v1/status /nope /api/v1/nope; do
  get "$API_URL$u"
  [ "$(hdr X-Content-Type-Options)" = nosniff ] && [ "$(hdr Referrer-Policy)" = no-referrer ] ||
    fail "security headers of $u: $(cat "$T/hdr")"
done
api_run curl -sS -N --max-time 1 -D "$T/h" -o /dev/null -H "Authorization: Bearer $API_TOKEN" "$API_URL/api/v1/events" || true
tr -d '\r' < "$T/h" > "$T/hdr"
grep -qi '^Content-Type: text/event-stream' "$T/hdr" || fail "events: $(cat "$T/hdr")"
[ "$(hdr X-Content-Type-Options)" = nosniff ] && [ "$(hdr Referrer-Policy)" = no-referrer ] || fail "security headers of /events"
ok "nosniff and no-referrer on JSON, 404s and the SSE stream"
