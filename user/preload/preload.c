// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libskiff-preload: the LD_PRELOAD library of skiff-run (docs/skiff-run.md).
 * It interposes the POSIX socket calls and serves the AF_INET and AF_INET6 sockets that
 * belong on skiff through libskiffapp (linked in statically); every other
 * fd and call goes to libc untouched.
 *
 * This file: the fd table, the rule that decides which sockets are skiff's
 * (at bind() and connect(); socket() always makes a kernel socket, which
 * becomes the placeholder of the skiff socket when the rule says so), and
 * the calls that create, name, configure, duplicate and close sockets.
 * Data calls are in preload_io.c, waiting (poll/select/epoll) in
 * preload_wait.c.
 *
 * Everything libskiffapp itself calls (close, poll, epoll_ctl...) reaches
 * these wrappers too (they are first in the symbol lookup); in_lib sends
 * those calls straight to libc.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <linux/close_range.h>
#include <unistd.h>

#include "skiff/skiff_socket.h"
#include "preload.h"

#define MAX_RULES 32
#define TAB_MAX (1 << 20) /* fds the table can map */

/* An address or a prefix of the rule, in either family. */
struct net {
	int family;	  /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network order; AF_INET: the first 4 bytes */
	int len;	  /* prefix length */
	bool dedicated;
	uint32_t scope;	  /* a sockaddr's sin6_scope_id */
};

struct real_fns real;
__thread int in_lib;

static struct {
	_Atomic(struct ent *) *tab;
	int tab_size;
	struct kreg *kreg;	      /* per fd: its registration in a libskiffapp set */
	pthread_mutex_t lk;	      /* refuse()'s memory, the table's allocation */
	struct net addrs[MAX_RULES]; /* skiffd's addresses */
	int n_addrs;
	struct net nets[MAX_RULES]; /* connect() destinations for skiff */
	int n_nets;
	uint16_t ports[MAX_RULES]; /* ports INADDR_ANY binds give to skiff */
	int n_ports;
	uint32_t ifindex; /* skiffd's interface ($SKIFF_IFACE), 0 = not known */
	bool ll_rule;	  /* link-local destinations on skiff's link go to skiff */
	pid_t pid; /* the process the table belongs to */
	bool verbose;
	uint32_t said[64]; /* hashes of the messages refuse() printed */
	int n_said;
} P = {.lk = PTHREAD_MUTEX_INITIALIZER};

/* ---- libc underneath ---- */

#define RESOLVE(f) real.f = (__typeof__(real.f))dlsym(RTLD_NEXT, #f)

void preload_resolve(void)
{
	RESOLVE(socket);
	RESOLVE(bind);
	RESOLVE(listen);
	RESOLVE(accept);
	RESOLVE(accept4);
	RESOLVE(connect);
	RESOLVE(read);
	RESOLVE(write);
	RESOLVE(readv);
	RESOLVE(writev);
	RESOLVE(send);
	RESOLVE(recv);
	RESOLVE(sendto);
	RESOLVE(recvfrom);
	RESOLVE(sendmsg);
	RESOLVE(recvmsg);
	RESOLVE(shutdown);
	RESOLVE(close);
	RESOLVE(getsockname);
	RESOLVE(getpeername);
	RESOLVE(setsockopt);
	RESOLVE(getsockopt);
	RESOLVE(fcntl);
	RESOLVE(ioctl);
	RESOLVE(poll);
	RESOLVE(ppoll);
	RESOLVE(select);
	RESOLVE(pselect);
	RESOLVE(epoll_create);
	RESOLVE(epoll_create1);
	RESOLVE(epoll_ctl);
	RESOLVE(epoll_wait);
	RESOLVE(epoll_pwait);
	RESOLVE(epoll_pwait2);
	RESOLVE(dup);
	RESOLVE(dup2);
	RESOLVE(dup3);
	RESOLVE(sendfile);
	RESOLVE(sendmmsg);
	RESOLVE(recvmmsg);
	RESOLVE(splice);
	RESOLVE(close_range);
}

/* ---- messages ---- */

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

