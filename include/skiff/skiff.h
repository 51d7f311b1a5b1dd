/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Structures shared by the XDP program (bpf/) and the daemon (user/): the
 * keys and values of every pinned map, and the counter lists.  Both sides
 * include this file, so it uses only <linux/types.h> types.  Every map is
 * described in docs/counters.md and docs/architecture.md.
 *
 * Counter lists are X-macros: one list gives the struct fields (named in BTF,
 * so `bpftool map dump` prints them), the C enum used to index them, and the
 * strings skiffctl prints.  Add a counter by adding one line to the right
 * list and one row to docs/counters.md.
 */
#ifndef SKIFF_SKIFF_H
#define SKIFF_SKIFF_H

#include <linux/types.h>

#define SKIFF_MAX_ADDRS		16	/* local IPv4 addresses skiff serves */
#define SKIFF_MAX_ROUTES	32	/* static routes (skiffd --route) */
#define SKIFF_MAX_QUEUES	64	/* RX queues (one worker and XSK each) */
#define SKIFF_MAX_PORTS		4096	/* owned (addr, proto, port) entries */
#define SKIFF_MAX_NEIGH		1024	/* neighbour map entries */
#define SKIFF_MAX_FRAGS		4096	/* fragmented datagrams remembered by XDP */
#define SKIFF_MAX_ADDRS6	9	/* local IPv6 addresses: 8 of --addr + the link-local one */

/* ---- config map: BPF_MAP_TYPE_ARRAY, one entry, mmapable ---- */
struct skiff_config {
	__u8 mac[6];		/* our MAC: source of XDP_TX replies */
	__u16 vlan_id;		/* 802.1Q VID skiff serves; 0 = untagged */
	__u32 flags;		/* SKIFF_CFG_* */
	__u64 neigh_gen;	/* bumped by XDP when it changes a neighbour's MAC */
	/*
	 * Fail open: each worker stores bpf_ktime_get_ns()'s clock
	 * (CLOCK_MONOTONIC) in beat_ns[its queue] at least every
	 * failover_ns / 4 (also when idle).  A frame XDP would steer to a
	 * queue whose beat is older than failover_ns goes to the kernel
	 * instead (pass_daemon_dead): a killed or hung skiffd leaves the
	 * interface to the kernel, not to dead sockets.  0: never.
	 */
	__u64 failover_ns;
	__u64 beat_ns[SKIFF_MAX_QUEUES];
};

#define SKIFF_CFG_ENABLED	(1u << 0)	/* 0: XDP passes everything */

/* ---- addrs map: BPF_MAP_TYPE_HASH, key __be32 IPv4 address ---- */
struct skiff_addr {
	__u32 flags;		/* SKIFF_ADDR_* */
	__u32 prefix_len;
};

/*
 * DEDICATED: only skiff has this address: XDP answers ARP and ICMP echo
 * and steers all other IPv4 to the daemon.  Otherwise the address is SHARED
 * with the kernel: only owned ports are steered, the rest (ARP, ICMP, other
 * ports) stays with the kernel.
 */
#define SKIFF_ADDR_DEDICATED	(1u << 0)

/* ---- ports map: BPF_MAP_TYPE_HASH, owned (address, protocol, port) ---- */
struct skiff_port_key {
	__be32 addr;		/* 0 = every skiff address */
	__be16 port;
	__u8 proto;		/* IPPROTO_UDP, IPPROTO_TCP */
	__u8 pad;
};

struct skiff_port_val {
	__u32 refs;		/* sockets bound to it across all workers */
	__u32 flags;
};

/* ---- addrs6 map: BPF_MAP_TYPE_HASH, key struct skiff_in6, value struct skiff_addr ---- */
struct skiff_in6 {
	__be32 a[4];		/* network order, as on the wire */
};

/* ---- ports6 map: BPF_MAP_TYPE_HASH, owned (IPv6 address, protocol, port) on
 * shared IPv6 addresses; value struct skiff_port_val ---- */
struct skiff_port6_key {
	struct skiff_in6 addr;	/* :: = every skiff IPv6 address */
	__be16 port;
	__u8 proto;		/* IPPROTO_UDP, IPPROTO_TCP */
	__u8 pad;
};

