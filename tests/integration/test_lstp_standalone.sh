#!/usr/bin/env bash
# workers: 1 no data plane here (a mock or sluice-lstp alone): nothing changes with workers
# sluice-lstp on its own (S3, no data plane).  Three namespaces:
#
#   ns A  198.18.1.1 ------------------- 198.18.1.2  ns B
#   (role middle :4433, SOCKS5 127.0.0.1:1080;        (server ends; web :80,
#    mock middle :4434, role client end,               echo :9000, generator
#    SOCKS5 127.0.0.1:1081; the SOCKS clients)         :9001, on 198.18.1.2)
#         198.18.2.1                    198.18.3.1
#              \                        /
#               198.18.2.2  ns P  198.18.3.2 (tinyproxy :8888, danted :1080)
#
# B has no route to 198.18.2.0/24: a far end connecting from 198.18.2.2
# proves the proxy path.
#
# Checks: --check good/bad; role middle (A) paired with a server end (B)
# dialing directly, TLS 1.3 up; curl through SOCKS5 (RFC 1929 auth) gets the
# page, a wrong password is refused; a forward port reaches a service of
# the far end (an unknown service: closed); a destination outside `allow` gets
# SOCKS reply 02; a domain name resolved by the far end; 256 MiB each way
# (echo) with sha256 intact; 100 concurrent channels intact; a reader that
# stops reading pauses only its channel (another channel moves meanwhile),
# then everything arrives; bad messages inside the secured phase from an end
# of the same CA (python, tool.py evilend) -> the right ERROR code (VERSION,
# OVERSIZED, UNEXPECTED, CHANNEL) and the process stays; kill -9 of the server
# end and a restart pair again; the server end through tinyproxy (HTTP CONNECT, Basic auth) and
# through Dante (SOCKS5); a server end with a certificate of another CA is
# refused; a role client end against a mock middle (python, the clear phase
# of docs/lstp.md) works, and a mock middle that tampers with the clear
# phase gets the tunnel shut with ERROR MISMATCH.  PASS/FAIL per check.
# timeout: 180
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

