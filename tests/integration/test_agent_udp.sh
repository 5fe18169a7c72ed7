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
#    vnet a (idle, sa_idle_ms 4000) keeps it idle, a new DA in that window
#    reuses it (no new handshake), then the sweep deletes it;
#  - aging at the agent (vnet a: da_idle_ms 1500, da_idle2_ms 5000): a DA
#    with one reply ends after about 1.5 s, one with two replies outlives
#    it; both tables agree;
#  - `sa flush` deletes an SA at once and the next datagram renegotiates.
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
SL_VNET_A_EXTRA='da_idle_ms = 1500; da_idle2_ms = 5000; sa_policy = "idle"; sa_idle_ms = 4000;'
SL_VNET_B_EXTRA='da_idle_ms = 1500; da_idle2_ms = 5000; sa_policy = "delete";'
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
echo_check() { # echo_check SRC SIZE COUNT: prints "ok" or what went wrong
	ip netns exec "$SL_NS_C" "$SL_PY" - "$1" "$SRV" "$2" "$3" <<'PY'
import hashlib, os, socket, sys
src, dst, size, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
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
sl_ok "show sa: an SA per vnet, carrying the DAs ($(das_json | jq '.total') DAs)"
# the DAs age out at the agent (1.5 s with one reply, 5 s with two or more)
no_das() { [[ $(das_json | jq .total) == 0 ]]; }
sl_wait_for 12 "every DA aged out" no_das ||
	sl_fail "DAs did not age out: $(das_json)"
[[ $(sa_of b length) == 0 ]] || sl_fail "vnet b (sa_policy delete) kept an SA without flows: $(sa_json)"
[[ $(sa_of a '.[0].state') == idle ]] || sl_fail "vnet a (sa_policy idle) should keep its SA idle: $(sa_json)"
hs=$(sa_json | jq .handshakes)
got=$(echo_check "$SL_C_ADDR" 100 2)
[[ $got == ok ]] || sl_fail "a DA in the idle window: $got"
[[ $(sa_json | jq .handshakes) == "$hs" && $(sa_json | jq .reuses) -ge 1 ]] ||
	sl_fail "a DA in the idle window should reuse the SA without a handshake: $(sa_json)"
sl_ok "vnet b's SA deleted with its last DA, vnet a's kept idle and reused without a handshake"
no_sa_a() { [[ $(sa_of a length) == 0 ]]; }
sl_wait_for 15 "vnet a's idle SA swept" no_sa_a ||
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
