#!/usr/bin/env bash
# Issue 10: UDP through agents (datagram associations over DGRAM sessions,
# SAs whose lifetime follows their flows).  The sites of test_agent_e2e,
# each with dnsmasq on 198.19.200.10:53 answering svc.sluice.test with its
# own address and a UDP echo service on :7 (python).  Checks:
#  - dig from a vnet-a client gets site A's answer, from a vnet-b client
#    site B's (the same server address, two sites);
#  - a 4,000-byte datagram crosses both ways (fragmented by the client's
#    kernel, reassembled on the worker, fragmented again towards the
#    client) with its sha256 intact, and 300 small ones in a row all return
#    intact;
#  - a closed UDP port at the site: the client's socket gets ICMP port
#    unreachable (IP_RECVERR) from the server's address, as on the site;
#  - `show sa` / `show das`: an SA per agent in use with its DAs; vnet b
#    (sa_policy delete) loses its SA when its DAs age out at the agent,
#    vnet a (idle, sa_idle_ms 8000) keeps it idle, a new DA in that window
#    reuses it (no new handshake), then the sweep deletes it;
#  - aging at the agent (vnet a: da_idle_ms 1500, da_idle2_ms 5000): a DA
#    with one reply ends after about 1.5 s, one with two replies outlives
#    it; both tables agree;
#  - `sa flush` deletes an SA at once and the next datagram renegotiates;
#  - REFUSE (the agent's deny list): the DA discards for da_discard_ms,
#    counted, then a new datagram is offered again;
#  - credits: with site A's agent stopped (SIGSTOP), datagrams beyond its
#    credit queue on the worker, age out after dgram_max_age_ms, and every
#    one sent is accounted for by a counter; resumed, it serves again;
#  - a flood of 3,000 new DAs from one vnet stays within da_max per worker
#    (the rest counted as da_table_full) while dig through the other vnet
#    keeps working; all of them age out;
#  - kill -9 of an agent clears its SAs and DAs at once; restarted, it
#    serves again.
# timeout: 300
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
SL_ON_FAIL=sl_agent_diag
sl_instance_init agent_udp
sl_need_pkgs tinyproxy:tinyproxy-bin nft:nftables dnsmasq:dnsmasq-base dig:bind9-dnsutils || exit 77
sl_certs
[[ -x $SL_AGENT ]] || sl_die "$SL_AGENT not built"

SRV=$SL_SITE_SRV
SL_VNET_A_EXTRA='da_idle_ms = 1500; da_idle2_ms = 5000; sa_policy = "idle"; sa_idle_ms = 8000;'
SL_VNET_B_EXTRA='da_idle_ms = 1500; da_idle2_ms = 5000; sa_policy = "delete";'
SL_AGENTS_CONF_EXTRA='hold_timeout_ms = 3000; connect_timeout_ms = 1500; keepalive_ms = 2000; da_discard_ms = 1500; dgram_queue = 64; dgram_max_age_ms = 300; da_max = 256;'
# the agents refuse one address (their policy) and grant 64 credits at a time
SL_AGENT_CONF_EXTRA='deny = [ "198.19.200.99/32" ]; dgram_credit = 64;'
sl_agent_appliance_start

# --- the sites' UDP services (sl_site_make: dnsmasq on :53, echo on :7) ----------
dns_up() {
	[[ -n $(ip netns exec "$SL_NS_LA" dig +time=1 +tries=1 +short @"$SRV" svc.sluice.test) &&
		-n $(ip netns exec "$SL_NS_LB" dig +time=1 +tries=1 +short @"$SRV" svc.sluice.test) ]]
}
sl_wait_for 10 "dnsmasq in both sites" dns_up ||
	sl_fail "dnsmasq did not answer in the sites"

sl_agents_up

sa_json() { sl_ctl_json show sa; }
das_json() { sl_ctl_json show das; }
astat() { sl_agents_json | jq -r ".workers.$1"; }

# --- DNS through each vnet ----------------------------------------------------------
got=$(ip netns exec "$SL_NS_C" dig +time=2 +tries=2 +short -b "$SL_C_ADDR" @"$SRV" svc.sluice.test)
[[ $got == 198.19.201.1 ]] || sl_fail "vnet a: dig answered '$got', expected site A's 198.19.201.1"
got=$(ip netns exec "$SL_NS_C" dig +time=2 +tries=2 +short -b "$SL_C2_ADDR" @"$SRV" svc.sluice.test)
[[ $got == 198.19.201.2 ]] || sl_fail "vnet b: dig answered '$got', expected site B's 198.19.201.2"
sl_ok "dig @$SRV: site A's answer in vnet a, site B's in vnet b"
sl_ctl show sa >&2
sl_ctl show das >&2