int refuse(int err, const char *call, int fd, const char *fmt, ...)
{
	char why[256], line[400];
	bool fresh;
	uint32_t h;
	va_list ap;
	int i, n;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (err)
		n = snprintf(line, sizeof(line), "skiff-run: %s(fd %d): %s (%s)\n", call, fd, why,
			     strerrorname_np(err) ? strerrorname_np(err) : "?");
	else
		n = snprintf(line, sizeof(line), "skiff-run: %s(fd %d): %s\n", call, fd, why);
	h = hash(call) ^ hash(why);
	pthread_mutex_lock(&P.lk);
	for (i = 0; i < P.n_said && P.said[i] != h; i++)
		;
	fresh = i == P.n_said;
	if (fresh && P.n_said < (int)(sizeof(P.said) / sizeof(P.said[0])))
		P.said[P.n_said++] = h;
	pthread_mutex_unlock(&P.lk);
	if (fresh || P.verbose) {
		if (REAL(write)(2, line,
				(size_t)(n < (int)sizeof(line) ? n : (int)sizeof(line) - 1)) < 0) {
			/* nowhere to say it */
		}
	}
	errno = err;
	return -1;
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	char line[300];
	va_list ap;
	int n;

	if (!P.verbose)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0 &&
	    REAL(write)(2, line, (size_t)(n < (int)sizeof(line) ? n : (int)sizeof(line) - 1)) < 0) {
		/* nowhere to say it */
	}
}

/* ---- the table ---- */

static bool table_is_ours(void);

