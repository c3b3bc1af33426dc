#!/usr/bin/env bash
# atlas adopt singbox (issue 14): a hand-written sing-box config.json with a
# VLESS+REALITY and a Shadowsocks 2022 inbound runs (started by hand, as a
# systemd unit would), and two sing-box clients configured by hand from the
# same keys fetch a page through it. `atlas adopt singbox --dry-run` stores
# nothing; the adoption keeps the UUID, the REALITY private key, short id
# and target, the Shadowsocks server and user keys, and takes the running
# process over as it runs: right after the adoption `atlas plan` exits 0, an
# apply touches nothing, the same sing-box pid keeps serving and a transfer
# that was open through the VLESS client during the adoption completes
# intact. Then a change that needs a reload (a new user) is announced with
# the TCP connections it drops and reloads that same process into Atlas's
# config.json; the SAME client processes, never restarted, with their old
# settings, fetch again through both inbounds; the plan is then empty.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/e2e/lib-sb.sh

net_setup 152
E=$T/etc/sing-box
mkdir -p "$E"
kp=$("$SB" generate reality-keypair)
RPRIV=$(echo "$kp" | awk '/PrivateKey/ {print $2}')
RPUB=$(echo "$kp" | awk '/PublicKey/ {print $2}')
UUID=$("$SB" generate uuid)
SID=$("$SB" generate rand --hex 8)
SSK=$("$SB" generate rand --base64 16)
UKA=$("$SB" generate rand --base64 16)
UKB=$("$SB" generate rand --base64 16)
cat > "$E/config.json" <<EOF
{
  "log": {"level": "info", "timestamp": true},
  "inbounds": [
    {
      "type": "vless",
      "tag": "vless-in",
      "listen": "::",
      "listen_port": 443,
      "users": [{"name": "alice", "uuid": "$UUID", "flow": "xtls-rprx-vision"}],
      "tls": {
        "enabled": true,
        "server_name": "www.example.com",
        "reality": {
          "enabled": true,
          "handshake": {"server": "$NET_IP", "server_port": 443},
          "private_key": "$RPRIV",
          "short_id": ["$SID"]
        }
      }
    },
    {
      "type": "shadowsocks",
      "tag": "ss-in",
      "listen": "::",
      "listen_port": 8388,
      "method": "2022-blake3-aes-128-gcm",
      "password": "$SSK",
      "users": [{"name": "alice", "password": "$UKA"}, {"name": "bob", "password": "$UKB"}]
    }
  ],
  "outbounds": [{"type": "direct", "tag": "direct"}],
  "route": {"final": "direct"}
}
EOF
"$SB" check -c "$E/config.json" || fail "sing-box check refuses the hand-written config (test premise)"
ip netns exec "$SRV" "$SB" run -c "$E/config.json" > "$T/old.log" 2>&1 &
OLD=$!
for _ in $(seq 50); do ip netns exec "$SRV" bash -c "exec 3<>/dev/tcp/127.0.0.1/8388" 2>/dev/null && break; sleep 0.1; done

# the clients, written by hand from the keys (as a user of that server has them)
cat > "$T/vless.client.json" <<EOF
{"log": {"level": "info"},
 "inbounds": [{"type": "mixed", "tag": "local", "listen": "127.0.0.1", "listen_port": 1080}],
 "outbounds": [{"type": "vless", "tag": "out", "server": "$SRV_IP", "server_port": 443,
   "uuid": "$UUID", "flow": "xtls-rprx-vision",
   "tls": {"enabled": true, "server_name": "www.example.com",
           "utls": {"enabled": true, "fingerprint": "chrome"},
           "reality": {"enabled": true, "public_key": "$RPUB", "short_id": "$SID"}}}],
 "route": {"final": "out"}}
EOF
cat > "$T/ss.client.json" <<EOF
{"log": {"level": "info"},
 "inbounds": [{"type": "mixed", "tag": "local", "listen": "127.0.0.1", "listen_port": 1081}],
 "outbounds": [{"type": "shadowsocks", "tag": "out", "server": "$SRV_IP", "server_port": 8388,
   "method": "2022-blake3-aes-128-gcm", "password": "$SSK:$UKB"}],
 "route": {"final": "out"}}
