/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Parsing helpers of the XDP program: the per-frame state (struct
 * skiff_pkt) and the Ethernet/802.1Q, ARP and IPv4 header views (the
 * 802.1Q tag and the ARP packet are <skiff/proto/eth.h>'s and
 * <skiff/proto/arp.h>'s structs, shared with the daemon).  Every
 * helper checks the bytes it reads against data_end first and follows the
 * katran return convention of skiff_consts.bpf.h.
 */
#ifndef SKIFF_PARSE_BPF_H
#define SKIFF_PARSE_BPF_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <skiff/proto/ipv4.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <skiff/proto/arp.h>
#include <skiff/proto/eth.h>
#include <skiff/skiff.h>

#include "skiff_consts.bpf.h"
#include "skiff_counters.bpf.h"

/* What one frame has told us so far. */
struct skiff_pkt {
	struct xdp_md *ctx;
	void *data;
	void *data_end;
	struct eth_hdr *eth;
	void *l3;     /* header after Ethernet and the optional tag */
	__u32 l3_off; /* its offset from data: 14 or 18 */
	__u32 l3_len; /* bytes from l3 to the end, fragments included */
	__u16 proto;  /* ethertype after the tag, host order */
	struct skiff_config *cfg;
	struct skiff_xdp_stats *st;
};

/* Fixed part of any ARP packet: enough to tell the layout. */
#define SKIFF_ARP_FIXED_LEN 8

static __always_inline bool skiff_mac_multicast(const __u8 *mac)
{
	return mac[0] & 1; /* group bit: multicast or broadcast */
}

static __always_inline bool skiff_mac_equal(const __u8 *a, const __u8 *b)
{
	/* Byte compares: clang would turn memcmp into a call BPF cannot make. */
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4] &&
	       a[5] == b[5];
}

/* RFC 1122 3.2.1.3: sources that must never get a reply. */
static __always_inline bool skiff_ipv4_martian_src(__be32 saddr)
{
	__u32 a = bpf_ntohl(saddr);

	return a == 0 || (a >> 28) == 0xe || a == 0xffffffff;
}

/*
 * Ethernet and at most one 802.1Q/802.1ad tag.  The tag's VID (0 when
 * untagged; a priority tag also carries VID 0, as 802.1Q treats it) must be
 * config.vlan_id, else the frame is not for this skiff instance.
 */
static __always_inline int skiff_parse_eth(struct skiff_pkt *p)
{
	struct eth_hdr *eth = p->data;
	__u16 proto, vid = 0;
	void *nh;

	if ((void *)(eth + 1) > p->data_end)
		return skiff_pass(p->st, pass_truncated);
	proto = bpf_ntohs(eth->h_proto);
	nh = eth + 1;

	/*
	 * One IEEE 802.1Q (C-)tag.  An 802.1ad S-tag is not parsed: the frame
	 * is not IP/ARP to us and goes to the kernel untouched, as the daemon
	 * (eth_rcv) takes 0x8100 only.
	 */
	if (proto == ETH_P_8021Q) {
		struct vlan_tag *vh = nh;

		if ((void *)(vh + 1) > p->data_end)
			return skiff_pass(p->st, pass_truncated);
		vid = bpf_ntohs(vh->tci) & SKIFF_VLAN_VID_MASK;
		proto = bpf_ntohs(vh->encap_proto);
		nh = vh + 1;
	}
	if (vid != p->cfg->vlan_id)
		return skiff_pass(p->st, pass_vlan);

	p->eth = eth;
	p->l3 = nh;
	p->l3_off = nh - p->data;
	/*
	 * The whole frame, fragments included.  The kernel hands a program
	 * without frags support linear frames only (then this is data_end -
	 * data), but bpf_prog_test_run puts bytes past ~3.5 KB in fragments
	 * even for one; the ICMP checksum reads them with bpf_xdp_load_bytes.
	 */
	p->l3_len = bpf_xdp_get_buff_len(p->ctx) - p->l3_off;
	p->proto = proto;
	return SKIFF_CONTINUE;
}

/*
 * RFC 791 3.1 / RFC 1122 3.2.1.1-2 sanity of a header addressed to us:
 * version 4, IHL >= 5, the header inside the frame, IHL*4 <= total length
 * <= the bytes the frame carries after L2 (Ethernet padding may follow).
 * Returns the header length in bytes, or 0 when malformed.
 */
static __always_inline __u32 skiff_ipv4_hlen(const struct skiff_pkt *p, const struct ip_hdr *ip)
{
	__u32 hlen = ip->ihl * 4;
	__u32 tot = bpf_ntohs(ip->tot_len);

	if (ip->version != 4 || hlen < sizeof(*ip))
		return 0;
	if ((void *)ip + hlen > p->data_end)
		return 0;
	if (tot < hlen || tot > p->l3_len)
		return 0;
	return hlen;
}

#endif /* SKIFF_PARSE_BPF_H */
