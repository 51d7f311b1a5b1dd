/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * skiffd's IPv6 addresses (--addr X:Y::Z/N): shared with the kernel (it has
 * the address on the interface) or dedicated, and for a dedicated one the
 * solicited-node multicast MAC joined on the interface so that a real NIC's
 * receive filter lets its Neighbor Solicitations in.  skiffd writes the
 * result into the XDP program's addrs6 map.
 */
#ifndef SKIFF_CMD_ADDR6_H
#define SKIFF_CMD_ADDR6_H

#include <stdbool.h>
#include <stddef.h>

#include "cmd/config.h"

struct addr6_state {
	bool dedicated[SKIFF_MAX_ADDRS6];
	bool joined[SKIFF_MAX_ADDRS6];	/* solicited-node MAC added: remove at exit */
};

/*
 * Classify every IPv6 address of cfg and join the groups of the dedicated
 * ones.  0, or -errno with a one-line reason in err.
 */
int addr6_setup(struct addr6_state *st, const struct skiffd_config *cfg, char *err,
		size_t errlen);

/* Leave what addr6_setup joined (the XDP maps go with the program). */
void addr6_teardown(struct addr6_state *st, const struct skiffd_config *cfg);

/* RFC 2464 7 / RFC 4291 2.7.1: 33:33:ff + the address's last 24 bits. */
void addr6_solicited_mac(const struct in6_addr *a, uint8_t mac[6]);

#endif
