#!/usr/bin/env bash
# S3 end to end: the appliance as LSTP middle proxy (docs/lstp.md) between two
# real sluice-lstp end proxies (docs/sluice-lstp.md), each behind a firewall
# that lets only outbound connections through:
#
#   SL_NS_C 198.18.0.2                appliance              SL_NS_S 198.19.0.10
#   sluice-lstp role client ----> lstp listener <---- sluice-lstp role server
#   SOCKS5 127.0.0.1:1080 (auth)     198.18.0.1:7443       allow: 127.0.0.1 ports
#   decoy web 127.0.0.1:8080                               web 127.0.0.1:8080,
#                                                          echo :9000, gen :9001
#
# nftables in both namespaces: input accepts established/related and
# loopback only (checked: a new connection into either is dropped).
# Checks:
#  1. both ends pair through the appliance: `show lstp` lists one pair whose
#     topology is the two ends and the middle's lstp.name, mode relay;
#  2. curl --socks5-hostname (RFC 1929 user/password) to localhost:8080
#     gets the server namespace's page (localhost resolved by the far end,
#     not the decoy of the client namespace);
#  3. 256 MiB each way through the tunnel (SOCKS5 to the echo server),
#     sha256 intact;
#  4. the middle never sees plaintext: a tshark capture on the server
#     namespace's tap while curl fetches a page with a random marker and the
#     marker goes through an echo channel holds tunnel traffic to
#     198.18.0.1:7443 but not the marker (a capture on the server
#     namespace's loopback, the control, does hold it);
#  5. the pair's bytes counters in `show lstp` moved by at least 256 MiB
#     each way; with several workers, the pair formed and moved_in is
#     reported (move_failed must stay 0);
#  6. kill -9 of the server end: the pair leaves `show lstp`; restarted, it
#     pairs again and curl gets the page again.
# (4 runs before 3: the capture is small when it holds no bulk transfer.)
# timeout: 180
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

LSTP=${SLUICE_LSTP_BIN:-$SL_BUILD/lstp/sluice-lstp}
[[ -x $LSTP ]] || { echo "SKIP: $LSTP not built"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: no openssl"; exit 77; }
sl_need_pkgs nft:nftables curl || { echo "SKIP: no nft or curl"; exit 77; }
if ! command -v tshark >/dev/null && ! command -v tcpdump >/dev/null; then
	sl_need_pkgs tcpdump || { echo "SKIP: neither tshark nor tcpdump"; exit 77; }
fi
BULK=${LSTP_BULK_BYTES:-$((256 << 20))}

sl_instance_init lstp_e2e
SL_ON_FAIL=lstp_diag
id=${SL_ID:-$$}
W=$SL_WORK
LPORT=7443
MID=$SL_C_GW
MIDNAME=mid-e2e
CNAME=alpha
SNAME=bravo
SOCKS_USER=lstp
SOCKS_PASS=s3cret
MARKER="sluice-e2e-marker-$(openssl rand -hex 12)"

lstp_json() { sl_ctl_json show lstp; }
lstp_diag() {
	sl_tcp_diag
	[[ -n ${SL_CP_PID:-} ]] && sl_pid_alive "$SL_CP_PID" || return 0
	echo "--- sluicectl show lstp"
	sl_ctl show lstp 2>&1 | head -n 60
	local ns
	for ns in "$SL_NS_C" "$SL_NS_S"; do
		echo "--- nft list ruleset in $ns"
		ip netns exec "$ns" nft list ruleset 2>&1 | head -n 30
	done
}

# ------------------------------------------------------------------ PKI ----
# One CA; end certificates usable as TLS server and client (either end may
# be the master).
pki() {
	local d=$W/pki n
	mkdir -p "$d"
	(
		cd "$d"
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
			-out ca.pem -days 2 -subj "/CN=sluice test LSTP e2e CA" \
			-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
		printf '%s\n' "extendedKeyUsage=serverAuth,clientAuth" "basicConstraints=CA:FALSE" >end.ext
		for n in "$CNAME" "$SNAME"; do
			openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$n.key" \
				-out "$n.csr" -subj "/CN=$n"
			openssl x509 -req -in "$n.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
				-out "$n.pem" -days 2 -extfile end.ext
		done
	) >"$W/pki.log" 2>&1 || sl_fail "making the test PKI failed: $(tail -n 5 "$W/pki.log")"
	PKI=$d
}

# lconf FILE ROLE NAME [EXTRA...]: an end dialling the appliance's middle
lconf() {
	local f=$1 role=$2 name=$3
	shift 3
	{
		echo "lstp = {"
		echo "  role = \"$role\"; name = \"$name\"; common = \"e2e-$id\"; unique = \"$name-1\";"
		echo "  middle = { address = \"$MID\"; port = $LPORT; };"
		echo "  tls = { ca = \"$PKI/ca.pem\"; cert = \"$PKI/$name.pem\"; key = \"$PKI/$name.key\"; };"
		echo "  reconnect = { min_ms = 100; max_ms = 1000; };"
		echo "  limits = { connect_timeout_ms = 3000; handshake_timeout_ms = 5000; };"
		printf '  %s\n' "$@"
		echo "};"
	} >"$f"
}

# ---------------------------------------------------------------- tools ----
# tool.py (from test_lstp_standalone.sh): the echo/generator servers and the
# SOCKS5 clients; "payload" sends given bytes through an echo channel.
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

def echo_check(sh, sp, host, port, nbytes, res, idx, payload=None):
    try:
        s, rep = socks(sh, sp, host, port)
        if rep != 0:
            res[idx] = "rep %d" % rep
            return
        hs = hashlib.sha256()
        def tx():
            if payload is not None:
                s.sendall(payload)
                hs.update(payload)
            else:
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
        ok = got == nbytes and hr.digest() == hs.digest()
        res[idx] = "ok" if ok else "bad %d/%d" % (got, nbytes)
        if ok:
            print("sha256 %s both ways" % hs.hexdigest(), flush=True)
    except Exception as e:
        res[idx] = "exc %s" % e

def main():
    cmd = sys.argv[1]
    if cmd == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    elif cmd == "echo":  # SOCKSHOST SOCKSPORT HOST PORT BYTES
        sh, sp, h, p, n = sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
        res, t0 = [None], time.time()
        echo_check(sh, sp, h, p, n, res, 0)
        dt = time.time() - t0
        print("%d bytes each way: %s in %.1f s (%.0f MB/s each way)" % (n, res[0], dt, n / dt / 1e6), flush=True)
        sys.exit(0 if res[0] == "ok" else 1)
    elif cmd == "payload":  # SOCKSHOST SOCKSPORT HOST PORT TEXT COUNT: TEXT\n COUNT times
        sh, sp, h, p = sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
        data = (sys.argv[6] + "\n").encode() * int(sys.argv[7])
        res = [None]
        echo_check(sh, sp, h, p, len(data), res, 0, data)
        print("%d bytes of marker lines echoed: %s" % (len(data), res[0]), flush=True)
        sys.exit(0 if res[0] == "ok" else 1)

main()
EOF
}

