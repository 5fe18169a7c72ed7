#!/usr/bin/env bash
# `make run`: bring up the demo topology and stay in the foreground.
#
#   netns sl-client                     sluice-dp                      netns sl-server
#   sl-tap0 198.18.0.2/24 ---- port 0 "client"   port 1 "server" ---- sl-tap1 198.19.0.10/24
#   default via 198.18.0.1     198.18.0.1/24     198.19.0.1/24        default via 198.19.0.1
#                                                                     .10 HTTP :8080 (app "demo", TLS :443)
#                                                                     .10 iperf3 :5201, bulkserver :9000
#                                                                     .11 HTTPS :443 bank.sluice.test,
#                                                                         HTTP :8080 (app "bank", S5)
#                                                                     .12 HTTPS :443 (app "origin", reverse)
#
# The certificates come from scripts/certs.sh (build/certs/, made when
# missing); the .11 and .12 servers from sl_tls_servers_start (scripts/lib.sh).
#
# sluice-dp runs with its embedded default configuration (config/sluice.conf),
# sluice-cp serves /run/sluice/ctl.sock.  Ctrl-C (SIGINT) or SIGTERM stops
# everything this script started, by PID, and deletes the namespaces.  If
# sluice-dp dies, the script cleans up and exits non-zero.
#
# Environment: SLUICE_BUILD (default build/), SLUICE_RUN_DIR (logs; default
# /run/sluice-demo).
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The demo names; they must match config/sluice.conf (the embedded default).
SL_PREFIX=sluice
SL_SOCK=/run/sluice/ctl.sock
SL_NS_C=sl-client
SL_NS_S=sl-server
SL_TAP_C=sl-tap0
SL_TAP_S=sl-tap1
SL_WORK=${SLUICE_RUN_DIR:-/run/sluice-demo}
HTTP_PORT=8080
IPERF_PORT=5201
BULK_PORT=9000

say() { printf 'run: %s\n' "$*"; }
refuse() {
	printf 'run: refusing to start: %s\n' "$*" >&2
	exit 1
}

[[ $(id -u) -eq 0 ]] || refuse "must run as root (DPDK, hugepages, network namespaces)"
for b in "$SL_DP" "$SL_CP" "$SL_CTL"; do
	[[ -x $b ]] || refuse "$b is not built (run: make)"
done
if ! grep -q "iface=$SL_TAP_C" "$SL_ROOT/config/sluice.conf" || ! grep -q "iface=$SL_TAP_S" "$SL_ROOT/config/sluice.conf"; then
	refuse "config/sluice.conf no longer names taps $SL_TAP_C/$SL_TAP_S; update scripts/run.sh"
fi

# --- preflight: never touch someone else's demo --------------------------------
for ns in "$SL_NS_C" "$SL_NS_S"; do
	[[ ! -e /run/netns/$ns ]] ||
		refuse "network namespace $ns already exists (another 'make run'? if it is a leftover: ip netns del $ns)"
done
for tap in "$SL_TAP_C" "$SL_TAP_S"; do
	! ip link show dev "$tap" >/dev/null 2>&1 ||
		refuse "interface $tap already exists in the root namespace (is a sluice-dp with the default config running?)"
done
! sl_prefix_in_use "$SL_PREFIX" ||
	refuse "a DPDK primary with file prefix '$SL_PREFIX' (a sluice-dp with the default config) is already running"

# --- state, cleanup ---------------------------------------------------------------
rm -rf "$SL_WORK"
mkdir -p "$SL_WORK"
chmod 700 "$SL_WORK"
sl_state_init "$SL_WORK/state"
SL_DP_PID=
SL_CP_PID=
SLEEP_PID=
FAILED=0

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	[[ -n $SLEEP_PID ]] && kill "$SLEEP_PID" 2>/dev/null
	say "stopping: sluice-cp, bulk, iperf3 and HTTP servers, sluice-dp; deleting $SL_NS_C and $SL_NS_S"
	# The state file lists what we started; undo it newest first.
	sl_cleanup_state "$SL_WORK/state"
	if ((rc != 0 || FAILED)); then
		say "logs kept in $SL_WORK"
		((rc != 0)) || rc=1
	else
		rm -rf "$SL_WORK"
	fi
	say "stopped"
	exit "$rc"
}
trap cleanup EXIT
trap 'say "caught SIGINT"; exit 0' INT
trap 'say "caught SIGTERM"; exit 0' TERM

fail() {
	printf 'run: error: %s\n' "$*" >&2
	FAILED=1
	exit 1
}

# --- bring up -----------------------------------------------------------------------
# the config's certificate paths are relative to the repository root
cd "$SL_ROOT"
sl_certs >/dev/null
sl_netns_create "$SL_NS_C"
sl_netns_create "$SL_NS_S"

say "starting sluice-dp (embedded default config; log $SL_WORK/dp.log)"
sl_dp_start "$SL_WORK/dp.log" --setsid
sl_dp_wait_ready "$SL_WORK/dp.log" 30 || fail "sluice-dp did not become ready"

