// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * flood: the packet-rate benchmark of `make bench` (scripts/bench.sh, the
 * flood section).  Run in the peer namespace, it floods the dut with one
 * kind of request faster than any kernel socket could send them (the
 * baseline: an AF_PACKET or ping sender saturates its own core near
 * 1 Mpps, below what either stack answers) and counts the replies:
 *
 *   flood --iface PEER_IF --dst-mac DUT_MAC --src-ip PEER_IP --dst-ip ADDR
 *         --kind icmp|arp|udp [--port 7] [--payload 64] [--ports 1024]
 *         [--seconds 5] [--call-ms 250] [--warmup-ms 500] [--cpus LIST]
 *         [--gen auto|live|packet] [--threads N]
 *
 * Two generators (--gen): "live" (below) and "packet", an AF_PACKET raw
 * socket per thread with PACKET_QDISC_BYPASS (no qdisc: the frame goes
 * straight to the veth's transmit) sending batches of 64 copies of the same
 * frame with sendmmsg(), UDP source ports cycling as the live generator's
 * do.  "auto" (the default) uses live frames and falls back to the packet
 * sender when the kernel refuses BPF_PROG_RUN with live frames (EPERM:
 * seen on kernel 6.18 on some machines, where live frames are not allowed
 * to this caller), saying so on stderr.  --threads N (default 1) runs N
 * packet-sender threads per CPU of --cpus (or N unpinned); the live
 * generator always runs one per CPU.  The packet sender's rate is one
 * kernel transmit per frame (about 1 Mpps per core on the baseline).
 *
 * Live generator: flood_gen.bpf.c run with BPF_PROG_RUN and
 * BPF_F_TEST_XDP_LIVE_FRAMES on a crafted frame (ICMP echo request with 56
 * bytes of data, ARP who-has padded to 60 bytes, or UDP to --port with
 * --payload bytes (at most 214) and a source port cycling over --ports values); each
 * repetition is redirected out of PEER_IF.  Each call tears down a
 * page_pool and waits for an RCU grace period, so calls are sized to last
 * about --call-ms (the repeat count follows the measured rate), in a loop
 * for --seconds after an unmeasured --warmup-ms (neighbour resolution,
 * caches).
 *
 * --cpus 0,1 runs one generator thread per listed CPU, each pinned there,
 * all at the same time (offered = their sum).  That is how a flood reaches
 * more than one RX queue of a multi-queue veth: veth puts a redirected XDP
 * frame on the peer's RX queue of the CPU that sends it (smp_processor_id()
 * modulo the queues), not by flow hash, so one generator on CPU0 fills
 * queue 0 only, whatever the UDP source ports.  Without --cpus, one
 * generator in the calling thread, on whatever CPU it runs (taskset).  The
 * generator's source-port cursor is shared by the threads unlocked: ports
 * may repeat or skip, they stay within --ports.
 *
 * Counter: flood_count.bpf.c replaces the XDP program on PEER_IF for the
 * run (the one there before, xdp_pass in the benchmarks, is put back at
 * the end, also on SIGINT/SIGTERM), counts the replies by kind per CPU and
 * drops them.
 *
 * Prints one line:
 *   flood KIND ADDR: generator G (N threads) offered X Mpps replies Y Mpps (arp A icmp I udp U
 *   other O) in S s, C calls, last repeat R, link drops D, limit L, total T
 * (C: of all generators; R: the first one's, 0 for the packet sender)
 * X is what the generator sent (frames redirected or accepted by sendmmsg
 * / time); D the frames the peer veth counted as dropped on transmit over
 * the run (tx_dropped: the dut's receive ring was full); L "generator" when
 * the dut answered at least 95% of what was offered (the generator, not the
 * dut, set the rate: a faster generator would be needed to find the dut's
 * limit), else "dut"; Y the replies of
 * KIND counted on the peer, including those still arriving within 100 ms
 * after the last call, over the same time; T all replies of KIND since the
 * counter was attached, warm-up included (for CPU time per reply measured
 * around the whole command).  Needs root.  Not part of skiff.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <ifaddrs.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/ip.h>
#include <linux/icmp.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "flood.h"
#include "bench/flood_gen.skel.h"
#include "bench/flood_count.skel.h"

#define FRAME_MAX FLOOD_FRAME_MAX
#define ICMP_DATA 56 /* ping's default */
#define ARP_FRAME 60 /* minimum Ethernet frame without FCS: a wire pads to it */
#define GEN_MAX 16    /* generator threads (--cpus x --threads) */
#define PKT_BATCH 64  /* frames per sendmmsg() of the packet sender */
#define SPORT_BASE 10000 /* UDP source ports: SPORT_BASE .. + --ports - 1 */

enum kind { K_ICMP, K_ARP, K_UDP };
enum gen_mode { G_AUTO, G_LIVE, G_PACKET };

static const char *const gen_names[] = {"auto", "live", "packet"};

static const char *const kind_names[] = {"icmp", "arp", "udp"};
static const enum flood_kind kind_reply[] = {FLOOD_ICMP_ECHOREPLY, FLOOD_ARP_REPLY, FLOOD_UDP_ECHO};

struct opts {
	const char *iface;
	uint8_t src_mac[ETH_ALEN], dst_mac[ETH_ALEN];
	struct in_addr src_ip, dst_ip;
	enum kind kind;
	unsigned int port, payload, ports;
	double seconds, call_ms, warmup_ms;
	int cpus[GEN_MAX]; /* --cpus: generator threads pinned to each */
	unsigned int ncpus; /* 0: the generators unpinned */
	unsigned int threads; /* --threads: per CPU of --cpus (or unpinned) */
	enum gen_mode gen;
	int ifindex;
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* RFC 1071 Internet checksum of len bytes. */
static uint16_t inet_csum(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t sum = 0;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static size_t build_ipv4(uint8_t *f, const struct opts *o, uint8_t proto, size_t l4_len)
{
	struct ethhdr *eth = (struct ethhdr *)f;
	struct iphdr *ip = (struct iphdr *)(eth + 1);

	memcpy(eth->h_dest, o->dst_mac, ETH_ALEN);
	memcpy(eth->h_source, o->src_mac, ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons((uint16_t)(sizeof(*ip) + l4_len));
	ip->frag_off = htons(0x4000); /* DF */
	ip->ttl = 64;
	ip->protocol = proto;
	ip->saddr = o->src_ip.s_addr;
	ip->daddr = o->dst_ip.s_addr;
	ip->check = inet_csum(ip, sizeof(*ip));
	return sizeof(*eth) + sizeof(*ip);
}

/* The request frame; returns its length. */
static size_t build_frame(uint8_t *f, const struct opts *o)
{
	size_t off, i;

	memset(f, 0, FRAME_MAX);
	switch (o->kind) {
	case K_ICMP: {
		struct icmphdr *ic;

		off = build_ipv4(f, o, IPPROTO_ICMP, sizeof(*ic) + ICMP_DATA);
		ic = (struct icmphdr *)(f + off);
		ic->type = ICMP_ECHO;
		ic->un.echo.id = htons(0x5346);
		ic->un.echo.sequence = htons(1);
		for (i = 0; i < ICMP_DATA; i++)
			f[off + sizeof(*ic) + i] = (uint8_t)i;
		ic->checksum = inet_csum(ic, sizeof(*ic) + ICMP_DATA);
		return off + sizeof(*ic) + ICMP_DATA;
	}
	case K_UDP: {
		struct udphdr *uh;

		off = build_ipv4(f, o, IPPROTO_UDP, sizeof(*uh) + o->payload);
		uh = (struct udphdr *)(f + off);
		uh->source = htons(SPORT_BASE);
		uh->dest = htons((uint16_t)o->port);
		uh->len = htons((uint16_t)(sizeof(*uh) + o->payload));
		uh->check = 0; /* none (RFC 768): the generator rewrites the source port */
		for (i = 0; i < o->payload; i++)
			f[off + sizeof(*uh) + i] = (uint8_t)('a' + i % 26);
		return off + sizeof(*uh) + o->payload;
	}
	case K_ARP: {
		struct ethhdr *eth = (struct ethhdr *)f;
		uint8_t *a = (uint8_t *)(eth + 1);

		memset(eth->h_dest, 0xff, ETH_ALEN);
		memcpy(eth->h_source, o->src_mac, ETH_ALEN);
		eth->h_proto = htons(ETH_P_ARP);
		a[1] = 1;    /* htype Ethernet */
		a[2] = 0x08; /* ptype IPv4 */
		a[4] = ETH_ALEN;
		a[5] = 4;
		a[7] = 1; /* op request */
		memcpy(a + 8, o->src_mac, ETH_ALEN);
		memcpy(a + 14, &o->src_ip, 4);
		/* tha stays zero */
		memcpy(a + 24, &o->dst_ip, 4);
		return ARP_FRAME;
	}
	}
	return 0;
}

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned int b[ETH_ALEN];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -EINVAL;
	for (i = 0; i < ETH_ALEN; i++) {
		if (b[i] > 0xff)
			return -EINVAL;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

static int iface_mac(const char *name, uint8_t *mac)
{
	struct ifreq ifr;
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	close(fd);
	return err;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: flood --iface IF --dst-mac MAC --src-ip A --dst-ip B --kind icmp|arp|udp\n"
		"             [--port 7] [--payload 64] [--ports 1024] [--seconds 5]\n"
		"             [--call-ms 250] [--warmup-ms 500] [--cpus LIST]\n"
		"             [--gen auto|live|packet] [--threads N]\n");
	exit(2);
}

/* "0,1" or "0-3": o->cpus[], o->ncpus; -EINVAL if malformed or > GEN_MAX. */
static int parse_cpus(const char *s, struct opts *o)
{
	char *end;

	o->ncpus = 0;
	while (*s) {
		long a = strtol(s, &end, 10), b = a;

		if (end == s || a < 0 || a >= CPU_SETSIZE)
			return -EINVAL;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a || b >= CPU_SETSIZE)
				return -EINVAL;
		}
		for (; a <= b; a++) {
			if (o->ncpus == GEN_MAX)
				return -EINVAL;
			o->cpus[o->ncpus++] = (int)a;
		}
		if (*end && *end != ',')
			return -EINVAL;
		s = *end ? end + 1 : end;
	}
	return o->ncpus ? 0 : -EINVAL;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"iface", required_argument, NULL, 'i'},
		{"dst-mac", required_argument, NULL, 'm'},
		{"src-ip", required_argument, NULL, 's'},
		{"dst-ip", required_argument, NULL, 'd'},
		{"kind", required_argument, NULL, 'k'},
		{"port", required_argument, NULL, 'p'},
		{"payload", required_argument, NULL, 'l'},
		{"ports", required_argument, NULL, 'n'},
		{"seconds", required_argument, NULL, 't'},
		{"call-ms", required_argument, NULL, 'c'},
		{"warmup-ms", required_argument, NULL, 'w'},
		{"cpus", required_argument, NULL, 'C'},
		{"gen", required_argument, NULL, 'g'},
		{"threads", required_argument, NULL, 'T'},
		{NULL, 0, NULL, 0},
	};
	bool mac = false, sip = false, dip = false, kind = false, gen = true;
	int c;

	memset(o, 0, sizeof(*o));
	o->port = 7;
	o->payload = 64;
	o->ports = 1024;
	o->seconds = 5;
	o->call_ms = 250;
	o->warmup_ms = 500;
	o->threads = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->iface = optarg;
			break;
		case 'm':
			mac = !parse_mac(optarg, o->dst_mac);
			break;
		case 's':
			sip = inet_pton(AF_INET, optarg, &o->src_ip) == 1;
			break;
		case 'd':
			dip = inet_pton(AF_INET, optarg, &o->dst_ip) == 1;
			break;
		case 'k':
			for (o->kind = K_ICMP; o->kind <= K_UDP; o->kind++)
				if (!strcmp(optarg, kind_names[o->kind]))
					break;
			kind = o->kind <= K_UDP;
			break;
		case 'p':
			o->port = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'l':
			o->payload = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'n':
			o->ports = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 't':
			o->seconds = strtod(optarg, NULL);
			break;
		case 'c':
			o->call_ms = strtod(optarg, NULL);
			break;
		case 'w':
			o->warmup_ms = strtod(optarg, NULL);
			break;
		case 'C':
			if (parse_cpus(optarg, o) < 0)
				usage();
			break;
		case 'g':
			for (o->gen = G_AUTO; o->gen <= G_PACKET; o->gen++)
				if (!strcmp(optarg, gen_names[o->gen]))
					break;
			gen = o->gen <= G_PACKET;
			break;
		case 'T':
			o->threads = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	if (!o->iface || !mac || !sip || !dip || !kind || !gen || optind != argc || !o->port ||
	    !o->threads || o->threads * (o->ncpus ? o->ncpus : 1) > GEN_MAX ||
	    o->port > 65535 || o->ports > 65536 - 1024 || o->payload > FRAME_MAX - 42 ||
	    o->seconds <= 0 || o->call_ms <= 0)
		usage();
}

/* Sum the per-CPU reply counters into n[FLOOD_NKINDS]. */
static int read_replies(int map_fd, uint64_t *n)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v;
	uint32_t k;
	int i;

	if (ncpu < 0)
		return ncpu;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (k = 0; k < FLOOD_NKINDS; k++) {
		n[k] = 0;
		if (bpf_map_lookup_elem(map_fd, &k, v) < 0) {
			free(v);
			return -errno;
		}
		for (i = 0; i < ncpu; i++)
			n[k] += v[i];
	}
	free(v);
	return 0;
}

