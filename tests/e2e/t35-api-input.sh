#!/usr/bin/env bash
# Bad input through the API: malformed JSON, wrong types, unknown fields,
# oversized bodies, hostile names (traversal, quotes, <script>, ;, $(),
# newlines) in bodies and paths: a clear 4xx naming the problem, nothing
# stored (the generation does not move), and the server never falls over.
# Slow and half-open connections do not block other clients.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
need ip
# Its own namespace: the interface created below is really applied by the loop.
api_test 35 api-input 18085
trap 'exec 3>&- 4>&- 2>/dev/null; api_test_end' EXIT
api_expect 201 '"name":"ata5"' -X POST "$U/wireguard/interfaces" -d '{"name":"ata5","listen_port":51835,"address":["10.55.0.1/24"]}'
api_expect 201 '"name":"alice"' -X POST "$U/wireguard/interfaces/ata5/peers" -d '{"name":"alice"}'
gen=$(api "$U/status" | jq .generation)
# No settings.host yet: a client file cannot be made; 409 says why, not 500.
api_expect 409 'settings.host is not set' "$U/wireguard/interfaces/ata5/peers/alice/config"

# Malformed or mistyped bodies.
api_expect 400 'malformed JSON' -X POST "$U/wireguard/interfaces/ata5/peers" -d '{"name":'
api_expect 400 'malformed JSON' -X POST "$U/wireguard/interfaces/ata5/peers" -d '{"name":"x","name":"y"}'
api_expect 400 'JSON object' -X POST "$U/wireguard/interfaces/ata5/peers" -d '["bob"]'
api_expect 400 'body is required' -X POST "$U/wireguard/interfaces/ata5/peers"
api_expect 422 '"field":"bogus"' -X POST "$U/wireguard/interfaces/ata5/peers" -d '{"name":"bob","bogus":1}'
api_expect 422 '"field":"keepalive"' -X POST "$U/wireguard/interfaces/ata5/peers" -d '{"name":"bob","keepalive":"25"}'
api_expect 422 '70000 is out of range' -X PATCH "$U/wireguard/interfaces/ata5/peers/alice" -d '{"keepalive":70000}'
api_expect 422 '"field":"disabled"' -X PATCH "$U/wireguard/interfaces/ata5/peers/alice" -d '{"disabled":"yes"}'
api_expect 422 'secret' -X PATCH "$U/wireguard/interfaces/ata5/peers/alice" -d '{"private_key":"x"}'
api_expect 422 'cannot be renamed' -X PATCH "$U/wireguard/interfaces/ata5" -d '{"name":"mallory"}'
api_expect 422 '"field":"address"' -X PATCH "$U/wireguard/interfaces/ata5/peers/alice" -d '{"address":["10.55.0.300/32"]}'
api_expect 422 'udp, tcp' -X PATCH "$U/openvpn" -d '{"network":"10.56.0.0/24","proto":"sctp"}'
api_expect 409 'exists already' -X POST "$U/wireguard/interfaces/ata5/peers" -d '{"name":"alice"}'
api_expect 409 'not managed' -X POST "$U/openvpn/clients" -d '{"name":"bob"}'
ok "malformed, mistyped and unknown fields refused with the field named"

# A GET's body, edited and sent back (its live status with it), is taken.
api -fsS "$U/wireguard/interfaces/ata5/peers/alice" | jq '.note = "sent back"' > "$T/alice.json"
jq -e 'has("status")' "$T/alice.json" > /dev/null || fail "the peer's GET has no status to send back"
api_expect 200 '"note":"sent back"' -X PATCH "$U/wireguard/interfaces/ata5/peers/alice" --data-binary @"$T/alice.json"
gen=$(api "$U/status" | jq .generation)
ok "a peer's GET body with a changed note, sent back as a PATCH: 200"

# Hostile names in bodies: 422 naming the value; nothing stored.
for name in '../../etc/passwd' 'a\"b' '<script>alert(1)</script>' 'a;reboot' '$(id)' '`id`' \
            'a\nb' 'UPPER' 'a b' '' "$(printf 'x%.0s' $(seq 64))" '-lead' '.hidden' 'é'; do
  api_expect 422 'name' -X POST "$U/wireguard/interfaces/ata5/peers" -d "{\"name\":\"$name\"}"
done
api_expect 422 '"field":"expires"' -X PATCH "$U/wireguard/interfaces/ata5/peers/alice" -d '{"expires":"2030-01-01\nx"}'
[ "$(api "$U/status" | jq .generation)" = "$gen" ] || fail "a refused request changed the generation"
ok "hostile names refused; generation unchanged ($gen)"

