#!/usr/bin/env bash
# GitOps with real git: `atlas serve --watch` on the atlas.yaml of a git
# checkout. An admin commits in another clone and pushes; `git pull` in the
# watched checkout (git's own way of writing the file) adds a peer on the
# interface, a second pull removes one, and a `git revert` pulled in brings
# it back. Every change is a generation with trigger "watch".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-api.sh"
need ip wg wireguard-go git
N=38
api_test $N api-git
export GIT_AUTHOR_NAME=admin GIT_AUTHOR_EMAIL=admin@example.org
export GIT_COMMITTER_NAME=admin GIT_COMMITTER_EMAIL=admin@example.org
export GIT_CONFIG_NOSYSTEM=1 HOME=$T
G() { git -C "$T/admin" "$@" > /dev/null 2>&1 || fail "git $*"; }
commit() { # message, peer names...: the admin's commit, pushed
  local m=$1; shift
  api_wg_state "$@" > "$T/admin/atlas.yaml"
  G add atlas.yaml; G commit -q -m "$m"; G push -q origin HEAD:main
}
pull() { git -C "$T/server" pull -q --ff-only origin main > "$T/pull.log" 2>&1 || { cat "$T/pull.log"; fail "git pull"; }; }
peers() { SNS wg show atasrv$N peers; }
npeers() { local p; p=$(peers) || return 1; [ "$(grep -c . <<<"$p")" = "$1" ]; }
key() { api -fsS "$U/wireguard/interfaces/atasrv$N/peers/$1" | jq -r .public_key; }

git init -q --bare -b main "$T/origin.git" || fail "git init"
git clone -q "$T/origin.git" "$T/admin" 2>/dev/null || fail "git clone (admin)"
G checkout -q -b main
commit "alice and bob" alice bob
git clone -q -b main "$T/origin.git" "$T/server" 2>/dev/null || fail "git clone (server)"
F=$T/server/atlas.yaml
api_start "$T/data" 18088 --watch "$F"
U=$API_URL/api/v1
wait_for 15 npeers 2 >/dev/null || fail "the checked-out file not applied at start: $(peers)"
ok "serve --watch on a git checkout applies its atlas.yaml at start"

commit "add carol" alice bob carol
pull
wait_for 15 api_check "$U/wireguard/interfaces/atasrv$N/peers/carol" '.status.on_interface' >/dev/null ||
  fail "carol not on the interface after git pull"
carol=$(key carol)
present "$carol" peers || fail "carol's key not on the interface"
api -fsS "$U/history" | jq -e '.generations[0].trigger == "watch"' >/dev/null || fail "generation not from watch"
ok "git pull of a commit adding carol puts her on the interface"

bob=$(key bob)
commit "remove bob" alice carol
pull
wait_for 15 absent "$bob" peers >/dev/null || fail "bob still on the interface after git pull (or wg show failed)"
npeers 2 || fail "peers after removing bob: $(peers)"
ok "git pull of a commit removing bob takes him off the interface"

G revert --no-edit HEAD; G push -q origin HEAD:main
pull
wait_for 15 api_check "$U/wireguard/interfaces/atasrv$N/peers/bob" '.status.on_interface' >/dev/null ||
  fail "git revert pulled in did not bring bob back"
npeers 3 || fail "peers after the revert: $(peers)"
[ "$(key carol)" = "$carol" ] || fail "carol's key changed"
[ "$(api -fsS "$U/history" | jq '[.generations[] | select(.trigger == "watch")] | length')" -ge 3 ] ||
  fail "watch generations: $(api -sS "$U/history" | jq -c '[.generations[].trigger]')"
ok "git revert pulled in brings bob back; carol untouched; each pull is a watch generation"

# The file keeps the state: an edit through the CLI is refused while the
# watch runs (it would be applied, then stand against the file), and works
# again once the server is gone.
gen=$(api "$U/status" | jq .generation)
printf 'version: 1\n' > "$T/empty.yaml"
! "$ATLAS_BIN" --data "$T/data" import "$T/empty.yaml" > "$T/cli.out" 2>&1 ||
  fail "a CLI import went through while the watch runs: $(cat "$T/cli.out")"
grep_q "kept in $F by \`atlas serve --watch\` (pid $API_PID)" "$T/cli.out" || fail "CLI refusal: $(cat "$T/cli.out")"
! "$ATLAS_BIN" --data "$T/data" wg peer add dave -i atasrv$N > "$T/cli.out" 2>&1 ||
  fail "a CLI peer add went through while the watch runs"
grep_q 'edit that file instead' "$T/cli.out" || fail "CLI refusal: $(cat "$T/cli.out")"
[ "$(api "$U/status" | jq .generation)" = "$gen" ] || fail "a refused CLI edit stored a generation"
npeers 3 || fail "peers after the refused CLI edits: $(peers)"
# a second server on the same data is refused at once (and leaves the first one's claim)
! timeout 10 "$ATLAS_BIN" --data "$T/data" serve --listen 127.0.0.1:18089 --watch "$F" > "$T/second.out" 2>&1 ||
  fail "a second serve --watch started"
grep_q "another atlas serve runs on $T/data (pid $API_PID): stop it first" "$T/second.out" || fail "second serve: $(cat "$T/second.out")"
! "$ATLAS_BIN" --data "$T/data" import "$T/empty.yaml" > /dev/null 2>&1 || fail "the refused second watch released the claim"
api_stop
"$ATLAS_BIN" --data "$T/data" wg peer add dave -i atasrv$N > "$T/cli.out" 2>&1 ||
  fail "the CLI is still refused after the watch stopped: $(cat "$T/cli.out")"
ok "CLI edits refused while the watch keeps the state in the file (generation $gen kept); allowed after it stops"