# --------------------------------------------------------------- firewall ----
# "Behind a firewall that allows only outbound connections": new inbound
# connections are dropped (counted), replies and loopback pass.
firewall() { # firewall NS
	ip netns exec "$1" nft -f - <<'EOF' || sl_fail "nftables in $1"
table inet slfw {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iif lo accept
		counter comment "new inbound, dropped"
	}
	chain output {
		type filter hook output priority filter; policy accept;
	}
}
EOF
}
fw_dropped() { # fw_dropped NS: packets the input chain dropped
	ip netns exec "$1" nft -j list chain inet slfw input |
		jq '[.nftables[] | .rule? // empty | .expr[] | .counter? // empty | .packets] | add // 0'
}

# ---------------------------------------------------------------- helpers ----
lstp_start() { # lstp_start NAME NS CONF: PID in LPID
	sl_spawn "$W/$1.log" "$1" --ns "$2" -- "$LSTP" -c "$3"
	LPID=$SL_LAST_PID
}
up_count() { grep -c 'tunnel up with' "$1" 2>/dev/null || true; }
ups_at_least() { (($(up_count "$1") >= $2)); }

curl_c() { # curl_c URL: through the client end's SOCKS5 port, names resolved far
	ip netns exec "$SL_NS_C" curl -sS --max-time 10 \
		--socks5-hostname "$SOCKS_USER:$SOCKS_PASS@127.0.0.1:1080" "$1"
}
page_ok() { [[ $(curl_c http://localhost:8080/ 2>"$W/curl.err") == "$PAGE" ]]; }
tool_c() {
	SOCKS_USER=$SOCKS_USER SOCKS_PASS=$SOCKS_PASS ip netns exec "$SL_NS_C" \
		timeout 100 "$SL_PY" "$W/tool.py" "$@"
}

# the pairs between our two ends (either order) in show lstp
our_pairs() {
	lstp_json | jq -c --arg c "$CNAME" --arg s "$SNAME" --arg m "$MIDNAME" \
		'[.pairs[] | select(.topology == [$c, $m, $s] or .topology == [$s, $m, $c])]'
}
one_pair() { [[ $(our_pairs | jq length) == 1 ]]; }
no_pair() { [[ $(lstp_json | jq '.pairs | length') == 0 ]]; }

# capture: tshark (or tcpdump) in NS on IFACE into FILE; PID in CPID
cap_start() { # cap_start NAME NS IFACE FILTER
	local name=$1 ns=$2 ifc=$3 f=$4
	if command -v tshark >/dev/null; then
		sl_spawn "$W/cap-$name.log" "tshark-$name" --ns "$ns" -- \
			tshark -n -q -i "$ifc" -F pcap -w "$W/$name.pcap" -f "$f"
		CPID=$SL_LAST_PID
		sl_wait_for 15 "tshark on $ifc" grep -q "Capturing on" "$W/cap-$name.log" ||
			sl_fail "tshark did not start: $(tail -n 5 "$W/cap-$name.log")"
	else
		sl_spawn "$W/cap-$name.log" "tcpdump-$name" --ns "$ns" -- \
			tcpdump -n -U -i "$ifc" -w "$W/$name.pcap" "$f"
		CPID=$SL_LAST_PID
		sl_wait_for 15 "tcpdump on $ifc" grep -q "listening on" "$W/cap-$name.log" ||
			sl_fail "tcpdump did not start: $(tail -n 5 "$W/cap-$name.log")"
	fi
	CAP_PIDS[$name]=$CPID
}
cap_stop() { # cap_stop NAME
	local pid=${CAP_PIDS[$1]}
	sleep 0.5 # the last packets reach the capture
	kill -INT "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	[[ -s $W/$1.pcap ]] || sl_fail "capture $1 wrote nothing: $(tail -n 5 "$W/cap-$1.log")"
}
declare -A CAP_PIDS=()
# cap_tunnel FILE: "packets payload_bytes" of TCP between here and the middle
cap_tunnel() {
	if command -v tshark >/dev/null; then
		tshark -n -r "$1" -Y "ip.addr == $MID && tcp.port == $LPORT" -T fields -e tcp.len 2>/dev/null |
			awk '{ n++; s += $1 } END { print n + 0, s + 0 }'
	else
		tcpdump -n -r "$1" "host $MID and tcp port $LPORT" 2>/dev/null |
			awk '{ n++; for (i = 1; i < NF; i++) if ($i == "length") s += $(i + 1) } END { print n + 0, s + 0 }'
	fi
}
marker_count() { grep -c -a -F "$MARKER" "$1" || true; }

# ------------------------------------------------------------------ main ----
SL_CONF_EXTRA="lstp = { listen = \"$MID\"; port = $LPORT; name = \"$MIDNAME\"; };"
sl_appliance_start
nw=$(sl_tcp_json | jq '.per_worker | length')
sl_log "appliance up with $nw worker(s); marker $MARKER"
pki
write_tool

# the servers of the far side, on loopback only; a decoy page on the near side
mkdir -p "$W/www" "$W/decoy"
PAGE="lstp e2e page $id $MARKER"
echo "$PAGE" >"$W/www/index.html"
echo "decoy: the client namespace's own localhost" >"$W/decoy/index.html"
sl_spawn "$W/web.log" web --ns "$SL_NS_S" -- "$SL_PY" -m http.server --bind 127.0.0.1 --directory "$W/www" 8080
sl_spawn "$W/decoy.log" decoy --ns "$SL_NS_C" -- "$SL_PY" -m http.server --bind 127.0.0.1 --directory "$W/decoy" 8080
sl_spawn "$W/servers.log" servers --ns "$SL_NS_S" -- "$SL_PY" "$W/tool.py" serve 127.0.0.1 9000
for p in 8080 9000 9001; do
	sl_wait_for 10 "127.0.0.1:$p in $SL_NS_S" sl_listening_on "$SL_NS_S" 127.0.0.1 $p ||
		sl_fail "server on 127.0.0.1:$p did not start"
done
sl_wait_for 10 "decoy" sl_listening_on "$SL_NS_C" 127.0.0.1 8080 || sl_fail "decoy web server did not start"

# --- the firewalls: outbound only
firewall "$SL_NS_C"
firewall "$SL_NS_S"
d_s=$(fw_dropped "$SL_NS_S") d_c=$(fw_dropped "$SL_NS_C")
if ip netns exec "$SL_NS_C" timeout 2 bash -c "exec 3<>/dev/tcp/$SL_S_ADDR/8080" 2>/dev/null; then
	sl_fail "a new connection into $SL_NS_S got through its firewall"
fi
if ip netns exec "$SL_NS_S" timeout 2 bash -c "exec 3<>/dev/tcp/$SL_C_ADDR/8080" 2>/dev/null; then
	sl_fail "a new connection into $SL_NS_C got through its firewall"
fi
(($(fw_dropped "$SL_NS_S") > d_s && $(fw_dropped "$SL_NS_C") > d_c)) ||
	sl_fail "the firewalls did not drop the inbound SYNs: $(fw_dropped "$SL_NS_S") / $(fw_dropped "$SL_NS_C")"
sl_ok "firewalls in $SL_NS_C and $SL_NS_S: a new inbound connection is dropped (nft counter moved)"

# --- the two ends
lconf "$W/client.conf" client "$CNAME" \
	"socks = { address = \"127.0.0.1\"; port = 1080; users = ( { user = \"$SOCKS_USER\"; password = \"$SOCKS_PASS\"; } ); };"
lconf "$W/server.conf" server "$SNAME" 'allow = [ "127.0.0.1/32:8080", "127.0.0.1/32:9000", "127.0.0.1/32:9001" ];'
"$LSTP" -c "$W/client.conf" --check >&2 || sl_fail "the client end's config: --check failed"
"$LSTP" -c "$W/server.conf" --check >&2 || sl_fail "the server end's config: --check failed"
lstp_start lstp-client "$SL_NS_C" "$W/client.conf"
CLI_PID=$LPID
lstp_start lstp-server "$SL_NS_S" "$W/server.conf"
SRV_PID=$LPID

# --- 1. pairing through the appliance
both_up() { ups_at_least "$W/lstp-client.log" "$1" && ups_at_least "$W/$2.log" 1; }
sl_wait_for 20 "both tunnels up" both_up 1 lstp-server ||
	sl_fail "the ends did not pair: $(lstp_json)"
sl_wait_for 5 "the pair in show lstp" one_pair || sl_fail "show lstp does not list $CNAME/$SNAME: $(lstp_json)"
pair=$(our_pairs | jq -c '.[0]')
[[ $(jq -r .mode <<<"$pair") == relay ]] || sl_fail "the pair's mode is not relay: $pair"
[[ $(jq -r '[.a_role, .b_role] | sort | join(",")' <<<"$pair") == client,server ]] ||
	sl_fail "the pair should be a client and a server end: $pair"
grep -q "paired with \"$SNAME\" (2 hops)" "$W/lstp-client.log" ||
	sl_fail "the client end should see the server end and one middle hop: $(grep -m3 paired "$W/lstp-client.log")"
PID1=$(jq -r .id <<<"$pair")
MOVED1=$(lstp_json | jq -r .workers.moved_in) # the ends arrive on a fresh appliance: this pair's move, if any
sl_ctl show lstp >&2
sl_ok "1. paired through the appliance: pair $PID1, topology $(jq -r '.topology | join(" > ")' <<<"$pair"), mode relay, worker $(jq -r .worker <<<"$pair")"

# --- 2. curl through SOCKS5, localhost resolved by the far end
got=$(curl_c http://localhost:8080/ 2>"$W/curl.err") || sl_fail "curl through the tunnel failed: $(cat "$W/curl.err")"
[[ $got == "$PAGE" ]] || sl_fail "curl got '$got' instead of the server namespace's page"
if ip netns exec "$SL_NS_C" curl -sS --max-time 10 \
	--socks5-hostname "$SOCKS_USER:wrong@127.0.0.1:1080" http://localhost:8080/ >/dev/null 2>&1; then
	sl_fail "a wrong SOCKS5 password was accepted"
fi
sl_ok "2. curl --socks5-hostname $SOCKS_USER:***@127.0.0.1:1080 http://localhost:8080/ got the far end's page (not the decoy); a wrong password is refused"

# --- 4. no plaintext at the middle
cap_start tap "$SL_NS_S" "$SL_TAP_S" "tcp"
cap_start lo "$SL_NS_S" lo "tcp port 8080 or tcp port 9000"
for _ in 1 2 3; do
	page_ok || sl_fail "curl with the capture running: $(cat "$W/curl.err")"
done
out=$(tool_c payload 127.0.0.1 1080 127.0.0.1 9000 "$MARKER" 4096) || sl_fail "the marker through an echo channel: $out"
cap_stop tap
cap_stop lo
read -r pkts bytes < <(cap_tunnel "$W/tap.pcap")
in_tap=$(marker_count "$W/tap.pcap")
in_lo=$(marker_count "$W/lo.pcap")
sl_log "capture on $SL_TAP_S: $pkts packets with $MID:$LPORT, $bytes payload bytes, marker $in_tap times; on lo: marker $in_lo times"
((pkts >= 20 && bytes >= 4096 * ${#MARKER} * 2)) ||
	sl_fail "the capture on $SL_TAP_S did not see the tunnel's traffic: $pkts packets, $bytes bytes"
((in_lo > 0)) || sl_fail "control: the marker is not in the loopback capture (did it travel at all?)"
((in_tap == 0)) || sl_fail "the marker is in clear on the server's link to the middle ($in_tap matches in $W/tap.pcap)"
sl_ok "4. the middle sees no plaintext: $pkts packets / $bytes bytes of tunnel to $MID:$LPORT captured on $SL_TAP_S, marker 0 times (on lo, the control: $in_lo)"

# --- 3. 256 MiB each way
b0=$(our_pairs | jq -c '.[0]')
out=$(tool_c echo 127.0.0.1 1080 127.0.0.1 9000 "$BULK") || sl_fail "$((BULK >> 20)) MiB each way: $out"
sl_ok "3. $((BULK >> 20)) MiB each way through the tunnel, sha256 intact: $(tail -n 1 <<<"$out")"

# --- 5. the pair's bytes counters; workers
b1=$(our_pairs | jq -c '.[0]')
[[ $(jq -r .id <<<"$b1") == "$PID1" ]] || sl_fail "the pair changed during the bulk transfer: $b0 -> $b1"
dab=$(($(jq -r .bytes_ab <<<"$b1") - $(jq -r .bytes_ab <<<"$b0")))
dba=$(($(jq -r .bytes_ba <<<"$b1") - $(jq -r .bytes_ba <<<"$b0")))
((dab >= BULK && dba >= BULK)) || sl_fail "the pair's bytes moved by $dab / $dba, less than $BULK each way: $b0 -> $b1"
js=$(lstp_json)
moved_in=$(jq -r .workers.moved_in <<<"$js") move_failed=$(jq -r .workers.move_failed <<<"$js")
[[ $move_failed == 0 ]] || sl_fail "move_failed $move_failed: $js"
sl_ok "5. show lstp: pair $PID1 bytes_ab +$dab, bytes_ba +$dba (>= $BULK each, TLS overhead included); $nw worker(s), pair on worker $(jq -r .worker <<<"$b1"), moved_in $moved_in ($( ((MOVED1 > 0)) && echo "this pair's newer end was moved: the bulk crossed a moved connection" || echo "no move for this pair")), move_failed 0"

# --- 6. kill -9 of the server end, restart
kill -9 "$SRV_PID" 2>/dev/null || true
wait "$SRV_PID" 2>/dev/null || true
sl_wait_for 15 "the pair gone" no_pair || sl_fail "the pair survived kill -9 of the server end: $(lstp_json)"
cwait() { [[ $(lstp_json | jq --arg c "$CNAME" '[.waiting[] | select(.name == $c)] | length') == 1 ]]; }
if sl_wait_for 10 "the client end waiting again" cwait; then w="the client end is waiting again"; else w="(the client end not seen waiting)"; fi
sl_ok "6a. kill -9 of the server end: the pair left show lstp; $w"
UPS=$(up_count "$W/lstp-client.log")
lstp_start lstp-server2 "$SL_NS_S" "$W/server.conf"
SRV_PID=$LPID
sl_wait_for 20 "paired again" both_up $((UPS + 1)) lstp-server2 ||
	sl_fail "the restarted server end did not pair: $(lstp_json)"
sl_wait_for 5 "the new pair in show lstp" one_pair || sl_fail "show lstp after the restart: $(lstp_json)"
pair=$(our_pairs | jq -c '.[0]')
[[ $(jq -r .id <<<"$pair") != "$PID1" ]] || sl_fail "the old pair id after a restart: $pair"
sl_wait_for 5 "the page again" page_ok || sl_fail "curl after the restart: $(cat "$W/curl.err")"
js=$(lstp_json)
sl_ok "6b. restarted: paired again (pair $(jq -r .id <<<"$pair"), worker $(jq -r .worker <<<"$pair")), curl gets the page; moved_in now $(jq -r .workers.moved_in <<<"$js"), move_failed $(jq -r .workers.move_failed <<<"$js")"
[[ $(jq -r .workers.move_failed <<<"$js") == 0 ]] || sl_fail "move_failed: $js"

sl_ctl show lstp >&2
sl_pid_alive "$CLI_PID" || sl_fail "the client end died"
sl_assert_alive
sl_log "lstp e2e test passed"