/* ---- frags6 map: BPF_MAP_TYPE_LRU_HASH, IPv6 datagrams whose first fragment
 * was seen (RFC 8200 4.5: source, destination and identification name
 * one); value struct skiff_frag_val ---- */
struct skiff_frag6_key {
	struct skiff_in6 saddr;
	struct skiff_in6 daddr;
	__be32 id;
};

/* ---- neigh map: BPF_MAP_TYPE_HASH, key __be32 IPv4 address ----
 * ---- neigh6 map: the same values, key struct skiff_in6 (learned from NDP) ---- */
struct skiff_neigh {
	__u8 mac[6];
	__u16 state;		/* SKIFF_NEIGH_* */
	__u64 updated_ns;	/* CLOCK_MONOTONIC (bpf_ktime_get_ns) of last confirmation */
};

#define SKIFF_NEIGH_REACHABLE	1	/* confirmed by an ARP frame */
#define SKIFF_NEIGH_STATIC	2	/* set by hand, never aged */

/* ---- frags map: BPF_MAP_TYPE_LRU_HASH, datagrams whose first fragment was seen ---- */
struct skiff_frag_key {
	__be32 saddr;
	__be32 daddr;
	__be16 id;
	__u8 proto;
	__u8 pad;
};

struct skiff_frag_val {
	__u32 to_stack;		/* 1: the datagram's port is skiff's */
	__u32 pad;
};

/* ---- xsks map: BPF_MAP_TYPE_XSKMAP, key RX queue index ---- */

/* ---- stats map: BPF_MAP_TYPE_PERCPU_ARRAY, one struct skiff_xdp_stats ---- */
#define SKIFF_XDP_COUNTERS(X)						\
	X(rx_frames)		/* every frame the program saw */	\
	X(arp_reply)		/* ARP request answered with XDP_TX */	\
	X(arp_learn)		/* neighbour entry created or refreshed */ \
	X(arp_to_stack)		/* ARP reply for a dedicated address, to the daemon */ \
	X(icmp_err_to_stack)	/* ICMP error on a shared address quoting a skiff flow, to the daemon */ \
	X(icmp_echo_reply)	/* ICMP echo answered with XDP_TX */	\
	X(nd_na_reply)		/* IPv6 Neighbor Solicitation answered with XDP_TX */ \
	X(nd_learn)		/* IPv6 neighbour entry created or refreshed */ \
	X(icmp6_echo_reply)	/* ICMPv6 echo answered with XDP_TX */	\
	X(to_stack)		/* redirected into an AF_XDP socket */	\
	X(to_kernel)		/* XDP_PASS, all reasons together */	\
	X(pass_not_ip)		/* ethertype neither IPv4 nor ARP */	\
	X(pass_vlan)		/* VLAN tag does not match config */	\
	X(pass_not_ours)	/* IPv4/ARP not for a skiff address */	\
	X(pass_port)		/* shared address, port not owned */	\
	X(pass_shared)		/* shared address: ARP, ICMP, other protocols */ \
	X(pass_icmp_err)	/* shared address: ICMP error quoting a flow not skiff's */ \
	X(pass_icmp_quote)	/* shared address: ICMP error whose quote is cut short or malformed */ \
	X(pass_ip6_shared)	/* IPv6 to a shared address: NDP, echo, MLD, protocols other than UDP/TCP */ \
	X(pass_port6)		/* shared IPv6 address, UDP/TCP port not owned */ \
	X(pass_ip6_ext)		/* shared IPv6 address: extension header chain over 8 headers */ \
	X(pass_frag6_unknown)	/* shared IPv6 address: later fragment, datagram not seen */ \
	X(pass_icmp6_err)	/* shared IPv6 address: ICMPv6 error quoting a flow not skiff's */ \
	X(pass_icmp6_quote)	/* shared IPv6 address: ICMPv6 error whose quote is cut short or malformed */ \
	X(pass_frag_unknown)	/* non-first fragment, datagram not seen */ \
	X(pass_truncated)	/* too short to tell whether it is ours */ \
	X(no_xsk)		/* owned, but no AF_XDP socket on the queue */ \
	X(pass_daemon_dead)	/* owned, but the queue's worker missed its heartbeat */ \
	X(frag_first)		/* first fragment seen; owner remembered */ \
	X(frag_follow)		/* later fragment followed its datagram */ \
	X(frag6_first)		/* shared IPv6 address: first fragment seen; owner remembered */ \
	X(frag6_follow)		/* shared IPv6 address: later fragment followed its datagram */ \
	X(icmp6_err_to_stack)	/* ICMPv6 error on a shared address quoting a skiff flow, to the daemon */ \
	X(drop_arp_malformed)	/* ARP for a dedicated address from a group MAC */ \
	X(drop_ip_malformed)	/* bad version, IHL or lengths */	\
	X(drop_ip_csum)		/* IPv4 header checksum wrong */	\
	X(drop_icmp_malformed)	/* ICMP too short */			\
	X(drop_icmp_csum)	/* ICMP echo checksum wrong */		\
	X(drop_l4_truncated)	/* UDP/TCP header cut short */	\
	X(drop_ip6_malformed)	/* IPv6 to us: bad version or payload length */ \
	X(drop_icmp6_csum)	/* ICMPv6 echo/NS checksum wrong */	\
	X(drop_nd_invalid)	/* NS failing RFC 4861 7.1.1 (hop limit, code, length, target) */

