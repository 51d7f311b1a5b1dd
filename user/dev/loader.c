// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The XDP loader: opens the libbpf skeleton of bpf/skiff_xdp.bpf.c, attaches
 * it through libxdp (the multi-program dispatcher where the kernel allows
 * freplace, the single program otherwise), pins every map under the pin
 * directory (checked, and proven its own before anything in it is removed,
 * by dev/pindir.c), maps the mmapable config and ustats arrays, and provides the
 * map-backed struct stack_hooks (owned ports with reference counts shared by
 * all workers, the neighbour map shared with XDP).
 *
 * Ownership (libxdp 1.3, lib/libxdp/libxdp.c): xdp_program__from_bpf_obj()
 * marks the object external, so xdp_program__close() never closes it; the
 * skeleton (skiff_xdp__destroy) does, after the xdp_program is closed.
 * libxdp loads the object itself (bpf_object__load, as an XDP program on the
 * single-program path, as an EXT program behind the dispatcher), so the map
 * fds of the skeleton are those of the maps the attached program uses.
 *
 * libbpf and libxdp print through one capture function into a ring of the
 * last lines, so the expected noise of the dispatcher probe (its freplace
 * load is refused on some kernels) stays quiet, and a verifier rejection can
 * be reported with the tail of its log.  SKIFF_LIBBPF_DEBUG=1 echoes every
 * line to stderr.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <linux/sockios.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "core/clock.h"
#include "dev/loader.h"
#include "dev/pindir.h"
#include "skiff_xdp.skel.h"

#define SKIFF_PROG_NAME "skiff_xdp_prog"

struct skiff_bpf {
	struct skiff_xdp *skel;
	struct xdp_program *prog;
	enum xdp_attach_mode mode;	/* what the program is attached in */
	bool dispatcher;		/* behind libxdp's dispatcher */
	char note[160];			/* why not behind the dispatcher, if known */
	bool pinned;			/* pin_dir_mark() ran: unpin at exit */
	int ifindex;
	uint32_t mtu;
	uint8_t mac[6];
	char ifname[IF_NAMESIZE];
	struct pin_dir pd;		/* where the maps are pinned (dev/pindir.h) */

	struct skiff_config *config;	/* mmapped config map */
	size_t config_len;
	struct skiff_ustats *ustats;	/* mmapped ustats map */
	size_t ustats_len;
	uint32_t ustats_rows;

	pthread_mutex_t port_lock;	/* ports map read-modify-write */
	int ncpus;
};

/* ---- libbpf / libxdp log capture ---- */

#define LOG_LINES	96
#define LOG_LINE_LEN	240

static struct {
	pthread_mutex_t lock;
	char lines[LOG_LINES][LOG_LINE_LEN];
	unsigned int next;	/* total lines ever pushed */
	int echo;		/* -1: not read yet */
} loader_log = { PTHREAD_MUTEX_INITIALIZER, { { 0 } }, 0, -1 };

static void log_push_line(const char *s, size_t len)
{
	char *dst = loader_log.lines[loader_log.next % LOG_LINES];

	if (len >= LOG_LINE_LEN)
		len = LOG_LINE_LEN - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
	loader_log.next++;
}

static int log_capture(bool debug, const char *fmt, va_list ap)
{
	char *text, *p, *nl;
	int n;

	if (loader_log.echo < 0) {
		const char *e = getenv("SKIFF_LIBBPF_DEBUG");

		loader_log.echo = e && *e == '1';
	}
	if (debug && !loader_log.echo)
		return 0;
	n = vasprintf(&text, fmt, ap);
	if (n < 0)
		return 0;
	if (loader_log.echo)
		fputs(text, stderr);
	pthread_mutex_lock(&loader_log.lock);
	for (p = text; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl) {
			log_push_line(p, strlen(p));
			break;
		}
		log_push_line(p, (size_t)(nl - p));
	}
	pthread_mutex_unlock(&loader_log.lock);
	free(text);
	return n;
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return log_capture(level == LIBBPF_DEBUG, fmt, ap);
}

static int libxdp_log(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return log_capture(level == LIBXDP_DEBUG, fmt, ap);
}

static void log_install(void)
{
	libbpf_set_print(libbpf_log);
	libxdp_set_print(libxdp_log);
}

static void log_clear(void)
{
	pthread_mutex_lock(&loader_log.lock);
	loader_log.next = 0;
	pthread_mutex_unlock(&loader_log.lock);
}

static bool log_line_is_noise(const char *s)
{
	return !*s || !strncmp(s, "processed ", 10) || !strncmp(s, "verification time", 17) ||
	       !strncmp(s, "stack depth", 11) || strstr(s, "-- END PROG LOAD LOG --");
}

