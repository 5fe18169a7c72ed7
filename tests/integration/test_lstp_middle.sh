#!/usr/bin/env bash
# S3: the appliance as LSTP middle proxy (docs/lstp.md), driven by an
# independent encoder of the clear phase (tests/tools/lstp_probe.py).  One
# end in the client namespace, one in the server namespace, both dialling
# the `lstp` listener on the client-side gateway.  Checks:
#  - pairing in both arrival orders: each end receives the other's
#    COMMON_UNIQUE_INFO and TOPOLOGY_EXCHANGE with the middle's entry
#    appended (name from the config, role middle), then 16 MiB each way
#    cross the relay with sha256 intact; `show lstp` lists the pair with
#    both ends' names and the bytes;
#  - a third end with the same common waits (listed), and pairs with a
#    fourth;
#  - an end alone gets ERROR EXPIRED after wait_ms; one that sends nothing
#    gets ERROR EXPIRED after hello_timeout_ms; one whose first message is
#    not COMMON_UNIQUE_INFO gets ERROR UNEXPECTED; counters move;
#  - max_per_source (16): a flood of 20 distinct commons from one address
#    parks only 16 (ERROR REFUSED for the rest) while a pair from another
#    address still forms;
#  - `lstp drop` of a pair resets both ends; kill -9 of an end frees its
#    pair (both legs closed, nothing left in `show lstp`).
# timeout: 240
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init lstp_middle
SL_ON_FAIL=sl_tcp_diag

LPORT=7443
MID=$SL_C_GW
SL_CONF_EXTRA="lstp = { listen = \"$MID\"; port = $LPORT; name = \"mid-1\"; wait_ms = 3000; hello_timeout_ms = 1500; max_per_source = 16; };"
sl_appliance_start
PROBE=$SL_ROOT/tests/tools/lstp_probe.py

lstp_json() { sl_ctl_json show lstp; }
wcount() { lstp_json | jq -r ".workers.$1"; }
ccount() { lstp_json | jq -r ".counters.$1"; }

# end_spawn NS SRC COMMON NAME ROLE SIZE OUT [extra args]: one end in the
# background (the probe itself, so that kill -9 hits it; its socket
# timeouts bound it); its pid in $EP (not a $(...): wait needs our child)
end_spawn() {
	local ns=$1 src=$2 common=$3 name=$4 role=$5 size=$6 out=$7
	shift 7
	ip netns exec "$ns" "$SL_PY" "$PROBE" --addr "$MID" --port "$LPORT" \
		--src "$src" --common "$common" --name "$name" --role "$role" --size "$size" "$@" \
		>"$out" 2>>"$SL_WORK/probe.err" &
	EP=$!
}

pair_check() { # pair_check ORDER: first end, then the second
	local first=$1 c="pair-$1" a b pa pb ja jb
	a=$SL_WORK/$first-a.out b=$SL_WORK/$first-b.out
	if [[ $first == client ]]; then
		end_spawn "$SL_NS_C" "$SL_C_ADDR" "$c" alice client 16777216 "$a"
		pa=$EP
		sleep 0.5
		end_spawn "$SL_NS_S" "$SL_S_ADDR" "$c" bob server 16777216 "$b"
		pb=$EP
	else
		end_spawn "$SL_NS_S" "$SL_S_ADDR" "$c" bob server 16777216 "$b"
		pb=$EP
		sleep 0.5
		end_spawn "$SL_NS_C" "$SL_C_ADDR" "$c" alice client 16777216 "$a"
		pa=$EP
	fi
	wait "$pa" || sl_fail "end alice ($first first) failed: $(cat "$a" "$SL_WORK/probe.err")"
	wait "$pb" || sl_fail "end bob ($first first) failed: $(cat "$b" "$SL_WORK/probe.err")"
	ja=$(head -1 "$a") jb=$(head -1 "$b")
	[[ $(jq -r .peer_common <<<"$ja") == "$c" ]] || sl_fail "alice got the wrong setup: $ja"
	jq -e '.topology | map(.name) == ["bob", "mid-1"] and .[1].role == 3 and .[0].role == 2' <<<"$ja" >/dev/null ||
		sl_fail "alice's topology should be bob then the middle: $ja"
	jq -e ".topology | map(.name) == [\"alice\", \"mid-1\"] and .[1].port == $LPORT and .[1].addr == \"$MID\"" <<<"$jb" >/dev/null ||
		sl_fail "bob's topology should be alice then the middle at $MID:$LPORT: $jb"
	ja=$(tail -1 "$a") jb=$(tail -1 "$b")
	[[ $(jq -r .received <<<"$ja") == 16777216 && $(jq -r .received_sha <<<"$ja") == $(jq -r .sent_sha <<<"$jb") ]] ||
		sl_fail "bob -> alice through the middle: $jb / $ja"
	[[ $(jq -r .received <<<"$jb") == 16777216 && $(jq -r .received_sha <<<"$jb") == $(jq -r .sent_sha <<<"$ja") ]] ||
		sl_fail "alice -> bob through the middle: $ja / $jb"
	sl_ok "pairing, $first end first: each got the other's setup and the middle's entry; 16 MiB each way, sha256 intact"
}

