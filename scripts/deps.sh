#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Install the Debian packages skiff needs to build, test and demo.  Idempotent:
# only missing packages are installed (and apt-get update runs only then).
set -euo pipefail
PKGS=(
	build-essential clang llvm pkg-config bpftool
	libbpf-dev libxdp-dev xdp-tools libelf-dev zlib1g-dev linux-libc-dev
	libcmocka-dev libclang-rt-dev
	iproute2 iputils-ping arping ethtool netcat-openbsd socat
	curl apache2-utils wrk hping3 tcpdump
	python3 python3-pytest python3-scapy
)
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