/* The last captured line containing needle, after it, into out ("" if none). */
static void log_find(const char *needle, char *out, size_t outlen)
{
	unsigned int first, i;
	const char *hit;

	out[0] = '\0';
	pthread_mutex_lock(&loader_log.lock);
	first = loader_log.next > LOG_LINES ? loader_log.next - LOG_LINES : 0;
	for (i = loader_log.next; i-- > first;) {
		hit = strstr(loader_log.lines[i % LOG_LINES], needle);
		if (hit) {
			snprintf(out, outlen, "%s", hit + strlen(needle));
			break;
		}
	}
	pthread_mutex_unlock(&loader_log.lock);
}

/* Copy a log line without the verifier's register-state annotation. */
static const char *log_strip(const char *s, char *buf, size_t len)
{
	const char *semi = strstr(s, "  ;");

	while (*s == ' ' || *s == '\t')
		s++;
	if (!semi || semi < s)
		return s;
	while (semi > s && (semi[-1] == ' ' || semi[-1] == '\t'))
		semi--;
	snprintf(buf, len, "%.*s", (int)(semi - s), s);
	return buf;
}

/*
 * The relevant tail of what libbpf said: the last few meaningful lines of
 * the last verifier log (between BEGIN/END PROG LOAD LOG), preceded by the
 * last source line the verifier quoted ("; code @ file.c:line"), else the
 * last lines printed.  Written into out as one line joined by " | ".
 */
static void log_tail(char *out, size_t outlen, int max_lines)
{
	unsigned int first, end, i, last_end = UINT_MAX;
	char picked[8][LOG_LINE_LEN], src[LOG_LINE_LEN] = "";
	int n = 0, k;
	size_t off = 0;

	if (max_lines > 8)
		max_lines = 8;
	out[0] = '\0';
	pthread_mutex_lock(&loader_log.lock);
	end = loader_log.next;
	first = end > LOG_LINES ? end - LOG_LINES : 0;
	for (i = end; i-- > first;) {
		if (strstr(loader_log.lines[i % LOG_LINES], "-- END PROG LOAD LOG --")) {
			last_end = i;
			break;
		}
	}
	if (last_end != UINT_MAX)
		end = last_end;
	for (i = end; i-- > first;) {
		const char *s = loader_log.lines[i % LOG_LINES];
		char buf[LOG_LINE_LEN];

		if (last_end != UINT_MAX && strstr(s, "BEGIN PROG LOAD LOG"))
			break;
		s = log_strip(s, buf, sizeof(buf));
		if (log_line_is_noise(s))
			continue;
		if (n < max_lines) {
			snprintf(picked[n++], LOG_LINE_LEN, "%s", s);
		} else if (s[0] == ';' && strstr(s, " @ ") && strncmp(s, ";  @", 4)) {
			snprintf(src, sizeof(src), "%s", s);
			break;
		} else if (last_end == UINT_MAX) {
			break;
		}
	}
	pthread_mutex_unlock(&loader_log.lock);
	if (src[0]) {
		int w = snprintf(out, outlen, "%s", src);

		off = w < 0 ? 0 : (size_t)w;
	}
	for (k = n - 1; k >= 0 && off + 1 < outlen; k--) {
		int w = snprintf(out + off, outlen - off, "%s%s", off ? " | " : "", picked[k]);

		if (w < 0)
			break;
		off += (size_t)w;
	}
}

/* ---- interface facts (ioctl: /sys may belong to another netns) ---- */

static int if_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int fd, err = 0;

	/* AF_UNIX: any socket reaches the interface ioctls, and the seccomp
	 * filter lets skiffd open no AF_INET socket (docs/security.md) */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
	if (ioctl(fd, req, ifr) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* ---- the XDP program already on the interface ---- */

static const char *mode_name(enum xdp_attach_mode m)
{
	switch (m) {
	case XDP_MODE_NATIVE:
		return "native";
	case XDP_MODE_SKB:
		return "generic";
	case XDP_MODE_HW:
		return "offload";
	default:
		return "unknown";
	}
}

/*
 * libxdp before 1.4 (Debian 12 ships 1.3.1) leaks a descriptor in
 * xdp_multiprog__get_from_ifindex(): the fd it takes by id is duplicated into
 * the multiprog and never closed (xdp-tools PR #345 fixed it).  The leaked fd
 * would keep a killed skiffd's program, once replaced, and every map of it
 * alive in the kernel for this daemon's whole life.  fds_mark() notes the
 * descriptors open before the call; fds_close_prog() closes those of program
 * `id` opened since.  Start-up is single-threaded here, so no other thread
 * opens one meanwhile; with a fixed libxdp nothing is found.
 */
#define FDS_MARK_MAX 1024

struct fds_mark {
	unsigned char open[FDS_MARK_MAX / 8];
};

static void fds_mark(struct fds_mark *m)
{
	struct dirent *e;
	DIR *d;

	memset(m, 0, sizeof(*m));
	d = opendir("/proc/self/fd");
	if (!d)
		return;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (fd > 0 && fd < FDS_MARK_MAX && fd != dirfd(d))
			m->open[fd / 8] |= 1u << (fd % 8);
	}
	closedir(d);
}

