#!/usr/bin/env bash
# API authentication: every route without a token, with a forged token, an
# expired one and one from before a password change answers 401 (except
# /health, /auth/login and /metrics); the first-start password is printed
# once; failed logins slow down (429 with Retry-After) without keeping out
# the right password from a known browser; /metrics honours ATLAS_METRICS_TOKEN.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
T=$(mktemp -d /tmp/atlas-e2e-api-auth.XXXXXX)
SCRIPT_PID=
# ends the script(1) of the terminal check and the atlas under it (its child)
tty_stop() {
  [ -n "$SCRIPT_PID" ] || return 0
  local c; c=$(ps -o pid= --ppid "$SCRIPT_PID" 2>/dev/null)
  [ -n "$c" ] && kill $c 2>/dev/null
  kill "$SCRIPT_PID" 2>/dev/null; wait "$SCRIPT_PID" 2>/dev/null; SCRIPT_PID=
  return 0
}
trap 'tty_stop; api_stop; rm -rf "$T"' EXIT
PORT=18080
ATLAS_METRICS_TOKEN=metrics-secret-1 api_start "$T/data" $PORT
# issue 16.12: the password goes to a 0600 file, not to stdout (no terminal here)
[ "$(stat -c %a "$T/data/initial-admin-password")" = 600 ] || fail "initial-admin-password is not 0600"
grep -qF -- "$API_PW" "$T/data.out" "$T/data.log" && fail "the first-start password reached stdout or stderr (a journal)"
grep -q "password is in $T/data/initial-admin-password" "$T/data.out" || fail "the first start does not say where the password is: $(cat "$T/data.out")"
grep -q "panel: http://127.0.0.1:$PORT/ - sign in as admin" "$T/data.out" || fail "the first start does not give the URL and the user"
ok "first start wrote the password to a 0600 file, said where, gave URL and user; it logs in"
# issue 15.8: URL, user and how to get the password come together (three lines in a row)
sed -n '/first start: created user "admin"/,+2p' "$T/data.out" > "$T/first"
[ "$(wc -l < "$T/first")" = 3 ] &&
  sed -n 1p "$T/first" | grep -qF "user \"admin\"; its password is in $T/data/initial-admin-password (mode 0600)" &&
  sed -n 2p "$T/first" | grep -qF "panel: http://127.0.0.1:$PORT/ - sign in as admin" &&
  sed -n 3p "$T/first" | grep -qF "stdout is no terminal) read it with: cat $T/data/initial-admin-password" ||
  fail "first start without a terminal does not give URL, user and password file together: $(cat "$T/data.out")"
# on a terminal the password itself (script(1) gives atlas a pseudo-terminal)
need script
script -qfec "exec $ATLAS_BIN --data $T/tty serve --listen 127.0.0.1:18099" /dev/null \
  < /dev/null > "$T/tty.out" 2>> "$T/tty.log" &
SCRIPT_PID=$!
wait_for 10 grep -q 'the password is ' "$T/tty.out" >/dev/null || fail "no password on a terminal: $(cat "$T/tty.out")"
tty_pw=$(sed -n 's/.*the password is \([^[:space:]]*\).*/\1/p' "$T/tty.out" | tr -d '\r')
[ -n "$tty_pw" ] && [ "$tty_pw" = "$(cat "$T/tty/initial-admin-password")" ] || fail "the password on the terminal is not the file's"
grep -qF "panel: http://127.0.0.1:18099/ - sign in as admin" "$T/tty.out" || fail "no URL and user on the terminal"
tty_stop
ok "on a terminal the first start prints URL, user admin and the password itself"
# a first start that fails after making the admin (a bad option: plain HTTP
# refused beyond loopback) left the password file, and the next start said
# nothing of it (`journalctl -u atlas | grep password` found nothing)
set +e; "$ATLAS_BIN" --data "$T/failed" serve --listen 192.0.2.1:18098 --no-tls > "$T/failed.out" 2> "$T/failed.err"; rc=$?; set -e
[ $rc = 1 ] && grep -q 'refusing plain HTTP' "$T/failed.err" || fail "the bad first start: rc $rc $(cat "$T/failed.err")"
"$ATLAS_BIN" --data "$T/failed" serve --listen 127.0.0.1:18097 > "$T/failed.out" 2> "$T/failed.log" &
fpid=$!
wait_for 10 grep -q 'serving on' "$T/failed.log" >/dev/null || fail "the second start did not serve: $(cat "$T/failed.log")"
kill $fpid; wait $fpid || true
grep -qF "the first-start password of user \"admin\" is still in $T/failed/initial-admin-password (mode 0600)" "$T/failed.out" &&
  grep -qF "panel: http://127.0.0.1:18097/ - sign in as admin" "$T/failed.out" &&
  grep -qF "read it with: cat $T/failed/initial-admin-password" "$T/failed.out" ||
  fail "a start after a failed first one does not say where the password is: $(cat "$T/failed.out")"
