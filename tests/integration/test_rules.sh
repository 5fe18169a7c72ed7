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
pcap=$SL_WORK/rst.pcap
sl_spawn "$SL_WORK/tshark.log" tshark --ns "$SL_NS_C" -- tshark -n -i "$SL_TAP_C" -f "tcp port 8080" -F pcap -w "$pcap"
tshark_pid=$SL_LAST_PID
sl_wait_for 15 "tshark to start" grep -q "Capturing on" "$SL_WORK/tshark.log" || sl_fail "tshark did not start"
start=$(date +%s%N)
sl_expect_rc 7 "curl is refused" ip netns exec "$SL_NS_C" curl -s -m 5 "http://$S:8080/"
ms=$((($(date +%s%N) - start) / 1000000))
((ms < 2000)) || sl_fail "refusal took $ms ms: not a RST"
sl_ok "connection refused in $ms ms"
sleep 0.5
sl_stop_pid "$tshark_pid" - tshark 5
rst=$(tshark -n -r "$pcap" -Y 'tcp.flags.reset == 1' -T fields -e ip.src -e tcp.srcport -e ip.dst -e tcp.flags.ack -e tcp.ack -e tcp.seq 2>/dev/null | head -1)
syn=$(tshark -n -r "$pcap" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -T fields -e tcp.seq 2>/dev/null | head -1)
printf '    | RST: %s (SYN seq %s)\n' "$rst" "$syn" >&2
read -r rsrc rport rdst rack rackno _ <<<"$rst"
[[ $rsrc == "$S" && $rport == 8080 && $rdst == "$SL_C_ADDR" ]] ||
	sl_fail "RST does not come from $S:8080 to $SL_C_ADDR: '$rst'"
# RFC 9293 3.10.7.1: the SYN had no ACK, so the RST acks SYN seq + 1
[[ $rack == 1 && $rackno == 1 ]] || sl_fail "RST must ACK the SYN (relative ack 1), got ack=$rack ackno=$rackno"
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
pcap=$SL_WORK/icmp.pcap
sl_spawn "$SL_WORK/tshark2.log" tshark --ns "$SL_NS_C" -- tshark -n -i "$SL_TAP_C" -f icmp -F pcap -w "$pcap"
tshark_pid=$SL_LAST_PID
sl_wait_for 15 "tshark to start" grep -q "Capturing on" "$SL_WORK/tshark2.log" || sl_fail "tshark did not start"
ip netns exec "$SL_NS_C" /usr/bin/python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b'hello', ('$S', 5005))
"
sleep 1
sl_stop_pid "$tshark_pid" - tshark 5
f=$(tshark -n -r "$pcap" -Y 'icmp.type == 3' -T fields -e ip.src -e icmp.code -e udp.dstport 2>/dev/null | head -1)
printf '    | ICMP: %s\n' "$f" >&2
read -r isrc icode iport <<<"$f"
[[ ${isrc%%,*} == "$SL_C_GW" && $icode == 13 && $iport == 5005 ]] ||
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
