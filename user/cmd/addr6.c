// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * IPv6 addresses of skiffd: see addr6.h.  A dedicated address needs its
 * solicited-node group's MAC (33:33:ff:XX:XX:XX) accepted by the NIC, or a
 * neighbour resolving it never reaches XDP; veth accepts every frame, a
 * real NIC filters.  The kernel does the same for its own addresses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <skiff/proto/eth.h>
#include <skiff/proto/icmpv6.h>
#include <skiff/proto/ipv6.h>

#include "cmd/addr6.h"
#include "cmd/netif.h"

/* The frames DAD sends and reads: Ethernet, IPv6, an NS or NA, and (an
 * NA only) the target link-layer address option. */
struct nd_frame {
	struct eth_hdr eth;
	struct ip6_hdr ip6;
	struct nd_msg nd;
	struct nd_opt_lladdr opt;
} __attribute__((packed, aligned(2)));

#define DAD_FRAME offsetof(struct nd_frame, opt)	/* an NS without options */

void addr6_solicited_mac(const struct in6_addr *a, uint8_t mac[6])
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	mac[2] = 0xff;
	memcpy(mac + 3, a->s6_addr + 13, 3);
}

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	return sum;
}

/* Fill in the IPv6 header of f (from src, NULL: ::, to dst) and the ICMPv6
 * checksum of its plen bytes of ND message. */
static void nd_frame_finish(struct nd_frame *f, const uint8_t mac[6], const uint8_t *src,
			    const uint8_t dst[16], uint16_t plen)
{
	uint32_t sum;

	memcpy(f->eth.h_source, mac, ETH_ALEN);
	put_be16(&f->eth.h_proto, ETH_P_IPV6);
	put_be32(&f->ip6.vtc_flow, 6u << 28);
	put_be16(&f->ip6.plen, plen);
	f->ip6.nexthdr = SKIFF_IPPROTO_ICMPV6;
	f->ip6.hop_limit = SKIFF_ND_HOP_LIMIT;
	if (src)
		memcpy(f->ip6.saddr, src, 16);
	memcpy(f->ip6.daddr, dst, 16);
	sum = sum16(f->ip6.saddr, 16, plen + SKIFF_IPPROTO_ICMPV6);
	sum = sum16(f->ip6.daddr, 16, sum);
	sum = sum16((const uint8_t *)&f->nd, plen, sum);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put_be16(&f->nd.hdr.checksum, (uint16_t)~sum);
}

/* The probe: from ::, to the solicited-node group of a, no option (RFC 4862 5.4.2). */
static void dad_probe(struct nd_frame *f, const uint8_t mac[6], const struct in6_addr *a)
{
	uint8_t group[16] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };

	memset(f, 0, sizeof(*f));
	addr6_solicited_mac(a, f->eth.h_dest);
	memcpy(group + 13, a->s6_addr + 13, 3);
	f->nd.hdr.type = SKIFF_ND_NEIGHBOR_SOLICIT;
	memcpy(f->nd.target, a, 16);
	nd_frame_finish(f, mac, NULL, group, sizeof(struct nd_msg));
}

/* RFC 4861 7.2.6: an unsolicited NA for a (O set, our MAC), to all-nodes. */
static int na_announce(int fd, struct sockaddr_ll *sll, const uint8_t mac[6],
		       const struct in6_addr *a)
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 0x01 };
	struct nd_frame f;

	memset(&f, 0, sizeof(f));
	f.eth.h_dest[0] = 0x33;
	f.eth.h_dest[1] = 0x33;
	f.eth.h_dest[5] = 1;
	f.nd.hdr.type = SKIFF_ND_NEIGHBOR_ADVERT;
	put_be32(&f.nd.hdr.data, SKIFF_ND_NA_OVERRIDE);
	memcpy(f.nd.target, a, 16);
	f.opt.type = SKIFF_ND_OPT_TARGET_LLADDR;
	f.opt.len = 1;
	memcpy(f.opt.mac, mac, ETH_ALEN);
	nd_frame_finish(&f, mac, a->s6_addr, all_nodes,
			sizeof(struct nd_msg) + sizeof(struct nd_opt_lladdr));
	memcpy(sll->sll_addr, f.eth.h_dest, ETH_ALEN);
	return sendto(fd, &f, sizeof(f), 0, (struct sockaddr *)sll, sizeof(*sll)) < 0 ? -errno : 0;
}

