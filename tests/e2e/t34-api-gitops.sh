#!/usr/bin/env bash
# GitOps (issue 5): `atlas serve --watch FILE`. An edit written the way git
# writes (a new file renamed over the old one) adds a peer on the interface;
# write endpoints answer 409; an invalid edit keeps the old state and is
# reported (log, /status, an SSE event); restoring an earlier generation
# through the API puts the old peers back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
need ip wg wireguard-go
N=34
api_test $N api-gitops
mkdir -p "$T/repo"
F=$T/repo/atlas.yaml
git_write() { cat > "$F.tmp.$$"; mv -f "$F.tmp.$$" "$F"; }   # what git checkout does: rename over
on_if() { SNS wg show atasrv$N peers | grep_q -x "$1"; }
api_wg_state alice bob | git_write
api_start "$T/data" 18084 --watch "$F"
U=$API_URL/api/v1
wait_for 5 sh -c "[ \$(ip netns exec ata-s$N wg show atasrv$N peers 2>/dev/null | wc -l) = 2 ]" >/dev/null ||
  fail "watched file not applied at start"
gen_ab=$(api -fsS "$U/status" | jq .generation)
bob=$(api -fsS "$U/wireguard/interfaces/atasrv$N/peers/bob" | jq -r .public_key)
ok "the watched file is imported and applied at start (generation $gen_ab)"

api_run curl -sS -N -H "Authorization: Bearer $API_TOKEN" "$U/events" > "$T/events" &
SSE_PID=$!
api_wg_state alice bob carol | git_write
ms=$(wait_for 5 api_check $U/wireguard/interfaces/atasrv$N/peers/carol '.status.on_interface') ||
  fail "carol not on the interface after a rename-over edit: $(api -sS "$U/wireguard/interfaces/atasrv$N/peers/carol")"
carol=$(api -fsS "$U/wireguard/interfaces/atasrv$N/peers/carol" | jq -r .public_key)
on_if "$carol" || fail "carol not on the interface"
api -fsS "$U/history" | jq -e '.generations[0].trigger == "watch"' >/dev/null || fail "generation not from watch"
ok "rename-over edit added carol on the interface (${ms} ms)"

for req in "-X POST -d {\"name\":\"dave\"} $U/wireguard/interfaces/atasrv$N/peers" \
           "-X DELETE $U/wireguard/interfaces/atasrv$N/peers/alice" \
           "-X PATCH -d {\"disabled\":true} $U/wireguard/interfaces/atasrv$N/peers/alice" \
           "-X PUT --data-binary @$F $U/state" "-X PUT --data-binary @$F $U/state?dry_run=false" \
           "-X PUT --data-binary @$F $U/state?dry_run=0"; do
  # shellcheck disable=SC2086
  code=$(api -o "$T/409" -w '%{http_code}' $req)
  [ "$code" = 409 ] || fail "write with --watch: $req -> $code"
  grep -q "state is managed by $F" "$T/409" || fail "409 body: $(cat "$T/409")"
done
code=$(api -o /dev/null -w '%{http_code}' -X PUT --data-binary @"$F" "$U/state?dry_run=1")
[ "$code" = 200 ] || fail "dry run refused with --watch: $code"
ok "write endpoints answer 409 \"state is managed by FILE\"; dry runs still work"

gen=$(api -fsS "$U/status" | jq .generation)
{ api_wg_state alice bob carol; printf '        - name: "bad name!"\n          keepalive: lots\n'; } | git_write
wait_for 5 api_check $U/status '.atlas.watch.error != null' >/dev/null ||
  fail "invalid edit not reported in /status"
api -fsS "$U/status" | jq -r .atlas.watch.error | grep_q "atlas.yaml:1[0-9]:[0-9]*:" || fail "error without file:line: $(api -sS "$U/status" | jq -r .atlas.watch.error)"
[ "$(api -fsS "$U/status" | jq .generation)" = "$gen" ] || fail "invalid edit changed the generation"
on_if "$carol" && on_if "$bob" || fail "invalid edit disturbed the interface"
grep -q 'watch: .*keeping the last good state' "$T/data.log" || fail "invalid edit not logged"
wait_for 3 grep -q '^event: watch' "$T/events" >/dev/null || fail "no SSE watch event"
grep -A1 '^event: watch' "$T/events" | grep_q '"error":"' || fail "SSE watch event without the error"
api_wg_state alice bob carol | git_write
wait_for 5 api_check $U/status '.atlas.watch.error == null' >/dev/null ||
  fail "fixed file did not clear the error"
ok "invalid edit kept the old state, reported in log, /status and SSE; fixing it clears the error"

api_wg_state alice carol | git_write
wait_for 5 absent "$bob" SNS wg show atasrv$N peers >/dev/null || fail "bob not removed by the file (or wg show failed)"
code=$(api -o "$T/restore" -w '%{http_code}' -X POST "$U/history/$gen_ab/restore")
[ "$code" = 200 ] || fail "restore: $code $(cat "$T/restore")"
wait_for 3 sh -c "ip netns exec ata-s$N wg show atasrv$N peers | grep -x '$bob' >/dev/null" >/dev/null || fail "restore did not put bob back"
absent "$carol" SNS wg show atasrv$N peers || fail "restore of generation $gen_ab kept carol (or wg show failed)"
[ "$(api -fsS "$U/wireguard/interfaces/atasrv$N/peers/bob" | jq -r .public_key)" = "$bob" ] || fail "bob's key changed"
api -fsS "$U/history" | jq -e ".generations[0].trigger == \"restore $gen_ab\"" >/dev/null || fail "restore generation trigger"
grep -q '^event: state' "$T/events" || fail "no SSE state event"
grep -q '^event: apply' "$T/events" || fail "no SSE apply event"
ok "restore of generation $gen_ab put bob back with the same key"
