#!/usr/bin/env bash
# S4 end to end: clients of two vnets reach two remote sites through agents
# that dialled out to the appliance (site B through an HTTP CONNECT proxy),
# with full TCP/IP transparency.
#  - the same server address 198.19.200.10 answers "site-a" to a vnet-a
#    client and "site-b" to a vnet-b client;
#  - a SYN probe (scapy) of open, closed, unreachable, prohibited and
#    black-holed targets gets, field by field, what the site's own network
#    gives: SYN-ACK (MSS no larger than the server's), RST+ACK from the
#    server's address and port with ack = seq + 1, ICMP 3/1 and 3/13 from the
#    vnet's gateway quoting the SYN, and host unreachable after the hold;
#    the verdicts equal an nmap scan run inside the site;
#  - a SYN retransmitted three times during the hold: one connect at the
#    agent, one SYN-ACK;
#  - bulk transfers both ways through each site, sha256 compared;
#  - ping through the agent, to a black-holed host, to the gateway;
#  - an agent killed with -9 during transfers: clients get RST, nothing
#    leaks, the restarted agent serves new flows.
# timeout: 600
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
SL_ON_FAIL=sl_agent_diag
sl_instance_init agent_e2e
sl_need_pkgs tinyproxy:tinyproxy-bin nft:nftables nmap || exit 77
sl_certs
[[ -x $SL_AGENT ]] || sl_die "$SL_AGENT not built"

SRV=$SL_SITE_SRV
sl_agent_appliance_start

agents_json() { sl_agents_json; }
agent_field() { sl_agent_field "$@"; }
astat() { agents_json | jq -r ".workers.$1"; }
probe() { # probe SRC DST PORT [ARGS]: one SYN with scapy, the answer as JSON
	ip netns exec "$SL_NS_C" "$SL_PY" "$SL_ROOT/scripts/synprobe.py" --src "$1" --dst "$2" --dport "$3" "${@:4}"
}

# --- no agent yet: a held SYN gets host unreachable from the gateway --------
r=$(probe "$SL_C_ADDR" "$SRV" 80 --timeout 8)
sl_log "no agent: $r"
[[ $(jq -r .kind <<<"$r") == icmp && $(jq -r .icmp_type <<<"$r") == 3 &&
	$(jq -r .icmp_code <<<"$r") == 1 && $(jq -r .src <<<"$r") == "$SL_C_GW" ]] ||
	sl_fail "without an agent, a SYN must get ICMP 3/1 from $SL_C_GW: $r"
sl_ok "no agent connected: ICMP host unreachable from the gateway"

# --- agents up ---------------------------------------------------------------
sl_agents_up
sl_ctl show agents >&2
sl_log "idle STREAM sessions by worker: $(sl_agents_json | jq -c "[.agents[] | {(.name): .pool_idle_by_worker, retires}]")"
sl_ctl show vnets >&2

# --- the same address, two sites ----------------------------------------------
got=$(ip netns exec "$SL_NS_C" curl -sS -m 10 --interface "$SL_C_ADDR" "http://$SRV/")
[[ $got == site-a ]] || sl_fail "vnet a: expected site-a, got '$got'"
got=$(ip netns exec "$SL_NS_C" curl -sS -m 10 --interface "$SL_C2_ADDR" "http://$SRV/")
[[ $got == site-b ]] || sl_fail "vnet b: expected site-b, got '$got'"
sl_ok "$SRV answers site-a to $SL_C_ADDR and site-b to $SL_C2_ADDR"
# the server closes first, so the appliance's client leg ends in TIME-WAIT;
# the client may reuse its port at once (RFC 6191), and must get through
# (the client reads to the end before it closes, so it is the passive closer
# and holds no TIME-WAIT itself: only the appliance's side stands in the way)
got=$(ip netns exec "$SL_NS_C" "$SL_PY" - "$SL_C_ADDR" "$SRV" <<'PY'
import socket, sys, time
for i in range(3):
    # our FIN's ACK must have come back (LAST-ACK over) before the pair is
    # free on this side; the appliance's TIME-WAIT lasts 60 s
    time.sleep(0.3)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], 41000))
    s.settimeout(5)
    try:
        s.connect((sys.argv[2], 80))
        s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
        d = b''
        while True:
            b = s.recv(4096)
            if not b:
                break
            d += b
    except OSError as e:
        print('connection %d: %s' % (i + 1, e))
        sys.exit(0)
    s.close()
    if not d.endswith(b'site-a\n'):
        print('connection %d: %r' % (i + 1, d[-40:]))
        sys.exit(0)