/* Does a received frame say someone else has (or wants) a? */
static bool dad_conflict(const uint8_t *buf, size_t n, const struct in6_addr *a)
{
	static const uint8_t any[16];
	const struct nd_frame *f = (const struct nd_frame *)buf;

	if (n < DAD_FRAME || get_be16(&f->eth.h_proto) != ETH_P_IPV6 ||
	    f->ip6.nexthdr != SKIFF_IPPROTO_ICMPV6 || memcmp(f->nd.target, a, 16))
		return false;
	/* RFC 4862 5.4.4: an NA for it; 5.4.3: another node's probe for it */
	return f->nd.hdr.type == SKIFF_ND_NEIGHBOR_ADVERT ||
	       (f->nd.hdr.type == SKIFF_ND_NEIGHBOR_SOLICIT && !memcmp(f->ip6.saddr, any, 16));
}

int addr6_dad(const char *ifname, const uint8_t mac[6], const struct in6_addr *a, int n_addrs,
	      int timeout_ms, int *which, uint8_t who[6])
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IPV6) };
	struct sockaddr_ll to;	/* where we send; sll gets each received frame's */
	struct nd_frame probe;
	uint8_t buf[2048];
	struct timespec t0, t;
	int fd, ret = 0, left, i;
	struct pollfd pfd;
	socklen_t slen;
	ssize_t n;

	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex)
		return -ENODEV;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_IPV6));
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		ret = -errno;
		goto out;
	}
	to = sll;
	to.sll_halen = 6;
	/* every probe first, then one wait: start-up takes one RetransTimer
	 * however many addresses there are */
	for (i = 0; i < n_addrs; i++) {
		dad_probe(&probe, mac, &a[i]);
		memcpy(to.sll_addr, probe.eth.h_dest, ETH_ALEN);
		if (sendto(fd, &probe, DAD_FRAME, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
			ret = -errno;
			goto out;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = timeout_ms - (int)((t.tv_sec - t0.tv_sec) * 1000 +
					  (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			break;
		slen = sizeof(sll);
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&sll, &slen);
		if (n <= 0 || sll.sll_pkttype == PACKET_OUTGOING)
			continue; /* our own probe, looped back to the socket */
		for (i = 0; i < n_addrs && !ret; i++) {
			if (dad_conflict(buf, (size_t)n, &a[i])) {
				memcpy(who, ((const struct eth_hdr *)buf)->h_source, ETH_ALEN);
				*which = i;
				ret = 1;
			}
		}
		if (ret)
			break;
	}
	/* the addresses are ours: tell the link (neighbours update their caches) */
	for (i = 0; i < n_addrs && !ret; i++)
		ret = na_announce(fd, &to, mac, &a[i]);
out:
	close(fd);
	return ret;
}

void addr6_link_local(const uint8_t mac[6], struct in6_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->s6_addr[0] = 0xfe;
	a->s6_addr[1] = 0x80;
	/* RFC 4291 2.5.1 and appendix A: the universal/local bit inverted,
	 * ff:fe between the OUI and the rest */
	a->s6_addr[8] = mac[0] ^ 0x02;
	a->s6_addr[9] = mac[1];
	a->s6_addr[10] = mac[2];
	a->s6_addr[11] = 0xff;
	a->s6_addr[12] = 0xfe;
	memcpy(a->s6_addr + 13, mac + 3, 3);
}

/* Is a the kernel's on cfg's interface (shared), or skiff's alone? 0/1 or -errno. */
static int addr6_classify(struct addr6_state *st, const struct skiffd_config *cfg, int i,
			  char *err, size_t errlen)
{
	int ret = netif_has_addr6(cfg->iface, &cfg->addrs6[i].addr);

	if (ret < 0) {
		snprintf(err, errlen, "cannot list the IPv6 addresses of %s: %s", cfg->iface,
			 strerror(-ret));
		return ret;
	}
	st->dedicated[i] = !ret;
	return 0;
}

int addr6_setup(struct addr6_state *st, struct skiffd_config *cfg, const uint8_t mac[6],
		char *err, size_t errlen)
{
	struct in6_addr probe[SKIFF_MAX_ADDRS6];
	char a[INET6_ADDRSTRLEN];
	uint8_t gmac[6], who[6];
	bool any_dedicated = false;
	int i, ret, n = 0, k = 0, idx[SKIFF_MAX_ADDRS6];

	memset(st, 0, sizeof(*st));
	for (i = 0; i < cfg->n_addrs6; i++) {
		ret = addr6_classify(st, cfg, i, err, errlen);
		if (ret)
			return ret;
		any_dedicated |= st->dedicated[i];
	}
	/*
	 * RFC 4862 5.3: a host with a dedicated IPv6 address has a link-local
	 * one too.  When the kernel already holds the same address on IF (it
	 * derives it from the same MAC), it stays the kernel's: shared, never
	 * answered by XDP, no DAD.
	 */
	if (any_dedicated && !cfg->no_link_local && cfg->n_addrs6 < SKIFF_MAX_ADDRS6) {
		i = cfg->n_addrs6;
		memset(&cfg->addrs6[i], 0, sizeof(cfg->addrs6[i]));
		addr6_link_local(mac, &cfg->addrs6[i].addr);
		cfg->addrs6[i].prefix_len = 64;
		cfg->addrs6[i].link_local = true;
		cfg->n_addrs6++;
		ret = addr6_classify(st, cfg, i, err, errlen);
		if (ret)
			return ret;
	}
	for (i = 0; i < cfg->n_addrs6; i++) {
		if (!st->dedicated[i])
			continue;
		inet_ntop(AF_INET6, &cfg->addrs6[i].addr, a, sizeof(a));
		addr6_solicited_mac(&cfg->addrs6[i].addr, gmac);
		ret = netif_mcast_mac(cfg->iface, gmac, true);
		if (ret) {
			snprintf(err, errlen,
				 "cannot accept the solicited-node multicast MAC of %s on %s: %s", a,
				 cfg->iface, strerror(-ret));
			return ret;
		}
		st->joined[i] = true;
		idx[n] = i;
		probe[n++] = cfg->addrs6[i].addr;
	}
	if (!n)
		return 0;
	ret = addr6_dad(cfg->iface, mac, probe, n, ADDR6_DAD_MS, &k, who);
	if (ret < 0) {
		snprintf(err, errlen, "duplicate address detection on %s: %s", cfg->iface,
			 strerror(-ret));
		return ret;
	}
	if (ret) {
		i = idx[k];
		inet_ntop(AF_INET6, &cfg->addrs6[i].addr, a, sizeof(a));
		snprintf(err, errlen,
			 "%s is already in use on %s by %02x:%02x:%02x:%02x:%02x:%02x "
			 "(duplicate address detection, RFC 4862): not taking it%s", a, cfg->iface,
			 who[0], who[1], who[2], who[3], who[4], who[5],
			 cfg->addrs6[i].link_local ? " (skiffd's link-local address, from IF's MAC: "
						     "--no-link-local goes without it)"
						   : "");
		return -EADDRINUSE;
	}
	return 0;
}

void addr6_teardown(struct addr6_state *st, const struct skiffd_config *cfg)
{
	uint8_t mac[6];
	int i;

	for (i = 0; i < cfg->n_addrs6; i++) {
		if (!st->joined[i])
			continue;
		addr6_solicited_mac(&cfg->addrs6[i].addr, mac);
		(void)netif_mcast_mac(cfg->iface, mac, false);
		st->joined[i] = false;
	}
}
