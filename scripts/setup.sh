#!/usr/bin/env bash
# Prepare a Debian 12 machine to build, run and test Sluice.  Idempotent.
#
#   scripts/setup.sh [--bench]
#
#  - installs the Debian packages that are missing (build + test and demo
#    peers, S4's agent sites included; with --bench also the benchmark's
#    references, HAProxy 2.6 and stunnel: bench/tcp.sh, bench/tls.sh),
#  - makes sure at least SLUICE_HUGEPAGES (default 512) free 2 MB hugepages
#    exist, raising vm.nr_hugepages when needed,
#  - mounts hugetlbfs on /dev/hugepages when no hugetlbfs is mounted there.
#
# Prints what it did; does nothing (but say so) when all is in place.
# Environment: SLUICE_HUGEPAGES (default 512), SLUICE_SKIP_PACKAGES=1 to skip
# the package step (e.g. offline machines that are known to be complete).
set -euo pipefail

want_pages=${SLUICE_HUGEPAGES:-512}
bench=0
for a in "$@"; do
	case $a in
	--bench) bench=1 ;;
	*) printf 'setup: unknown argument %s (usage: setup.sh [--bench])\n' "$a" >&2; exit 2 ;;
	esac
done

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (hugepages, namespaces, package installs)"

# --- packages -----------------------------------------------------------------
# Build: meson/ninja/gcc, DPDK 22.11 (libdpdk-dev; dpdk-dev has dpdk-testpmd,
# dpdk-dumpcap and dpdk-telemetry.py), libconfig, cmocka, intel-ipsec-mb,
# OpenSSL, libpcap.  Tests and demo peers: iproute2, ping, curl, iperf3,
# tshark, scapy, socat, nftables, procps, ethtool, jq; clang + its runtime
# for the libFuzzer smoke runs; python3-cryptography-vectors for the AEAD
# known-answer tests (NIST CAVS GCM, RFC 7539/8439 ChaCha20-Poly1305).
# S4 (the agent sites of `make run` and the agent tests, scripts/lib.sh
# sl_agent_sites): nftables and ping in the sites, nmap for the scans, and
# tinyproxy, the HTTP CONNECT proxy site B dials through.  tinyproxy-bin is
# the program alone: the `tinyproxy` package would also install a system
# service that its postinst starts on the host (0.0.0.0:8888).  Ours never
# needs it (run.sh starts its own tinyproxy, with its own config, on
# 198.18.100.2 inside namespace sl-wan); a service already there is left alone.
# Issue 10 (UDP through agents): dnsmasq-base (the program, no service) is
# each site's DNS server, dig (bind9-dnsutils) the client.
# S3 (test_lstp_standalone): dante-server (danted), the SOCKS5 proxy an
# LSTP end dials the middle through.
build_pkgs=(meson ninja-build pkg-config gcc libdpdk-dev dpdk dpdk-dev libconfig-dev
	libcmocka-dev libipsec-mb-dev libssl-dev libpcap-dev python3 jq)
test_pkgs=(iproute2 iputils-ping curl iperf3 tshark python3-scapy socat nftables procps
	ethtool coreutils util-linux clang libclang-rt-14-dev python3-cryptography-vectors
	tinyproxy-bin nmap dnsmasq-base bind9-dnsutils dante-server)
# Benchmark only (--bench): HAProxy (TCP relay and TLS termination) and
# stunnel (TLS termination) are the references of bench/tcp.sh and bench/tls.sh;
# OpenVPN (TCP transport, AES-128-GCM) the reference of bench/udp.sh.
# OpenSSH (client and server) the reference of bench/agent.sh (ssh -L) and
# bench/lstp.sh (ssh -D): the benches start their own sshd with their own
# config; installing openssh-server also installs (and, unless policy-rc.d
# forbids it, starts) the host's ssh service, which they never use.
bench_pkgs=()
((bench == 0)) || bench_pkgs=(haproxy stunnel4 openvpn openssh-client openssh-server)

installed() {
	[[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true) == installed ]]
}

if [[ ${SLUICE_SKIP_PACKAGES:-0} == 1 ]]; then
	say "packages: skipped (SLUICE_SKIP_PACKAGES=1)"
else
	missing=()
	for p in "${build_pkgs[@]}" "${test_pkgs[@]}" "${bench_pkgs[@]}"; do
		installed "$p" || missing+=("$p")
	done
	if ((${#missing[@]} == 0)); then
		say "packages: all ${#build_pkgs[@]} build, ${#test_pkgs[@]} test and ${#bench_pkgs[@]} bench packages present"
	else
		say "packages: installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		# tshark asks whether non-root users may capture; answer for it.
		echo 'wireshark-common wireshark-common/install-setuid boolean false' |
			debconf-set-selections 2>/dev/null || true
		apt-get update -q || die "apt-get update failed"
		apt-get install -y -q --no-install-recommends "${missing[@]}" ||
			die "apt-get install ${missing[*]} failed"
		still=()
		for p in "${missing[@]}"; do installed "$p" || still+=("$p"); done
		((${#still[@]} == 0)) || die "still not installed: ${still[*]}"
		say "packages: installed ${#missing[@]}"
	fi
fi

# --- hugepages ----------------------------------------------------------------
hp=/sys/kernel/mm/hugepages/hugepages-2048kB
[[ -d $hp ]] || die "this kernel has no 2 MB hugepages ($hp missing)"
nr=$(<"$hp/nr_hugepages")
free=$(<"$hp/free_hugepages")
if ((free >= want_pages)); then
	say "hugepages: $free of $nr 2 MB pages free (need $want_pages): ok"
else
	target=$((nr + want_pages - free))
	say "hugepages: only $free of $nr 2 MB pages free, raising nr_hugepages to $target"
	try_raise() {
		echo "$target" >"$hp/nr_hugepages" 2>/dev/null || true
		nr=$(<"$hp/nr_hugepages")
		free=$(<"$hp/free_hugepages")
	}
	try_raise
	if ((free < want_pages)); then
		# Memory may be fragmented: drop clean caches, compact, retry once.
		sync
		echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
		echo 1 >/proc/sys/vm/compact_memory 2>/dev/null || true
		try_raise
	fi
	((free >= want_pages)) ||
		die "could not reserve $want_pages free 2 MB hugepages (now $free free of $nr;" \
			"is /proc/sys writable, is there enough free memory?)"
	say "hugepages: now $free of $nr 2 MB pages free"
fi

# --- hugetlbfs mount ------------------------------------------------------------
if awk '$2 == "/dev/hugepages" && $3 == "hugetlbfs" { found = 1 } END { exit !found }' /proc/mounts; then
	say "hugetlbfs: mounted on /dev/hugepages: ok"
else
	mkdir -p /dev/hugepages
	mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages ||
		die "mount -t hugetlbfs nodev /dev/hugepages failed"
	say "hugetlbfs: mounted on /dev/hugepages"
fi

say "done"
