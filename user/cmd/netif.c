// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Interface facts for skiffd through ioctls, getifaddrs and capget (see
 * netif.h for why never /sys).
 */
#include <errno.h>
#include <ifaddrs.h>
#include <linux/capability.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cmd/netif.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static int ifreq_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int fd, err = 0;

	if (strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	/* AF_UNIX: any socket reaches the interface ioctls, and the seccomp
	 * filter lets skiffd open no AF_INET socket (docs/security.md) */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
	if (ioctl(fd, req, ifr) < 0)
		err = -errno;
	close(fd);
	return err;
}

int netif_rx_queues(const char *ifname)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr;
	int err;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_data = (void *)&ch;
	err = ifreq_ioctl(ifname, SIOCETHTOOL, &ifr);
	if (err)
		return err;
	if (ch.combined_count + ch.rx_count == 0)
		return -EOPNOTSUPP;
	return (int)(ch.combined_count + ch.rx_count);
}

int netif_mtu(const char *ifname)
{
	struct ifreq ifr;
	int err;

	memset(&ifr, 0, sizeof(ifr));
	err = ifreq_ioctl(ifname, SIOCGIFMTU, &ifr);
	return err ? err : ifr.ifr_mtu;
}

int netif_has_addr(const char *ifname, uint32_t addr)
{
	struct ifaddrs *ifa, *p;
	int found = 0;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (p = ifa; p; p = p->ifa_next) {
		if (!p->ifa_addr || p->ifa_addr->sa_family != AF_INET || !p->ifa_name)
			continue;
		if (strcmp(p->ifa_name, ifname))
			continue;
		if (((struct sockaddr_in *)p->ifa_addr)->sin_addr.s_addr == addr)
			found = 1;
	}
	freeifaddrs(ifa);
	return found;
}

int netif_has_addr6(const char *ifname, const struct in6_addr *addr)
{
	struct ifaddrs *ifa, *p;
	int found = 0;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (p = ifa; p; p = p->ifa_next) {
		if (!p->ifa_addr || p->ifa_addr->sa_family != AF_INET6 || !p->ifa_name)
			continue;
		if (!strcmp(p->ifa_name, ifname) &&
		    !memcmp(&((struct sockaddr_in6 *)p->ifa_addr)->sin6_addr, addr, sizeof(*addr)))
			found = 1;
	}
	freeifaddrs(ifa);
	return found;
}

int netif_mcast_mac(const char *ifname, const uint8_t mac[6], bool add)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_hwaddr.sa_family = AF_UNSPEC;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	return ifreq_ioctl(ifname, add ? SIOCADDMULTI : SIOCDELMULTI, &ifr);
}

static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

int netif_check_privileges(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0) {
		snprintf(err, errlen, "cannot read this process's capabilities: %s",
			 strerror(errno));
		return -EPERM;
	}
	if (has_cap(data, CAP_NET_ADMIN) && (has_cap(data, CAP_BPF) || has_cap(data, CAP_SYS_ADMIN)))
		return 0;
	snprintf(err, errlen, "%s: run as root (or with CAP_NET_ADMIN and CAP_BPF) to attach XDP",
		 geteuid() ? "not root" : "missing CAP_NET_ADMIN or CAP_BPF");
	return -EPERM;
}

int netif_feature_index(const char *strings, uint32_t n, const char *name)
{
	size_t len = strlen(name);
	uint32_t i;

	if (len > ETH_GSTRING_LEN)
		return -ENOENT;
	for (i = 0; i < n; i++) {
		const char *s = strings + (size_t)i * ETH_GSTRING_LEN;

		if (!memcmp(s, name, len) && (len == ETH_GSTRING_LEN || s[len] == '\0'))
			return (int)i;
	}
	return -ENOENT;
}

static int ethtool_ioctl(const char *ifname, void *data)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_data = data;
	return ifreq_ioctl(ifname, SIOCETHTOOL, &ifr);
}

