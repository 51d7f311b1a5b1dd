#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Prove that no BPF object reaches glibc: preprocess every *.bpf.c of the
# project with `clang -H` (the flags the Makefile uses) and fail on any
# header outside the allowed set -- the Linux UAPI headers that include no
# libc (/usr/include/linux, asm-generic), libbpf's (/usr/include/bpf),
# clang's own (stdbool.h ...) and the project's.  Anything under
# /usr/include/<multiarch>/ is glibc's or an arch's and fails the check
# (docs/bpf-build.md says why).
#   scripts/check-bpf-headers.sh [FILE.bpf.c ...]   default: bpf/ and bench/
set -u
cd "$(dirname "$0")/.."
CLANG=${CLANG:-clang}
arch=$(uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
res=$("$CLANG" -print-resource-dir)
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(bpf/*.bpf.c bench/*.bpf.c)
bad=0
for f in "${files[@]}"; do
	if ! out=$("$CLANG" -target bpf -D__TARGET_ARCH_"$arch" -Iinclude -Ibpf/include \
		-H -E -o /dev/null "$f" 2>&1); then
		printf 'check-bpf-headers: %s does not preprocess:\n%s\n' "$f" "$out" >&2
		bad=1
		continue
	fi
	hdrs=$(printf '%s\n' "$out" | sed -n 's/^\.\+ //p' | sort -u)
	for h in $hdrs; do
		case $(realpath -m "$h") in
		/usr/include/linux/* | /usr/include/asm-generic/* | /usr/include/bpf/*) ;;
		"$(realpath -m "$res")"/include/*) ;;
		"$PWD"/bpf/* | "$PWD"/include/skiff/* | "$PWD"/bench/*) ;;
		*)
			echo "check-bpf-headers: $f includes $h (outside the Linux UAPI, libbpf, clang and skiff headers)" >&2
			bad=1
			;;
		esac
	done
done
[ $bad -eq 0 ] && echo "check-bpf-headers: ${#files[@]} BPF sources, no glibc or arch header"
exit $bad