sl_ns_attach "$SL_NS_C" "$SL_TAP_C" "$SL_C_ADDR/24" "$SL_C_GW" "$SL_C_MAC"
sl_ns_attach "$SL_NS_S" "$SL_TAP_S" "$SL_S_ADDR/24" "$SL_S_GW" "$SL_S_MAC"
sl_server_addrs
say "namespaces: $SL_NS_C ($SL_C_ADDR on $SL_TAP_C), $SL_NS_S ($SL_S_ADDR on $SL_TAP_S)"

www=$SL_WORK/www
mkdir -p "$www"
cat >"$www/index.html" <<'EOF'
<!doctype html>
<title>Sluice demo</title>
<p>Hello from sl-server (198.19.0.10), routed to you by sluice-dp.</p>
EOF
sl_spawn "$SL_WORK/http.log" http-server --setsid --ns "$SL_NS_S" -- \
	"$SL_PY" "$SL_ROOT/scripts/httpserver.py" --bind "$SL_S_ADDR" --port "$HTTP_PORT" --directory "$www"
HTTP_PID=$SL_LAST_PID
listening() { ip netns exec "$SL_NS_S" ss -Hltn "sport = :$HTTP_PORT" | grep -q .; }
sl_wait_for 10 "the HTTP server on $SL_S_ADDR:$HTTP_PORT" listening || {
	tail -n 20 "$SL_WORK/http.log" >&2
	fail "HTTP server did not start"
}
sl_pid_alive "$HTTP_PID" || fail "HTTP server exited"
sl_iperf_server_start --setsid "$IPERF_PORT"
sl_bulk_server_start --setsid "$BULK_PORT"
# the TLS demo (config/sluice.conf `apps`): bank.sluice.test's own server and
# its plain backend (which marks /needs-e2e), and the reverse-mode backend
sl_tls_servers_start --setsid

say "starting sluice-cp (log $SL_WORK/cp.log)"
sl_cp_start "$SL_WORK/cp.log" --setsid
sl_cp_wait "$SL_WORK/cp.log" 40 || fail "sluice-cp did not start"

ctl=$SL_CTL
[[ $ctl == "$SL_ROOT"/* ]] && ctl=${ctl#"$SL_ROOT"/}
cat <<EOF

Sluice demo is up: sluice-dp pid $SL_DP_PID, sluice-cp pid $SL_CP_PID, HTTP server pid $HTTP_PID,
iperf3 server pid $SL_IPERF_PID (:$IPERF_PORT), bulk server pid $SL_BULK_SERVER_PID (:$BULK_PORT).
Try, in another terminal:
  ip netns exec $SL_NS_C ping -c3 $SL_S_ADDR
  ip netns exec $SL_NS_C curl --cacert build/certs/ca.pem https://$SL_S_ADDR/      (TLS ends here)
  ip netns exec $SL_NS_C curl -m 3 http://$SL_S_ADDR:$HTTP_PORT/   (denied: only through TLS)
  ip netns exec $SL_NS_C curl --resolve bank.sluice.test:443:$SL_S2_ADDR --cacert build/certs/e2e-ca.pem https://bank.sluice.test/
  ip netns exec $SL_NS_C curl http://$SL_S3_ADDR:8080/      (leaves as TLS to $SL_S3_ADDR:443)
  ip netns exec $SL_NS_C iperf3 -c $SL_S_ADDR -t 5
  ip netns exec $SL_NS_C curl -o /dev/null http://$SL_S_ADDR:$BULK_PORT/bytes/100M
  ip netns exec $SL_NS_C $SL_PY $SL_ROOT/scripts/bulkclient.py --host $SL_S_ADDR download --size 100M
  $ctl show ports
  $ctl --json show ports
  $ctl show routes
  $ctl show errors
  $ctl show apps
  $ctl show tunnels
Logs: $SL_WORK.  Press Ctrl-C to stop.
EOF
say "demo is up"

# --- foreground: watch the daemons --------------------------------------------------
cp_reported=0
while :; do
	if ! sl_pid_alive "$SL_DP_PID"; then
		rc=0
		wait "$SL_DP_PID" 2>/dev/null || rc=$?
		printf 'run: error: sluice-dp exited unexpectedly (status %s); last lines of its log:\n' "$rc" >&2
		tail -n 30 "$SL_WORK/dp.log" >&2
		FAILED=1
		exit 1
	fi
	if ((!cp_reported)) && ! sl_pid_alive "$SL_CP_PID"; then
		rc=0
		wait "$SL_CP_PID" 2>/dev/null || rc=$?
		say "warning: sluice-cp exited (status $rc); sluice-dp keeps forwarding." \
			"Restart it with: $SL_CP   (log: $SL_WORK/cp.log)"
		cp_reported=1
	fi
	sleep 1 &
	SLEEP_PID=$!
	wait "$SLEEP_PID" 2>/dev/null || true
	SLEEP_PID=
done