/*
 * One BPF_PROG_RUN call of repeat frames.  Returns the frames sent (all of
 * them unless a signal cut the call short: then 0, they are not counted)
 * or -errno.
 */
static long run_once(int prog_fd, uint8_t *frame, size_t len, uint32_t repeat)
{
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = frame, .data_size_in = (uint32_t)len,
		    .repeat = repeat, .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
	int err = bpf_prog_test_run_opts(prog_fd, &topts);

	if (err == -EINTR || (err < 0 && errno == EINTR))
		return 0;
	if (err < 0)
		return errno ? -errno : err;
	return (long)repeat;
}

/*
 * Flood for `seconds`, each call sized to last about call_ms.  Returns the
 * frames sent and the elapsed time in *elapsed, or -errno.
 */
static long long flood_for(int prog_fd, uint8_t *frame, size_t len, double seconds, double call_ms,
			   uint32_t *repeat, double *elapsed, unsigned int *calls)
{
	double t0 = now_s(), t = t0, tc;
	long long sent = 0;

	while (!stopping && t - t0 < seconds) {
		long n;

		tc = t;
		n = run_once(prog_fd, frame, len, *repeat);
		if (n < 0)
			return n;
		t = now_s();
		sent += n;
		(*calls)++;
		if (n && t > tc) {
			double r = (double)*repeat * call_ms * 1e-3 / (t - tc);

			*repeat = r < 1024 ? 1024 : r > 1e8 ? 100000000 : (uint32_t)r;
		}
	}
	*elapsed = t - t0;
	return sent;
}