print('ok')
PY
)
[[ $got == ok ]] || sl_fail "a client port reused while the appliance holds the pair in TIME-WAIT: $got"
sl_ok "a client port reused at once while its last connection is in TIME-WAIT here"

# --- transparency: every answer as the site's own network gives it ------------
sl_log "scan from inside site A (the reference):"
ref=$(sl_site_scan "$SL_NS_SA")
sed 's/^/    | /' <<<"$ref" >&2
via=$(sl_site_scan "$SL_NS_C")
sl_log "the same scan from $SL_NS_C through the appliance:"
sed 's/^/    | /' <<<"$via" >&2
# the states must be equal; the reasons may differ only where the site
# gives silence and the appliance answers after its hold (black hole)
diff <(awk '{print $1, $2}' <<<"$ref") <(awk '{print $1, $2}' <<<"$via") >&2 ||
	sl_fail "the scan through the appliance differs from the scan inside the site"
sl_ok "nmap -sS: same verdict for every target as inside the site"

ack_of() { echo $((($(jq -r .seq_sent <<<"$1") + 1) % 4294967296)); }
r=$(probe "$SL_C_ADDR" "$SRV" 80)
sl_log "open: $r"
[[ $(jq -r .kind <<<"$r") == synack && $(jq -r .src <<<"$r") == "$SRV" &&
	$(jq -r .sport <<<"$r") == 80 && $(jq -r .ack <<<"$r") == "$(ack_of "$r")" ]] ||
	sl_fail "open port: want a SYN-ACK from $SRV:80 acknowledging the SYN: $r"
mss=$(jq -r '.mss // 0' <<<"$r")
((mss > 0 && mss <= 1460)) || sl_fail "SYN-ACK MSS $mss: want the server's (at most 1460)"
sl_ok "open: SYN-ACK from $SRV:80, ack = ISN + 1, MSS $mss"

r=$(probe "$SL_C_ADDR" "$SRV" 81)
sl_log "closed: $r"
[[ $(jq -r .kind <<<"$r") == rst && $(jq -r .src <<<"$r") == "$SRV" && $(jq -r .sport <<<"$r") == 81 &&
	$(jq -r .flags <<<"$r") == RA && $(jq -r .seq <<<"$r") == 0 && $(jq -r .payload_len <<<"$r") == 0 &&
	$(jq -r .ack <<<"$r") == "$(ack_of "$r")" ]] ||
	sl_fail "closed port: want RST+ACK from $SRV:81, seq 0, ack = ISN + 1, no payload: $r"
sl_ok "closed: RST+ACK from $SRV:81, seq 0, ack = ISN + 1"