static void fds_close_prog(const struct fds_mark *m, __u32 id)
{
	char path[64], link[32];
	struct dirent *e;
	DIR *d;

	if (!id)
		return;
	d = opendir("/proc/self/fd");
	if (!d)
		return;
	while ((e = readdir(d))) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = atoi(e->d_name);
		ssize_t n;

		if (fd <= 0 || fd >= FDS_MARK_MAX || fd == dirfd(d) ||
		    m->open[fd / 8] & (1u << (fd % 8)))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (strcmp(link, "anon_inode:bpf-prog") ||
		    bpf_obj_get_info_by_fd(fd, &info, &len) || info.id != id)
			continue;
		close(fd);
	}
	closedir(d);
}

static __u32 multiprog_main_id(const struct xdp_multiprog *mp)
{
	struct xdp_program *p = xdp_multiprog__main_prog(mp);

	return p ? xdp_program__id(p) : 0;
}

/*
 * A skiff program left by a crashed daemon is detached (skiffd has checked
 * that no other skiffd serves the interface); a foreign program attached
 * without the dispatcher cannot be shared, so that is an error.  Programs
 * behind a dispatcher stay: ours joins them.
 */
static int clear_stale_xdp(struct skiff_bpf *b, char *err, size_t errlen)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	struct fds_mark mark;
	__u32 main_id;
	int ret = 0;

	fds_mark(&mark);
	mp = xdp_multiprog__get_from_ifindex(b->ifindex);
	if (!mp || libxdp_get_error(mp))
		return 0;	/* nothing attached (or nothing we can see) */
	main_id = multiprog_main_id(mp);

	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (!p)
			goto out;
		if (strcmp(xdp_program__name(p), SKIFF_PROG_NAME)) {
			snprintf(err, errlen,
				 "%s already has XDP program '%s' (id %u, %s) attached without the "
				 "libxdp dispatcher, so libxdp cannot share the interface: remove it "
				 "first (`xdp-loader unload %s --all` or `ip link set dev %s xdp off`)",
				 b->ifname, xdp_program__name(p), xdp_program__id(p),
				 mode_name(xdp_multiprog__attach_mode(mp)), b->ifname, b->ifname);
			ret = -EBUSY;
			goto out;
		}
		ret = xdp_multiprog__detach(mp);
		if (ret) {
			snprintf(err, errlen, "cannot detach the stale skiff program (id %u) from %s: %s",
				 xdp_program__id(p), b->ifname, strerror(-ret));
			goto out;
		}
		fprintf(stderr, "skiffd: detached stale skiff XDP program (id %u) from %s\n",
			xdp_program__id(p), b->ifname);
		goto out;
	}

	for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp)) {
		if (strcmp(xdp_program__name(p), SKIFF_PROG_NAME))
			continue;
		ret = xdp_program__detach(p, b->ifindex, xdp_multiprog__attach_mode(mp), 0);
		if (ret) {
			snprintf(err, errlen,
				 "cannot detach the stale skiff program (id %u) from the dispatcher "
				 "on %s: %s",
				 xdp_program__id(p), b->ifname, strerror(-ret));
			goto out;
		}
		fprintf(stderr, "skiffd: detached stale skiff XDP program (id %u) from %s\n",
			xdp_program__id(p), b->ifname);
		break;	/* the dispatcher changed under mp: one per run is enough */
	}
out:
	xdp_multiprog__close(mp);
	fds_close_prog(&mark, main_id);
	return ret;
}

/* ---- maps ---- */

#define SKIFF_N_MAPS 12

static void skel_maps(struct skiff_bpf *b, struct bpf_map *maps[SKIFF_N_MAPS])
{
	maps[0] = b->skel->maps.config;
	maps[1] = b->skel->maps.addrs;
	maps[2] = b->skel->maps.ports;
	maps[3] = b->skel->maps.neigh;
	maps[4] = b->skel->maps.frags;
	maps[5] = b->skel->maps.xsks;
	maps[6] = b->skel->maps.stats;
	maps[7] = b->skel->maps.ustats;
	maps[8] = b->skel->maps.addrs6;
	maps[9] = b->skel->maps.neigh6;
	maps[10] = b->skel->maps.ports6;
	maps[11] = b->skel->maps.frags6;
}

