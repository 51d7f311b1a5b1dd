// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Tests of the real XDP object (build/bpf/skiff_xdp.bpf.o, through its
 * skeleton) on crafted frames via bpf_prog_test_run_opts: the verdict of
 * every rule in bpf/skiff_xdp.bpf.c, the exact bytes of the ARP and ICMP
 * replies (checksums recomputed here, independently of the program), the
 * untouched bytes of every PASS, the counters and maps that moved, and
 * frames cut at every length.  The to_stack verdict needs a real AF_XDP
 * socket in the xsks map: one is bound (copy mode, no program) to queue 0
 * of "lo", and frames are run as if received there.
 *
 * Needs root (CAP_BPF, CAP_NET_ADMIN, CAP_NET_RAW); skipped otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>

#include <skiff/skiff.h>

#include "skiff_xdp.skel.h"

#define FRAME_MAX 10000
#define ETH_LEN 14
#define VLAN_LEN 4
#define IP_LEN 20
#define ARP_LEN 28
#define ICMP_HLEN 8
#define UDP_HLEN 8
#define TCP_HLEN 20
#define NO_VLAN (-1)

static const uint8_t our_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t peer_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x09};
static const uint8_t other_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0a};
static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t zero_mac[6];

#define IP(a, b, c, d) htonl((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define DED_IP IP(10, 0, 0, 1)	 /* dedicated skiff address */
#define SHR_IP IP(10, 0, 0, 2)	 /* shared with the kernel */
#define OTHER_IP IP(10, 0, 0, 3) /* not skiff's */
#define PEER_IP IP(10, 0, 0, 9)
#define PEER2_IP IP(10, 0, 0, 10)

#define SKIFF_PORT 7
#define KERNEL_PORT 22

/* ---- fixture: the loaded object, its maps, one AF_XDP socket on lo ---- */

struct fixture {
	struct skiff_xdp *skel;
	int prog, config, addrs, ports, neigh, frags, xsks, stats;
	int ncpus;
	int lo_ifindex;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	void *umem_area;
	size_t umem_size;
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	char xsk_err[160]; /* why there is no socket, if there is none */
};

static struct fixture fx;
static bool is_root;

#define REQUIRE_ROOT() \
	do { \
		if (!is_root) { \
			print_message("skipped: BPF tests need root " \
				      "(CAP_BPF, CAP_NET_ADMIN)\n"); \
			skip(); \
		} \
	} while (0)

#define REQUIRE_XSK() \
	do { \
		REQUIRE_ROOT(); \
		if (!fx.xsk) { \
			print_message("skipped: no AF_XDP socket on lo: %s\n", fx.xsk_err); \
			skip(); \
		} \
	} while (0)

static int xsk_open(void)
{
	struct xsk_umem_config ucfg = {
		.fill_size = XSK_RING_PROD__DEFAULT_NUM_DESCS,
		.comp_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
		.frame_size = XSK_UMEM__DEFAULT_FRAME_SIZE,
		.frame_headroom = 0,
	};
	struct xsk_socket_config scfg = {
		.rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
		.tx_size = XSK_RING_PROD__DEFAULT_NUM_DESCS,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	int err;

	fx.umem_size = 64 * XSK_UMEM__DEFAULT_FRAME_SIZE;
	fx.umem_area = mmap(NULL, fx.umem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
	if (fx.umem_area == MAP_FAILED) {
		fx.umem_area = NULL;
		snprintf(fx.xsk_err, sizeof(fx.xsk_err), "mmap: %s", strerror(errno));
		return -errno;
	}
	err = xsk_umem__create(&fx.umem, fx.umem_area, fx.umem_size, &fx.fq, &fx.cq, &ucfg);
	if (err) {
		snprintf(fx.xsk_err, sizeof(fx.xsk_err), "xsk_umem__create: %s", strerror(-err));
		fx.umem = NULL;
		return err;
	}
	err = xsk_socket__create(&fx.xsk, "lo", 0, fx.umem, &fx.rx, &fx.tx, &scfg);
	if (err) {
		snprintf(fx.xsk_err, sizeof(fx.xsk_err),
			 "xsk_socket__create(lo, queue 0, XDP_COPY): %s", strerror(-err));
		fx.xsk = NULL;
		return err;
	}
	return 0;
}

static void xsk_close(void)
{
	if (fx.xsk)
		xsk_socket__delete(fx.xsk);
	if (fx.umem)
		xsk_umem__delete(fx.umem);
	if (fx.umem_area)
		munmap(fx.umem_area, fx.umem_size);
	fx.xsk = NULL;
	fx.umem = NULL;
	fx.umem_area = NULL;
}

static int group_setup(void **state)
{
	(void)state;
	is_root = geteuid() == 0;
	if (!is_root)
		return 0;

	fx.skel = skiff_xdp__open_and_load();
	if (!fx.skel) {
		fprintf(stderr, "skiff_xdp__open_and_load: %s\n", strerror(errno));
		return -1;
	}
	fx.prog = bpf_program__fd(fx.skel->progs.skiff_xdp_prog);
	fx.config = bpf_map__fd(fx.skel->maps.config);
	fx.addrs = bpf_map__fd(fx.skel->maps.addrs);
	fx.ports = bpf_map__fd(fx.skel->maps.ports);
	fx.neigh = bpf_map__fd(fx.skel->maps.neigh);
	fx.frags = bpf_map__fd(fx.skel->maps.frags);
	fx.xsks = bpf_map__fd(fx.skel->maps.xsks);
	fx.stats = bpf_map__fd(fx.skel->maps.stats);
	fx.ncpus = libbpf_num_possible_cpus();
	fx.lo_ifindex = if_nametoindex("lo");
	if (fx.ncpus <= 0 || !fx.lo_ifindex)
		return -1;
	xsk_open(); /* failure only skips the to_stack tests, with the reason */
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	xsk_close();
	if (fx.skel)
		skiff_xdp__destroy(fx.skel);
	return 0;
}

static void map_clear(int fd, size_t key_size)
{
	uint8_t key[64], next[64];

	assert_true(key_size <= sizeof(key));
	while (bpf_map_get_next_key(fd, NULL, next) == 0) {
		memcpy(key, next, key_size);
		assert_int_equal(bpf_map_delete_elem(fd, key), 0);
	}
}

static void set_config(uint16_t vlan_id, uint32_t flags)
{
	struct skiff_config c = {.vlan_id = vlan_id, .flags = flags};
	uint32_t zero = 0;

	memcpy(c.mac, our_mac, 6);
	assert_int_equal(bpf_map_update_elem(fx.config, &zero, &c, BPF_ANY), 0);
}

static struct skiff_config get_config(void)
{
	struct skiff_config c;
	uint32_t zero = 0;

	assert_int_equal(bpf_map_lookup_elem(fx.config, &zero, &c), 0);
	return c;
}

static void add_addr(uint32_t addr, bool dedicated)
{
	struct skiff_addr a = {.flags = dedicated ? SKIFF_ADDR_DEDICATED : 0, .prefix_len = 24};

	assert_int_equal(bpf_map_update_elem(fx.addrs, &addr, &a, BPF_ANY), 0);
}

static void add_port(uint32_t addr, uint16_t port, uint8_t proto)
{
	struct skiff_port_key k = {.addr = addr, .port = htons(port), .proto = proto};
	struct skiff_port_val v = {.refs = 1};

	assert_int_equal(bpf_map_update_elem(fx.ports, &k, &v, BPF_ANY), 0);
}

static void set_xsk(bool present)
{
	uint32_t q = 0;
	int fd;

	if (!present) {
		bpf_map_delete_elem(fx.xsks, &q);
		return;
	}
	fd = xsk_socket__fd(fx.xsk);
	assert_int_equal(bpf_map_update_elem(fx.xsks, &q, &fd, BPF_ANY), 0);
}

static void set_neigh(uint32_t ip, const uint8_t *mac, uint16_t state, uint64_t ns)
{
	struct skiff_neigh n = {.state = state, .updated_ns = ns};

	memcpy(n.mac, mac, 6);
	assert_int_equal(bpf_map_update_elem(fx.neigh, &ip, &n, BPF_ANY), 0);
}

static bool get_neigh(uint32_t ip, struct skiff_neigh *n)
{
	return bpf_map_lookup_elem(fx.neigh, &ip, n) == 0;
}

static void stats_reset(void)
{
	size_t sz = (size_t)fx.ncpus * sizeof(struct skiff_xdp_stats);
	void *zeros = calloc(1, sz);
	uint32_t zero = 0;

	assert_non_null(zeros);
	assert_int_equal(bpf_map_update_elem(fx.stats, &zero, zeros, BPF_ANY), 0);
	free(zeros);
}

/* The counters summed over every CPU, as skiffctl does. */
static struct skiff_xdp_stats stats_sum(void)
{
	struct skiff_xdp_stats sum = {}, *per;
	uint64_t *s = (uint64_t *)&sum, *c;
	uint32_t zero = 0;
	size_t n = sizeof(sum) / sizeof(uint64_t), i;
	int cpu;

	per = calloc(fx.ncpus, sizeof(*per));
	assert_non_null(per);
	assert_int_equal(bpf_map_lookup_elem(fx.stats, &zero, per), 0);
	for (cpu = 0; cpu < fx.ncpus; cpu++) {
		c = (uint64_t *)&per[cpu];
		for (i = 0; i < n; i++)
			s[i] += c[i];
	}
	free(per);
	return sum;
}

/* Every counter except rx_frames and the ones named must be zero. */
#define SKIFF_NAME(name) #name,
static const char *const counter_names[] = {SKIFF_XDP_COUNTERS(SKIFF_NAME)};

static void assert_counters(const char *expect, ...)
{
	struct skiff_xdp_stats st = stats_sum();
	const uint64_t *v = (const uint64_t *)&st;
	uint64_t want[sizeof(counter_names) / sizeof(counter_names[0])] = {};
	const char *name = expect;
	va_list ap;
	size_t i;

	va_start(ap, expect);
	while (name) {
		uint64_t val = va_arg(ap, uint64_t);

		for (i = 0; i < sizeof(counter_names) / sizeof(counter_names[0]); i++)
			if (!strcmp(counter_names[i], name))
				break;
		if (i == sizeof(counter_names) / sizeof(counter_names[0]))
			fail_msg("no counter %s", name);
		want[i] = val;
		name = va_arg(ap, const char *);
	}
	va_end(ap);
	for (i = 0; i < sizeof(counter_names) / sizeof(counter_names[0]); i++) {
		if (!strcmp(counter_names[i], "rx_frames"))
			continue;
		if (v[i] != want[i])
			fail_msg("counter %s = %llu, expected %llu", counter_names[i],
				 (unsigned long long)v[i], (unsigned long long)want[i]);
	}
}

#define C(name, val) #name, (uint64_t)(val)
#define COUNTERS(...) assert_counters(__VA_ARGS__, NULL)

static int test_setup(void **state)
{
	(void)state;
	if (!is_root)
		return 0;
	set_config(0, SKIFF_CFG_ENABLED);
	map_clear(fx.addrs, sizeof(uint32_t));
	map_clear(fx.ports, sizeof(struct skiff_port_key));
	map_clear(fx.neigh, sizeof(uint32_t));
	map_clear(fx.frags, sizeof(struct skiff_frag_key));
	set_xsk(false);
	stats_reset();
	add_addr(DED_IP, true);
	add_addr(SHR_IP, false);
	return 0;
}

/* ---- running the program ---- */

struct frame {
	uint8_t b[FRAME_MAX];
	size_t len;
	size_t l3; /* offset of the ARP/IPv4 header */
};

struct result {
	int verdict;
	uint8_t b[FRAME_MAX];
	size_t len;
};

static int run_frame(const uint8_t *data, size_t len, struct result *r)
{
	struct xdp_md ctx = {
		.data_end = len,
		.ingress_ifindex = fx.lo_ifindex, /* as if received on lo... */
		.rx_queue_index = 0,		  /* ...queue 0, where the XSK is */
	};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = len, .data_out = r->b,
		    .data_size_out = sizeof(r->b), .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .repeat = 1);
	int err;

	memset(r->b, 0xee, sizeof(r->b));
	err = bpf_prog_test_run_opts(fx.prog, &o);
	if (err)
		return err;
	r->verdict = o.retval;
	r->len = o.data_size_out;
	return 0;
}

static int run(const struct frame *f, struct result *r)
{
	int err = run_frame(f->b, f->len, r);

	if (err)
		fail_msg("bpf_prog_test_run_opts(%zu bytes): %s", f->len, strerror(-err));
	return r->verdict;
}

/* The frame went to the kernel (or the daemon) exactly as it came. */
static void assert_untouched(const struct frame *f, const struct result *r)
{
	assert_int_equal(r->len, f->len);
	assert_memory_equal(r->b, f->b, f->len);
}

static const char *verdict_name(int v)
{
	switch (v) {
	case XDP_ABORTED:
		return "XDP_ABORTED";
	case XDP_DROP:
		return "XDP_DROP";
	case XDP_PASS:
		return "XDP_PASS";
	case XDP_TX:
		return "XDP_TX";
	case XDP_REDIRECT:
		return "XDP_REDIRECT";
	}
	return "?";
}

#define assert_verdict(got, want) \
	do { \
		int g_ = (got), w_ = (want); \
		if (g_ != w_) \
			fail_msg("verdict %s, expected %s", verdict_name(g_), verdict_name(w_)); \
	} while (0)

/* The frame got verdict want and left (to the kernel or the XSK) as it came. */
#define assert_verdict_untouched(f, r, want) \
	do { \
		assert_verdict(run(f, r), want); \
		assert_untouched(f, r); \
	} while (0)

/* ---- building frames (and checksums), independently of the program ---- */

static uint16_t csum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum & 0xffff);
}

