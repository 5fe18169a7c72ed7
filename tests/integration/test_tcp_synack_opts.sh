#!/usr/bin/env bash
# TCP options through the proxy, checked on the wire.  Captures (scapy
# AsyncSniffers, running before the connection starts) on the client's and
# the server's tap while one client downloads 2 MiB through the proxy rule,
# reading nothing for the first 1.5 s (so its receive window fills and
# binds) and then everything.
#  - the SYN-ACK the client gets carries MSS (536..1460), window scale,
#    SACK-permitted and timestamps echoing the SYN's TSval;
#  - every later segment from the appliance carries a timestamp whose TSecr
#    is a TSval the client sent;
#  - no segment from the appliance goes beyond the right edge the client
#    advertised (ACK + window << the client's scale; one byte more only as a
#    zero-window probe), and some go beyond the unscaled window (so the
#    scale is used, not ignored), and the window was really full at least
#    once (a zero window, or a segment ending exactly on the edge);
#  - the appliance's own SYN to the server carries MSS, window scale,
#    SACK-permitted and timestamps, and its segments to the server carry
#    timestamps; its ISNs are its own (the proxy terminated both legs).
# 2 MiB is enough for slow start to end against the client's window; scapy
# reads every packet afterwards from a 64 MB socket buffer.  ~20 s.
# timeout: 120
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init tcp_synack_opts
SL_ON_FAIL=sl_tcp_diag

SIZE=2M
STALL=1.5

SL_CONF_RULES=$(sl_conf_proxy_rule "$SL_BULK_PORT")
sl_appliance_start
sl_bulk_server_start
# warm ARP on both sides so the captured exchange is only the connection
sl_run "ping the server" ip netns exec "$SL_NS_C" ping -c1 -W2 "$SL_S_ADDR"

t0='{}'
if sl_tcp_stack; then t0=$(sl_tcp_json); fi
bpf="tcp port $SL_BULK_PORT"
sl_cap_start client "$SL_NS_C" "$SL_TAP_C" "$bpf"
sl_cap_start server "$SL_NS_S" "$SL_TAP_S" "$bpf"
# --expect-local: no separate /sha256 connection in the capture
sl_bulk "download $SIZE, stalled ${STALL}s before reading" download --size "$SIZE" --stall "$STALL" --expect-local
sleep 0.5
sl_cap_stop client
sl_cap_stop server

stack=0
sl_tcp_stack && stack=1
sl_log "+ analysing $SL_WORK/client.pcap and $SL_WORK/server.pcap"
rc=0
"$SL_PY" - "$SL_WORK/client.pcap" "$SL_WORK/server.pcap" "$SL_S_ADDR" "$SL_BULK_PORT" "$stack" \
	"$SL_C_ADDR" "$SL_S_GW" <<'PY' >&2 || rc=$?
import json, sys
from scapy.all import rdpcap, IP, TCP, conf
conf.verb = 0
cpcap, spcap, srv, port, stack, cli, gw = sys.argv[1:8]
port, stack = int(port), stack == '1'
F, S, R, A = 0x01, 0x02, 0x04, 0x10
M32 = 0xffffffff
fails, rep = [], {}

def tcp(p):
    return p.haslayer(IP) and p.haslayer(TCP)

def opts(p):
    d = {}
    for o in p[TCP].options:
        if isinstance(o, tuple) and len(o) == 2:
            d[o[0]] = o[1]
    return d

def plen(p):
    return p[IP].len - p[IP].ihl * 4 - p[TCP].dataofs * 4

def check(cond, msg):
    if not cond:
        fails.append(msg)
    return cond

def syn_opts_ok(name, o, echo=None):
    check('MSS' in o and 536 <= o['MSS'] <= 1460, '%s: MSS %s not in 536..1460' % (name, o.get('MSS')))
    check('WScale' in o and 0 <= o['WScale'] <= 14, '%s: window scale %s' % (name, o.get('WScale')))
    check('SAckOK' in o, '%s: no SACK-permitted' % name)
    ok = check('Timestamp' in o, '%s: no timestamps' % name)
    if ok and echo is not None:
        check(o['Timestamp'][1] == echo, '%s: TSecr %d does not echo the SYN TSval %d'
              % (name, o['Timestamp'][1], echo))

# ------------------------------------------------------------ client side
cp = [p for p in rdpcap(cpcap) if tcp(p)]
to_srv = lambda p: p[IP].dst == srv and p[TCP].dport == port
from_srv = lambda p: p[IP].src == srv and p[TCP].sport == port
syn = next((p for p in cp if to_srv(p) and p[TCP].flags & (S | A) == S), None)
if not check(syn is not None, 'client capture: no SYN'):
    print(json.dumps({'fails': fails})); sys.exit(1)
cport = syn[TCP].sport
conn = [p for p in cp if p[TCP].sport in (cport, port) and p[TCP].dport in (cport, port)]
synack = next((p for p in conn if from_srv(p) and p[TCP].flags & (S | A) == S | A), None)
if not check(synack is not None, 'client capture: no SYN-ACK'):
    print(json.dumps({'fails': fails})); sys.exit(1)