static int pin_maps(struct skiff_bpf *b, char *err, size_t errlen)
{
	struct bpf_map *maps[SKIFF_N_MAPS];
	char path[PATH_MAX + 64];
	int i, ret;

	/* the owner map first: from now on the directory is provably ours */
	b->pinned = true;
	ret = pin_dir_mark(&b->pd, err, errlen);
	if (ret)
		return ret;
	skel_maps(b, maps);
	for (i = 0; i < SKIFF_N_MAPS; i++) {
		snprintf(path, sizeof(path), "%s/%s", b->pd.path, bpf_map__name(maps[i]));
		ret = bpf_map__pin(maps[i], path);
		if (ret) {
			snprintf(err, errlen, "cannot pin map %s at %s: %s", bpf_map__name(maps[i]),
				 path, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static void unpin_maps(struct skiff_bpf *b)
{
	struct bpf_map *maps[SKIFF_N_MAPS];
	int i;

	if (!b->pinned)
		return;
	skel_maps(b, maps);
	for (i = 0; i < SKIFF_N_MAPS; i++)
		if (bpf_map__is_pinned(maps[i]))
			bpf_map__unpin(maps[i], NULL);
	pin_dir_release(&b->pd, SKIFF_PIN_ROOT);
	b->pinned = false;
}

static void *map_mmap(struct bpf_map *map, size_t value_size, size_t *len, char *err,
		      size_t errlen)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t sz;
	void *p;

	if (bpf_map__value_size(map) != value_size) {
		snprintf(err, errlen,
			 "map %s: value size %u, expected %zu (bpf/ and include/skiff/skiff.h "
			 "disagree: rebuild)",
			 bpf_map__name(map), bpf_map__value_size(map), value_size);
		return NULL;
	}
	if (!(bpf_map__map_flags(map) & BPF_F_MMAPABLE)) {
		snprintf(err, errlen, "map %s is not BPF_F_MMAPABLE", bpf_map__name(map));
		return NULL;
	}
	/* an mmapable array lays its values out back to back, 8-byte aligned */
	sz = ((value_size + 7) & ~(size_t)7) * bpf_map__max_entries(map);
	sz = (sz + (size_t)page - 1) & ~((size_t)page - 1);
	p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(map), 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "cannot mmap map %s: %s", bpf_map__name(map),
			 strerror(errno));
		return NULL;
	}
	*len = sz;
	return p;
}

/* ---- attach / detach ---- */

static int attach_prog(struct skiff_bpf *b, enum skiff_xdp_mode want, char *err, size_t errlen)
{
	static const enum xdp_attach_mode order[][2] = {
		[SKIFF_XDP_AUTO] = { XDP_MODE_NATIVE, XDP_MODE_SKB },
		[SKIFF_XDP_NATIVE] = { XDP_MODE_NATIVE, XDP_MODE_UNSPEC },
		[SKIFF_XDP_GENERIC] = { XDP_MODE_SKB, XDP_MODE_UNSPEC },
	};
	char tail[768];
	int i, ret = -EINVAL;

	if ((unsigned int)want > SKIFF_XDP_GENERIC) {
		snprintf(err, errlen, "unknown XDP mode %d", (int)want);
		return -EINVAL;
	}
	for (i = 0; i < 2 && order[want][i] != XDP_MODE_UNSPEC; i++) {
		log_clear();
		ret = xdp_program__attach(b->prog, b->ifindex, order[want][i], 0);
		if (!ret) {
			b->mode = order[want][i];
			return 0;
		}
		if (xdp_program__fd(b->prog) < 0)
			break;	/* never loaded: a verifier rejection, not a mode problem */
	}

	log_tail(tail, sizeof(tail), 3);
	if (xdp_program__fd(b->prog) < 0)
		snprintf(err, errlen, "the kernel rejected %s (%s)%s%s", SKIFF_PROG_NAME,
			 strerror(-ret), tail[0] ? ": " : "", tail);
	else
		snprintf(err, errlen, "cannot attach XDP to %s in %s mode: %s%s%s", b->ifname,
			 want == SKIFF_XDP_AUTO ? "native or generic" : mode_name(order[want][0]),
			 strerror(-ret), tail[0] ? ": " : "", tail);
	return ret;
}

static void detach_prog(struct skiff_bpf *b)
{
	int ret;

	if (!b->prog)
		return;
	if (xdp_program__is_attached(b->prog, b->ifindex) != XDP_MODE_UNSPEC) {
		ret = xdp_program__detach(b->prog, b->ifindex, b->mode, 0);
		if (ret)
			fprintf(stderr, "skiffd: detaching XDP from %s failed: %s\n", b->ifname,
				strerror(-ret));
	}
}

static void skiff_bpf_free(struct skiff_bpf *b)
{
	if (b->config)
		munmap(b->config, b->config_len);
	if (b->ustats)
		munmap(b->ustats, b->ustats_len);
	if (b->skel)
		unpin_maps(b);
	xdp_program__close(b->prog);	/* external object: not closed here */
	skiff_xdp__destroy(b->skel);	/* closes the object */
	pthread_mutex_destroy(&b->port_lock);
	free(b);
}

int skiff_bpf_attach(const struct skiff_loader_opts *o, struct skiff_bpf **out, char *err,
		     size_t errlen)
{
	struct bpf_map *maps[SKIFF_N_MAPS];
	const char *names[SKIFF_N_MAPS];
	struct xdp_multiprog *mp;
	struct fds_mark mark;
	struct skiff_bpf *b;
	struct ifreq ifr;
	long perr;
	int ret, i;

	*out = NULL;
	err[0] = '\0';
	if (!o->ifname || !*o->ifname || strlen(o->ifname) >= IF_NAMESIZE) {
		snprintf(err, errlen, "bad interface name");
		return -EINVAL;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&b->port_lock, NULL);
	b->mode = XDP_MODE_UNSPEC;
	snprintf(b->ifname, sizeof(b->ifname), "%s", o->ifname);

	b->ifindex = (int)if_nametoindex(o->ifname);
	if (!b->ifindex) {
		ret = -errno ? -errno : -ENODEV;
		snprintf(err, errlen, "no interface %s in this network namespace", o->ifname);
		goto err;
	}
	ret = if_ioctl(o->ifname, SIOCGIFHWADDR, &ifr);
	if (ret) {
		snprintf(err, errlen, "cannot read the MAC address of %s: %s", o->ifname,
			 strerror(-ret));
		goto err;
	}
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		snprintf(err, errlen, "%s is not an Ethernet interface", o->ifname);
		ret = -EPROTONOSUPPORT;
		goto err;
	}
	memcpy(b->mac, ifr.ifr_hwaddr.sa_data, 6);
	ret = if_ioctl(o->ifname, SIOCGIFMTU, &ifr);
	b->mtu = ret ? 1500 : (uint32_t)ifr.ifr_mtu;

	log_install();
	log_clear();
	b->skel = skiff_xdp__open();
	if (!b->skel) {
		char tail[512];

		ret = -errno ? -errno : -EINVAL;
		log_tail(tail, sizeof(tail), 2);
		snprintf(err, errlen, "cannot open the BPF skeleton: %s%s%s", strerror(-ret),
			 tail[0] ? ": " : "", tail);
		goto err;
	}
	skel_maps(b, maps);
	for (i = 0; i < SKIFF_N_MAPS; i++)
		names[i] = bpf_map__name(maps[i]);
	/* checked, and a previous skiffd's pins removed, before anything is
	 * attached: a refused directory leaves the interface untouched */
	ret = pin_dir_prepare(&b->pd, o->pin_dir, SKIFF_PIN_ROOT, o->ifname, names, SKIFF_N_MAPS,
			      err, errlen);
	if (ret)
		goto err;
	ret = clear_stale_xdp(b, err, errlen);
	if (ret)
		goto err;
	log_clear();	/* the stale program's detach noise is not an error's tail */
	if (o->n_queues && o->n_queues <= SKIFF_MAX_QUEUES)
		bpf_map__set_max_entries(b->skel->maps.ustats, o->n_queues);

	b->prog = xdp_program__from_bpf_obj(b->skel->obj, "xdp");
	perr = libxdp_get_error(b->prog);
	if (!b->prog || perr) {
		b->prog = NULL;
		ret = perr ? (int)perr : -ENOENT;
		snprintf(err, errlen, "no XDP program in section \"xdp\" of the BPF object: %s",
			 strerror(-ret));
		goto err;
	}
	ret = attach_prog(b, o->mode, err, errlen);
	if (ret)
		goto err;

	fds_mark(&mark);
	mp = xdp_multiprog__get_from_ifindex(b->ifindex);
	if (mp && !libxdp_get_error(mp)) {
		__u32 main_id = multiprog_main_id(mp);

		b->dispatcher = !xdp_multiprog__is_legacy(mp);
		xdp_multiprog__close(mp);
		fds_close_prog(&mark, main_id);
	}
	if (!b->dispatcher) {
		char why[96];

		/* libxdp probes the dispatcher by loading an freplace program */
		log_find("Compatibility check for dispatcher program failed: ", why, sizeof(why));
		if (why[0])
			snprintf(b->note, sizeof(b->note),
				 "the kernel refused libxdp's dispatcher (freplace: %s)", why);
	}

	ret = pin_maps(b, err, errlen);
	if (ret)
		goto err_detach;
	b->config = map_mmap(b->skel->maps.config, sizeof(struct skiff_config), &b->config_len,
			     err, errlen);
	if (!b->config) {
		ret = -EINVAL;
		goto err_detach;
	}
	b->ustats = map_mmap(b->skel->maps.ustats, sizeof(struct skiff_ustats), &b->ustats_len,
			     err, errlen);
	if (!b->ustats) {
		ret = -EINVAL;
		goto err_detach;
	}
	b->ustats_rows = bpf_map__max_entries(b->skel->maps.ustats);
	b->ncpus = libbpf_num_possible_cpus();
	if (b->ncpus <= 0) {
		ret = b->ncpus ? b->ncpus : -EINVAL;
		snprintf(err, errlen, "cannot count the possible CPUs: %s", strerror(-ret));
		goto err_detach;
	}

	memcpy(b->config->mac, b->mac, 6);
	b->config->vlan_id = o->vlan_id;
	b->config->failover_ns = o->failover_ns;
	__atomic_store_n(&b->config->flags, 0, __ATOMIC_RELEASE);
	*out = b;
	return 0;

err_detach:
	detach_prog(b);
err:
	skiff_bpf_free(b);
	return ret;
}