static bool csum_ok(const void *p, size_t len)
{
	return csum(p, len) == 0;
}

static void put16(uint8_t *p, uint16_t host)
{
	p[0] = host >> 8;
	p[1] = host & 0xff;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Ethernet header (and a tag if vlan >= 0, with tpid); returns its length. */
static size_t put_eth(uint8_t *b, const uint8_t *dst, const uint8_t *src, int vlan, uint16_t tpid,
		      uint16_t type)
{
	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	if (vlan < 0) {
		put16(b + 12, type);
		return ETH_LEN;
	}
	put16(b + 12, tpid);
	put16(b + 14, (uint16_t)vlan | 0x2000); /* PCP 1: must not matter */
	put16(b + 16, type);
	return ETH_LEN + VLAN_LEN;
}

static void build_arp_eth(struct frame *f, int vlan, const uint8_t *edst, const uint8_t *esrc,
			  uint16_t op, const uint8_t *sha, uint32_t spa, const uint8_t *tha,
			  uint32_t tpa)
{
	uint8_t *a;

	memset(f, 0, sizeof(*f));
	f->l3 = put_eth(f->b, edst, esrc, vlan, ETH_P_8021Q, ETH_P_ARP);
	a = f->b + f->l3;
	put16(a, 1);
	put16(a + 2, ETH_P_IP);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	memcpy(a + 14, &spa, 4);
	memcpy(a + 18, tha, 6);
	memcpy(a + 24, &tpa, 4);
	f->len = f->l3 + ARP_LEN;
}

/* An ARP frame as hosts send it: Ethernet source = sender hardware address. */
static void build_arp(struct frame *f, int vlan, uint16_t op, const uint8_t *sha, uint32_t spa,
		      const uint8_t *tha, uint32_t tpa)
{
	build_arp_eth(f, vlan, op == 1 ? bcast_mac : tha, sha, op, sha, spa, tha, tpa);
}

/*
 * Ethernet + IPv4 (+ options) with a correct header checksum, around l4
 * bytes of payload.  frag is the host-order flags/offset field.
 */
static void build_ipv4(struct frame *f, int vlan, uint8_t proto, uint32_t saddr, uint32_t daddr,
		       uint16_t frag, uint16_t id, size_t optlen, const uint8_t *l4, size_t l4len)
{
	uint8_t *ip;
	size_t hlen = IP_LEN + optlen;

	memset(f, 0, sizeof(*f));
	f->l3 = put_eth(f->b, our_mac, peer_mac, vlan, ETH_P_8021Q, ETH_P_IP);
	ip = f->b + f->l3;
	assert_true(f->l3 + hlen + l4len <= sizeof(f->b));
	ip[0] = 0x40 | (uint8_t)(hlen / 4);
	ip[1] = 0;
	put16(ip + 2, (uint16_t)(hlen + l4len));
	put16(ip + 4, id);
	put16(ip + 6, frag);
	ip[8] = 61;
	ip[9] = proto;
	memcpy(ip + 12, &saddr, 4);
	memcpy(ip + 16, &daddr, 4);
	if (optlen)
		memset(ip + IP_LEN, 1, optlen); /* NOP options */
	memcpy(ip + 10, (uint16_t[]){csum(ip, hlen)}, 2);
	memcpy(ip + hlen, l4, l4len);
	f->len = f->l3 + hlen + l4len;
}

static void fix_ip_csum(struct frame *f)
{
	uint8_t *ip = f->b + f->l3;
	size_t hlen = (ip[0] & 0xf) * 4;

	ip[10] = ip[11] = 0;
	memcpy(ip + 10, (uint16_t[]){csum(ip, hlen)}, 2);
}

static uint8_t l4buf[FRAME_MAX];

/* ICMP echo request with datalen bytes of pattern data. */
static void build_echo(struct frame *f, int vlan, uint32_t daddr, size_t datalen, uint16_t frag,
		       size_t optlen)
{
	size_t i;

	memset(l4buf, 0, ICMP_HLEN);
	l4buf[0] = 8;		  /* echo request */
	put16(l4buf + 4, 0x1234); /* identifier */
	put16(l4buf + 6, 7);	  /* sequence */
	for (i = 0; i < datalen; i++)
		l4buf[ICMP_HLEN + i] = (uint8_t)(i * 7 + 3);
	memcpy(l4buf + 2, (uint16_t[]){csum(l4buf, ICMP_HLEN + datalen)}, 2);
	build_ipv4(f, vlan, IPPROTO_ICMP, PEER_IP, daddr, frag, 0x4242, optlen, l4buf,
		   ICMP_HLEN + datalen);
}

static void build_udp(struct frame *f, uint32_t daddr, uint16_t dport, size_t datalen,
		      uint16_t frag, uint16_t id)
{
	memset(l4buf, 0, UDP_HLEN + datalen);
	put16(l4buf, 40000);
	put16(l4buf + 2, dport);
	put16(l4buf + 4, (uint16_t)(UDP_HLEN + datalen));
	memset(l4buf + UDP_HLEN, 'u', datalen);
	build_ipv4(f, NO_VLAN, IPPROTO_UDP, PEER_IP, daddr, frag, id, 0, l4buf, UDP_HLEN + datalen);
}

static void build_tcp(struct frame *f, uint32_t daddr, uint16_t dport)
{
	memset(l4buf, 0, TCP_HLEN);
	put16(l4buf, 40000);
	put16(l4buf + 2, dport);
	l4buf[12] = 5 << 4;
	l4buf[13] = 0x02; /* SYN */
	put16(l4buf + 14, 65535);
	build_ipv4(f, NO_VLAN, IPPROTO_TCP, PEER_IP, daddr, 0, 1, 0, l4buf, TCP_HLEN);
}

/* ---- 1: the switch ---- */

static void disabled_config_passes_everything_untouched(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	REQUIRE_ROOT();
	set_config(0, 0);
	build_arp(&f, NO_VLAN, 1, peer_mac, PEER_IP, zero_mac, DED_IP);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	build_echo(&f, NO_VLAN, DED_IP, 56, 0, 0);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	COUNTERS(C(to_kernel, 2));
	assert_int_equal(stats_sum().rx_frames, 2);
}

static void every_frame_counts_rx_frames(void **state)
{
	struct frame f;
	struct result r;
	size_t len;

	(void)state;
	REQUIRE_ROOT();
	build_echo(&f, NO_VLAN, OTHER_IP, 56, 0, 0);
	for (len = 0; len <= f.len; len++)
		run_frame(f.b, len, &r);
	/* test_run refuses frames shorter than an Ethernet header. */
	assert_int_equal(stats_sum().rx_frames, f.len + 1 - ETH_LEN);
}

/* ---- 2: Ethernet and VLAN ---- */

static void non_ip_ethertypes_pass_untouched(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	REQUIRE_ROOT();
	memset(&f, 0, sizeof(f));
	/* IPv6 for an address skiff does not serve (:: here) is the kernel's */
	f.len = put_eth(f.b, our_mac, peer_mac, NO_VLAN, 0, ETH_P_IPV6) + 40;
	assert_verdict_untouched(&f, &r, XDP_PASS);
	f.len = put_eth(f.b, (uint8_t[]){0x01, 0x80, 0xc2, 0, 0, 0x0e}, peer_mac, NO_VLAN, 0,
			0x88cc) +
		30; /* LLDP */
	assert_verdict_untouched(&f, &r, XDP_PASS);
	/* A second tag is not parsed: QinQ inner tag counts as "not IP". */
	f.len = put_eth(f.b, our_mac, peer_mac, 0, ETH_P_8021AD, ETH_P_8021Q) + 40;
	assert_verdict_untouched(&f, &r, XDP_PASS);
	COUNTERS(C(pass_not_ip, 2), C(pass_not_ours, 1), C(to_kernel, 3));
}

static void vlan_tag_must_match_config(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	REQUIRE_ROOT();
	/* untagged config: a tagged frame is not ours */
	build_arp(&f, 100, 1, peer_mac, PEER_IP, zero_mac, DED_IP);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	/* VLAN 100 config: untagged and VLAN 200 frames are not ours */
	set_config(100, SKIFF_CFG_ENABLED);
	build_arp(&f, NO_VLAN, 1, peer_mac, PEER_IP, zero_mac, DED_IP);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	build_echo(&f, 200, DED_IP, 56, 0, 0);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	COUNTERS(C(pass_vlan, 3), C(to_kernel, 3));
	assert_false(get_neigh(PEER_IP, &(struct skiff_neigh){}));
}

static void priority_tag_counts_as_untagged(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	REQUIRE_ROOT();
	build_echo(&f, 0, DED_IP, 56, 0, 0); /* 802.1Q tag with VID 0 */
	assert_verdict(run(&f, &r), XDP_TX);
	COUNTERS(C(icmp_echo_reply, 1));
}

/* ---- 3: ARP ---- */

static void expect_arp_reply(struct frame *want, int vlan, uint16_t tpid, const uint8_t *req_sha,
			     uint32_t req_spa, uint32_t target)
{
	build_arp_eth(want, vlan, req_sha, our_mac, 2, our_mac, target, req_sha, req_spa);
	if (vlan >= 0)
		put16(want->b + 12, tpid);
}

static void arp_request_for_dedicated_address_is_answered_in_place(void **state)
{
	struct frame f, want;
	struct result r;
	struct skiff_neigh n;

	(void)state;
	REQUIRE_ROOT();
	build_arp(&f, NO_VLAN, 1, peer_mac, PEER_IP, zero_mac, DED_IP);
	assert_verdict(run(&f, &r), XDP_TX);
	expect_arp_reply(&want, NO_VLAN, 0, peer_mac, PEER_IP, DED_IP);
	assert_int_equal(r.len, want.len);
	assert_memory_equal(r.b, want.b, want.len);
	COUNTERS(C(arp_reply, 1), C(arp_learn, 1));

	/* the requester was learned */
	assert_true(get_neigh(PEER_IP, &n));
	assert_memory_equal(n.mac, peer_mac, 6);
	assert_int_equal(n.state, SKIFF_NEIGH_REACHABLE);
	assert_true(n.updated_ns > 0);
	assert_int_equal(get_config().neigh_gen, 0); /* created, not changed */
}

static void arp_reply_keeps_padding_and_vlan_tag(void **state)
{
	struct frame f, want;
	struct result r;

	(void)state;
	REQUIRE_ROOT();
	set_config(100, SKIFF_CFG_ENABLED);
	build_arp(&f, 100, 1, peer_mac, PEER_IP, zero_mac, DED_IP);
	f.len = 64; /* minimum frame, zero padded */
	assert_verdict(run(&f, &r), XDP_TX);
	expect_arp_reply(&want, 100, ETH_P_8021Q, peer_mac, PEER_IP, DED_IP);
	put16(want.b + 14, get16(f.b + 14)); /* TCI as received */
	want.len = 64;
	assert_int_equal(r.len, 64);
	assert_memory_equal(r.b, want.b, want.len);
	/* An 802.1ad S-tag with the same VID is not ours: the kernel's, untouched. */
	build_arp(&f, 100, 1, peer_mac, PEER_IP, zero_mac, DED_IP);
	put16(f.b + 12, ETH_P_8021AD);
	f.len = 64;
	assert_verdict_untouched(&f, &r, XDP_PASS);
	COUNTERS(C(arp_reply, 1), C(arp_learn, 1), C(pass_vlan, 1), C(to_kernel, 1));
}

static void arp_probe_is_answered_like_linux_and_not_learned(void **state)
{
	struct frame f, want;
	struct result r;

	(void)state;
	REQUIRE_ROOT();
	/* RFC 5227 2.1.1: sender IP 0, target the address being probed */
	build_arp(&f, NO_VLAN, 1, peer_mac, 0, zero_mac, DED_IP);
	assert_verdict(run(&f, &r), XDP_TX);
	expect_arp_reply(&want, NO_VLAN, 0, peer_mac, 0, DED_IP);
	assert_int_equal(r.len, want.len);
	assert_memory_equal(r.b, want.b, want.len);
	assert_false(get_neigh(0, &(struct skiff_neigh){}));
	COUNTERS(C(arp_reply, 1));
}

/*
 * One ARP frame from PEER_IP at peer_mac (op 1 request, 2 reply, to tha and
 * tpa) goes to the kernel untouched, counted as reason, and its sender is
 * learned.
 */
static void check_arp_passes_and_learns(uint16_t op, const uint8_t *tha, uint32_t tpa,
					const char *reason)
{
	struct frame f;
	struct result r;
	struct skiff_neigh n;

	build_arp(&f, NO_VLAN, op, peer_mac, PEER_IP, tha, tpa);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	assert_true(get_neigh(PEER_IP, &n));
	assert_memory_equal(n.mac, peer_mac, 6);
	COUNTERS(C(arp_learn, 1), reason, (uint64_t)1, C(to_kernel, 1));
}

static void arp_request_for_shared_address_is_learned_and_left_to_kernel(void **state)
{
	(void)state;
	REQUIRE_ROOT();
	check_arp_passes_and_learns(1, zero_mac, SHR_IP, "pass_shared");
}

static void arp_for_other_address_passes_and_is_not_learned(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	REQUIRE_ROOT();
	build_arp(&f, NO_VLAN, 1, peer_mac, PEER_IP, zero_mac, OTHER_IP);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	build_arp(&f, NO_VLAN, 2, peer_mac, PEER_IP, other_mac, OTHER_IP);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	assert_false(get_neigh(PEER_IP, &(struct skiff_neigh){}));
	COUNTERS(C(pass_not_ours, 2), C(to_kernel, 2));
}

static void arp_reply_for_dedicated_address_without_xsk_passes(void **state)
{
	(void)state;
	REQUIRE_ROOT();
	check_arp_passes_and_learns(2, our_mac, DED_IP, "no_xsk");
}

static void arp_reply_for_dedicated_address_goes_to_xsk(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	REQUIRE_XSK();
	set_xsk(true);
	build_arp(&f, NO_VLAN, 2, peer_mac, PEER_IP, our_mac, DED_IP);
	assert_verdict_untouched(&f, &r, XDP_REDIRECT);
	COUNTERS(C(arp_learn, 1), C(arp_to_stack, 1), C(to_stack, 1));
}

static void arp_reply_for_shared_address_is_learned_and_passed(void **state)
{
	(void)state;
	REQUIRE_ROOT();
	check_arp_passes_and_learns(2, our_mac, SHR_IP, "pass_shared");
}

static void gratuitous_arp_updates_existing_entry_only(void **state)
{
	struct frame f;
	struct result r;
	struct skiff_neigh n;

	(void)state;
	REQUIRE_ROOT();
	/* no entry: nothing is created, by a request or a reply */
	build_arp(&f, NO_VLAN, 1, peer_mac, PEER_IP, zero_mac, PEER_IP);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	build_arp(&f, NO_VLAN, 2, peer_mac, PEER_IP, bcast_mac, PEER_IP);
	assert_verdict(run(&f, &r), XDP_PASS);
	assert_false(get_neigh(PEER_IP, &n));
	COUNTERS(C(pass_not_ours, 2), C(to_kernel, 2));

	/* existing entry, new MAC: updated, and the generation moves */
	set_neigh(PEER_IP, other_mac, SKIFF_NEIGH_REACHABLE, 1);
	build_arp(&f, NO_VLAN, 1, peer_mac, PEER_IP, zero_mac, PEER_IP);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	assert_true(get_neigh(PEER_IP, &n));
	assert_memory_equal(n.mac, peer_mac, 6);
	assert_int_equal(n.state, SKIFF_NEIGH_REACHABLE);
	assert_true(n.updated_ns > 1);
	assert_int_equal(get_config().neigh_gen, 1);
	COUNTERS(C(pass_not_ours, 3), C(to_kernel, 3), C(arp_learn, 1));
}

static void static_neighbour_is_never_overwritten(void **state)
{
	struct frame f;
	struct result r;
	struct skiff_neigh n;

	(void)state;
	REQUIRE_ROOT();
	set_neigh(PEER_IP, other_mac, SKIFF_NEIGH_STATIC, 5);
	build_arp(&f, NO_VLAN, 1, peer_mac, PEER_IP, zero_mac, DED_IP); /* request */
	assert_verdict(run(&f, &r), XDP_TX);
	build_arp(&f, NO_VLAN, 2, peer_mac, PEER_IP, our_mac, SHR_IP); /* reply */
	assert_verdict(run(&f, &r), XDP_PASS);
	build_arp(&f, NO_VLAN, 1, peer_mac, PEER_IP, zero_mac, PEER_IP); /* gratuitous */
	assert_verdict(run(&f, &r), XDP_PASS);
	assert_true(get_neigh(PEER_IP, &n));
	assert_memory_equal(n.mac, other_mac, 6);
	assert_int_equal(n.state, SKIFF_NEIGH_STATIC);
	assert_int_equal(n.updated_ns, 5);
	assert_int_equal(get_config().neigh_gen, 0);
	COUNTERS(C(arp_reply, 1), C(pass_shared, 1), C(pass_not_ours, 1), C(to_kernel, 2));
}

static void relearning_bumps_generation_only_when_mac_changes(void **state)
{
	struct frame f;
	struct result r;
	struct skiff_neigh n;
	uint64_t first;

	(void)state;
	REQUIRE_ROOT();
	build_arp(&f, NO_VLAN, 1, peer_mac, PEER_IP, zero_mac, DED_IP);
	assert_verdict(run(&f, &r), XDP_TX);
	assert_true(get_neigh(PEER_IP, &n));
	first = n.updated_ns;
	/* same MAC: refreshed, generation unchanged */
	assert_verdict(run(&f, &r), XDP_TX);
	assert_true(get_neigh(PEER_IP, &n));
	assert_true(n.updated_ns >= first);
	assert_int_equal(get_config().neigh_gen, 0);
	/* the host moved to another MAC: generation bumps */
	build_arp(&f, NO_VLAN, 1, other_mac, PEER_IP, zero_mac, DED_IP);
	assert_verdict(run(&f, &r), XDP_TX);
	assert_true(get_neigh(PEER_IP, &n));
	assert_memory_equal(n.mac, other_mac, 6);
	assert_int_equal(get_config().neigh_gen, 1);
	/* a second host: created, no bump */
	build_arp(&f, NO_VLAN, 1, peer_mac, PEER2_IP, zero_mac, DED_IP);
	assert_verdict(run(&f, &r), XDP_TX);
	assert_int_equal(get_config().neigh_gen, 1);
	COUNTERS(C(arp_reply, 4), C(arp_learn, 4));
}

static void arp_from_group_mac_is_dropped_and_not_learned(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	REQUIRE_ROOT();
	build_arp(&f, NO_VLAN, 1, bcast_mac, PEER_IP, zero_mac, DED_IP);
	assert_verdict(run(&f, &r), XDP_DROP);
	build_arp(&f, NO_VLAN, 1, bcast_mac, PEER_IP, zero_mac, SHR_IP);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	assert_false(get_neigh(PEER_IP, &(struct skiff_neigh){}));
	COUNTERS(C(drop_arp_malformed, 1), C(pass_shared, 1), C(to_kernel, 1));
}

static void arp_other_layouts_and_ops_pass_as_not_ours(void **state)
{
	struct frame f;
	struct result r;
	int i;

	(void)state;
	REQUIRE_ROOT();
	for (i = 0; i < 5; i++) {
		build_arp(&f, NO_VLAN, 1, peer_mac, PEER_IP, zero_mac, DED_IP);
		switch (i) {
		case 0:
			put16(f.b + f.l3, 6);
			break; /* htype IEEE 802 */
		case 1:
			put16(f.b + f.l3 + 2, ETH_P_IPV6);
			break;
		case 2:
			f.b[f.l3 + 4] = 8;
			break; /* hlen */
		case 3:
			f.b[f.l3 + 5] = 16;
			break; /* plen */
		case 4:
			put16(f.b + f.l3 + 6, 3);
			break; /* RARP request */
		}
		assert_verdict_untouched(&f, &r, XDP_PASS);
	}
	assert_false(get_neigh(PEER_IP, &(struct skiff_neigh){}));
	COUNTERS(C(pass_not_ours, 5), C(to_kernel, 5));
}

/* ---- truncation: every length, every header boundary ---- */

/*
 * Run every prefix of f (from the Ethernet header on; test_run rejects
 * shorter) and check nothing is sent or changed: PASS untouched or a
 * counted DROP.  Returns how many of each.
 */
static void run_prefixes(const struct frame *f, size_t upto, unsigned *passes, unsigned *drops)
{
	struct result r;
	size_t len;

	*passes = *drops = 0;
	for (len = 0; len < upto; len++) {
		int err = run_frame(f->b, len, &r);

		if (len < ETH_LEN) {
			assert_int_equal(err, -EINVAL);
			continue;
		}
		assert_int_equal(err, 0);
		if (r.verdict == XDP_PASS) {
			assert_int_equal(r.len, len);
			assert_memory_equal(r.b, f->b, len);
			(*passes)++;
		} else if (r.verdict == XDP_DROP) {
			(*drops)++;
		} else {
			fail_msg("%zu-byte prefix: verdict %s", len, verdict_name(r.verdict));
		}
	}
}

static void truncated_arp_passes_at_every_length(void **state)
{
	struct frame f;
	unsigned passes, drops;
	int vlan;

	(void)state;
	REQUIRE_ROOT();
	for (vlan = NO_VLAN; vlan <= 0; vlan++) { /* untagged, then priority-tagged */
		test_setup(NULL);
		build_arp(&f, vlan, 1, peer_mac, PEER_IP, zero_mac, DED_IP);
		run_prefixes(&f, f.len, &passes, &drops);
		assert_int_equal(drops, 0);
		assert_int_equal(passes, f.len - ETH_LEN);
		COUNTERS(C(pass_truncated, passes), C(to_kernel, passes));
		assert_false(get_neigh(PEER_IP, &(struct skiff_neigh){}));
	}
}

static void truncated_echo_is_never_answered(void **state)
{
	struct frame f;
	unsigned passes, drops;
	struct skiff_xdp_stats st;

	(void)state;
	REQUIRE_ROOT();
	build_echo(&f, 0, DED_IP, 56, 0, 0);
	run_prefixes(&f, f.len, &passes, &drops);
	st = stats_sum();
	/* up to the end of the IPv4 header: too short to be ours */
	assert_int_equal(st.pass_truncated, ETH_LEN + VLAN_LEN + IP_LEN - ETH_LEN);
	/* from there on the header says the datagram is longer: malformed */
	assert_int_equal(st.drop_ip_malformed, f.len - (ETH_LEN + VLAN_LEN + IP_LEN));
	assert_int_equal(passes, st.pass_truncated);
	assert_int_equal(drops, st.drop_ip_malformed);
	assert_int_equal(st.icmp_echo_reply, 0);
}

static void truncated_udp_and_tcp_are_never_steered(void **state)
{
	struct frame f;
	unsigned passes, drops;
	struct skiff_xdp_stats st;

	(void)state;
	REQUIRE_ROOT();
	add_port(0, SKIFF_PORT, IPPROTO_UDP);
	add_port(0, SKIFF_PORT, IPPROTO_TCP);
	build_udp(&f, SHR_IP, SKIFF_PORT, 4, 0, 1);
	run_prefixes(&f, f.len, &passes, &drops);
	st = stats_sum();
	assert_int_equal(st.pass_truncated, IP_LEN);
	assert_int_equal(st.drop_ip_malformed, f.len - ETH_LEN - IP_LEN);
	assert_int_equal(st.to_stack + st.no_xsk, 0);

	test_setup(NULL);
	add_port(0, SKIFF_PORT, IPPROTO_TCP);
	build_tcp(&f, SHR_IP, SKIFF_PORT);
	run_prefixes(&f, f.len, &passes, &drops);
	st = stats_sum();
	assert_int_equal(st.pass_truncated, IP_LEN);
	assert_int_equal(st.drop_ip_malformed, f.len - ETH_LEN - IP_LEN);
	assert_int_equal(st.to_stack + st.no_xsk, 0);
}

/* The datagram is whole but says its UDP/TCP header is cut short. */
static void short_l4_header_on_shared_address_is_dropped(void **state)
{
	struct frame f;
	struct result r;
	size_t l4;

	(void)state;
	REQUIRE_ROOT();
	add_port(0, SKIFF_PORT, IPPROTO_UDP);
	add_port(0, SKIFF_PORT, IPPROTO_TCP);
	for (l4 = 0; l4 < UDP_HLEN; l4++) {
		build_udp(&f, SHR_IP, SKIFF_PORT, 0, 0, 1);
		put16(f.b + f.l3 + 2, (uint16_t)(IP_LEN + l4));
		fix_ip_csum(&f);
		assert_verdict(run(&f, &r), XDP_DROP);
	}
	for (l4 = 0; l4 < TCP_HLEN; l4++) {
		build_tcp(&f, SHR_IP, SKIFF_PORT);
		put16(f.b + f.l3 + 2, (uint16_t)(IP_LEN + l4));
		fix_ip_csum(&f);
		assert_verdict(run(&f, &r), XDP_DROP);
	}
	COUNTERS(C(drop_l4_truncated, UDP_HLEN + TCP_HLEN));
}

/* ---- 4: IPv4 validation ---- */

static void ipv4_for_other_address_passes_untouched(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	REQUIRE_ROOT();
	build_echo(&f, NO_VLAN, OTHER_IP, 56, 0, 0);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	/* even when malformed: not ours to judge */
	f.b[f.l3] = 0x43;
	assert_verdict_untouched(&f, &r, XDP_PASS);
	COUNTERS(C(pass_not_ours, 2), C(to_kernel, 2));
}

static void bad_ihl_version_and_lengths_are_dropped(void **state)
{
	struct frame f;
	struct result r;
	int i;

	(void)state;
	REQUIRE_ROOT();
	for (i = 0; i < 7; i++) {
		uint8_t *ip;

		build_udp(&f, DED_IP, SKIFF_PORT, 32, 0, 1);
		ip = f.b + f.l3;
		switch (i) {
		case 0:
			ip[0] = 0x44;
			break; /* IHL 4 */
		case 1:
			ip[0] = 0x40;
			break; /* IHL 0 */
		case 2:
			ip[0] = 0x4f;
			f.len = f.l3 + 40;
			put16(ip + 2, 40);
			break; /* IHL past end */
		case 3:
			ip[0] = 0x65;
			break; /* version 6 */
		case 4:
			put16(ip + 2, 19);
			break; /* tot_len < IHL*4 */
		case 5:
			put16(ip + 2, (uint16_t)(f.len - f.l3 + 1));
			break; /* past frame */
		case 6:
			put16(ip + 2, 0xffff);
			break;
		}
		fix_ip_csum(&f);
		assert_verdict(run(&f, &r), XDP_DROP);
	}
	COUNTERS(C(drop_ip_malformed, 7));
}

static void ethernet_padding_after_datagram_is_accepted(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	REQUIRE_ROOT();
	build_udp(&f, DED_IP, SKIFF_PORT, 2, 0, 1); /* 44 bytes: padded to 60 */
	f.len = 60;
	assert_verdict_untouched(&f, &r, XDP_PASS);
	COUNTERS(C(no_xsk, 1), C(to_kernel, 1));
}

/* ---- 4: ICMP echo ---- */

/* The reply as RFC 792 defines it, built here from the request. */
static void expect_echo_reply(const struct frame *req, struct frame *want)
{
	uint8_t *ip, *icmp;
	size_t tot;

	*want = *req;
	memcpy(want->b, req->b + 6, 6);
	memcpy(want->b + 6, our_mac, 6);
	ip = want->b + want->l3;
	memcpy(ip + 12, req->b + req->l3 + 16, 4);
	memcpy(ip + 16, req->b + req->l3 + 12, 4);
	ip[8] = 64;
	fix_ip_csum(want);
	tot = get16(ip + 2);
	icmp = ip + IP_LEN;
	icmp[0] = 0;
	icmp[2] = icmp[3] = 0;
	memcpy(icmp + 2, (uint16_t[]){csum(icmp, tot - IP_LEN)}, 2);
}

static void check_echo(size_t datalen, int vlan)
{
	struct frame f, want;
	struct result r;
	const uint8_t *ip;

	test_setup(NULL);
	if (vlan >= 0)
		set_config((uint16_t)vlan, SKIFF_CFG_ENABLED);
	build_echo(&f, vlan, DED_IP, datalen, 0, 0);
	if (run(&f, &r) != XDP_TX) {
		struct skiff_xdp_stats st = stats_sum();

		fail_msg("echo of %zu data bytes: verdict %s (drop_ip_malformed %llu, "
			 "drop_icmp_csum %llu, test_run output %zu bytes)",
			 datalen, verdict_name(r.verdict), (unsigned long long)st.drop_ip_malformed,
			 (unsigned long long)st.drop_icmp_csum, r.len);
	}
	expect_echo_reply(&f, &want);
	assert_int_equal(r.len, want.len);
	assert_memory_equal(r.b, want.b, want.len);
	/* and, independently, the reply's checksums verify */
	ip = r.b + f.l3;
	assert_true(csum_ok(ip, IP_LEN));
	assert_true(csum_ok(ip + IP_LEN, ICMP_HLEN + datalen));
	assert_int_equal(ip[IP_LEN], 0);
	COUNTERS(C(icmp_echo_reply, 1));
}

static void echo_request_is_answered_in_place_56(void **state)
{
	(void)state;
	REQUIRE_ROOT();
	check_echo(56, NO_VLAN);
	check_echo(56, 100);
}

static void echo_request_is_answered_in_place_1472(void **state)
{
	(void)state;
	REQUIRE_ROOT();
	check_echo(1472, NO_VLAN);
	check_echo(1472, 100);
}

static void echo_request_is_answered_in_place_4000(void **state)
{
	(void)state;
	REQUIRE_ROOT();
	/*
	 * 3478 bytes make a 3520-byte frame, the largest test_run keeps linear
	 * (PAGE_SIZE - XDP headroom - skb_shared_info); 4000 bytes arrive as a
	 * linear part plus one fragment, summed whole by the program all the same.
	 */
	check_echo(3478, NO_VLAN);
	check_echo(4000, NO_VLAN);
}

static void echo_request_is_answered_at_every_size(void **state)
{
	size_t n;

	(void)state;
	REQUIRE_ROOT();
	/* every tail length (0..3 bytes after whole words), every chunk edge */
	for (n = 0; n <= 600; n++)
		check_echo(n, NO_VLAN);
	for (n = 1020; n <= 1030; n++)
		check_echo(n, NO_VLAN);
	check_echo(9000, NO_VLAN);
}

static void echo_with_bad_checksums_is_dropped(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	REQUIRE_ROOT();
	build_echo(&f, NO_VLAN, DED_IP, 56, 0, 0);
	f.b[f.l3 + 10] ^= 0x01;
	assert_verdict(run(&f, &r), XDP_DROP);
	build_echo(&f, NO_VLAN, DED_IP, 1472, 0, 0);
	f.b[f.len - 1] ^= 0x80; /* last data byte: the whole message is summed */
	assert_verdict(run(&f, &r), XDP_DROP);
	build_echo(&f, NO_VLAN, DED_IP, 57, 0, 0);
	f.b[f.len - 1] ^= 0x01; /* odd length: the padded last byte */
	assert_verdict(run(&f, &r), XDP_DROP);
	COUNTERS(C(drop_ip_csum, 1), C(drop_icmp_csum, 2));
}

static void short_icmp_is_dropped(void **state)
{
	struct frame f;
	struct result r;
	size_t n;

	(void)state;
	REQUIRE_ROOT();
	for (n = 0; n < ICMP_HLEN; n++) {
		build_echo(&f, NO_VLAN, DED_IP, 0, 0, 0);
		put16(f.b + f.l3 + 2, (uint16_t)(IP_LEN + n));
		fix_ip_csum(&f);
		assert_verdict(run(&f, &r), XDP_DROP);
	}
	COUNTERS(C(drop_icmp_malformed, ICMP_HLEN));
}

static void echo_with_options_or_fragmented_goes_to_daemon(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	REQUIRE_ROOT();
	build_echo(&f, NO_VLAN, DED_IP, 56, 0, 4); /* IHL 6 */
	assert_verdict_untouched(&f, &r, XDP_PASS);
	build_echo(&f, NO_VLAN, DED_IP, 56, 0x2000, 0); /* MF */
	assert_verdict_untouched(&f, &r, XDP_PASS);
	build_echo(&f, NO_VLAN, DED_IP, 56, 0x00b9, 0); /* offset 1480 */
	assert_verdict_untouched(&f, &r, XDP_PASS);
	/* an ICMP that is not an echo request, and one from a broadcast source */
	build_echo(&f, NO_VLAN, DED_IP, 56, 0, 0);
	f.b[f.l3 + IP_LEN] = 13; /* timestamp */
	assert_verdict_untouched(&f, &r, XDP_PASS);
	build_echo(&f, NO_VLAN, DED_IP, 56, 0, 0);
	memset(f.b + f.l3 + 12, 0xff, 4);
	fix_ip_csum(&f);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	COUNTERS(C(no_xsk, 5), C(to_kernel, 5));
}

static void echo_to_shared_address_is_left_to_kernel(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	REQUIRE_ROOT();
	build_echo(&f, NO_VLAN, SHR_IP, 56, 0, 0);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	COUNTERS(C(pass_shared, 1), C(to_kernel, 1));
}

/* ---- 4: steering ---- */

static void dedicated_address_without_xsk_passes(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	REQUIRE_ROOT();
	build_udp(&f, DED_IP, 9999, 100, 0, 1);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	COUNTERS(C(no_xsk, 1), C(to_kernel, 1));
}

static void dedicated_address_sends_everything_else_to_xsk(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	REQUIRE_XSK();
	set_xsk(true);
	build_udp(&f, DED_IP, 9999, 100, 0, 1); /* any port */
	assert_verdict_untouched(&f, &r, XDP_REDIRECT);
	build_tcp(&f, DED_IP, 80);
	assert_verdict(run(&f, &r), XDP_REDIRECT);
	build_ipv4(&f, NO_VLAN, 47, PEER_IP, DED_IP, 0, 1, 0, (uint8_t[8]){}, 8); /* GRE */
	assert_verdict(run(&f, &r), XDP_REDIRECT);
	build_udp(&f, DED_IP, 9999, 1000, 0x2000, 9); /* first fragment */
	assert_verdict(run(&f, &r), XDP_REDIRECT);
	build_udp(&f, DED_IP, 9999, 1000, 0x00b9, 9); /* later fragment */
	assert_verdict(run(&f, &r), XDP_REDIRECT);
	build_echo(&f, NO_VLAN, DED_IP, 56, 0x2000, 0); /* fragmented ping */
	assert_verdict(run(&f, &r), XDP_REDIRECT);
	COUNTERS(C(to_stack, 6));
	assert_int_equal(stats_sum().frag_first + stats_sum().frag_follow, 0);
}

/* bpf_ktime_get_ns()'s clock */
static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void set_failover(uint64_t failover_ns, uint64_t beat_ns)
{
	struct skiff_config c = get_config();
	uint32_t zero = 0;

	c.failover_ns = failover_ns;
	c.beat_ns[0] = beat_ns;
	assert_int_equal(bpf_map_update_elem(fx.config, &zero, &c, BPF_ANY), 0);
}

static void dead_daemon_fails_open_but_arp_and_ping_stay_answered(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	REQUIRE_XSK();
	set_xsk(true);
	add_port(SHR_IP, SKIFF_PORT, IPPROTO_UDP);
	set_failover(500000000, mono_ns() - 600000000); /* last beat 600 ms ago */

	build_udp(&f, SHR_IP, SKIFF_PORT, 64, 0, 1); /* an owned port */
	assert_verdict_untouched(&f, &r, XDP_PASS);
	build_tcp(&f, DED_IP, 80); /* everything of a dedicated address */
	assert_verdict_untouched(&f, &r, XDP_PASS);
	COUNTERS(C(pass_daemon_dead, 2), C(to_kernel, 2));

	/* XDP's own answers do not need the daemon */
	build_echo(&f, NO_VLAN, DED_IP, 56, 0, 0);
	assert_verdict(run(&f, &r), XDP_TX);
	COUNTERS(C(pass_daemon_dead, 2), C(to_kernel, 2), C(icmp_echo_reply, 1));
}

static void live_daemon_and_disabled_failover_steer_as_usual(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	REQUIRE_XSK();
	set_xsk(true);
	add_port(SHR_IP, SKIFF_PORT, IPPROTO_UDP);

	set_failover(500000000, mono_ns()); /* beat just now */
	build_udp(&f, SHR_IP, SKIFF_PORT, 64, 0, 1);
	assert_verdict(run(&f, &r), XDP_REDIRECT);
	/* a beat stamped on another CPU after the program read the clock */
	set_failover(500000000, mono_ns() + 1000000);
	assert_verdict(run(&f, &r), XDP_REDIRECT);
	set_failover(0, 0); /* never fail open, even with no beat at all */
	assert_verdict(run(&f, &r), XDP_REDIRECT);
	COUNTERS(C(to_stack, 3));
}

static void shared_address_steers_owned_ports_only(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	REQUIRE_XSK();
	set_xsk(true);
	add_port(SHR_IP, SKIFF_PORT, IPPROTO_UDP); /* exact address */
	add_port(0, 9000, IPPROTO_TCP);		   /* every skiff address */

	build_udp(&f, SHR_IP, SKIFF_PORT, 64, 0, 1);
	assert_verdict_untouched(&f, &r, XDP_REDIRECT);
	build_tcp(&f, SHR_IP, 9000);
	assert_verdict(run(&f, &r), XDP_REDIRECT);
	COUNTERS(C(to_stack, 2));

	/* the kernel's ports, and the protocol the port is not owned for */
	build_udp(&f, SHR_IP, KERNEL_PORT, 64, 0, 1);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	build_tcp(&f, SHR_IP, SKIFF_PORT);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	build_udp(&f, SHR_IP, 9000, 64, 0, 1);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	/* another protocol on the shared address */
	build_ipv4(&f, NO_VLAN, 47, PEER_IP, SHR_IP, 0, 1, 0, (uint8_t[8]){}, 8);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	COUNTERS(C(to_stack, 2), C(pass_port, 3), C(pass_shared, 1), C(to_kernel, 4));
}

static void shared_address_owned_port_without_xsk_passes(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	REQUIRE_ROOT();
	add_port(0, SKIFF_PORT, IPPROTO_UDP);
	build_udp(&f, SHR_IP, SKIFF_PORT, 64, 0, 1);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	/* exact-address entry for another address does not own this one */
	test_setup(NULL);
	add_port(DED_IP, SKIFF_PORT, IPPROTO_UDP);
	build_udp(&f, SHR_IP, SKIFF_PORT, 64, 0, 1);
	assert_verdict(run(&f, &r), XDP_PASS);
	COUNTERS(C(pass_port, 1), C(to_kernel, 1));
}

/* ---- 4: fragments on a shared address ---- */

static bool frag_lookup(uint32_t saddr, uint32_t daddr, uint16_t id, uint8_t proto,
			struct skiff_frag_val *v)
{
	struct skiff_frag_key k = {.saddr = saddr, .daddr = daddr, .id = htons(id), .proto = proto};

	return bpf_map_lookup_elem(fx.frags, &k, v) == 0;
}

static void shared_fragments_follow_first_fragment_to_xsk(void **state)
{
	struct frame f;
	struct result r;
	struct skiff_frag_val v;

	(void)state;
	REQUIRE_XSK();
	set_xsk(true);
	add_port(0, SKIFF_PORT, IPPROTO_UDP);
	/* 8000-byte datagram, MTU 1500: first, middle and last fragments */
	build_udp(&f, SHR_IP, SKIFF_PORT, 1472, 0x2000, 77);
	assert_verdict(run(&f, &r), XDP_REDIRECT);
	assert_true(frag_lookup(PEER_IP, SHR_IP, 77, IPPROTO_UDP, &v));
	assert_int_equal(v.to_stack, 1);
	build_udp(&f, SHR_IP, 0, 1472, 0x2000 | 185, 77);
	assert_verdict(run(&f, &r), XDP_REDIRECT);
	build_udp(&f, SHR_IP, 0, 100, 5 * 185, 77);
	assert_verdict_untouched(&f, &r, XDP_REDIRECT);
	COUNTERS(C(frag_first, 1), C(frag_follow, 2), C(to_stack, 3));
}

static void shared_fragments_follow_first_fragment_to_kernel(void **state)
{
	struct frame f;
	struct result r;
	struct skiff_frag_val v;

	(void)state;
	REQUIRE_ROOT();
	add_port(0, SKIFF_PORT, IPPROTO_UDP);
	build_udp(&f, SHR_IP, KERNEL_PORT, 1472, 0x2000, 78);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	assert_true(frag_lookup(PEER_IP, SHR_IP, 78, IPPROTO_UDP, &v));
	assert_int_equal(v.to_stack, 0);
	/* a later fragment whose bytes happen to look like an owned port */
	build_udp(&f, SHR_IP, SKIFF_PORT, 100, 185, 78);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	COUNTERS(C(frag_first, 1), C(frag_follow, 1), C(pass_port, 2), C(to_kernel, 2));
}

static void shared_fragment_before_its_first_goes_to_kernel(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	REQUIRE_ROOT();
	add_port(0, SKIFF_PORT, IPPROTO_UDP);
	build_udp(&f, SHR_IP, SKIFF_PORT, 100, 185, 79);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	/* same id, but another source or protocol: another datagram */
	build_udp(&f, SHR_IP, SKIFF_PORT, 1472, 0x2000, 80);
	assert_verdict(run(&f, &r), XDP_PASS); /* first: owned, but no XSK */
	build_udp(&f, SHR_IP, 0, 100, 185, 80);
	memcpy(f.b + f.l3 + 12, &(uint32_t){PEER2_IP}, 4);
	fix_ip_csum(&f);
	assert_verdict(run(&f, &r), XDP_PASS);
	COUNTERS(C(pass_frag_unknown, 2), C(frag_first, 1), C(no_xsk, 1), C(to_kernel, 3));
}

static void short_first_fragment_is_dropped_and_not_remembered(void **state)
{
	struct frame f;
	struct result r;
	struct skiff_frag_val v;

	(void)state;
	REQUIRE_ROOT();
	add_port(0, SKIFF_PORT, IPPROTO_TCP);
	/* RFC 1858: a first fragment with 8 bytes of a TCP header */
	build_tcp(&f, SHR_IP, SKIFF_PORT);
	put16(f.b + f.l3 + 2, IP_LEN + 8);
	put16(f.b + f.l3 + 6, 0x2000);
	fix_ip_csum(&f);
	assert_verdict(run(&f, &r), XDP_DROP);
	assert_false(frag_lookup(PEER_IP, SHR_IP, 1, IPPROTO_TCP, &v));
	COUNTERS(C(drop_l4_truncated, 1));
}

/* ---- 4: ICMP errors on a shared address ---- */

#define ROUTER_IP PEER2_IP
#define QUOTE_OFF (IP_LEN + ICMP_HLEN) /* quoted header, from the outer IPv4 header */

static void fix_icmp_csum(struct frame *f)
{
	uint8_t *ip = f->b + f->l3, *icmp;
	size_t hlen = (ip[0] & 0xf) * 4;

	icmp = ip + hlen;
	icmp[2] = icmp[3] = 0;
	memcpy(icmp + 2, (uint16_t[]){csum(icmp, get16(ip + 2) - hlen)}, 2);
}

/*
 * An ICMP error from a router to daddr quoting a packet we sent: the
 * quoted IPv4 header (IHL 5, qsaddr -> PEER_IP, protocol qproto), then
 * qdata bytes of its transport header (source port qsport, destination
 * 40000, then a pattern).  info is the ICMP header's second word (the
 * next-hop MTU of fragmentation needed, RFC 1191).
 */
static void build_icmp_err(struct frame *f, uint32_t daddr, uint8_t type, uint8_t code,
			   uint16_t info, uint8_t qproto, uint32_t qsaddr, uint16_t qsport,
			   size_t qdata)
{
	uint8_t *q = l4buf + ICMP_HLEN;
	size_t i;

	memset(l4buf, 0, ICMP_HLEN + IP_LEN + qdata);
	l4buf[0] = type;
	l4buf[1] = code;
	put16(l4buf + 6, info);
	q[0] = 0x45;
	put16(q + 2, (uint16_t)(IP_LEN + 1400)); /* the original was longer */
	put16(q + 4, 0x5151);
	put16(q + 6, 0x4000); /* DF */
	q[8] = 1;
	q[9] = qproto;
	memcpy(q + 12, &qsaddr, 4);
	memcpy(q + 16, &(uint32_t){PEER_IP}, 4);
	memcpy(q + 10, (uint16_t[]){csum(q, IP_LEN)}, 2);
	for (i = 0; i < qdata; i++)
		q[IP_LEN + i] = (uint8_t)(i * 13 + 1);
	if (qdata >= 2)
		put16(q + IP_LEN, qsport);
	if (qdata >= 4)
		put16(q + IP_LEN + 2, 40000);
	memcpy(l4buf + 2, (uint16_t[]){csum(l4buf, ICMP_HLEN + IP_LEN + qdata)}, 2);
	build_ipv4(f, NO_VLAN, IPPROTO_ICMP, ROUTER_IP, daddr, 0, 0x6161, 0, l4buf,
		   ICMP_HLEN + IP_LEN + qdata);
}

static void icmp_errors_quoting_owned_udp_flow_go_to_xsk(void **state)
{
	static const uint8_t types[][2] = {{3, 3}, {3, 1}, {11, 0}, {12, 0}};
	struct frame f;
	struct result r;
	size_t i;

	(void)state;
	REQUIRE_XSK();
	set_xsk(true);
	add_port(SHR_IP, SKIFF_PORT, IPPROTO_UDP);
	/* port and host unreachable, time exceeded, parameter problem */
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		build_icmp_err(&f, SHR_IP, types[i][0], types[i][1], 0, IPPROTO_UDP, SHR_IP,
			       SKIFF_PORT, UDP_HLEN);
		assert_verdict_untouched(&f, &r, XDP_REDIRECT);
	}
	/* a quote of 548 bytes, as Linux sends (576 in all) */
	build_icmp_err(&f, SHR_IP, 3, 3, 0, IPPROTO_UDP, SHR_IP, SKIFF_PORT,
		       576 - QUOTE_OFF - IP_LEN);
	assert_verdict_untouched(&f, &r, XDP_REDIRECT);
	COUNTERS(C(icmp_err_to_stack, 5), C(to_stack, 5));
}

