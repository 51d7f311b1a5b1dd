// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The peer's end of an 802.1Q VLAN for the integration tests, on kernels
 * built without CONFIG_VLAN_8021Q (this one: no `ip link add ... type vlan`,
 * no bridge VLAN filtering, no act_vlan).  Two tc programs on the peer veth
 * make its own IP stack a station of one VLAN, as a vlan device would:
 *
 * - vlan_peer_egress (clsact egress): every frame the peer sends gets the
 *   tag of config.vid through bpf_skb_vlan_push(), the same
 *   __vlan_hwaccel_put_tag() a vlan device uses.  The tag is skb metadata;
 *   the core writes it into the frame only if the veth has no tx VLAN
 *   offload (`ethtool -K <veth> txvlan off`), exactly as for a vlan device.
 *   A frame its sender tagged already (arping -V, a raw socket) leaves as
 *   it is.
 * - vlan_peer_ingress (clsact ingress): the core has already moved a
 *   received tag into skb metadata (skb_vlan_untag); a frame of config.vid
 *   is popped and goes up untagged; an untagged frame or one of another VID
 *   is dropped (the parent of a vlan device would get it, and here the
 *   parent carries the VLAN's address: accepting it would hide a reply that
 *   lost its tag).
 * - vlan_peer_xdp: counts what the wire delivered to the peer before the
 *   kernel touched it (tag in the frame or not) and passes every frame.  It
 *   replaces xdp_pass on the peer veth, which needs an XDP program anyway
 *   (docs/veth.md: XDP_TX needs NAPI on the peer).
 *
 * config.vid 0 turns the VLAN off: every frame passes untouched (and is
 * still counted).  Loaded with `bpftool prog loadall ... pinmaps DIR`, so
 * the three programs share the two maps.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <skiff/proto/eth.h>

#define VLAN_VID_MASK 0x0fff

struct vlan_peer_config {
	__u32 vid; /* 1-4094; 0 = off */
};

/* Counters, one set for all CPUs (atomic adds). */
struct vlan_peer_stats {
	__u64 tx_tagged;     /* egress: tag pushed */
	__u64 rx_ok;	     /* ingress: our VID, popped, delivered */
	__u64 rx_untagged;   /* ingress: no tag, dropped */
	__u64 rx_other_vid;  /* ingress: another VID, dropped */
	__u64 xdp_tagged;    /* XDP: frame carries an 802.1Q tag of config.vid */
	__u64 xdp_other_vid; /* XDP: frame carries a tag of another VID */
	__u64 xdp_untagged;  /* XDP: no tag in the frame */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vlan_peer_config);
} vlan_peer_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vlan_peer_stats);
} vlan_peer_stats SEC(".maps");

static __always_inline __u32 vlan_peer_vid(void)
{
	__u32 zero = 0;
	struct vlan_peer_config *c = bpf_map_lookup_elem(&vlan_peer_cfg, &zero);

	return c ? c->vid & VLAN_VID_MASK : 0;
}

static __always_inline struct vlan_peer_stats *vlan_peer_st(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&vlan_peer_stats, &zero);
}

#define VLAN_PEER_INC(st, field) \
	do { \
		if (st) \
			__sync_fetch_and_add(&(st)->field, 1); \
	} while (0)

SEC("tc")
int vlan_peer_egress(struct __sk_buff *skb)
{
	struct vlan_peer_stats *st = vlan_peer_st();
	__u32 vid = vlan_peer_vid();
	__be16 type;

	if (!vid || skb->vlan_present)
		return TC_ACT_OK;
	/* Tagged by the sender itself (arping -V, a raw socket): as it is. */
	if (bpf_skb_load_bytes(skb, 12, &type, sizeof(type)) || type == bpf_htons(ETH_P_8021Q) ||
	    type == bpf_htons(ETH_P_8021AD))
		return TC_ACT_OK;
	if (bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), vid))
		return TC_ACT_SHOT;
	VLAN_PEER_INC(st, tx_tagged);
	return TC_ACT_OK;
}

SEC("tc")
int vlan_peer_ingress(struct __sk_buff *skb)
{
	struct vlan_peer_stats *st = vlan_peer_st();
	__u32 vid = vlan_peer_vid();

	if (!vid)
		return TC_ACT_OK;
	/* __netif_receive_skb_core() untagged it before tc ingress runs. */
	if (!skb->vlan_present) {
		VLAN_PEER_INC(st, rx_untagged);
		return TC_ACT_SHOT;
	}
	if ((skb->vlan_tci & VLAN_VID_MASK) != vid) {
		VLAN_PEER_INC(st, rx_other_vid);
		return TC_ACT_SHOT;
	}
	if (bpf_skb_vlan_pop(skb))
		return TC_ACT_SHOT;
	VLAN_PEER_INC(st, rx_ok);
	return TC_ACT_OK;
}

SEC("xdp")
int vlan_peer_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct vlan_peer_stats *st = vlan_peer_st();
	struct eth_hdr *eth = data;
	__be16 *tci;

	if ((void *)(eth + 1) + 4 > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_8021Q)) {
		VLAN_PEER_INC(st, xdp_untagged);
		return XDP_PASS;
	}
	tci = (void *)(eth + 1);
	if ((bpf_ntohs(*tci) & VLAN_VID_MASK) == vlan_peer_vid())
		VLAN_PEER_INC(st, xdp_tagged);
	else
		VLAN_PEER_INC(st, xdp_other_vid);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
