#!/usr/bin/env bash
# workers: 1 no data plane here (a mock or sluice-lstp alone): nothing changes with workers
# sluice-agent on its own, against sluice-mock-appliance (tests/tools), no
# data plane.  Four namespaces:
#
#   appliance ns A  198.18.100.1 ---- 198.18.100.10  agent host ns H  198.19.200.1 ---- 198.19.200.10  site ns S
#   (mock, :443)    198.18.102.1 --+  198.18.101.10                                       (servers; routes
#                                  |        |                                              unreachable .201/24,
#                   proxy ns P 198.18.102.2 198.18.101.2 (tinyproxy :8888)                 prohibit .202/24,
#                                                                                          blackhole .203/24)
#
# H reaches 198.18.102.0/24 only through the proxy, so a control session
# from 198.18.102.2 proves the CONNECT path.  H routes 198.19.201-203.0/24
# via the site ns, whose kernel answers with real ICMP errors on the wire.
#
# Checks: --check on good and bad configs; HELLO and a pool of 4; CONNECT
# -> OK (with an MSS) / REFUSE / UNREACHABLE 1 / 13 / 1 after the timeout /
# NO_STREAM / UNREACHABLE 13 for the agent's own loopback; an HTTP GET and
# two concurrent 4 MiB echo relays with sha256 compared; a server reset
# reaching the appliance as a reset, an appliance reset reaching the server,
# also after the appliance's close_notify; PING 56 and 1400 bytes -> OK
# with the same payload; PING into the unreachable net -> UNREACHABLE 1 from
# the site router; PING into the blackhole -> TIMEOUT; a malformed frame ->
# ERROR and a reconnect; an ERROR received -> a reconnect; silence ->
# reconnect after 3 keepalives; the mock killed and restarted -> reconnect
# and a fresh pool; RETIRE of an idle session -> closed and replaced, of an
# unknown one -> ignored; SIGUSR1 counters; SIGTERM exit 0; a wrong server name,
# a wrong proxy password and an appliance selecting no ALPN -> refused while
# the agent keeps trying; the main checks again through tinyproxy (Basic
# auth), against a TLS-1.2-only appliance, and without CAP_NET_RAW (PING ->
# UNREACHABLE 13, codes from errno).  PASS/FAIL per check; exit 1 if any
# failed.  SLUICE_BUILD names the build; AGENT_RELAY_BYTES the echo size.
# timeout: 240
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

AGENT=${SLUICE_AGENT_BIN:-$SL_BUILD/agent/sluice-agent}
MOCK=${SLUICE_MOCK_BIN:-$SL_BUILD/agent/sluice-mock-appliance}
[[ -x $AGENT && -x $MOCK ]] || { echo "SKIP: $AGENT or $MOCK not built"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: no openssl"; exit 77; }

sl_instance_init agent_standalone
id=${SL_ID:-$$}
NS_A=slt${id}A NS_H=slt${id}H NS_S=slt${id}S NS_P=slt${id}P
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
		printf '%s\n' "subjectAltName=DNS:appliance.sluice.test,IP:198.18.100.1,IP:198.18.102.1" \
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
	local ns
	for ns in "$NS_A" "$NS_H" "$NS_S" "$NS_P"; do sl_netns_create "$ns"; done
	veth "$NS_A" "a${id}h" 198.18.100.1/24 "$NS_H" "h${id}a" 198.18.100.10/24
	veth "$NS_A" "a${id}p" 198.18.102.1/24 "$NS_P" "p${id}a" 198.18.102.2/24
	veth "$NS_P" "p${id}h" 198.18.101.2/24 "$NS_H" "h${id}p" 198.18.101.10/24
	veth "$NS_H" "h${id}s" 198.19.200.1/24 "$NS_S" "s${id}h" 198.19.200.10/24
	local n
	for n in 201 202 203; do
		ip -n "$NS_H" route add "198.19.$n.0/24" via 198.19.200.10
	done
	ip netns exec "$NS_S" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0 \
		net.ipv4.icmp_msgs_per_sec=100000 net.ipv4.icmp_msgs_burst=100000
	ip -n "$NS_S" route add unreachable 198.19.201.0/24
	ip -n "$NS_S" route add prohibit 198.19.202.0/24
	ip -n "$NS_S" route add blackhole 198.19.203.0/24
}