check_icmp() { # check_icmp DST CODE DESC [ARGS]
	local dst=$1 code=$2 desc=$3 r
	r=$(probe "$SL_C_ADDR" "$dst" 80 "${@:4}")
	sl_log "$desc: $r"
	[[ $(jq -r .kind <<<"$r") == icmp && $(jq -r .icmp_type <<<"$r") == 3 &&
		$(jq -r .icmp_code <<<"$r") == "$code" && $(jq -r .src <<<"$r") == "$SL_C_GW" &&
		$(jq -r .quote.src <<<"$r") == "$SL_C_ADDR" && $(jq -r .quote.dst <<<"$r") == "$dst" &&
		$(jq -r .quote.proto <<<"$r") == 6 && $(jq -r .quote.dport <<<"$r") == 80 &&
		$(jq -r .quote.sport <<<"$r") == "$(jq -r .sport <<<"$r")" &&
		$(jq -r .quote.seq <<<"$r") == "$(jq -r .seq_sent <<<"$r")" ]] ||
		sl_fail "$desc: want ICMP 3/$code from $SL_C_GW quoting the SYN: $r"
	# RFC 792 / RFC 1812 4.3.2.3: the IP header and what follows (a whole SYN)
	(($(jq -r .quote_bytes <<<"$r") >= $(jq -r .quote.len <<<"$r"))) ||
		sl_fail "$desc: the quote is shorter than the SYN: $r"
	sl_ok "$desc: ICMP 3/$code from $SL_C_GW quoting the whole SYN"
}
check_icmp 198.19.201.5 1 "unreachable route"
check_icmp 198.19.202.5 13 "prohibit route"
check_icmp 198.19.203.5 1 "black hole (after the hold)" --timeout 8

# --- a SYN retransmitted during the hold: one connect, one SYN-ACK -------------
# the LAN drops the agent's first SYN to :82, so its connect takes a second
# (the kernel's SYN retransmission) while the client retransmits too
ip netns exec "$SL_NS_LA" nft add table ip sluice_slow
ip netns exec "$SL_NS_LA" nft add chain ip sluice_slow input '{ type filter hook input priority filter; policy accept; }'
ip netns exec "$SL_NS_LA" nft add rule ip sluice_slow input tcp dport 82 tcp flags syn numgen inc mod 2 0 drop
sl_spawn "$SL_WORK/slow82.log" slow82 --ns "$SL_NS_LA" -- "$SL_PY" -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.19.200.10", 82)); s.listen(16)
while True:
    c, _ = s.accept(); time.sleep(5); c.close()'
sl_wait_for 5 "listener on :82" sl_listening_on "$SL_NS_LA" "$SRV" 82
off0=$(agent_field site-a offers)
dup0=$(astat syn_dup)
sl_spawn "$SL_WORK/dumpcap.log" dumpcap --ns "$SL_NS_C" -- \
	dumpcap -q -i "$SL_TAP_C" -f "tcp port 82" -w "$SL_WORK/retrans.pcapng"
