/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Built-in services, written against the socket API (user/sock/socket.h)
 * only: echo (RFC 862) and discard (RFC 863), over UDP and TCP.
 */
#ifndef SKIFF_SERVICES_H
#define SKIFF_SERVICES_H

#include <stdint.h>

#include "core/stack.h"

struct service;

/* Start echo/discard on port (host order) on every local address.
 * type: SOCK_DGRAM or SOCK_STREAM (-EPROTONOSUPPORT while no transport
 * for it is registered).  0 or -errno. */
int echo_service_start(struct stack *st, int type, uint16_t port, struct service **out);
int discard_service_start(struct stack *st, int type, uint16_t port, struct service **out);
void service_stop(struct service *svc);

#endif /* SKIFF_SERVICES_H */
