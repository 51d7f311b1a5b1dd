// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What one burst costs: the userspace stack alone, over the fake driver, on
 * one core.  Each round injects a burst of UDP datagrams to the echo
 * service, runs stack_poll() (Ethernet -> IPv4 -> UDP -> socket -> echo
 * service -> UDP -> IPv4 -> neighbour -> Ethernet -> xmit) and collects the
 * replies, as the AF_XDP driver would hand them to the TX ring.  No kernel,
 * no rings: this is the stack's own share of the per-packet cost.
 *
 *   build/bench/bench_stack [rounds] [payload]      (make bench runs it)
 *
 * Prints ns per packet and per 64-packet burst, median of 5 runs.  Run it
 * under `valgrind --tool=callgrind` for instruction counts that do not
 * depend on the machine's load.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps/services.h"
#include "core/clock.h"
#include "core/csum.h"
#include "harness.h"

#define BURST 64

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Ethernet + IPv4 + UDP (checksummed) from the peer to our echo port. */
static size_t udp_frame(uint8_t *buf, size_t cap, uint16_t sport, size_t plen)
{
	uint8_t udp[2048];
	uint16_t v;
	uint32_t sum;

	memset(udp, 0, sizeof(udp));
	v = htons(sport);
	memcpy(udp, &v, 2);
	v = htons(7);
	memcpy(udp + 2, &v, 2);
	v = htons((uint16_t)(8 + plen));
	memcpy(udp + 4, &v, 2);
	for (size_t i = 0; i < plen; i++)
		udp[8 + i] = (uint8_t)i;
	sum = csum_partial(udp, 8 + plen, 0);
	v = csum_tcpudp_magic(htonl(0x0a000002), htonl(0x0a000001), (uint32_t)(8 + plen),
			      IPPROTO_UDP, sum);
	memcpy(udp + 6, &v, 2);
	return harness_ip_frame(buf, cap, htonl(0x0a000002), htonl(0x0a000001), IPPROTO_UDP, 1,
				0x4000, udp, 8 + plen);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 20000;
	size_t plen = argc > 2 ? (size_t)atol(argv[2]) : 64;
	static struct harness h;
	struct service *svc;
	uint8_t frame[2048];
	size_t flen;
	double runs[5];
	long replies = 0;

	if (rounds <= 0 || plen == 0 || plen > 1472) {
		fprintf(stderr, "usage: bench_stack [rounds > 0] [payload 1..1472]\n");
		return 2;
	}
	if (harness_init(&h, 1) || echo_service_start(&h.st, SOCK_DGRAM, 7, &svc)) {
		fprintf(stderr, "bench_stack: cannot set up the stack\n");
		return 1;
	}
	harness_add_neigh(&h, htonl(0x0a000002), H_PEER_MAC);
	flen = udp_frame(frame, sizeof(frame), 40000, plen);

	for (int r = 0; r < 5; r++) {
		double t0 = now_s();

		for (long i = 0; i < rounds; i++) {
			struct pkb *pkb;

			for (int b = 0; b < BURST; b++)
				fakedev_inject(&h.fd, frame, flen);
			stack_poll(&h.st);
			while ((pkb = fakedev_pop_tx(&h.fd))) {
				replies++;
				pkb_free(pkb);
			}
		}
		runs[r] = (now_s() - t0) / ((double)rounds * BURST) * 1e9;
	}
	qsort(runs, 5, sizeof(runs[0]), cmp_double);
	if (replies != 5 * rounds * BURST) {
		fprintf(stderr, "bench_stack: %ld replies for %ld requests\n", replies,
			5 * rounds * BURST);
		return 1;
	}
	printf("bench_stack: UDP echo, %zu-byte payload, bursts of %d: "
	       "%.1f ns/packet (median of 5; min %.1f, max %.1f), %.2f us/burst, "
	       "%.2f Mpps on one core (stack only, includes building the test frames)\n",
	       plen, BURST, runs[2], runs[0], runs[4], runs[2] * BURST / 1000, 1000 / runs[2]);
	service_stop(svc);
	harness_fini(&h);
	return 0;
}