static void frag_needed_quoting_owned_tcp_port_goes_to_xsk(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	REQUIRE_XSK();
	set_xsk(true);
	add_port(SHR_IP, 9000, IPPROTO_TCP);
	/* RFC 1191: code 4 with the next-hop MTU; RFC 792 minimum quote */
	build_icmp_err(&f, SHR_IP, 3, 4, 1400, IPPROTO_TCP, SHR_IP, 9000, 8);
	assert_verdict_untouched(&f, &r, XDP_REDIRECT);
	/* the whole TCP header quoted */
	build_icmp_err(&f, SHR_IP, 3, 4, 1280, IPPROTO_TCP, SHR_IP, 9000, TCP_HLEN);
	assert_verdict(run(&f, &r), XDP_REDIRECT);
	/* quoted options: the ports follow IHL, not a fixed offset */
	build_icmp_err(&f, SHR_IP, 3, 4, 1400, IPPROTO_TCP, SHR_IP, 0, 8 + 8);
	f.b[f.l3 + QUOTE_OFF] = 0x47;			  /* IHL 7 */
	memset(f.b + f.l3 + QUOTE_OFF + IP_LEN, 1, 8);	  /* NOP options */
	put16(f.b + f.l3 + QUOTE_OFF + IP_LEN + 8, 9000); /* source port */
	fix_icmp_csum(&f);
	assert_verdict_untouched(&f, &r, XDP_REDIRECT);
	COUNTERS(C(icmp_err_to_stack, 3), C(to_stack, 3));
}

