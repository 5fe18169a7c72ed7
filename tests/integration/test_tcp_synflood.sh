#!/usr/bin/env bash
# The proxy's listen side under attack, and RFC 5961 on an open connection.
#  1. SYN flood: scripts/synflood.py sends ~5,000 SYN/s for 15 s from the
#     client's address (source ports 61000-65535, outside Linux's ephemeral
#     range; an nftables rule in the client namespace only drops the RSTs
#     its kernel would send for those ports, so the half-open state stays)
#     to the proxied :9000, far past tcp.max_half_open (64 here).  During the
#     flood: the half-open gauge (syn_received) stays within 64 per worker,
#     SYN cookies are sent (syncookies_sent moves), and five legitimate
#     downloads (curl, 1 MiB each, sha256 checked) still succeed.
#  2. Challenge ACK (RFC 5961 3.2): a connection through the proxy (a Python
#     socket in the client namespace) fetches 1 KiB, then scapy sends a RST
#     with the right addresses and ports and a sequence number inside the
#     window but not RCV.NXT (RCV.NXT + 100).  The appliance must answer
#     with an ACK acknowledging RCV.NXT (captured), count it
#     (challenge_acks), and keep the connection: 1 MiB more on the same
#     socket, sha256 equal.
# Sizes: 5,000 SYN/s fills a 64-entry table at once and keeps it full for
# the whole flood without starving the tap (its ring holds 1,000 frames);
# 15 s leaves room for five curls.  ~40 s.
# timeout: 180
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init tcp_synflood
SL_ON_FAIL=sl_tcp_diag

MAX_HALF_OPEN=64
FLOOD_PPS=5000
FLOOD_SECONDS=15
FLOOD_SPORTS=61000-65535

sl_conf_tcp "max_half_open = $MAX_HALF_OPEN;"
SL_CONF_RULES=$(sl_conf_proxy_rule "$SL_BULK_PORT")
sl_appliance_start
sl_bulk_server_start
S=$SL_S_ADDR
sha1m=$("$SL_PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import bulkserver; print(bulkserver.stream_sha256(1 << 20))' \
	"$SL_ROOT/scripts")
gw_mac=$(sl_ctl_json show ports | jq -r --arg n "$SL_PORT_C" '.ports[] | select(.name == $n) | .mac')
[[ $gw_mac =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]] || sl_fail "no MAC for port $SL_PORT_C: $gw_mac"
workers=$(sl_ctl_json show stats | jq '[.lcores[] | select(.name != "main")] | length')
sl_run "baseline download" ip netns exec "$SL_NS_C" curl -sSf -m 10 -o /dev/null "http://$S:$SL_BULK_PORT/bytes/1M"

# --- 1. SYN flood -------------------------------------------------------------------
ip netns exec "$SL_NS_C" nft -f - <<EOF || sl_fail "nft rule in $SL_NS_C failed"
table inet sl_synflood {
	chain out {
		type filter hook output priority 0; policy accept;
		ip saddr $SL_C_ADDR tcp sport $FLOOD_SPORTS tcp flags & rst == rst drop
	}
}
EOF
sl_ok "client namespace drops its own RSTs from ports $FLOOD_SPORTS"
t0='{}'
if sl_tcp_stack; then t0=$(sl_tcp_json); sl_spread_begin; fi
sl_spawn "$SL_WORK/synflood.log" synflood --ns "$SL_NS_C" -- "$SL_PY" "$SL_ROOT/scripts/synflood.py" \
	--iface "$SL_TAP_C" --src "$SL_C_ADDR" --dst "$S" --dport "$SL_BULK_PORT" --dst-mac "$gw_mac" \
	--sports "$FLOOD_SPORTS" --pps "$FLOOD_PPS" --seconds "$FLOOD_SECONDS"
flood_pid=$SL_LAST_PID
sleep 2
max_half=0
for i in 1 2 3 4 5; do
	sl_pid_alive "$flood_pid" || sl_fail "the flood ended early: $(tail -n 3 "$SL_WORK/synflood.log")"
	if sl_tcp_stack; then
		h=$(sl_tcp_field syn_received)
	else # the Linux server holds the half-open state: proves the flood and the nft rule work
		h=$(ip netns exec "$SL_NS_S" ss -Htn state syn-recv "( sport = :$SL_BULK_PORT )" | wc -l)
	fi
	((h > max_half)) && max_half=$h
	rm -f "$SL_WORK/dl"
	sl_run "download #$i during the flood" ip netns exec "$SL_NS_C" \
		curl -sSf -m 15 -o "$SL_WORK/dl" "http://$S:$SL_BULK_PORT/bytes/1M"
	got=$(sha256sum <"$SL_WORK/dl" | cut -d' ' -f1)
	[[ $got == "$sha1m" ]] || sl_fail "download #$i: sha256 $got, want $sha1m"
	sleep 0.5
done
sl_pid_alive "$flood_pid" || sl_fail "the flood ended before the downloads did (raise FLOOD_SECONDS)"
sl_ok "five downloads during the flood, sha256 equal"
if sl_tcp_stack; then
	t1=$(sl_tcp_json)
	sl_tcp_log
	sl_tcp_moved syncookies_sent "$t0" "$t1" 100
	# the flood's 4,535 source ports spread it: every worker's half-open
	# table fills and answers with cookies
	sl_spread_check "SYN flood" syncookies_sent
	sl_log "syncookies_ok +$(($(sl_tcp_field syncookies_ok "$t1") - $(sl_tcp_field syncookies_ok "$t0")))," \
		"syncookies_bad +$(($(sl_tcp_field syncookies_bad "$t1") - $(sl_tcp_field syncookies_bad "$t0")))"
	((max_half <= MAX_HALF_OPEN * workers)) ||
		sl_fail "syn_received reached $max_half, above max_half_open $MAX_HALF_OPEN x $workers worker(s)"
	sl_ok "syn_received at most $max_half (limit $MAX_HALF_OPEN x $workers)"
else
	sl_selfcheck_note "syncookies_sent, syn_received within max_half_open"
	((max_half > MAX_HALF_OPEN)) || sl_fail "the Linux server had at most $max_half half-open connections: no flood?"
	sl_ok "the Linux server held up to $max_half half-open connections"
	sl_log "the Linux server's view: $(ip netns exec "$SL_NS_S" nstat -az TcpExtSyncookiesSent TcpExtListenOverflows 2>/dev/null | tail -n +2 | tr -s ' ' | tr '\n' ';')"
fi
kill -TERM "$flood_pid"
for ((i = 0; i < 100; i++)); do sl_pid_alive "$flood_pid" || break; sleep 0.1; done
sl_pid_alive "$flood_pid" && sl_fail "the flood did not end on SIGTERM"
wait "$flood_pid" || true
sl_log "flood: $(tail -n 1 "$SL_WORK/synflood.log")"
ip netns exec "$SL_NS_C" nft delete table inet sl_synflood
sl_assert_alive

# --- 2. challenge ACK -------------------------------------------------------------
t2='{}'
if sl_tcp_stack; then t2=$(sl_tcp_json); fi
sl_log "+ connection, in-window RST with a wrong sequence number, then more data"
rc=0
ip netns exec "$SL_NS_C" "$SL_PY" - "$SL_TAP_C" "$S" "$SL_BULK_PORT" "$gw_mac" "$sha1m" <<'PY' >&2 || rc=$?
import hashlib, socket, sys, time
from scapy.all import AsyncSniffer, Ether, IP, TCP, conf, get_if_hwaddr, sendp
conf.verb = 0
iface, srv, port, gw_mac, sha1m = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]