# --- pairing in both orders, bytes intact ----------------------------------------
p0=$(wcount paired)
pair_check client
pair_check server
[[ $(wcount paired) -ge $((p0 + 2)) ]] || sl_fail "paired should count 2: $(lstp_json)"

# --- 12 pairs at once: on several workers most need a move ------------------------
m0=$(wcount moved_in)
pids=()
for i in $(seq 1 12); do
	end_spawn "$SL_NS_C" "$SL_C_ADDR" "many-$i" "a$i" client 1048576 "$SL_WORK/many-a$i.out"
	pids+=("$EP")
	end_spawn "$SL_NS_S" "$SL_S_ADDR" "many-$i" "b$i" server 1048576 "$SL_WORK/many-b$i.out"
	pids+=("$EP")
done
for p in "${pids[@]}"; do wait "$p" || sl_fail "one of 12 pairs failed: $(cat "$SL_WORK"/many-*.out)"; done
for i in $(seq 1 12); do
	ja=$(tail -1 "$SL_WORK/many-a$i.out") jb=$(tail -1 "$SL_WORK/many-b$i.out")
	[[ $(jq -r .received_sha <<<"$ja") == $(jq -r .sent_sha <<<"$jb") &&
		$(jq -r .received_sha <<<"$jb") == $(jq -r .sent_sha <<<"$ja") &&
		$(jq -r .received <<<"$ja") == 1048576 ]] || sl_fail "pair $i: $ja / $jb"
done
nw=$(sl_tcp_json | jq '.per_worker | length')
moved=$(($(wcount moved_in) - m0))
if ((nw > 1)); then
	((moved > 0)) || sl_fail "12 pairs on $nw workers: no end moved to its peer's worker: $(lstp_json)"
	[[ $(wcount move_failed) == 0 ]] || sl_fail "moves failed: $(lstp_json)"
fi
sl_ok "12 pairs at once, 1 MiB each way each, sha256 intact ($moved ends moved to their peer's worker, $nw workers)"
nopairs() { [[ $(lstp_json | jq '.pairs | length') == 0 ]]; }
sl_wait_for 15 "the 12 pairs gone" nopairs || sl_fail "pairs left after their ends closed: $(lstp_json)"

# --- show lstp while a pair relays ---------------------------------------------------
end_spawn "$SL_NS_C" "$SL_C_ADDR" show-1 carol client 0 "$SL_WORK/show-a.out" --hold
pa=$EP
end_spawn "$SL_NS_S" "$SL_S_ADDR" show-1 dave server 0 "$SL_WORK/show-b.out" --hold
pb=$EP
has_pair() { [[ $(lstp_json | jq '[.pairs[] | select(.topology == ["dave", "mid-1", "carol"] or .topology == ["carol", "mid-1", "dave"])] | length') == 1 ]]; }
sl_wait_for 10 "the pair in show lstp" has_pair || sl_fail "show lstp does not list carol/dave: $(lstp_json)"
sl_ctl show lstp >&2
pid=$(lstp_json | jq -r '.pairs[0].id')
# a third end with the same common waits for a fourth
end_spawn "$SL_NS_C" "$SL_C_ADDR" show-1 erin client 0 "$SL_WORK/show-c.out" --hold
pc=$EP
waits() { [[ $(lstp_json | jq '[.waiting[] | select(.name == "erin")] | length') == 1 ]]; }
sl_wait_for 10 "erin waiting" waits || sl_fail "a third end with the same common should wait: $(lstp_json)"
end_spawn "$SL_NS_S" "$SL_S_ADDR" show-1 frank server 0 "$SL_WORK/show-d.out" --hold
pd=$EP
two() { [[ $(lstp_json | jq '.pairs | length') == 2 && $(lstp_json | jq '.waiting | length') == 0 ]]; }
sl_wait_for 10 "erin paired with frank" two || sl_fail "the third end should pair with a fourth: $(lstp_json)"
sl_ok "show lstp lists the pair (topology, mode); a third end with the same common waited and paired with a fourth"

