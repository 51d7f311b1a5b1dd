/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Constants of the XDP program: the sub-step return convention, wire
 * values the uapi headers do not spell out, and the bounds of every loop.
 * Role split as in katran: consts / maps / counters / parsing / checksums,
 * with the handlers themselves in skiff_xdp.bpf.c.
 */
#ifndef SKIFF_CONSTS_BPF_H
#define SKIFF_CONSTS_BPF_H

/*
 * Return convention of every sub-step (katran style): an XDP action
 * (XDP_PASS, XDP_DROP, XDP_TX, XDP_REDIRECT) means "stop here, this is the
 * verdict"; SKIFF_CONTINUE means "not decided, keep going".
 */
#define SKIFF_CONTINUE (-1)

#define SKIFF_VLAN_HLEN 4
#define SKIFF_VLAN_VID_MASK 0x0fff

/* RFC 826 layout for Ethernet/IPv4: the only one skiff answers. */
#define SKIFF_ARPHRD_ETHER 1
#define SKIFF_ARPOP_REQUEST 1
#define SKIFF_ARPOP_REPLY 2

/* RFC 791 3.1: flags and fragment offset share one 16-bit field. */
#define SKIFF_IP_MF 0x2000
#define SKIFF_IP_OFFSET 0x1fff

/* RFC 792 message types the XDP program looks at. */
#define SKIFF_ICMP_ECHOREPLY 0
#define SKIFF_ICMP_DEST_UNREACH 3
#define SKIFF_ICMP_ECHO 8
#define SKIFF_ICMP_TIME_EXCEEDED 11
#define SKIFF_ICMP_PARAMETERPROB 12

#define SKIFF_ECHO_TTL 64     /* TTL of XDP echo replies (Linux default) */
#define SKIFF_TCP_MIN_HLEN 20 /* RFC 9293 3.1: data offset >= 5 */
#define SKIFF_ICMP_QUOTE_L4 8 /* RFC 792: transport bytes an ICMP error quotes */

/*
 * The ICMP checksum is summed in chunks copied to the stack
 * (bpf_xdp_load_bytes + bpf_csum_diff).  CHUNK is a multiple of 4 (what
 * bpf_csum_diff accepts) and small enough for the 512-byte BPF stack;
 * CHUNK * MAX_CHUNKS bounds the echo XDP answers (9216 bytes: jumbo
 * frames); a longer one goes to the daemon.
 */
#define SKIFF_CSUM_CHUNK 256
#define SKIFF_CSUM_MAX_CHUNKS 36
#define SKIFF_CSUM_MAX_LEN (SKIFF_CSUM_CHUNK * SKIFF_CSUM_MAX_CHUNKS)

#endif /* SKIFF_CONSTS_BPF_H */