/* One generator: its own copy of the frame, its own repeat count. */
struct gen {
	pthread_t tid;
	int cpu; /* -1: unpinned */
	int prog_fd; /* live frames; -1: the packet sender on pkt_fd */
	int pkt_fd;
	unsigned int ports;    /* UDP: source ports to cycle through (0: none) */
	unsigned int sport;    /* the packet sender's next source port offset */
	uint8_t frame[FRAME_MAX];
	size_t len;
	double seconds, call_ms;
	uint32_t repeat;
	/* results of the last flood_for() */
	long long sent;
	double elapsed;
	unsigned int calls;
};

/*
 * The packet sender: batches of PKT_BATCH copies of the frame through an
 * AF_PACKET socket for `seconds` (UDP: each copy with the next source
 * port).  Returns the frames the kernel accepted, or -errno.
 */
static long long packet_for(struct gen *g, double seconds, double *elapsed, unsigned int *calls)
{
	static __thread uint8_t frames[PKT_BATCH][FRAME_MAX];
	struct mmsghdr msgs[PKT_BATCH];
	struct iovec iov[PKT_BATCH];
	double t0 = now_s(), t = t0;
	long long sent = 0;
	unsigned int i;
	size_t uoff = sizeof(struct ethhdr) + sizeof(struct iphdr);

	for (i = 0; i < PKT_BATCH; i++) {
		memcpy(frames[i], g->frame, g->len);
		iov[i] = (struct iovec){.iov_base = frames[i], .iov_len = g->len};
		msgs[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
	}
	while (!stopping && t - t0 < seconds) {
		int n;

		for (i = 0; g->ports > 1 && i < PKT_BATCH; i++) {
			struct udphdr *uh = (struct udphdr *)(frames[i] + uoff);

			uh->source = htons((uint16_t)(SPORT_BASE + g->sport));
			g->sport = g->sport + 1 >= g->ports ? 0 : g->sport + 1;
		}
		n = sendmmsg(g->pkt_fd, msgs, PKT_BATCH, 0);
		if (n < 0 && errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (n > 0)
			sent += n;
		(*calls)++;
		t = now_s();
	}
	*elapsed = t - t0;
	return sent;
}

/* An AF_PACKET socket that sends on ifindex and bypasses the qdisc; fd or -errno. */
static int packet_socket(int ifindex)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = ifindex};
	int fd, one = 1, sndbuf = 4 << 20, err;

	/* protocol 0: receives nothing */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)); /* best effort */
	return fd;
}