void skiff_bpf_detach(struct skiff_bpf *b)
{
	if (!b)
		return;
	if (b->config)
		__atomic_and_fetch(&b->config->flags, ~SKIFF_CFG_ENABLED, __ATOMIC_SEQ_CST);
	detach_prog(b);
	skiff_bpf_free(b);
}

/* ---- configuration ---- */

int skiff_bpf_add_addr(struct skiff_bpf *b, uint32_t addr, uint8_t prefix_len, bool dedicated)
{
	struct skiff_addr val = {
		.flags = dedicated ? SKIFF_ADDR_DEDICATED : 0,
		.prefix_len = prefix_len,
	};

	if (bpf_map__update_elem(b->skel->maps.addrs, &addr, sizeof(addr), &val, sizeof(val),
				 BPF_ANY))
		return -errno;
	return 0;
}

int skiff_bpf_add_addr6(struct skiff_bpf *b, const void *addr, uint8_t prefix_len, bool dedicated)
{
	struct skiff_addr val = {
		.flags = dedicated ? SKIFF_ADDR_DEDICATED : 0,
		.prefix_len = prefix_len,
	};
	struct skiff_in6 key;

	memcpy(&key, addr, sizeof(key));
	if (bpf_map__update_elem(b->skel->maps.addrs6, &key, sizeof(key), &val, sizeof(val),
				 BPF_ANY))
		return -errno;
	return 0;
}

