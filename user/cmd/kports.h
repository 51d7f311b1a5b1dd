/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel sockets already bound to a port (NETLINK_SOCK_DIAG), so that skiffd
 * never takes a port of an address it shares with the kernel from under a
 * kernel program without saying so (docs/security.md).
 */
#ifndef SKIFF_CMD_KPORTS_H
#define SKIFF_CMD_KPORTS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Is a kernel socket of this network namespace receiving proto
 * (IPPROTO_TCP: listeners; IPPROTO_UDP: any bound socket) on port (host
 * order) of IPv4 address addr (network order; 0: any address)?  IPv6
 * wildcard sockets count unless IPV6_V6ONLY.  Returns 1 and writes
 * "comm (pid N)" of a process holding it to who, 0 when none does, or a
 * negative errno when the kernel could not be asked.
 */
int kport_find(int proto, uint32_t addr, uint16_t port, char *who, size_t wholen);

#endif