/* ifname's tx_dropped (the veth: frames its peer's receive ring had no room for). */
static uint64_t tx_dropped(const char *ifname)
{
	struct ifaddrs *ifa, *p;
	uint64_t v = 0;

	if (getifaddrs(&ifa) < 0)
		return 0;
	for (p = ifa; p; p = p->ifa_next) {
		if (p->ifa_addr && p->ifa_addr->sa_family == AF_PACKET && p->ifa_data &&
		    !strcmp(p->ifa_name, ifname)) {
			v = ((const struct rtnl_link_stats *)p->ifa_data)->tx_dropped;
			break;
		}
	}
	freeifaddrs(ifa);
	return v;
}

static void *gen_main(void *arg)
{
	struct gen *g = arg;

	if (g->cpu >= 0) {
		cpu_set_t set;
		int err;

		CPU_ZERO(&set);
		CPU_SET(g->cpu, &set);
		err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
		if (err) {
			g->sent = -err;
			return NULL;
		}
	}
	g->calls = 0;
	if (g->prog_fd < 0)
		g->sent = packet_for(g, g->seconds, &g->elapsed, &g->calls);
	else
		g->sent = flood_for(g->prog_fd, g->frame, g->len, g->seconds, g->call_ms,
				    &g->repeat, &g->elapsed, &g->calls);
	return NULL;
}

