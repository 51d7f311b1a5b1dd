// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * IPv6 addresses of skiffd: see addr6.h.  A dedicated address needs its
 * solicited-node group's MAC (33:33:ff:XX:XX:XX) accepted by the NIC, or a
 * neighbour resolving it never reaches XDP; veth accepts every frame, a
 * real NIC filters.  The kernel does the same for its own addresses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd/addr6.h"
#include "cmd/netif.h"

void addr6_solicited_mac(const struct in6_addr *a, uint8_t mac[6])
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	mac[2] = 0xff;
	memcpy(mac + 3, a->s6_addr + 13, 3);
}

int addr6_setup(struct addr6_state *st, const struct skiffd_config *cfg, char *err,
		size_t errlen)
{
	char a[INET6_ADDRSTRLEN];
	uint8_t mac[6];
	int i, ret;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < cfg->n_addrs6; i++) {
		inet_ntop(AF_INET6, &cfg->addrs6[i].addr, a, sizeof(a));
		ret = netif_has_addr6(cfg->iface, &cfg->addrs6[i].addr);
		if (ret < 0) {
			snprintf(err, errlen, "cannot list the IPv6 addresses of %s: %s", cfg->iface,
				 strerror(-ret));
			return ret;
		}
		st->dedicated[i] = !ret;
		if (!st->dedicated[i])
			continue;
		addr6_solicited_mac(&cfg->addrs6[i].addr, mac);
		ret = netif_mcast_mac(cfg->iface, mac, true);
		if (ret) {
			snprintf(err, errlen,
				 "cannot accept the solicited-node multicast MAC of %s on %s: %s", a,
				 cfg->iface, strerror(-ret));
			return ret;
		}
		st->joined[i] = true;
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
