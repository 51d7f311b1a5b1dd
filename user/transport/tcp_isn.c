// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Initial sequence numbers (RFC 6528) and SYN cookies (RFC 4987), both
 * keyed with SipHash-2-4 under a per-process secret.
 *
 * ISN = M + F(4-tuple, secret): M ticks every 4 µs, F is the low 32 bits of
 * SipHash over the 4-tuple, so the sequence spaces of successive
 * incarnations of one 4-tuple move forward with time while an off-path
 * attacker cannot guess another connection's ISN.
 *
 * SYN cookie (the ISN of a SYN-ACK sent without keeping state), laid out
 * as Linux does:
 *
 *   cookie = H1(4-tuple) + peer_isn + (count << 24 | (H2 & 0xfffffc) | mss_index)
 *
 * count is a 64-second time counter (8 bits), mss_index a 2-bit index into
 * the MSS table and H2 a SipHash of the 4-tuple, peer ISN, count and
 * index: 22 bits of it authenticate the cookie, so a blind guess succeeds
 * with probability 2^-22.  H1 hides the counter so cookies look like
 * ordinary ISNs.  A cookie is accepted with the current or the previous
 * counter value: valid for at least 64 s and at most 128 s.  When the peer
 * offered timestamps, window scale and SACK-permitted travel in the low 6
 * bits of our TSval and come back in its TSecr.
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "transport/tcp_isn.h"

/* ---- SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF") ---- */

static inline uint64_t rotl64(uint64_t x, unsigned int b)
{
	return (x << b) | (x >> (64 - b));
}

/* One load (and a byte swap on a big-endian host), not eight. */
static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

struct sip_state {
	uint64_t v0, v1, v2, v3;
};

