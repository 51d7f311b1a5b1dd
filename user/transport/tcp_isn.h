/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Initial sequence numbers (RFC 6528) and SYN cookies (RFC 4987), both
 * keyed with SipHash-2-4 over the connection 4-tuple.  Addresses and ports
 * are network order; the secret is per process (tcp_secret_global()),
 * random at start-up, settable by tests.
 */
#ifndef SKIFF_TCP_ISN_H
#define SKIFF_TCP_ISN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/inaddr.h"

struct tcp_secret {
	uint8_t key[16];
};

/* SipHash-2-4 (Aumasson & Bernstein) of len bytes under a 128-bit key. */
uint64_t siphash24(const uint8_t key[16], const void *data, size_t len);

/* The process-wide secret: random on first use (getrandom). */
const struct tcp_secret *tcp_secret_global(void);
/* Tests: fix the secret. */
void tcp_secret_set(const uint8_t key[16]);

/* RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, secret),
 * M a 4 µs timer (from now_ns). */
uint32_t tcp_isn(const struct tcp_secret *s, const union inet_addr *saddr,
		 const union inet_addr *daddr, uint16_t sport,
		 uint16_t dport, uint64_t now_ns);
/* The same ISN, and in *ts_off the connection's timestamp offset (RFC 7323
 * 5.4: a random offset per connection, here fixed per 4-tuple): the other
 * 32 bits of the one SipHash, so a connection's set-up hashes once. */
uint32_t tcp_isn_ts(const struct tcp_secret *s, const union inet_addr *saddr,
		 const union inet_addr *daddr, uint16_t sport,
		    uint16_t dport, uint64_t now_ns, uint32_t *ts_off);

/* Options a SYN negotiated, as a SYN cookie can carry them. */
struct tcp_cookie_opts {
	uint16_t mss;		/* one of the table's values */
	uint8_t wscale;		/* peer's shift (0..14) */
	bool wscale_ok;
	bool sack_ok;
	bool ts_ok;
};

/*
 * RFC 4987 SYN cookie: the ISN of our SYN-ACK encodes a keyed hash, a
 * 64-second time counter and an MSS table index (the MSS is rounded down to
 * a table value; opts->mss is updated).  When the peer offered timestamps,
 * the other options travel in the low bits of our TSval (Linux's scheme):
 * tcp_cookie_tsval() gives that TSval.  saddr/sport are ours.
 */
uint32_t tcp_cookie_make(const struct tcp_secret *s, const union inet_addr *saddr,
		 const union inet_addr *daddr,
			 uint16_t sport, uint16_t dport, uint32_t peer_isn,
			 struct tcp_cookie_opts *opts, uint64_t now_ns);
uint32_t tcp_cookie_tsval(uint32_t tsval, const struct tcp_cookie_opts *opts);
/*
 * Check the ACK of a cookie: cookie = SEG.ACK - 1, peer_isn = SEG.SEQ - 1.
 * Valid for up to 2 minutes.  0 and opts (mss; and from tsecr when the ACK
 * carries a timestamp: wscale, sack, ts), or -EINVAL.
 */
int tcp_cookie_check(const struct tcp_secret *s, const union inet_addr *saddr,
		 const union inet_addr *daddr,
		     uint16_t sport, uint16_t dport, uint32_t peer_isn, uint32_t cookie,
		     bool has_ts, uint32_t tsecr, struct tcp_cookie_opts *opts, uint64_t now_ns);

#endif /* SKIFF_TCP_ISN_H */
