/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * BPF has no architecture of its own in the UAPI headers: the Linux headers
 * that skiff's BPF programs include ask for <asm/byteorder.h>, which Debian ships only
 * per host architecture (/usr/include/<multiarch>/asm), next to glibc's own
 * headers.  This shim maps it to the generic definition, so the BPF build
 * needs linux-libc-dev only (see docs/bpf-build.md).
 */
#ifndef SKIFF_BPF_ASM_BYTEORDER_H
#define SKIFF_BPF_ASM_BYTEORDER_H
/* clang -target bpf is bpfel or bpfeb after the host */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#include <linux/byteorder/little_endian.h>
#else
#include <linux/byteorder/big_endian.h>
#endif
#endif