EOF
cp "$T/vless.client.json" "$T/vless.client.orig"; cp "$T/ss.client.json" "$T/ss.client.orig"
for c in vless ss; do
  ip netns exec "$CLI" "$SB" run -c "$T/$c.client.json" > "$T/$c.client.log" 2>&1 &
  echo $! > "$T/$c.client.pid"
done
for p in 1080 1081; do
  for _ in $(seq 50); do ip netns exec "$CLI" bash -c "exec 3<>/dev/tcp/127.0.0.1/$p" 2>/dev/null && break; sleep 0.1; done
done
want="hello from the internet 152"
[ "$(fetch 1080)" = "$want" ] || fail "the VLESS+REALITY client cannot fetch through the old server (test premise)"
[ "$(fetch 1081)" = "$want" ] || fail "the Shadowsocks client cannot fetch through the old server (test premise)"
ok "old server: alice (VLESS+REALITY) and bob (Shadowsocks) fetch through it"

# Atlas's settings only (where sing-box is, what clients connect to)
printf 'version: 1\nsettings:\n  host: %s\n  singbox_binary: %s\n' "$SRV_IP" "$SB" > "$T/settings.yaml"
cli import "$T/settings.yaml" > /dev/null
gen0=$(cli history | grep -c '^  [0-9]' || true)

# --- dry run: nothing stored ---
cli adopt singbox "$E/config.json" --dry-run > "$T/dry.out" 2>&1 || { cat "$T/dry.out"; fail "adopt --dry-run"; }
grep_q '^--- plan after adoption' "$T/dry.out" || { cat "$T/dry.out"; fail "dry run printed no plan"; }
# the plan the real adoption will show: sing-box taken over as it runs, nothing started or set
grep_q "would have adopted the running sing-box: pid $OLD" "$T/dry.out" || { cat "$T/dry.out"; fail "the dry run does not say it would take over pid $OLD"; }
grep_q '^singbox: no changes: adopted' "$T/dry.out" || { cat "$T/dry.out"; fail "the dry run's plan does not leave sing-box alone"; }
! grep_q 'singbox start\|ssm api' "$T/dry.out" || { cat "$T/dry.out"; fail "the dry run's plan starts sing-box or sets users"; }
[ "$(cli history | grep -c '^  [0-9]' || true)" = "$gen0" ] || fail "the dry run stored a generation"
ok "dry run: YAML and plan printed, nothing stored"

# --- malformed: nothing stored ---
head -c 300 "$E/config.json" > "$T/truncated.json"
if cli adopt singbox "$T/truncated.json" > "$T/trunc.out" 2>&1; then fail "a truncated config was adopted"; fi
grep_q -E "truncated.json:[0-9]+:[0-9]+: " "$T/trunc.out" || { cat "$T/trunc.out"; fail "no file:line:col for a truncated config"; }
[ "$(cli history | grep -c '^  [0-9]' || true)" = "$gen0" ] || fail "a refused adoption stored a generation"
ok "truncated config refused at $(grep -oE 'truncated.json:[0-9]+:[0-9]+' "$T/trunc.out" | head -1), nothing stored"