static void icmp_error_quoting_kernel_flow_passes_untouched(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	REQUIRE_XSK();
	set_xsk(true);
	add_port(SHR_IP, SKIFF_PORT, IPPROTO_UDP);
	/* the kernel's port; the owned port's other protocol */
	build_icmp_err(&f, SHR_IP, 3, 3, 0, IPPROTO_UDP, SHR_IP, KERNEL_PORT, UDP_HLEN);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	build_icmp_err(&f, SHR_IP, 3, 4, 1400, IPPROTO_TCP, SHR_IP, SKIFF_PORT, TCP_HLEN);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	/* the DESTINATION port is not what decides: the quote is our packet */
	build_icmp_err(&f, SHR_IP, 3, 3, 0, IPPROTO_UDP, SHR_IP, KERNEL_PORT, UDP_HLEN);
	put16(f.b + f.l3 + QUOTE_OFF + IP_LEN + 2, SKIFF_PORT);
	fix_icmp_csum(&f);
	assert_verdict(run(&f, &r), XDP_PASS);
	/* a quoted ping (time exceeded for the kernel's traceroute -I) */
	build_icmp_err(&f, SHR_IP, 11, 0, 0, IPPROTO_ICMP, SHR_IP, 0x0800, 8);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	COUNTERS(C(pass_icmp_err, 4), C(to_kernel, 4));
}