# Hostile names in paths: never a file path, never a match.
for p in '..%2F..%2Fetc%2Fpasswd' '%3Cscript%3E' 'a%3Bb' '%24(id)' 'a%0Ab' 'a%22b' '..' 'ALICE'; do
  # an encoded byte no name may hold is refused before routing (400);
  # a plain name that does not exist is not found (404)
  case $p in *%*) want=400 ;; *) want=404 ;; esac
  c=$(api_answer "$U/wireguard/interfaces/ata5/peers/$p")
  [ "$c" = $want ] || fail "GET peer \"$p\" -> $c, want $want"
  c=$(api_answer -X DELETE "$U/openvpn/clients/$p")
  [ "$c" = $want ] || fail "DELETE client \"$p\" -> $c, want $want"
done
c=$(api_code --path-as-is "$API_URL/../../../etc/passwd"); [ "$c" = 404 ] || fail "static traversal -> $c"
c=$(api_code --path-as-is "$API_URL/api/v1/../../etc/passwd"); [ "$c" = 404 ] || fail "api traversal -> $c"
api_expect 405 'not allowed' -X PUT "$U/wireguard/interfaces/ata5"
api_expect 404 'no such endpoint' "$U/nothing/here"
ok "hostile path names: 404, nothing read from disk"

# Oversized bodies: declared (Content-Length) and streamed (chunked).
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' 'a' > "$T/big"
api_expect 413 'larger than' -X POST "$U/wireguard/interfaces/ata5/peers" --data-binary @"$T/big"
api_expect 413 'larger than' -X POST -H 'Transfer-Encoding: chunked' "$U/wireguard/interfaces/ata5/peers" --data-binary @"$T/big"
head -c $((16 * 1024 * 1024 + 1)) /dev/zero | tr '\0' '#' > "$T/huge"
api_expect 413 'larger than' -X PUT "$U/state" --data-binary @"$T/huge"
printf 'version: 1\nwireguard:\n  interfaces:\n  - name: ata5\n    listen_port: 99999\n' > "$T/bad.yaml"
api_expect 422 '"line":5' -X PUT "$U/state" --data-binary @"$T/bad.yaml"
printf 'version: 1\n  bad indent: [\n' > "$T/bad2.yaml"
api_expect 422 '"errors":\[\{"line"' -X PUT "$U/state?dry_run=1" --data-binary @"$T/bad2.yaml"
api_expect 400 'dry_run' -X PUT "$U/state?dry_run=maybe" --data-binary @"$T/bad2.yaml"
api_expect 400 'with_settings must be 1 or 0' -X POST "$U/history/1/restore?with_settings=2"
api_expect 400 'with_settings must be 1 or 0' "$U/history/1?with_settings=yes"
[ "$(api "$U/status" | jq .generation)" = "$gen" ] || fail "a refused import changed the generation"
ok "oversized bodies 413, invalid YAML 422 with line numbers, nothing stored"

# Slow and half-open clients hold a socket, not a worker.
# Stalled clients inside the server namespace (bash's /dev/tcp, held open by a sleeping shell).
SNS bash -c 'exec 3<>/dev/tcp/127.0.0.1/18085; printf "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n" >&3
  exec 4<>/dev/tcp/127.0.0.1/18085; printf "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"us" >&4
  for i in $(seq 1 20); do exec {fd}<>/dev/tcp/127.0.0.1/18085; done; sleep 30' &
STALL_PID=$!
# stalled: the 22 connections of the stalling shell, open on the server's side.
stalled() { SNS ss -Htn state established "( sport = :18085 )" | wc -l; }
stalled_open() { [ "$(stalled)" -ge 22 ]; }
wait_for 10 stalled_open >/dev/null ||
  fail "the stalled connections are not open: $(stalled)"
start=$(date +%s%N)
for i in $(seq 1 20); do
  api_run curl -fsS --max-time 20 "$U/health" >/dev/null || fail "request $i blocked by slow clients"
done
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$(stalled)" -ge 22 ] || fail "stalled connections were dropped during the requests: $(stalled) left"
alive "$STALL_PID" || fail "the stalling shell ended early"
kill -0 "$API_PID" || fail "atlas serve died"
kill $STALL_PID 2>/dev/null || true
ok "22 stalled connections, open throughout, do not block 20 other requests (${ms} ms, logged only)"