dump=$SL_LAST_PID
sleep 2
r=$(probe "$SL_C_ADDR" "$SRV" 82 --retries 3 --timeout 6)
sleep 1
kill -INT "$dump" 2>/dev/null || true
sl_wait_for 5 "dumpcap to stop" sh -c "! kill -0 $dump 2>/dev/null" || true
sl_log "slow server: $r"
off1=$(agent_field site-a offers)
dup1=$(astat syn_dup)
synacks=$(tshark -r "$SL_WORK/retrans.pcapng" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 1' 2>/dev/null | wc -l)
sl_log "offers $off0 -> $off1, absorbed SYNs $dup0 -> $dup1, SYN-ACKs seen $synacks"
[[ $(jq -r .kind <<<"$r") == synack ]] || sl_fail "the slow server's SYN-ACK did not come: $r"
((off1 - off0 == 1)) || sl_fail "a retransmitted SYN made $((off1 - off0)) offers to the agent (want 1)"
((dup1 - dup0 >= 1)) || sl_fail "no retransmitted SYN was absorbed ($dup0 -> $dup1)"
((synacks == 1)) || sl_fail "want exactly one SYN-ACK, saw $synacks"
sl_ok "SYN retransmitted during the hold: one connect at the agent, one SYN-ACK, $((dup1 - dup0)) absorbed"

# --- ping through the agent ---------------------------------------------------------
for size in 56 1000 1400; do
	out=$(ip netns exec "$SL_NS_C" ping -n -c 3 -i 0.3 -W 3 -s "$size" -I "$SL_C_ADDR" "$SRV" 2>&1) ||
		sl_fail "ping -s $size $SRV through the agent: $out"
done
sl_ok "ping $SRV through site-a (56, 1000, 1400 bytes of data)"
out=$(ip netns exec "$SL_NS_C" ping -n -c 2 -W 3 -I "$SL_C2_ADDR" "$SRV" 2>&1) || sl_fail "ping via site-b: $out"
if out=$(ip netns exec "$SL_NS_C" ping -n -c 1 -W 4 -I "$SL_C_ADDR" 198.19.201.5 2>&1); then
	sl_fail "ping to an unreachable host answered: $out"
fi
grep -q "Destination Host Unreachable" <<<"$out" || sl_fail "ping to 198.19.201.5: want Destination Host Unreachable: $out"
sl_ok "ping to an unreachable host: Destination Host Unreachable"
out=$(ip netns exec "$SL_NS_C" ping -n -c 2 -W 2 -I "$SL_C_ADDR" "$SL_C_GW" 2>&1) || sl_fail "ping the gateway: $out"
sl_ok "ping the gateway: answered locally"

# --- ACL ------------------------------------------------------------------------------
id=$(sl_ctl_json vnet acl add a src "$SL_C_ADDR/32" dst "$SRV/32" proto tcp dport 80 action reject first | jq -r .id)
[[ $id =~ ^[0-9]+$ ]] || sl_fail "vnet acl add did not give an id: $id"
r=$(probe "$SL_C_ADDR" "$SRV" 80)
[[ $(jq -r .kind <<<"$r") == icmp && $(jq -r .icmp_type <<<"$r") == 3 && $(jq -r .icmp_code <<<"$r") == 13 &&
	$(jq -r .src <<<"$r") == "$SL_C_GW" ]] ||
	sl_fail "a rejected client must get ICMP 3/13 from the gateway: $r"
# the answer is made of the SYN itself: it must still quote all of it
jq -e --arg s "$SL_C_ADDR" --arg d "$SRV" '.quote.src == $s and .quote.dst == $d and .quote.proto == 6 and
	.quote.dport == 80 and .quote.sport == .sport and .quote.seq == .seq_sent and .quote_bytes >= .quote.len and
	.ip_cksum_ok and .icmp_cksum_ok' <<<"$r" >/dev/null ||
	sl_fail "the ICMP 3/13 must quote the client's SYN (RFC 1812 4.3.2.3): $r"
got=$(ip netns exec "$SL_NS_C" curl -sS -m 10 --interface "$SL_C2_ADDR" "http://$SRV/")
[[ $got == site-b ]] || sl_fail "the other vnet's client must still connect: $got"
sl_ctl vnet acl del "$id" >/dev/null
id=$(sl_ctl_json vnet acl add a src "$SL_C_ADDR/32" proto tcp dport 80 action drop first | jq -r .id)
r=$(probe "$SL_C_ADDR" "$SRV" 80 --timeout 2)
[[ $(jq -r .kind <<<"$r") == none ]] || sl_fail "a dropped client must get nothing: $r"
sl_ctl vnet acl del "$id" >/dev/null
got=$(ip netns exec "$SL_NS_C" curl -sS -m 10 --interface "$SL_C_ADDR" "http://$SRV/")
[[ $got == site-a ]] || sl_fail "after the rule is gone the client must connect again: $got"
sl_ok "ACL: reject gives ICMP 3/13, drop gives silence, rules change at run time"

# The pools refilled after every connection above: those STREAM sessions
# resumed the TLS session of an earlier one (a ticket), and still relayed.
apps=$(sl_ctl_json show apps)
res=$(jq '[.apps[] | select(.mode == "agents") | .resumptions] | add // 0' <<<"$apps")
hs=$(jq '[.apps[] | select(.mode == "agents") | .handshakes] | add // 0' <<<"$apps")
((res > 0 && res < hs)) || sl_fail "STREAM sessions must resume (resumptions $res of $hs handshakes): $apps"
sl_ok "STREAM sessions resume from tickets ($res of $hs handshakes)"

sl_ctl show agents >&2
sl_log "idle STREAM sessions by worker: $(sl_agents_json | jq -c "[.agents[] | {(.name): .pool_idle_by_worker, retires}]")"
sl_ctl show errors >&2
sl_assert_alive
sl_log "test agent e2e passed"