# --- datagrams intact, large and many --------------------------------------------------
echo_check() { # echo_check SRC SIZE COUNT [SPORT]: prints "ok" or what went wrong
	ip netns exec "$SL_NS_C" "$SL_PY" - "$1" "$SRV" "$2" "$3" "${4:-0}" <<'PY'
import hashlib, os, socket, sys
src, dst, size, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((src, int(sys.argv[5])))
s.settimeout(3)
for i in range(count):
    d = os.urandom(size)
    s.sendto(d, (dst, 7))
    try:
        r, a = s.recvfrom(65535)
    except socket.timeout:
        print("datagram %d of %d (%d bytes): no echo" % (i + 1, count, size)); sys.exit(0)
    if a != (dst, 7) or hashlib.sha256(r).digest() != hashlib.sha256(d).digest():
        print("datagram %d: %d bytes back from %s, sha256 differs" % (i + 1, len(r), a)); sys.exit(0)
print("ok")
PY
}
r0=$(astat udp_reasm) f0=$(astat udp_frags_out)
# the idle-window check below reuses this DA's source port: an SA serves
# its own worker, and the same 5-tuple lands on the same worker
got=$(echo_check "$SL_C_ADDR" 100 1 42000)
[[ $got == ok ]] || sl_fail "a datagram from port 42000 through site A: $got"
got=$(echo_check "$SL_C_ADDR" 4000 1)
[[ $got == ok ]] || sl_fail "a 4,000-byte datagram through site A: $got"
r1=$(astat udp_reasm) f1=$(astat udp_frags_out)
((r1 > r0 && f1 >= f0 + 3)) ||
	sl_fail "the 4,000-byte datagram should be reassembled and sent in 3 fragments: udp_reasm $r0 -> $r1, udp_frags_out $f0 -> $f1"
sl_ok "a 4,000-byte datagram both ways, sha256 intact (reassembled, then $((f1 - f0)) fragments out)"
got=$(echo_check "$SL_C2_ADDR" 1400 300)
[[ $got == ok ]] || sl_fail "300 datagrams of 1,400 bytes through site B: $got"
sl_ok "300 datagrams of 1,400 bytes through site B (via its proxy), every one intact"

# --- a closed port: ICMP port unreachable from the server --------------------------
got=$(ip netns exec "$SL_NS_C" "$SL_PY" - "$SL_C_ADDR" "$SRV" <<'PY'
import socket, struct, sys
IP_RECVERR = getattr(socket, "IP_RECVERR", 11)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_IP, IP_RECVERR, 1)
s.bind((sys.argv[1], 0))
s.connect((sys.argv[2], 9999))
s.settimeout(4)
s.send(b"anyone?")
try:
    s.recv(100)
    print("an answer from a closed port")
except socket.timeout:
    print("nothing came back")
except OSError:
    _, anc, _, _ = s.recvmsg(64, 512, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)
    for level, kind, data in anc:
        if level == socket.SOL_IP and kind == IP_RECVERR:
            _, origin, t, c = struct.unpack_from("=IBBB", data)
            print("icmp %d/%d from %s" % (t, c, socket.inet_ntoa(data[20:24])))
PY
)
[[ $got == "icmp 3/3 from $SRV" ]] || sl_fail "closed UDP port: expected ICMP 3/3 from $SRV, got: $got"
sl_ok "a closed UDP port at site A: ICMP port unreachable from $SRV, as on the site"

# --- SAs follow their flows ---------------------------------------------------------
sa_of() { sa_json | jq -r --arg v "$1" "[.sa[] | select(.vnet == \$v)] | $2"; }
[[ $(sa_of a length) -ge 1 && $(sa_of b length) -ge 1 ]] || sl_fail "no SA per vnet: $(sa_json)"
[[ $(sa_of a 'map(.flows) | add') -ge 1 ]] || sl_fail "vnet a's SA carries no flow: $(sa_json)"
# per-SA bytes: vnet b's session carried the 300 echoes of 1,400 bytes each way
[[ $(sa_of b 'map(.bytes_in) | add') -ge 420000 && $(sa_of b 'map(.bytes_out) | add') -ge 420000 ]] ||
	sl_fail "vnet b's SA should count the 300 x 1,400 bytes each way: $(sa_json)"
sl_ok "show sa: an SA per vnet, carrying the DAs ($(das_json | jq '.total') DAs)"
# the DAs age out at the agent (1.5 s with one reply, 5 s with two or more)
no_das() { [[ $(das_json | jq .total) == 0 ]]; }
sl_wait_for 12 "every DA aged out" no_das ||
	sl_fail "DAs did not age out: $(das_json)"