int skiff_bpf_set_xsk(struct skiff_bpf *b, uint32_t queue, int xsk_fd)
{
	uint32_t fd = (uint32_t)xsk_fd;

	if (bpf_map__update_elem(b->skel->maps.xsks, &queue, sizeof(queue), &fd, sizeof(fd),
				 BPF_ANY))
		return -errno;
	return 0;
}

int skiff_bpf_clear_xsk(struct skiff_bpf *b, uint32_t queue)
{
	if (bpf_map__delete_elem(b->skel->maps.xsks, &queue, sizeof(queue), 0) && errno != ENOENT)
		return -errno;
	return 0;
}

void skiff_bpf_enable(struct skiff_bpf *b)
{
	__atomic_or_fetch(&b->config->flags, SKIFF_CFG_ENABLED, __ATOMIC_SEQ_CST);
}

struct skiff_ustats *skiff_bpf_ustats(struct skiff_bpf *b, uint32_t queue)
{
	return queue < b->ustats_rows ? &b->ustats[queue] : NULL;
}

void skiff_bpf_beat(struct skiff_bpf *b, uint32_t queue, uint64_t now)
{
	__u64 *beat;

	if (!b->config->failover_ns || queue >= SKIFF_MAX_QUEUES)
		return;
	beat = &b->config->beat_ns[queue];
	if (now - __atomic_load_n(beat, __ATOMIC_RELAXED) > b->config->failover_ns / 8)
		__atomic_store_n(beat, now, __ATOMIC_RELAXED);
}

int skiff_bpf_beat_interval_ms(const struct skiff_bpf *b)
{
	uint64_t ms = b->config->failover_ns / 4 / 1000000;

	if (!b->config->failover_ns)
		return -1;
	return ms ? (int)ms : 1;
}

int skiff_bpf_xdp_stats(struct skiff_bpf *b, struct skiff_xdp_stats *sum)
{
	const size_t nfields = sizeof(*sum) / sizeof(__u64);
	__u64 *vals, *s = (__u64 *)sum;
	uint32_t key = 0;
	size_t cpu, f;

	memset(sum, 0, sizeof(*sum));
	vals = calloc((size_t)b->ncpus, sizeof(*sum));
	if (!vals)
		return -ENOMEM;
	if (bpf_map__lookup_elem(b->skel->maps.stats, &key, sizeof(key), vals,
				 (size_t)b->ncpus * sizeof(*sum), 0)) {
		int ret = -errno;

		free(vals);
		return ret;
	}
	for (cpu = 0; cpu < (size_t)b->ncpus; cpu++)
		for (f = 0; f < nfields; f++)
			s[f] += vals[cpu * nfields + f];
	free(vals);
	return 0;
}

/* ---- hooks ---- */

/* One more socket holds key in ports (IPv4) or ports6 (IPv6). */
static int port_map_claim(struct skiff_bpf *b, struct bpf_map *map, const void *key)
{
	struct skiff_port_val val;
	int fd = bpf_map__fd(map), ret = 0;

	pthread_mutex_lock(&b->port_lock);
	if (bpf_map_lookup_elem(fd, key, &val)) {
		val.refs = 1;
		val.flags = 0;
	} else {
		val.refs++;
	}
	if (bpf_map_update_elem(fd, key, &val, BPF_ANY))
		ret = errno == E2BIG ? -ENOSPC : -errno;
	pthread_mutex_unlock(&b->port_lock);
	return ret;
}