/* Number of netdev features this kernel names (ETHTOOL_GSSET_INFO). */
static int features_count(const char *ifname)
{
	/* the header and room for the one length its data[] holds */
	union {
		struct ethtool_sset_info hdr;
		uint8_t buf[sizeof(struct ethtool_sset_info) + sizeof(uint32_t)];
	} info;
	int err;

	memset(&info, 0, sizeof(info));
	info.hdr.cmd = ETHTOOL_GSSET_INFO;
	info.hdr.sset_mask = 1ULL << ETH_SS_FEATURES;
	err = ethtool_ioctl(ifname, &info);
	if (err)
		return err;
	if (!(info.hdr.sset_mask & (1ULL << ETH_SS_FEATURES)) || !info.hdr.data[0])
		return -EOPNOTSUPP;
	return info.hdr.data[0] > 4096 ? -EOVERFLOW : (int)info.hdr.data[0];
}

/* Bit of name among ifname's features, and how many there are. */
static int feature_bit(const char *ifname, const char *name, uint32_t *count)
{
	struct ethtool_gstrings *gs;
	int n, bit;

	n = features_count(ifname);
	if (n < 0)
		return n;
	gs = calloc(1, sizeof(*gs) + (size_t)n * ETH_GSTRING_LEN);
	if (!gs)
		return -ENOMEM;
	gs->cmd = ETHTOOL_GSTRINGS;
	gs->string_set = ETH_SS_FEATURES;
	gs->len = (uint32_t)n;
	bit = ethtool_ioctl(ifname, gs);
	if (!bit)
		bit = netif_feature_index((const char *)gs->data,
					  gs->len < (uint32_t)n ? gs->len : (uint32_t)n, name);
	free(gs);
	*count = (uint32_t)n;
	return bit;
}

#define FEAT_BLOCKS(n) (((n) + 31) / 32)

int netif_get_feature(const char *ifname, const char *name, bool *changeable)
{
	struct ethtool_gfeatures *gf;
	uint32_t count, word, mask;
	int bit, err;

	bit = feature_bit(ifname, name, &count);
	if (bit < 0)
		return bit;
	gf = calloc(1, sizeof(*gf) + FEAT_BLOCKS(count) * sizeof(gf->features[0]));
	if (!gf)
		return -ENOMEM;
	gf->cmd = ETHTOOL_GFEATURES;
	gf->size = FEAT_BLOCKS(count);
	err = ethtool_ioctl(ifname, gf);
	if (!err) {
		word = (uint32_t)bit / 32;
		mask = 1u << (bit % 32);
		if (changeable)
			*changeable = gf->features[word].available & mask &&
				      !(gf->features[word].never_changed & mask);
		err = gf->features[word].active & mask ? 1 : 0;
	}
	free(gf);
	return err;
}

int netif_set_feature(const char *ifname, const char *name, bool on)
{
	struct ethtool_sfeatures *sf;
	uint32_t count, word, mask;
	bool changeable = false;
	int bit, err;

	err = netif_get_feature(ifname, name, &changeable);
	if (err < 0)
		return err;
	if (err == on)
		return 0;
	if (!changeable)
		return -EOPNOTSUPP;
	bit = feature_bit(ifname, name, &count);
	if (bit < 0)
		return bit;
	sf = calloc(1, sizeof(*sf) + FEAT_BLOCKS(count) * sizeof(sf->features[0]));
	if (!sf)
		return -ENOMEM;
	sf->cmd = ETHTOOL_SFEATURES;
	sf->size = FEAT_BLOCKS(count);
	word = (uint32_t)bit / 32;
	mask = 1u << (bit % 32);
	sf->features[word].valid = mask;
	sf->features[word].requested = on ? mask : 0;
	/* a positive ETHTOOL_F_* result is not an error: look at the outcome */
	err = ethtool_ioctl(ifname, sf);
	free(sf);
	if (err)
		return err;
	err = netif_get_feature(ifname, name, NULL);
	if (err < 0)
		return err;
	return err == on ? 0 : -EOPNOTSUPP;
}

int netif_driver(const char *ifname, char *buf, size_t len)
{
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	int err;

	err = ethtool_ioctl(ifname, &di);
	if (err)
		return err;
	snprintf(buf, len, "%.*s", (int)sizeof(di.driver), di.driver);
	return 0;
}