LSTP=${SLUICE_LSTP_BIN:-$SL_BUILD/lstp/sluice-lstp}
[[ -x $LSTP ]] || { echo "SKIP: $LSTP not built"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: no openssl"; exit 77; }
BULK=${LSTP_BULK_BYTES:-$((256 << 20))}

sl_instance_init lstp_standalone
id=${SL_ID:-$$}
NS_A=slt${id}A NS_B=slt${id}B NS_P=slt${id}P
W=$SL_WORK
FAILED=0

pass() { printf '%s PASS: %s\n' "$(date +%T.%3N)" "$*" >&2; }
fail() {
	printf '%s FAIL: %s\n' "$(date +%T.%3N)" "$*" >&2
	FAILED=$((FAILED + 1))
}
check() {
	local d=$1
	shift
	if "$@"; then pass "$d"; else fail "$d"; fi
}

# ------------------------------------------------------------------ PKI ----
# Two CAs: the ends' CA and a rogue one.  End certificates carry both
# serverAuth and clientAuth: either end may be the TLS client (the master).
pki() {
	local d=$W/pki n ca
	mkdir -p "$d"
	(
		cd "$d"
		for ca in ca rogue-ca; do
			openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $ca.key \
				-out $ca.pem -days 2 -subj "/CN=sluice test LSTP $ca" \
				-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
		done
		printf '%s\n' "extendedKeyUsage=serverAuth,clientAuth" "basicConstraints=CA:FALSE" >end.ext
		for n in end-a end-b end-c rogue; do
			ca=ca
			[[ $n == rogue ]] && ca=rogue-ca
			openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $n.key \
				-out $n.csr -subj "/CN=$n"
			openssl x509 -req -in $n.csr -CA $ca.pem -CAkey $ca.key -CAcreateserial \
				-out $n.pem -days 2 -extfile end.ext
		done
	) >"$W/pki.log" 2>&1 || sl_fail "making the test PKI failed: $(tail -n 5 "$W/pki.log")"
	PKI=$d
}

# ------------------------------------------------------------- topology ----
veth() {
	ip -n "$1" link add "$2" type veth peer name "$5" netns "$4" || sl_fail "veth $2/$5"
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$4" addr add "$6" dev "$5"
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
}

topology() {
	local ns
	for ns in "$NS_A" "$NS_B" "$NS_P"; do sl_netns_create "$ns"; done
	veth "$NS_A" "a${id}b" 198.18.1.1/24 "$NS_B" "b${id}a" 198.18.1.2/24
	veth "$NS_A" "a${id}p" 198.18.2.1/24 "$NS_P" "p${id}a" 198.18.2.2/24
	veth "$NS_P" "p${id}b" 198.18.3.2/24 "$NS_B" "b${id}p" 198.18.3.1/24
}

# ---------------------------------------------------------------- tools ----
# tool.py: the servers in B, the SOCKS5 clients in A, and the mock middle.
write_tool() {
	cat >"$W/tool.py" <<'EOF'
import hashlib, os, socket, struct, sys, threading, time

BLK = hashlib.sha256(b"lstp").digest() * 32768  # 1 MiB
USER, PW = os.environ.get("SOCKS_USER"), os.environ.get("SOCKS_PASS")

def chunk(i):
    r = (i * 7919) % len(BLK)
    return BLK[r:] + BLK[:r]

def recvn(s, n):
    b = b""
    while len(b) < n:
        x = s.recv(n - len(b))
        if not x:
            raise OSError("eof after %d of %d" % (len(b), n))
        b += x
    return b

def socks(sh, sp, host, port, timeout=60):
    s = socket.create_connection((sh, sp), timeout=timeout)
    s.sendall(b"\x05\x01" + (b"\x02" if USER else b"\x00"))
    m = recvn(s, 2)
    if m[1] == 2:
        s.sendall(b"\x01" + bytes([len(USER)]) + USER.encode() + bytes([len(PW)]) + PW.encode())
        if recvn(s, 2)[1] != 0:
            raise OSError("auth refused")
    elif m[1] != 0:
        raise OSError("method refused %d" % m[1])
    h = host.encode()
    s.sendall(b"\x05\x01\x00\x03" + bytes([len(h)]) + h + struct.pack(">H", port))
    r = recvn(s, 10)
    return s, r[1]

def listen(bind, port):
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((bind, port))
    l.listen(512)
    return l

def serve(bind, port):
    """port: echo; port+1: generator ("N\\n" -> N bytes of the stream)."""
    def echo(c):
        try:
            while True:
                b = c.recv(262144)
                if not b:
                    break
                c.sendall(b)
            c.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        c.close()
    def gen(c):
        try:
            line = b""
            while not line.endswith(b"\n"):
                x = c.recv(1)
                if not x:
                    return
                line += x
            n, i = int(line), 0
            while n > 0:
                b = chunk(i)[:n]
                c.sendall(b)
                n -= len(b)
                i += 1
            c.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        c.close()
    def loop(l, fn):
        while True:
            c, _ = l.accept()
            threading.Thread(target=fn, args=(c,), daemon=True).start()
    le, lg = listen(bind, port), listen(bind, port + 1)
    threading.Thread(target=loop, args=(lg, gen), daemon=True).start()
    print("serving", flush=True)
    loop(le, echo)

def echo_check(sh, sp, host, port, nbytes, res, idx):
    try:
        s, rep = socks(sh, sp, host, port)
        if rep != 0:
            res[idx] = "rep %d" % rep
            return
        hs = hashlib.sha256()
        def tx():
            n, i = nbytes, 0
            while n > 0:
                b = chunk(i)[:n]
                s.sendall(b)
                hs.update(b)
                n -= len(b)
                i += 1
            s.shutdown(socket.SHUT_WR)
        t = threading.Thread(target=tx)
        t.start()
        hr, got = hashlib.sha256(), 0
        while True:
            b = s.recv(1 << 20)
            if not b:
                break
            hr.update(b)
            got += len(b)
        t.join()
        s.close()
        res[idx] = "ok" if got == nbytes and hr.digest() == hs.digest() else "bad %d/%d" % (got, nbytes)
    except Exception as e:
        res[idx] = "exc %s" % e

def stream_sha(n):
    h, i = hashlib.sha256(), 0
    while n > 0:
        b = chunk(i)[:n]
        h.update(b)
        n -= len(b)
        i += 1
    return h.digest()

def mockmid(bind, port, tamper):
    """A middle as docs/lstp.md has it, for tests: pairs the first two ends
    (no common check), appends its hop, then relays.  tamper: flips a bit of
    each end's nonce in what it delivers."""
    def frame(s):
        h = recvn(s, 8)
        return h + recvn(s, struct.unpack(">H", h[2:4])[0])
    def deliver(topo):
        body = bytearray(topo[8:])
        if tamper:
            nl = body[2]
            body[1 + 2 + nl + 4 + 2] ^= 1
        body[0] += 1
        body += bytes([3, 5]) + b"mockm" + socket.inet_aton(bind) + struct.pack(">H", port) + os.urandom(8)
        return topo[:2] + struct.pack(">H", len(body)) + topo[4:8] + bytes(body)
    def pump(a, b):
        try:
            while True:
                x = a.recv(65536)
                if not x:
                    break
                b.sendall(x)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
    def pair(a, b):
        try:
            sa, sb = [frame(a), frame(a)], [frame(b), frame(b)]
            a.sendall(sb[0] + deliver(sb[1]))
            b.sendall(sa[0] + deliver(sa[1]))
        except OSError:
            a.close(); b.close()
            return
        threading.Thread(target=pump, args=(a, b), daemon=True).start()
        pump(b, a)
    l = listen(bind, port)
    print("mock middle", "tampering" if tamper else "", flush=True)
    while True:
        a, _ = l.accept()
        b, _ = l.accept()
        threading.Thread(target=pair, args=(a, b), daemon=True).start()

def evilend(host, port, common, ca, cert, key, what):
    """A server end that pairs with a role middle, completes TLS and the
    re-exchange, then sends one bad thing.  Prints the ERROR code the
    middle answers with (or "none" when it carries on, "closed")."""
    import ssl
    def frm(t, body, ch=0):
        return struct.pack(">BBHI", 1, t, len(body), ch) + body
    def rd(s):
        h = recvn(s, 8)
        return h[1], struct.unpack(">I", h[4:8])[0], recvn(s, struct.unpack(">H", h[2:4])[0])
    c = common.encode()
    info = frm(1, bytes([len(c)]) + c + b"\x04evil")
    topo = frm(2, b"\x01" + bytes([2, 4]) + b"evil" + bytes(4) + bytes(2) + os.urandom(8))
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(info + topo)
    rd(s); rd(s)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(ca)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.set_alpn_protocols(["sluice-lstp/1"])
    t = ctx.wrap_socket(s, server_side=True)
    props = frm(3, b"\x01\x08software\x04evil")
    t.sendall(info + topo + props)
    for _ in range(3):
        rd(t)
    bad = {
        "garbage": b"\xff" * 64,
        "oversized": struct.pack(">BBHI", 1, 10, 65535, 1),
        "conn_req": frm(4, b"\x01" + bytes([10, 0, 0, 1]) + b"\x00\x50", 7),
        "data_unknown": frm(10, b"x" * 100, 99),
        "ack_unknown": frm(5, bytes(6), 5),
        "info_again": info,
    }[what]
    t.sendall(bad)
    t.settimeout(3)
    try:
        while True:
            typ, ch, body = rd(t)
            if typ == 15:
                print("ERROR", struct.unpack(">H", body[:2])[0])
                return
    except socket.timeout:
        print("none")
    except (OSError, ssl.SSLError):
        print("closed")

def main():
    cmd = sys.argv[1]
    if cmd == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    elif cmd == "evilend":
        evilend(*sys.argv[2:9])
    elif cmd == "mockmid":
        mockmid(sys.argv[2], int(sys.argv[3]), sys.argv[4] == "tamper")
    elif cmd == "rep":  # SOCKSHOST SOCKSPORT HOST PORT -> the reply code
        try:
            s, rep = socks(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
            print(rep)
        except Exception as e:
            print("exc", e)
    elif cmd == "echo":  # SOCKSHOST SOCKSPORT HOST PORT BYTES CONNS
        sh, sp, h, p = sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
        n, k = int(sys.argv[6]), int(sys.argv[7])
        res = [None] * k
        t0 = time.time()
        ts = [threading.Thread(target=echo_check, args=(sh, sp, h, p, n, res, i)) for i in range(k)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        bad = [r for r in res if r != "ok"]
        print("%d/%d channels of %d bytes each way intact in %.1f s %s" %
              (k - len(bad), k, n, time.time() - t0, bad[:5]), flush=True)
        sys.exit(1 if bad else 0)
    elif cmd == "pause":  # SOCKSHOST SOCKSPORT HOST PORT (PORT+1: the generator)
        sh, sp, h, p = sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
        n = 64 << 20
        s, rep = socks(sh, sp, h, p + 1)
        assert rep == 0, rep
        s.sendall(b"%d\n" % n)
        time.sleep(2)  # not reading: the channel fills up and pauses
        res = [None]
        t0 = time.time()
        echo_check(sh, sp, h, p, 16 << 20, res, 0)
        other = time.time() - t0
        hr, got = hashlib.sha256(), 0
        while True:
            b = s.recv(1 << 20)
            if not b:
                break
            hr.update(b)
            got += len(b)
        ok = res[0] == "ok" and got == n and hr.digest() == stream_sha(n)
        print("other channel: %s in %.1f s while the reader stalled; stalled channel: %d/%d bytes, %s" %
              (res[0], other, got, n, "intact" if ok else "BAD"), flush=True)
        sys.exit(0 if ok and other < 20 else 1)

main()
EOF
}

# lconf FILE ROLE NAME CERT MIDDLE_ADDR MIDDLE_PORT [EXTRA...]
lconf() {
	local f=$1 role=$2 name=$3 cert=$4 addr=$5 port=$6 ca=${CA_OVERRIDE:-ca}
	shift 6
	{
		echo "lstp = {"
		echo "  role = \"$role\"; name = \"$name\"; common = \"pair-$id\"; unique = \"$name\";"
		echo "  middle = { address = \"$addr\"; port = $port; };"
		echo "  tls = { ca = \"$PKI/$ca.pem\"; cert = \"$PKI/$cert.pem\"; key = \"$PKI/$cert.key\"; };"
		echo "  reconnect = { min_ms = 100; max_ms = 1000; };"
		echo "  limits = { connect_timeout_ms = 3000; handshake_timeout_ms = 5000; };"
		printf '  %s\n' "$@"
		echo "};"
	} >"$f"
}

SERVER_EXTRA=('allow = [ "198.18.1.2/32:80", "198.18.1.2:9000", "198.18.1.2:9001", "127.0.0.1:9000" ];'
	'services = ( { name = "web"; address = "198.18.1.2"; port = 80; } );')

# lstp_start NAME NS CONF: start, PID in LPID
lstp_start() {
	sl_spawn "$W/$1.log" "$1" --ns "$2" -- "$LSTP" -c "$3"
	LPID=$SL_LAST_PID
}

lstp_kill() { # hard: kill -9 of a pid we started
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# up_count LOG: tunnels up so far
up_count() { grep -c 'tunnel up with' "$1" 2>/dev/null || true; }
ups_at_least() { (($(up_count "$1") >= $2)); }

curl_a() { # curl_a SOCKSPORT URL [USER:PASS]
	ip netns exec "$NS_A" curl -sS --max-time 10 -x "socks5h://${3:-lstp:s3cret}@127.0.0.1:$1" "$2"
}
page_ok() { [[ $(curl_a "$@" 2>"$W/curl.err") == "lstp page $id" ]]; }
rep_is() { # rep_is WANT SOCKSPORT HOST PORT
	local r
	r=$(SOCKS_USER=lstp SOCKS_PASS=s3cret ip netns exec "$NS_A" python3 "$W/tool.py" rep 127.0.0.1 "$2" "$3" "$4")
	sl_log "SOCKS5 reply for $3:$4: $r"
	[[ $r == "$1" ]]
}
tool_a() { SOCKS_USER=lstp SOCKS_PASS=s3cret ip netns exec "$NS_A" timeout 120 python3 "$W/tool.py" "$@" >&2; }

# ----------------------------------------------------------------- main ----
pki
topology
write_tool
mkdir -p "$W/www"
echo "lstp page $id" >"$W/www/index.html"
sl_spawn "$W/web.log" web --ns "$NS_B" -- python3 -m http.server --bind 198.18.1.2 --directory "$W/www" 80
sl_spawn "$W/servers.log" servers --ns "$NS_B" -- python3 "$W/tool.py" serve 198.18.1.2 9000
sl_spawn "$W/servers-lo.log" servers-lo --ns "$NS_B" -- python3 "$W/tool.py" serve 127.0.0.1 9000
sl_wait_for 10 "web and echo servers" sl_listening_on "$NS_B" 198.18.1.2 80 || sl_fail "web server did not start"
sl_wait_for 10 "echo server" sl_listening_on "$NS_B" 198.18.1.2 9001 || sl_fail "echo server did not start"
sl_wait_for 10 "echo server (lo)" sl_listening_on "$NS_B" 127.0.0.1 9000 || sl_fail "echo server did not start"

MID_EXTRA=('socks = { address = "127.0.0.1"; port = 1080; users = ( { user = "lstp"; password = "s3cret"; } ); };'
	'forwards = ( { listen_port = 8080; service = "web"; }, { listen_port = 8081; service = "nope"; } );')
lconf "$W/mid.conf" middle end-a end-a 0.0.0.0 4433 "${MID_EXTRA[@]}"
lconf "$W/srv.conf" server end-b end-b 198.18.1.1 4433 "${SERVER_EXTRA[@]}"

# --- --check
check "--check accepts a good config" "$LSTP" -c "$W/mid.conf" --check
lconf "$W/bad.conf" server end-b end-b 198.18.1.1 4433 "${SERVER_EXTRA[@]}" 'colour = "blue";'
if "$LSTP" -c "$W/bad.conf" --check 2>"$W/bad.err"; then
	fail "--check accepted an unknown key"
else
	check "--check refuses an unknown key with file:line ($(cat "$W/bad.err"))" grep -q "bad.conf:[0-9]*: unknown key 'colour'" "$W/bad.err"
fi

# --- role middle in A, server end in B, directly
lstp_start mid "$NS_A" "$W/mid.conf"
MID_PID=$LPID
sl_wait_for 10 "SOCKS port" sl_listening_on "$NS_A" 127.0.0.1 1080 || sl_fail "role middle did not start"
lstp_start srv "$NS_B" "$W/srv.conf"
SRV_PID=$LPID
check "pairing and TLS 1.3 end to end: tunnel up at both ends" \
	sl_wait_for 10 "tunnel up" eval 'ups_at_least "$W/mid.log" 1 && ups_at_least "$W/srv.log" 1'
check "the role middle is the master (client role)" grep -q "we are the master" "$W/mid.log"
check "TLS 1.3 with the peer's certificate" grep -q "TLS up with \"end-b\" (TLSv1.3" "$W/mid.log"
check "curl through SOCKS5 (user/password) gets the page" page_ok 1080 http://198.18.1.2/index.html
check "a forward port (service \"web\" of the far end) gets the page" \
	eval '[[ $(ip netns exec "$NS_A" curl -sS --max-time 10 http://127.0.0.1:8080/index.html) == "lstp page $id" ]]'
check "a forward to a service the far end does not have is closed" \
	eval '! ip netns exec "$NS_A" curl -sS --max-time 10 http://127.0.0.1:8081/ 2>/dev/null'
check "a wrong SOCKS5 password is refused" eval '! curl_a 1080 http://198.18.1.2/ lstp:wrong'
check "a destination outside 'allow' gets SOCKS5 reply 02" rep_is 2 1080 198.18.1.2 22
check "a domain name is resolved by the far end (localhost:9000)" tool_a echo 127.0.0.1 1080 localhost 9000 100000 1
check "$((BULK >> 20)) MiB each way through the tunnel, sha256 intact" \
	tool_a echo 127.0.0.1 1080 198.18.1.2 9000 "$BULK" 1
check "100 concurrent channels, 1 MiB each way each, all intact" \
	tool_a echo 127.0.0.1 1080 198.18.1.2 9000 $((1 << 20)) 100
check "a stalled reader pauses only its channel, then resumes with zero loss" \
	tool_a pause 127.0.0.1 1080 198.18.1.2 9000
kill -USR1 "$MID_PID"
sleep 0.3
check "... by SERVICE_DATA_PAUSE from the role middle (SIGUSR1 counters)" grep -Eq 'pauses_sent +[1-9]' "$W/mid.log"

# --- bad messages inside the secured phase: ERROR, the tunnel closes, the
# process stays (an end of our CA that misbehaves)
lstp_kill "$SRV_PID"
evil() { # evil WHAT WANT
	local r
	r=$(ip netns exec "$NS_B" timeout 20 python3 "$W/tool.py" evilend 198.18.1.1 4433 "pair-$id" \
		"$PKI/ca.pem" "$PKI/end-b.pem" "$PKI/end-b.key" "$1" 2>&1 | tail -n 1)
	sl_log "evil end, $1: $r"
	[[ $r == "$2" ]]
}
check "secured phase: garbage -> ERROR UNKNOWN_TYPE or VERSION" eval 'evil garbage "ERROR 5" || evil garbage "ERROR 3"'
check "secured phase: an oversized body -> ERROR" eval 'evil oversized "ERROR 2" || evil oversized "ERROR 1"'
check "secured phase: CONNECTION_REQUEST to a client end -> ERROR UNEXPECTED" evil conn_req "ERROR 4"
check "secured phase: a second COMMON_UNIQUE_INFO -> ERROR UNEXPECTED" evil info_again "ERROR 4"
check "secured phase: SERVICE_DATA for a channel never opened -> ERROR CHANNEL" evil data_unknown "ERROR 10"
check "secured phase: CONNECTION_ACK for a channel never opened -> ERROR CHANNEL" evil ack_unknown "ERROR 10"
check "... the role middle is still running" sl_pid_alive "$MID_PID"

# --- kill -9 of the server end, restart: pairs again
# counted before the start: the new end may pair before the next line runs
UPS=$(up_count "$W/mid.log")
lstp_start srv2 "$NS_B" "$W/srv.conf"
SRV_PID=$LPID
check "server end killed -9 and restarted: paired again" sl_wait_for 15 "second tunnel" ups_at_least "$W/mid.log" $((UPS + 1))
check "... and the page comes through again" sl_wait_for 5 page page_ok 1080 http://198.18.1.2/index.html
lstp_kill "$SRV_PID"

# --- the server end through proxies (B reaches 198.18.2.1 only through P)
cat >"$W/tinyproxy.conf" <<EOF
User nobody
Group nogroup
Port 8888
Listen 198.18.3.2
Timeout 60
MaxClients 20
Allow 198.18.3.0/24
ConnectPort 4433
BasicAuth sluice pr0xy
LogLevel Info
EOF
if command -v tinyproxy >/dev/null; then
	sl_spawn "$W/tinyproxy.log" tinyproxy --ns "$NS_P" -- tinyproxy -d -c "$W/tinyproxy.conf"
	sl_wait_for 10 "tinyproxy" sl_listening_on "$NS_P" 198.18.3.2 8888 || fail "tinyproxy did not start"
	lconf "$W/srv-http.conf" server end-b end-b 198.18.2.1 4433 "${SERVER_EXTRA[@]}" \
		'proxy = "http://sluice:pr0xy@198.18.3.2:8888";'
	lstp_start srv-http "$NS_B" "$W/srv-http.conf"
	SRV_PID=$LPID
	check "server end through tinyproxy (HTTP CONNECT, Basic auth): paired" \
		sl_wait_for 15 "tunnel via HTTP" ups_at_least "$W/mid.log" $((UPS + 2))
	check "... coming from the proxy" grep -q "far end connected from 198.18.2.2" "$W/mid.log"
	check "... and the page comes through" sl_wait_for 5 page page_ok 1080 http://198.18.1.2/index.html
	lstp_kill "$SRV_PID"
else
	fail "tinyproxy is not installed (scripts/setup.sh): HTTP CONNECT not checked"
fi

if command -v danted >/dev/null; then
	cat >"$W/danted.conf" <<EOF
logoutput: stderr
internal: 198.18.3.2 port = 1080
external: 198.18.2.2
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 198.18.3.0/24 to: 0.0.0.0/0 }
socks pass { from: 198.18.3.0/24 to: 198.18.2.1/32 port = 4433 command: connect }
EOF
	sl_spawn "$W/danted.log" danted --ns "$NS_P" -- danted -f "$W/danted.conf" -p "$W/danted.pid"
	sl_wait_for 10 "danted" sl_listening_on "$NS_P" 198.18.3.2 1080 || fail "danted did not start"
	lconf "$W/srv-socks.conf" server end-b end-b 198.18.2.1 4433 "${SERVER_EXTRA[@]}" \
		'proxy = "socks5://198.18.3.2:1080";'
	lstp_start srv-socks "$NS_B" "$W/srv-socks.conf"
	SRV_PID=$LPID
	check "server end through Dante (SOCKS5): paired" sl_wait_for 15 "tunnel via SOCKS5" ups_at_least "$W/mid.log" $((UPS + 3))
	check "... and 16 MiB each way come through" tool_a echo 127.0.0.1 1080 198.18.1.2 9000 $((16 << 20)) 1
	lstp_kill "$SRV_PID"
else
	fail "danted is not installed (scripts/setup.sh: dante-server): SOCKS5 proxy not checked"
fi

# --- a certificate of another CA
UPS=$(up_count "$W/mid.log")
CA_OVERRIDE=rogue-ca lconf "$W/rogue.conf" server end-b rogue 198.18.1.1 4433 "${SERVER_EXTRA[@]}"
lstp_start rogue "$NS_B" "$W/rogue.conf"
ROGUE_PID=$LPID
check "a server end with another CA's certificate is refused" \
	sl_wait_for 10 "refusal" grep -q "peer end certificate rejected" "$W/mid.log"
check "... no tunnel comes up" eval '! ups_at_least "$W/mid.log" $((UPS + 1))'
check "... and SOCKS requests get reply 01 meanwhile" rep_is 1 1080 198.18.1.2 80
lstp_kill "$ROGUE_PID"

# --- a role client end and a server end through a (mock) middle
sl_spawn "$W/mockmid.log" mockmid --ns "$NS_A" -- python3 "$W/tool.py" mockmid 198.18.1.1 4434 honest
MOCK_PID=$SL_LAST_PID
sl_wait_for 10 "mock middle" sl_listening_on "$NS_A" 198.18.1.1 4434 || fail "mock middle did not start"
lconf "$W/cli.conf" client end-c end-c 198.18.1.1 4434 \
	'socks = { address = "127.0.0.1"; port = 1081; users = ( { user = "lstp"; password = "s3cret"; } ); };'
lconf "$W/srv3.conf" server end-b3 end-b 198.18.1.1 4434 "${SERVER_EXTRA[@]}"
lstp_start cli "$NS_A" "$W/cli.conf"
CLI_PID=$LPID
lstp_start srv3 "$NS_B" "$W/srv3.conf"
SRV_PID=$LPID
check "role client end paired through a middle (the peer and the middle hop seen)" \
	sl_wait_for 10 "client tunnel" eval 'ups_at_least "$W/cli.log" 1 && grep -q "paired with \"end-b3\" (2 hops)" "$W/cli.log"'
check "... and the page comes through it" sl_wait_for 5 page page_ok 1081 http://198.18.1.2/index.html
kill "$MOCK_PID" 2>/dev/null || true
wait "$MOCK_PID" 2>/dev/null || true
sl_spawn "$W/mockmid-t.log" mockmid-tamper --ns "$NS_A" -- python3 "$W/tool.py" mockmid 198.18.1.1 4434 tamper
sl_wait_for 10 "tampering middle" sl_listening_on "$NS_A" 198.18.1.1 4434 || fail "tampering mock middle did not start"
check "a middle that tampers with the clear phase: tunnel shut with ERROR MISMATCH" \
	sl_wait_for 15 "MISMATCH" eval 'grep -q "ERROR MISMATCH" "$W/cli.log" && grep -q "ERROR MISMATCH" "$W/srv3.log"'
check "... and it never comes up" eval '((  $(up_count "$W/cli.log") == 1 ))'
check "... and the ends keep running (reconnecting)" eval 'sl_pid_alive "$CLI_PID" && sl_pid_alive "$SRV_PID" && sl_pid_alive "$MID_PID"'

# --- SIGTERM: SHUTDOWN and exit 0
kill -TERM "$MID_PID"
rc=0
wait "$MID_PID" || rc=$?
check "SIGTERM: the role middle exits 0" test "$rc" -eq 0

if ((FAILED)); then
	sl_log "$FAILED check(s) failed"
	exit 1
fi
sl_log "all checks passed"
