#!/usr/bin/env bash
# S4 against bad agents and floods:
#  - a certificate from another CA is refused by the handshake itself;
#  - a valid certificate naming no configured agent is refused after it;
#  - garbage, an oversized frame, an OK for a request never sent and an
#    unknown type each get an ERROR naming it, then that control session
#    closes while the agent's STREAM session stays up; each is counted;
#  - 10,000 SYNs from 100 clients of vnet a toward a black hole stay within
#    the held-SYN bounds (per client, per vnet), every refusal counted, while
#    a client of vnet b connects normally during the flood.
# timeout: 300
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
SL_ON_FAIL=sl_agent_diag
sl_instance_init agent_bad
sl_need_pkgs tinyproxy:tinyproxy-bin nft:nftables || exit 77
sl_certs
[[ -x $SL_AGENT ]] || sl_die "$SL_AGENT not built"
SRV=$SL_SITE_SRV
SL_AGENTS_CONF_EXTRA="hold_timeout_ms = 3000; connect_timeout_ms = 1500; keepalive_ms = 2000;
  held_max = 512; held_per_source = 4; held_per_vnet = 256;"
sl_agent_appliance_start

poke() { # poke CERT ARGS...: scripts/agentpoke.py from site A's agent host
	ip netns exec "$SL_NS_SA" "$SL_PY" "$SL_ROOT/scripts/agentpoke.py" --host "$SL_WAN_ADDR" \
		--ca "$SL_CERTS/ca.pem" --cert "$SL_CERTS/$1.pem" --key "$SL_CERTS/$1.key" "${@:2}"
}
app() { sl_ctl_json show apps | jq -r --arg f "$1" '.apps[] | select(.name == "agents") | .[$f]'; }

# --- certificates -----------------------------------------------------------
e0=$(app handshake_errors)
r=$(poke rogue --hello)
sl_log "rogue CA: $r"
# TLS 1.3: the client's side of the handshake ends before the server has
# checked the client's certificate, so the refusal is the server's alert
[[ $(jq -r .handshake <<<"$r") != ok ]] ||
	[[ $(jq -r '[.received[] | select(.type == 2)] | length' <<<"$r") == 0 &&
		$(jq -r .closed <<<"$r") == true && $r == *"unknown ca"* ]] ||
	sl_fail "a certificate from another CA was accepted: $r"
e1=$(app handshake_errors)
((e1 > e0)) || sl_fail "the refused handshake was not counted ($e0 -> $e1)"
sl_ok "certificate from another CA: refused by the handshake (handshake_errors $e0 -> $e1)"

v0=$(app verify_failures)
r=$(poke stranger --hello)
sl_log "unknown name: $r"
[[ $(jq -r .closed <<<"$r") == true && $(jq -r '.received | map(select(.type == 2)) | length' <<<"$r") == 0 ]] ||
	sl_fail "an agent name not configured got a session: $r"
v1=$(app verify_failures)
((v1 > v0)) || sl_fail "the unknown name was not counted ($v0 -> $v1)"
grep -q "certificate names no configured agent" "$SL_WORK/cp.log" || sl_fail "sluice-cp did not say why"
sl_ok "valid certificate, unknown name: refused and counted"

# --- malformed and forged messages --------------------------------------------
bad() { # bad WHAT CODE (0: any ERROR)
	local what=$1 code=$2 r m0 m1
	m0=$(sl_agent_field site-a errors_sent)
	r=$(poke site-a --hello --send "$what" --keep-stream 1)
	sl_log "$what: $r"
	# code 0: any (random bytes fail whichever check they meet first)
	[[ $(jq -r --argjson c "$code" '[.received[] | select(.type == 9 and ($c == 0 or .code == $c))] | length' <<<"$r") == 1 &&
		$(jq -r .closed <<<"$r") == true ]] ||
		sl_fail "$what: want ERROR code $code, then the session closed: $r"
	[[ $(jq -r .stream_survived <<<"$r") == true ]] || sl_fail "$what: the agent's STREAM session was closed too: $r"
	m1=$(sl_agent_field site-a errors_sent)
	((m1 == m0 + 1)) || sl_fail "$what: errors_sent $m0 -> $m1"
	sl_ok "$what: ERROR $(jq -r '.received[] | select(.type == 9) | .text' <<<"$r"); control session closed, STREAM session kept"
}
bad garbage 0
bad oversized 2
bad forged-ok 6
bad badtype 3
(($(sl_agent_field site-a malformed) >= 3)) || sl_fail "malformed frames not counted: $(sl_agents_json)"
sl_assert_alive

# --- a SYN flood toward a black hole -----------------------------------------------
sl_agents_up
mac=$(sl_ctl_json show ports | jq -r '.ports[0].mac')
sl_spawn "$SL_WORK/flood.log" synflood --ns "$SL_NS_C" -- "$SL_PY" "$SL_ROOT/scripts/synflood.py" \
	--iface "$SL_TAP_C" --src 198.18.0.10 --srcs 100 --dst 198.19.203.5 --dport 80 --dst-mac "$mac" \
	--pps 2000 --count 10000 --seconds 30
flood=$SL_LAST_PID
max_held=0
ok_b=0
while sl_pid_alive "$flood"; do
	# the bounds are per worker (docs/config.md): the fullest worker's count
	h=$(sl_ctl_json show workers | jq '[.workers[].held] | max')
	((h > max_held)) && max_held=$h
	if ((h > 0 && ${listed:-0} == 0)); then
		# show held lists them: client, server, agent, age
		listed=$(sl_ctl_json show held | jq '[.held[] | select(.server == "198.19.203.5" and .agent == "site-a" and .age_ms >= 0)] | length')
	fi
	if got=$(ip netns exec "$SL_NS_C" curl -sS -m 5 --interface "$SL_C2_ADDR" "http://$SRV/" 2>&1) &&
		[[ $got == site-b ]]; then
		ok_b=$((ok_b + 1))
	else
		sl_fail "vnet b's client failed during the flood: $got"
	fi
	sleep 0.5
done
wait "$flood" || true
sl_log "flood: $(tail -n 1 "$SL_WORK/flood.log"); most held at once on a worker: $max_held; vnet b fetched $ok_b times"
((max_held <= 256)) || sl_fail "a worker held $max_held SYNs (bound per vnet and worker: 256)"
((${listed:-0} > 0)) || sl_fail "show held listed none of the held SYNs"
((ok_b >= 3)) || sl_fail "too few fetches during the flood ($ok_b) to show anything"
errs=$(sl_ctl_json show errors)
src=$(sl_json_counter agent_held_source <<<"$errs")
vn=$(sl_json_counter agent_held_vnet <<<"$errs")
sl_log "refused: $src per source, $vn per vnet"
((src > 0 && vn > 0)) || sl_fail "the bounds were not what refused the flood ($src per source, $vn per vnet)"
drained() { [[ $(sl_agents_json | jq -r .workers.held) == 0 ]]; }
sl_wait_for 15 "the held SYNs to time out" drained || sl_fail "SYNs still held after the flood"
sl_ok "10,000 SYNs from 100 clients: at most $max_held held, $src + $vn refused by the bounds, vnet b served throughout"
sl_assert_alive
sl_log "test agent bad passed"
