# Shared helpers for the API end-to-end tests (sourced after lib.sh).
#
# api_start DATADIR PORT [serve args...] starts `atlas serve` in the
# background (in namespace $API_NS when set), waits for /health, and sets
# API_PID, API_URL, API_PW (the first-start password) and API_TOKEN.
# api_stop ends it. api CURL-ARGS... calls the API with the token;
# api_code prints only the HTTP status of a call.
need curl jq openssl
API_PID=
api_run() { if [ -n "${API_NS:-}" ]; then ip netns exec "$API_NS" "$@"; else "$@"; fi; }
api_start() {
  local data=$1 port=$2; shift 2
  API_URL=http://127.0.0.1:$port
  # Not through a shell function: $! must be atlas itself (ip netns exec execs).
  if [ -n "${API_NS:-}" ]; then
    ip netns exec "$API_NS" "$ATLAS_BIN" --data "$data" serve --listen 127.0.0.1:$port "$@" \
      > "$data.out" 2>> "$data.log" &
  else
    "$ATLAS_BIN" --data "$data" serve --listen 127.0.0.1:$port "$@" > "$data.out" 2>> "$data.log" &
  fi
  API_PID=$!
  local i
  for i in $(seq 1 100); do
    kill -0 $API_PID 2>/dev/null || { cat "$data.log" >&2; fail "atlas serve exited"; }
    api_run curl -fsS "$API_URL/api/v1/health" >/dev/null 2>&1 && break
    kill -0 $API_PID 2>/dev/null || { cat "$data.log" >&2; fail "atlas serve exited"; }
    sleep 0.05
  done
  API_PW=$(sed -n 's/.*created user "admin" with password \([^ ]*\)$/\1/p' "$data.out")
  [ -n "$API_PW" ] || API_PW=${API_PW_KNOWN:-}
  [ -n "$API_PW" ] || fail "no first-start password printed"
  API_TOKEN=$(api_login "$API_PW") || fail "login with the first-start password failed"
}
api_login() {
  api_run curl -fsS -X POST "$API_URL/api/v1/auth/login" \
    -d "{\"username\":\"admin\",\"password\":\"$1\"}" | jq -er .token
}
api_stop() {
  [ -n "$API_PID" ] || return 0
  kill "$API_PID" 2>/dev/null || true
  wait "$API_PID" 2>/dev/null || true
  API_PID=
}
api() { api_run curl -sS -H "Authorization: Bearer $API_TOKEN" "$@"; }
api_code() { api_run curl -sS -o /dev/null -w '%{http_code}' "$@"; }
# Every "METHOD PATH" of docs/openapi.yaml (test_openapi checks it equals the router table).
api_routes() {
  awk '/^paths:/ { p = 1; next }
       p && /^  \/[^ ]*:$/ { path = $1; sub(/:$/, "", path); next }
       p && /^    (get|post|put|patch|delete):$/ { m = $1; sub(/:$/, "", m); print toupper(m), path }
       p && /^[^ ]/ { p = 0 }' "$(dirname "$0")/../../docs/openapi.yaml"
}
# An HS256 token signed with the key in DATADIR/jwt.key: jwt_forge DATADIR JSON-CLAIMS
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
jwt_forge() {
  local key h p s
  key=$(od -An -v -tx1 "$1/jwt.key" | tr -d ' \n')
  h=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
  p=$(printf '%s' "$2" | b64url)
  s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary | b64url)
  printf '%s.%s.%s' "$h" "$p" "$s"
}
