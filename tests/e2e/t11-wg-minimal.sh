#!/usr/bin/env bash
# WireGuard, issue 3: minimal change, proven. While alice pings continuously,
# adding a peer, changing another peer's allowed IPs (its address) and removing
# a third loses none of alice's pings, leaves alice's latest handshake
# unchanged, and never re-sends the listen port (its UDP socket stays the same).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-wg.sh"
PING=
wg_on_exit() { [ -z "$PING" ] || kill $PING 2>/dev/null; }
wg_setup 2

state() {  # state BOB_ADDRESS WITH_CAROL WITH_DAVE
  wg_yaml_head
  cat <<Y
    - name: atwsrv$N
      listen_port: 51822
      address: [10.66.$N.1/24]
      peers:
        - name: alice
          address: [10.66.$N.2/32]
          allowed_ips: [10.66.$N.0/24]
        - name: bob
          address: [$1]
Y
  [ "$2" = 1 ] && printf '        - name: carol\n          address: [10.66.%s.4/32]\n' $N
  [ "$3" = 1 ] && printf '        - name: dave\n          address: [10.66.%s.5/32]\n' $N
  true
}
state 10.66.$N.3/32 1 0 > "$T/s1.yaml"
A import "$T/s1.yaml" > /dev/null
SA apply > /dev/null
A wg config alice > "$T/alice.conf"
wg_client $N "$T/alice.conf"
C ping -c 2 -i 0.2 -W 2 10.66.$N.1 > /dev/null || fail "alice cannot ping"
alice=$(A export | awk '/name: alice/{f=1} f && !d && /public_key:/{print $2; d=1}')
hs0=$(wg_handshake atwsrv$N "$alice")
ino0=$(udp_inode 51822)
[ -n "$hs0" ] && [ "$hs0" != 0 ] || fail "no handshake for alice"
[ -n "$ino0" ] || fail "no UDP socket on 51822"
ok "alice connected (handshake $hs0, socket $ino0)"

# 60 pings, 12 s: the pinger must still be running after the last apply
# (checked below), or "none lost" would say nothing about the applies.
C ping -c 60 -i 0.2 -W 2 10.66.$N.1 > "$T/ping.log" 2>&1 & PING=$!
wait_for 5 grep -q 'bytes from' "$T/ping.log" > /dev/null || fail "the pinger got no reply before the applies"
# One generation: dave added, bob's address (his server-side AllowedIPs) changed, carol removed.
state "10.66.$N.33/32, 10.66.$N.34/32" 0 1 > "$T/s2.yaml"
A import "$T/s2.yaml" > /dev/null
expect_rc 2 SA plan > "$T/plan"
SA apply > "$T/apply" || { cat "$T/apply"; fail "apply"; }
cat "$T/apply"
grep -q "peer alice" "$T/apply" && fail "apply touched alice"
grep -qi "listen port" "$T/apply" && fail "apply re-sent the listen port"
grep -q -- "- wireguard/atwsrv$N peer carol" "$T/apply" || fail "carol not removed"
grep -q "+ wireguard/atwsrv$N peer dave" "$T/apply" || fail "dave not added"
grep -q "~ wireguard/atwsrv$N peer bob: allowed ips 10.66.$N.3/32 -> 10.66.$N.33/32, 10.66.$N.34/32" "$T/apply" || fail "bob not changed"
# Then one peer at a time through the CLI, still while alice pings.
A wg peer add erin > /dev/null
SA apply > /dev/null
A wg peer rm dave > /dev/null
SA apply > /dev/null
alive $PING || fail "the pinger ended before the last apply: its count proves nothing"
wait $PING; PING=
sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$T/ping.log")
recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T/ping.log")
[ "$sent" = 60 ] && [ "$recv" = 60 ] || { cat "$T/ping.log"; fail "alice lost pings: $recv of $sent"; }
ok "alice lost none of 60 pings across four applies (the pinger outlived the last one)"
hs1=$(wg_handshake atwsrv$N "$alice")
[ "$hs1" = "$hs0" ] || fail "alice's latest handshake changed: $hs0 -> $hs1"
ok "alice's latest handshake unchanged ($hs1)"
ino1=$(udp_inode 51822)
[ "$ino1" = "$ino0" ] || fail "the listen socket was rebound: $ino0 -> $ino1"
[ "$(S wg show atwsrv$N listen-port)" = 51822 ] || fail "listen port"
ok "listen port never re-sent: same UDP socket ($ino1)"
S wg show atwsrv$N allowed-ips | grep -c "10.66.$N.33/32 10.66.$N.34/32" > /dev/null || fail "bob's allowed ips live"
expect_rc 0 SA plan > /dev/null
ok "converged"