#define SKIFF_FIELD(name) __u64 name;
struct skiff_xdp_stats {
	SKIFF_XDP_COUNTERS(SKIFF_FIELD)
};

/* ---- ustats map: BPF_MAP_TYPE_ARRAY, mmapable, one struct skiff_ustats per queue ----
 * Written only by that queue's worker; read by skiffctl and bpftool.
 * Lists are per layer so each layer's file owns its own list.
 */
#define SKIFF_USTATS_DEV(X)						\
	X(rx_packets)	X(rx_bytes)	X(rx_bursts)			\
	X(tx_packets)	X(tx_bytes)	X(tx_kicks)			\
	X(tx_ring_full)	/* transmit dropped: TX ring or frames exhausted */ \
	X(tx_copied)	/* heap pkb copied into a UMEM frame to send */ \
	X(tx_invalid)	/* transmit dropped: shorter than Ethernet, or past its frame */ \
	X(fill_empty)	/* fill ring refill found no free frame */	\
	X(frames_total)	X(frames_free)	X(frames_fill)	X(frames_tx)	/* gauges */ \
	X(handoff_out)	/* frames handed to the worker owning their port */ \
	X(handoff_in)	/* frames handed over by another worker */

#define SKIFF_USTATS_LINK(X)						\
	X(eth_rx)	X(eth_tx)					\
	X(arp_rx)	X(arp_req_sent)	X(arp_reply_sent)		\
	X(arp_resolved)	X(arp_failed)	X(arp_gratuitous)	X(arp_probe_reply) \
	X(neigh_queued)	/* packets parked waiting for ARP */ \
	X(arp_conflict)	/* ARP from another host claiming one of our addresses */ \
	X(neigh_evicted)	/* cache entry evicted to make room (table full) */ \
	X(nd_ns_rx)	X(nd_na_rx)	/* Neighbor Solicitations / Advertisements the daemon got */ \
	X(nd_ns_sent)		/* Neighbor Solicitations sent (resolution, NUD probes) */ \
	X(nd_na_sent)		/* Neighbor Advertisements sent by the daemon */ \
	X(nd_resolved)		/* IPv6 neighbours resolved (INCOMPLETE -> usable) */ \
	X(nd_failed)		/* IPv6 resolution or NUD probing gave up */ \
	X(nd_conflict)		/* an NA from another host for one of our IPv6 addresses */

