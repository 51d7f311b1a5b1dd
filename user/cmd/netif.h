/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What skiffd asks the kernel about the interface before it attaches:
 * existence, RX queue count, MTU, the kernel's own addresses on it, and
 * whether this process may attach XDP at all.  Only ioctls, getifaddrs and
 * capget: never /sys/class/net, which under `nsenter --net` still shows the
 * network namespace /sys was mounted in, not ours.
 */
#ifndef SKIFF_NETIF_H
#define SKIFF_NETIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RX queues of ifname from ETHTOOL_GCHANNELS (combined + rx; veth reports
 * its real RX queue count there).  > 0, or -errno (-EOPNOTSUPP when the
 * driver does not say). */
int netif_rx_queues(const char *ifname);

/* MTU of ifname (SIOCGIFMTU), or -errno. */
int netif_mtu(const char *ifname);

/* 1 if the kernel has IPv4 addr (network order) on ifname, 0 if not, -errno. */
int netif_has_addr(const char *ifname, uint32_t addr);

/* 0 if this process may attach XDP and create AF_XDP sockets
 * (CAP_NET_ADMIN and CAP_BPF or CAP_SYS_ADMIN); else -EPERM and a reason. */
int netif_check_privileges(char *err, size_t errlen);

#endif /* SKIFF_NETIF_H */
