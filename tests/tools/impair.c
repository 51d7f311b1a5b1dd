// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * impair: a userspace Ethernet bridge that impairs the link it bridges.
 *
 * This kernel has no sch_netem, so the integration tests and the benchmarks
 * put a relay namespace between the peer and the dut and run this program
 * there.  It opens one AF_PACKET socket per interface (promiscuous, with
 * PACKET_IGNORE_OUTGOING so it never reads back its own transmissions) and
 * forwards every frame from A to B and from B to A, applying per direction:
 *
 *   loss %      the frame is not forwarded
 *   dup %       a second copy is sent right after the first
 *   corrupt %   one byte of the IPv4 payload is flipped, so the transport
 *               checksum catches it (non-IPv4 frames are left alone)
 *   reorder %   the frame is held back and sent after the next 1..3 frames
 *               of its direction (or after --reorder-hold ms, whichever first)
 *   delay ms    fixed one-way delay, plus uniform jitter of +-jitter ms
 *               (frames are stamped on arrival; a time-ordered heap releases them)
 *
 * Every decision comes from a seeded xorshift PRNG, one per direction, drawn
 * in a fixed order per frame: the same seed and the same frame sequence give
 * the same impairments.  Options without a suffix set both directions;
 * "-ab" (A to B) or "-ba" (B to A) set one (e.g. --loss-ab 5).
 *
 * Usage:
 *   impair --a IF1 --b IF2 [--loss P] [--dup P] [--corrupt P] [--reorder P]
 *          [--delay MS] [--jitter MS] [--reorder-hold MS] [--seed N]
 *          [--stats-file F] [--slots N]
 *
 * It prints "impair: ready" on stdout once both sockets are bound, and its
 * counters (stderr, and --stats-file as key=value lines) on SIGTERM/SIGINT;
 * SIGUSR1 rewrites the stats file without stopping.  Exit 0 after a signal,
 * 2 on bad arguments, 1 on a set-up error.
 *
 * Built by the Makefile as build/tests/tools/impair; the topology helpers in
 * tests/integration/skiffnet.py and scripts/netns-lib.sh start it.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define FRAME_MAX 2048 /* relay ends have GRO/TSO off: frames fit an MTU of 1500 */
#define BATCH 64
#define HELD_MAX 16
#define NDIR 2

struct params {
	double loss, dup, corrupt, reorder; /* percent */
	uint64_t delay_ns, jitter_ns, hold_ns;
};

struct dir_stats {
	uint64_t rx, tx, lost, dup, corrupt, reordered, tx_err, no_slot, truncated;
};

struct held {
	uint32_t slot;
	int gap;	   /* frames of this direction still to pass it */
	uint64_t deadline; /* send by then regardless */
};

struct heap_ent {
	uint64_t when;
	uint64_t seq;
	uint32_t slot;
	bool reorder;
};

struct dir {
	const char *name;
	int in_fd, out_fd;
	struct params p;
	uint64_t rng;
	struct dir_stats st;
	struct heap_ent *heap;
	uint32_t heap_len;
	struct held held[HELD_MAX];
	int nheld;
	/* popped and due, not yet accepted by the socket */
	uint32_t pend[BATCH * 2];
	int npend;
};

static unsigned char *frames; /* slots * FRAME_MAX */
static uint16_t *frame_len;
static uint32_t *free_slots;
static uint32_t nfree, nslots = 16384;
static uint64_t seq_ctr;
static volatile sig_atomic_t stop_flag, dump_flag;
static const char *stats_file;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* xorshift64*: small, fast, and good enough for coin flips. */
static uint64_t rnd(struct dir *d)
{
	uint64_t x = d->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	d->rng = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* True with probability pct percent; always draws, so the sequence of
 * draws per frame does not depend on the outcome of earlier ones. */
static bool chance(struct dir *d, double pct)
{
	double u = (double)(rnd(d) >> 11) * (1.0 / 9007199254740992.0);

	return u * 100.0 < pct;
}

static uint32_t slot_get(void)
{
	return nfree ? free_slots[--nfree] : UINT32_MAX;
}

static void slot_put(uint32_t s)
{
	free_slots[nfree++] = s;
}

static unsigned char *slot_data(uint32_t s)
{
	return frames + (size_t)s * FRAME_MAX;
}

static bool heap_less(const struct heap_ent *a, const struct heap_ent *b)
{
	return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void heap_push(struct dir *d, struct heap_ent e)
{
	uint32_t i = d->heap_len++;

	while (i) {
		uint32_t parent = (i - 1) / 2;

		if (!heap_less(&e, &d->heap[parent]))
			break;
		d->heap[i] = d->heap[parent];
		i = parent;
	}
	d->heap[i] = e;
}

static struct heap_ent heap_pop(struct dir *d)
{
	struct heap_ent top = d->heap[0], last = d->heap[--d->heap_len];
	uint32_t i = 0, n = d->heap_len;

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && heap_less(&d->heap[c + 1], &d->heap[c]))
			c++;
		if (!heap_less(&d->heap[c], &last))
			break;
		d->heap[i] = d->heap[c];
		i = c;
	}
	if (n)
		d->heap[i] = last;
	return top;
}

