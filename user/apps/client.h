/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The built-in client, for active-open tests and benchmarks (`skiffd
 * --fetch URL`, `skiffd --send HOST:PORT:BYTES`): one TCP connection over
 * the socket API that either fetches an http:// URL or sends BYTES of a
 * fixed pattern, and reports bytes, time and a SHA-256 of the body received
 * (fetch) or of what was sent (send).
 */
#ifndef SKIFF_CLIENT_H
#define SKIFF_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "apps/sha256.h"
#include "core/inaddr.h"
#include "core/stack.h"

#define CLIENT_MAX_PATH	1024

/* Byte i of what --send sends: i mod 251 (a prime, so no power-of-two
 * period hides a misplaced segment).  python3 -c "bytes(i % 251 ...)". */
static inline uint8_t client_pattern_byte(uint64_t i)
{
	return (uint8_t)(i % 251);
}

struct client_result {
	int err;		/* 0 or -errno (-EPROTO: not an HTTP response we understand) */
	int http_status;	/* fetch: the response status */
	uint64_t bytes;		/* fetch: body bytes received; send: bytes sent */
	uint64_t ns;		/* from connect() to the end */
	char sha256[SHA256_HEX_LEN];	/* of those bytes */
	uint64_t rx_bytes;	/* send: bytes the peer sent back (an echo service) */
	char rx_sha256[SHA256_HEX_LEN];
};

typedef void (*client_done_fn)(const struct client_result *res, void *arg);

struct client;

/* "http://A.B.C.D[:PORT][/PATH]" or "http://[X:Y::Z][:PORT][/PATH]" (RFC
 * 3986 3.2.2): the address (IPv4 mapped, core/inaddr.h), port (host order,
 * default 80) and path ("/" when none).  0 or -EINVAL. */
int client_parse_url(const char *url, union inet_addr *addr, uint16_t *port, char *path,
		     size_t pathlen);

/* Start a fetch / a send; done(res, arg) is called once, from the stack's
 * event dispatch, when it ends.  The client stays allocated until
 * client_free() (which may be called from done). */
int client_fetch_start(struct stack *st, const char *url, client_done_fn done, void *arg,
		       struct client **out);
/* addr IPv4 mapped or IPv6 (core/inaddr.h), port host order. */
int client_send_start(struct stack *st, const union inet_addr *addr, uint16_t port, uint64_t bytes,
		      client_done_fn done, void *arg, struct client **out);
void client_free(struct client *c);

/* One line: "fetch: <bytes> bytes in <s> s, sha256 <hex>" / "send: ..." or
 * "<kind>: failed: <reason>". */
void client_format(const struct client_result *res, int is_fetch, char *buf, size_t len);

#endif /* SKIFF_CLIENT_H */