static inline void sip_round(struct sip_state *s)
{
	s->v0 += s->v1;
	s->v1 = rotl64(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl64(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl64(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl64(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl64(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl64(s->v2, 32);
}

/* One message word: c = 2 rounds. */
static inline void sip_compress(struct sip_state *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

uint64_t siphash24(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *in = data;
	uint64_t k0 = load_le64(key), k1 = load_le64(key + 8), last;
	struct sip_state s = {
		.v0 = k0 ^ 0x736f6d6570736575ULL,	/* "somepseu" */
		.v1 = k1 ^ 0x646f72616e646f6dULL,	/* "dorandom" */
		.v2 = k0 ^ 0x6c7967656e657261ULL,	/* "lygenera" */
		.v3 = k1 ^ 0x7465646279746573ULL,	/* "tedbytes" */
	};
	size_t i, tail = len & 7;

	for (i = 0; i + 8 <= len; i += 8)
		sip_compress(&s, load_le64(in + i));
	/* Last word: the remaining bytes, little endian, length mod 256 on top. */
	if (tail) {
		uint8_t b[8] = { 0 };

		memcpy(b, in + i, tail);
		last = load_le64(b);
	} else {
		last = 0;
	}
	last |= (uint64_t)(len & 0xff) << 56;
	sip_compress(&s, last);
	/* Finalization: d = 4 rounds. */
	s.v2 ^= 0xff;
	sip_round(&s);
	sip_round(&s);
	sip_round(&s);
	sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

/* ---- the secret ---- */

static struct tcp_secret tcp_secret;
static pthread_once_t tcp_secret_once = PTHREAD_ONCE_INIT;

static void tcp_secret_init(void)
{
	size_t got = 0;

	while (got < sizeof(tcp_secret.key)) {
		ssize_t n = getrandom(tcp_secret.key + got, sizeof(tcp_secret.key) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			abort();	/* no entropy source: ISNs would be guessable */
		}
		got += (size_t)n;
	}
}

const struct tcp_secret *tcp_secret_global(void)
{
	pthread_once(&tcp_secret_once, tcp_secret_init);
	return &tcp_secret;
}

void tcp_secret_set(const uint8_t key[16])
{
	pthread_once(&tcp_secret_once, tcp_secret_init);
	memcpy(tcp_secret.key, key, sizeof(tcp_secret.key));
}

/* ---- ISN (RFC 6528) ---- */

/* Hash input: the 4-tuple and what a use adds to it.  Packed by hand. */
struct tcp_hash_in {
	uint8_t b[56];
	size_t len;
};

static void hin_put32(struct tcp_hash_in *h, uint32_t v)
{
	memcpy(h->b + h->len, &v, 4);
	h->len += 4;
}

static void hin_tuple(struct tcp_hash_in *h, const union inet_addr *saddr,
		 const union inet_addr *daddr, uint16_t sport,
		      uint16_t dport)
{
	h->len = 0;
	/* an IPv4 pair hashes as the IPv4 addresses alone, an IPv6 one whole */
	if (inet_addr_is4(saddr) && inet_addr_is4(daddr)) {
		hin_put32(h, saddr->w[3]);
		hin_put32(h, daddr->w[3]);
	} else {
		memcpy(h->b, saddr->b, 16);
		memcpy(h->b + 16, daddr->b, 16);
		h->len = 32;
	}
	hin_put32(h, (uint32_t)sport << 16 | dport);
}

uint32_t tcp_isn(const struct tcp_secret *s, const union inet_addr *saddr,
		 const union inet_addr *daddr, uint16_t sport,
		 uint16_t dport, uint64_t now_ns)
{
	struct tcp_hash_in h;

	/* RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
	 * M a timer ticking every 4 microseconds (RFC 9293 3.4.1). */
	hin_tuple(&h, saddr, daddr, sport, dport);
	return (uint32_t)(now_ns / 4000) + (uint32_t)siphash24(s->key, h.b, h.len);
}

uint32_t tcp_isn_ts(const struct tcp_secret *s, const union inet_addr *saddr,
		 const union inet_addr *daddr, uint16_t sport,
		    uint16_t dport, uint64_t now_ns, uint32_t *ts_off)
{
	struct tcp_hash_in h;
	uint64_t v;

	hin_tuple(&h, saddr, daddr, sport, dport);
	v = siphash24(s->key, h.b, h.len);
	*ts_off = (uint32_t)(v >> 32);
	return (uint32_t)(now_ns / 4000) + (uint32_t)v;
}

/* ---- SYN cookies (RFC 4987 3.6) ---- */

#define COOKIE_BITS		24
#define COOKIE_MASK		((1U << COOKIE_BITS) - 1)
#define COOKIE_IDX_BITS		2
#define COOKIE_IDX_MASK		((1U << COOKIE_IDX_BITS) - 1)
#define COOKIE_PERIOD_NS	(64ULL * 1000 * 1000 * 1000)	/* the time counter's unit */
#define COOKIE_MAX_AGE		1	/* counter steps a cookie may be old */

/* Linux's table: the common MSS values (IPv4 minimum, tunnels, Ethernet). */
static const uint16_t cookie_msstab[1U << COOKIE_IDX_BITS] = { 536, 1300, 1440, 1460 };

/* TSval low bits (Linux's layout): wscale (0xf: none), SACK, ECN (unused). */
#define TS_OPT_BITS		6
#define TS_OPT_MASK		((1U << TS_OPT_BITS) - 1)
#define TS_WSCALE_MASK		0xf
#define TS_WSCALE_NONE		0xf
#define TS_SACK			(1U << 4)
#define TS_ECN			(1U << 5)

static uint32_t cookie_count(uint64_t now_ns)
{
	return (uint32_t)(now_ns / COOKIE_PERIOD_NS);
}

static uint32_t cookie_h1(const struct tcp_secret *s, const union inet_addr *saddr,
		 const union inet_addr *daddr,
			  uint16_t sport, uint16_t dport)
{
	struct tcp_hash_in h;

	hin_tuple(&h, saddr, daddr, sport, dport);
	hin_put32(&h, 0x31);	/* domain separation from the ISN and H2 */
	return (uint32_t)siphash24(s->key, h.b, h.len);
}

static uint32_t cookie_h2(const struct tcp_secret *s, const union inet_addr *saddr,
		 const union inet_addr *daddr,
			  uint16_t sport, uint16_t dport, uint32_t peer_isn, uint32_t count,
			  uint32_t idx)
{
	struct tcp_hash_in h;

	hin_tuple(&h, saddr, daddr, sport, dport);
	hin_put32(&h, 0x32);
	hin_put32(&h, peer_isn);
	hin_put32(&h, (count & 0xff) << 8 | idx);
	return (uint32_t)siphash24(s->key, h.b, h.len);
}

static uint32_t cookie_low(uint32_t count, uint32_t h2, uint32_t idx)
{
	return (count << COOKIE_BITS) | (h2 & COOKIE_MASK & ~COOKIE_IDX_MASK) | idx;
}

uint32_t tcp_cookie_make(const struct tcp_secret *s, const union inet_addr *saddr,
		 const union inet_addr *daddr,
			 uint16_t sport, uint16_t dport, uint32_t peer_isn,
			 struct tcp_cookie_opts *opts, uint64_t now_ns)
{
	uint32_t count = cookie_count(now_ns), idx;

	/* The largest table MSS not above the peer's (RFC 4987 3.6: the MSS is
	 * quantized to what the cookie can encode); below 536, 536 as Linux. */
	for (idx = COOKIE_IDX_MASK; idx; idx--)
		if (opts->mss >= cookie_msstab[idx])
			break;
	opts->mss = cookie_msstab[idx];
	return cookie_h1(s, saddr, daddr, sport, dport) + peer_isn +
	       cookie_low(count, cookie_h2(s, saddr, daddr, sport, dport, peer_isn, count, idx),
			  idx);
}

uint32_t tcp_cookie_tsval(uint32_t tsval, const struct tcp_cookie_opts *opts)
{
	uint32_t o = TS_WSCALE_NONE, ts;

	if (opts->wscale_ok)	/* RFC 7323 2.3: shifts above 14 are taken as 14 */
		o = opts->wscale > 14 ? 14 : opts->wscale;

	if (opts->sack_ok)
		o |= TS_SACK;
	ts = (tsval & ~TS_OPT_MASK) | o;
	/* Never ahead of the clock: RFC 7323 5.4 wants TSval monotonic. */
	if ((int32_t)(ts - tsval) > 0)
		ts -= 1U << TS_OPT_BITS;
	return ts;
}

int tcp_cookie_check(const struct tcp_secret *s, const union inet_addr *saddr,
		 const union inet_addr *daddr,
		     uint16_t sport, uint16_t dport, uint32_t peer_isn, uint32_t cookie,
		     bool has_ts, uint32_t tsecr, struct tcp_cookie_opts *opts, uint64_t now_ns)
{
	uint32_t v = cookie - cookie_h1(s, saddr, daddr, sport, dport) - peer_isn;
	uint32_t now_count = cookie_count(now_ns);
	uint32_t count, age, idx;

	/* RFC 4987 3.6: the counter must be recent ... */
	age = (now_count - (v >> COOKIE_BITS)) & 0xff;
	if (age > COOKIE_MAX_AGE)
		return -EINVAL;
	count = now_count - age;
	/* ... and the hash must match the 4-tuple, peer ISN, counter and MSS. */
	idx = v & COOKIE_IDX_MASK;
	if ((v & COOKIE_MASK) !=
	    (cookie_low(count, cookie_h2(s, saddr, daddr, sport, dport, peer_isn, count, idx),
			idx) & COOKIE_MASK))
		return -EINVAL;

	memset(opts, 0, sizeof(*opts));
	opts->mss = cookie_msstab[idx];
	if (has_ts) {
		uint32_t o = tsecr & TS_OPT_MASK, ws = o & TS_WSCALE_MASK;

		if (o & TS_ECN)		/* never set by tcp_cookie_tsval */
			return -EINVAL;
		if (ws != TS_WSCALE_NONE) {
			opts->wscale_ok = true;
			opts->wscale = (uint8_t)ws;
		}
		opts->sack_ok = !!(o & TS_SACK);
		opts->ts_ok = true;
	}
	return 0;
}
