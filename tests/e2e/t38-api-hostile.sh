#!/usr/bin/env bash
# t38-api-hostile: hostile HTTP against `atlas serve` with a raw client
# (bash /dev/tcp): encoded NUL and other bytes no name holds are 400 before
# routing (a "%00" once cut a peer's path down to its interface and deleted
# the interface); duplicate Content-Length and Content-Length with
# Transfer-Encoding are 400 and close the connection (nothing smuggled in
# behind them is served); connections that never finish their header are
# closed and do not lock out other clients of the same address; SSE streams
# do not use up an address's connections; wrong logins slow down, never
# lock out the right password; streams end when their token is void.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
need ip timeout
PORT=18088
api_test 38 api-hostile $PORT

# raw REQUEST-TEXT: sends the bytes as they are, prints every answer the
# server gives on that connection until it closes it (or 5 s pass).
raw() {
  # the server may close before all is written (that is the point): no SIGPIPE death
  SNS bash -c 'trap "" PIPE; exec 3<>/dev/tcp/127.0.0.1/'$PORT' || exit 1
    printf "%b" "$1" >&3 2>/dev/null; timeout 5 cat <&3; true' _ "$1"
}
status_of() { head -1 | tr -d '\r' | awk '{print $2}'; }
AUTH="Authorization: Bearer $API_TOKEN"

# --- issue 16.5: "%00" and encoded bytes no name holds ---
api -fsS -o /dev/null -X POST "$U/wireguard/interfaces" -d '{"name":"ata8","listen_port":51838,"address":["10.58.0.1/24"]}' ||
  fail "create ata8"
api -fsS -o /dev/null -X POST "$U/wireguard/interfaces/ata8/peers" -d '{"name":"p1"}' || fail "create p1"
got=$(raw "DELETE /api/v1/wireguard/interfaces/ata8%00/peers/p1 HTTP/1.1\r\nHost: x\r\n$AUTH\r\nConnection: close\r\n\r\n" | status_of)
[ "$got" = 400 ] || fail "DELETE .../ata8%00/peers/p1 answered $got, not 400"
[ "$(api_code -H "$AUTH" "$U/wireguard/interfaces/ata8")" = 200 ] || fail "the interface ata8 is gone after a %00 path"
[ "$(api_code -H "$AUTH" "$U/wireguard/interfaces/ata8/peers/p1")" = 200 ] || fail "peer p1 is gone after a %00 path"
for target in '/index.html%00.js' '/api/v1/wireguard/interfaces/ata8%2F..%2F' '/api/v1/health%0d%0aX:%20y' \
              '/api/v1/wireguard/interfaces/ata%zz' '/api/v1/health?x=%00'; do
  got=$(raw "GET $target HTTP/1.1\r\nHost: x\r\n$AUTH\r\nConnection: close\r\n\r\n" | status_of)
  [ "$got" = 400 ] || fail "GET $target answered $got, not 400"
done
got=$(raw "GET /api/v1/wireguard/interfaces/at%61%38 HTTP/1.1\r\nHost: x\r\n$AUTH\r\nConnection: close\r\n\r\n" | status_of)
[ "$got" = 200 ] || fail "an encoded letter (at%61%38 = ata8) answered $got, not 200"
ok "%00, %2F, CR LF and bad escapes are 400 before routing; ata8 and p1 survive; %61 still works"

# --- issue 16.6: request smuggling through ambiguous framing ---
gen=$(api -fsS "$U/status" | jq .generation)
body='{"name":"p2"}'
smuggled="POST /api/v1/wireguard/interfaces/ata8/peers HTTP/1.1\r\nHost: x\r\n$AUTH\r\nContent-Length: 13\r\n\r\n{\"name\":\"p3\"}"
out=$(raw "POST /api/v1/wireguard/interfaces/ata8/peers HTTP/1.1\r\nHost: x\r\n$AUTH\r\nContent-Length: ${#body}\r\nContent-Length: 200\r\n\r\n$body$smuggled")
[ "$(status_of <<<"$out")" = 400 ] || fail "two Content-Length headers answered $(status_of <<<"$out"), not 400"
[ "$(grep -c '^HTTP/1' <<<"$out")" = 1 ] || fail "more than one answer on a connection with two Content-Length: $out"
grep -qi '^connection: close' <<<"$out" || fail "the 400 does not close the connection"
out=$(raw "POST /api/v1/wireguard/interfaces/ata8/peers HTTP/1.1\r\nHost: x\r\n$AUTH\r\nContent-Length: ${#body}\r\nTransfer-Encoding: chunked\r\n\r\n$body$smuggled")
[ "$(status_of <<<"$out")" = 400 ] || fail "Content-Length with Transfer-Encoding answered $(status_of <<<"$out"), not 400"
[ "$(grep -c '^HTTP/1' <<<"$out")" = 1 ] || fail "more than one answer after CL+TE: $out"
[ "$(api -fsS "$U/status" | jq .generation)" = "$gen" ] || fail "a smuggled request changed the state"
[ "$(api_code -H "$AUTH" "$U/wireguard/interfaces/ata8/peers/p3")" = 404 ] || fail "the smuggled peer p3 was created"
ok "duplicate Content-Length and CL+TE: 400, connection closed, nothing smuggled stored"

