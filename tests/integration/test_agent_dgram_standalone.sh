#!/usr/bin/env bash
# workers: 1 no data plane here (a mock or sluice-lstp alone): nothing changes with workers
# sluice-agent's UDP half (DGRAM sessions and datagram associations,
# docs/agent-protocol.md "DGRAM sessions") on its own, against
# sluice-mock-appliance (tests/tools), no data plane.  Three namespaces:
#
#   appliance ns A  198.18.100.1 ---- 198.18.100.10  agent host ns H  198.19.200.1 ---- 198.19.200.10  site ns S
#   (mock, :443)                                                                        (UDP echo :7, nothing on :9;
#                                                                                        routes unreachable .201/24,
#                                                                                        prohibit .202/24)
#
# Checks: --check with a `deny` list, a bad deny entry refused with
# file:line; HELLO offers DGRAM (caps 0xf); DGRAM_OPEN -> a sluice-dgram/1
# session named by the exporter, DGRAM_UP OK with its id, CREDIT(window)
# as its first frame, the dial resuming the kept ticket; DA_OPEN -> OK with
# the agent's relay port (a connected UDP socket on H); DATA of 0, 1, 100,
# 1472, 4,000 and 65,507 bytes echoed back intact (sha256); credit
# refilled after half the window; a closed port -> ICMP 3/3 from the
# server, the site's unreachable and prohibit routes -> ICMP 3/1 and 3/13
# from the site router; DA_OPEN to 127.0.0.1, 0/8, multicast, broadcast
# and a `deny` net -> REFUSE; an unknown session -> NO_STREAM; a duplicate
# DA -> ERROR UNEXPECTED; DATA for an unknown DA and after the appliance's
# DA_END -> dropped and counted; aging (an idle DA ends after idle_ms with
# DA_END IDLE replies=0, one that got two replies outlives idle_ms and
# ends after idle2_ms with replies=2); a malformed DGRAM frame -> that
# session reset, its DAs gone without DA_END, the control session up;
# DGRAM_CLOSE -> close_notify, no DA_END, the session unknown after; the
# control session lost (the mock goes silent) -> every DGRAM session closed
# and unknown after the reconnect; DGRAM not granted -> DGRAM_OPEN is
# ERROR UNEXPECTED; max_dgram_sessions and max_das -> BUSY; the SIGUSR1
# counters; SIGTERM exit 0.  PASS/FAIL per check; exit 1 if any failed.
# SLUICE_BUILD names the build.
# timeout: 180
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

