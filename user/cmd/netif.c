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
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
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
