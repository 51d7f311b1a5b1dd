/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What skiffd asks the kernel about the interface before it attaches:
 * existence, RX queue count, MTU, the kernel's own addresses on it, and
 * whether this process may attach XDP at all, and its offload features
 * (ETHTOOL_GFEATURES/SFEATURES).  Only ioctls, getifaddrs and
 * capget: never /sys/class/net, which under `nsenter --net` still shows the
 * network namespace /sys was mounted in, not ours.
 */
#ifndef SKIFF_NETIF_H
#define SKIFF_NETIF_H

#include <netinet/in.h>
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

/* The same for an IPv6 address: 1 if ifname has it, 0 if not, -errno. */
int netif_has_addr6(const char *ifname, const struct in6_addr *addr);

/*
 * Accept (add) or stop accepting frames to the multicast MAC mac on ifname
 * (SIOCADDMULTI / SIOCDELMULTI: what a NIC's receive filter lets in).
 * 0 or -errno.
 */
int netif_mcast_mac(const char *ifname, const uint8_t mac[6], bool add);

/* 0 if this process may attach XDP and create AF_XDP sockets
 * (CAP_NET_ADMIN and CAP_BPF or CAP_SYS_ADMIN); else -EPERM and a reason. */
int netif_check_privileges(char *err, size_t errlen);

/* The netdev feature that strips the 802.1Q tag into skb metadata on
 * receive: ethtool's "rx-vlan-offload" / `rxvlan`.  With it on, a NIC hands
 * XDP the VLAN's frames untagged and `--vlan` sees none of them. */
#define NETIF_FEAT_RX_VLAN "rx-vlan-hw-parse"

/* Index of name in the ETH_SS_FEATURES string set strings (n entries of
 * ETH_GSTRING_LEN bytes, not necessarily NUL-terminated): the feature's bit
 * in ETHTOOL_GFEATURES/SFEATURES.  >= 0, or -ENOENT. */
int netif_feature_index(const char *strings, uint32_t n, const char *name);

/* Feature name of ifname: 1 on, 0 off, -errno (-ENOENT: the kernel does not
 * know the name, -EOPNOTSUPP: the driver cannot do it).  *changeable (may be
 * NULL) says whether ETHTOOL_SFEATURES may change it. */
int netif_get_feature(const char *ifname, const char *name, bool *changeable);

/* Turn feature name of ifname on or off.  0 once the kernel reports it in
 * the wanted state, else -errno (-EOPNOTSUPP: fixed, or the driver refused). */
int netif_set_feature(const char *ifname, const char *name, bool on);

/* Driver name of ifname (ETHTOOL_GDRVINFO, e.g. "veth") into buf; 0 or -errno. */
int netif_driver(const char *ifname, char *buf, size_t len);

#endif /* SKIFF_NETIF_H */
