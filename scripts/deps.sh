#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Install the Debian packages skiff needs.  Idempotent: only missing packages
# are installed (and apt-get update runs only then).
#   scripts/deps.sh          build, demo, tests and fuzzing (what the README's
#                            two commands need; run by both of them)
#   scripts/deps.sh bench    also what `make bench` uses (perf, valgrind, pahole)
# The comments say what uses each group.
set -euo pipefail
PKGS=(
	build-essential clang llvm pkg-config bpftool	# the build (make)
	libbpf-dev libxdp-dev xdp-tools libelf-dev zlib1g-dev linux-libc-dev
	libcmocka-dev					# unit tests
	libcap-ng-dev					# skiffd drops capabilities (user/cmd/privs.c)
	libseccomp-dev					# skiffd's syscall filter (user/cmd/seccomp.c)
	libclang-rt-dev					# libFuzzer, ASan/UBSan runtimes (make fuzz)
	iproute2 procps iputils-ping arping ethtool	# namespaces, sysctl, demo and tests
	netcat-openbsd socat curl apache2-utils wrk hping3 tcpdump
	wget nginx redis-server redis-tools iperf3	# skiff-run tests (test_skiff_run.py), bench.sh apps
	python3 python3-pytest python3-scapy		# integration tests
	ndisc6 nmap					# test_ipv6.py: ndisc6, nmap -6
	dnsmasq-base					# test_skiff_run_cmsg.py: IP_PKTINFO under skiff-run
)
if [ "${1:-}" = bench ]; then
	PKGS+=(linux-perf valgrind)	# bench.sh E2E_PERF=1; callgrind and its client requests
	PKGS+=(dwarves)			# pahole: bench.sh prints struct tcp_sock's layout
elif [ $# -gt 0 ]; then
	echo "deps.sh: unknown group '$1' (none, or bench)" >&2
	exit 2
fi
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "skiff: need root to install: ${missing[*]}" >&2
	exit 1
fi
echo "skiff: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