[[ $(sa_of b length) == 0 ]] || sl_fail "vnet b (sa_policy delete) kept an SA without flows: $(sa_json)"
[[ $(sa_of a '.[0].state') == idle ]] || sl_fail "vnet a (sa_policy idle) should keep its SA idle: $(sa_json)"
hs=$(sa_json | jq .handshakes)
got=$(echo_check "$SL_C_ADDR" 100 2 42000)
[[ $got == ok ]] || sl_fail "a DA in the idle window: $got"
[[ $(sa_json | jq .handshakes) == "$hs" && $(sa_json | jq .reuses) -ge 1 ]] ||
	sl_fail "a DA in the idle window should reuse the SA without a handshake: $(sa_json)"
sl_ok "vnet b's SA deleted with its last DA, vnet a's kept idle and reused without a handshake"
no_sa_a() { [[ $(sa_of a length) == 0 ]]; }
sl_wait_for 25 "vnet a's idle SA swept" no_sa_a ||
	sl_fail "the idle SA was not swept after sa_idle_ms: $(sa_json)"
sl_ok "vnet a's SA swept sa_idle_ms after its last DA ended"

# --- aging: two replies keep a DA longer ----------------------------------------------
ip netns exec "$SL_NS_C" "$SL_PY" - "$SL_C_ADDR" "$SRV" <<'PY' &
import socket, sys, time
one = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); one.bind((sys.argv[1], 41001))
two = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); two.bind((sys.argv[1], 41002))
for s in (one, two):
    s.settimeout(3)
one.sendto(b"x", (sys.argv[2], 7)); one.recvfrom(100)
for i in range(2):
    two.sendto(b"y", (sys.argv[2], 7)); two.recvfrom(100)
time.sleep(4)
PY
pyp=$!
sleep 3
das=$(das_json)
jq -e '.das | map(.client) | index("198.18.0.2:41002") != null' <<<"$das" >/dev/null ||
	sl_fail "a DA with two replies should outlive da_idle_ms: $das"
jq -e '.das | map(.client) | index("198.18.0.2:41001") == null' <<<"$das" >/dev/null ||
	sl_fail "a DA with one reply should have ended after da_idle_ms: $das"
wait "$pyp" || true
sl_ok "aging: the one-reply DA ended after da_idle_ms, the two-reply DA outlived it"

# --- sa flush ------------------------------------------------------------------------
got=$(echo_check "$SL_C_ADDR" 100 1)
[[ $got == ok ]] || sl_fail "before flush: $got"
hs=$(sa_json | jq .handshakes)
sl_ctl sa flush >&2
no_sa() { [[ $(sa_json | jq '.sa | length') == 0 ]]; }
sl_wait_for 5 "SAs flushed" no_sa ||
	sl_fail "sa flush left SAs: $(sa_json)"
got=$(echo_check "$SL_C_ADDR" 100 1)
[[ $got == ok ]] || sl_fail "after flush: $got"
[[ $(sa_json | jq .handshakes) -gt $hs ]] || sl_fail "a new SA should be negotiated after the flush: $(sa_json)"
sl_ok "sa flush deleted the SAs at once; the next datagram negotiated a new one"
sl_ctl show sa >&2
sl_ctl show agents >&2

# --- REFUSE: discard, then a new offer --------------------------------------------
send_one() { # send_one SRC DST PORT: one datagram, no answer expected
	ip netns exec "$SL_NS_C" "$SL_PY" -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], 0))
s.sendto(b"q", (sys.argv[2], int(sys.argv[3])))' "$@"
}
drop_of() { sl_ctl_json show errors | jq -r --arg r "$1" '[.. | objects | select(.reason? == $r) | .count] | add // 0'; }
ref0=$(astat da_refused) off0=$(astat da_offered) dis0=$(drop_of da_discard)
send_one "$SL_C_ADDR" 198.19.200.99 7
refused() { (( $(astat da_refused) > ref0 )); }
sl_wait_for 5 "the agent's REFUSE" refused || sl_fail "no REFUSE for a denied destination: $(sl_agents_json | jq .workers)"
send_one "$SL_C_ADDR" 198.19.200.99 7
sleep 0.3
(( $(drop_of da_discard) > dis0 )) || sl_fail "a datagram of a refused DA should be discarded and counted: $(sl_ctl show errors)"
sleep 1.6
off1=$(astat da_offered)
send_one "$SL_C_ADDR" 198.19.200.99 7
reoffered() { (( $(astat da_offered) > off1 )); }
sl_wait_for 5 "a new offer after da_discard_ms" reoffered || sl_fail "no new offer after the discard timer"
sl_ok "REFUSE: the DA discarded its datagrams (counted) until da_discard_ms, then was offered again"

# --- credits: the agent stops granting ----------------------------------------------
# a bound DA first (two replies: it stays for da_idle2_ms), then the agent stops
burst() { # burst N: N datagrams from 198.18.0.2:41500; with --echo, wait for each echo
	ip netns exec "$SL_NS_C" "$SL_PY" - "$SL_C_ADDR" "$SRV" "$@" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 41500))