#define SKIFF_USTATS_NET(X)						\
	X(ip_rx)	X(ip_delivered)	X(ip_tx)			\
	X(ip_frag_rx)	X(ip_reasm_ok)	X(ip_frag_created)		\
	X(icmp_rx)	X(icmp_echo_reply)	X(icmp_unreach_sent)	X(icmp_ratelimited) \
	X(icmp_err_handoff)	/* ICMP errors handed to the worker(s) that may hold the quoted flow */ \
	X(ip6_rx)	X(ip6_tx)	/* IPv6 packets the daemon got from XDP / sent */ \
	X(icmp6_echo_reply)	/* ICMPv6 echo answered by the daemon (XDP answers the rest) */ \
	X(icmp6_err_sent)	/* ICMPv6 errors sent (port unreachable, parameter problem) */ \
	X(icmp6_ratelimited)	/* ICMPv6 errors not sent: RFC 4443 2.4 f */ \
	X(tcp6_rst_sent)	/* RSTs for TCP over IPv6 segments to no connection */ \
	X(icmp6_err_rx)		/* ICMPv6 errors about our packets, handed to UDP/TCP */ \
	X(ip6_frag_rx)		/* IPv6 fragments received (not atomic ones) */ \
	X(ip6_reasm_ok)		/* IPv6 datagrams reassembled */ \
	X(ip6_frag_created)	/* IPv6 fragments sent */ \
	X(icmp6_ptb_rx)		/* ICMPv6 Packet Too Big messages received (checksum good) */ \
	X(pmtu6_updates)	/* path MTU estimates lowered by a Packet Too Big (RFC 8201) */ \
	X(pmtu6_expired)	/* path MTU entries forgotten after 10 minutes (RFC 8201 5.3) */ \
	X(pmtu6_evicted)	/* path MTU entries replaced to make room (least recently used) */

#define SKIFF_USTATS_TRANSPORT(X)					\
	X(udp_rx)	X(udp_tx)	X(udp_no_port)				\
	X(tcp_rx)		/* segments received and checked */	\
	X(tcp_passive_opens)	/* connections created by a SYN to a listener */ \
	X(tcp_active_opens)	/* connect() calls that sent a SYN */	\
	X(tcp_estab_resets)	/* synchronized connections reset by a RST */ \
	X(tcp_rst_noconn)	/* RST sent for a segment with no connection */ \
	X(tcp_syncookies_sent)	/* SYN-ACK with a cookie, no state kept */ \
	X(tcp_syncookies_ok)	/* ACK with a valid cookie: connection created */ \
	X(tcp_challenge_acks)	/* RFC 5961 challenge ACKs sent */	\
	X(tcp_challenge_ack_limited)	/* challenge ACKs not sent: RFC 5961 7 budget */ \
	X(tcp_ooo_segs)		/* segments queued out of order */	\
	X(tcp_ooo_fins)		/* FINs beyond a hole kept until it filled */ \
	X(tcp_dsacks)		/* duplicate segments reported by D-SACK (RFC 2883) */ \
	X(tcp_tw_reuse)		/* TIME_WAIT connection reused by a new SYN */ \
	X(tcp_pmtu_updates)	/* MSS lowered by ICMP frag needed */	\
	X(tcp_icmp_soft_errors)	/* ICMP errors kept as a connection's soft error */ \
	X(tcp_conn_refused)	/* connect() refused (RST or ICMP unreachable) */ \
	X(tcp_out_segs)		/* TCP segments sent (all kinds) */	\
	X(tcp_out_rsts)		/* RST segments sent */			\
	X(tcp_retrans_segs)	/* segments sent again */		\
	X(tcp_fast_retrans)	/* NewReno fast retransmits (3 dupacks) */ \
	X(tcp_sack_recovery)	/* RFC 6675 recovery episodes */	\
	X(tcp_rto)		/* retransmission timeouts */		\
	X(tcp_disordered_acks)	/* old-TS duplicate ACKs let past PAWS */ \
	X(tcp_spurious_rtx)	/* spurious fast retransmits / RTOs (Eifel) */ \
	X(tcp_undo)		/* cwnd reductions undone (RFC 4015) */	\
	X(tcp_dsack_undo)	/* of them, found spurious by D-SACK (RFC 3708) */ \
	X(tcp_dsack_rx)		/* D-SACK blocks received (RFC 2883) */	\
	X(tcp_rack_marked_lost)	/* retransmissions of data RACK found lost (RFC 8985) */ \
	X(tcp_tlp_probes)	/* tail loss probes sent (RFC 8985 7) */ \
	X(tcp_tlp_recovered)	/* losses repaired by a loss probe */	\
	X(tcp_ecn_ce_rx)	/* data segments received marked CE (RFC 3168) */ \
	X(tcp_ecn_reductions)	/* cwnd reductions for an ECN-Echo (RFC 3168 6.1.2) */ \
	X(tcp_delayed_acks)	/* ACKs sent by the delayed-ACK timer */ \
	X(tcp_zero_window_probes)	/* persist-timer probes */	\
	X(tcp_keepalive_probes)	/* keepalive probes sent */		\
	X(tcp_timeouts)		/* connections aborted by a timer (ETIMEDOUT) */ \
	X(tcp_chunk_waits)	/* sends refused for lack of buffer chunks (woken later) */ \
	X(tcp_sendfile_lost)	/* connections reset: a file queued by reference shrank */ \
	X(tcp_rcvbuf_grown)	/* receive buffers grown by autotuning */ \
	X(tcp_recovery_blocks)	/* gauge: recovery blocks (SACK scoreboard, undo) in use */ \
	X(tcp_recovery_nomem)	/* recovery blocks refused (pool at its bound): no SACK recovery */

