#!/usr/bin/env bash
# Policy rules (P3), against the Linux stack: `rule add ... action reject`
# makes a TCP connect fail at once with a RST that carries the server's
# address and port (checked in a capture), a UDP datagram gets ICMP
# administratively prohibited (3/13) from the gateway, `action drop` makes the
# connection time out, a `forward` rule ahead of them is an exception, hit
# counters move, and `rule del` restores reachability.
# timeout: 150
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init rules
sl_appliance_start
S=$SL_S_ADDR

mkdir -p "$SL_WORK/www"
echo "rules test $$" >"$SL_WORK/www/index.html"
sl_http_start "$SL_WORK/www" 8080
sl_run "baseline curl" ip netns exec "$SL_NS_C" curl -sf -m 5 "http://$S:8080/"

hits() { sl_ctl_json show rules | jq -r --argjson id "$1" '.rules[] | select(.id == $id) | .hits'; }

# --- reject: TCP gets a RST from the server's address ---------------------------
sl_expect_rc 0 "rule add reject tcp 8080" sl_ctl rule add dst "$S/32" proto tcp dport 8080 action reject
rid=$(sl_ctl_json show rules | jq -r '.rules[-1].id')
# Capture with scapy in the client namespace around the connect attempt: the
# sniffer is running before curl starts and stops after it returned.
out=$(ip netns exec "$SL_NS_C" /usr/bin/python3 - "$SL_TAP_C" "$S" <<'PY'
import subprocess, sys, time
from scapy.all import AsyncSniffer, IP, TCP, conf
conf.verb = 0
iface, srv = sys.argv[1], sys.argv[2]
sn = AsyncSniffer(iface=iface, filter="tcp port 8080")
sn.start()
time.sleep(0.5)
t0 = time.time()
rc = subprocess.call(["curl", "-s", "-m", "5", "http://%s:8080/" % srv],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
ms = int((time.time() - t0) * 1000)
time.sleep(0.5)
sn.stop()
syn = next((p for p in sn.results if p.haslayer(TCP) and p[TCP].flags == "S"), None)
rst = next((p for p in sn.results if p.haslayer(TCP) and p[TCP].flags & 0x04), None)
if syn is None or rst is None:
    print(rc, ms, "none")
else:
    print(rc, ms, rst[IP].src, rst[TCP].sport, rst[IP].dst, 1 if rst[TCP].flags & 0x10 else 0,
          (rst[TCP].ack - syn[TCP].seq) & 0xffffffff)
PY
)
printf '    | curl rc, ms, RST: %s\n' "$out" >&2
read -r rc ms rsrc rport rdst rack rackno <<<"$out"
((rc == 7)) || sl_fail "curl should be refused (exit 7), got $rc"
((ms < 2000)) || sl_fail "refusal took $ms ms: not a RST"
sl_ok "connection refused in $ms ms"
[[ $rsrc == "$S" && $rport == 8080 && $rdst == "$SL_C_ADDR" ]] ||
	sl_fail "RST does not come from $S:8080 to $SL_C_ADDR: '$out'"
# RFC 9293 3.10.7.1: the SYN had no ACK, so the RST acks SYN seq + 1
[[ $rack == 1 && $rackno == 1 ]] || sl_fail "RST must ACK the SYN (ack = SYN seq + 1), got ack=$rack ackno=$rackno"
sl_ok "RST from $S:8080 acknowledging the SYN"
h=$(hits "$rid")
((h >= 1)) || sl_fail "rule $rid hits = $h"
n=$(sl_ctl_json show errors | sl_json_counter rule_reject)
((n >= 1)) || sl_fail "rule_reject counter = $n"
sl_ok "rule hits $h, rule_reject $n"

# --- rule del restores the service -------------------------------------------------
sl_expect_rc 0 "rule del $rid" sl_ctl rule del "$rid"
sl_run "curl works after rule del" ip netns exec "$SL_NS_C" curl -sf -m 5 "http://$S:8080/"
sl_expect_rc 1 "rule del $rid again" sl_ctl rule del "$rid"

# --- UDP reject: ICMP 3/13 from the gateway -------------------------------------
sl_expect_rc 0 "rule add reject udp" sl_ctl rule add dst "$S/32" proto udp dport 5000-5010 action reject
f=$(ip netns exec "$SL_NS_C" /usr/bin/python3 - "$SL_TAP_C" "$S" <<'PY'
import socket, sys, time
from scapy.all import AsyncSniffer, IP, ICMP, UDPerror, conf
conf.verb = 0
iface, srv = sys.argv[1], sys.argv[2]
sn = AsyncSniffer(iface=iface, filter="icmp")
sn.start()
time.sleep(0.5)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"hello", (srv, 5005))
time.sleep(1.0)
sn.stop()
p = next((p for p in sn.results if p.haslayer(ICMP) and p[ICMP].type == 3), None)
print("none" if p is None else "%s %d %d" % (p[IP].src, p[ICMP].code,
      p[UDPerror].dport if p.haslayer(UDPerror) else -1))
PY
)
printf '    | ICMP: %s\n' "$f" >&2
read -r isrc icode iport <<<"$f"
[[ $isrc == "$SL_C_GW" && $icode == 13 && $iport == 5005 ]] ||
	sl_fail "want ICMP 3/13 from $SL_C_GW quoting port 5005, got '$f'"
sl_ok "ICMP administratively prohibited from $SL_C_GW"

# --- forward exception first, then drop ------------------------------------------
sl_expect_rc 0 "rule add forward 8080" sl_ctl rule add dst "$S/32" proto tcp dport 8080 action forward
sl_expect_rc 0 "rule add drop tcp" sl_ctl rule add dst 198.19.0.0/24 proto tcp action drop
sl_run "curl to 8080 passes (forward rule first)" ip netns exec "$SL_NS_C" curl -sf -m 5 "http://$S:8080/"
sl_expect_rc 28 "curl to port 22 is dropped (times out)" ip netns exec "$SL_NS_C" curl -s -m 2 "http://$S:22/"
n=$(sl_ctl_json show errors | sl_json_counter rule_drop)
((n >= 1)) || sl_fail "rule_drop counter = $n"
sl_ok "rule_drop $n"
sl_run "show rules" sl_ctl show rules

# --- bad input --------------------------------------------------------------------
sl_expect_rc 1 "rule add without action" sl_ctl rule add dst "$S/32"
sl_expect_rc 1 "rule add dport on icmp" sl_ctl rule add proto icmp dport 80 action drop
sl_expect_rc 1 "rule add bad prefix" sl_ctl rule add dst 198.19.0.1/24 action drop
sl_expect_rc 1 "rule add proxy" sl_ctl rule add dst "$S/32" action proxy
sl_expect_rc 1 "rule del garbage" sl_ctl rule del x
sl_assert_alive
sl_test_exit
