#!/usr/bin/env bash
# Scoped API tokens and the administrator's second factor (issue 13).
# Tokens: every route of docs/openapi.yaml (the router's table, test_openapi)
# × every scope × {valid, expired, revoked, forged} answers as the scope
# rules say: read only GETs, operator also the user routes (peers, clients,
# sing-box users, usage resets, subscriptions, apply), admin the rest, no
# token the account's own routes (password, TOTP); a wrong token is 401, a
# valid one above its scope 403. The matrix runs with TOTP on: tokens keep
# working. TOTP: enrolment (URI, QR), login without / with a wrong / with a
# replayed / with a correct code, wrong codes under the login limit, a
# recovery code once, `atlas admin totp disable` as the way back in.
# Actors: generations made by a token, the panel session and the CLI say so
# in GET /history and `atlas history`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
need python3 sqlite3
T=$(mktemp -d /tmp/atlas-e2e-api-tokens.XXXXXX)
trap 'api_stop; api_cleanup_topology; rm -rf "$T"' EXIT
# in a namespace of its own: what an allowed POST /apply or /openvpn/restart
# starts ends with it
api_topology 86
PORT=18086
api_start "$T/data" $PORT
A() { "$ATLAS_BIN" --data "$T/data" "$@"; }
U=$API_URL/api/v1
JWT=$API_TOKEN
# totp SECRET STEP-OFFSET: the RFC 6238 code (SHA-1, 30 s, 6 digits) of now + offset steps
totp() {
  python3 -c 'import sys, hmac, hashlib, struct, time, base64
s = sys.argv[1]; k = base64.b32decode(s + "=" * (-len(s) % 8))
c = int(time.time()) // 30 + int(sys.argv[2])
h = hmac.new(k, struct.pack(">Q", c), hashlib.sha1).digest(); o = h[19] & 15
print("%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7fffffff) % 1000000))' "$1" "$2"
}
login() { api_run curl -sS -o "$T/login.json" -w '%{http_code}' -X POST -d "$1" "$U/auth/login"; }
PW=$API_PW

# --- TOTP enrolment through the API (the panel's way)
api -fsS "$U/auth/totp" | jq -e '.enabled == false and .pending == false' >/dev/null || fail "TOTP on before enrolment"
api -fsS -X POST "$U/auth/totp/enroll" > "$T/enroll.json" || fail "enroll"
uri=$(jq -er .uri "$T/enroll.json")
SECRET=$(jq -er .secret "$T/enroll.json")
[[ "$uri" == "otpauth://totp/Atlas:admin?secret=$SECRET&issuer=Atlas&algorithm=SHA1&digits=6&period=30" ]] || fail "otpauth URI: $uri"
jq -er .qr_svg "$T/enroll.json" | grep_q '^<svg ' || fail "no QR code SVG in the enrolment"
# pending is not on: a login without a code still works
[ "$(login "{\"username\":\"admin\",\"password\":\"$PW\"}")" = 200 ] || fail "pending enrolment already asks for a code"
code=$(api_code -X POST -H "Authorization: Bearer $JWT" -d '{"code":"12345"}' "$U/auth/totp/confirm")
[ "$code" = 422 ] || fail "confirm with a malformed code: $code"
api -fsS -X POST -d "{\"code\":\"$(totp "$SECRET" 0)\"}" "$U/auth/totp/confirm" > "$T/confirm.json" || fail "confirm: $(cat "$T/confirm.json")"
[ "$(jq '.recovery_codes | length' "$T/confirm.json")" = 10 ] || fail "not 10 recovery codes"
[ "$(jq -r '.recovery_codes | unique | length' "$T/confirm.json")" = 10 ] || fail "recovery codes repeat"
R1=$(jq -r '.recovery_codes[0]' "$T/confirm.json")
sqlite3 "$T/data/atlas.db" 'SELECT hash FROM totp_recovery' | grep_q -F -- "${R1//-/}" && fail "a recovery code is stored as it is"
api -fsS "$U/auth/totp" | jq -e '.enabled and .recovery_codes_left == 10' >/dev/null || fail "TOTP not on after confirmation"
ok "TOTP enrolment: otpauth URI and QR once, a first code confirms it, 10 recovery codes stored hashed"

# --- login with TOTP on
[ "$(login "{\"username\":\"admin\",\"password\":\"$PW\"}")" = 401 ] || fail "login without a code: $(cat "$T/login.json")"
jq -e '.totp_required == true and .field == "totp"' "$T/login.json" >/dev/null || fail "the answer does not say a code is needed: $(cat "$T/login.json")"
jq -e 'has("token") | not' "$T/login.json" >/dev/null || fail "a token without a code"
# c1: the next step's code, kept as text (computed again after a 30 s boundary it would be another step's)
c1=$(totp "$SECRET" 1)
device=$(api_run curl -sS -X POST -d "{\"username\":\"admin\",\"password\":\"$PW\",\"totp\":\"$c1\"}" "$U/auth/login" | jq -er .device) || fail "login with the next step's code"
# a wrong code: differs from every code of the window
wrong=$(python3 -c 'import sys; c = {int(x) for x in sys.argv[1:]}; print("%06d" % next(v for v in range(111111, 999999, 7) if v not in c))' \
  "$(totp "$SECRET" -1)" "$(totp "$SECRET" 0)" "$(totp "$SECRET" 1)" "$(totp "$SECRET" 2)")
[ "$(login "{\"username\":\"admin\",\"password\":\"$PW\",\"totp\":\"$wrong\"}")" = 401 ] || fail "a wrong code was accepted"
jq -e '.totp_required and (.error | test("invalid code"))' "$T/login.json" >/dev/null || fail "wrong code answer: $(cat "$T/login.json")"
# the code just used is a replay: refused
[ "$(login "{\"username\":\"admin\",\"password\":\"$PW\",\"totp\":\"$c1\"}")" = 401 ] || fail "a replayed code was accepted"
grep -q 'already used' "$T/login.json" || fail "replay answer: $(cat "$T/login.json")"
# the right password with a wrong password is still 401 without a hint about codes
[ "$(login '{"username":"admin","password":"wrong password","totp":"123456"}')" = 401 ] || fail "wrong password with a code"
jq -e 'has("totp_required") | not' "$T/login.json" >/dev/null || fail "a wrong password learns that TOTP is on"
ok "TOTP login: no code 401 totp_required, wrong code 401, replayed code 401, correct code 200"

# wrong codes count under the login limit (3 free, then 429); the device value of this browser is exempt
for i in 1 2; do login "{\"username\":\"admin\",\"password\":\"$PW\",\"totp\":\"$wrong\"}" >/dev/null; done
code=$(login "{\"username\":\"admin\",\"password\":\"$PW\",\"totp\":\"$wrong\"}")
[ "$code" = 429 ] || fail "wrong codes are not limited: $code $(cat "$T/login.json")"
code=$(login "{\"username\":\"admin\",\"password\":\"$PW\",\"totp\":\"$R1\",\"device\":\"$device\"}")
[ "$code" = 200 ] || fail "recovery code with the device value: $code $(cat "$T/login.json")"
code=$(login "{\"username\":\"admin\",\"password\":\"$PW\",\"totp\":\"$R1\",\"device\":\"$device\"}")
[ "$code" = 401 ] || fail "a recovery code worked twice: $code"
api -fsS "$U/auth/totp" | jq -e '.recovery_codes_left == 9' >/dev/null || fail "recovery code not used up"
ok "wrong codes hit the login limit (429); a recovery code works once"

# --- tokens: created by the CLI and the API, shown once, stored hashed
TR=$(A token create ro --scope read 2> "$T/create.err") || fail "atlas token create: $(cat "$T/create.err")"
TO=$(A token create ops --scope operator --expires 90d 2>/dev/null) || fail "token create operator"
TA=$(api -fsS -X POST -d '{"name":"adm","scope":"admin","expires":"1d"}' "$U/tokens" | jq -er .token) || fail "POST /tokens"
for t in "$TR" "$TO" "$TA"; do [[ "$t" =~ ^atlas_[A-Za-z0-9_-]{43}$ ]] || fail "token form: $t"; done
sqlite3 "$T/data/atlas.db" 'SELECT hash FROM api_tokens' > "$T/hashes"
for t in "$TR" "$TO" "$TA"; do
  grep -qF -- "${t#atlas_}" "$T/hashes" && fail "a token is stored as it is"
  grep -qx "$(printf %s "$t" | sha256sum | cut -d' ' -f1)" "$T/hashes" || fail "no sha256 of a token stored"
done
code=$(api_code -X POST -H "Authorization: Bearer $JWT" -d '{"name":"adm","scope":"read"}' "$U/tokens")
[ "$code" = 409 ] || fail "a second token adm: $code"
code=$(api_code -X POST -H "Authorization: Bearer $JWT" -d '{"name":"x","scope":"root"}' "$U/tokens")
[ "$code" = 422 ] || fail "scope root: $code"
expect_rc 1 A token create bad --scope root 2>/dev/null
# the wrong kinds: expired (aged in the database), revoked (CLI and API), forged
for s in read operator admin; do
  eval "X_$s=\$(A token create exp-$s --scope $s --expires 1d 2>/dev/null)"
  eval "V_$s=\$(A token create rev-$s --scope $s 2>/dev/null)"
done
sqlite3 "$T/data/atlas.db" "UPDATE api_tokens SET expires_at = strftime('%s','now') - 5 WHERE name LIKE 'exp-%'"
A token revoke rev-read >/dev/null || fail "atlas token revoke"
[ "$(api_code -X DELETE -H "Authorization: Bearer $JWT" "$U/tokens/rev-operator")" = 204 ] || fail "DELETE /tokens/rev-operator"
[ "$(api_code -X DELETE -H "Authorization: Bearer $TA" "$U/tokens/rev-admin")" = 204 ] || fail "an admin token cannot revoke"
[ "$(api_code -X DELETE -H "Authorization: Bearer $JWT" "$U/tokens/rev-admin")" = 404 ] || fail "revoking twice"
forged=atlas_$(head -c 32 /dev/urandom | openssl base64 -A | tr '+/' '-_' | tr -d '=')
A token list > "$T/list"
grep -q '^ro  *read ' "$T/list" && grep -q '^ops  *operator ' "$T/list" && grep -q '^adm  *admin ' "$T/list" || fail "token list: $(cat "$T/list")"
grep -q rev- "$T/list" && fail "revoked tokens listed"
grep -qF -- "${TR#atlas_}" "$T/list" && fail "token list shows a secret"
api -fsS "$U/tokens" | jq -e '[.tokens[].name] == ["adm","exp-admin","exp-operator","exp-read","ops","ro"] and all(.tokens[]; has("token") | not)' >/dev/null ||
  fail "GET /tokens: $(api -sS "$U/tokens")"
# an expired token is listed as such (it looked like a live one: only a past date)
grep -q '^exp-read .* expired (refused; revoke it to remove it)$' "$T/list" && grep -q '^ro .* active$' "$T/list" ||
  fail "token list does not tell expired from active: $(cat "$T/list")"
api -fsS "$U/tokens" | jq -e '[.tokens[] | select(.expired) | .name] == ["exp-admin","exp-operator","exp-read"]' >/dev/null ||
  fail "GET /tokens expired: $(api -sS "$U/tokens" | jq -c '[.tokens[] | {name, expired}]')"
ok "tokens from CLI and API have the atlas_ form, are stored as sha256 only, listed without secrets, revoked by CLI and API"

# --- actors: a token, the panel session and the CLI each make a generation
[ "$(api_code -X PATCH -H "Authorization: Bearer $TA" -d '{"auto_apply":false}' "$U/settings")" = 200 ] || fail "admin token PATCH /settings"
[ "$(api_code -X PATCH -H "Authorization: Bearer $JWT" -d '{"resync":77}' "$U/settings")" = 200 ] || fail "session PATCH /settings"
printf 'version: 1\nsettings:\n  auto_apply: false\n  resync: 99\n' > "$T/s.yaml"
A import "$T/s.yaml" >/dev/null || fail "atlas import"
api -fsS "$U/history" | jq -e '[.generations[0:3][].actor] == ["cli","admin","token:adm"]' >/dev/null ||
  fail "actors in GET /history: $(api -sS "$U/history" | jq -c '[.generations[] | {gen, trigger, actor}]')"
A history > "$T/hist"
for a in cli admin token:adm; do grep -q "^  [0-9].* $a  *" "$T/hist" || fail "atlas history shows no actor $a: $(cat "$T/hist")"; done
api -fsS "$U/history" | jq -e 'all(.runs[]; has("actor"))' >/dev/null || fail "runs without an actor"
ok "generations record their actor (token:adm, admin, cli) in GET /history and atlas history"
# an apply asked for by a token is recorded as that token's, not the generation's (cli)
code=$(api_run curl -sS -o "$T/apply.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TO" "$U/apply")
[ "$code" = 200 ] || fail "operator token POST /apply: $code $(cat "$T/apply.json")"
api -fsS "$U/history" | jq -e '.runs[0] | .trigger == "api apply" and .actor == "token:ops"' >/dev/null ||
  fail "the run of POST /apply by token ops: $(api -sS "$U/history" | jq -c '[.runs[0:3][] | {id, trigger, actor, generation, ok}]'); its answer: $(jq -c '{ok, generation, error}' "$T/apply.json")"
ok "a run asked for by POST /apply records the asking token (token:ops)"
# a run with nothing to do answers before the handler that asked for it has
# returned: the answer is still the run's (before, about 1 in 30 of these was
# a 500 "no answer")
bad=0
for i in $(seq 1 100); do
  code=$(api_run curl -sS -o "$T/apply.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TO" "$U/apply")
  { [ "$code" = 200 ] && jq -e '.ok == true' "$T/apply.json" >/dev/null; } || { bad=$((bad + 1)); echo "POST /apply $i: $code $(cat "$T/apply.json")"; }
done
[ $bad = 0 ] || fail "$bad of 100 quick POST /apply did not answer 200 with the run"
ok "100 POST /apply in a row with nothing to apply: each answers 200 with its run"
# four clients at once: the loop answered a request while its HTTP thread
# could already send and free it (the loop thread then unlocked the freed
# request: an abort or a segfault of atlas serve, about once in 300)
for c in 1 2 3 4; do
  ( for i in $(seq 1 75); do
      api_run curl -sS -o /dev/null -w '%{http_code}\n' -X POST -H "Authorization: Bearer $TO" "$U/apply"
    done > "$T/par.$c" 2>&1 ) &
  pids="${pids:-} $!"
done
wait $pids || true  # a client whose server died exits 7: told below
kill -0 "$API_PID" 2>/dev/null || fail "atlas serve died under 4 × 75 POST /apply at once"
codes=$(cat "$T"/par.* | sort | uniq -c | tr -s ' ' | tr '\n' ';')
[ "$codes" = " 300 200;" ] || fail "4 × 75 POST /apply at once answered: $codes"
ok "4 clients × 75 POST /apply at once: all 300 answer 200, atlas serve lives"

# --- the matrix: every route × scope × kind
# want METHOD PATH: the scope the documented rules give (docs/security.md)
want() {
  case "$2" in
    /api/v1/auth/password|/api/v1/auth/totp*) echo session; return ;;
    /api/v1/tokens*) echo admin; return ;;
  esac
  [ "$1" = GET ] && { echo read; return; }
  case "$2" in
    /api/v1/wireguard/interfaces/\{if\}/peers*|/api/v1/openvpn/clients*|/api/v1/singbox/inbounds/\{in\}/users*|\
    /api/v1/singbox/users/*/subscription/rotate|/api/v1/usage/*/reset|/api/v1/apply) echo operator ;;
    *) echo admin ;;
  esac
}
rank() { case $1 in read) echo 1 ;; operator) echo 2 ;; admin) echo 3 ;; session) echo 4 ;; esac; }
n=0; allowed=0; refused=0
while read -r method path; do
  case "$path" in
    /api/v1/health|/api/v1/auth/login|/metrics|/sub/*) continue ;; # no token is read there (t30-api-auth)
  esac
  url=$API_URL${path//\{if\}/ata0}; url=${url//\{name\}/alice}; url=${url//\{N\}/1}; url=${url//\{in\}/in0}
  need_rank=$(rank "$(want "$method" "$path")")
  for scope in read operator admin; do
    case $scope in read) valid=$TR ;; operator) valid=$TO ;; admin) valid=$TA ;; esac
    eval "expired=\$X_$scope revoked=\$V_$scope"
    for kind in valid expired revoked forged; do
      case $kind in valid) tok=$valid ;; expired) tok=$expired ;; revoked) tok=$revoked ;; forged) tok=$forged ;; esac
      # an event stream stays open: its headers are the answer
      code=$(api_run curl -sS -o /dev/null -w '%{http_code}' --max-time 3 -X "$method" \
        -H "Authorization: Bearer $tok" -d '{}' "$url" 2>/dev/null || true)
      if [ $kind != valid ]; then
        [ "$code" = 401 ] || fail "$method $path with a $kind $scope token: $code, want 401"
      elif [ "$(rank $scope)" -lt "$need_rank" ]; then
        [ "$code" = 403 ] || fail "$method $path with a $scope token: $code, want 403"
        refused=$((refused + 1))
      else
        case "$code" in 401|403|000) fail "$method $path with a $scope token: $code, want it let through" ;; esac
        allowed=$((allowed + 1))
      fi
      n=$((n + 1))
    done
  done
done < <(api_routes)
[ $n -ge 700 ] && [ $allowed -ge 100 ] && [ $refused -ge 50 ] || fail "only $n checks ran ($allowed let through, $refused refused)"
ok "$n route × scope × kind checks: $allowed let through, $refused refused with 403, every wrong token 401 (TOTP on)"
code=$(api_run curl -sS -o /dev/null -w '%{http_code}' --max-time 1 "$U/events?token=$TR" 2>/dev/null || true)
[ "$code" = 200 ] || fail "/events?token= with a read token: $code"
api_run curl -sS -H "Authorization: Bearer $TR" -X POST -d '{}' "$U/wireguard/interfaces" | grep_q 'token:ro has scope read; POST /api/v1/wireguard/interfaces needs admin' ||
  fail "the 403 does not say which scope is needed"
ok "a read token streams /events; a 403 names the token, its scope and the scope needed"

# --- the way back in: atlas admin totp disable
A admin totp status | grep_q '^two-factor login: on' || fail "admin totp status"
A admin totp disable | grep_q 'two-factor login is off' || fail "atlas admin totp disable"
[ "$(login "{\"username\":\"admin\",\"password\":\"$PW\"}")" = 200 ] || fail "login without a code after disable: $(cat "$T/login.json")"
# and again on through the CLI: a code on stdin-less runs is confirmed by `totp confirm`
A admin totp enable > "$T/cli-enroll" || fail "atlas admin totp enable"
s2=$(sed -n 's/^otpauth:.*secret=\([A-Z2-7]*\)&.*/\1/p' "$T/cli-enroll")
[ -n "$s2" ] && grep -q '▀\|▄\|█' "$T/cli-enroll" || fail "CLI enrolment shows no URI or QR: $(head -3 "$T/cli-enroll")"
A admin totp confirm "$(totp "$s2" 0)" | grep -c '^  [a-z2-7]\{4\}-' | grep_q '^10$' || fail "atlas admin totp confirm"
[ "$(login "{\"username\":\"admin\",\"password\":\"$PW\"}")" = 401 ] || fail "CLI-enabled TOTP not asked at login"
[ "$(login "{\"username\":\"admin\",\"password\":\"$PW\",\"totp\":\"$(totp "$s2" 1)\"}")" = 200 ] || fail "login with the CLI secret's code"
ok "atlas admin totp disable lets the password alone in again; enable + confirm turn it back on"
code=$(api_code -X POST -H "Authorization: Bearer $JWT" -d '{"password":"wrong password"}' "$U/auth/totp/disable")
[ "$code" = 422 ] || fail "disable with a wrong password: $code"
[ "$(api_code -X POST -H "Authorization: Bearer $JWT" -d "{\"password\":\"$PW\"}" "$U/auth/totp/disable")" = 204 ] || fail "POST /auth/totp/disable"
[ "$(login "{\"username\":\"admin\",\"password\":\"$PW\"}")" = 200 ] || fail "login after API disable"
ok "POST /auth/totp/disable needs the password"

# --- a restore while atlas serve runs is refused: it replaced the database
# under the server (which went on writing the replaced one: later edits were
# lost, the revoked tokens came back at the next start, and serve.lock was a
# new file no one held)
A backup "$T/data/in-data.atlas-backup" > /dev/null || fail "atlas backup into DATA"
A backup "$T/b2.atlas-backup" > "$T/b2.out" || fail "atlas backup"
# the archive: "ATLAS-BACKUP 1", the manifest's length, the manifest (JSON), the data
python3 - "$T/b2.atlas-backup" <<'PY' || fail "the archive holds runtime files or a backup"
import sys, json
f = open(sys.argv[1], "rb"); f.readline(); n = int(f.readline())
names = [m["path"] for m in json.loads(f.read(n))["members"]]
bad = [p for p in names if p.endswith(("serve.lock", ".atlas-backup"))]
print("members:", names) if bad else None
sys.exit(1 if bad or "atlas.db" not in names else 0)
PY
A export --secrets > "$T/before-restore.yaml"
set +e; A restore --force "$T/b2.atlas-backup" > "$T/rs.out" 2> "$T/rs.err"; rc=$?; set -e
[ $rc = 1 ] && grep_q "atlas restore: atlas serve runs on $T/data (pid $API_PID): stop it first" "$T/rs.err" ||
  fail "restore --force under a running serve: rc $rc, $(cat "$T/rs.err" "$T/rs.out")"
A export --secrets | cmp -s - "$T/before-restore.yaml" || fail "the refused restore changed the state"
[ ! -d "$T/data/backups" ] || ! ls "$T/data/backups" | grep -q pre-restore || fail "the refused restore saved a pre-restore backup"
[ "$(api_code -X POST -H "Authorization: Bearer $TO" "$U/apply")" = 200 ] || fail "the server after the refused restore"
ok "atlas restore --force while atlas serve runs: refused (names the pid), nothing changed; the archive holds no serve.lock and no backup"

# --- a stop with requests waiting for the loop: libmicrohttpd cannot stop
# with a connection suspended (it aborted: "MHD_stop_daemon() called while we
# have suspended connections"), and an answer not yet sent when it stopped
# was lost although its run was recorded. Now: the run in progress answers
# 200 with its run, the ones queued 200 {"ok": false, "error": "atlas is
# stopping: ..."} without a run, a new request on an open connection 503, a
# new connection is refused; atlas serve exits 0. Every run recorded during
# the stop was answered to its client.
runs() { sqlite3 "$T/data/atlas.db" "SELECT count(*) FROM apply_runs WHERE trigger = 'api apply'"; }
r0=$(runs)
rm -f "$T"/stop.*
# the store's write lock held for 2 s from outside: the first run waits to
# record itself (SQLite's busy timeout is 5 s) and the other requests queue
python3 - "$T/data/atlas.db" "$T/locked" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
time.sleep(2)
c.execute("COMMIT")
PY
holder=$!
wait_for 5 test -e "$T/locked" >/dev/null || fail "the lock holder did not start"
for i in $(seq 1 30); do
  ( code=$(api_run curl -sS -o "$T/stop.$i.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TO" "$U/apply" 2>/dev/null)
    echo "$code $?" > "$T/stop.$i" ) &
  spids="${spids:-} $!"
done
sleep 0.5
kill -TERM "$API_PID"
rc=0; wait "$API_PID" || rc=$?
API_PID=
wait $spids || true
wait $holder || true
[ $rc = 0 ] || fail "atlas serve stopped with POST /apply in flight exits $rc: $(grep -i 'fatal\|error' "$API_LOG" | tail -3)"
! grep -q 'Fatal error' "$API_LOG" || fail "libmicrohttpd: $(grep 'Fatal error' "$API_LOG")"
ran=0; cancelled=0; refused=0; other=
for i in $(seq 1 30); do
  [ -s "$T/stop.$i" ] || { other="$other [$i: its client recorded nothing]"; continue; }
  read -r code crc < "$T/stop.$i"
  if [ "$code $crc" = "200 0" ] && jq -e '.ok == true and (.actions | type) == "array"' "$T/stop.$i.json" >/dev/null; then ran=$((ran + 1))
  elif [ "$code $crc" = "200 0" ] && jq -e '.ok == false and (.error | startswith("atlas is stopping"))' "$T/stop.$i.json" >/dev/null; then cancelled=$((cancelled + 1))
  elif [ "$code $crc" = "503 0" ] || [ "$crc" = 7 ]; then refused=$((refused + 1))
  else other="$other [$i: HTTP $code, curl $crc: $(head -c 120 "$T/stop.$i.json" 2>/dev/null)]"
  fi
done
[ -z "$other" ] || fail "answers lost or wrong during the stop:$other"
[ $((ran + cancelled + refused)) = 30 ] && [ "$ran" -ge 1 ] && [ "$cancelled" -ge 20 ] || fail "$ran ran, $cancelled cancelled, $refused refused"
[ "$(( $(runs) - r0 ))" = "$ran" ] || fail "$(( $(runs) - r0 )) runs recorded during the stop, $ran answered with their run"
ok "SIGTERM with 30 POST /apply in flight: exit 0; $ran answered with their run (each recorded), $cancelled answered 'stopping' unrun, $refused refused; no answer lost"