/*
 * All n generators for `seconds` at the same time (n == 1 and cpu -1: in
 * this thread).  Returns the frames sent by all, the longest elapsed time
 * in *elapsed and the calls of all in *calls, or -errno.
 */
static long long flood_all(struct gen *g, unsigned int n, double seconds, double *elapsed,
			   unsigned int *calls)
{
	long long sent = 0;
	unsigned int i, started = 0;
	int err = 0;

	for (i = 0; i < n; i++)
		g[i].seconds = seconds;
	if (n == 1 && g[0].cpu < 0) {
		gen_main(&g[0]);
	} else {
		for (started = 0; started < n; started++) {
			err = pthread_create(&g[started].tid, NULL, gen_main, &g[started]);
			if (err) {
				stopping = 1; /* stop the ones started */
				break;
			}
		}
		for (i = 0; i < started; i++)
			pthread_join(g[i].tid, NULL);
		if (err)
			return -err;
	}
	*elapsed = 0;
	*calls = 0;
	for (i = 0; i < n; i++) {
		if (g[i].sent < 0)
			return g[i].sent;
		sent += g[i].sent;
		*calls += g[i].calls;
		if (g[i].elapsed > *elapsed)
			*elapsed = g[i].elapsed;
	}
	return sent;
}

int main(int argc, char **argv)
{
	static struct gen gens[GEN_MAX];
	unsigned int ngen = 0, i;
	struct flood_count *cnt = NULL;
	struct flood_gen *gen = NULL;
	struct sigaction sa = {.sa_handler = on_signal};
	uint64_t before[FLOOD_NKINDS], after[FLOOD_NKINDS];
	uint8_t frame[FRAME_MAX];
	uint32_t old_id = 0;
	uint64_t drop0 = 0, drop1 = 0;
	int ifindex, old_fd = -1, err, rc = 1, live_fd = -1;
	unsigned int calls = 0, wcalls = 0;
	double elapsed = 0, welapsed;
	long long sent;
	size_t len;
	struct opts o;
	char dst[INET_ADDRSTRLEN];

	parse_opts(argc, argv, &o);
	for (i = 0; i < GEN_MAX; i++)
		gens[i].pkt_fd = -1;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ifindex = (int)if_nametoindex(o.iface);
	if (!ifindex || iface_mac(o.iface, o.src_mac) < 0) {
		fprintf(stderr, "flood: no interface %s here\n", o.iface);
		return 1;
	}
	len = build_frame(frame, &o);
	inet_ntop(AF_INET, &o.dst_ip, dst, sizeof(dst));

	cnt = flood_count__open();
	if (!cnt) {
		fprintf(stderr, "flood: cannot open the BPF skeleton of the counter\n");
		goto out;
	}
	cnt->rodata->echo_port = (uint16_t)o.port;
	err = flood_count__load(cnt);
	if (err) {
		fprintf(stderr, "flood: loading the counter: %s\n", strerror(-err));
		goto out;
	}
	if (o.gen != G_PACKET) {
		gen = flood_gen__open();
		if (!gen) {
			fprintf(stderr, "flood: cannot open the BPF skeleton of the generator\n");
			goto out;
		}
		gen->rodata->out_ifindex = (uint32_t)ifindex;
		gen->rodata->tmpl_len = (uint32_t)len;
		memcpy((void *)gen->rodata->tmpl, frame, len);
		if (o.kind == K_UDP && o.ports > 1) {
			gen->rodata->sport_base = SPORT_BASE;
			gen->rodata->sport_count = (uint16_t)o.ports;
		}
		err = flood_gen__load(gen);
		if (err == -EPERM && o.gen == G_AUTO) {
			fprintf(stderr, "flood: loading the live-frames generator refused (%s):"
					" the AF_PACKET sender instead\n", strerror(-err));
			o.gen = G_PACKET;
		} else if (err) {
			fprintf(stderr, "flood: loading the generator: %s\n", strerror(-err));
			goto out;
		} else {
			live_fd = bpf_program__fd(gen->progs.flood_gen);
		}
	}

	/* Hold the program that is there now, to put it back afterwards. */
	if (!bpf_xdp_query_id(ifindex, XDP_FLAGS_DRV_MODE, &old_id) && old_id) {
		old_fd = bpf_prog_get_fd_by_id(old_id);
		if (old_fd < 0) {
			fprintf(stderr, "flood: cannot hold XDP program %u: %s\n", old_id,
				strerror(errno));
			goto out;
		}
	}
	err = bpf_xdp_attach(ifindex, bpf_program__fd(cnt->progs.flood_count), XDP_FLAGS_DRV_MODE,
			     NULL);
	if (err) {
		fprintf(stderr, "flood: attaching the counter to %s: %s\n", o.iface,
			strerror(-err));
		goto out;
	}

	/* One live frame: does this kernel let us (auto: else the packet sender)? */
	if (live_fd >= 0) {
		long r = run_once(live_fd, frame, len, 1);

		if (r == -EPERM && o.gen == G_AUTO) {
			fprintf(stderr, "flood: BPF_PROG_RUN with live frames refused (%s):"
					" the AF_PACKET sender instead\n", strerror((int)-r));
			live_fd = -1;
		} else if (r < 0) {
			fprintf(stderr, "flood: BPF_PROG_RUN (live frames): %s\n",
				strerror((int)-r));
			goto restore;
		}
	}
	o.gen = live_fd >= 0 ? G_LIVE : G_PACKET;

	if (o.gen == G_LIVE)
		o.threads = 1;
	ngen = (o.ncpus ? o.ncpus : 1) * o.threads;
	for (i = 0; i < ngen; i++) {
		gens[i].cpu = o.ncpus ? o.cpus[i / o.threads] : -1;
		gens[i].prog_fd = live_fd;
		gens[i].ports = o.kind == K_UDP && o.ports > 1 ? o.ports : 0;
		gens[i].sport = gens[i].ports * i / ngen;
		if (live_fd < 0) {
			gens[i].pkt_fd = packet_socket(ifindex);
			if (gens[i].pkt_fd < 0) {
				fprintf(stderr, "flood: AF_PACKET socket on %s: %s\n", o.iface,
					strerror(-gens[i].pkt_fd));
				goto restore;
			}
		}
		memcpy(gens[i].frame, frame, len);
		gens[i].len = len;
		gens[i].call_ms = o.call_ms;
		gens[i].repeat = 65536;
	}
	sent = flood_all(gens, ngen, o.warmup_ms * 1e-3, &welapsed, &wcalls);
	if (sent >= 0) {
		usleep(100000);
		err = read_replies(bpf_map__fd(cnt->maps.replies), before);
		drop0 = tx_dropped(o.iface);
		if (!err)
			sent = flood_all(gens, ngen, o.seconds, &elapsed, &calls);
		usleep(100000); /* replies still in the dut's queues */
		drop1 = tx_dropped(o.iface);
		if (!err)
			err = read_replies(bpf_map__fd(cnt->maps.replies), after);
	}
	if (sent < 0) {
		fprintf(stderr, "flood: %s: %s\n",
			live_fd >= 0 ? "BPF_PROG_RUN (live frames)" : "sendmmsg on AF_PACKET",
			strerror((int)-sent));
	} else if (err) {
		fprintf(stderr, "flood: reading the counters: %s\n", strerror(-err));
	} else if (stopping) {
		fprintf(stderr, "flood: interrupted\n");
	} else {
		uint64_t d[FLOOD_NKINDS];
		int k;

		for (k = 0; k < FLOOD_NKINDS; k++)
			d[k] = after[k] - before[k];
		printf("flood %s %s: generator %s (%u threads) offered %.3f Mpps replies %.3f Mpps "
		       "(arp %llu icmp %llu udp %llu other %llu) in %.2f s, %u calls, last repeat %u, "
		       "link drops %llu, limit %s, total %llu\n",
		       kind_names[o.kind], dst, gen_names[o.gen], ngen, (double)sent / elapsed * 1e-6,
		       (double)d[kind_reply[o.kind]] / elapsed * 1e-6,
		       (unsigned long long)d[FLOOD_ARP_REPLY],
		       (unsigned long long)d[FLOOD_ICMP_ECHOREPLY],
		       (unsigned long long)d[FLOOD_UDP_ECHO], (unsigned long long)d[FLOOD_OTHER],
		       elapsed, calls, live_fd >= 0 ? gens[0].repeat : 0,
		       (unsigned long long)(drop1 - drop0),
		       (double)d[kind_reply[o.kind]] >= 0.95 * (double)sent ? "generator" : "dut",
		       (unsigned long long)after[kind_reply[o.kind]]);
		rc = 0;
	}

restore:
	for (i = 0; i < ngen; i++)
		if (gens[i].pkt_fd >= 0)
			close(gens[i].pkt_fd);
	/* Put the previous program back (or leave none). */
	if (old_fd >= 0)
		err = bpf_xdp_attach(ifindex, old_fd, XDP_FLAGS_DRV_MODE, NULL);
	else
		err = bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	if (err) {
		fprintf(stderr, "flood: restoring XDP on %s: %s\n", o.iface, strerror(-err));
		rc = 1;
	}
out:
	if (old_fd >= 0)
		close(old_fd);
	flood_gen__destroy(gen);
	flood_count__destroy(cnt);
	return rc;
}