# --- lstp drop: both ends reset -----------------------------------------------------
sl_expect_rc 0 "lstp drop $pid" sl_ctl lstp drop "$pid"
wait "$pa" || true
wait "$pb" || true
gone() { [[ $(lstp_json | jq "[.pairs[] | select(.id == $pid)] | length") == 0 ]]; }
sl_wait_for 10 "pair $pid gone" gone || sl_fail "lstp drop left the pair: $(lstp_json)"
sl_ok "lstp drop $pid: both ends closed, the pair is gone"

# --- kill -9 of an end frees its pair --------------------------------------------------
kill -9 "$pc" 2>/dev/null || true
wait "$pc" 2>/dev/null || true
wait "$pd" || true
sl_wait_for 15 "no pairs left" nopairs || sl_fail "a killed end's pair is still listed: $(lstp_json)"
sl_ok "kill -9 of one end: its pair freed on the middle"

# --- errors ------------------------------------------------------------------------------
got=$(ip netns exec "$SL_NS_C" "$SL_PY" - "$PROBE" "$MID" "$LPORT" "$SL_C_ADDR" <<'PY'
import sys, time
sys.path.insert(0, sys.argv[1].rsplit("/", 1)[0]); import lstp_probe as lp
addr, port, src = sys.argv[2], int(sys.argv[3]), sys.argv[4]
out = []
# alone: EXPIRED after wait_ms (3 s)
s = lp.end(addr, port, b"nobody-else", "lonely", lp.CLIENT, src=src)
t0 = time.time()
code, text = lp.read_error(s)
out.append("alone:%s:%d" % (code, round(time.time() - t0)))
# silent: EXPIRED after hello_timeout_ms (1.5 s)
s = lp.connect(addr, port, src)
out.append("silent:%s" % lp.read_error(s)[0])
# wrong first message
s = lp.connect(addr, port, src)
s.sendall(lp.topology(lp.hop(lp.CLIENT, "x")))
out.append("wrong:%s" % lp.read_error(s)[0])
# not LSTP at all
s = lp.connect(addr, port, src)
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
out.append("http:%s" % lp.read_error(s)[0])
print(" ".join(out))
PY
)
[[ $got =~ ^alone:EXPIRED:[34]\ silent:EXPIRED\ wrong:UNEXPECTED\ http:(VERSION|MALFORMED)$ ]] ||
	sl_fail "errors: expected alone EXPIRED after ~3 s, silent EXPIRED, wrong UNEXPECTED, http VERSION/MALFORMED; got: $got"
[[ $(ccount expired) -ge 1 && $(wcount hello_timeouts) -ge 1 && $(wcount malformed) -ge 2 ]] ||
	sl_fail "error counters did not move: $(lstp_json)"
sl_ok "errors: $got (counters expired, hello_timeouts, malformed moved)"

# --- a flood from one address is bounded; others still pair ------------------------------
got=$(ip netns exec "$SL_NS_C" "$SL_PY" - "$PROBE" "$MID" "$LPORT" "$SL_C_ADDR" <<'PY'
import sys, time
sys.path.insert(0, sys.argv[1].rsplit("/", 1)[0]); import lstp_probe as lp
addr, port, src = sys.argv[2], int(sys.argv[3]), sys.argv[4]
socks, refused = [], 0
for i in range(20):
    s = lp.end(addr, port, b"flood-%d" % i, "f%d" % i, lp.CLIENT, src=src)
    socks.append(s)
time.sleep(1)
for s in socks:
    s.settimeout(0.2)
    try:
        code, _ = lp.read_error(s)
        refused += code == "REFUSED"
    except OSError:
        pass
print(refused)
time.sleep(1)
PY
)
[[ $got == 4 ]] || sl_fail "20 ends from one address with max_per_source 16: expected 4 refused, got $got"
[[ $(ccount refused_source) -ge 4 ]] || sl_fail "refused_source should count 4: $(lstp_json)"
ip -n "$SL_NS_C" addr add 198.18.0.3/24 dev "$SL_TAP_C" || sl_fail "second client address"
end_spawn "$SL_NS_S" "$SL_S_ADDR" after-flood gina server 4096 "$SL_WORK/fl-b.out"
pair_ok=$EP
end_spawn "$SL_NS_C" 198.18.0.3 after-flood hank client 4096 "$SL_WORK/fl-a.out"
pair_ok2=$EP
wait "$pair_ok" && wait "$pair_ok2" || sl_fail "a pair after the flood: $(cat "$SL_WORK"/fl-*.out)"
sl_ok "a flood of 20 from one address: 16 parked, 4 refused (max_per_source); another pair still formed"
sl_ctl show lstp >&2
sl_assert_alive
sl_log "lstp middle test passed"
