#!/usr/bin/env bash
# The control socket survives hostile clients: garbage, oversized and
# truncated frames, idle and half-sent connections, many connections at once.
# After each, sluice-cp is alive and the next sluicectl command works.  Also:
# the socket is mode 0600, a well-formed hand-made frame (include/sluice/ctl.h)
# gets a well-formed reply, and sluicectl's exit codes (0 ok, 1 command
# error, 2 usage/connection error).
# timeout: 120
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
sl_instance_init ctl_robust
sl_appliance_start

mode=$(stat -c %a "$SL_SOCK")
[[ $mode == 600 ]] || sl_fail "control socket mode is $mode, expected 600"
sl_ok "control socket mode 600"

still_ok() { # after an attack: both daemons alive, a command works
	sl_assert_alive
	sl_expect_rc 0 "sluicectl show ports after $1" sl_ctl show ports
}

cat >"$SL_WORK/hostile.py" <<'EOF'
"""Hostile control-socket clients.  usage: hostile.py SOCKET CASE"""
import os, socket, struct, sys, time

path, case = sys.argv[1], sys.argv[2]
MAX_REQ = 4096

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s

def frame(payload):
    return struct.pack("!I", len(payload)) + payload

def reply(s):
    """Read one response; None if the server closed the connection."""
    hdr = b""
    while len(hdr) < 4:
        b = s.recv(4 - len(hdr))
        if not b:
            return None
        hdr += b
    n = struct.unpack("!I", hdr)[0]
    assert 1 <= n <= (4 << 20), "response length %d out of range" % n
    body = b""
    while len(body) < n:
        b = s.recv(n - len(body))
        assert b, "connection closed inside a response"
        body += b
    return body[0], body[1:].decode("utf-8", "replace")

def send_and_report(data, label):
    s = conn()
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        print("%s: server closed while we sent" % label)
        return
    try:
        r = reply(s)
        print("%s: reply %r" % (label, r if r is None else (r[0], r[1][:120])))
        if r is not None:
            assert r[0] == 1, "%s: expected status CTL_ERR (1), got %d" % (label, r[0])
    except (ConnectionResetError, socket.timeout) as e:
        print("%s: %s" % (label, e))
    s.close()

if case == "garbage":
    send_and_report(b"\x00\x00\x00\x05hello", "payload without NUL, unknown flags")
    send_and_report(frame(b"\x00show\x00\x00ports\x00"), "empty token")
    send_and_report(frame(b"\x80show\x00ports\x00"), "unknown flag bits")
    send_and_report(frame(b"\x00"), "flags only, no tokens")
    send_and_report(b"\x00\x00\x00\x00", "zero length")
    send_and_report(frame(b"\x00" + b"x\x00" * 40), "too many tokens")
    send_and_report(frame(b"\x00" + bytes(range(1, 256)) + b"\x00"), "binary token")
    send_and_report(os.urandom(65536), "64 KiB of random bytes")
elif case == "oversized":
    send_and_report(struct.pack("!I", MAX_REQ + 1) + b"\x00" + b"A" * MAX_REQ, "MAX_REQ+1 frame")
    send_and_report(struct.pack("!I", 1 << 20) + b"B" * (1 << 20), "1 MiB frame")
    send_and_report(b"\xff\xff\xff\xff" + b"C" * 100, "length 0xffffffff")
elif case == "truncated":
    for data in (b"\x00", b"\x00\x00\x00", frame(b"\x00show\x00ports\x00")[:-3], struct.pack("!I", 100) + b"\x00sh"):
        s = conn(); s.sendall(data); s.close()
    print("sent 4 truncated frames and hung up")
elif case == "valid":
    for flags, label in ((0, "text"), (1, "json")):
        s = conn()
        s.sendall(frame(bytes([flags]) + b"show\x00ports\x00"))
        st, text = reply(s)
        print("valid %s: status %d, %d bytes" % (label, st, len(text)))
        assert st == 0, "status %d for a valid request: %s" % (st, text)
        if flags:
            import json
            assert isinstance(json.loads(text), dict), "not a JSON object"
        # the same connection serves a second request
        s.sendall(frame(bytes([flags]) + b"show\x00routes\x00"))
        st, text = reply(s)
        assert st == 0, "second request on one connection: status %d" % st
        s.close()
    s = conn()
    s.sendall(frame(b"\x01frobnicate\x00"))
    st, text = reply(s)
    print("unknown command: status %d %s" % (st, text[:120]))
    assert st == 1, "unknown command: status %d" % st
    import json
    assert "error" in json.loads(text), "JSON error reply without an error key"
elif case == "many":
    socks = [conn() for _ in range(200)]
    print("opened %d connections" % len(socks))
    for s in socks:
        s.close()
else:
    sys.exit("unknown case")
EOF

hostile() { # hostile CASE
	sl_expect_rc 0 "hostile client: $1" timeout 60 "$SL_PY" "$SL_WORK/hostile.py" "$SL_SOCK" "$1"
	still_ok "$1"
}
hostile valid
hostile garbage
hostile oversized
hostile truncated
hostile many

# An idle client and a client stuck mid-frame must not block everyone else.
sl_spawn "$SL_WORK/idle.log" idle-client -- "$SL_PY" -c "
import socket, struct, time
a = socket.socket(socket.AF_UNIX); a.connect('$SL_SOCK')
b = socket.socket(socket.AF_UNIX); b.connect('$SL_SOCK'); b.sendall(struct.pack('!I', 50) + b'\x00sh')
time.sleep(60)"
idle_pid=$SL_LAST_PID
sleep 0.5
sl_pid_alive "$idle_pid" || sl_fail "idle client died: $(cat "$SL_WORK/idle.log")"
sl_expect_rc 0 "sluicectl works while other clients sit idle" timeout 10 "$SL_CTL" --socket "$SL_SOCK" show ports
sl_expect_rc 0 "sluicectl route add while other clients sit idle" timeout 10 "$SL_CTL" --socket "$SL_SOCK" route add 198.19.200.0/24 via "$SL_S_ADDR"
sl_stop_pid "$idle_pid" - idle-client 2
still_ok "idle clients"

# sluicectl exit codes.
sl_expect_rc 1 "unknown command" sl_ctl frobnicate
[[ -n $SL_OUT ]] || sl_fail "unknown command: no message"
sl_expect_rc 1 "unknown show target" sl_ctl show nonsense
sl_expect_rc 1 "--json unknown command" sl_ctl_json frobnicate
jq -e 'type == "object" and has("error")' <<<"$SL_OUT" >/dev/null || sl_fail "--json error is not {\"error\": ...}"
sl_expect_rc 2 "no command" timeout 10 "$SL_CTL" --socket "$SL_SOCK"
sl_expect_rc 2 "unknown option" timeout 10 "$SL_CTL" --socket "$SL_SOCK" --frobnicate show ports
sl_expect_rc 2 "no daemon on the socket" timeout 10 "$SL_CTL" --socket "$SL_WORK/nobody.sock" show ports
long=$(head -c 5000 /dev/zero | tr '\0' x)
sl_expect_rc '1|2' "a 5000-byte argument" sl_ctl show "$long"
still_ok "the exit-code checks"
sl_log "control socket robustness test passed"