# --- the adoption, with a transfer open through the VLESS client ---
SLOW=$((160 * 65536)) # bytes of /slow/160: open on the server side for 8 s
xfer() { # PORT OUT: a slow download in the background
  ip netns exec "$CLI" curl -sS --max-time 60 --socks5-hostname "127.0.0.1:$1" \
    -o "$2" "http://$NET_IP:8080/slow/160" &
}
xfer 1080 "$T/during-adopt.bin"; XFER=$!
sleep 1
cli adopt singbox "$E/config.json" > "$T/adopt.out" 2>&1 || { cat "$T/adopt.out"; fail "adopt singbox"; }
cat "$T/adopt.out"
grep_q "adopted the running sing-box: pid $OLD" "$T/adopt.out" || fail "the running sing-box was not taken over"
grep_q '^plan: empty' "$T/adopt.out" || fail "the adoption's plan is not empty"
[ "$(plan_rc)" = 0 ] || { cat "$T/plan.out"; fail "atlas plan right after adoption is not empty (exit $(plan_rc))"; }
grep_q '^singbox: no changes: adopted' "$T/plan.out" || { cat "$T/plan.out"; fail "the plan does not say sing-box is adopted"; }
cli apply > "$T/apply0.out" 2>&1 || { cat "$T/apply0.out"; fail "apply after adoption"; }
if grep -qE '^(ok|FAIL) ' "$T/apply0.out"; then cat "$T/apply0.out"; fail "an apply after adoption changed something"; fi
[ "$(sb_pid)" = "$OLD" ] && alive "$OLD" || fail "the adopted sing-box is not Atlas's managed process (pid $(sb_pid), was $OLD)"
wait "$XFER" || fail "the transfer open during the adoption failed"
[ "$(stat -c %s "$T/during-adopt.bin")" = "$SLOW" ] || fail "the transfer open during the adoption was cut: $(stat -c %s "$T/during-adopt.bin") of $SLOW bytes"
[ "$(fetch 1081)" = "$want" ] || fail "the Shadowsocks client cannot fetch after the adoption"
ok "adopted as it runs: plan empty (exit 0), apply touched nothing, same pid $OLD, a transfer open during the adoption completed ($SLOW bytes)"
cli export --secrets > "$T/export.yaml"
grep_q -F -- "$UUID" "$T/export.yaml" || fail "the UUID was not kept"
grep_q -F -- "$RPRIV" "$T/export.yaml" || fail "the REALITY private key was not kept"
grep_q "reality_public_key: $RPUB" "$T/export.yaml" || fail "the REALITY public key is not the clients' one"
grep_q -F -- "$SID" "$T/export.yaml" || fail "the short id was not kept"
grep_q "reality_handshake: $NET_IP:443" "$T/export.yaml" || fail "the REALITY target was not kept"
grep_q -F -- "$SSK" "$T/export.yaml" && grep_q -F -- "$UKB" "$T/export.yaml" || fail "the Shadowsocks keys were not kept"
ok "adopted: UUID, REALITY keys, short id, target, Shadowsocks keys kept"

# --- a change that needs a reload: announced with what it drops, the same process reloaded ---
yq -y '(.singbox.inbounds[] | select(.name == "vless-in") | .users) += [{"name": "carol"}]' \
  "$T/export.yaml" > "$T/next.yaml"
cli import "$T/next.yaml" > /dev/null || fail "import with carol"
xfer 1080 "$T/during-reload.bin"; XFER=$!
sleep 1
[ "$(plan_rc)" = 2 ] || { cat "$T/plan.out"; fail "adding carol plans nothing"; }
cat "$T/plan.out"
grep -E '^  ~ singbox reload: drops [1-9][0-9]* TCP connections? \(counted from the kernel' "$T/plan.out" |
  grep_q "Atlas's config.json replaces the adopted one" ||
  fail "the reload does not say how many connections it drops"
wait "$XFER" || true
apply_converged
[ "$(sb_pid)" = "$OLD" ] && alive "$OLD" || fail "the reload did not keep the adopted process (pid $(sb_pid), was $OLD)"
grep_q atlas-api "$E/config.json" || fail "Atlas's config.json is not at the adopted path"
cmp -s "$T/vless.client.json" "$T/vless.client.orig" && cmp -s "$T/ss.client.json" "$T/ss.client.orig" || fail "client configs changed"
for c in vless ss; do alive "$(cat "$T/$c.client.pid")" || fail "the $c client process died"; done
[ "$(fetch 1080)" = "$want" ] || fail "the VLESS+REALITY client, old settings, cannot fetch through Atlas's sing-box"
[ "$(fetch 1081)" = "$want" ] || fail "the Shadowsocks client, old settings, cannot fetch through Atlas's sing-box"
ok "announced reload into Atlas's config (same pid $OLD): the same client processes, old settings, fetch through it (VLESS+REALITY and Shadowsocks)"
[ "$(plan_rc)" = 0 ] || { cat "$T/plan.out"; fail "final plan not empty"; }
echo "PASS t52-adopt-sb"