#define SKIFF_USTATS_APPS(X)						\
	X(svc_conn_limited)	/* a service reached its connection limit and stopped accepting */ \
	X(http_conn_limited)	/* the HTTP server reached its limit and stopped accepting */ \
	X(http_header_timeouts)	/* closed: no whole request header in time (or lingered too long) */ \
	X(http_idle_timeouts)	/* closed: keep-alive connection idle too long */ \
	X(http_source_limited)	/* reset at accept: its address holds --http-per-source already */

/* Drop reasons: struct skiff_drop_stats fields, indexed by enum skiff_drop. */
#define SKIFF_DROPS(X)							\
	X(eth_short)		/* frame shorter than an Ethernet header */ \
	X(eth_unknown_type)	/* no handler for the ethertype */	\
	X(eth_other_host)	/* unicast to another MAC */		\
	X(eth_vlan)		/* VLAN tag not ours */			\
	X(eth_headroom)		/* no headroom for the link header (a bug) */ \
	X(arp_malformed)	/* bad ARP header or lengths */		\
	X(arp_not_ours)		/* ARP target not a skiff address */	\
	X(arp_queue_full)	/* pending-resolution queue full */	\
	X(arp_unresolved)	/* neighbour never answered */		\
	X(ip_short)		/* shorter than its header */		\
	X(ip_version)		/* version != 4 */			\
	X(ip_ihl)		/* IHL < 5 or past the packet */	\
	X(ip_csum)		/* header checksum wrong */		\
	X(ip_len)		/* total length lies */			\
	X(ip_ttl)		/* TTL 0 */				\
	X(ip_not_ours)		/* destination not a local address */	\
	X(ip_unknown_proto)	/* no protocol handler */		\
	X(ip_no_route)		/* no route to the destination */	\
	X(ip_df)		/* too big with DF set */		\
	X(ip_frag_overlap)	/* overlapping fragment: datagram discarded */ \
	X(ip_frag_timeout)	/* reassembly timed out */		\
	X(ip_frag_mem)		/* reassembly memory limit */		\
	X(ip_frag_source_limit)	/* the sender holds its share of reassembly slots */ \
	X(ip_frag_evicted)	/* oldest datagram evicted: every slot busy */ \
	X(ip_frag_bad)		/* fragment with bad offset/length */	\
	X(ip_frag_dup)		/* exact duplicate fragment (datagram kept) */ \
	X(ip_martian)		/* source address not unicast (RFC 1122 3.2.1.3) */ \
	X(icmp_short)		/* ICMP shorter than its header */	\
	X(icmp_csum)		/* ICMP checksum wrong */		\
	X(icmp_type)		/* type we do not handle */		\
	X(icmp_quote)		/* error quotes too little / not our packet */ \
	X(icmp_err_no_flow)	/* error quoting a flow no socket/connection here has */ \
	X(udp_short)		/* UDP shorter than its header */	\
	X(udp_len)		/* UDP length lies */			\
	X(udp_csum)		/* UDP checksum wrong */		\
	X(udp6_csum_zero)	/* UDP over IPv6 without a checksum (RFC 8200 8.1) */ \
	X(udp_no_port)		/* no socket bound to the port */	\
	X(tcp_short)		/* TCP shorter than its header */	\
	X(tcp_bad_doff)		/* data offset < 5 or past the segment */ \
	X(tcp_csum)		/* TCP checksum wrong */		\
	X(tcp_flags)		/* impossible flags (SYN+FIN, SYN+RST, none) */ \
	X(tcp_no_port)		/* no connection or listener */		\
	X(tcp_paws)		/* RFC 7323 5: timestamp older than TS.Recent */ \
	X(tcp_not_acceptable)	/* outside the receive window (ACKed) */ \
	X(tcp_rst_ignored)	/* RST not acceptable / challenged */	\
	X(tcp_syn_challenged)	/* SYN in a synchronized state (RFC 5961 4) */ \
	X(tcp_ack_range)	/* ACK outside RFC 5961 5.2 range / unacceptable */ \
	X(tcp_no_ack)		/* no ACK bit in a synchronized state */ \
	X(tcp_listen_drop)	/* listener: not a SYN, or no memory for the connection */ \
	X(tcp_accept_full)	/* listener's accept queue full: SYN or handshake ACK dropped */ \
	X(tcp_cookie_bad)	/* ACK to a listener with an invalid cookie */ \
	X(tcp_ooo_full)		/* out-of-order queue or buffer limit */ \
	X(tcp_rcvbuf)		/* data beyond the receive buffer */	\
	X(tcp_closed_state)	/* segment for a closing connection with no use */ \
	X(sock_rcvbuf)		/* socket receive queue full */		\
	X(no_frame)		/* no free buffer to build a packet */	\
	X(ip6_short)		/* IPv6 shorter than its header */	\
	X(ip6_len)		/* IPv6 version or payload/extension lengths wrong */ \
	X(ip6_not_ours)		/* IPv6 to an address that is not a dedicated one */ \
	X(ip6_ext_chain)	/* over 8 extension headers, or hop-by-hop not first */ \
	X(ip6_frag_chain)	/* IPv6 first fragment without the whole header chain (RFC 7112) */ \
	X(nd_invalid)		/* NS/NA failing RFC 4861 7.1 validation */ \
	X(nd_unresolved)	/* IPv6 packet whose neighbour never answered */ \
	X(nd_queue_full)	/* IPv6 packet not parked: queue or pending limit */ \
	X(ip6_csum)		/* ICMPv6/UDP/TCP over IPv6: checksum wrong or header short */ \
	X(icmp6_type)		/* ICMPv6 other than an echo request from a unicast source */ \
	X(ip6_unknown_nexthdr)	/* unrecognized next header (parameter problem sent) */ \
	X(icmp6_ptb_invalid)	/* Packet Too Big not about a packet we could have sent (RFC 8201 5.2) */ \
	X(icmp6_ptb_not_lower)	/* Packet Too Big not lowering the path MTU estimate (RFC 8201 4) */ \
	X(handoff_drop)		/* handoff ring full / frame too big / no frame */

#define SKIFF_DROP_ENUM(name) SKIFF_DROP_##name,
enum skiff_drop {
	SKIFF_DROPS(SKIFF_DROP_ENUM)
	SKIFF_DROP_MAX
};

struct skiff_drop_stats {
	SKIFF_DROPS(SKIFF_FIELD)
};

struct skiff_ustats {
	SKIFF_USTATS_DEV(SKIFF_FIELD)
	SKIFF_USTATS_LINK(SKIFF_FIELD)
	SKIFF_USTATS_NET(SKIFF_FIELD)
	SKIFF_USTATS_TRANSPORT(SKIFF_FIELD)
	SKIFF_USTATS_APPS(SKIFF_FIELD)
	struct skiff_drop_stats drop;
};

#endif /* SKIFF_SKIFF_H */
