/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Every map of the XDP program, declared in .maps with BTF so libbpf
 * creates them and `bpftool map dump` prints named fields.  The loader
 * (user/dev/loader.c) pins each one as /sys/fs/bpf/skiff/<ifname>/<name>:
 * the names are an interface users script against (<= 15 characters).
 * Keys and values are defined in include/skiff/skiff.h, shared with user/.
 */
#ifndef SKIFF_MAPS_BPF_H
#define SKIFF_MAPS_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <skiff/skiff.h>

/* config: our MAC, VLAN and on/off flag; the daemon mmaps it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct skiff_config);
} config SEC(".maps");

/* addrs: IPv4 addresses (network order) skiff serves, dedicated or shared. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SKIFF_MAX_ADDRS);
	__type(key, __u32);
	__type(value, struct skiff_addr);
} addrs SEC(".maps");

/* addrs6: IPv6 addresses skiff serves, dedicated or shared. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SKIFF_MAX_ADDRS6);
	__type(key, struct skiff_in6);
	__type(value, struct skiff_addr);
} addrs6 SEC(".maps");

/* ports: (address or 0, port, protocol) owned by skiff on shared addresses. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SKIFF_MAX_PORTS);
	__type(key, struct skiff_port_key);
	__type(value, struct skiff_port_val);
} ports SEC(".maps");

/* ports6: (IPv6 address or ::, port, protocol) owned by skiff on shared IPv6 addresses. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SKIFF_MAX_PORTS);
	__type(key, struct skiff_port6_key);
	__type(value, struct skiff_port_val);
} ports6 SEC(".maps");

/* neigh: IPv4 -> MAC learned from ARP here, read and written by the daemon. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SKIFF_MAX_NEIGH);
	__type(key, __u32);
	__type(value, struct skiff_neigh);
} neigh SEC(".maps");

/* neigh6: IPv6 -> MAC learned from Neighbor Solicitations answered here. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SKIFF_MAX_NEIGH);
	__type(key, struct skiff_in6);
	__type(value, struct skiff_neigh);
} neigh6 SEC(".maps");

/* frags: owner of each fragmented datagram whose first fragment was seen. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SKIFF_MAX_FRAGS);
	__type(key, struct skiff_frag_key);
	__type(value, struct skiff_frag_val);
} frags SEC(".maps");

/* frags6: owner of each fragmented IPv6 datagram (shared address) whose first fragment was seen. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SKIFF_MAX_FRAGS);
	__type(key, struct skiff_frag6_key);
	__type(value, struct skiff_frag_val);
} frags6 SEC(".maps");

/* xsks: AF_XDP socket of each RX queue (filled by the daemon). */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, SKIFF_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

/* stats: per-CPU XDP counters, one struct skiff_xdp_stats per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct skiff_xdp_stats);
} stats SEC(".maps");

/*
 * ustats: daemon counters, one row per queue, mmapped by skiffd.  The
 * program never touches it; it is declared here so its BTF (named fields)
 * is in the object and bpftool dumps the whole stack in one place.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SKIFF_MAX_QUEUES);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct skiff_ustats);
} ustats SEC(".maps");

#endif /* SKIFF_MAPS_BPF_H */