grep -qF -- "$(cat "$T/failed/initial-admin-password")" "$T/failed.out" "$T/failed.log" && fail "the password reached stdout or stderr"
ok "a start after a first start that failed says where the first password still is"
[ "$(stat -c %a "$T/data/jwt.key")" = 600 ] || fail "jwt.key is not 0600"

# A token for each way of being wrong.
now=$(date +%s)
forged=$(printf 'eyJhbGciOiJIUzI1NiJ9.%s.%s' \
  "$(printf '{"sub":"admin","exp":%d,"ep":1}' $((now + 3600)) | b64url)" \
  "$(printf 'not-the-signature' | b64url)")
wrongkey=$(head -c 32 /dev/urandom > "$T/other.key"; mkdir -p "$T/o"; cp "$T/other.key" "$T/o/jwt.key"; \
  jwt_forge "$T/o" "{\"sub\":\"admin\",\"exp\":$((now + 3600)),\"ep\":1}")
expired=$(jwt_forge "$T/data" "{\"sub\":\"admin\",\"iat\":$((now - 50000)),\"exp\":$((now - 10)),\"ep\":1}")
algnone=$(printf '%s.%s.' "$(printf '{"alg":"none"}' | b64url)" \
  "$(printf '{"sub":"admin","exp":%d,"ep":1}' $((now + 3600)) | b64url)")
# Sanity: a token forged with the real key and current epoch IS accepted, so
# the refusals below are about what they claim to be about.
good=$(jwt_forge "$T/data" "{\"sub\":\"admin\",\"iat\":$now,\"exp\":$((now + 3600)),\"ep\":1}")
[ "$(api_code -H "Authorization: Bearer $good" "$API_URL/api/v1/status")" = 200 ] || fail "valid forged-with-key token refused"
old=$API_TOKEN
echo 'a new password 123' | "$ATLAS_BIN" --data "$T/data" admin passwd >/dev/null
[ -e "$T/data/initial-admin-password" ] && fail "the first-start password file outlived the password change"
[ "$(api_code -H "Authorization: Bearer $old" "$API_URL/api/v1/status")" = 401 ] || fail "token from before the password change still works"
prechange=$old
API_TOKEN=$(api_login 'a new password 123') || fail "login with the new password"
[ "$(api_code -H "Authorization: Bearer $API_TOKEN" "$API_URL/api/v1/status")" = 200 ] || fail "new token refused"