static void tab_init(void)
{
	struct rlimit rl;
	size_t n = TAB_MAX;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < n)
		n = rl.rlim_max;
	if (n < 1024)
		n = 1024;
	/* untouched pages cost nothing: 8 MiB of address space at most */
	P.tab = mmap(NULL, n * sizeof(*P.tab), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
	if (P.tab == MAP_FAILED) {
		P.tab = NULL;
		return;
	}
	P.tab_size = (int)n;
	P.kreg = mmap(NULL, n * sizeof(*P.kreg), PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (P.kreg == MAP_FAILED)
		P.kreg = NULL;
}

/*
 * A kernel socket may be put in an epoll set before bind() or connect()
 * makes it a skiff socket (socket, epoll_ctl, connect: libuv-style loops).
 * The registration is remembered per fd (one set; -1 for several), so the
 * migration can move it from the placeholder to the skiff socket.
 */
void kreg_note(int fd, int set, int op, const struct epoll_event *ev)
{
	struct kreg *k;

	if (!P.kreg || fd < 0 || fd >= P.tab_size)
		return;
	k = &P.kreg[fd];
	if (op == EPOLL_CTL_ADD && ev)
		*k = (struct kreg){.set = k->set ? -1 : set + 1, .ev = *ev};
	else if (op == EPOLL_CTL_MOD && ev && k->set == set + 1)
		k->ev = *ev;
	else if (op == EPOLL_CTL_DEL && k->set == set + 1)
		k->set = 0;
}

/* fd's number names a new file (or none): its old registration is gone. */
static struct kreg kreg_take(int fd)
{
	struct kreg k = {0};

	if (P.kreg && fd >= 0 && fd < P.tab_size && P.kreg[fd].set) {
		k = P.kreg[fd];
		P.kreg[fd].set = 0;
	}
	return k;
}

struct ent *ent_of(int fd)
{
	if (in_lib || fd < 0 || fd >= P.tab_size)
		return NULL;
	return atomic_load_explicit(&P.tab[fd], memory_order_acquire);
}

/* Drop one reference of e; the last closes the skiff socket.  (An epoll
 * set is forgotten when its own fd closes: drop_epoll().) */
static void ent_put(struct ent *e)
{
	if (atomic_fetch_sub(&e->refs, 1) != 1)
		return;
	if (e->kind == ENT_SOCK)
		LIB(skiff_close(e->h));
	free(e);
}

int ent_install(int fd, struct ent *e)
{
	struct ent *stale;

	if (fd < 0 || fd >= P.tab_size) {
		errno = EMFILE;
		return -1;
	}
	atomic_fetch_add(&e->refs, 1);
	stale = atomic_exchange_explicit(&P.tab[fd], e, memory_order_acq_rel);
	if (stale) /* the number was closed behind the table's back */
		ent_put(stale);
	return 0;
}

/* fd was just made by the kernel: an entry there is stale (closed by a
 * call the table never saw: closefrom(), a raw syscall). */
static int fresh_fd(int fd)
{
	if (fd >= 0 && ent_of(fd) && table_is_ours())
		ent_forget(fd);
	if (fd >= 0 && !in_lib && P.kreg && fd < P.tab_size && P.kreg[fd].set && table_is_ours())
		kreg_take(fd);
	return fd;
}

/* fd, about to be closed, is the fd of epoll set e: libskiffapp forgets the
 * set and closes fd; a dup of it stays a plain kernel epoll. */
static int drop_epoll(struct ent *e, int fd)
{
	int r = LIB(skiff_close(fd));

	e->h = -1;
	ent_put(e);
	return r;
}

void ent_forget(int fd)
{
	struct ent *e;

	if (fd < 0 || fd >= P.tab_size)
		return;
	e = atomic_exchange(&P.tab[fd], NULL);
	if (e)
		ent_put(e);
}

/* ---- the rule ---- */

/* "A[/LEN][:dedicated|:shared]", A an IPv4 or IPv6 address (the mode is
 * what follows the last ':' when it is one of those words). */
static int parse_net(const char *s, struct net *out)
{
	char buf[80], *slash, *colon;
	long len = -1;

	snprintf(buf, sizeof(buf), "%s", s);
	memset(out, 0, sizeof(*out));
	colon = strrchr(buf, ':');
	if (colon && (!strcmp(colon + 1, "dedicated") || !strcmp(colon + 1, "shared"))) {
		out->dedicated = !strcmp(colon + 1, "dedicated");
		*colon = 0;
	}
	slash = strchr(buf, '/');
	if (slash) {
		*slash = 0;
		len = strtol(slash + 1, NULL, 10);
	}
	if (inet_pton(AF_INET, buf, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, out->addr) == 1)
		out->family = AF_INET6;
	else
		return -1;
	if (len < 0)
		len = out->family == AF_INET ? 32 : 128;
	if (len > (out->family == AF_INET ? 32 : 128))
		return -1;
	out->len = (int)len;
	return 0;
}

/* Split env var name at commas into each() calls. */
static void each_item(const char *name, void (*each)(const char *))
{
	const char *v = getenv(name);
	char item[64];
	size_t k;

	while (v && *v) {
		k = strcspn(v, ",");
		if (k && k < sizeof(item)) {
			memcpy(item, v, k);
			item[k] = 0;
			each(item);
		}
		v += k + (v[k] == ',');
	}
}

static void add_addr(const char *s)
{
	if (P.n_addrs < MAX_RULES && !parse_net(s, &P.addrs[P.n_addrs]))
		P.n_addrs++;
}

static void add_net(const char *s)
{
	if (P.n_nets < MAX_RULES && !parse_net(s, &P.nets[P.n_nets]))
		P.n_nets++;
}

static void add_port(const char *s)
{
	long p = strtol(s, NULL, 10);

	if (P.n_ports < MAX_RULES && p > 0 && p < 65536)
		P.ports[P.n_ports++] = (uint16_t)p;
}

static void after_fork(void)
{
	P.pid = getpid(); /* a copy of the table: the child's own */
}

/*
 * A child that shares this memory (vfork, posix_spawn, clone(CLONE_VM))
 * runs without fork handlers; it must not change the table, which is its
 * parent's: its close() and dup2() before exec go straight to the kernel.
 */
static bool table_is_ours(void)
{
	return getpid() == P.pid;
}

/* fe80::/10 (RFC 4291 2.5.6) */
static bool addr_is_linklocal(const struct net *a)
{
	return a->family == AF_INET6 && a->addr[0] == 0xfe && (a->addr[1] & 0xc0) == 0x80;
}

__attribute__((constructor)) static void preload_init(void)
{
	int i;

	if (!real.close)
		preload_resolve();
	tab_init();
	P.pid = getpid();
	pthread_atfork(NULL, NULL, after_fork);
	P.verbose = getenv("SKIFF_RUN_VERBOSE") && *getenv("SKIFF_RUN_VERBOSE") == '1';
	each_item("SKIFF_RUN_ADDRS", add_addr);
	each_item("SKIFF_RUN_PORTS", add_port);
	each_item("SKIFF_RUN_NETS", add_net);
	if (getenv("SKIFF_IFACE"))
		P.ifindex = if_nametoindex(getenv("SKIFF_IFACE"));
	if (!getenv("SKIFF_RUN_NETS"))
		for (i = 0; i < P.n_addrs && P.n_nets < MAX_RULES; i++) {
			/* fe80::/10 is every link's: only skiff's link by its
			 * scope id (connect_for_skiff), when skiffd has an
			 * address there to send from */
			if (addr_is_linklocal(&P.addrs[i]))
				P.ll_rule = P.ifindex != 0;
			else
				P.nets[P.n_nets++] = P.addrs[i];
		}
}

/* Whether the first len bits of a and b are equal. */
static bool prefix_eq(const uint8_t *a, const uint8_t *b, int len)
{
	int k = len / 8;

	if (memcmp(a, b, (size_t)k))
		return false;
	return len % 8 == 0 || !((a[k] ^ b[k]) & (0xff << (8 - len % 8)));
}

/* The address of a sockaddr the program passed, as the rule sees it: an
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) as its IPv4 address; false for
 * another family or a short length. */
static bool rule_addr(const struct sockaddr *sa, socklen_t len, struct net *out, uint16_t *port)
{
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
	struct sockaddr_in6 sin6;
	struct sockaddr_in sin;

	memset(out, 0, sizeof(*out));
	if (!sa || len < sizeof(sa_family_t))
		return false;
	if (sa->sa_family == AF_INET && len >= sizeof(sin)) {
		memcpy(&sin, sa, sizeof(sin));
		out->family = AF_INET;
		memcpy(out->addr, &sin.sin_addr, 4);
		*port = ntohs(sin.sin_port);
		return true;
	}
	if (sa->sa_family != AF_INET6 || len < 24) /* RFC 2133's sockaddr_in6 */
		return false;
	memset(&sin6, 0, sizeof(sin6));
	memcpy(&sin6, sa, len < sizeof(sin6) ? len : sizeof(sin6));
	*port = ntohs(sin6.sin6_port);
	if (!memcmp(&sin6.sin6_addr, mapped, sizeof(mapped))) {
		out->family = AF_INET;
		memcpy(out->addr, (uint8_t *)&sin6.sin6_addr + 12, 4);
	} else {
		out->family = AF_INET6;
		memcpy(out->addr, &sin6.sin6_addr, 16);
		out->scope = sin6.sin6_scope_id; /* 0 in RFC 2133's 24 bytes */
	}
	return true;
}

static bool addr_is_any(const struct net *a)
{
	static const uint8_t zero[16];

	return !memcmp(a->addr, zero, sizeof(zero));
}

/* 127.0.0.0/8 or ::1 */
static bool addr_is_loopback(const struct net *a)
{
	static const uint8_t one[16] = {[15] = 1};

	return a->family == AF_INET ? a->addr[0] == 127 : !memcmp(a->addr, one, sizeof(one));
}

/* Which skiff address a is (index), or -1. */
static int skiff_addr(const struct net *a)
{
	int i;

	for (i = 0; i < P.n_addrs; i++)
		if (P.addrs[i].family == a->family && !memcmp(P.addrs[i].addr, a->addr, 16))
			return i;
	return -1;
}

/* a printed, for the notes */
static const char *addr_str(const struct net *a, char *buf, size_t size)
{
	return inet_ntop(a->family, a->addr, buf, (socklen_t)size) ? buf : "?";
}

static bool skiff_port(uint16_t port)
{
	int i;

	for (i = 0; i < P.n_ports; i++)
		if (P.ports[i] == port)
			return true;
	return false;
}

/* bind(): a dedicated skiff address, or the wildcard (0.0.0.0 or [::]) or
 * a shared skiff address with a port skiff-run was given; a link-local
 * one with skiff's interface as its scope (another link's, or none, is
 * the kernel's to take or refuse). */
static bool bind_for_skiff(const struct net *a, uint16_t port)
{
	int i = skiff_addr(a);

	if (i >= 0 && addr_is_linklocal(a) && (!P.ifindex || a->scope != P.ifindex))
		return false;
	if (i >= 0 && P.addrs[i].dedicated)
		return true;
	return (addr_is_any(a) || i >= 0) && skiff_port(port);
}

/* connect(): a destination inside one of the nets (by default skiff's
 * subnets), other than skiff's own addresses and loopback. */
static bool connect_for_skiff(const struct net *a)
{
	int i;

	if (addr_is_loopback(a) || addr_is_any(a) || skiff_addr(a) >= 0)
		return false;
	/* a link-local peer named on skiff's link (RFC 4007 11) */
	if (P.ll_rule && addr_is_linklocal(a) && a->scope == P.ifindex)
		return true;
	for (i = 0; i < P.n_nets; i++)
		if (P.nets[i].family == a->family && prefix_eq(a->addr, P.nets[i].addr, P.nets[i].len))
			return true;
	return false;
}

/* The kernel socket's type, its family (AF_INET or AF_INET6) in *family;
 * -1 for other families. */
static int kernel_type(int fd, int *family)
{
	int dom = 0, type = 0;
	socklen_t l = sizeof(dom);

	if (REAL(getsockopt)(fd, SOL_SOCKET, SO_DOMAIN, &dom, &l) ||
	    (dom != AF_INET && dom != AF_INET6))
		return -1;
	*family = dom;
	l = sizeof(type);
	if (REAL(getsockopt)(fd, SOL_SOCKET, SO_TYPE, &type, &l))
		return -1;
	return type;
}

static int kopt(int fd, int level, int name)
{
	int v = 0;
	socklen_t l = sizeof(v);

	return REAL(getsockopt)(fd, level, name, &v, &l) ? 0 : v;
}

/* The first line of sysctl file path, without its newline ("" if none). */
static void sysctl_str(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");

	buf[0] = 0;
	if (!f)
		return;
	if (!fgets(buf, (int)size, f))
		buf[0] = 0;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
}

static int sysctl_int(const char *path)
{
	char buf[32];

	sysctl_str(path, buf, sizeof(buf));
	return buf[0] ? atoi(buf) : -1;
}

/* TCP_CONGESTION set on kernel socket fd, to skiff socket h: a name other
 * than the namespace's default was set by the program (one it set equal to
 * the default cannot be told apart: skiff then uses skiffd --cc). */
static void carry_congestion(int fd, int h, const char *call)
{
	char cc[32] = "", dflt[32];
	socklen_t l = sizeof(cc) - 1;

	if (kopt(fd, SOL_SOCKET, SO_TYPE) != SOCK_STREAM ||
	    REAL(getsockopt)(fd, IPPROTO_TCP, TCP_CONGESTION, cc, &l))
		return;
	cc[l < sizeof(cc) ? l : sizeof(cc) - 1] = 0;
	sysctl_str("/proc/sys/net/ipv4/tcp_congestion_control", dflt, sizeof(dflt));
	if (cc[0] && strcmp(cc, dflt) &&
	    LIB(skiff_setsockopt(h, IPPROTO_TCP, TCP_CONGESTION, cc, (socklen_t)strlen(cc))))
		refuse(errno, call, fd, "TCP_CONGESTION %s set before could not be carried to skiff",
		       cc);
}

/* The IP header fields and the receive options of control messages set on
 * kernel socket fd (those that differ from what the kernel reads back when
 * unset), to skiff socket h. */
static void carry_ip_options(int fd, int h, const char *call)
{
	bool v6 = kopt(fd, SOL_SOCKET, SO_DOMAIN) == AF_INET6;
	const struct {
		int level, name, unset;
	} opts[] = {
		{IPPROTO_IP, IP_TOS, 0},
		{IPPROTO_IP, IP_TTL, sysctl_int("/proc/sys/net/ipv4/ip_default_ttl")},
		{IPPROTO_IPV6, IPV6_TCLASS, 0},
		{IPPROTO_IPV6, IPV6_UNICAST_HOPS, sysctl_int("/proc/sys/net/ipv6/conf/all/hop_limit")},
		/* what recvmsg's control messages report */
		{IPPROTO_IP, IP_PKTINFO, 0},
		{IPPROTO_IP, IP_RECVTTL, 0},
		{IPPROTO_IP, IP_RECVTOS, 0},
		{IPPROTO_IPV6, IPV6_RECVPKTINFO, 0},
		{IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 0},
		{IPPROTO_IPV6, IPV6_RECVTCLASS, 0},
	};
	size_t k;
	int v;

	for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
		if (opts[k].level == IPPROTO_IPV6 && !v6)
			continue;
		v = kopt(fd, opts[k].level, opts[k].name);
		if (v != opts[k].unset &&
		    LIB(skiff_setsockopt(h, opts[k].level, opts[k].name, &v, sizeof(v))))
			refuse(errno, call, fd,
			       "option %d/%d set before could not be carried to skiff",
			       opts[k].level, opts[k].name);
	}
}

