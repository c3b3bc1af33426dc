#!/usr/bin/env bash
# WireGuard through the API (issue 5): `atlas serve` in a server namespace;
# a peer created with POST gets on the interface (the time it took is only
# logged: `make bench` measures latency), a real client connects with the
# config downloaded from the API, the peer shows live status; a rename keeps
# its key and session; DELETE removes
# it from the interface; the plan is empty afterwards.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
need ip wg wireguard-go ping
N=31
api_test $N api-wg 18081
api_wg_state > "$T/base.yaml"
api -fsS -X PUT --data-binary @"$T/base.yaml" "$U/state" >/dev/null || fail "PUT /state"
wait_for 5 SNS wg show atasrv$N >/dev/null || fail "interface atasrv$N not created by the loop"
ok "state imported through the API; the loop created the interface"

api -fsS -X POST -d '{"name":"alice","allowed_ips":["10.31.0.0/24"],"keepalive":5}' \
  "$U/wireguard/interfaces/atasrv$N/peers" > "$T/alice.json" || fail "POST peer"
pub=$(jq -r .public_key "$T/alice.json")
[ ${#pub} = 44 ] || fail "no public key in $(cat "$T/alice.json")"
jq -e 'has("private_key") or has("preshared_key") | not' "$T/alice.json" >/dev/null || fail "secret in the answer"
ms=$(wait_for 10 present "$pub" SNS wg show atasrv$N peers) ||
  fail "alice not on the interface after POST"
ok "POST peer: on the interface after ${ms} ms"

hdr=$(api -fsS -D - -o "$T/alice.conf" "$U/wireguard/interfaces/atasrv$N/peers/alice/config") || fail "GET config"
grep -qi '^Content-Disposition: attachment; filename="alice.conf"' <<<"$hdr" || fail "config disposition: $hdr"
grep -qi '^Content-Type: text/plain' <<<"$hdr" || fail "config type"
grep -q "^Endpoint = 172.29.$N.1:51931" "$T/alice.conf" || fail "endpoint in $(cat "$T/alice.conf")"
api -fsS "$U/wireguard/interfaces/atasrv$N/peers/alice/qr.svg" | grep_q '<svg' || fail "qr.svg"
api_run curl -sS -N -H "Authorization: Bearer $API_TOKEN" "$U/events" > "$T/events" &
SSE_PID=$!
sleep 0.5
api_wg_client "$T/alice.conf"
CNS ping -c 3 -W 1 -i 0.2 10.31.0.1 >/dev/null || fail "client cannot ping the server through the tunnel"
ok "a real client connects with the downloaded config"

wait_for 6 api_check $U/wireguard/interfaces/atasrv$N/peers/alice '.status.on_interface and .status.latest_handshake > 0' >/dev/null ||
  fail "live status of alice: $(api -sS "$U/wireguard/interfaces/atasrv$N/peers/alice")"
wait_for 8 grep -q '^data: {"engine":"wireguard","name":"atasrv'$N'/alice"}' "$T/events" >/dev/null ||
  fail "no SSE connect event for alice: $(grep -A1 '^event: connect' "$T/events" | head -4)"
grep -A1 '^event: connect' "$T/events" | grep_q "atasrv$N/alice" || fail "connect event"
grep -A1 '^event: traffic' "$T/events" | grep_q '"peer":"alice"' || fail "no traffic event for alice"
api_run curl -fsS "$API_URL/metrics" > "$T/metrics"
grep -Eq "^atlas_wireguard_peer_rx_bytes\{interface=\"atasrv$N\",peer=\"alice\"\} [1-9]" "$T/metrics" ||
  fail "metrics: $(grep wireguard "$T/metrics" | head)"
grep -Eq '^atlas_wireguard_peers_connected 1$' "$T/metrics" || fail "connected gauge"
ok "peer status shows the handshake; SSE connect and traffic events; per-peer metrics"

# issue 15.11: a rename keeps the keys and the address; WireGuard knows the peer by its
# key, so the loop leaves it on the interface: its handshake and its byte counters (both
# reset by a remove and re-add) go on.
hs() { SNS wg show atasrv$N latest-handshakes | awk -v k="$pub" '$1 == k {print $2}'; }
rx() { SNS wg show atasrv$N transfer | awk -v k="$pub" '$1 == k {print $2}'; }
hs0=$(hs); rx0=$(rx)
[ "${hs0:-0}" -gt 0 ] && [ "${rx0:-0}" -gt 0 ] || fail "no handshake or traffic before the rename: $hs0 $rx0"
runs=$(loop_runs api)
api -fsS -X PATCH -d '{"name":"bob"}' "$U/wireguard/interfaces/atasrv$N/peers/alice" > "$T/bob.json" ||
  fail "PATCH rename: $(api -sS -X PATCH -d '{"name":"bob"}' "$U/wireguard/interfaces/atasrv$N/peers/alice")"
jq -e --arg k "$pub" '.name == "bob" and .public_key == $k and .address == ["10.31.0.2/32"]' "$T/bob.json" >/dev/null ||
  fail "rename answer: $(cat "$T/bob.json")"
checks=$(loop_runs "check after fast apply")
wait_runs api "$runs" 10 >/dev/null || fail "no loop run after the rename"
# issue 18: an edit of one peer goes to the engine as one UAPI set of that peer (no
# observation nor plan of the others), recorded as such with the record file rewrite
api -fsS "$U/history" > "$T/h1.json"
jq -e '.runs[0].trigger == "api" and .runs[0].ok and
  (.runs[0].actions | map(.text) | .[0] | test("^~ wireguard/atasrv31 peer bob [(]one UAPI set")) and
  (.runs[0].actions | map(.text) | .[1] == "~ wireguard/atasrv31 record atasrv31.conf")' "$T/h1.json" >/dev/null ||
  fail "the rename was not one UAPI set: $(jq -c '.runs[0]' "$T/h1.json")"
# ... and published as a fast run (after an added peer, no status round of every peer follows at once)
wait_for 5 api_check "$U/status" '.last_run.fast == "changed"' >/dev/null ||
  fail "the fast run is not published as such: $(api -sS "$U/status" | jq -c .last_run)"
[ "$(hs)" = "$hs0" ] || fail "the rename disturbed the session: handshake $hs0 -> $(hs)"
[ "$(rx)" -ge "$rx0" ] || fail "the rename reset the peer's counters: $rx0 -> $(rx)"
CNS ping -c 2 -W 1 -i 0.2 10.31.0.1 >/dev/null || fail "client cut by the rename"
api -fsS "$U/wireguard/interfaces/atasrv$N/peers/bob/config" > "$T/bob.conf" || fail "GET bob's config"
[ "$(grep '^PrivateKey' "$T/bob.conf")" = "$(grep '^PrivateKey' "$T/alice.conf")" ] || fail "the rename changed the key"
api -fsS "$U/plan" | jq -e '.changes == 0' >/dev/null || fail "plan not empty after the rename: $(api -sS "$U/plan")"
code=$(api -o /dev/null -w '%{http_code}' "$U/wireguard/interfaces/atasrv$N/peers/alice")
[ "$code" = 404 ] || fail "the old name still answers: $code"
# the full check that follows (1 s later) finds nothing to do: it records no run
wait_runs "check after fast apply" "$checks" 10 >/dev/null || fail "no full check after the fast apply"
[ "$(api -fsS "$U/history" | jq '.runs[0].id')" = "$(jq '.runs[0].id' "$T/h1.json")" ] ||
  fail "the check after the fast apply changed something: $(api -sS "$U/history" | jq -c '.runs[0]')"
ok "rename alice -> bob: one UAPI set, same key and address, session undisturbed (handshake $hs0 kept, rx $rx0 -> $(rx)), plan empty, the full check after it quiet"

code=$(api -o /dev/null -w '%{http_code}' -X DELETE "$U/wireguard/interfaces/atasrv$N/peers/bob")
[ "$code" = 204 ] || fail "DELETE peer: $code"
ms=$(wait_for 10 absent "$pub" SNS wg show atasrv$N peers) ||
  fail "bob still on the interface after DELETE (or wg show failed)"
CNS ping -c 2 -W 1 10.31.0.1 >/dev/null 2>&1 && fail "client still reaches the server after DELETE"
wait_for 8 sh -c "grep -A1 '^event: disconnect' '$T/events' | grep 'atasrv$N/bob' >/dev/null" >/dev/null ||
  fail "no SSE disconnect event for bob: $(grep -A1 '^event: \(dis\)*connect' "$T/events" | tail -8)"
ok "DELETE peer: gone from the interface after ${ms} ms, client cut, SSE disconnect"

sleep 0.5
api -fsS "$U/plan" | jq -e '.changes == 0' >/dev/null || fail "plan not empty: $(api -sS "$U/plan")"
api -fsS "$U/status" | jq -e '.pending == false and .engines.wireguard.running' >/dev/null ||
  fail "status: $(api -sS "$U/status")"
api -fsS "$U/history" | jq -e '[.runs[] | select(.trigger == "api")] | length >= 2' >/dev/null ||
  fail "runs not recorded"
ok "converged: empty plan, nothing pending, runs recorded"

# an edit of another process (the CLI, on the same database) is what the
# next GET answers: the server reads the generation again when the
# database's files moved, not at every request
for name in carol dave; do
  SNS "$ATLAS_BIN" --data "$T/data" wg peer add "$name" -i atasrv$N > /dev/null || fail "atlas wg peer add $name"
  api -fsS "$U/wireguard/interfaces/atasrv$N/peers" | jq -e --arg n "$name" 'any(.[]; .name == $n)' > /dev/null ||
    fail "the API's list has no $name right after the CLI added it: $(api -sS "$U/wireguard/interfaces/atasrv$N/peers" | jq -c '[.[].name]')"
done
ok "peers the CLI added next to the server are in the API's next answer"

# the CLI and the API editing at once: neither undoes the other; a POST
# made from a generation the CLI moved on from is 409 (sent again here)
( for i in $(seq 1 10); do
    SNS "$ATLAS_BIN" --data "$T/data" wg peer add "cli$i" -i atasrv$N > /dev/null 2>> "$T/par-cli.err" ||
      echo "cli$i failed: $(tail -3 "$T/par-cli.err")"
  done ) > "$T/par-cli.out" &
par=$!
conflicts=0
for i in $(seq 1 10); do
  for try in 1 2 3 4 5; do
    code=$(api_answer -X POST -d "{\"name\":\"web$i\"}" "$U/wireguard/interfaces/atasrv$N/peers")
    [ "$code" = 409 ] || break
    conflicts=$((conflicts + 1))
  done
  [ "$code" = 201 ] || fail "POST web$i: $code $(cat "$T/body")"
done
wait "$par"
[ ! -s "$T/par-cli.out" ] || fail "CLI adds next to the API failed: $(cat "$T/par-cli.out")"
names=$(api -fsS "$U/wireguard/interfaces/atasrv$N/peers" | jq -r '.[].name')
for i in $(seq 1 10); do
  grep -qx "cli$i" <<<"$names" || fail "cli$i, added by the CLI while the API added peers, is gone"
  grep -qx "web$i" <<<"$names" || fail "web$i, added through the API while the CLI added peers, is gone"
done
ok "10 peers through the CLI and 10 through the API at once: all 20 kept ($conflicts POSTs answered 409 and sent again)"

# once settled, the server unmapped the start-up's pages of code and read-only
# data (file pages, still in the page cache) and served all of the above on
# with the pages it faulted back in
kib=$(sed -n 's/.*ticker: \([0-9]*\) KiB of file pages unmapped.*/\1/p' "$API_LOG" | head -1)
[ -n "$kib" ] && [ "$kib" -gt 500 ] || fail "no drop of the start-up's file pages logged (got '${kib}')"
rss_file=$(awk '$1 == "RssFile:" { print $2 }' /proc/$API_PID/status)
[ "$(api_code "$U/health")" = 200 ] || fail "/health after the drop"
ok "the settled server unmapped $kib KiB of start-up file pages; RssFile now $rss_file KiB"
# a login's password hash is one-off work: the next tick unmaps its pages
n=$(grep -c 'after one-off work: a password hash' "$API_LOG" || true)
api_login "$API_PW" > /dev/null || fail "a second login failed"
wait_for 10 sh -c "[ \$(grep -c 'after one-off work: a password hash' '$API_LOG') -gt $n ]" > /dev/null ||
  fail "no unmapping of file pages after a login"
[ "$(api_code "$U/health")" = 200 ] || fail "/health after the drop that followed a login"
ok "the pages a login's password hash touched were unmapped at the next tick"
# so are the pages of what the API served, once its requests stopped for a tick
n=$(grep -c 'after use: requests answered' "$API_LOG" || true)
for _ in 1 2 3; do api -fsS "$U/history" > /dev/null; api -fsS "$U/usage" > /dev/null; done
wait_for 10 sh -c "[ \$(grep -c 'after use: requests answered' '$API_LOG') -gt $n ]" > /dev/null ||
  fail "no unmapping of file pages after a round of requests"
[ "$(api_code "$U/health")" = 200 ] || fail "/health after the drop that followed the requests"
ok "the pages a round of requests touched were unmapped once they stopped"