/* One socket less holds key; the last one removes it (XDP stops steering). */
static void port_map_release(struct skiff_bpf *b, struct bpf_map *map, const void *key)
{
	struct skiff_port_val val;
	int fd = bpf_map__fd(map);

	pthread_mutex_lock(&b->port_lock);
	if (!bpf_map_lookup_elem(fd, key, &val)) {
		if (val.refs <= 1) {
			bpf_map_delete_elem(fd, key);
		} else {
			val.refs--;
			bpf_map_update_elem(fd, key, &val, BPF_EXIST);
		}
	}
	pthread_mutex_unlock(&b->port_lock);
}

/* addr network order (0 = every skiff address), port network order */
static int hook_port_claim(void *ctx, uint32_t addr, uint8_t proto, uint16_t port)
{
	struct skiff_bpf *b = ctx;
	struct skiff_port_key key = { .addr = addr, .port = port, .proto = proto };

	return port_map_claim(b, b->skel->maps.ports, &key);
}

static void hook_port_release(void *ctx, uint32_t addr, uint8_t proto, uint16_t port)
{
	struct skiff_bpf *b = ctx;
	struct skiff_port_key key = { .addr = addr, .port = port, .proto = proto };

	port_map_release(b, b->skel->maps.ports, &key);
}

/* addr6 network order (:: = every skiff IPv6 address), port network order */
static int hook_port6_claim(void *ctx, const uint8_t addr6[16], uint8_t proto, uint16_t port)
{
	struct skiff_bpf *b = ctx;
	struct skiff_port6_key key = { .port = port, .proto = proto };

	memcpy(&key.addr, addr6, 16);
	return port_map_claim(b, b->skel->maps.ports6, &key);
}

static void hook_port6_release(void *ctx, const uint8_t addr6[16], uint8_t proto, uint16_t port)
{
	struct skiff_bpf *b = ctx;
	struct skiff_port6_key key = { .port = port, .proto = proto };

	memcpy(&key.addr, addr6, 16);
	port_map_release(b, b->skel->maps.ports6, &key);
}

/* A STATIC entry was set by hand: it never goes stale nor ages out, so it
 * reads as confirmed just now. */
static uint64_t neigh_confirmed(const struct skiff_neigh *n)
{
	return n->state == SKIFF_NEIGH_STATIC ? clock_now() : n->updated_ns;
}

/* One neighbour map (neigh or neigh6: the same values), by key. */
static int map_neigh_lookup(int fd, const void *key, uint8_t mac[6], uint64_t *updated_ns)
{
	struct skiff_neigh n;

	if (bpf_map_lookup_elem(fd, key, &n))
		return -ENOENT;
	memcpy(mac, n.mac, 6);
	if (updated_ns)
		*updated_ns = neigh_confirmed(&n);
	return 0;
}

static int map_neigh_update(int fd, const void *key, const uint8_t mac[6], uint64_t now)
{
	struct skiff_neigh n;

	/* a STATIC entry was set by hand: learning never overrides it */
	if (!bpf_map_lookup_elem(fd, key, &n) && n.state == SKIFF_NEIGH_STATIC)
		return 0;
	memset(&n, 0, sizeof(n));
	memcpy(n.mac, mac, 6);
	n.state = SKIFF_NEIGH_REACHABLE;
	n.updated_ns = now;
	if (bpf_map_update_elem(fd, key, &n, BPF_ANY))
		return errno == E2BIG ? -ENOSPC : -errno;
	return 0;
}

static int map_neigh_delete(int fd, const void *key)
{
	if (bpf_map_delete_elem(fd, key))
		return -errno;
	return 0;
}

static int hook_neigh_lookup(void *ctx, uint32_t ip, uint8_t mac[6], uint64_t *updated_ns)
{
	struct skiff_bpf *b = ctx;

	return map_neigh_lookup(bpf_map__fd(b->skel->maps.neigh), &ip, mac, updated_ns);
}

static int hook_neigh_update(void *ctx, uint32_t ip, const uint8_t mac[6], uint64_t now)
{
	struct skiff_bpf *b = ctx;

	return map_neigh_update(bpf_map__fd(b->skel->maps.neigh), &ip, mac, now);
}

static int hook_neigh_delete(void *ctx, uint32_t ip)
{
	struct skiff_bpf *b = ctx;

	return map_neigh_delete(bpf_map__fd(b->skel->maps.neigh), &ip);
}