def fetch(s, n):
    s.sendall(b"GET /bytes/%d HTTP/1.1\r\nHost: x\r\n\r\n" % n)
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise SystemExit("EOF in the response head")
        buf += d
    head, _, body = buf.partition(b"\r\n\r\n")
    h = hashlib.sha256(body)
    got = len(body)
    while got < n:
        d = s.recv(min(1 << 16, n - got))
        if not d:
            raise SystemExit("EOF after %d of %d bytes" % (got, n))
        h.update(d)
        got += len(d)
    return h.hexdigest()

cap = []  # filled as packets arrive (AsyncSniffer.results exists only after stop)
sn = AsyncSniffer(iface=iface, filter="tcp port %d" % port, store=False, prn=cap.append)
sn.start()
time.sleep(0.5)
s = socket.create_connection((srv, port), timeout=10)
lport = s.getsockname()[1]
fetch(s, 1024)
time.sleep(0.5)  # let the last ACKs go out
mine = [p for p in list(cap) if p.haslayer(TCP) and p[TCP].sport == lport]
snd_nxt = max((p[TCP].seq + len(p[TCP].payload) + (1 if p[TCP].flags & 0x03 else 0)) & 0xffffffff
              for p in mine)  # the client's SND.NXT = the appliance's RCV.NXT
t_rst = time.time()
bad_seq = (snd_nxt + 100) & 0xffffffff
sendp(Ether(src=get_if_hwaddr(iface), dst=gw_mac) /
      IP(src=s.getsockname()[0], dst=srv) /
      TCP(sport=lport, dport=port, flags="R", seq=bad_seq), iface=iface)
time.sleep(1.0)
sn.stop()
after = [p for p in cap if p.time >= t_rst and p.haslayer(TCP)
         and p[IP].src == srv and p[TCP].dport == lport]
cack = [p for p in after if p[TCP].flags & 0x10 and not p[TCP].flags & 0x07
        and len(p[TCP].payload) == 0 and p[TCP].ack == snd_nxt]
print("RCV.NXT %d, RST seq %d; after it from the server side: %s"
      % (snd_nxt, bad_seq, [(str(p[TCP].flags), p[TCP].seq, p[TCP].ack, len(p[TCP].payload)) for p in after]))
if not cack:
    raise SystemExit("no challenge ACK (an ACK of RCV.NXT) after the in-window RST")
if any(p[TCP].flags & 0x04 for p in after):
    raise SystemExit("the appliance sent a RST after the in-window RST")
print("challenge ACK: seq %d ack %d" % (cack[0][TCP].seq, cack[0][TCP].ack))
got = fetch(s, 1 << 20)
if got != sha1m:
    raise SystemExit("after the RST: 1 MiB with sha256 %s, want %s" % (got, sha1m))
print("the connection still works: 1 MiB, sha256 equal")
s.close()
PY
((rc == 0)) || sl_fail "challenge ACK check failed"
sl_ok "in-window RST answered with a challenge ACK, connection intact"
if sl_tcp_stack; then
	t3=$(sl_tcp_json)
	sl_tcp_moved challenge_acks "$t2" "$t3"
else
	sl_selfcheck_note "challenge_acks counter (the Linux server answered)"
fi
sl_assert_alive
sl_log "tcp SYN flood / challenge ACK test passed"
