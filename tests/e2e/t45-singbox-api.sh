#!/usr/bin/env bash
# sing-box through the API of the real `atlas serve`: inbounds created with
# their first users, users added and removed, answers that never carry a
# secret; a person's links and profile; GET /sub/TOKEN without login (the
# headers, base64 of the links, ?format=singbox as JSON); a wrong, a rotated
# (API and CLI) and a removed person's token answer 404; misses are limited
# per client address. No sing-box runs here: the downloads are rendered from
# the desired state, whatever the engine's driver does.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
need ip base64 date
NS=atsa-s45
api_ns_test $NS sb-api
fail_details() { tail -20 "$T/data.log"; }
export ATLAS_SERVICE_MODE=direct
PORT=18145
api_start "$T/data" $PORT
U=$API_URL/api/v1
# A subscriber's fetch: no Authorization header; from ADDR (127.0.0.1 by default).
sub() { # URL [ADDR] -> status; headers in $T/h, body in $T/b
  ip netns exec $NS curl -sS --interface "${2:-127.0.0.1}" -D "$T/h" -o "$T/b" -w '%{http_code}' "$1"
}
header() { tr -d '\r' < "$T/h" | sed -n "s/^$1: //Ip"; }

api_expect 200 'vpn.example.org' -X PATCH "$U/settings" \
  -d "{\"host\":\"vpn.example.org\",\"panel_url\":\"http://127.0.0.1:$PORT/\"}"
gen=$(api "$U/status" | jq .generation)
api_expect 422 'inbound has no users' -X POST "$U/singbox/inbounds" -d '{"name":"edge","type":"vless","port":8443,"server_name":"www.example.com"}'
api_expect 422 '"field":"users\[0\].uuid"' -X POST "$U/singbox/inbounds" \
  -d '{"name":"edge","type":"vless","port":8443,"users":[{"name":"alice","uuid":"0b4e7f4c-2d5f-4b8e-9c1a-3e2f6a7b8c9d"}]}'
[ "$(api "$U/status" | jq .generation)" = "$gen" ] || fail "a refused inbound was stored"
api_expect 201 '"users":2' -X POST "$U/singbox/inbounds" -d '{"name":"edge","type":"vless","port":8443,
  "server_name":"www.example.com","users":[{"name":"alice","quota_bytes":1000,"expires":"2030-01-01"},{"name":"bob"}]}'
api_expect 201 '"users":1' -X POST "$U/singbox/inbounds" -d '{"name":"ss","type":"shadowsocks","port":8388,
  "users":[{"name":"alice","quota_bytes":2000,"expires":"2029-06-30"}]}'
api_expect 201 '"name":"carol"' -X POST "$U/singbox/inbounds/edge/users" -d '{"name":"carol","note":"tablet"}'
api_expect 422 'use its own endpoint' -X PATCH "$U/singbox/inbounds/edge" -d '{"users":[]}'
api_expect 422 'inbound has no users' -X DELETE "$U/singbox/inbounds/ss/users/alice"
api_expect 200 '"users":3' "$U/singbox/inbounds/edge"
ok "inbounds created with their first users; no inbound without users, by POST or DELETE"

# The profile carries alice's secrets; no JSON answer does.
api_expect 200 '"outbounds"' "$U/singbox/users/alice/profile"
jq -e . "$T/body" >/dev/null || fail "the profile is not JSON"
uuid=$(jq -er '.outbounds[] | select(.tag == "edge") | .uuid' "$T/body")
sspw=$(jq -er '.outbounds[] | select(.tag == "ss") | .password' "$T/body")
[ -n "$uuid" ] && [ -n "$sspw" ] || fail "profile without alice's secrets"
for p in singbox singbox/inbounds singbox/inbounds/edge singbox/inbounds/edge/users \
         singbox/inbounds/edge/users/alice singbox/inbounds/ss/users state; do
  api -fsS "$U/$p" > "$T/read" || fail "GET $p"
  ! grep -qF -- "$uuid" "$T/read" || fail "GET $p shows alice's uuid"
  ! grep -qF -- "${sspw##*:}" "$T/read" || fail "GET $p shows alice's shadowsocks key"
done
ok "no answer carries a uuid or a key; the profile does"

