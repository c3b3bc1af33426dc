#!/usr/bin/env bash
# Drift is healed by the reconcile loop on its own within one resync
# period: a peer removed by hand and a foreign peer added by hand, with no
# API call, SIGHUP or apply; the run is recorded with trigger "resync".
# SIGHUP reconciles at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
need ip wg wireguard-go
N=33
api_test $N api-drift
{ api_settings; cat <<Y; } > "$T/base.yaml"
  resync: 3
wireguard:
  interfaces:
    - name: atasrv$N
      listen_port: 51933
      address: [10.33.0.1/24]
      peers:
        - name: alice
        - name: bob
Y
"$ATLAS_BIN" --data "$T/data" import "$T/base.yaml" >/dev/null
api_start "$T/data" 18083
U=$API_URL/api/v1
wait_for 5 sh -c "[ \$(ip netns exec ata-s$N wg show atasrv$N peers | wc -l) = 2 ]" >/dev/null || fail "start apply"
alice=$(api -fsS "$U/wireguard/interfaces/atasrv$N/peers/alice" | jq -r .public_key)
foreign=$(wg genkey | wg pubkey)
SNS wg set atasrv$N peer "$alice" remove
SNS wg set atasrv$N peer "$foreign" allowed-ips 10.33.0.200/32
runs=$(api -fsS "$U/history" | jq '.runs | length')
healed() { present "$alice" SNS wg show atasrv$N peers && absent "$foreign" SNS wg show atasrv$N peers; }
ms=$(wait_for 15 healed) || fail "drift not healed by the resync timer: $(SNS wg show atasrv$N peers)"
ok "drift healed by the loop after ${ms} ms (resync 3 s)"
api -fsS "$U/history" | jq -e '.runs[0].trigger == "resync" and .runs[0].ok' >/dev/null ||
  fail "healing run not recorded: $(api -sS "$U/history" | jq -c '.runs[0]')"
# Two more resyncs finish (logged, not recorded): then count the history.
n=$(loop_runs resync)
wait_runs resync $((n + 1)) 15 >/dev/null || fail "the loop ran no resync after healing"
[ "$(api -fsS "$U/history" | jq '.runs | length')" = $((runs + 1)) ] ||
  fail "resyncs without drift were recorded: $(api -sS "$U/history" | jq -c '[.runs[].trigger]')"
ok "the healing run is recorded; quiet resyncs are not"

# A long resync period, so only SIGHUP can heal what follows.
sed -i 's/resync: 3/resync: 86400/' "$T/base.yaml"
n=$(loop_runs api)
api -fsS -X PUT --data-binary @"$T/base.yaml" "$U/state" >/dev/null || fail "PUT /state"
# The run of this edit loads the new period; after it only SIGHUP can heal.
wait_runs api "$n" 10 >/dev/null || fail "the edit was not run"
SNS wg set atasrv$N peer "$alice" remove
r=$(loop_runs resync)
# Longer than the old period (3 s): a timer still on it would have healed.
sleep 3.5
[ "$(loop_runs resync)" = "$r" ] || fail "a resync ran with resync: 86400"
absent "$alice" SNS wg show atasrv$N peers || fail "healed without SIGHUP (or wg show failed)"
kill -HUP "$API_PID"
ms=$(wait_for 10 present "$alice" SNS wg show atasrv$N peers) || fail "SIGHUP did not reconcile"
api -fsS "$U/history" | jq -e '.runs[0].trigger == "sighup"' >/dev/null || fail "sighup run not recorded"
ok "SIGHUP reconciles at once (${ms} ms)"