/* Carry the options set on the kernel socket to skiff socket h; say what
 * cannot be carried. */
static void carry_options(int fd, int h, const char *call)
{
	static const struct {
		int level, name;
	} opts[] = {
		{SOL_SOCKET, SO_REUSEADDR},
		{SOL_SOCKET, SO_KEEPALIVE},
		{IPPROTO_TCP, TCP_NODELAY},
	};
	struct linger lg = {0};
	socklen_t l = sizeof(lg);
	size_t k;
	int v;

	/* before the others: it is refused once the socket is bound (a
	 * program binding [::] sets it first; nginx does, python's
	 * http.server clears it) */
	if (kopt(fd, SOL_SOCKET, SO_DOMAIN) == AF_INET6 && kopt(fd, IPPROTO_IPV6, IPV6_V6ONLY) &&
	    LIB(skiff_setsockopt(h, IPPROTO_IPV6, IPV6_V6ONLY, &(int){1}, sizeof(int))))
		refuse(errno, call, fd, "IPV6_V6ONLY set before could not be carried to skiff");

	for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
		v = kopt(fd, opts[k].level, opts[k].name);
		if (v && LIB(skiff_setsockopt(h, opts[k].level, opts[k].name, &v, sizeof(v))))
			refuse(errno, call, fd,
			       "option %d/%d set before could not be carried to skiff",
			       opts[k].level, opts[k].name);
	}
	if (kopt(fd, SOL_SOCKET, SO_REUSEPORT))
		refuse(0, call, fd,
		       "SO_REUSEPORT is not carried to skiff: a second listener on the port "
		       "gets EADDRINUSE");
	if (kopt(fd, SOL_SOCKET, SO_KEEPALIVE) &&
	    (kopt(fd, IPPROTO_TCP, TCP_KEEPIDLE) !=
		     sysctl_int("/proc/sys/net/ipv4/tcp_keepalive_time") ||
	     kopt(fd, IPPROTO_TCP, TCP_KEEPINTVL) !=
		     sysctl_int("/proc/sys/net/ipv4/tcp_keepalive_intvl")))
		refuse(0, call, fd,
		       "TCP_KEEPIDLE/TCP_KEEPINTVL are not carried to skiff: its keepalive "
		       "keeps its own timing");
	if (!REAL(getsockopt)(fd, SOL_SOCKET, SO_LINGER, &lg, &l) && lg.l_onoff &&
	    LIB(skiff_setsockopt(h, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg))))
		refuse(errno, call, fd, "SO_LINGER set before could not be carried to skiff");
	carry_congestion(fd, h, call);
	carry_ip_options(fd, h, call);
}