static void other_icmp_to_shared_address_stays_with_kernel(void **state)
{
	static const uint8_t types[] = {0, 4, 5, 13, 14};
	struct frame f;
	struct result r;
	size_t i, n;

	(void)state;
	REQUIRE_XSK();
	set_xsk(true);
	add_port(SHR_IP, SKIFF_PORT, IPPROTO_UDP);
	/* echo reply, source quench, redirect, timestamps: not errors decided here */
	for (i = 0; i < sizeof(types); i++) {
		build_icmp_err(&f, SHR_IP, types[i], 0, 0, IPPROTO_UDP, SHR_IP, SKIFF_PORT,
			       UDP_HLEN);
		assert_verdict_untouched(&f, &r, XDP_PASS);
	}
	/* a fragmented error, and one shorter than the ICMP header */
	build_icmp_err(&f, SHR_IP, 3, 3, 0, IPPROTO_UDP, SHR_IP, SKIFF_PORT, UDP_HLEN);
	put16(f.b + f.l3 + 6, 0x2000);
	fix_ip_csum(&f);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	for (n = 0; n < ICMP_HLEN; n++) {
		build_icmp_err(&f, SHR_IP, 3, 3, 0, IPPROTO_UDP, SHR_IP, SKIFF_PORT, UDP_HLEN);
		put16(f.b + f.l3 + 2, (uint16_t)(IP_LEN + n));
		fix_ip_csum(&f);
		f.len = f.l3 + IP_LEN + n;
		assert_verdict(run(&f, &r), XDP_PASS);
	}
	COUNTERS(C(pass_shared, sizeof(types) + 1 + ICMP_HLEN),
		 C(to_kernel, sizeof(types) + 1 + ICMP_HLEN));
}