# The site's servers: http.server on :80 (81 stays closed), an echo server
# on :9000 that logs how each connection ended, :9002 that answers with a
# RST, and :9003 that reads to EOF and then holds the connection until it
# is reset.
site_servers() {
	cat >"$W/site.py" <<'EOF'
import socket, struct, sys, threading, time
def echo(c):
    n = 0
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            c.sendall(b)
            n += len(b)
        c.shutdown(socket.SHUT_WR)
        print("echo eof after %d" % n, flush=True)
    except ConnectionResetError:
        print("echo reset after %d" % n, flush=True)
    finally:
        c.close()
def rst(c):
    try:
        c.recv(100)
    except OSError:
        pass
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    print("rst sent", flush=True)
def hold(c):
    # read to EOF, then hold the connection open until it is reset
    n = 0
    while True:
        b = c.recv(65536)
        if not b:
            break
        n += len(b)
    print("hold eof after %d" % n, flush=True)
    for _ in range(300):
        if c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
            print("hold reset", flush=True)
            break
        time.sleep(0.1)
    c.close()
def serve(port, fn):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("198.19.200.10", port))
    s.listen(64)
    while True:
        c, _ = s.accept()
        threading.Thread(target=fn, args=(c,), daemon=True).start()
threading.Thread(target=serve, args=(9002, rst), daemon=True).start()
threading.Thread(target=serve, args=(9003, hold), daemon=True).start()
serve(9000, echo)
EOF
	mkdir -p "$W/www"
	echo "hello from the site" >"$W/www/index.html"
	sl_spawn "$W/http.log" http --ns "$NS_S" -- "$SL_PY" -m http.server --bind 198.19.200.10 \
		--directory "$W/www" 80
	sl_spawn "$W/site.log" site --ns "$NS_S" -- "$SL_PY" -u "$W/site.py"
	sl_wait_for 10 "site servers" sl_listening_on "$NS_S" 198.19.200.10 80 || sl_fail "http.server did not start"
	sl_wait_for 10 "echo server" sl_listening_on "$NS_S" 198.19.200.10 9000 || sl_fail "site.py did not start"
}

# mock_stop: "quit" (children we started since inherit the FIFO's write
# end, so closing ours is no EOF), then make sure it is gone
mock_stop() {
	mock_cmd 5 quit || true
	exec {MOCK_FD}>&-
	sl_stop_pid "$MOCK_PID" "$(sl_pid_starttime "$MOCK_PID" || echo -)" mock 5
}

# ----------------------------------------------------------------- mock ----
MOCK_N=0
MOCK_OUT=
MOCK_GEN=0
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

# mock_send CMD...: send without waiting; SENT = its number
mock_send() {
	MOCK_N=$((MOCK_N + 1))
	SENT=$MOCK_N
	printf '%s\n' "$*" >&"$MOCK_FD"
}
# mock_wait N TIMEOUT_S: REPLY = the reply to command N
mock_wait() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		REPLY=$(grep -m1 "^reply $1 " "$MOCK_OUT" || true)
		[[ -n $REPLY ]] && return 0
		sleep 0.05
	done
	REPLY="(no reply to $1 within $2 s)"
	return 1
}

# count of lines matching a regex in the mock's output
mock_count() { grep -c -E "$1" "$MOCK_OUT" || true; }
# mock_wait_count REGEX N TIMEOUT_S: until at least N lines match
mock_wait_count() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		(($(mock_count "$1") >= $2)) && return 0
		sleep 0.1
	done
	return 1
}
# until `status` shows the control session and at least IDLE idle streams
# (a session whose connect failed goes back to the pool even when the pool
# was refilled meanwhile: docs/agent.md)
mock_wait_pool() { # mock_wait_pool IDLE TIMEOUT_S
	local i idle
	for ((i = 0; i < $2 * 4; i++)); do
		mock_cmd 2 status >/dev/null 2>&1 || true
		idle=$(field idle)
		[[ $REPLY == *"control=1 "* ]] && ((${idle:-0} >= $1)) && return 0
		sleep 0.25
	done
	sl_log "pool: $REPLY"
	return 1
}