/* Make kernel socket fd the placeholder of a new skiff socket. */
static struct ent *migrate(int fd, int family, int type, const char *call)
{
	int h, fl = REAL(fcntl)(fd, F_GETFL);
	struct kreg k;
	struct ent *e;

	h = LIB(skiff_socket(family, type | (fl > 0 && (fl & O_NONBLOCK) ? SOCK_NONBLOCK : 0), 0));
	if (h < 0) {
		if (errno == EPROTONOSUPPORT && type == SOCK_DGRAM)
			refuse(errno, call, fd,
			       "UDP is not available on skiff here: left on the kernel");
		else
			refuse(errno, call, fd, "no skiff socket: %s",
			       errno == EACCES || errno == ENOENT || errno == ECONNREFUSED
				       ? skiff_last_error()
				       : strerror(errno));
		return NULL;
	}
	carry_options(fd, h, call);
	e = calloc(1, sizeof(*e));
	if (e)
		pthread_mutex_init(&e->lk, NULL);
	if (!e || ent_install(fd, e)) {
		free(e);
		LIB(skiff_close(h));
		refuse(errno ? errno : ENOMEM, call, fd, "cannot map this fd to skiff");
		return NULL;
	}
	e->kind = ENT_SOCK;
	e->h = h;
	e->type = type;
	k = kreg_take(fd);
	if (k.set > 0)
		epoll_adopt(e, k.set - 1, &k.ev, fd, call);
	else if (k.set < 0)
		refuse(0, call, fd,
		       "the socket was in several epoll sets before it became a skiff socket: "
		       "only those it is added to from now on see it");
	return e;
}

