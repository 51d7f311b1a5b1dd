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

#define ADDR6_DAD_MS	1000	/* RFC 4861 10: RetransTimer, one probe (DupAddrDetectTransmits 1) */

/*
 * Classify every IPv6 address of cfg, add skiffd's link-local address
 * (addr6_link_local() of mac, fe80::/64, appended to cfg->addrs6 with
 * link_local set) when one of them is dedicated and cfg->no_link_local is
 * not set, join the groups of the dedicated ones and run Duplicate Address
 * Detection on them (RFC 4862 5.4: one Neighbor Solicitation from ::,
 * ADDR6_DAD_MS for an answer) from our MAC.  0, or -errno with a one-line
 * reason in err (-EADDRINUSE: another host has it).
 */
int addr6_setup(struct addr6_state *st, struct skiffd_config *cfg, const uint8_t mac[6],
		char *err, size_t errlen);

/* RFC 4862 5.3 / RFC 4291 appendix A: fe80:: + the modified EUI-64 of mac. */
void addr6_link_local(const uint8_t mac[6], struct in6_addr *a);

/*
 * One DAD probe for each of the n_addrs addresses a[] on ifname from mac,
 * then one wait of timeout_ms for every answer: 1 (another host answered
 * for a[*which], or is probing for it too: its MAC in who), 0 (nobody;
 * then an unsolicited NA announces each address, RFC 4861 7.2.6), -errno.
 */
int addr6_dad(const char *ifname, const uint8_t mac[6], const struct in6_addr *a, int n_addrs,
	      int timeout_ms, int *which, uint8_t who[6]);

/* Leave what addr6_setup joined (the XDP maps go with the program). */
void addr6_teardown(struct addr6_state *st, const struct skiffd_config *cfg);

/* RFC 2464 7 / RFC 4291 2.7.1: 33:33:ff + the address's last 24 bits. */
void addr6_solicited_mac(const struct in6_addr *a, uint8_t mac[6]);

#endif
