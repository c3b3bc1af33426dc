#!/usr/bin/env bash
# Manual apply mode (settings.auto_apply: false): `atlas serve` in a
# namespace of its own observes but does not apply. The stored state is not
# applied at start; a peer POSTed through the API is pending (in /status,
# GET /plan and `atlas plan`) and NOT on the interface until POST /apply;
# drift is reported by the resync timer, not healed, until SIGHUP; switching
# auto_apply back on through PATCH /settings applies edits at once again.
# Names: namespace atm-s36, interfaces atmsrv36, atmeg36 / atmeh36 (a veth pair inside it), ports 18120-18121.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
need ip wg wireguard-go
NS=atm-s36
IF=atmsrv36
api_ns_test $NS api-manual
trap 'api_ns_test_end; rm -f /var/run/wireguard/$IF.sock' EXIT
export ATLAS_SERVICE_MODE=direct
ip -n $NS link add atmeg36 type veth peer name atmeh36
ip -n $NS addr add 172.30.36.1/24 dev atmeg36
ip -n $NS link set atmeg36 up; ip -n $NS link set atmeh36 up
S() { ip netns exec $NS "$@"; }
peers() { S wg show $IF peers 2>/dev/null; }
cat > "$T/base.yaml" <<Y
version: 1
settings:
  host: 172.30.36.1
  egress_interface: atmeg36
  resync: 2
  auto_apply: false
wireguard:
  interfaces:
    - name: $IF
      listen_port: 18121
      address: [10.36.0.1/24]
      peers:
        - name: alice
Y
"$ATLAS_BIN" --data "$T/data" import "$T/base.yaml" >/dev/null
"$ATLAS_BIN" --data "$T/data" export | grep_q '^  auto_apply: false$' || fail "auto_apply: false not exported"
api_start "$T/data" 18120
U=$API_URL/api/v1

# A generation never applied waits at start too.
wait_runs start 0 10 >/dev/null || fail "the start run did not finish"
absent " $IF:" S ip -o link show || fail "the start applied a pending generation in manual mode"
api_check "$U/status" '.auto_apply == false and .pending == true and .applied_generation == 0' ||
  fail "status at start: $(api -sS "$U/status")"
api -fsS "$U/settings" | jq -e '.auto_apply == false and .resync == 2' >/dev/null || fail "GET /settings"
api -fsS -X POST "$U/apply" | jq -e '.ok' >/dev/null || fail "POST /apply"
[ "$(peers | wc -l)" = 1 ] || fail "interface not applied by POST /apply: $(S wg show $IF 2>&1)"
api_check "$U/status" '.pending == false' || fail "still pending after apply: $(api -sS "$U/status")"
ok "manual mode: nothing applied at start; POST /apply creates the interface"

n=$(loop_runs api)
api -fsS -X POST -d '{"name":"bob"}' "$U/wireguard/interfaces/$IF/peers" > "$T/bob.json" || fail "POST peer"
bob=$(jq -r .public_key "$T/bob.json")
[ ${#bob} = 44 ] || fail "no public key: $(cat "$T/bob.json")"
wait_runs api "$n" 10 >/dev/null || fail "the loop did not run after the edit"
absent "$bob" S wg show $IF peers || fail "bob is on the interface without an apply (or wg show failed)"
api_check "$U/status" '.pending == true and .generation > .applied_generation' ||
  fail "bob not pending: $(api -sS "$U/status")"
api -fsS "$U/plan" > "$T/plan.json"
jq -e '.changes >= 1 and ([.actions[] | select(.engine == "wireguard" and .kind == "create")
  | .text] == ["+ wireguard/'$IF' peer bob (10.36.0.3/32)"])' "$T/plan.json" >/dev/null || fail "GET /plan: $(cat "$T/plan.json")"
expect_rc 2 S "$ATLAS_BIN" --data "$T/data" plan > "$T/plan.txt"
grep -q "^ *+ wireguard/$IF peer bob" "$T/plan.txt" || fail "atlas plan: $(cat "$T/plan.txt")"
ok "a POSTed peer is pending, not on the interface; /plan and \`atlas plan\` show + peer bob"

api -fsS -X POST "$U/apply" > "$T/apply.json" || fail "POST /apply"
jq -e '.ok and .remaining == 0 and ([.actions[].text] | any(test("peer bob")))' "$T/apply.json" >/dev/null ||
  fail "apply result: $(cat "$T/apply.json")"
peers | grep_q -x "$bob" || fail "bob not on the interface after POST /apply"
api -fsS "$U/plan" | jq -e '.changes == 0' >/dev/null || fail "plan not empty after apply"
api_check "$U/status" '.pending == false and .generation == .applied_generation' ||
  fail "status after apply: $(api -sS "$U/status")"
api -fsS "$U/history" | jq -e '.runs[0].trigger == "api apply" and ([.runs[].trigger] | index("api") == null)' >/dev/null ||
  fail "runs: $(api -sS "$U/history" | jq -c '[.runs[].trigger]')"
ok "POST /apply puts bob on the interface; converged; no run from the edit itself"

# Drift: the resync timer (2 s) observes it and reports it, and heals nothing.
S wg set $IF peer "$bob" remove
ms=$(wait_for 5 api_check "$U/status" '.pending == true and .generation == .applied_generation') ||
  fail "drift not reported by the timer: $(api -sS "$U/status")"
n=$(loop_runs resync)
wait_runs resync "$n" 10 >/dev/null || fail "no resync ran after the drift was reported"
absent "$bob" S wg show $IF peers || fail "drift healed in manual mode without SIGHUP (or wg show failed)"
kill -HUP "$API_PID"
wait_for 10 present "$bob" S wg show $IF peers >/dev/null || fail "SIGHUP did not apply"
wait_for 5 api_check "$U/status" '.pending == false' >/dev/null || fail "pending after SIGHUP"
ok "drift reported as pending after ${ms} ms, not healed by the timer; SIGHUP applies"

code=$(api -o "$T/err.json" -w '%{http_code}' -X PATCH -d '{"auto_apply":"yes"}' "$U/settings")
[ "$code" = 422 ] && jq -e '.field == "auto_apply"' "$T/err.json" >/dev/null || fail "bad PATCH: $code $(cat "$T/err.json")"
api -fsS -X PATCH -d '{"auto_apply":true}' "$U/settings" | jq -e '.auto_apply == true' >/dev/null || fail "PATCH /settings"
api_check "$U/status" '.auto_apply == true' || fail "status after PATCH"
api -fsS -X POST -d '{"name":"carol"}' "$U/wireguard/interfaces/$IF/peers" > "$T/carol.json" || fail "POST carol"
carol=$(jq -r .public_key "$T/carol.json")
ms=$(wait_for 10 present "$carol" S wg show $IF peers) ||
  fail "auto_apply on: carol not on the interface"
"$ATLAS_BIN" --data "$T/data" export | grep_q 'auto_apply' && fail "auto_apply: true (the default) exported"
ok "PATCH /settings auto_apply true: edits apply at once again (${ms} ms); 422 on a bad value"