/* ---- creating and naming ---- */

/* Always a kernel socket: bind() or connect() may make it skiff's later. */
PRELOAD_EXPORT int socket(int domain, int type, int protocol)
{
	return fresh_fd(REAL(socket)(domain, type, protocol));
}

PRELOAD_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct ent *e = ent_of(fd);
	char buf[INET6_ADDRSTRLEN];
	struct net a;
	uint16_t port;
	int type, family;

	if (e && e->kind == ENT_SOCK)
		return LIB(skiff_bind(e->h, addr, len));
	if (in_lib || !rule_addr(addr, len, &a, &port) || !bind_for_skiff(&a, port))
		return REAL(bind)(fd, addr, len);
	type = kernel_type(fd, &family);
	if ((type != SOCK_STREAM && type != SOCK_DGRAM) || family != addr->sa_family)
		return REAL(bind)(fd, addr, len);
	e = migrate(fd, family, type, "bind");
	if (!e) {
		if (type == SOCK_DGRAM && errno == EPROTONOSUPPORT)
			return REAL(bind)(fd, addr, len);
		return -1;
	}
	note("skiff-run: bind(fd %d, %s%s%s:%u) on skiff\n", fd, family == AF_INET6 ? "[" : "",
	     addr_str(&a, buf, sizeof(buf)), family == AF_INET6 ? "]" : "", port);
	return LIB(skiff_bind(e->h, addr, len));
}

/* Whether kernel socket fd has a local port (bound, or connected). */
static bool kernel_bound(int fd)
{
	struct sockaddr_in6 sin6; /* sin_port and sin6_port share their offset */
	socklen_t l = sizeof(sin6);

	return !REAL(getsockname)(fd, (struct sockaddr *)&sin6, &l) && sin6.sin6_port;
}

/* A kernel socket about to connect (call "connect") or to send a datagram
 * (any other call: UDP only; a TCP sendto() with an address is the
 * kernel's, MSG_FASTOPEN included) to addr: 1 when it became a skiff
 * socket (*out), 0 when it stays the kernel's, -1/errno when the rule gave
 * it to skiff and that failed. */
int preload_claim(int fd, const struct sockaddr *addr, socklen_t len, const char *call,
		  struct ent **out)
{
	char buf[INET6_ADDRSTRLEN];
	struct net a;
	uint16_t port;
	int type, family;