so, sao = opts(syn), opts(synack)
rep['client_syn_options'] = {k: v for k, v in so.items()}
rep['synack_options'] = {k: v for k, v in sao.items()}
check('WScale' in so and 'Timestamp' in so, 'the client (Linux) SYN lacks wscale/timestamps: %s' % so)
syn_opts_ok('SYN-ACK to the client', sao, so.get('Timestamp', (None,))[0])
ws_c = so.get('WScale', 0)
isn_a = synack[TCP].seq
rel = lambda x: (x - isn_a) & M32

client_tsvals = set()
edge = None           # highest right edge the client advertised (relative)
last_ack = last_raw = None
n_data = n_no_ts = n_bad_ecr = n_over = n_beyond_unscaled = n_on_edge = n_probe = zero_wnd = 0
data_bytes = 0
after_synack = False
for p in conn:
    t = p[TCP]
    if to_srv(p):
        o = opts(p)
        if 'Timestamp' in o:
            client_tsvals.add(o['Timestamp'][0])
        if t.flags & A and not t.flags & S:
            ack = rel(t.ack)
            e = ack + (t.window << ws_c)
            edge = e if edge is None else max(edge, e)
            last_ack, last_raw = ack, t.window
            if t.window == 0:
                zero_wnd += 1
        continue
    if p is synack:
        after_synack = True
        continue
    if not after_synack or t.flags & R:
        continue
    o = opts(p)
    if 'Timestamp' not in o:
        n_no_ts += 1
    elif o['Timestamp'][1] not in client_tsvals:
        n_bad_ecr += 1
    n = plen(p) + (1 if t.flags & F else 0)
    if n == 0 or edge is None:
        continue
    n_data += 1
    data_bytes += plen(p)
    end = rel(t.seq) + n
    if end > edge:
        if n == 1 and last_ack is not None and edge == last_ack:
            n_probe += 1   # RFC 9293 3.8.6.1: a zero-window probe may carry one byte
        else:
            n_over += 1
            if n_over <= 3:
                fails.append('segment seq %d..%d (relative) beyond the advertised right edge %d'
                             % (rel(t.seq), end, edge))
    elif end == edge:
        n_on_edge += 1
    if last_ack is not None and end > last_ack + last_raw:
        n_beyond_unscaled += 1

rep.update({'client_wscale': ws_c, 'data_segments': n_data, 'data_bytes': data_bytes,
            'without_timestamp': n_no_ts, 'tsecr_not_a_client_tsval': n_bad_ecr,
            'beyond_right_edge': n_over, 'zero_window_probes': n_probe,
            'ending_on_the_edge': n_on_edge, 'client_zero_windows': zero_wnd,
            'beyond_unscaled_window': n_beyond_unscaled})
check(n_data > 1000, 'only %d data segments from the appliance in the capture' % n_data)
check(n_no_ts == 0, '%d segments from the appliance without timestamps' % n_no_ts)
check(n_bad_ecr == 0, '%d segments whose TSecr is no TSval the client sent' % n_bad_ecr)
check(n_over == 0, '%d segments beyond the client\'s advertised window' % n_over)
if ws_c > 0:
    check(n_beyond_unscaled > 0, 'no segment used more than the unscaled window: scale ignored?')
check(zero_wnd > 0 or n_on_edge > 0, 'the client window never filled (no zero window, no segment on the edge)')

# ------------------------------------------------------------ server side
sp = [p for p in rdpcap(spcap) if tcp(p)]
ssyn = next((p for p in sp if p[IP].dst == srv and p[TCP].dport == port
             and p[TCP].flags & (S | A) == S), None)
if check(ssyn is not None, 'server capture: no SYN to the server'):
    sso = opts(ssyn)
    rep['server_syn'] = {'src': ssyn[IP].src, 'options': {k: v for k, v in sso.items()}}
    syn_opts_ok('SYN to the server', sso)
    sport = ssyn[TCP].sport
    sconn = [p for p in sp if {p[TCP].sport, p[TCP].dport} == {sport, port}]
    ssynack = next((p for p in sconn if p[IP].src == srv and p[TCP].flags & (S | A) == S | A), None)
    after = [p for p in sconn if p[IP].dst == srv and not p[TCP].flags & (S | R)]
    no_ts = sum(1 for p in after if 'Timestamp' not in opts(p))
    rep['server_leg_segments'] = len(after)
    check(no_ts == 0, '%d segments to the server without timestamps' % no_ts)
    if stack:
        check(ssyn[IP].src in (gw, cli), 'SYN to the server from %s, want %s or %s' % (ssyn[IP].src, gw, cli))
        check(ssyn[TCP].seq != syn[TCP].seq, 'the SYN to the server reuses the client\'s ISN: forwarded, not proxied')
        check(ssynack is None or ssynack[TCP].seq != synack[TCP].seq,
              'the client got the server\'s own ISN: the SYN-ACK was forwarded, not the appliance\'s')
rep['fails'] = fails
print(json.dumps(rep, indent=1, default=str))
sys.exit(1 if fails else 0)
PY
((rc == 0)) || sl_fail "the captures do not show what the proxy must do (report above)"
sl_ok "SYN-ACK options, timestamps, window scale and the server-side SYN are right"
if ! sl_tcp_stack; then
	sl_selfcheck_note "the segments were the Linux server's, forwarded"
else
	t1=$(sl_tcp_json)
	sl_tcp_moved proxied "$t0" "$t1"
fi
sl_assert_alive
sl_log "tcp synack options test passed"