static void truncated_icmp_error_quote_passes_at_every_length(void **state)
{
	struct frame f;
	struct result r;
	size_t n;

	(void)state;
	REQUIRE_XSK();
	set_xsk(true);
	add_port(0, SKIFF_PORT, IPPROTO_UDP);
	add_port(0, SKIFF_PORT, IPPROTO_TCP);
	/* from an empty quote up to one transport byte short of RFC 792's 8 */
	for (n = 0; n < IP_LEN + 8; n++) {
		build_icmp_err(&f, SHR_IP, 3, 4, 1400, IPPROTO_TCP, SHR_IP, SKIFF_PORT, 8);
		put16(f.b + f.l3 + 2, (uint16_t)(QUOTE_OFF + n));
		fix_ip_csum(&f);
		f.len = f.l3 + QUOTE_OFF + n;
		fix_icmp_csum(&f);
		assert_verdict_untouched(&f, &r, XDP_PASS);
	}
	/* tot_len says the quote ends early, Ethernet padding follows */
	build_icmp_err(&f, SHR_IP, 3, 3, 0, IPPROTO_UDP, SHR_IP, SKIFF_PORT, UDP_HLEN);
	put16(f.b + f.l3 + 2, (uint16_t)(QUOTE_OFF + IP_LEN + 4));
	fix_ip_csum(&f);
	assert_verdict(run(&f, &r), XDP_PASS);
	COUNTERS(C(pass_icmp_quote, IP_LEN + 8 + 1), C(to_kernel, IP_LEN + 8 + 1));
}