s.settimeout(3)
n, echo = int(sys.argv[3]), len(sys.argv) > 4
for i in range(n):
    s.sendto(b"c" * 200, (sys.argv[2], 7))
    if echo:
        s.recvfrom(1000)
    elif i % 50 == 49:
        time.sleep(0.05)
PY
}
burst 2 --echo || sl_fail "no echo from port 41500 before the credit check"
q0=$(astat dgram_queued) age0=$(drop_of dgram_aged) full0=$(drop_of dgram_queue_full) up0=$(astat dgram_up)
kill -STOP "$SL_AGENT_A_PID"
burst 400
sleep 1
kill -CONT "$SL_AGENT_A_PID"
q1=$(astat dgram_queued) age1=$(drop_of dgram_aged) full1=$(drop_of dgram_queue_full) up1=$(astat dgram_up)
sl_log "credits: 400 sent to a stopped agent: DATA frames $((up1 - up0)), queued $((q1 - q0)), aged $((age1 - age0)), dropped at a full queue $((full1 - full0))"
((up1 - up0 == 400)) || sl_fail "every datagram of a bound DA should become a DATA frame: $((up1 - up0)) of 400"
((q1 > q0 && age1 > age0 && age1 - age0 <= q1 - q0)) ||
	sl_fail "with no credit the worker should queue, then age out: queued $((q1 - q0)), aged $((age1 - age0))"
# sealed at once (at most the credit left, 64) + queued + dropped at a full queue
((400 - (q1 - q0) - (full1 - full0) <= 64)) ||
	sl_fail "more datagrams went out than the agent's credit allowed: $((400 - (q1 - q0) - (full1 - full0)))"
got=$(echo_check "$SL_C_ADDR" 100 3)
[[ $got == ok ]] || sl_fail "site A after SIGCONT: $got"
sl_ok "credits: the stopped agent's datagrams queued and aged out (counted), every one accounted for; resumed, it serves"
sl_ctl show errors >&2

# --- a flood of new DAs stays within bounds; the other vnet keeps working ------------
full0=$(drop_of da_table_full)
ip netns exec "$SL_NS_C" "$SL_PY" - "$SL_C_ADDR" "$SRV" <<'PY' &
import socket, sys
socks = []
for i in range(3000):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sys.argv[1], 0))
    s.sendto(b"f", (sys.argv[2], 7))
    s.close()
PY
floodp=$!
# dig's own retries count: the offers of both vnets share sluice-cp's queue
# (FIFO), so on an oversubscribed machine a try can wait behind the flood
got=$(ip netns exec "$SL_NS_C" dig +time=2 +tries=3 +short -b "$SL_C2_ADDR" @"$SRV" svc.sluice.test | grep -v '^;;' || true)
wait "$floodp"
[[ $got == 198.19.201.2 ]] || sl_fail "vnet b during vnet a's flood: dig answered '$got'"
max=$((256 * $(sl_ctl_json show workers | jq '.workers | length')))
total=$(das_json | jq .total)
((total <= max)) || sl_fail "the DA table exceeds its bound: $total DAs > $max"
(( $(drop_of da_table_full) > full0 )) || sl_fail "a flood beyond da_max should be counted as da_table_full"
sl_ok "a flood of 3,000 new DAs: at most $max kept ($total), the rest counted; vnet b answered meanwhile"
sl_wait_for 15 "the flood's DAs aged out" no_das || sl_fail "the flood's DAs did not age out: $(das_json | jq .total) left"
sl_ok "every DA of the flood aged out at the agent, and both tables followed"

# --- agent loss: its DAs and SAs go at once; back, it serves again ------------------
got=$(echo_check "$SL_C_ADDR" 100 1)
[[ $got == ok ]] || sl_fail "before the loss: $got"
[[ $(sa_of a length) -ge 1 && $(das_json | jq '[.das[] | select(.agent == "site-a")] | length') -ge 1 ]] ||
	sl_fail "site-a should have an SA and a DA before its loss: $(sa_json) $(das_json)"
kill -KILL "$SL_AGENT_A_PID"
wait "$SL_AGENT_A_PID" 2>/dev/null || true
cleared() {
	[[ $(sa_of a length) == 0 && $(das_json | jq '[.das[] | select(.agent == "site-a")] | length') == 0 ]]
}
sl_wait_for 15 "site-a's SAs and DAs cleared" cleared ||
	sl_fail "the lost agent's SAs or DAs are still listed: $(sa_json) $(das_json)"
sl_agent_up a
got=$(echo_check "$SL_C_ADDR" 100 2)
[[ $got == ok ]] || sl_fail "site-a back: $got"
sl_ok "kill -9 of site-a's agent: its SAs and DAs cleared at once; restarted, it serves datagrams again"
