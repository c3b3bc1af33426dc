#!/usr/bin/env bash
# t46-singbox-sub: the subscription of a running `atlas serve` with the real
# sing-box. A VLESS+REALITY and a Shadowsocks 2022 inbound are created with
# alice through the API; the links of GET /sub/TOKEN are turned into sing-box
# client configs by this test's own parser (written from the public link
# conventions: vless:// query parameters, SIP002 ss:// with the 2022
# userinfo METHOD:SERVERKEY:USERKEY percent-encoded), never by Atlas, and each
# fetches a page of the "internet" through the server. sing-box's status
# joins GET /api/v1/status and /metrics (running, the user's connection and
# bytes). A burst of 20 user additions through the API reloads sing-box once
# (same pid, one more "sing-box started" in its log), not 20 times.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/lib-sb.sh
. tests/e2e/lib-api.sh
# lib-api's fail_details shows the server's log; the sing-box log too
fail_details() {
  for f in "$T/data.log" "$D/singbox/sing-box.log"; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done
  return 0
}

net_setup 46
export API_NS=$SRV
PORT=18146
api_start "$D" $PORT
U=$API_URL/api/v1
expect() { # WANT CURL-ARGS...
  local want=$1; shift
  local got; got=$(api_answer "$@")
  [ "$got" = "$want" ] || fail "$* -> $got, want $want: $(cat "$T/body")"
}
# applied: the stored generation is applied and nothing is pending
applied() { api_check "$U/status" '.pending == false and .generation == .applied_generation'; }

# the empty start settles first (its file pages unmapped), so that sing-box,
# and libcurl with it, come in after that drop
wait_for 10 grep -q 'file pages unmapped' "$D.log" >/dev/null ||
  fail "the settled server logged no unmapping of file pages"
expect 200 -X PATCH "$U/settings" -d "{\"host\":\"$SRV_IP\",\"singbox_binary\":\"$SB\",
  \"panel_url\":\"http://127.0.0.1:$PORT/\"}"
expect 201 -X POST "$U/singbox/inbounds" -d "{\"name\":\"edge\",\"type\":\"vless\",\"port\":443,
  \"security\":\"reality\",\"server_name\":\"www.example.com\",\"reality_handshake\":\"$NET_IP:443\",
  \"users\":[{\"name\":\"alice\"}]}"
expect 201 -X POST "$U/singbox/inbounds" -d '{"name":"ss","type":"shadowsocks","port":8388,
  "method":"2022-blake3-aes-128-gcm","users":[{"name":"alice"}]}'
wait_for 20 applied >/dev/null || fail "the inbounds were not applied: $(api -sS "$U/status")"
wait_for 10 sh -c "[ -s '$D/run/sing-box.pid' ]" >/dev/null || fail "no sing-box pid file"
pid=$(sb_pid)
alive "$pid" || fail "sing-box does not run after the API's apply"
ok "two inbounds created through the API, applied by atlas serve (sing-box pid $pid)"
# libcurl came in with sing-box, after the start had settled and its pages
# were unmapped: the tick after that load unmaps what its start-up touched
grep -q 'libcurl' "/proc/$API_PID/maps" || fail "atlas serve manages sing-box without libcurl loaded"
wait_for 10 grep -q 'file pages unmapped .*(a library was loaded since the last time)' "$D.log" >/dev/null ||
  fail "no unmapping of file pages after libcurl's load"
ok "the pages libcurl's load touched were unmapped at the next tick"

# The subscription, fetched without login.
expect 200 "$U/singbox/users/alice/subscription"
url=$(jq -er .url "$T/body")
[ "$(ip netns exec "$SRV" curl -sS -D "$T/h" -o "$T/sub" -w '%{http_code}' "$url")" = 200 ] \
  || fail "GET /sub/TOKEN: $(cat "$T/sub")"
tr -d '\r' < "$T/h" | grep_q -i '^Subscription-Userinfo: upload=' || fail "no Subscription-Userinfo: $(cat "$T/h")"
base64 -d < "$T/sub" > "$T/links" || fail "the subscription is not base64"
[ "$(grep -c '^vless://' "$T/links")" = 1 ] && [ "$(grep -c '^ss://' "$T/links")" = 1 ] \
  || fail "want one vless and one ss link: $(cat "$T/links")"

# The test's own parser: a link on stdin -> a sing-box client config (a mixed
# inbound on 127.0.0.1:PORT, one outbound "out") on stdout.
cat > "$T/link2client.py" <<'PY'
import base64, json, sys
from urllib.parse import urlsplit, parse_qs, unquote

link, port = sys.stdin.read().strip(), int(sys.argv[1])
u = urlsplit(link)
q = {k: v[0] for k, v in parse_qs(u.query).items()}
host = u.hostname
if u.scheme == "vless":
    out = {"type": "vless", "server": host, "server_port": u.port, "uuid": unquote(u.username)}
    if q.get("flow"):
        out["flow"] = q["flow"]
    if q.get("type", "tcp") != "tcp":
        sys.exit("transport %s not handled by this parser" % q["type"])
    sec = q.get("security", "none")
    if sec == "reality":
        out["tls"] = {"enabled": True, "server_name": q["sni"],
                      "utls": {"enabled": True, "fingerprint": q.get("fp", "chrome")},
                      "reality": {"enabled": True, "public_key": q["pbk"], "short_id": q.get("sid", "")}}
    elif sec != "none":
        sys.exit("security %s not handled by this parser" % sec)