static int hook_neigh6_lookup(void *ctx, const uint8_t ip6[16], uint8_t mac[6],
			      uint64_t *updated_ns)
{
	struct skiff_bpf *b = ctx;

	return map_neigh_lookup(bpf_map__fd(b->skel->maps.neigh6), ip6, mac, updated_ns);
}

static int hook_neigh6_update(void *ctx, const uint8_t ip6[16], const uint8_t mac[6],
			      uint64_t now)
{
	struct skiff_bpf *b = ctx;

	return map_neigh_update(bpf_map__fd(b->skel->maps.neigh6), ip6, mac, now);
}

static int hook_neigh6_delete(void *ctx, const uint8_t ip6[16])
{
	struct skiff_bpf *b = ctx;

	return map_neigh_delete(bpf_map__fd(b->skel->maps.neigh6), ip6);
}

static void hook_neigh_walk(void *ctx,
			    int (*fn)(void *arg, uint32_t ip, const uint8_t mac[6],
				      uint64_t updated_ns),
			    void *arg)
{
	struct skiff_bpf *b = ctx;
	int fd = bpf_map__fd(b->skel->maps.neigh);
	uint32_t keys[SKIFF_MAX_NEIGH], key, *prev = NULL;
	struct skiff_neigh n;
	int i, nkeys = 0;

	/* keys first: fn may delete entries, which would restart get_next_key */
	while (nkeys < SKIFF_MAX_NEIGH && !bpf_map_get_next_key(fd, prev, &key)) {
		keys[nkeys] = key;
		prev = &keys[nkeys++];
	}
	for (i = 0; i < nkeys; i++) {
		if (bpf_map_lookup_elem(fd, &keys[i], &n))
			continue;	/* deleted meanwhile */
		if (fn(arg, keys[i], n.mac, neigh_confirmed(&n)))
			break;
	}
}

void skiff_bpf_neigh6_walk(struct skiff_bpf *b,
			   int (*fn)(void *arg, const uint8_t ip6[16], const uint8_t mac[6],
				     uint64_t updated_ns),
			   void *arg)
{
	int fd = bpf_map__fd(b->skel->maps.neigh6);
	struct skiff_in6 key, *prev = NULL, last;
	struct skiff_neigh n;
	int i;

	for (i = 0; i < SKIFF_MAX_NEIGH && !bpf_map_get_next_key(fd, prev, &key); i++) {
		last = key;
		prev = &last;
		if (bpf_map_lookup_elem(fd, &key, &n))
			continue; /* deleted meanwhile */
		if (fn(arg, (const uint8_t *)&key, n.mac, neigh_confirmed(&n)))
			break;
	}
}

static void hook_neigh6_walk(void *ctx,
			     int (*fn)(void *arg, const uint8_t ip6[16], const uint8_t mac[6],
				       uint64_t updated_ns),
			     void *arg)
{
	skiff_bpf_neigh6_walk(ctx, fn, arg);
}

void skiff_bpf_hooks(struct skiff_bpf *b, struct stack_hooks *hooks)
{
	memset(hooks, 0, sizeof(*hooks));
	hooks->ctx = b;
	hooks->port_claim = hook_port_claim;
	hooks->port_release = hook_port_release;
	hooks->port6_claim = hook_port6_claim;
	hooks->port6_release = hook_port6_release;
	hooks->neigh_lookup = hook_neigh_lookup;
	hooks->neigh_update = hook_neigh_update;
	hooks->neigh_delete = hook_neigh_delete;
	hooks->neigh_walk = hook_neigh_walk;
	hooks->neigh6_lookup = hook_neigh6_lookup;
	hooks->neigh6_update = hook_neigh6_update;
	hooks->neigh6_delete = hook_neigh6_delete;
	hooks->neigh6_walk = hook_neigh6_walk;
	hooks->neigh_gen = (const volatile uint64_t *)&b->config->neigh_gen;
}

/* ---- facts ---- */

const char *skiff_bpf_mode(const struct skiff_bpf *b)
{
	return mode_name(b->mode);
}

const char *skiff_bpf_attach_kind(const struct skiff_bpf *b)
{
	return b->dispatcher ? "dispatcher" : "single program";
}

const char *skiff_bpf_attach_note(const struct skiff_bpf *b)
{
	return b->note;
}

const char *skiff_bpf_pin_dir(const struct skiff_bpf *b)
{
	return b->pd.path;
}

int skiff_bpf_ifindex(const struct skiff_bpf *b)
{
	return b->ifindex;
}

void skiff_bpf_mac(const struct skiff_bpf *b, uint8_t mac[6])
{
	memcpy(mac, b->mac, 6);
}

uint32_t skiff_bpf_mtu(const struct skiff_bpf *b)
{
	return b->mtu;
}

bool skiff_bpf_generic(const struct skiff_bpf *b)
{
	return b->mode == XDP_MODE_SKB;
}

int skiff_bpf_prog_id(const struct skiff_bpf *b)
{
	return b->prog ? (int)xdp_program__id(b->prog) : 0;
}