# --------------------------------------------------------------- agent ----
conf_write() { # conf_write FILE EXTRA...
	local f=$1
	shift
	{
		echo "agent = {"
		printf '  %s\n' "$@"
		echo "  ca = \"$PKI/ca.pem\";"
		echo "  cert = \"$PKI/site-a.pem\"; key = \"$PKI/site-a.key\";"
		echo "  stream_pool = 4; relay_buffer = 65536;"
		echo "  backoff_min_ms = 100; backoff_max_ms = 1000; dial_timeout_ms = 3000;"
		echo "};"
	} >"$f"
}

agent_start() { # agent_start NAME CONF
	sl_spawn "$W/$1.log" "$1" --ns "$NS_H" -- "$AGENT" -c "$2" -v
	AGENT_PID=$SL_LAST_PID
}

agent_stop() { # agent_stop PID: SIGTERM, exit status 0 expected
	local pid=$1 rc=0 i
	kill -TERM "$pid"
	for ((i = 0; i < 100; i++)); do sl_pid_alive "$pid" || break; sleep 0.05; done
	wait "$pid" || rc=$?
	((rc == 0))
}

# ------------------------------------------------------------- helpers ----
reply_has() { [[ $REPLY == *"$1"* ]]; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$REPLY"; }

connect_expect() { # connect_expect DESC DST PORT EXPECT [TIMEOUT_MS]
	local desc=$1 dst=$2 port=$3 want=$4
	# shellcheck disable=SC2086 # the timeout is optional: no word when unset
	mock_cmd 10 connect "$dst" "$port" ${5:-} || true
	check "$desc: ${REPLY#reply * }" reply_has "connect $want"
}

relay_roundtrip() { # two echo relays at once, sha256 compared
	local size=$1 a b na nb ha hb
	head -c "$size" /dev/urandom >"$W/up1.bin"
	head -c "$size" /dev/urandom >"$W/up2.bin"
	mock_cmd 10 connect 198.19.200.10 9000 || true
	na=$MOCK_N
	reply_has "connect OK" || { fail "echo relay connect: $REPLY"; return; }
	mock_cmd 10 connect 198.19.200.10 9000 || true
	nb=$MOCK_N
	reply_has "connect OK" || { fail "echo relay connect: $REPLY"; return; }
	printf 'xfer %s %s %s\nxfer %s %s %s\n' "$na" "$W/up1.bin" "$W/down1.bin" \
		"$nb" "$W/up2.bin" "$W/down2.bin" >&"$MOCK_FD"
	a=$((MOCK_N + 1)) b=$((MOCK_N + 2))
	MOCK_N=$b
	sl_wait_for 60 "both xfers" bash -c "grep -q '^reply $a ' '$MOCK_OUT' && grep -q '^reply $b ' '$MOCK_OUT'" || true
	sl_log "xfer: $(grep -E "^reply ($a|$b) " "$MOCK_OUT" | tr '\n' ' ')"
	ha=$(sha256sum <"$W/up1.bin") hb=$(sha256sum <"$W/up2.bin")
	check "echo relay 1 ($size bytes): sha256 equal, ended by close_notify" \
		bash -c "[[ '$ha' == \"\$(sha256sum <'$W/down1.bin')\" ]] && grep -q '^reply $a xfer .*end=close_notify' '$MOCK_OUT'"
	check "echo relay 2 ($size bytes): sha256 equal, ended by close_notify" \
		bash -c "[[ '$hb' == \"\$(sha256sum <'$W/down2.bin')\" ]] && grep -q '^reply $b xfer .*end=close_notify' '$MOCK_OUT'"
}

# ================================================================= run ====
pki
topology
site_servers

# --- config checks
conf_write "$W/direct.conf" 'appliance = "198.18.100.1";' 'server_name = "appliance.sluice.test";'
check "--check accepts the direct config" "$AGENT" -c "$W/direct.conf" --check
conf_write "$W/bad.conf" 'appliance = "198.18.100.1";' 'stream_poool = 4;'
out=$("$AGENT" -c "$W/bad.conf" --check 2>&1) && rc=0 || rc=$?
sl_log "--check bad.conf: rc $rc: $out"
bad_conf_refused() { ((rc == 1)) && [[ $out == *"bad.conf:3: unknown key 'stream_poool'"* ]]; }
check "--check rejects an unknown key with file:line" bad_conf_refused
help_ok() { "$AGENT" --help | grep -q -- '--check'; }
check "--help describes --check" help_ok

# --- the direct agent
mock_start
agent_start agent "$W/direct.conf"
check "control session up with HELLO from cn=site-a" \
	mock_wait_count '^event control-up .*cn=site-a sw=sluice-agent/0.1 ver=1-1 caps=0xf' 1 15
check "pool of 4 idle STREAM sessions" mock_wait_pool 4 15

mock_cmd 10 connect 198.19.200.10 80 || true
mss=$(field mss)
mss_ok() { reply_has "connect OK" && ((${mss:-0} >= 536 && ${mss:-0} <= 1460)); }
check "connect 198.19.200.10:80 -> OK with an MSS ($REPLY)" mss_ok
mock_cmd 10 xfer "$MOCK_N" - "$W/http-empty.out" || true
connect_expect "connect :81 -> REFUSE" 198.19.200.10 81 "REFUSE code=0"
connect_expect "connect 198.19.201.5 (unreachable route) -> UNREACHABLE 1" 198.19.201.5 80 "UNREACHABLE code=1"
connect_expect "connect 198.19.202.5 (prohibit route) -> UNREACHABLE 13" 198.19.202.5 80 "UNREACHABLE code=13"
t0=$(date +%s%N)
connect_expect "connect 198.19.203.5 (blackhole) -> UNREACHABLE 1 after the timeout" 198.19.203.5 80 \
	"UNREACHABLE code=1" 1000
t1=$(date +%s%N)
took_timeout() { (((t1 - t0) / 1000000 >= 950)); }
check "the blackhole answer took the 1000 ms timeout ($(((t1 - t0) / 1000000)) ms)" took_timeout
mock_cmd 5 connect-bad 198.19.200.10 80 || true
check "connect-bad -> NO_STREAM" reply_has "connect NO_STREAM"
connect_expect "connect 127.0.0.1 (the agent's own host) -> UNREACHABLE 13" 127.0.0.1 22 "UNREACHABLE code=13"
check "the pool refills to 4 after use" mock_wait_pool 4 10

# a real HTTP exchange through a relay
mock_cmd 10 connect 198.19.200.10 80 || true
n=$MOCK_N
printf 'GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n' >"$W/get.txt"
mock_cmd 20 xfer "$n" "$W/get.txt" "$W/get.out" || true
check "HTTP GET through a relay" grep -q "hello from the site" "$W/get.out"

relay_roundtrip "${AGENT_RELAY_BYTES:-4194304}"

# server reset -> the appliance sees the STREAM session reset
mock_cmd 10 connect 198.19.200.10 9002 || true
mock_cmd 20 xfer "$MOCK_N" - "$W/rst.out" || true
check "server RST -> STREAM session reset ($REPLY)" reply_has "end=reset"

# appliance reset -> the server sees a reset
mock_cmd 10 connect 198.19.200.10 9000 || true
n=$MOCK_N
sleep 0.3
mock_cmd 5 reset "$n" || true
check "STREAM session RST -> server connection reset" \
	sl_wait_for 10 "echo reset" grep -q '^echo reset' "$W/site.log"

# close_notify, then a reset from the appliance while the server holds its
# half open: the reset must still reach the server
mock_cmd 10 connect 198.19.200.10 9003 || true
n=$MOCK_N
MOCK_N=$((MOCK_N + 1))
printf 'xfer %s - %s\n' "$n" "$W/hold.out" >&"$MOCK_FD"
check "close_notify from the appliance -> the server reads EOF" \
	sl_wait_for 10 "hold eof" grep -q '^hold eof' "$W/site.log"
mock_cmd 5 reset "$n" || true
check "... then the appliance's RST -> the server connection reset" \
	sl_wait_for 10 "hold reset" grep -q '^hold reset' "$W/site.log"

# pings
ping_ok() { reply_has "ping OK code=0 from=198.19.200.10 " && reply_has "len=$1 match=yes"; }
mock_cmd 5 ping 198.19.200.10 56 || true
check "ping 198.19.200.10 56 bytes -> OK, same payload ($REPLY)" ping_ok 56
mock_cmd 5 ping 198.19.200.10 1400 || true
check "ping 198.19.200.10 1400 bytes -> OK, same payload" ping_ok 1400
mock_cmd 5 ping 198.19.201.5 56 || true
check "ping 198.19.201.5 -> UNREACHABLE 1 from the site router ($REPLY)" \
	reply_has "ping UNREACHABLE code=1 from=198.19.200.10"
mock_cmd 5 ping 198.19.203.5 56 0 500 || true
check "ping 198.19.203.5 (blackhole) -> TIMEOUT" reply_has "ping TIMEOUT"

# a malformed frame: ERROR, then a new session by itself; a relay bound
# before it carries on untouched
mock_cmd 10 connect 198.19.200.10 9000 || true
live=$MOCK_N
ups=$(mock_count '^event control-up')
mock_cmd 5 garbage || true
check "malformed frame -> the agent sends ERROR naming it" \
	mock_wait_count '^event error code=UNKNOWN_TYPE text=unknown message type' 1 5
check "... and reconnects by itself" mock_wait_count '^event control-up' $((ups + 1)) 10
check "... with a fresh pool of 4" mock_wait_pool 4 10
head -c 262144 /dev/urandom >"$W/live.bin"
mock_cmd 20 xfer "$live" "$W/live.bin" "$W/live.out" || true
live_ok() { reply_has "end=close_notify" && cmp -s "$W/live.bin" "$W/live.out"; }
check "a relay started before the reconnect still carries data intact" live_ok

# a CONNECT reusing an id still open: ERROR UNEXPECTED, a new session
ups=$(mock_count '^event control-up')
mock_send connect-twice 198.19.203.5 80 3000
check "CONNECT reusing an open id -> ERROR UNEXPECTED" \
	mock_wait_count '^event error code=UNEXPECTED text=CONNECT [0-9]* reuses an open request id' 1 5
check "... and a new control session" mock_wait_count '^event control-up' $((ups + 1)) 10
check "... with a fresh pool of 4" mock_wait_pool 4 10

# an ERROR from the appliance: logged, the session closed, a new one dialed
ups=$(mock_count '^event control-up')
mock_cmd 5 error go away || true
check "ERROR from the appliance -> logged" \
	sl_wait_for 5 "ERROR log" grep -q 'appliance sent ERROR REFUSED: go away' "$W/agent.log"
check "... and the agent reconnects by itself" mock_wait_count '^event control-up' $((ups + 1)) 10

# silence: the agent gives up after 3 keepalive intervals (1.5 s) and redials
ups=$(mock_count '^event control-up')
mock_cmd 5 mute || true
check "silent appliance -> reconnect after 3 keepalive intervals" \
	mock_wait_count '^event control-up' $((ups + 1)) 10

# the appliance goes away and comes back
kill -KILL "$MOCK_PID"
wait "$MOCK_PID" 2>/dev/null || true
exec {MOCK_FD}>&-
sleep 2 # the agent backs off meanwhile
check "agent still running while the appliance is down" sl_pid_alive "$AGENT_PID"
mock_start
check "appliance restarted -> the agent reconnects by itself" \
	mock_wait_count '^event control-up .*cn=site-a' 1 15
check "... and rebuilds its pool of 4" mock_wait_pool 4 10
connect_expect "connect after the restart -> OK" 198.19.200.10 80 "OK"

# RETIRE (balancing over the appliance's workers): the agent closes that idle
# session and dials a replacement at once; one naming no idle session is
# ignored, the control session stays up
mock_cmd 5 retire || true
rid=${REPLY##*id=}
check "RETIRE sent for an idle stream" test -n "${REPLY##*error*}"
retired_closed() { grep -q "^event stream-closed id=$rid " "$MOCK_OUT"; }
check "... the agent closes the retired session" sl_wait_for 10 "stream $rid closed" retired_closed
check "... and the pool is back to 4" mock_wait_pool 4 10
mock_cmd 5 retire-bad || true
sleep 0.3
mock_cmd 5 status || true
check "RETIRE of an unknown stream: ignored, the control session stays up" \
	test "${REPLY/control=1 /}" != "$REPLY"

# counters on SIGUSR1
kill -USR1 "$AGENT_PID"
check "SIGUSR1 prints the counters" sl_wait_for 5 "counters" grep -q 'connects_refused  *[1-9]' "$W/agent.log"
check "... stream_retired 1, retire_unknown 1" \
	eval "grep -q 'stream_retired  *1 ' '$W/agent.log' && grep -q 'retire_unknown  *1 ' '$W/agent.log'"
check "SIGTERM -> exit 0" agent_stop "$AGENT_PID"

# --- refusals the agent must survive
conf_write "$W/wrongname.conf" 'appliance = "198.18.100.1";' 'server_name = "other.sluice.test";'
agent_start agent-wrongname "$W/wrongname.conf"
pid=$AGENT_PID
check "wrong server_name -> certificate rejected" \
	sl_wait_for 10 "rejection" grep -q 'certificate rejected' "$W/agent-wrongname.log"
check "... and the agent keeps running" sl_pid_alive "$pid"
agent_stop "$pid" || true

# --- through tinyproxy (Basic auth)
command -v tinyproxy >/dev/null || apt-get install -y tinyproxy >"$W/apt.log" 2>&1 || true
if ! command -v tinyproxy >/dev/null; then
	fail "tinyproxy is not installed and apt-get install failed: the proxy checks did not run"
else
	cat >"$W/tinyproxy.conf" <<EOF
User tinyproxy
Group tinyproxy
Port 8888
Listen 198.18.101.2
Timeout 60
MaxClients 50
Allow 198.18.101.0/24
ConnectPort 443
BasicAuth sluice s3cret
LogLevel Info
EOF
	getent passwd tinyproxy >/dev/null || sed -i 's/^User .*/User nobody/; s/^Group .*/Group nogroup/' "$W/tinyproxy.conf"
	sl_spawn "$W/tinyproxy.log" tinyproxy --ns "$NS_P" -- tinyproxy -d -c "$W/tinyproxy.conf"
	sl_wait_for 10 "tinyproxy" sl_listening_on "$NS_P" 198.18.101.2 8888 || sl_fail "tinyproxy did not start"

	conf_write "$W/badpass.conf" 'appliance = "198.18.102.1";' 'proxy = "http://sluice:Wr0ngPass@198.18.101.2:8888";'
	agent_start agent-badpass "$W/badpass.conf"
	pid=$AGENT_PID
	# tinyproxy answers a bad Basic auth with 401 (RFC 9110 says 407)
	check "wrong proxy password -> refused (401/407), the agent keeps trying" \
		sl_wait_for 10 "401/407" grep -q -E 'refused CONNECT 198.18.102.1:443: "HTTP/1.[01] 40[17]' "$W/agent-badpass.log"
	check "... and the password is not in its log" bash -c "! grep -q Wr0ngPass '$W/agent-badpass.log'"
	check "... still running" sl_pid_alive "$pid"
	agent_stop "$pid" || true

	conf_write "$W/proxy.conf" 'appliance = "198.18.102.1";' 'proxy = "http://sluice:s3cret@198.18.101.2:8888";'
	check "--check accepts the proxy config" "$AGENT" -c "$W/proxy.conf" --check
	ups=$(mock_count '^event control-up')
	agent_start agent-proxy "$W/proxy.conf"
	check "through the proxy: control session up from the proxy's address" \
		mock_wait_count '^event control-up peer=198.18.102.2:.*cn=site-a' 1 15
	check "through the proxy: pool of 4" mock_wait_pool 4 15
	connect_expect "through the proxy: connect :80 -> OK" 198.19.200.10 80 "OK"
	connect_expect "through the proxy: connect :81 -> REFUSE" 198.19.200.10 81 "REFUSE"
	relay_roundtrip 1048576
	mock_cmd 5 ping 198.19.200.10 1400 || true
	check "through the proxy: ping 1400 bytes -> OK" ping_ok 1400
	check "tinyproxy carried the CONNECTs" grep -q 'CONNECT' "$W/tinyproxy.log"
	check "through the proxy: SIGTERM -> exit 0" agent_stop "$AGENT_PID"
	check "the proxy password is not in the agent's log" bash -c "! grep -q s3cret '$W/agent-proxy.log'"
fi

# --- an appliance that speaks TLS 1.2 only (the exporter is RFC 5705's there)
mock_stop
mock_start --tls12
agent_start agent-tls12 "$W/direct.conf"
check "TLS 1.2 appliance: control session up" mock_wait_count '^event control-up .*cn=site-a' 1 15
check "TLS 1.2 appliance: pool of 4 (TLSv1.2 sessions)" mock_wait_pool 4 15
check "TLS 1.2 appliance: the STREAM sessions are TLS 1.2" \
	bash -c "grep '^event stream-up' '$MOCK_OUT' | grep -q 'TLSv1.2\$'"
relay_roundtrip 1048576
check "TLS 1.2 appliance: SIGTERM -> exit 0" agent_stop "$AGENT_PID"

# --- without CAP_NET_RAW: no raw ICMP socket, the documented fallbacks
if command -v setpriv >/dev/null; then
	ups=$(mock_count '^event control-up')
	sl_spawn "$W/agent-noraw.log" agent-noraw --ns "$NS_H" -- \
		setpriv --bounding-set -net_raw -- "$AGENT" -c "$W/direct.conf" -v
	AGENT_PID=$SL_LAST_PID
	check "no CAP_NET_RAW: the agent says so" \
		sl_wait_for 10 "raw socket warning" grep -q 'no raw ICMP socket' "$W/agent-noraw.log"
	check "no CAP_NET_RAW: control session up" mock_wait_count '^event control-up' $((ups + 1)) 15
	check "no CAP_NET_RAW: pool of 4" mock_wait_pool 4 15
	mock_cmd 5 ping 198.19.200.10 56 || true
	check "no CAP_NET_RAW: PING -> UNREACHABLE 13" reply_has "ping UNREACHABLE code=13"
	connect_expect "no CAP_NET_RAW: connect 198.19.202.5 -> UNREACHABLE 1 (EHOSTUNREACH)" 198.19.202.5 80 \
		"UNREACHABLE code=1"
	connect_expect "no CAP_NET_RAW: connect :80 -> OK" 198.19.200.10 80 "OK"
	check "no CAP_NET_RAW: SIGTERM -> exit 0" agent_stop "$AGENT_PID"
else
	sl_log "setpriv missing: the no-CAP_NET_RAW checks did not run"
fi

# --- an appliance that did not grant PING: a PING is a protocol error
mock_stop
mock_start --caps 1
agent_start agent-caps "$W/direct.conf"
check "caps STREAM only: control session up" mock_wait_count '^event control-up' 1 15
mock_send ping 198.19.200.10 56
check "PING without the PING capability -> ERROR UNEXPECTED" \
	mock_wait_count '^event error code=UNEXPECTED text=PING without the PING capability' 1 5
check "caps STREAM only: SIGTERM -> exit 0" agent_stop "$AGENT_PID"
mock_stop
mock_start

# --- the bounds: max_connects = 1, max_pings = 1
conf_write "$W/limits.conf" 'appliance = "198.18.100.1";' 'server_name = "appliance.sluice.test";' \
	'max_connects = 1; max_pings = 1;'
ups=$(mock_count '^event control-up')
agent_start agent-limits "$W/limits.conf"
check "limits: control session up" mock_wait_count '^event control-up' $((ups + 1)) 15
check "limits: pool of 4" mock_wait_pool 4 15
mock_send connect 198.19.203.5 80 1500
first=$SENT
mock_cmd 5 connect 198.19.200.10 80 || true
check "limits: a second concurrent connect -> BUSY" reply_has "connect BUSY"
mock_wait "$first" 5 || true
check "limits: the first one still ends (UNREACHABLE 1)" reply_has "connect UNREACHABLE code=1"
mock_send ping 198.19.203.5 56 0 1500
first=$SENT
mock_cmd 5 ping 198.19.200.10 56 || true
check "limits: a second outstanding ping -> BUSY" reply_has "ping BUSY"
mock_wait "$first" 5 || true
check "limits: the first ping still ends (TIMEOUT)" reply_has "ping TIMEOUT"
connect_expect "limits: with the slot free again, connect -> OK" 198.19.200.10 80 "OK"
kill -USR1 "$AGENT_PID"
check "limits: counted (connects_busy 1, pings_busy 1)" sl_wait_for 5 "busy counters" \
	bash -c "grep -q 'connects_busy  *1 ' '$W/agent-limits.log' && grep -q 'pings_busy  *1 ' '$W/agent-limits.log'"
check "limits: SIGTERM -> exit 0" agent_stop "$AGENT_PID"

# --- an appliance that selects no ALPN protocol is not ours
mock_stop
mock_start --no-alpn
agent_start agent-noalpn "$W/direct.conf"
pid=$AGENT_PID
check "no ALPN selected -> the session is refused" \
	sl_wait_for 10 "ALPN refusal" grep -q 'did not select ALPN "sluice-control/1"' "$W/agent-noalpn.log"
check "... and the agent keeps running" sl_pid_alive "$pid"
agent_stop "$pid" || true
mock_stop

if ((FAILED > 0)); then
	sl_log "$FAILED check(s) failed"
	exit 1
fi
sl_log "agent standalone test passed"