/* Flip one byte of the IPv4 payload (past the IP header, inside total
 * length) so the TCP/UDP/ICMP checksum no longer matches.  Returns false
 * for frames that carry no IPv4 payload. */
static bool corrupt_frame(struct dir *d, unsigned char *f, unsigned int len)
{
	unsigned int ihl, tot, off;

	if (len < ETH_HLEN + 20 || f[12] != 0x08 || f[13] != 0x00)
		return false;
	ihl = (f[ETH_HLEN] & 0x0f) * 4;
	tot = (f[ETH_HLEN + 2] << 8) | f[ETH_HLEN + 3];
	if (ihl < 20 || tot <= ihl || ETH_HLEN + tot > len)
		return false;
	off = ETH_HLEN + ihl + (unsigned int)(rnd(d) % (tot - ihl));
	f[off] ^= (unsigned char)(1 + rnd(d) % 255);
	return true;
}

static void enqueue(struct dir *d, uint32_t slot, uint64_t when, bool reorder)
{
	heap_push(d, (struct heap_ent){
			     .when = when, .seq = seq_ctr++, .slot = slot, .reorder = reorder});
}

/* One received frame (already in slot): decide its fate. */
static void admit(struct dir *d, uint32_t slot, uint64_t now)
{
	unsigned int len = frame_len[slot];
	bool lose, dup, corrupt, reorder;
	uint64_t when = now + d->p.delay_ns;
	int64_t jit = 0;

	/* Fixed draw order: loss, dup, corrupt, reorder, jitter. */
	lose = chance(d, d->p.loss);
	dup = chance(d, d->p.dup);
	corrupt = chance(d, d->p.corrupt);
	reorder = chance(d, d->p.reorder);
	if (d->p.jitter_ns)
		jit = (int64_t)(rnd(d) % (2 * d->p.jitter_ns + 1)) - (int64_t)d->p.jitter_ns;
	if (lose) {
		d->st.lost++;
		slot_put(slot);
		return;
	}
	if (jit < 0 && (uint64_t)-jit > d->p.delay_ns)
		jit = -(int64_t)d->p.delay_ns;
	when += jit;
	if (dup) {
		/* the copy is taken before corruption: at most one of the two is hit */
		uint32_t copy = slot_get();

		if (copy != UINT32_MAX) {
			memcpy(slot_data(copy), slot_data(slot), len);
			frame_len[copy] = len;
			d->st.dup++;
		} else {
			d->st.no_slot++;
		}
		if (corrupt && corrupt_frame(d, slot_data(slot), len))
			d->st.corrupt++;
		enqueue(d, slot, when, reorder);
		/* the copy follows the original (same time, later sequence) */
		if (copy != UINT32_MAX)
			enqueue(d, copy, when, false);
		return;
	}
	if (corrupt && corrupt_frame(d, slot_data(slot), len))
		d->st.corrupt++;
	enqueue(d, slot, when, reorder);
}