	if (in_lib || !rule_addr(addr, len, &a, &port) || !connect_for_skiff(&a))
		return 0;
	type = kernel_type(fd, &family);
	if ((type != SOCK_STREAM && type != SOCK_DGRAM) || family != addr->sa_family ||
	    kernel_bound(fd) || (type == SOCK_STREAM && strcmp(call, "connect")))
		return 0;
	*out = migrate(fd, family, type, call);
	if (!*out)
		return type == SOCK_DGRAM && errno == EPROTONOSUPPORT ? 0 : -1;
	note("skiff-run: %s(fd %d, %s%s%s:%u) on skiff\n", call, fd, family == AF_INET6 ? "[" : "",
	     addr_str(&a, buf, sizeof(buf)), family == AF_INET6 ? "]" : "", port);
	return 1;
}

PRELOAD_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct ent *e = ent_of(fd);
	int r;

	if (e && e->kind == ENT_SOCK)
		return LIB(skiff_connect(e->h, addr, len));
	r = preload_claim(fd, addr, len, "connect", &e);
	if (r < 0)
		return -1;
	if (!r)
		return REAL(connect)(fd, addr, len);
	return LIB(skiff_connect(e->h, addr, len));
}

PRELOAD_EXPORT int listen(int fd, int backlog)
{
	struct ent *e = sock_of(fd);

	if (!e)
		return REAL(listen)(fd, backlog);
	return LIB(skiff_listen(e->h, backlog));
}

PRELOAD_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct ent *e = sock_of(fd), *ne;
	int pfd, h, err;

	if (!e)
		return fresh_fd(REAL(accept4)(fd, addr, len, flags));
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) {
		errno = EINVAL;
		return -1;
	}
	/* the placeholder first: RLIMIT_NOFILE refuses before a connection
	 * is taken off the queue */
	pfd = fresh_fd(REAL(socket)(AF_INET, SOCK_STREAM | flags, 0));
	if (pfd < 0)
		return -1;
	ne = calloc(1, sizeof(*ne));
	if (ne)
		pthread_mutex_init(&ne->lk, NULL);
	if (!ne) {
		REAL(close)(pfd);
		errno = ENOMEM;
		return -1;
	}
	h = LIB(skiff_accept4(e->h, addr, len, flags));
	if (h < 0 || ent_install(pfd, ne)) {
		err = errno;
		if (h < 0 && err == EAGAIN)
			ent_rearm(e);
		if (h >= 0)
			LIB(skiff_close(h));
		free(ne);
		REAL(close)(pfd);
		errno = err;
		return -1;
	}
	ne->kind = ENT_SOCK;
	ne->h = h;
	ne->type = SOCK_STREAM;
	return pfd;
}

PRELOAD_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	if (!sock_of(fd))
		return fresh_fd(REAL(accept)(fd, addr, len));
	return accept4(fd, addr, len, 0);
}

PRELOAD_EXPORT int shutdown(int fd, int how)
{
	struct ent *e = sock_of(fd);

	if (!e)
		return REAL(shutdown)(fd, how);
	return LIB(skiff_shutdown(e->h, how));
}

PRELOAD_EXPORT int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct ent *e = sock_of(fd);

	if (!e)
		return REAL(getsockname)(fd, addr, len);
	return LIB(skiff_getsockname(e->h, addr, len));
}

PRELOAD_EXPORT int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct ent *e = sock_of(fd);

	if (!e)
		return REAL(getpeername)(fd, addr, len);
	return LIB(skiff_getpeername(e->h, addr, len));
}

PRELOAD_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct ent *e = sock_of(fd);

	if (!e)
		return REAL(setsockopt)(fd, level, name, val, len);
	if (!LIB(skiff_setsockopt(e->h, level, name, val, len)))
		return 0;
	if (errno == ENOPROTOOPT || errno == EOPNOTSUPP)
		return refuse(errno, "setsockopt", fd,
			      "level %d option %d is not supported on skiff", level, name);
	return -1;
}

PRELOAD_EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct ent *e = sock_of(fd);

	if (!e)
		return REAL(getsockopt)(fd, level, name, val, len);
	if (!LIB(skiff_getsockopt(e->h, level, name, val, len)))
		return 0;
	if (errno == ENOPROTOOPT || errno == EOPNOTSUPP)
		return refuse(errno, "getsockopt", fd,
			      "level %d option %d is not supported on skiff", level, name);
	return -1;
}

/* ---- fd numbers: close, dup, fcntl, ioctl ---- */

