#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Fail early, naming the Debian package, when a build tool or library is missing.
# scripts/deps.sh installs all of them.
set -u
missing=()
need_cmd() { command -v "$1" >/dev/null 2>&1 || missing+=("$1 (Debian package: $2)"); }
need_hdr() { [ -e "$1" ] || missing+=("$1 (Debian package: $2)"); }
need_cmd clang clang
need_cmd bpftool bpftool
need_cmd pkg-config pkg-config
need_cmd gcc gcc
need_hdr /usr/include/bpf/libbpf.h libbpf-dev
need_hdr /usr/include/xdp/libxdp.h libxdp-dev
need_hdr /usr/include/cmocka.h libcmocka-dev
need_hdr /usr/include/cap-ng.h libcap-ng-dev
need_hdr /usr/include/seccomp.h libseccomp-dev
need_hdr /usr/include/gelf.h libelf-dev
need_hdr /usr/include/zlib.h zlib1g-dev
need_hdr /usr/include/linux/bpf.h linux-libc-dev
need_hdr /usr/include/asm-generic/types.h linux-libc-dev
# `scripts/check-deps.sh fuzz`: libFuzzer's runtime too (make fuzz)
if [ "${1:-}" = fuzz ]; then
	rt=$(clang -print-resource-dir 2>/dev/null)/lib/linux/libclang_rt.fuzzer-$(uname -m).a
	need_hdr "$rt" libclang-rt-dev
fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "skiff: missing build dependencies:" >&2
	printf '  %s\n' "${missing[@]}" >&2
	echo "Install them with: sudo scripts/deps.sh" >&2
	exit 1
fi