n=0
while read -r method path; do
  url=$API_URL${path//\{if\}/ata0}; url=${url//\{name\}/alice}; url=${url//\{N\}/1}
  case "$path" in
    /api/v1/health|/api/v1/auth/login|/metrics) continue ;;
    /sub/*) continue ;; # a subscription token is its own credential (t45)
  esac
  for kind in none forged wrongkey expired algnone prechange garbage; do
    case $kind in
      none) hdr=() ;;
      forged) hdr=(-H "Authorization: Bearer $forged") ;;
      wrongkey) hdr=(-H "Authorization: Bearer $wrongkey") ;;
      expired) hdr=(-H "Authorization: Bearer $expired") ;;
      algnone) hdr=(-H "Authorization: Bearer $algnone") ;;
      prechange) hdr=(-H "Authorization: Bearer $prechange") ;;
      garbage) hdr=(-H "Authorization: Basic YWRtaW46YWRtaW4=") ;;
    esac
    code=$(api_code -X "$method" "${hdr[@]}" -d '{}' "$url")
    [ "$code" = 401 ] || fail "$method $path with $kind token: $code, want 401"
    n=$((n + 1))
  done
done < <(api_routes)
[ $n -ge 150 ] || fail "only $n route checks ran"
ok "$n route/token combinations answer 401"
# ?token= is accepted on /events only.
[ "$(api_code "$API_URL/api/v1/status?token=$API_TOKEN")" = 401 ] || fail "?token= accepted on /status"
code=$(api_run curl -sS -o /dev/null -w '%{http_code}' --max-time 1 "$API_URL/api/v1/events?token=$API_TOKEN" || true)
[ "$code" = 200 ] || fail "/events?token= answered $code"
[ "$(api_code "$API_URL/api/v1/health")" = 200 ] || fail "/health needs no token"
ok "/events takes ?token=, /health is open"

# /metrics with ATLAS_METRICS_TOKEN set.
[ "$(api_code "$API_URL/metrics")" = 401 ] || fail "/metrics open despite ATLAS_METRICS_TOKEN"
[ "$(api_code -H 'Authorization: Bearer metrics-secret-2' "$API_URL/metrics")" = 401 ] || fail "/metrics wrong token"
api_run curl -fsS -H 'Authorization: Bearer metrics-secret-1' "$API_URL/metrics" | grep_q '^atlas_resident_memory_bytes [0-9]' || fail "/metrics content"
ok "/metrics bearer token"

# Password change through the API voids the older tokens too.
t1=$API_TOKEN
code=$(api_code -X POST -H "Authorization: Bearer $t1" -d '{"current_password":"wrong one!","new_password":"third password"}' "$API_URL/api/v1/auth/password")
[ "$code" = 422 ] || fail "wrong current password: $code"
code=$(api_code -X POST -H "Authorization: Bearer $t1" -d '{"current_password":"a new password 123","new_password":"short"}' "$API_URL/api/v1/auth/password")
[ "$code" = 422 ] || fail "short new password: $code"
code=$(api_code -X POST -H "Authorization: Bearer $t1" -d '{"current_password":"a new password 123","new_password":"third password"}' "$API_URL/api/v1/auth/password")
[ "$code" = 204 ] || fail "password change: $code"
[ "$(api_code -H "Authorization: Bearer $t1" "$API_URL/api/v1/status")" = 401 ] || fail "token survived POST /auth/password"
API_TOKEN=$(api_login 'third password') || fail "login after POST /auth/password"
ok "POST /auth/password voids older tokens"

# issue 16.8: failed logins of a user from an address cost nothing 3 times,
# then each doubles the wait (429 with Retry-After); the right password from a
# browser that logged in before (its "device" value) is never held up by
# them, a success resets the count, and wrong current passwords on a
# password change are limited the same way.
login_json() { api_run curl -sS -X POST -d "$1" "$API_URL/api/v1/auth/login"; }
device=$(login_json '{"username":"admin","password":"third password"}' | jq -er .device) || fail "login answers no device value"
for i in 1 2 3 4; do
  code=$(api_code -X POST -d '{"username":"admin","password":"guess'$i'"}' "$API_URL/api/v1/auth/login")
  [ "$code" = 401 ] || fail "failed login $i: $code"
done
hdrs=$(api_run curl -sS -D - -o "$T/429.json" -X POST -d '{"username":"admin","password":"guess5"}' "$API_URL/api/v1/auth/login")
grep -q '^HTTP/1.1 429' <<<"$hdrs" || fail "5th attempt right after the 4th failure not held back: $hdrs"
wait_s=$(grep -i '^Retry-After:' <<<"$hdrs" | tr -dc 0-9)
[ -n "$wait_s" ] && [ "$wait_s" -ge 1 ] && [ "$wait_s" -le 2 ] || fail "Retry-After after 4 failures is \"$wait_s\", want 1-2"
grep -q 'too many failed attempts, retry in [0-9]* s' "$T/429.json" || fail "429 body: $(cat "$T/429.json")"
code=$(api_code -X POST -d '{"username":"admin","password":"third password","device":"'"$device"'"}' "$API_URL/api/v1/auth/login")
[ "$code" = 200 ] || fail "the right password with this browser's device value was refused ($code) by others' failures"
code=$(api_code -X POST -d '{"username":"admin","password":"third password","device":"forged-device-value"}' "$API_URL/api/v1/auth/login")
[ "$code" = 429 ] || fail "a forged device value escaped the limit: $code"
code=$(api_code -X POST -d '{"username":"root","password":"x"}' "$API_URL/api/v1/auth/login")
[ "$code" = 401 ] || fail "another user name is limited by admin's failures: $code"
sleep "$wait_s"
code=$(api_code -X POST -d '{"username":"admin","password":"third password"}' "$API_URL/api/v1/auth/login")
[ "$code" = 200 ] || fail "the right password after Retry-After: $code"
code=$(api_code -X POST -d '{"username":"admin","password":"guess6"}' "$API_URL/api/v1/auth/login")
[ "$code" = 401 ] || fail "a failure after a success is limited ($code): the success did not reset the count"
ok "login limit: 3 free, then 429 Retry-After $wait_s s; device value exempt; success resets"
API_TOKEN=$(api_login 'third password') || fail "login"
for i in 1 2 3 4; do
  code=$(api_code -X POST -H "Authorization: Bearer $API_TOKEN" -d '{"current_password":"guess'$i'","new_password":"fourth password"}' "$API_URL/api/v1/auth/password")
  [ "$code" = 422 ] || fail "wrong current password $i: $code"
done
code=$(api_code -X POST -H "Authorization: Bearer $API_TOKEN" -d '{"current_password":"guess5","new_password":"fourth password"}' "$API_URL/api/v1/auth/password")
[ "$code" = 429 ] || fail "wrong current passwords are not limited: $code"
ok "wrong current_password on a password change is limited too"
api_stop
grep -q 'a new password\|third password\|metrics-secret' "$T/data.log" && fail "a secret reached the log"
[ "$(grep -c 'created user' "$T/data.out")" = 1 ] || fail "password printed more than once"
API_PW_KNOWN='third password' api_start "$T/data" $PORT
grep -q 'created user' "$T/data.out" && fail "second start printed a password again"
ok "password printed only on the first start; no secrets in the log"