static void icmp_error_with_bad_quoted_header_passes(void **state)
{
	static const uint8_t first[] = {0x44, 0x40, 0x41, 0x65, 0x4f};
	struct frame f;
	struct result r;
	size_t i;

	(void)state;
	REQUIRE_XSK();
	set_xsk(true);
	add_port(0, SKIFF_PORT, IPPROTO_UDP);
	/* IHL 4, 0, 1; version 6; IHL 15 with 8 bytes after 20 */
	for (i = 0; i < sizeof(first); i++) {
		build_icmp_err(&f, SHR_IP, 3, 3, 0, IPPROTO_UDP, SHR_IP, SKIFF_PORT, UDP_HLEN);
		f.b[f.l3 + QUOTE_OFF] = first[i];
		fix_icmp_csum(&f);
		assert_verdict_untouched(&f, &r, XDP_PASS);
	}
	/* a quoted later fragment: its first bytes are data, not ports */
	build_icmp_err(&f, SHR_IP, 3, 4, 1400, IPPROTO_UDP, SHR_IP, SKIFF_PORT, UDP_HLEN);
	put16(f.b + f.l3 + QUOTE_OFF + 6, 185);
	fix_icmp_csum(&f);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	COUNTERS(C(pass_icmp_quote, sizeof(first) + 1), C(to_kernel, sizeof(first) + 1));
}