AGENT=${SLUICE_AGENT_BIN:-$SL_BUILD/agent/sluice-agent}
MOCK=${SLUICE_MOCK_BIN:-$SL_BUILD/agent/sluice-mock-appliance}
[[ -x $AGENT && -x $MOCK ]] || { echo "SKIP: $AGENT or $MOCK not built"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: no openssl"; exit 77; }
command -v ss >/dev/null || { echo "SKIP: no ss"; exit 77; }

sl_instance_init agent_dgram_standalone
id=${SL_ID:-$$}
NS_A=slt${id}A NS_H=slt${id}H NS_S=slt${id}S
W=$SL_WORK
FAILED=0

pass() { printf '%s PASS: %s\n' "$(date +%T.%3N)" "$*" >&2; }
fail() {
	printf '%s FAIL: %s\n' "$(date +%T.%3N)" "$*" >&2
	FAILED=$((FAILED + 1))
}
# check DESC CMD...: PASS or FAIL (and go on)
check() {
	local d=$1
	shift
	if "$@"; then pass "$d"; else fail "$d"; fi
}

# ------------------------------------------------------------------ PKI ----
pki() {
	local d=$W/pki
	mkdir -p "$d"
	(
		cd "$d"
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
			-out ca.pem -days 2 -subj "/CN=sluice test agent CA" \
			-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout appliance.key \
			-out appliance.csr -subj "/CN=appliance.sluice.test"
		printf '%s\n' "subjectAltName=DNS:appliance.sluice.test,IP:198.18.100.1" \
			"extendedKeyUsage=serverAuth" "basicConstraints=CA:FALSE" >appliance.ext
		openssl x509 -req -in appliance.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-out appliance.pem -days 2 -extfile appliance.ext
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout site-a.key \
			-out site-a.csr -subj "/CN=site-a"
		printf '%s\n' "extendedKeyUsage=clientAuth" "basicConstraints=CA:FALSE" >site-a.ext
		openssl x509 -req -in site-a.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-out site-a.pem -days 2 -extfile site-a.ext
	) >"$W/pki.log" 2>&1 || sl_fail "making the test PKI failed: $(tail -n 5 "$W/pki.log")"
	PKI=$d
}

# ------------------------------------------------------------- topology ----
# veth NS1 IF1 ADDR1 NS2 IF2 ADDR2: a pair made inside the namespaces (never
# in the host's)
veth() {
	ip -n "$1" link add "$2" type veth peer name "$5" netns "$4" || sl_fail "veth $2/$5"
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$4" addr add "$6" dev "$5"
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
}

topology() {
	local ns n
	for ns in "$NS_A" "$NS_H" "$NS_S"; do sl_netns_create "$ns"; done
	veth "$NS_A" "a${id}h" 198.18.100.1/24 "$NS_H" "h${id}a" 198.18.100.10/24
	veth "$NS_H" "h${id}s" 198.19.200.1/24 "$NS_S" "s${id}h" 198.19.200.10/24
	for n in 201 202 210; do
		ip -n "$NS_H" route add "198.19.$n.0/24" via 198.19.200.10
	done
	# the site answers every datagram it cannot deliver with an ICMP error
	ip netns exec "$NS_S" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0 \
		net.ipv4.icmp_msgs_per_sec=100000 net.ipv4.icmp_msgs_burst=100000
	ip -n "$NS_S" route add unreachable 198.19.201.0/24
	ip -n "$NS_S" route add prohibit 198.19.202.0/24
}

# The site's UDP echo (RFC 862) on :7; :9 stays closed.
site_servers() {
	sl_spawn "$W/udpecho.log" udpecho --ns "$NS_S" -- "$SL_PY" -u "$SL_ROOT/scripts/udpecho.py" \
		--bind 198.19.200.10 --port 7
	sl_wait_for 10 "udp echo" grep -q '^udpecho: on' "$W/udpecho.log" || sl_fail "udpecho.py did not start"
}

# ----------------------------------------------------------------- mock ----
MOCK_N=0
MOCK_OUT=
MOCK_GEN=0
MOCK_PID=
mock_start() { # mock_start [MOCK OPTIONS]
	MOCK_GEN=$((MOCK_GEN + 1))
	MOCK_N=0
	MOCK_OUT=$W/mock.$MOCK_GEN.out
	local fifo=$W/mock.$MOCK_GEN.fifo
	mkfifo "$fifo"
	ip netns exec "$NS_A" "$MOCK" --listen 0.0.0.0:443 --cert "$PKI/appliance.pem" \
		--key "$PKI/appliance.key" --ca "$PKI/ca.pem" --keepalive 500 "$@" \
		<"$fifo" >"$MOCK_OUT" 2>>"$W/mock.err" &
	MOCK_PID=$!
	sl_track_pid "$MOCK_PID" mock
	exec {MOCK_FD}>"$fifo"
	sl_wait_for 10 "mock listening" grep -q '^event listening' "$MOCK_OUT" || sl_fail "mock did not start"
}

# mock_stop: "quit", then make sure it is gone
mock_stop() {
	mock_cmd 5 quit || true
	exec {MOCK_FD}>&-
	sl_stop_pid "$MOCK_PID" "$(sl_pid_starttime "$MOCK_PID" || echo -)" mock 5
}

# mock_cmd TIMEOUT_S CMD...: send a command, REPLY = its reply line
mock_cmd() {
	local t=$1 i
	shift
	MOCK_N=$((MOCK_N + 1))
	printf '%s\n' "$*" >&"$MOCK_FD"
	for ((i = 0; i < t * 20; i++)); do
		REPLY=$(grep -m1 "^reply $MOCK_N " "$MOCK_OUT" || true)
		[[ -n $REPLY ]] && { sl_log "mock: $* -> ${REPLY#"reply $MOCK_N "}"; return 0; }
		sleep 0.05
	done
	REPLY="(no reply within ${t}s)"
	sl_log "mock: $* -> $REPLY"
	return 1
}

# mock_send CMD...: send without waiting for a reply
mock_send() {
	MOCK_N=$((MOCK_N + 1))
	printf '%s\n' "$*" >&"$MOCK_FD"
}

# count of lines matching a regex in the mock's output
mock_count() { grep -c -E "$1" "$MOCK_OUT" || true; }
# mock_wait_count REGEX N TIMEOUT_S: until at least N lines match (TIMEOUT_S
# an integer or with one decimal)
mock_wait_count() {
	local i n=${3/./}
	[[ $3 == *.* ]] || n=$(($3 * 10))
	for ((i = 0; i < n; i++)); do
		(($(mock_count "$1") >= $2)) && return 0
		sleep 0.1
	done
	return 1
}
mock_has() { grep -q -E "$1" "$MOCK_OUT"; }
mock_lacks() { ! grep -q -E "$1" "$MOCK_OUT"; }

# --------------------------------------------------------------- agent ----
conf_write() { # conf_write FILE EXTRA...
	local f=$1
	shift
	{
		echo "agent = {"
		echo "  appliance = \"198.18.100.1\"; server_name = \"appliance.sluice.test\";"
		printf '  %s\n' "$@"
		echo "  ca = \"$PKI/ca.pem\";"
		echo "  cert = \"$PKI/site-a.pem\"; key = \"$PKI/site-a.key\";"
		echo "  stream_pool = 1;"
		echo "  backoff_min_ms = 100; backoff_max_ms = 1000; dial_timeout_ms = 3000;"
		echo "};"
	} >"$f"
}

agent_start() { # agent_start NAME CONF
	sl_spawn "$W/$1.log" "$1" --ns "$NS_H" -- "$AGENT" -c "$2" -v
	AGENT_PID=$SL_LAST_PID
	AGENT_LOG=$W/$1.log
}

agent_stop() { # agent_stop PID: SIGTERM, exit status 0 expected
	local pid=$1 rc=0 i
	kill -TERM "$pid"
	for ((i = 0; i < 100; i++)); do sl_pid_alive "$pid" || break; sleep 0.05; done
	wait "$pid" || rc=$?
	((rc == 0))
}

# counter NAME: its value in the agent's last SIGUSR1 dump
counter() { grep -E "^ +$1 +[0-9]+ " "$AGENT_LOG" | tail -n 1 | awk '{ print $2 }'; }
counters_dump() { # SIGUSR1, then wait for the dump's last line
	local before
	before=$(grep -c 'credits_granted' "$AGENT_LOG" || true)
	kill -USR1 "$AGENT_PID"
	sl_wait_for 5 "counters" bash -c "(( \$(grep -c credits_granted '$AGENT_LOG') > $before ))"
}
counter_ge() { local v; v=$(counter "$1"); ((${v:-0} >= $2)); }
counter_eq() { local v; v=$(counter "$1"); ((${v:--1} == $2)); }

# ------------------------------------------------------------- helpers ----
reply_has() { [[ $REPLY == *"$1"* ]]; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$REPLY"; }

# dgram_open: DGRAM_OPEN, SESSION = the new session's id ("" when not OK)
dgram_open() {
	mock_cmd 10 dgram-open || true
	SESSION=
	reply_has "dgram-open OK session=" && SESSION=$(field session)
}

# da_expect DESC SESSION DA DST PORT WANT [IDLE IDLE2]
da_expect() {
	local desc=$1 want=$6
	mock_cmd 5 da-open "$2" "$3" "$4" "$5" ${7:+"$7"} ${8:+"$8"} || true
	check "$desc: ${REPLY#reply * }" reply_has "da-open $want"
}

# echo_check SESSION DA SIZE: DATA of SIZE bytes comes back as DATA with the
# same sha256
echo_check() {
	local sha
	mock_cmd 5 dgram-send "$1" "$2" "$3" || true
	sha=$(field sha256)
	[[ -n $sha ]] || { fail "DATA $3 bytes: not sent: $REPLY"; return; }
	check "DATA $3 bytes on DA $2 echoed back intact (sha256 ${sha:0:16}...)" \
		mock_wait_count "^event dgram-data session=$1 da=$2 len=$3 sha256=$sha\$" 1 5
}

# icmp_expect DESC SESSION DA DST PORT WANT: a DA, a datagram, the ICMP
# frame the site's answer becomes.  The site router's errors for a route
# (ip_error) are rate-limited per destination host, 1/s, so its first may
# not come: up to 4 datagrams, 1.2 s apart.
icmp_expect() {
	local desc=$1 s=$2 da=$3 want=$6 i
	mock_cmd 5 da-open "$s" "$da" "$4" "$5" || true
	reply_has "da-open OK" || { fail "$desc: DA_OPEN $REPLY"; return; }
	for ((i = 0; i < 4; i++)); do
		mock_cmd 5 dgram-send "$s" "$da" 64 || true
		mock_wait_count "^event dgram-icmp session=$s da=$da $want\$" 1 1.2 && break
	done
	check "$desc" mock_has "^event dgram-icmp session=$s da=$da $want\$"
}

# ================================================================= run ====
pki
topology
site_servers

# --- config checks
conf_write "$W/agent.conf" 'dgram_credit = 16; deny = [ "198.19.210.0/24" ];'
check "--check accepts a config with dgram_credit and a deny list" "$AGENT" -c "$W/agent.conf" --check
conf_write "$W/bad.conf" 'deny = [ "198.19.210.1/24" ];'
out=$("$AGENT" -c "$W/bad.conf" --check 2>&1) && rc=0 || rc=$?
sl_log "--check bad.conf: rc $rc: $out"
bad_deny_refused() { ((rc == 1)) && [[ $out == *"bad.conf:3: 'deny[0]' \"198.19.210.1/24\" has host bits set"* ]]; }
check "--check rejects a deny entry with host bits, with file:line" bad_deny_refused

mock_start
agent_start agent "$W/agent.conf"
check "control session up, HELLO offers STREAM|PING|RETIRE|DGRAM (caps 0xf)" \
	mock_wait_count '^event control-up .*cn=site-a .*caps=0xf$' 1 15

# --- a DGRAM session
dgram_open
S1=$SESSION
check "DGRAM_OPEN -> DGRAM_UP OK with a session id ($REPLY)" test -n "$S1"
check "... the agent dialled a sluice-dgram/1 session whose exporter id is that one" \
	mock_wait_count "^event dgram-session-up id=$S1 " 1 5
check "... its first frame is CREDIT with the window (16)" \
	mock_wait_count "^event dgram-credit session=$S1 credit=16 total=16 first=yes\$" 1 5
check "... the DGRAM dial offered the kept ticket (resumed)" mock_has "^event dgram-session-up id=$S1 .*resumed=yes"

# --- a DA to the echo server, datagrams both ways
mock_cmd 5 da-open "$S1" 1 198.19.200.10 7 || true
RELAY_PORT=$(field relay_port)
check "DA_OPEN to the echo server -> OK with a relay port ($REPLY)" \
	bash -c "[[ '$REPLY' == *'da-open OK relay_port='* ]] && (( ${RELAY_PORT:-0} > 0 ))"
relay_socket() {
	ip netns exec "$NS_H" ss -Hun state established | grep -q -E "198\.19\.200\.1:${RELAY_PORT} +198\.19\.200\.10:7( |\$)"
}
check "... a UDP socket on the agent's host from port $RELAY_PORT connected to 198.19.200.10:7" relay_socket
for size in 1 100 1472 4000 65507 0; do
	echo_check "$S1" 1 "$size"
done
mock_cmd 5 dgram-send "$S1" 1 10 || true
mock_cmd 5 dgram-send "$S1" 1 10 || true
# 8 DATA frames so far: half the window, so CREDIT 8 follows
check "after 8 DATA frames (half the window) the agent grants 8 more (24 in all)" \
	mock_wait_count "^event dgram-credit session=$S1 credit=8 total=24 first=no\$" 1 5

# --- ICMP errors
icmp_expect "a closed port -> ICMP type 3 code 3 from the server" "$S1" 2 198.19.200.10 9 \
	"type=3 code=3 mtu=0 from=198.19.200.10"
icmp_expect "an unreachable route at the site -> ICMP 3/1 from the site router" "$S1" 3 198.19.201.5 7 \
	"type=3 code=1 mtu=0 from=198.19.200.10"
icmp_expect "a prohibit route at the site -> ICMP 3/13 from the site router" "$S1" 4 198.19.202.5 7 \
	"type=3 code=13 mtu=0 from=198.19.200.10"
mock_send dgram-send "$S1" 2 64
check "a second datagram to the closed port -> a second ICMP frame" \
	mock_wait_count "^event dgram-icmp session=$S1 da=2 type=3 code=3 " 2 5

# --- refusals
da_expect "DA_OPEN to 127.0.0.1 -> REFUSE" "$S1" 50 127.0.0.1 7 "REFUSE relay_port=0"
da_expect "DA_OPEN to 0.1.2.3 (0/8) -> REFUSE" "$S1" 51 0.1.2.3 7 "REFUSE relay_port=0"
da_expect "DA_OPEN to 224.0.0.1 (multicast) -> REFUSE" "$S1" 52 224.0.0.1 7 "REFUSE relay_port=0"
da_expect "DA_OPEN to 255.255.255.255 (broadcast) -> REFUSE" "$S1" 53 255.255.255.255 7 "REFUSE relay_port=0"
da_expect "DA_OPEN to 198.19.210.5 (the deny list) -> REFUSE" "$S1" 54 198.19.210.5 7 "REFUSE relay_port=0"
da_expect "DA_OPEN naming an unknown session -> NO_STREAM" 0123456789abcdef 55 198.19.200.10 7 \
	"NO_STREAM relay_port=0"
da_expect "... a refused DA id is free: DA_OPEN 50 to the echo server -> OK" "$S1" 50 198.19.200.10 7 "OK"

# --- DATA the agent cannot deliver: dropped and counted, not an error
mock_cmd 5 dgram-send "$S1" 999 10 || true
mock_cmd 5 da-end 50 || true
sleep 0.2
mock_cmd 5 dgram-send "$S1" 50 10 || true
sleep 0.3
check "DATA for an unknown DA and after the appliance's DA_END: no answer, no DA_END" \
	bash -c "! grep -q -E '^event (da-end da=(50|999) |dgram-data session=$S1 da=(50|999) )' '$MOCK_OUT'"
counters_dump || true
check "... counted (dgram_unknown_da 2), the session still open" counter_eq dgram_unknown_da 2
echo_check "$S1" 1 300

# --- aging: idle_ms 1000, idle2_ms 3000
mock_cmd 5 da-open "$S1" 10 198.19.200.10 7 1000 3000 || true
t_idle=$(date +%s%N)
check "DA 10 (no datagrams, idle_ms 1000) -> OK" reply_has "da-open OK"
mock_cmd 5 da-open "$S1" 11 198.19.200.10 7 1000 3000 || true
check "DA 11 (idle_ms 1000, idle2_ms 3000) -> OK" reply_has "da-open OK"
mock_send dgram-send "$S1" 11 20
mock_send dgram-send "$S1" 11 21
check "DA 11: the server answered twice" mock_wait_count "^event dgram-data session=$S1 da=11 " 2 5
t_two=$(date +%s%N)
check "the idle DA 10 ends: DA_END IDLE (1) replies=0" mock_wait_count '^event da-end da=10 reason=1 replies=0$' 1 5
t_end10=$(date +%s%N)
took_idle() { local ms=$(((t_end10 - t_idle) / 1000000)); sl_log "DA 10 ended after $ms ms"; ((ms >= 900 && ms <= 2500)); }
check "... after about idle_ms (1000 ms)" took_idle
# 2 s after the second reply: beyond idle_ms, within idle2_ms
"$SL_PY" -c "import time; time.sleep(max(0, ($t_two + 2000000000 - time.time_ns()) / 1e9))"
check "DA 11 (two replies) is still open 2 s after its last datagram (idle2_ms applies)" \
	mock_lacks '^event da-end da=11 '
check "... and ends after idle2_ms: DA_END IDLE replies=2" mock_wait_count '^event da-end da=11 reason=1 replies=2$' 1 5
t_end11=$(date +%s%N)
took_idle2() { local ms=$(((t_end11 - t_two) / 1000000)); sl_log "DA 11 ended $ms ms after its last datagram"; ((ms >= 2800 && ms <= 4500)); }
check "... about idle2_ms (3000 ms) after its last datagram" took_idle2

# --- a malformed frame resets that session only
dgram_open
S2=$SESSION
check "a second DGRAM session -> OK ($REPLY)" test -n "$S2"
da_expect "DA 20 on it -> OK" "$S2" 20 198.19.200.10 7 "OK"
echo_check "$S2" 20 200
ups=$(mock_count '^event control-up')
mock_cmd 5 dgram-garbage "$S2" || true
check "a malformed DGRAM frame -> the agent resets that session" \
	mock_wait_count "^event dgram-closed id=$S2 why=(reset|eof) " 1 5
sleep 0.3
check "... its DA ended without DA_END" mock_lacks '^event da-end da=20 '
check "... and the control session stays up" bash -c "(( \$(grep -c '^event control-up' '$MOCK_OUT') == $ups )) && ! grep -q '^event control-closed' '$MOCK_OUT'"
da_expect "... DA_OPEN on it -> NO_STREAM" "$S2" 21 198.19.200.10 7 "NO_STREAM"
echo_check "$S1" 1 500

# --- DGRAM_CLOSE
dgram_open
S3=$SESSION
check "a third DGRAM session -> OK ($REPLY)" test -n "$S3"
da_expect "DA 30 on it -> OK" "$S3" 30 198.19.200.10 7 "OK"
P30=$(field relay_port)
mock_cmd 5 dgram-close "$S3" || true
check "DGRAM_CLOSE -> the agent closes the session with close_notify" \
	mock_wait_count "^event dgram-closed id=$S3 why=close_notify " 1 5
sleep 0.3
check "... its DA ended without DA_END" mock_lacks '^event da-end da=30 '
da_expect "... DA_OPEN on it -> NO_STREAM" "$S3" 31 198.19.200.10 7 "NO_STREAM"
check "... DA 30's socket (port ${P30:-?}) is gone from the agent's host" \
	bash -c "[[ -n '$P30' ]] && ! ip netns exec '$NS_H' ss -Hun | grep -q -E '198\.19\.200\.1:$P30 '"

# --- a duplicate DA: a protocol error that costs the control session
ups=$(mock_count '^event control-up')
mock_send da-open-twice "$S1" 40 198.19.200.10 7
check "DA_OPEN naming an open DA -> ERROR UNEXPECTED" \
	mock_wait_count '^event error code=UNEXPECTED text=DA_OPEN: association 40 is already open' 1 5
check "... the agent reconnects" mock_wait_count '^event control-up' $((ups + 1)) 10
check "... and its DGRAM session went with the control session" \
	mock_wait_count "^event dgram-closed id=$S1 why=close_notify " 1 5

# --- control session lost: every DGRAM session closes
dgram_open
S4=$SESSION
dgram_open
S5=$SESSION
check "two new DGRAM sessions after the reconnect ($S4, $S5)" test -n "$S4" -a -n "$S5"
da_expect "DA 60 on the first -> OK" "$S4" 60 198.19.200.10 7 "OK"
echo_check "$S4" 60 1000
ups=$(mock_count '^event control-up')
mock_cmd 5 mute || true
check "control session lost (the mock went silent) -> the agent reconnects" \
	mock_wait_count '^event control-up' $((ups + 1)) 10
check "... and closed both DGRAM sessions" \
	bash -c "grep -q '^event dgram-closed id=$S4 ' '$MOCK_OUT' && grep -q '^event dgram-closed id=$S5 ' '$MOCK_OUT'"
mock_cmd 5 dgram-count || true
check "... none is left open" reply_has "sessions=0"
da_expect "... DA_OPEN on an old session -> NO_STREAM" "$S4" 61 198.19.200.10 7 "NO_STREAM"
sleep 0.2
check "no DA_END for the DAs of closed sessions" mock_lacks '^event da-end da=(1|2|3|4|20|30|40|60) '

# --- counters
counters_dump || true
ck() { # ck NAME OP N
	local v
	v=$(counter "$1")
	check "counter $1 = ${v:-?} ($2 $3)" test "${v:--1}" "$2" "$3"
}
ck dgram_dials -eq 5
ck dgram_dial_failures -eq 0
ck das_opened -ge 10
ck das_refused -eq 5
ck das_no_session -eq 4
ck das_idle_ended -eq 2
ck dgram_icmp_sent -ge 4
ck dgram_unknown_da -eq 2
ck dgram_to_server -ge 16
ck dgram_from_server -ge 12
ck dgram_bytes_to_server -ge 73000
ck credits_granted -ge 24
check "SIGTERM -> exit 0" agent_stop "$AGENT_PID"

# --- DGRAM not granted: DGRAM_OPEN is a protocol error
mock_stop
mock_start --caps 7
agent_start agent-nodgram "$W/agent.conf"
check "caps 0x7 granted: control session up" mock_wait_count '^event control-up' 1 15
mock_send dgram-open
check "DGRAM_OPEN without the DGRAM capability -> ERROR UNEXPECTED" \
	mock_wait_count '^event error code=UNEXPECTED text=DGRAM_OPEN without the DGRAM capability' 1 5
check "... and no DGRAM session was dialled" mock_lacks '^event dgram-session-up '
check "caps 0x7: SIGTERM -> exit 0" agent_stop "$AGENT_PID"
mock_stop

# --- the bounds: max_dgram_sessions = 1, max_das = 1
mock_start
conf_write "$W/limits.conf" 'max_dgram_sessions = 1; max_das = 1;'
agent_start agent-limits "$W/limits.conf"
check "limits: control session up" mock_wait_count '^event control-up' 1 15
dgram_open
L1=$SESSION
check "limits: the first DGRAM session -> OK" test -n "$L1"
mock_cmd 5 dgram-open || true
check "limits: a second one -> DGRAM_UP BUSY session 0" reply_has "dgram-open BUSY session=0000000000000000"
da_expect "limits: the first DA -> OK" "$L1" 1 198.19.200.10 7 "OK"
da_expect "limits: a second DA -> BUSY" "$L1" 2 198.19.200.10 7 "BUSY relay_port=0"
mock_cmd 5 da-end 1 || true
sleep 0.2
da_expect "limits: after the appliance's DA_END the slot is free -> OK" "$L1" 3 198.19.200.10 7 "OK"
counters_dump || true
ck dgram_busy -eq 1
ck das_busy -eq 1
check "limits: SIGTERM -> exit 0" agent_stop "$AGENT_PID"
mock_stop

if ((FAILED > 0)); then
	sl_log "$FAILED check(s) failed"
	exit 1
fi
sl_log "agent DGRAM standalone test passed"