static void receive(struct dir *d)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint32_t slots[BATCH];
	int n = 0, got, i;
	uint64_t now;

	for (i = 0; i < BATCH; i++) {
		slots[i] = slot_get();
		if (slots[i] == UINT32_MAX)
			break;
		iov[i] = (struct iovec){slot_data(slots[i]), FRAME_MAX};
		msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
		n++;
	}
	if (!n) {
		/* Out of slots: drain one frame so the socket does not stall, count it. */
		unsigned char scratch[FRAME_MAX];

		if (recv(d->in_fd, scratch, sizeof(scratch), MSG_DONTWAIT) > 0) {
			d->st.rx++;
			d->st.no_slot++;
		}
		return;
	}
	got = recvmmsg(d->in_fd, msgs, n, MSG_DONTWAIT, NULL);
	now = now_ns();
	if (got < 0)
		got = 0;
	for (i = 0; i < got; i++) {
		d->st.rx++;
		if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
			d->st.truncated++;
			slot_put(slots[i]);
			continue;
		}
		frame_len[slots[i]] = msgs[i].msg_len;
		admit(d, slots[i], now);
	}
	for (i = n - 1; i >= got; i--)
		slot_put(slots[i]);
}

/* Count one transmitted frame against the held ones: those whose gap runs
 * out join the pending list right behind it. */
static void pass_held(struct dir *d)
{
	int i = 0;

	while (i < d->nheld) {
		if (--d->held[i].gap <= 0 &&
		    d->npend < (int)(sizeof(d->pend) / sizeof(d->pend[0]))) {
			d->pend[d->npend++] = d->held[i].slot;
			d->held[i] = d->held[--d->nheld];
			continue;
		}
		i++;
	}
}

/* Move due frames to the pending list (reordered ones into held). */
static void collect_due(struct dir *d, uint64_t now)
{
	int i = 0;

	while (i < d->nheld) {
		if (d->held[i].deadline <= now && d->npend < BATCH) {
			d->pend[d->npend++] = d->held[i].slot;
			d->held[i] = d->held[--d->nheld];
			continue;
		}
		i++;
	}
	while (d->heap_len && d->heap[0].when <= now && d->npend < BATCH) {
		struct heap_ent e = heap_pop(d);

		if (e.reorder && d->nheld < HELD_MAX) {
			d->st.reordered++;
			d->held[d->nheld++] = (struct held){.slot = e.slot,
							    .gap = 1 + (int)(rnd(d) % 3),
							    .deadline = now + d->p.hold_ns};
			continue;
		}
		d->pend[d->npend++] = e.slot;
		pass_held(d);
	}
}