# --- issue 16.7: half-open connections, one address, SSE ---
# 70 connections from one address that never finish their header: before,
# the 65th connection of that address was refused; now, once their second of
# grace is over, the guard ends the oldest pending ones down to the cap of
# 32, and everyone else still gets in.
: > "$T/half-closed"; : > "$T/half-up"
for i in $(seq 1 70); do
  SNS bash -c 'trap "" PIPE; exec 3<>/dev/tcp/127.0.0.1/'$PORT' || exit 1; echo up >> "$2"
    printf "GET /api/v1/health HTTP/1.1\r\nHo" >&3 2>/dev/null; cat <&3 >/dev/null; echo closed >> "$1"' \
    _ "$T/half-closed" "$T/half-up" &
done
# all 70 connected (a loaded machine may need a while)
for i in $(seq 1 100); do [ "$(cat "$T/half-up" 2>/dev/null | wc -l)" -ge 70 ] && break; sleep 0.05; done
[ "$(cat "$T/half-up" 2>/dev/null | wc -l)" -ge 70 ] || fail "the 70 half-open connections did not all connect"
[ "$(api_code "$U/health")" = 200 ] || fail "/health from the same address is refused next to 70 half-open connections"
[ "$(api_code -H "$AUTH" "$U/status")" = 200 ] || fail "/status is refused next to 70 half-open connections"
# (within the 10 s header bound, which would end them all anyway)
for i in $(seq 1 60); do
  closed=$(cat "$T/half-closed" 2>/dev/null | wc -l)
  [ "$closed" -ge 38 ] && break
  sleep 0.1
done
[ "$closed" -ge 38 ] || fail "only $closed of 70 half-open connections of one address were ended (want >= 38: at most 32 pending)"
ok "70 half-open connections of one address: $closed ended, /health and /status answer"
# a header sent one byte a second never completes: the connection is ended
# (before, each byte renewed the 30 s idle timeout for ever)
SNS bash -c 'trap "" PIPE; exec 3<>/dev/tcp/127.0.0.1/'$PORT' || exit 1
  ( cat <&3 >/dev/null; echo eof > "$1" ) &
  for i in $(seq 1 40); do [ -e "$1" ] && break; printf "G" >&3 2>/dev/null || break; sleep 1; done
  wait' _ "$T/trickle-eof"
[ -e "$T/trickle-eof" ] || fail "a header trickled one byte a second for 40 s was never cut"
ok "a header trickled byte by byte is cut before it could hold the connection for ever"
# 80 SSE streams from one address (all users behind one proxy): every one opens
for i in $(seq 1 80); do
  SNS curl -sS -N -o "$T/sse.$i" -D "$T/sse-h.$i" "$U/events?token=$API_TOKEN" &
done
# a stream is open once its first event came (a 200 header alone may precede
# nothing); a stream the server cut shows as curl's "Empty reply from server"
for i in $(seq 1 300); do
  n=$( (grep -l '^event: ' "$T"/sse.* 2>/dev/null || true) | wc -l)
  [ "$n" -ge 80 ] && break
  sleep 0.1
done
[ "$n" -ge 80 ] || fail "only $n of 80 SSE streams from one address sent their first event (atlas serve $(kill -0 "$API_PID" 2>/dev/null && echo runs || echo "is gone"))"
[ "$(api_code "$U/health")" = 200 ] || fail "/health is refused next to 80 SSE streams"
ok "80 SSE streams from one address open, /health still answers"
# (the cleanup on exit ends every process left in the namespace)

# --- issue 16.9: a stream ends when its token stops being valid ---
ip netns exec ata-s$API_N curl -sS -N -o "$T/sse-old" "$U/events?token=$API_TOKEN" &
sse_pid=$!
for i in $(seq 1 50); do grep -q '^event: status' "$T/sse-old" 2>/dev/null && break; sleep 0.1; done
grep -q '^event: status' "$T/sse-old" || fail "the stream opened with the token sent nothing"
code=$(api_code -X POST -H "$AUTH" -d '{"current_password":"'"$API_PW"'","new_password":"another password 38"}' "$U/auth/password")
[ "$code" = 204 ] || fail "password change: $code"
for i in $(seq 1 100); do kill -0 $sse_pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $sse_pid 2>/dev/null; then
  kill $sse_pid; fail "the stream of a token voided by a password change still runs"
fi
ok "a password change ends the streams opened with the old token"

echo "PASS t38-api-hostile"