# The subscription, fetched as a client does: no login.
api_expect 200 '"url"' "$U/singbox/users/alice/subscription"
url=$(jq -er .url "$T/body")
tok=${url##*/}
[ "$url" = "http://127.0.0.1:$PORT/sub/$tok" ] && [ ${#tok} -ge 20 ] || fail "subscription URL $url"
[ "$(sub "$url")" = 200 ] || fail "GET /sub/TOKEN: $(cat "$T/b")"
info=$(header Subscription-Userinfo)
want_exp=$(date -u -d 2030-01-02 +%s)
# total: the quota enforced, the first of alice's inbounds that gives one (edge's 1000), not a sum
[ "$info" = "upload=0; download=0; total=1000; expire=$want_exp" ] || fail "Subscription-Userinfo: '$info'"
[ "$(header Profile-Update-Interval)" = 12 ] || fail "Profile-Update-Interval: $(header Profile-Update-Interval)"
base64 -d < "$T/b" > "$T/links" || fail "the body is not base64: $(cat "$T/b")"
[ "$(wc -l < "$T/links")" = 1 ] || fail "links: $(cat "$T/links")" # two links, one newline between
grep -Eq "^vless://$uuid@vpn\.example\.org:8443\?.*#edge$" "$T/links" || fail "no vless link: $(cat "$T/links")"
grep -Eq '^ss://2022-blake3-aes-128-gcm%3A.*@vpn\.example\.org:8388#ss$' "$T/links" || fail "no ss link: $(cat "$T/links")"
api -fsS "$U/singbox/users/alice/links" > "$T/api-links"
[ "$(cat "$T/links")" = "$(cat "$T/api-links")" ] || fail "subscription and API links differ"
ok "GET /sub/TOKEN: headers $info, base64 of the links the API and the profile agree on"

[ "$(sub "$url?format=singbox")" = 200 ] || fail "?format=singbox: $(cat "$T/b")"
jq -e --arg u "$uuid" '[.outbounds[] | select(.tag == "edge" and .uuid == $u)] | length == 1' "$T/b" >/dev/null \
  || fail "?format=singbox is not alice's profile: $(head -c 300 "$T/b")"
header Content-Type | grep_q '^application/json' || fail "profile type $(header Content-Type)"
[ -n "$(header Subscription-Userinfo)" ] || fail "no Subscription-Userinfo on the profile"
[ "$(sub "$url?format=clash")" = 400 ] || fail "an unknown format was served"
ok "?format=singbox: alice's sing-box profile, as JSON"

wrong=$(openssl rand -hex 12)
[ "$(sub "http://127.0.0.1:$PORT/sub/$wrong")" = 404 ] || fail "a wrong token answered $(cat "$T/b")"
[ "$(sub "http://127.0.0.1:$PORT/sub/${tok:0:${#tok}-1}")" = 404 ] || fail "a token's prefix was accepted"
api_expect 200 '"url"' -X POST "$U/singbox/users/alice/subscription/rotate"
url2=$(jq -er .url "$T/body")
[ "$url2" != "$url" ] || fail "rotation kept the URL"
[ "$(sub "$url")" = 404 ] || fail "the rotated token still works"
[ "$(sub "$url2")" = 200 ] || fail "the new token does not work"
base64 -d < "$T/b" | cmp -s - "$T/links" || fail "the new token serves other links"
api -fsS "$U/history" | jq -e '.generations[0].summary == "rotate sing-box subscription alice"' >/dev/null \
  || fail "history: $(api -fsS "$U/history" | jq -c '.generations[0]')"
# The CLI's rotation, on the same store while the server runs.
"$ATLAS_BIN" --data "$T/data" singbox sub --rotate alice > "$T/cli-url" 2>/dev/null || fail "atlas singbox sub --rotate"
[ "$(sub "$url2")" = 404 ] || fail "the token rotated by the CLI still works"
[ "$(sub "$(cat "$T/cli-url")")" = 200 ] || fail "the CLI's new URL does not work"
url3=$(cat "$T/cli-url")
ok "a wrong token and a rotated one (API, CLI) answer 404; the new one works"

# Misses are limited per address: 10 from 127.0.0.2, then 429 even for a good token there.
for i in $(seq 1 10); do
  [ "$(sub "http://127.0.0.1:$PORT/sub/$(openssl rand -hex 12)" 127.0.0.2)" = 404 ] || fail "miss $i: $(cat "$T/b")"
done
[ "$(sub "$url3" 127.0.0.2)" = 429 ] || fail "the 11th fetch was not limited: $(cat "$T/b")"
[ -n "$(header Retry-After)" ] || fail "429 without Retry-After"
[ "$(sub "$url3")" = 200 ] || fail "another address was limited too"
api_login "$API_PW" >/dev/null || fail "the admin's login was limited by subscription misses"
ok "10 misses from one address, then 429 with Retry-After there only"

# A person removed from every inbound loses the subscription.
[ "$(api_answer -X DELETE "$U/singbox/inbounds/edge/users/alice")" = 204 ] || fail "DELETE alice from edge: $(cat "$T/body")"
[ "$(sub "$url3")" = 200 ] && [ "$(base64 -d < "$T/b" | grep -c '^ss://')" = 1 ] \
  && ! base64 -d < "$T/b" | grep_q vless || fail "after leaving edge: $(cat "$T/b")"
[ "$(api_answer -X DELETE "$U/singbox/inbounds/ss")" = 204 ] || fail "DELETE ss: $(cat "$T/body")"
[ "$(sub "$url3")" = 404 ] || fail "a removed person's token still works"
api_expect 404 'no sing-box inbound has a user' "$U/singbox/users/alice/subscription"
api_expect 200 '"name":"bob"' "$U/singbox/users/bob/subscription"
kill -0 "$API_PID" || fail "atlas serve died"
ok "a person in no inbound has no subscription any more; the others keep theirs"
