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

/* Memory one idle TCP connection of a service costs, all layers (TCP's
 * tcp_sock of ~1.2 KiB, the socket, struct svc_conn, malloc's overhead),
 * rounded up. */
#define SVC_CONN_MEM		2048
/* The connection limit of a service started without service_set_max_conns(). */
#define SVC_MAX_CONNS_DEFAULT	4096

/* At most max TCP connections per service on this worker (0 means 1); at
 * the limit the service stops accepting, connections wait in the listen
 * backlog and then their SYNs are dropped (ustats svc_conn_limited).  No-op
 * for a datagram service. */
void service_set_max_conns(struct service *svc, uint32_t max);

/* The limit that spends at most half of mem_bytes on the connections of
 * one service across n_workers workers (SVC_CONN_MEM each), within [1,
 * SKIFF_MAX_CONNS]: skiffd's default for --max-conns. */
uint32_t service_max_conns_for_memory(uint64_t mem_bytes, uint32_t n_workers);

#endif /* SKIFF_SERVICES_H */
