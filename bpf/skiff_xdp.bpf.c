// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * skiff's XDP program: the fast path in front of the kernel stack.  It
 * answers ARP and ICMP echo for skiff's dedicated addresses with XDP_TX,
 * steers what skiff owns into the AF_XDP socket of the RX queue, and hands
 * everything else to the kernel untouched.  Every verdict is counted in
 * the per-CPU `stats` map (docs/counters.md lists each counter).
 *
 * The contract, in the order the program applies it:
 *
 * 1. Every frame counts rx_frames.  config.flags without SKIFF_CFG_ENABLED:
 *    XDP_PASS (to_kernel).
 * 2. Ethernet with at most one 802.1Q tag (an 802.1ad S-tag is not
 *    parsed).  The VID (0 = untagged) must equal config.vlan_id, else PASS
 *    (pass_vlan).  Replies keep the
 *    tag as received.  Too short for the headers: PASS (pass_truncated).
 * 3. ARP, Ethernet/IPv4 layout only (other layouts: PASS pass_not_ours;
 *    too short: PASS pass_truncated).  Ops other than request and reply:
 *    PASS pass_not_ours.
 *    - Gratuitous (spa == tpa, request or reply): refresh the MAC of an
 *      EXISTING neigh entry only, never create one; PASS pass_not_ours.
 *    - Target not a skiff address: PASS pass_not_ours, not learned.
 *    - A multicast/broadcast sender MAC for a skiff address: a dedicated
 *      address DROPs it (drop_arp_malformed), a shared one leaves it to the
 *      kernel (pass_shared); never learned.
 *    - Request for a DEDICATED address: learn the sender (unless spa == 0)
 *      and reply in place with XDP_TX (arp_reply): op 2, sha = config.mac,
 *      spa = the target, tha/tpa = the requester's sha/spa, Ethernet
 *      dst = requester's sha, src = config.mac.  An RFC 5227 probe
 *      (spa == 0) is answered as Linux does (to the prober's MAC, tpa 0)
 *      and not learned.
 *    - Request for a SHARED address: learn the sender, PASS pass_shared
 *      (the kernel answers).
 *    - Reply for a skiff address: learn the sender; dedicated: redirect to
 *      the queue's XSK (arp_to_stack), shared: PASS pass_shared.
 *    Learning writes {mac, SKIFF_NEIGH_REACHABLE, bpf_ktime_get_ns()}
 *    (arp_learn), never overwrites a SKIFF_NEIGH_STATIC entry, and when an
 *    existing entry's MAC changes bumps config.neigh_gen atomically so the
 *    daemons drop their cached copies.
 * 4. IPv4.  Shorter than 20 bytes: PASS pass_truncated.  daddr not in
 *    addrs: PASS pass_not_ours, untouched.  For a skiff address, a bad
 *    version, IHL < 5, a header past the frame, or tot_len < IHL*4 or past
 *    the frame: DROP drop_ip_malformed.
 *    - DEDICATED address, ICMP, not fragmented: shorter than the 8-byte
 *      ICMP header: DROP drop_icmp_malformed.  An echo request (type 8
 *      code 0) with IHL 5 from a unicast source: IPv4 header checksum
 *      checked (drop_ip_csum), ICMP checksum over the whole message checked
 *      (drop_icmp_csum), then answered in place with XDP_TX
 *      (icmp_echo_reply): MACs swapped (src = config.mac), addresses
 *      swapped, TTL 64, fresh header checksum, type 0, ICMP checksum
 *      updated by RFC 1624.  Any size up to SKIFF_CSUM_MAX_LEN.
 *    - DEDICATED address, anything else (other ICMP, echo with options,
 *      fragments, any protocol): redirect to the XSK of rx_queue_index.
 *    - SHARED address: UDP or TCP to an owned port goes to the XSK; owned
 *      means ports has {daddr, dport, proto} or {0, dport, proto}.  A
 *      UDP/TCP header cut short: DROP drop_l4_truncated.  Not owned: PASS
 *      pass_port.  Other protocols: PASS pass_shared.
 *    - SHARED address, ICMP error (not fragmented; type 3 destination
 *      unreachable with any code, fragmentation needed included, 11 time
 *      exceeded, 12 parameter problem): the quoted packet is one we sent,
 *      so its SOURCE address and port decide.  The quoted IPv4 header
 *      (version 4, IHL >= 5) and the first 8 bytes of its transport header
 *      (RFC 792) must be inside the ICMP message and the frame, and the
 *      quote must not be a later fragment, else PASS pass_icmp_quote.
 *      Quoted protocol not UDP/TCP, or quoted saddr other than daddr (an
 *      error goes to the offending packet's source, RFC 1812 4.3.2.2):
 *      PASS pass_icmp_err.  ports has {quoted saddr, sport, proto} or
 *      {0, sport, proto}: redirect to the XSK (icmp_err_to_stack with
 *      to_stack), else PASS pass_icmp_err.  Checksums are not checked
 *      here: the daemon or the kernel does.  Any other ICMP (echo, an
 *      ICMP header cut short, a fragment): PASS pass_shared.
 *    - SHARED address, fragments: the first fragment (offset 0, MF set)
 *      carries the ports; it is decided as above and its verdict stored in
 *      frags under {saddr, daddr, id, proto} (frag_first).  A later
 *      fragment (offset > 0) looks its datagram up: found, it follows the
 *      first one's verdict (frag_follow); not found, PASS
 *      pass_frag_unknown.  So a skiff-owned datagram whose later fragments
 *      overtake the first one is lost to skiff: those fragments reach the
 *      kernel, which holds them until its reassembly timeout.  Linux and
 *      most senders emit the first fragment first, and a reordering link
 *      rarely moves a fragment ahead of all of its predecessors.  Entries
 *      are not deleted at the last fragment (duplicates may still come);
 *      the LRU evicts them.
 *    - Redirect: with config.failover_ns set, a queue whose beat_ns is
 *      older than that (the worker is dead or hung) gets nothing: PASS
 *      pass_daemon_dead.  Then xsks[rx_queue_index] is looked up; no
 *      socket: PASS no_xsk; else bpf_redirect_map() (to_stack).
 * 5. IPv6 (skiff_ipv6.bpf.h).  Shorter than 40 bytes: PASS pass_truncated.
 *    daddr in addrs6: version not 6 or payload length past the frame: DROP
 *    drop_ip6_malformed.
 *    - SHARED: the extension headers are walked (at most 8, else PASS
 *      pass_ip6_ext; cut short by the frame: PASS pass_truncated; past the
 *      payload length: DROP drop_ip6_malformed).  UDP/TCP to a port in
 *      ports6 ({daddr, dport, proto} or {::, dport, proto}): redirect,
 *      else PASS pass_port6; the transport header cut short: DROP
 *      drop_l4_truncated.  Fragments as for IPv4, in frags6 under {saddr,
 *      daddr, id} (frag6_first, frag6_follow, pass_frag6_unknown); an
 *      atomic fragment is a whole packet.  An ICMPv6 error (types 1-4)
 *      quoting a packet from daddr (IPv6 header, at most one first
 *      fragment's header, 8 transport bytes, else PASS pass_icmp6_quote)
 *      whose source port ports6 owns: redirect (icmp6_err_to_stack), else
 *      PASS pass_icmp6_err.  Anything else (NDP, echo, MLD, other next
 *      headers): PASS pass_ip6_shared.
 *    - DEDICATED: Next Header ICMPv6 and an NS: validated by RFC
 *      4861 7.1.1 (drop_nd_invalid, drop_icmp6_csum), the solicitor learned
 *      into neigh6 (nd_learn), answered in place with the NA (nd_na_reply).
 *      An echo request from a unicast source: checksum checked, answered in
 *      place (icmp6_echo_reply).  Anything else: redirect to the XSK.
 *    daddr not in addrs6: an NS to the solicited-node group of a dedicated
 *    address (DAD probes included) is handled as above, one for a shared
 *    address is PASSed (pass_ip6_shared); else PASS pass_not_ours.
 * 6. Anything else (LLDP, a second tag...): PASS pass_not_ip.
 *    Every PASS also counts to_kernel.  A frame that is not for skiff is
 *    never modified; only XDP_TX replies are rewritten.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <skiff/proto/udp.h>
#include <skiff/proto/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <skiff/skiff.h>
#include <skiff/proto/icmp.h>

#include "skiff_consts.bpf.h"
#include "skiff_maps.bpf.h"
#include "skiff_counters.bpf.h"
#include "skiff_parse.bpf.h"
#include "skiff_csum.bpf.h"

/*
 * Redirect to the AF_XDP socket of the RX queue, or PASS if there is none
 * or its worker has missed its heartbeat (fail open).
 */
static __always_inline int skiff_to_stack(struct skiff_pkt *p)
{
	__u32 queue = p->ctx->rx_queue_index;
	__u64 failover = p->cfg->failover_ns;
	__u64 now;

	/*
	 * Verifier: beat_ns[] is indexed by a value from the context.  The
	 * worker may stamp its beat (its clock read, on another CPU) after
	 * this program read the clock: a beat newer than now is a live
	 * daemon, so the age is compared signed (unsigned, it wrapped to
	 * 2^64 and failed open under a running daemon: the kernel then
	 * reset one of its connections).
	 */
	if (failover) {
		if (queue >= SKIFF_MAX_QUEUES)
			return skiff_pass(p->st, pass_daemon_dead);
		now = bpf_ktime_get_ns();
		if ((__s64)(now - p->cfg->beat_ns[queue]) > (__s64)failover)
			return skiff_pass(p->st, pass_daemon_dead);
	}

	/*
	 * bpf_redirect_map() alone would fall back to XDP_PASS silently;
	 * looking the slot up first lets us count the missing socket.
	 */
	if (!bpf_map_lookup_elem(&xsks, &queue))
		return skiff_pass(p->st, no_xsk);
	if (bpf_redirect_map(&xsks, queue, XDP_PASS) != XDP_REDIRECT)
		return skiff_pass(p->st, no_xsk); /* socket removed meanwhile */
	skiff_inc(p->st, to_stack);
	return XDP_REDIRECT;
}

/* ---- ARP ---- */

/*
 * RFC 826 "merge": record ip -> mac.  create = false only refreshes an
 * existing entry (gratuitous ARP).  STATIC entries are the admin's.
 */
static __always_inline void skiff_neigh_learn(struct skiff_pkt *p, __u32 ip, const __u8 *mac,
					      bool create)
{
	struct skiff_neigh *old = bpf_map_lookup_elem(&neigh, &ip);
	struct skiff_neigh n = {};
	bool changed = false;

	if (old) {
		if (old->state == SKIFF_NEIGH_STATIC)
			return;
		changed = !skiff_mac_equal(old->mac, mac);
	} else if (!create) {
		return;
	}

	__builtin_memcpy(n.mac, mac, ETH_ALEN);
	n.state = SKIFF_NEIGH_REACHABLE;
	n.updated_ns = bpf_ktime_get_ns();
	/*
	 * A whole-value update rather than writes through `old`: the hash map
	 * swaps the element under RCU, so a daemon reading the entry never
	 * sees half of an old MAC and half of a new one.
	 */
	if (bpf_map_update_elem(&neigh, &ip, &n, old ? BPF_EXIST : BPF_NOEXIST))
		return; /* full, or raced with the daemon: next ARP retries */
	if (changed)
		__sync_fetch_and_add(&p->cfg->neigh_gen, 1);
	skiff_inc(p->st, arp_learn);
}

/* Turn a request for our address `tpa` into the reply, in place. */
static __always_inline int skiff_arp_reply(struct skiff_pkt *p, struct arp_eth_ipv4 *arp, __u32 spa,
					   __u32 tpa)
{
	__u8 requester[ETH_ALEN];

	__builtin_memcpy(requester, arp->sha, ETH_ALEN);

	arp->op = bpf_htons(SKIFF_ARPOP_REPLY);
	__builtin_memcpy(arp->tha, requester, ETH_ALEN);
	__builtin_memcpy(&arp->tpa, &spa, 4); /* 0 for an RFC 5227 probe */
	__builtin_memcpy(arp->sha, p->cfg->mac, ETH_ALEN);
	__builtin_memcpy(&arp->spa, &tpa, 4);

	__builtin_memcpy(p->eth->h_dest, requester, ETH_ALEN);
	__builtin_memcpy(p->eth->h_source, p->cfg->mac, ETH_ALEN);

	skiff_inc(p->st, arp_reply);
	return XDP_TX;
}

static __always_inline int skiff_handle_arp(struct skiff_pkt *p)
{
	struct arp_eth_ipv4 *arp = p->l3;
	struct skiff_addr *addr;
	bool dedicated;
	__u32 spa, tpa;
	__u16 op;

	if (p->l3 + SKIFF_ARP_FIXED_LEN > p->data_end)
		return skiff_pass(p->st, pass_truncated);
	if (arp->htype != bpf_htons(SKIFF_ARPHRD_ETHER) || arp->ptype != bpf_htons(ETH_P_IP) ||
	    arp->hlen != ETH_ALEN || arp->plen != 4)
		return skiff_pass(p->st, pass_not_ours);
	if ((void *)(arp + 1) > p->data_end)
		return skiff_pass(p->st, pass_truncated);

	op = bpf_ntohs(arp->op);
	if (op != SKIFF_ARPOP_REQUEST && op != SKIFF_ARPOP_REPLY)
		return skiff_pass(p->st, pass_not_ours);
	__builtin_memcpy(&spa, &arp->spa, 4);
	__builtin_memcpy(&tpa, &arp->tpa, 4);

	/* RFC 5227 2.3 announcement / RFC 5944 gratuitous ARP: refresh only. */
	if (spa == tpa) {
		if (spa && !skiff_mac_multicast(arp->sha))
			skiff_neigh_learn(p, spa, arp->sha, false);
		return skiff_pass(p->st, pass_not_ours);
	}

	addr = bpf_map_lookup_elem(&addrs, &tpa);
	if (!addr)
		return skiff_pass(p->st, pass_not_ours);
	dedicated = addr->flags & SKIFF_ADDR_DEDICATED;

	/* Never answer or learn a group address: it would poison every cache. */
	if (skiff_mac_multicast(arp->sha))
		return dedicated ? skiff_drop(p->st, drop_arp_malformed)
				 : skiff_pass(p->st, pass_shared);

	/* RFC 826: the sender is learned before the op is looked at. */
	if (spa)
		skiff_neigh_learn(p, spa, arp->sha, true);

	if (!dedicated)
		return skiff_pass(p->st, pass_shared); /* the kernel's address too */

	if (op == SKIFF_ARPOP_REQUEST)
		return skiff_arp_reply(p, arp, spa, tpa);

	/* A reply to one of the daemon's own requests: it wants to know. */
	if (skiff_to_stack(p) == XDP_REDIRECT) {
		skiff_inc(p->st, arp_to_stack);
		return XDP_REDIRECT;
	}
	return XDP_PASS; /* counted no_xsk */
}

/* ---- IPv4 ---- */

/*
 * ICMP for a dedicated address, not fragmented.  Answers an echo request
 * with IHL 5 in place; SKIFF_CONTINUE sends anything else to the daemon.
 */
static __always_inline int skiff_icmp_echo(struct skiff_pkt *p, struct ip_hdr *ip, __u32 hlen)
{
	__u32 len = bpf_ntohs(ip->tot_len) - hlen; /* >= 0: skiff_ipv4_hlen */
	struct icmp_hdr *icmp = (void *)ip + hlen;
	__u32 addr;
	__u16 old;
	long csum;

	/* RFC 792: every ICMP message starts with an 8-byte header. */
	if (len < sizeof(*icmp))
		return skiff_drop(p->st, drop_icmp_malformed);
	/* Verifier: tot_len <= l3_len is not a proof it can use; check again. */
	if ((void *)(icmp + 1) > p->data_end)
		return skiff_drop(p->st, drop_icmp_malformed);

	if (icmp->type != SKIFF_ICMP_ECHO || icmp->code != 0)
		return SKIFF_CONTINUE;
	if (hlen != sizeof(*ip) || len > SKIFF_CSUM_MAX_LEN)
		return SKIFF_CONTINUE; /* options or jumbo: the daemon answers */
	if (skiff_ipv4_martian_src(ip->saddr))
		return SKIFF_CONTINUE; /* the daemon validates and drops it */

	/* RFC 1122 3.2.1.2: silently discard a bad header checksum. */
	if (skiff_csum_fold(skiff_ipv4_sum20(ip)) != 0xffff)
		return skiff_drop(p->st, drop_ip_csum);
	/* RFC 792: the checksum covers the whole ICMP message. */
	csum = skiff_csum_frame(p->ctx, p->l3_off + hlen, len);
	if (csum < 0 || skiff_csum_fold(csum) != 0xffff)
		return skiff_drop(p->st, drop_icmp_csum);

	/* RFC 792 echo reply: addresses reversed, type 0, data unchanged. */
	__builtin_memcpy(p->eth->h_dest, p->eth->h_source, ETH_ALEN);
	__builtin_memcpy(p->eth->h_source, p->cfg->mac, ETH_ALEN);

	addr = ip->saddr;
	ip->saddr = ip->daddr;
	ip->daddr = addr;
	ip->ttl = SKIFF_ECHO_TTL;
	ip->check = 0;
	ip->check = ~skiff_csum_fold(skiff_ipv4_sum20(ip));

	old = *(__u16 *)icmp; /* type and code: the only word that changes */
	icmp->type = SKIFF_ICMP_ECHOREPLY;
	icmp->checksum = skiff_csum_replace2(icmp->checksum, old, *(__u16 *)icmp);

	skiff_inc(p->st, icmp_echo_reply);
	return XDP_TX;
}

/*
 * Is the UDP/TCP destination port of this (first or whole) datagram owned
 * by skiff?  Sets *owned and returns SKIFF_CONTINUE, or an XDP action for
 * a header cut short.
 */
static __always_inline int skiff_port_owned(struct skiff_pkt *p, struct ip_hdr *ip, __u32 hlen,
					    bool *owned)
{
	__u32 l4_len = bpf_ntohs(ip->tot_len) - hlen;
	void *l4 = (void *)ip + hlen;
	struct skiff_port_key key = {};
	__u32 need;

	/*
	 * RFC 1858 3: a first fragment too small for the transport header is
	 * an attack, not a datagram; for TCP, require the minimal header.
	 */
	need = ip->protocol == IPPROTO_TCP ? SKIFF_TCP_MIN_HLEN : sizeof(struct udp_hdr);
	if (l4_len < need || l4 + need > p->data_end)
		return skiff_drop(p->st, drop_l4_truncated);
	/* Verifier: `need` is not a constant; prove the 4 port bytes directly. */
	if (l4 + 4 > p->data_end)
		return skiff_drop(p->st, drop_l4_truncated);

	key.addr = ip->daddr;
	key.port = ((struct udp_hdr *)l4)->dest; /* same place in TCP */
	key.proto = ip->protocol;
	*owned = bpf_map_lookup_elem(&ports, &key) != NULL;
	if (!*owned) {
		key.addr = 0; /* bound to every skiff address */
		*owned = bpf_map_lookup_elem(&ports, &key) != NULL;
	}
	return SKIFF_CONTINUE;
}

/*
 * An ICMP error to a shared address (not fragmented): destination
 * unreachable (every code, fragmentation needed included), time exceeded or
 * parameter problem.  RFC 792 / RFC 1122 3.2.2: it quotes the IPv4 header
 * and at least the first 8 transport bytes of a packet we sent, so the
 * quoted SOURCE is our address and port.  The daemon gets the error when
 * ports owns {quoted saddr, sport, proto} or {0, sport, proto}; otherwise
 * it is the kernel's.  SKIFF_CONTINUE: not an ICMP error (or too short for
 * the ICMP header): the caller decides as for any other ICMP.
 */
static __always_inline int skiff_icmp_error_shared(struct skiff_pkt *p, struct ip_hdr *ip,
						   __u32 hlen)
{
	__u32 len = bpf_ntohs(ip->tot_len) - hlen; /* >= 0: skiff_ipv4_hlen */
	struct icmp_hdr *icmp = (void *)ip + hlen;
	struct skiff_port_key key = {};
	struct ip_hdr *q;
	__u32 qhlen;
	void *ql4;

	if (len < sizeof(*icmp) || (void *)(icmp + 1) > p->data_end)
		return SKIFF_CONTINUE;
	if (icmp->type != SKIFF_ICMP_DEST_UNREACH && icmp->type != SKIFF_ICMP_TIME_EXCEEDED &&
	    icmp->type != SKIFF_ICMP_PARAMETERPROB)
		return SKIFF_CONTINUE;

	/*
	 * The quoted header: cut short or malformed, the kernel judges it.
	 * Each length is checked twice, against tot_len (the ICMP message)
	 * and against data_end: the verifier cannot use the first as a proof.
	 */
	q = (void *)(icmp + 1);
	len -= sizeof(*icmp);
	if (len < sizeof(*q) || (void *)(q + 1) > p->data_end)
		return skiff_pass(p->st, pass_icmp_quote);
	qhlen = q->ihl * 4;
	if (q->version != 4 || qhlen < sizeof(*q))
		return skiff_pass(p->st, pass_icmp_quote);
	if (q->protocol != IPPROTO_UDP && q->protocol != IPPROTO_TCP)
		return skiff_pass(p->st, pass_icmp_err);
	/*
	 * Errors go to the source of the offending datagram (RFC 1812
	 * 4.3.2.2): one quoting another address's packet is not about a flow
	 * of this address, whatever a wildcard ports entry says.
	 */
	if (q->saddr != ip->daddr)
		return skiff_pass(p->st, pass_icmp_err);
	/* A later fragment quoted carries no ports to attribute it by. */
	if (bpf_ntohs(q->frag_off) & SKIFF_IP_OFFSET)
		return skiff_pass(p->st, pass_icmp_quote);
	/* RFC 792: the original data's first 64 bits, i.e. both ports. */
	ql4 = (void *)q + qhlen;
	if (len < qhlen + SKIFF_ICMP_QUOTE_L4 || ql4 + SKIFF_ICMP_QUOTE_L4 > p->data_end)
		return skiff_pass(p->st, pass_icmp_quote);

	key.addr = q->saddr;
	key.port = ((struct udp_hdr *)ql4)->source; /* same place in TCP */
	key.proto = q->protocol;
	if (!bpf_map_lookup_elem(&ports, &key)) {
		key.addr = 0; /* bound to every skiff address */
		if (!bpf_map_lookup_elem(&ports, &key))
			return skiff_pass(p->st, pass_icmp_err);
	}
	if (skiff_to_stack(p) != XDP_REDIRECT)
		return XDP_PASS; /* counted no_xsk */
	skiff_inc(p->st, icmp_err_to_stack);
	return XDP_REDIRECT;
}

/* A shared address: only owned UDP/TCP ports are skiff's. */
static __always_inline int skiff_ipv4_shared(struct skiff_pkt *p, struct ip_hdr *ip, __u32 hlen)
{
	__u16 frag = bpf_ntohs(ip->frag_off);
	struct skiff_frag_key fkey = {};
	struct skiff_frag_val fval = {};
	struct skiff_frag_val *seen;
	bool owned = false;
	int ret;

	if (ip->protocol == IPPROTO_ICMP && !(frag & (SKIFF_IP_MF | SKIFF_IP_OFFSET))) {
		ret = skiff_icmp_error_shared(p, ip, hlen);
		if (ret != SKIFF_CONTINUE)
			return ret;
	}
	if (ip->protocol != IPPROTO_UDP && ip->protocol != IPPROTO_TCP)
		return skiff_pass(p->st, pass_shared);

	fkey.saddr = ip->saddr;
	fkey.daddr = ip->daddr;
	fkey.id = ip->id;
	fkey.proto = ip->protocol;

	if (frag & SKIFF_IP_OFFSET) {
		/* A later fragment carries no ports: follow the first one. */
		seen = bpf_map_lookup_elem(&frags, &fkey);
		if (!seen)
			return skiff_pass(p->st, pass_frag_unknown);
		skiff_inc(p->st, frag_follow);
		return seen->to_stack ? skiff_to_stack(p) : skiff_pass(p->st, pass_port);
	}

	ret = skiff_port_owned(p, ip, hlen, &owned);
	if (ret != SKIFF_CONTINUE)
		return ret;

	if (frag & SKIFF_IP_MF) {
		fval.to_stack = owned;
		/* LRU: never fails for lack of room, evicts the oldest datagram. */
		bpf_map_update_elem(&frags, &fkey, &fval, BPF_ANY);
		skiff_inc(p->st, frag_first);
	}
	return owned ? skiff_to_stack(p) : skiff_pass(p->st, pass_port);
}

static __always_inline int skiff_handle_ipv4(struct skiff_pkt *p)
{
	struct ip_hdr *ip = p->l3;
	struct skiff_addr *addr;
	__u32 daddr, hlen;
	__u16 frag;
	int ret;

	if ((void *)(ip + 1) > p->data_end)
		return skiff_pass(p->st, pass_truncated);

	daddr = ip->daddr;
	addr = bpf_map_lookup_elem(&addrs, &daddr);
	if (!addr)
		return skiff_pass(p->st, pass_not_ours);

	hlen = skiff_ipv4_hlen(p, ip);
	if (!hlen)
		return skiff_drop(p->st, drop_ip_malformed);

	if (!(addr->flags & SKIFF_ADDR_DEDICATED))
		return skiff_ipv4_shared(p, ip, hlen);

	frag = bpf_ntohs(ip->frag_off);
	if (ip->protocol == IPPROTO_ICMP && !(frag & (SKIFF_IP_MF | SKIFF_IP_OFFSET))) {
		ret = skiff_icmp_echo(p, ip, hlen);
		if (ret != SKIFF_CONTINUE)
			return ret;
	}
	/* Dedicated: the daemon owns all of it, and reassembles fragments. */
	return skiff_to_stack(p);
}

/* IPv6: NDP and echo for dedicated addresses (needs skiff_to_stack) */
#include "skiff_ipv6.bpf.h"

SEC("xdp")
int skiff_xdp_prog(struct xdp_md *ctx)
{
	struct skiff_pkt p = {
		.ctx = ctx,
		.data = (void *)(long)ctx->data,
		.data_end = (void *)(long)ctx->data_end,
	};
	__u32 zero = 0;
	int ret;

	/* Verifier: lookups can return NULL even for index 0 of an array. */
	p.st = bpf_map_lookup_elem(&stats, &zero);
	if (!p.st)
		return XDP_PASS;
	p.cfg = bpf_map_lookup_elem(&config, &zero);
	if (!p.cfg)
		return XDP_PASS;

	skiff_inc(p.st, rx_frames);
	if (!(p.cfg->flags & SKIFF_CFG_ENABLED)) {
		skiff_inc(p.st, to_kernel);
		return XDP_PASS;
	}

	ret = skiff_parse_eth(&p);
	if (ret != SKIFF_CONTINUE)
		return ret;

	switch (p.proto) {
	case ETH_P_ARP:
		return skiff_handle_arp(&p);
	case ETH_P_IP:
		return skiff_handle_ipv4(&p);
	case ETH_P_IPV6:
		return skiff_handle_ipv6(&p);
	default:
		return skiff_pass(p.st, pass_not_ip);
	}
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