static void wildcard_port_entry_owns_icmp_errors_for_its_flows(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	REQUIRE_XSK();
	set_xsk(true);
	add_port(0, SKIFF_PORT, IPPROTO_UDP);
	build_icmp_err(&f, SHR_IP, 3, 3, 0, IPPROTO_UDP, SHR_IP, SKIFF_PORT, UDP_HLEN);
	assert_verdict_untouched(&f, &r, XDP_REDIRECT);
	COUNTERS(C(icmp_err_to_stack, 1), C(to_stack, 1));

	/* a quote whose source is not the address the error came to */
	stats_reset();
	build_icmp_err(&f, SHR_IP, 3, 3, 0, IPPROTO_UDP, OTHER_IP, SKIFF_PORT, UDP_HLEN);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	/* an exact entry for another address does not own this address's flow */
	test_setup(NULL);
	set_xsk(true);
	add_port(DED_IP, SKIFF_PORT, IPPROTO_UDP);
	build_icmp_err(&f, SHR_IP, 3, 3, 0, IPPROTO_UDP, SHR_IP, SKIFF_PORT, UDP_HLEN);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	COUNTERS(C(pass_icmp_err, 1), C(to_kernel, 1));
}

static void icmp_error_for_owned_flow_without_xsk_passes(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	REQUIRE_ROOT();
	add_port(0, SKIFF_PORT, IPPROTO_UDP);
	build_icmp_err(&f, SHR_IP, 3, 3, 0, IPPROTO_UDP, SHR_IP, SKIFF_PORT, UDP_HLEN);
	assert_verdict_untouched(&f, &r, XDP_PASS);
	COUNTERS(C(no_xsk, 1), C(to_kernel, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup(fn, test_setup)
		T(disabled_config_passes_everything_untouched),
		T(every_frame_counts_rx_frames),
		T(non_ip_ethertypes_pass_untouched),
		T(vlan_tag_must_match_config),
		T(priority_tag_counts_as_untagged),
		T(arp_request_for_dedicated_address_is_answered_in_place),
		T(arp_reply_keeps_padding_and_vlan_tag),
		T(arp_probe_is_answered_like_linux_and_not_learned),
		T(arp_request_for_shared_address_is_learned_and_left_to_kernel),
		T(arp_for_other_address_passes_and_is_not_learned),
		T(arp_reply_for_dedicated_address_without_xsk_passes),
		T(arp_reply_for_dedicated_address_goes_to_xsk),
		T(arp_reply_for_shared_address_is_learned_and_passed),
		T(gratuitous_arp_updates_existing_entry_only),
		T(static_neighbour_is_never_overwritten),
		T(relearning_bumps_generation_only_when_mac_changes),
		T(arp_from_group_mac_is_dropped_and_not_learned),
		T(arp_other_layouts_and_ops_pass_as_not_ours),
		T(truncated_arp_passes_at_every_length),
		T(truncated_echo_is_never_answered),
		T(truncated_udp_and_tcp_are_never_steered),
		T(short_l4_header_on_shared_address_is_dropped),
		T(ipv4_for_other_address_passes_untouched),
		T(bad_ihl_version_and_lengths_are_dropped),
		T(ethernet_padding_after_datagram_is_accepted),
		T(echo_request_is_answered_in_place_56),
		T(echo_request_is_answered_in_place_1472),
		T(echo_request_is_answered_in_place_4000),
		T(echo_request_is_answered_at_every_size),
		T(echo_with_bad_checksums_is_dropped),
		T(short_icmp_is_dropped),
		T(echo_with_options_or_fragmented_goes_to_daemon),
		T(echo_to_shared_address_is_left_to_kernel),
		T(dedicated_address_without_xsk_passes),
		T(dedicated_address_sends_everything_else_to_xsk),
		T(dead_daemon_fails_open_but_arp_and_ping_stay_answered),
		T(live_daemon_and_disabled_failover_steer_as_usual),
		T(shared_address_steers_owned_ports_only),
		T(shared_address_owned_port_without_xsk_passes),
		T(shared_fragments_follow_first_fragment_to_xsk),
		T(shared_fragments_follow_first_fragment_to_kernel),
		T(shared_fragment_before_its_first_goes_to_kernel),
		T(short_first_fragment_is_dropped_and_not_remembered),
		T(icmp_errors_quoting_owned_udp_flow_go_to_xsk),
		T(frag_needed_quoting_owned_tcp_port_goes_to_xsk),
		T(icmp_error_quoting_kernel_flow_passes_untouched),
		T(other_icmp_to_shared_address_stays_with_kernel),
		T(truncated_icmp_error_quote_passes_at_every_length),
		T(icmp_error_with_bad_quoted_header_passes),
		T(wildcard_port_entry_owns_icmp_errors_for_its_flows),
		T(icmp_error_for_owned_flow_without_xsk_passes),
#undef T
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