static void transmit(struct dir *d)
{
	struct mmsghdr msgs[BATCH * 2];
	struct iovec iov[BATCH * 2];
	int i, sent, done = 0;

	while (done < d->npend) {
		int n = d->npend - done;

		for (i = 0; i < n; i++) {
			uint32_t s = d->pend[done + i];

			iov[i] = (struct iovec){slot_data(s), frame_len[s]};
			msgs[i] =
				(struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
		}
		sent = sendmmsg(d->out_fd, msgs, n, MSG_DONTWAIT);
		if (sent < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break; /* socket buffer full: retry on POLLOUT */
			/* the device refused this one (ENOBUFS, ENETDOWN...): a wire drop */
			d->st.tx_err++;
			slot_put(d->pend[done++]);
			continue;
		}
		for (i = 0; i < sent; i++) {
			d->st.tx++;
			slot_put(d->pend[done + i]);
		}
		done += sent;
	}
	memmove(d->pend, d->pend + done, (d->npend - done) * sizeof(d->pend[0]));
	d->npend -= done;
}

static uint64_t next_event(struct dir *d)
{
	uint64_t t = UINT64_MAX;
	int i;

	if (d->heap_len)
		t = d->heap[0].when;
	for (i = 0; i < d->nheld; i++)
		if (d->held[i].deadline < t)
			t = d->held[i].deadline;
	return t;
}

static int open_if(const char *ifname)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
	struct packet_mreq mr = {.mr_type = PACKET_MR_PROMISC};
	int fd, one = 1, buf = 16 << 20;

	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex) {
		fprintf(stderr, "impair: no interface %s: %s\n", ifname, strerror(errno));
		return -1;
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0) {
		perror("impair: socket(AF_PACKET)");
		return -1;
	}
	mr.mr_ifindex = sll.sll_ifindex;
	if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fprintf(stderr, "impair: %s: %s\n", ifname, strerror(errno));
		close(fd);
		return -1;
	}
	/* Deep buffers: bursts of a 1 Gbit/s flow must not overflow the socket. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	return fd;
}

static void write_stats(FILE *f, struct dir *dirs)
{
	int i;

	for (i = 0; i < NDIR; i++) {
		struct dir_stats *s = &dirs[i].st;

		fprintf(f,
			"%s.rx=%llu\n%s.tx=%llu\n%s.lost=%llu\n%s.dup=%llu\n%s.corrupt=%llu\n"
			"%s.reordered=%llu\n%s.tx_err=%llu\n%s.no_slot=%llu\n%s.truncated=%llu\n",
			dirs[i].name, (unsigned long long)s->rx, dirs[i].name,
			(unsigned long long)s->tx, dirs[i].name, (unsigned long long)s->lost,
			dirs[i].name, (unsigned long long)s->dup, dirs[i].name,
			(unsigned long long)s->corrupt, dirs[i].name,
			(unsigned long long)s->reordered, dirs[i].name,
			(unsigned long long)s->tx_err, dirs[i].name, (unsigned long long)s->no_slot,
			dirs[i].name, (unsigned long long)s->truncated);
	}
}

static void dump_stats_file(struct dir *dirs)
{
	char tmp[4096];
	FILE *f;

	if (!stats_file)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", stats_file);
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "impair: %s: %s\n", tmp, strerror(errno));
		return;
	}
	write_stats(f, dirs);
	fclose(f);
	rename(tmp, stats_file);
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump_flag = 1;
	else
		stop_flag = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: impair --a IF1 --b IF2 [--loss P] [--dup P] [--corrupt P] [--reorder P]\n"
		"              [--delay MS] [--jitter MS] [--reorder-hold MS] [--seed N]\n"
		"              [--stats-file F] [--slots N]\n"
		"  percentages and milliseconds may be fractional; add -ab or -ba to an\n"
		"  impairment option to set only the A->B or B->A direction\n");
}

static int parse_num(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return errno || end == s || *end || *out < 0 ? -EINVAL : 0;
}

enum { O_A = 256, O_B, O_SEED, O_STATS, O_SLOTS, O_HELP, O_IMP = 512 };

static const char *const imp_names[] = {"loss",	 "dup",	   "corrupt",	  "reorder",
					"delay", "jitter", "reorder-hold"};
#define NIMP (int)(sizeof(imp_names) / sizeof(imp_names[0]))

static void set_param(struct params *p, int which, double v)
{
	switch (which) {
	case 0:
		p->loss = v;
		break;
	case 1:
		p->dup = v;
		break;
	case 2:
		p->corrupt = v;
		break;
	case 3:
		p->reorder = v;
		break;
	case 4:
		p->delay_ns = (uint64_t)(v * 1e6);
		break;
	case 5:
		p->jitter_ns = (uint64_t)(v * 1e6);
		break;
	case 6:
		p->hold_ns = (uint64_t)(v * 1e6);
		break;
	}
}

int main(int argc, char **argv)
{
	static char names[NIMP * 3][24];
	struct option opts[NIMP * 3 + 8];
	const char *ifa = NULL, *ifb = NULL;
	struct dir dirs[NDIR] = {{.name = "ab"}, {.name = "ba"}};
	uint64_t seed = 1;
	struct sigaction sa = {.sa_handler = on_signal};
	int nopt = 0, c, i;
	double v;

	for (i = 0; i < NDIR; i++)
		dirs[i].p.hold_ns = 5000000; /* 5 ms */
	for (i = 0; i < NIMP; i++) {
		snprintf(names[3 * i], sizeof(names[0]), "%s", imp_names[i]);
		snprintf(names[3 * i + 1], sizeof(names[0]), "%s-ab", imp_names[i]);
		snprintf(names[3 * i + 2], sizeof(names[0]), "%s-ba", imp_names[i]);
		for (c = 0; c < 3; c++)
			opts[nopt++] = (struct option){names[3 * i + c], required_argument, NULL,
						       O_IMP + 3 * i + c};
	}
	opts[nopt++] = (struct option){"a", required_argument, NULL, O_A};
	opts[nopt++] = (struct option){"b", required_argument, NULL, O_B};
	opts[nopt++] = (struct option){"seed", required_argument, NULL, O_SEED};
	opts[nopt++] = (struct option){"stats-file", required_argument, NULL, O_STATS};
	opts[nopt++] = (struct option){"slots", required_argument, NULL, O_SLOTS};
	opts[nopt++] = (struct option){"help", no_argument, NULL, O_HELP};
	opts[nopt] = (struct option){0};

	while ((c = getopt_long_only(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_A:
			ifa = optarg;
			break;
		case O_B:
			ifb = optarg;
			break;
		case O_STATS:
			stats_file = optarg;
			break;
		case O_HELP:
			usage(stdout);
			return 0;
		case O_SEED:
		case O_SLOTS:
			if (parse_num(optarg, &v)) {
				fprintf(stderr, "impair: bad number '%s'\n", optarg);
				return 2;
			}
			if (c == O_SEED)
				seed = (uint64_t)v;
			else
				nslots = (uint32_t)v;
			break;
		default:
			if (c < O_IMP || c >= O_IMP + 3 * NIMP || parse_num(optarg, &v) ||
			    (c - O_IMP < 12 && v > 100)) {
				if (c >= O_IMP)
					fprintf(stderr, "impair: bad value '%s'\n", optarg);
				usage(stderr);
				return 2;
			}
			for (i = 0; i < NDIR; i++)
				if ((c - O_IMP) % 3 == 0 || (c - O_IMP) % 3 == i + 1)
					set_param(&dirs[i].p, (c - O_IMP) / 3, v);
		}
	}
	if (!ifa || !ifb || optind != argc || nslots < 2 * BATCH) {
		usage(stderr);
		return 2;
	}

	frames = malloc((size_t)nslots * FRAME_MAX);
	frame_len = calloc(nslots, sizeof(*frame_len));
	free_slots = malloc(nslots * sizeof(*free_slots));
	for (i = 0; i < NDIR; i++)
		dirs[i].heap = malloc(nslots * sizeof(*dirs[i].heap));
	if (!frames || !frame_len || !free_slots || !dirs[0].heap || !dirs[1].heap) {
		fprintf(stderr, "impair: out of memory\n");
		return 1;
	}
	for (nfree = 0; nfree < nslots; nfree++)
		free_slots[nfree] = nslots - 1 - nfree;

	dirs[0].in_fd = dirs[1].out_fd = open_if(ifa);
	dirs[1].in_fd = dirs[0].out_fd = open_if(ifb);
	if (dirs[0].in_fd < 0 || dirs[1].in_fd < 0)
		return 1;
	for (i = 0; i < NDIR; i++) {
		/* splitmix64 of seed and direction: distinct nonzero states */
		uint64_t z = seed * 2 + i + 0x9E3779B97F4A7C15ull;

		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
		z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
		dirs[i].rng = (z ^ (z >> 31)) | 1;
	}

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	printf("impair: ready\n");
	fflush(stdout);

	while (!stop_flag) {
		struct pollfd pfd[2];
		struct timespec ts, *tsp = NULL;
		uint64_t now, next = UINT64_MAX;

		for (i = 0; i < NDIR; i++) {
			/* fd of interface A carries dir ab's input and dir ba's output */
			pfd[i].fd = dirs[i].in_fd;
			pfd[i].events = POLLIN | (dirs[1 - i].npend ? POLLOUT : 0);
			pfd[i].revents = 0;
			if (!dirs[i].npend) {
				uint64_t t = next_event(&dirs[i]);

				if (t < next)
					next = t;
			}
		}
		if (next != UINT64_MAX) {
			now = now_ns();
			next = next > now ? next - now : 0;
			ts.tv_sec = next / 1000000000ull;
			ts.tv_nsec = next % 1000000000ull;
			tsp = &ts;
		}
		if (ppoll(pfd, 2, tsp, NULL) < 0 && errno != EINTR) {
			perror("impair: ppoll");
			break;
		}
		if (dump_flag) {
			dump_flag = 0;
			dump_stats_file(dirs);
		}
		for (i = 0; i < NDIR; i++)
			if (pfd[i].revents & POLLIN)
				receive(&dirs[i]);
		now = now_ns();
		for (i = 0; i < NDIR; i++) {
			/* drain: collect_due takes at most a batch at a time */
			do {
				collect_due(&dirs[i], now);
				transmit(&dirs[i]);
			} while (!dirs[i].npend && dirs[i].heap_len && dirs[i].heap[0].when <= now);
		}
	}
	write_stats(stderr, dirs);
	dump_stats_file(dirs);
	close(dirs[0].in_fd);
	close(dirs[1].in_fd);
	for (i = 0; i < NDIR; i++)
		free(dirs[i].heap);
	free(free_slots);
	free(frame_len);
	free(frames);
	return 0;
}