elif u.scheme == "ss":
    # SIP002: userinfo is percent-encoded METHOD:PASSWORD (2022 ciphers) or
    # base64url of it (older ciphers); the 2022 password is SERVERKEY:USERKEY
    ui = unquote(link[5:].rsplit("@", 1)[0])
    if ":" not in ui:
        ui = base64.urlsafe_b64decode(ui + "=" * (-len(ui) % 4)).decode()
    method, password = ui.split(":", 1)
    out = {"type": "shadowsocks", "server": host, "server_port": u.port,
           "method": method, "password": password}
else:
    sys.exit("unknown scheme " + u.scheme)
out["tag"] = "out"
print(json.dumps({"log": {"level": "warn"},
                  "inbounds": [{"type": "mixed", "tag": "local", "listen": "127.0.0.1", "listen_port": port}],
                  "outbounds": [out], "route": {"final": "out"}}, indent=1))
PY
link_client() { # SCHEME PORT
  grep "^$1://" "$T/links" | python3 "$T/link2client.py" "$2" > "$T/$1.json" || fail "cannot parse the $1 link"
  ip netns exec "$CLI" "$SB" run -c "$T/$1.json" > "$T/$1.client.log" 2>&1 &
  for _ in $(seq 50); do
    ip netns exec "$CLI" bash -c "exec 3<>/dev/tcp/127.0.0.1/$2" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "the $1 client does not listen on $2"
}
link_client vless 1080
link_client ss 1081
[ "$(fetch 1080)" = "hello from the internet 46" ] || fail "the vless:// link of /sub does not carry a fetch"
[ "$(fetch 1081)" = "hello from the internet 46" ] || fail "the ss:// link of /sub does not carry a fetch"
jq -e '.outbounds[0].tls.reality.enabled and .outbounds[0].flow == "xtls-rprx-vision"' "$T/vless.json" >/dev/null \
  || fail "the vless link did not give REALITY with vision: $(cat "$T/vless.json")"
jq -e '.outbounds[0].password | split(":") | length == 2' "$T/ss.json" >/dev/null \
  || fail "the ss link's password is not SERVERKEY:USERKEY"
ok "both links of /sub, parsed by the test itself, fetch a page through the server"

# sing-box in the status and /metrics, like the other engines: running and
# alice's open connection (a slow download in flight) and her bytes.
ip netns exec "$CLI" curl -s --max-time 60 --socks5-hostname 127.0.0.1:1080 \
  -o /dev/null "http://$NET_IP:8080/slow/200" &
xfer=$!
wait_for 15 api_check "$U/status" '.engines.singbox.running == true and .engines.singbox.connected == 1' >/dev/null \
  || fail "the status does not show sing-box running with alice connected: $(api -sS "$U/status" | jq -c .engines.singbox)"
ip netns exec "$SRV" curl -sS "$API_URL/metrics" > "$T/metrics"
grep_q '^atlas_engine_running{engine="singbox"} 1$' "$T/metrics" || fail "/metrics lacks sing-box running: $(grep engine_running "$T/metrics")"
grep_q '^atlas_singbox_user_connections{user="alice"} [1-9]' "$T/metrics" || fail "/metrics lacks alice's open connection: $(grep singbox "$T/metrics")"
grep -Eq '^atlas_singbox_user_downlink_bytes\{user="alice"\} [1-9][0-9]*$' "$T/metrics" \
  || fail "/metrics lacks alice's downloaded bytes: $(grep singbox "$T/metrics")"
kill "$xfer" 2>/dev/null || true; wait "$xfer" 2>/dev/null || true
ok "sing-box joins /api/v1/status and /metrics: running, alice connected, her bytes"

# A burst of 20 VLESS user additions: one reload, same pid.
before=$(starts)
[ "$before" -ge 1 ] || fail "no 'sing-box started' in the sing-box log"
args=()
for i in $(seq 1 20); do
  [ $i = 1 ] || args+=(--next)
  args+=(-sS -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $API_TOKEN"
         -X POST "$U/singbox/inbounds/edge/users" -d "{\"name\":\"u$i\"}")
done
ip netns exec "$SRV" curl "${args[@]}" > "$T/burst.codes"
[ "$(grep -c '^201$' "$T/burst.codes")" = 20 ] || fail "the burst: $(tr '\n' ' ' < "$T/burst.codes")"
wait_for 20 applied >/dev/null || fail "the burst was not applied: $(api -sS "$U/status")"
api_check "$U/singbox/inbounds/edge" '.users == 21' || fail "edge has not 21 users: $(api -sS "$U/singbox/inbounds/edge")"
[ "$(sb_pid)" = "$pid" ] && alive "$pid" || fail "the burst restarted sing-box (pid $pid -> $(sb_pid))"
[ "$(starts)" = $((before + 1)) ] || fail "20 additions reloaded sing-box $(( $(starts) - before )) times, want once"
# the 20th user is in the running config: the reload happened after the last POST
grep_q '"name": "u20"' "$D/singbox/config.json" || fail "u20 is not in the installed config"
[ "$(fetch 1080)" = "hello from the internet 46" ] || fail "alice cannot fetch after the reload"
ok "20 user additions in a row: one reload (same pid $pid), all 20 installed"
