#!/usr/bin/env bash
# S3 cascading (seed, Figure 8): the appliance's middle is configured with a
# neighbour (lstp.neighbour) and connects each end onward to it instead of
# waiting for a second end.  The neighbour is a second middle written apart
# from ours (tests/tools/lstp_mock_middle.py, in the server namespace);
# ends are tests/tools/lstp_probe.py.  Checks:
#  - an end at the appliance and an end at the neighbour pair through both
#    middles: each receives the other's setup with EVERY hop listed (the
#    far end, then the middles in the order the setup crossed them), and
#    4 MiB each way cross both relays with sha256 intact;
#  - `show lstp` lists the pair as going onward (counters onward/onward_up);
#  - the neighbour unreachable (stopped): the end gets ERROR REFUSED, and the
#    pair is gone from `show lstp`.
# timeout: 120
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init lstp_cascade
SL_ON_FAIL=sl_tcp_diag

LPORT=7443 NPORT=7444
MID=$SL_C_GW
SL_CONF_EXTRA="lstp = { listen = \"$MID\"; port = $LPORT; name = \"mid-1\"; neighbour = { address = \"$SL_S_ADDR\"; port = $NPORT; }; };"
sl_appliance_start
PROBE=$SL_ROOT/tests/tools/lstp_probe.py
lstp_json() { sl_ctl_json show lstp; }

ip netns exec "$SL_NS_S" "$SL_PY" "$SL_ROOT/tests/tools/lstp_mock_middle.py" --bind "$SL_S_ADDR" \
	--port "$NPORT" --name mid-2 >"$SL_WORK/mock.log" 2>&1 &
mockpid=$!
sl_track_pid "$mockpid" lstp-mock-middle
sl_wait_for 10 "the neighbour middle listening" sl_listening_on "$SL_NS_S" "$SL_S_ADDR" "$NPORT" ||
	sl_fail "the mock middle did not start: $(cat "$SL_WORK/mock.log")"

# alice dials the appliance (which goes onward), bob dials the neighbour
ip netns exec "$SL_NS_C" "$SL_PY" "$PROBE" --addr "$MID" --port "$LPORT" --src "$SL_C_ADDR" \
	--common chain-1 --name alice --role client --size 4194304 >"$SL_WORK/a.out" 2>>"$SL_WORK/probe.err" &
pa=$!
sleep 0.5
ip netns exec "$SL_NS_S" "$SL_PY" "$PROBE" --addr "$SL_S_ADDR" --port "$NPORT" --src "$SL_S_ADDR" \
	--common chain-1 --name bob --role server --size 4194304 >"$SL_WORK/b.out" 2>>"$SL_WORK/probe.err" &
pb=$!
onward_listed() { [[ $(lstp_json | jq '[.pairs[] | select(.b == "'"$SL_S_ADDR:$NPORT"'")] | length') == 1 ]]; }
sl_wait_for 10 "the onward pair in show lstp" onward_listed || sl_fail "no onward pair: $(lstp_json)"
wait "$pa" || sl_fail "alice: $(cat "$SL_WORK/a.out" "$SL_WORK/probe.err")"
wait "$pb" || sl_fail "bob: $(cat "$SL_WORK/b.out" "$SL_WORK/probe.err")"
ja=$(head -1 "$SL_WORK/a.out") jb=$(head -1 "$SL_WORK/b.out")
jq -e '.topology | map(.name) == ["bob", "mid-2", "mid-1"]' <<<"$ja" >/dev/null ||
	sl_fail "alice should see bob, then the neighbour, then the appliance: $ja"
jq -e '.topology | map(.name) == ["alice", "mid-1", "mid-2"] and .[1].port == '"$LPORT"' and .[2].port == '"$NPORT" <<<"$jb" >/dev/null ||
	sl_fail "bob should see alice, then the appliance, then the neighbour: $jb"
ja=$(tail -1 "$SL_WORK/a.out") jb=$(tail -1 "$SL_WORK/b.out")
[[ $(jq -r .received_sha <<<"$ja") == $(jq -r .sent_sha <<<"$jb") &&
	$(jq -r .received_sha <<<"$jb") == $(jq -r .sent_sha <<<"$ja") &&
	$(jq -r .received <<<"$ja") == 4194304 && $(jq -r .received <<<"$jb") == 4194304 ]] ||
	sl_fail "4 MiB each way through both middles: $ja / $jb"
[[ $(lstp_json | jq .counters.onward_up) -ge 1 && $(lstp_json | jq .workers.onward_up) -ge 1 ]] ||
	sl_fail "onward counters did not move: $(lstp_json)"
sl_ok "an end at the appliance and one at the neighbour paired through both middles: every hop listed both ways, 4 MiB each way intact"

# the neighbour gone: the end hears why, nothing is left
kill "$mockpid"
wait "$mockpid" 2>/dev/null || true
got=$(ip netns exec "$SL_NS_C" "$SL_PY" - "$PROBE" "$MID" "$LPORT" "$SL_C_ADDR" <<'PY'
import sys
sys.path.insert(0, sys.argv[1].rsplit("/", 1)[0]); import lstp_probe as lp
s = lp.end(sys.argv[2], int(sys.argv[3]), b"chain-2", "carol", lp.CLIENT, src=sys.argv[4])
try:
    print("%s: %s" % lp.read_error(s))
except Exception as e:
    print("no ERROR: %s" % e)
PY
)
[[ $got == "REFUSED: the neighbour middle could not be reached" ]] ||
	sl_fail "with the neighbour down, expected ERROR REFUSED naming it; got: $got"
nopairs() { [[ $(lstp_json | jq '.pairs | length') == 0 ]]; }
sl_wait_for 10 "no pairs left" nopairs || sl_fail "a failed onward pair is still listed: $(lstp_json)"
sl_ok "the neighbour down: the end got ERROR REFUSED ($got), nothing left on the middle"
sl_assert_alive
sl_log "lstp cascade test passed"