PRELOAD_EXPORT int close(int fd)
{
	struct ent *e;

	if (!in_lib && P.kreg && fd >= 0 && fd < P.tab_size && P.kreg[fd].set && table_is_ours())
		kreg_take(fd);
	if (in_lib || fd < 0 || fd >= P.tab_size || !atomic_load(&P.tab[fd]) || !table_is_ours())
		return REAL(close)(fd);
	e = atomic_exchange(&P.tab[fd], NULL);
	if (!e)
		return REAL(close)(fd);
	if (e->kind == ENT_EPOLL && e->h == fd)
		return drop_epoll(e, fd);
	ent_put(e);
	return REAL(close)(fd);
}

/* newfd now names what oldfd names (the kernel did the dup). */
static int dup_done(int oldfd, int newfd)
{
	struct ent *e = ent_of(oldfd);

	if (!e)
		return fresh_fd(newfd);
	if (newfd >= 0 && table_is_ours() && ent_install(newfd, e)) {
		REAL(close)(newfd);
		return -1;
	}
	return newfd;
}

PRELOAD_EXPORT int dup(int fd)
{
	return dup_done(fd, REAL(dup)(fd));
}

PRELOAD_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	struct ent *old;
	int r;

	if (in_lib || oldfd == newfd || ((ent_of(oldfd) || ent_of(newfd)) && !table_is_ours()))
		return flags ? REAL(dup3)(oldfd, newfd, flags) : REAL(dup2)(oldfd, newfd);
	old = ent_of(newfd);
	if (old && old->kind == ENT_EPOLL && old->h == newfd && ent_of(oldfd) != old &&
	    newfd < P.tab_size && atomic_compare_exchange_strong(&P.tab[newfd], &old, NULL))
		drop_epoll(old, newfd); /* the kernel would close it now anyway */
	r = flags ? REAL(dup3)(oldfd, newfd, flags) : REAL(dup2)(oldfd, newfd);
	if (r < 0)
		return r;
	ent_forget(newfd); /* what newfd named lost a name (dup2 closed it) */
	kreg_take(newfd);
	return dup_done(oldfd, r);
}

PRELOAD_EXPORT int dup2(int oldfd, int newfd)
{
	return dup3(oldfd, newfd, 0);
}

/* close_range(2): the skiff sockets in the range close as with close(). */
PRELOAD_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	unsigned int fd;
	struct ent *e;

	if (!in_lib && !(flags & CLOSE_RANGE_CLOEXEC) && table_is_ours())
		for (fd = first; fd <= last && fd < (unsigned int)P.tab_size; fd++) {
			/* a load first: no write to the table's untouched pages */
			e = atomic_load(&P.tab[fd]) ? atomic_exchange(&P.tab[fd], NULL) : NULL;
			if (e && e->kind == ENT_EPOLL && e->h == (int)fd)
				drop_epoll(e, (int)fd);
			else if (e)
				ent_put(e);
		}
	return REAL(close_range)(first, last, flags);
}

static int do_fcntl(int fd, int cmd, long arg)
{
	struct ent *e = sock_of(fd);
	int r;

	if (in_lib || !ent_of(fd))
		return REAL(fcntl)(fd, cmd, arg);
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		return dup_done(fd, REAL(fcntl)(fd, cmd, arg));
	case F_SETFL:
		if (!e)
			break;
		if (arg & O_ASYNC)
			return refuse(EINVAL, "fcntl", fd,
				      "O_ASYNC (SIGIO) is not supported on skiff");
		r = REAL(fcntl)(fd, cmd, arg);
		if (!r)
			r = LIB(skiff_fcntl(e->h, F_SETFL, (long)(arg & O_NONBLOCK)));
		return r;
	}
	return REAL(fcntl)(fd, cmd, arg);
}

PRELOAD_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return do_fcntl(fd, cmd, arg);
}

PRELOAD_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return do_fcntl(fd, cmd, arg);
}

PRELOAD_EXPORT int ioctl(int fd, unsigned long req, ...)
{
	struct ent *e = sock_of(fd);
	va_list ap;
	void *arg;
	int r;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!e)
		return REAL(ioctl)(fd, req, arg);
	switch (req) {
	case FIONBIO:
		r = LIB(skiff_ioctl(e->h, req, arg));
		if (!r) /* the placeholder too: F_GETFL says it */
			r = REAL(ioctl)(fd, req, arg);
		return r;
	case FIONREAD:
		return LIB(skiff_ioctl(e->h, req, arg));
	case FIOCLEX:
	case FIONCLEX:
		return REAL(ioctl)(fd, req, arg);
	}
	/* interface requests (SIOCGIF*) are about the machine, not the socket */
	if ((req & 0xff00) == 0x8900 && req != SIOCATMARK && req != SIOCGSTAMP &&
	    req != SIOCGSTAMPNS)
		return REAL(ioctl)(fd, req, arg);
	return refuse(ENOTTY, "ioctl", fd, "request 0x%lx is not supported on skiff", req);
}
