// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The socket table and the calls that change it: socket, bind, listen,
 * accept, connect, shutdown, close, names, options, fcntl and ioctl.
 */
#include <net/if.h>

#include "app_lib.h"

int sa_slot_of(int fd)
{
	int i = fd - SKIFF_FD_BASE;

	if (fd < SKIFF_FD_BASE || i >= SKIFF_APP_MAX_SOCKS || !A.attached || !sa_held(i))
		return -1;
	if (A.L->s[i].kind == L_FREE || A.L->s[i].kind == L_CLOSING)
		return -1;
	return i;
}

/* The slot of connected socket fd (a lock held), or -EBADF / -ENOTCONN. */
int sa_conn_slot(int fd)
{
	int i = sa_slot_of(fd);

	if (i < 0)
		return -EBADF;
	return A.L->s[i].kind == L_CONN ? i : -ENOTCONN;
}

/* ---- sockets ---- */

static int alloc_slot(void)
{
	int i;

	for (i = 0; i < SKIFF_APP_MAX_SOCKS; i++) {
		struct lsock *ls = &A.L->s[i];

		if (ls->kind == L_CLOSING && load_acq(&A.slots[i].closed_seq) == ls->close_seq)
			ls->kind = L_FREE;
		if (ls->kind == L_FREE) {
			uint32_t seq = ls->seq;

			sa_sock_lock(i);
			memset(ls, 0, sizeof(*ls));
			ls->seq = seq;
			ls->kind = L_NEW;
			sa_sock_unlock(i);
			sa_set_held(i, true);
			return i;
		}
	}
	return -1;
}

SKIFF_EXPORT int skiff_is_socket(int fd)
{
	/* without a lock: as stale as the answer is once returned anyway */
	return sa_sock_of(fd) >= 0 && sa_slot_of(fd) >= 0;
}

SKIFF_EXPORT int skiff_socket(int domain, int type, int protocol)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), i, ret;

	if (domain != AF_INET && domain != AF_INET6)
		return fail(EAFNOSUPPORT);
	if (!(base == SOCK_STREAM && (!protocol || protocol == IPPROTO_TCP)) &&
	    !(base == SOCK_DGRAM && (!protocol || protocol == IPPROTO_UDP)))
		return fail(base == SOCK_STREAM || base == SOCK_DGRAM ? EPROTONOSUPPORT
								      : ESOCKTNOSUPPORT);
	sa_lock();
	ret = sa_do_attach(NULL);
	if (ret) {
		sa_unlock();
		return fail(-ret);
	}
	i = alloc_slot();
	if (i >= 0) {
		A.L->s[i].nonblock = type & SOCK_NONBLOCK;
		A.L->s[i].cloexec = type & SOCK_CLOEXEC;
		A.L->s[i].dgram = base == SOCK_DGRAM;
		A.L->s[i].family = (uint8_t)domain;
		A.L->s[i].local.sa.sa_family = (sa_family_t)domain;
	}
	sa_unlock();
	return i < 0 ? fail(EMFILE) : SKIFF_FD_BASE + i;
}

/* ---- addresses ---- */

/*
 * A link-local address names a link (RFC 4007 11), and skiff has one:
 * sin6_scope_id must be skiffd's interface.  Linux's errors: no scope id
 * is EINVAL to bind or connect (inet6_bind, tcp_v6_connect,
 * __ip6_datagram_connect) and fine to sendto (the route picks the link);
 * another interface is ENODEV to bind when there is none of that index,
 * else EADDRNOTAVAIL (skiff's address is not on it), and ENETUNREACH to
 * reach (skiff has no route through it).
 */
static int sa_scope_check(const struct sockaddr_in6 *sin6, enum sa_use use)
{
	char name[IF_NAMESIZE];

	if (!IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr))
		return 0;
	if (!sin6->sin6_scope_id)
		return use == SA_SENDTO ? 0 : -EINVAL;
	if (sin6->sin6_scope_id == A.ifindex)
		return 0;
	if (use != SA_BIND)
		return -ENETUNREACH;
	return if_indextoname(sin6->sin6_scope_id, name) ? -EADDRNOTAVAIL : -ENODEV;
}

/* An address the program gave for socket i (to bind, connect or sendto),
 * which must be of the socket's family: EINVAL when shorter
 * than its sockaddr (an AF_INET6 one may omit sin6_scope_id, RFC 2133's
 * 24 bytes, as Linux allows), EAFNOSUPPORT for another family, as Linux's
 * inet_bind/inet6_bind.  An IPv4-mapped address on a V6ONLY socket is
 * EINVAL to bind and ENETUNREACH to reach (inet6_bind, tcp_v6_connect,
 * udpv6_sendmsg); a link-local one needs its scope (sa_scope_check). */
int sa_name_in(int i, const struct sockaddr *addr, socklen_t len, union sa_name *out,
	       enum sa_use use)
{
	int family = A.L->s[i].family;
	socklen_t min = family == AF_INET6 ? 24 : (socklen_t)sizeof(struct sockaddr_in);

	if (!addr)
		return -EFAULT;
	if (len < min)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	memcpy(out, addr, len < sizeof(*out) ? len : sizeof(*out));
	if (out->sa.sa_family != family)
		return -EAFNOSUPPORT;
	if (A.L->s[i].v6only && IN6_IS_ADDR_V4MAPPED(&out->sin6.sin6_addr))
		return use != SA_BIND ? -ENETUNREACH : -EINVAL;
	return family == AF_INET6 ? sa_scope_check(&out->sin6, use) : 0;
}

/* The name of the 16 address bytes of the protocol (app_shm.h) and a port. */
void sa_name_set(union sa_name *n, int family, const uint8_t a[16], uint16_t port)
{
	memset(n, 0, sizeof(*n));
	n->sa.sa_family = (sa_family_t)family;
	if (family == AF_INET6) {
		memcpy(&n->sin6.sin6_addr, a, 16);
		/* a link-local address is skiffd's link's (RFC 4007 11) */
		if (IN6_IS_ADDR_LINKLOCAL(&n->sin6.sin6_addr))
			n->sin6.sin6_scope_id = A.ifindex;
	} else
		memcpy(&n->sin.sin_addr, a, 4);
	n->sin.sin_port = port;
}

/* The protocol's 16 address bytes and the port of a name. */
void sa_msg_addr(const union sa_name *n, uint8_t a[16], uint16_t *port)
{
	memset(a, 0, 16);
	if (n->sa.sa_family == AF_INET6)
		memcpy(a, &n->sin6.sin6_addr, 16);
	else
		memcpy(a, &n->sin.sin_addr, 4);
	*port = n->sin.sin_port;
}

/* Write name n of a socket of family into addr, truncated to *len, which
 * becomes the name's full size (as the kernel's getsockname). */
void sa_name_out(int family, const union sa_name *n, struct sockaddr *addr, socklen_t *len)
{
	socklen_t size = family == AF_INET6 ? sizeof(n->sin6) : sizeof(n->sin);
	union sa_name out = *n;

	out.sa.sa_family = (sa_family_t)family;
	memcpy(addr, &out, *len < size ? *len : size);
	*len = size;
}

SKIFF_EXPORT int skiff_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	union sa_name sin;
	int i, ret;

	sa_lock();
	i = sa_slot_of(fd);
	ret = i < 0 ? -EBADF : sa_name_in(i, addr, len, &sin, SA_BIND);
	if (!ret && (A.L->s[i].kind != L_NEW || A.L->s[i].bound))
		ret = -EINVAL;
	if (!ret && A.L->s[i].dgram) {
		/* a datagram socket exists on its workers from bind() on:
		 * EADDRINUSE is reported here, as Linux */
		ret = sa_udp_bind_on(i, &sin);
	} else if (!ret) {
		A.L->s[i].local = sin;
		A.L->s[i].bound = true;
	}
	sa_unlock();
	return ret ? fail(-ret) : 0;
}

void sa_fill_msg(struct skiff_app_msg *m, int i, uint16_t op)
{
	memset(m, 0, sizeof(*m));
	m->op = op;
	m->slot = (uint16_t)i;
	m->flags = A.L->s[i].flags | (A.L->s[i].v6only ? SKIFF_APP_F_V6ONLY : 0);
	m->family = A.L->s[i].family;
	m->arg2 = A.L->s[i].rcvbuf;
	m->pad = (uint16_t)(A.L->s[i].sndbuf / 1024 > 0xffff ? 0xffff : A.L->s[i].sndbuf / 1024);
	m->ttl1 = A.L->s[i].ttl1;
	m->hops1 = A.L->s[i].hops1;
	m->tos = A.L->s[i].tos;
	m->tclass = A.L->s[i].tclass;
}

static bool closed_all(void *arg)
{
	struct reply_wait *rw = arg;

	return load_acq(&rw->slot->closed_seq) == rw->seq;
}

/* Close slot i on worker w and wait until it is (listeners). */
void sa_close_on(int i, uint32_t w)
{
	struct skiff_app_msg m;
	struct reply_wait rw = {.slot = &A.slots[i]};

	sa_fill_msg(&m, i, SKIFF_APP_OP_CLOSE);
	m.seq = rw.seq = ++A.L->s[i].seq;
	sa_post(w, &m);
	sa_wait_for(closed_all, &rw, 10000, false, SA_TABLE);
}

SKIFF_EXPORT int skiff_listen(int fd, int backlog)
{
	unsigned int seed = (unsigned int)getpid() ^ (unsigned int)clock();
	int tries;
	uint16_t port;
	struct skiff_app_msg m;
	struct lsock *ls;
	uint32_t w, k;
	int i, ret = 0;

	sa_lock();
	i = sa_slot_of(fd);
	if (i < 0) {
		ret = -EBADF;
		goto out;
	}
	ls = &A.L->s[i];
	if (ls->dgram) {
		ret = -EOPNOTSUPP;
		goto out;
	}
	if (ls->kind == L_LISTEN)
		goto out;
	if (ls->kind != L_NEW) {
		ret = -EINVAL;
		goto out;
	}
	if (!ls->bound) {
		/* as Linux: an unbound listener gets an ephemeral port */
		memset(&ls->local, 0, sizeof(ls->local));
		ls->local.sa.sa_family = ls->family;
		ls->bound = true;
	}
	if (backlog < 0)
		backlog = 0;
	/* port 0: one port for every worker, picked here at random from
	 * TCP's ephemeral range as Linux does, another one while in use */
	port = ls->local.sin.sin_port;
	for (tries = 0; tries < LISTEN_PICK_TRIES; tries++) {
		if (!ls->local.sin.sin_port)
			port = htons((uint16_t)(TCP_EPHEMERAL_LO +
						rand_r(&seed) % (TCP_EPHEMERAL_HI - TCP_EPHEMERAL_LO + 1)));
		for (w = 0; w < A.n_workers; w++) {
			sa_fill_msg(&m, i, SKIFF_APP_OP_LISTEN);
			sa_msg_addr(&ls->local, m.addr, &m.port);
			m.port = port;
			m.arg = backlog;
			ret = sa_request(w, &m);
			if (ret) {
				for (k = 0; k < w; k++)
					sa_close_on(i, k);
				break;
			}
		}
		if (ret != -EADDRINUSE || ls->local.sin.sin_port)
			break;
	}
	if (ret)
		goto out;
	ls->local.sin.sin_port = port;
	ls->kind = L_LISTEN;
out:
	sa_unlock();
	return ret ? fail(-ret) : 0;
}

struct accept_wait {
	int i;
};

static bool accept_ready(void *arg)
{
	return sa_any_accept(((struct accept_wait *)arg)->i);
}

SKIFF_EXPORT int skiff_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct accept_wait aw;
	struct skiff_app_msg m;
	struct lsock *ns, *ls;
	uint32_t w, k;
	int i, n, ret = 0;

	sa_sig_enter();
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return fail(EINVAL);
	sa_lock();
	i = sa_slot_of(fd);
	if (i < 0 || A.L->s[i].kind != L_LISTEN) {
		ret = i < 0 ? -EBADF : A.L->s[i].dgram ? -EOPNOTSUPP : -EINVAL;
		goto out;
	}
	aw.i = i;
	for (;;) {
		for (k = 0; k < A.n_workers; k++) {
			w = (A.L->next_worker + k) % A.n_workers;
			if (load_acq(&A.slots[i].acceptq[w]))
				break;
		}
		if (k == A.n_workers) {
			if (A.L->s[i].nonblock) {
				ret = -EAGAIN;
				goto out;
			}
			if (sa_wait_for(accept_ready, &aw, -1, true, SA_TABLE) == -EINTR) {
				ret = -EINTR;
				goto out;
			}
			if (A.L->s[i].kind != L_LISTEN) {
				ret = -EBADF; /* closed by another thread */
				goto out;
			}
			continue;
		}
		A.L->next_worker = w + 1;
		n = alloc_slot();
		if (n < 0) {
			ret = -EMFILE;
			goto out;
		}
		sa_fill_msg(&m, n, SKIFF_APP_OP_ACCEPT);
		m.arg = i;
		ret = sa_request(w, &m);
		if (ret == -EAGAIN) {
			A.L->s[n].kind = L_FREE;
			sa_set_held(n, false);
			continue; /* another one took it, or not complete */
		}
		if (ret) {
			A.L->s[n].kind = L_FREE;
			sa_set_held(n, false);
			goto out;
		}
		break;
	}
	ns = &A.L->s[n];
	ls = &A.L->s[i];
	ns->kind = L_CONN;
	ns->worker = w;
	ns->nonblock = flags & SOCK_NONBLOCK;
	ns->cloexec = flags & SOCK_CLOEXEC;
	ns->family = ls->family;
	ns->v6only = ls->v6only;
	/* What Linux's accepted socket inherits from its listener (and the
	 * daemon gave the connection): TCP_NODELAY, SO_KEEPALIVE,
	 * SO_REUSEADDR, TCP_CONGESTION, SO_LINGER, the buffer sizes and the
	 * IP header fields. */
	ns->flags = ls->flags;
	ns->linger = ls->linger;
	ns->linger_s = ls->linger_s;
	ns->rcvbuf = ls->rcvbuf;
	ns->sndbuf = ls->sndbuf;
	ns->ttl1 = ls->ttl1;
	ns->hops1 = ls->hops1;
	ns->tos = ls->tos;
	ns->tclass = ls->tclass;
	ns->rxopts = ls->rxopts;
	sa_name_set(&ns->peer, ns->family, A.slots[n].rep_addr, A.slots[n].rep_port);
	sa_name_set(&ns->local, ns->family, A.slots[n].rep_laddr, A.slots[n].rep_lport);
	ns->bound = true;
	if (addr && len)
		sa_name_out(ns->family, &ns->peer, addr, len);
	ret = SKIFF_FD_BASE + n;
out:
	sa_unlock();
	return ret < 0 ? fail(-ret) : ret;
}

SKIFF_EXPORT int skiff_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return skiff_accept4(fd, addr, len, 0);
}

SKIFF_EXPORT int skiff_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct skiff_app_msg m;
	union sa_name sin;
	struct lsock *ls;
	uint32_t w;
	int i, ret;

	sa_sig_enter();
	sa_lock();
	i = sa_slot_of(fd);
	if (i >= 0 && A.L->s[i].dgram) {
		ret = sa_udp_connect(i, addr, len);
		goto out;
	}
	ret = i < 0 ? -EBADF : sa_name_in(i, addr, len, &sin, SA_CONNECT);
	if (ret)
		goto out;
	ls = &A.L->s[i];
	if (ls->kind == L_CONN) {
		ret = load_acq(&A.slots[i].state) == SKIFF_APP_S_CONNECTING ? -EALREADY : -EISCONN;
		goto out;
	}
	if (ls->kind != L_NEW) {
		ret = -EINVAL;
		goto out;
	}
	w = A.L->next_worker++ % A.n_workers;
	sa_fill_msg(&m, i, SKIFF_APP_OP_CONNECT);
	sa_msg_addr(&sin, m.addr, &m.port);
	if (ls->bound)
		sa_msg_addr(&ls->local, m.laddr, &m.lport);
	ret = sa_request(w, &m);
	if (ret != -EINPROGRESS)
		goto out;
	sa_sock_lock(i);
	ls->worker = w;
	ls->peer = sin;
	sa_name_set(&ls->local, ls->family, A.slots[i].rep_addr, A.slots[i].rep_port);
	ls->bound = true;
	ls->rx_tail = ls->tx_head = 0;
	ls->kind = L_CONN;
	sa_sock_unlock(i);
	if (ls->nonblock)
		goto out; /* -EINPROGRESS */
	if (sa_wait_ready(i, EPOLLOUT, SA_TABLE) == -EINTR) {
		ret = -EINTR; /* it goes on: later EALREADY, then EPOLLOUT */
		goto out;
	}
	if (load_acq(&A.slots[i].state) == SKIFF_APP_S_CLOSED) {
		ret = A.slots[i].err ? -A.slots[i].err : -ECONNREFUSED;
		ls->err_told = true;
	} else {
		ret = 0;
	}
out:
	sa_unlock();
	return ret ? fail(-ret) : 0;
}

SKIFF_EXPORT int skiff_shutdown(int fd, int how)
{
	struct skiff_app_msg m;
	int i, ret;

	if (fd < SKIFF_FD_BASE)
		return shutdown(fd, how);
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return fail(EINVAL);
	sa_lock();
	i = sa_slot_of(fd);
	if (i >= 0 && A.L->s[i].dgram) {
		/* datagrams: this socket's own flags, nothing to tell skiffd */
		ret = A.L->s[i].connected ? 0 : -ENOTCONN;
		if (!ret && how != SHUT_RD)
			A.L->s[i].wr_shut = true;
		if (!ret && how != SHUT_WR)
			A.L->s[i].rd_shut = true;
		goto out;
	}
	i = sa_conn_slot(fd);
	if (i < 0) {
		ret = i;
		goto out;
	}
	sa_fill_msg(&m, i, SKIFF_APP_OP_SHUTDOWN);
	m.arg = how;
	ret = sa_request(A.L->s[i].worker, &m);
	if (!ret && how != SHUT_RD)
		A.L->s[i].wr_shut = true;
	if (!ret && how != SHUT_WR)
		A.L->s[i].rd_shut = true;
out:
	sa_unlock();
	return ret ? fail(-ret) : 0;
}

SKIFF_EXPORT int skiff_close(int fd)
{
	int i;

	if (fd < SKIFF_FD_BASE) {
		sa_epoll_close(fd);
		return close(fd);
	}
	sa_lock();
	i = sa_slot_of(fd);
	if (i < 0) {
		sa_unlock();
		return fail(EBADF);
	}
	sa_set_held(i, false);
	if (!sa_holders(i))
		sa_close_slot(i); /* else another process (fork) still holds it */
	sa_unlock();
	return 0;
}

/* Close socket i for good: no process holds it any more (table lock
 * held).  Its kind changes under its socket's lock, so no send or recv
 * is half way through it when it does. */
void sa_close_slot(int i)
{
	struct lsock *ls = &A.L->s[i];
	struct skiff_app_msg m;
	uint32_t w;

	sa_epoll_forget(SKIFF_FD_BASE + i);
	switch (ls->kind) {
	case L_LISTEN:
		for (w = 0; w < A.n_workers; w++)
			sa_close_on(i, w);
		break;
	case L_UDP:
		/* what was sent before goes out first (the worker drains) */
		for (w = 0; w < A.n_workers; w++)
			if (ls->wmask & (1u << w))
				sa_close_on(i, w);
		break;
	case L_CONN:
		/* the worker sends what the tx FIFO holds, then closes */
		sa_fill_msg(&m, i, SKIFF_APP_OP_CLOSE);
		m.seq = ++ls->seq;
		if (ls->linger && !ls->linger_s)
			m.arg = SKIFF_APP_CLOSE_RST;
		sa_sock_lock(i);
		ls->close_seq = m.seq;
		ls->kind = L_CLOSING;
		sa_sock_unlock(i);
		sa_post(ls->worker, &m);
		return;
	default:
		break;
	}
	sa_sock_lock(i);
	ls->kind = L_FREE;
	sa_sock_unlock(i);
}

static int name_of(int fd, struct sockaddr *addr, socklen_t *len, bool peer)
{
	union sa_name sin;
	int i, family = AF_INET, ret = 0;

	if (fd < SKIFF_FD_BASE)
		return peer ? getpeername(fd, addr, len) : getsockname(fd, addr, len);
	if (!addr || !len)
		return fail(EFAULT);
	sa_lock();
	i = sa_slot_of(fd);
	if (i < 0)
		ret = -EBADF;
	else if (peer && A.L->s[i].kind != L_CONN && !(A.L->s[i].dgram && A.L->s[i].connected))
		ret = -ENOTCONN;
	if (!ret) {
		sin = peer ? A.L->s[i].peer : A.L->s[i].local;
		family = A.L->s[i].family;
	}
	sa_unlock();
	if (ret)
		return fail(-ret);
	sa_name_out(family, &sin, addr, len);
	return 0;
}

SKIFF_EXPORT int skiff_getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	return name_of(fd, addr, len, false);
}

SKIFF_EXPORT int skiff_getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	return name_of(fd, addr, len, true);
}

/* SO_LINGER: kept for close(); l_onoff with l_linger 0 resets the
 * connection there (RST, unsent bytes dropped), as Linux.  A positive
 * l_linger does not make close() wait: the worker sends what is left. */
static int set_linger(int fd, const void *val, socklen_t len)
{
	struct linger lg;
	int i;

	if (!val)
		return fail(EFAULT);
	if (len < (socklen_t)sizeof(lg))
		return fail(EINVAL);
	memcpy(&lg, val, sizeof(lg));
	sa_lock();
	i = sa_slot_of(fd);
	if (i >= 0) {
		A.L->s[i].linger = lg.l_onoff != 0;
		A.L->s[i].linger_s = lg.l_linger < 0 ? 0 : lg.l_linger;
	}
	sa_unlock();
	return i < 0 ? fail(EBADF) : 0;
}

/* TCP_CONGESTION's names (Linux's, and skiffd --cc's), by the number
 * SKIFF_APP_OPT_CONGESTION carries. */
static const char *const cc_names[] = {"cubic", "reno", "bbr"};

static int cc_by_name(const void *val, socklen_t len)
{
	char name[16] = {0};
	size_t i;

	memcpy(name, val, len < sizeof(name) - 1 ? len : sizeof(name) - 1);
	if (!strcmp(name, "newreno"))
		return 1;
	for (i = 0; i < sizeof(cc_names) / sizeof(cc_names[0]); i++)
		if (!strcmp(name, cc_names[i]))
			return (int)i;
	return -1;
}

/* setsockopt(TCP_CONGESTION, "bbr" | "cubic" | "reno" | "newreno"). */
static int set_congestion(int fd, const void *val, socklen_t len)
{
	struct skiff_app_msg m;
	struct lsock *ls;
	int cc, i, ret = 0;

	if (!val)
		return fail(EFAULT);
	cc = cc_by_name(val, len);
	if (cc < 0)
		return fail(ENOENT); /* as Linux for an algorithm it does not have */
	sa_lock();
	i = sa_slot_of(fd);
	if (i < 0 || A.L->s[i].dgram) {
		sa_unlock();
		return fail(i < 0 ? EBADF : ENOPROTOOPT);
	}
	ls = &A.L->s[i];
	ls->flags = (uint16_t)((ls->flags & ~SKIFF_APP_F_CC_MASK) |
			       ((unsigned int)(cc + 1) << SKIFF_APP_F_CC_SHIFT));
	if (ls->kind == L_CONN) {
		sa_fill_msg(&m, i, SKIFF_APP_OP_SETOPT);
		m.arg = SKIFF_APP_OPT_CONGESTION;
		m.arg2 = (uint32_t)cc;
		ret = sa_request(ls->worker, &m);
	}
	sa_unlock();
	return ret ? fail(-ret) : 0;
}

/* IPV6_V6ONLY: an AF_INET6 socket's only (else ENOPROTOOPT, as Linux for
 * IPPROTO_IPV6 on AF_INET), before it is bound or connected (else EINVAL,
 * as Linux once it has a port); sent with the request that puts it on
 * its workers. */
static int set_v6only(int fd, int v)
{
	int i, ret = 0;

	sa_lock();
	i = sa_slot_of(fd);
	if (i < 0)
		ret = -EBADF;
	else if (A.L->s[i].family != AF_INET6)
		ret = -ENOPROTOOPT;
	else if (A.L->s[i].kind != L_NEW || A.L->s[i].bound)
		ret = -EINVAL;
	else
		A.L->s[i].v6only = v != 0;
	sa_unlock();
	return ret ? fail(-ret) : 0;
}

/* IP_PKTINFO, IP_RECVTTL, IP_RECVTOS (any socket, as Linux's SOL_IP on
 * AF_INET6 too), IPV6_RECVPKTINFO, IPV6_RECVHOPLIMIT, IPV6_RECVTCLASS
 * (AF_INET6, else ENOPROTOOPT): the library's alone, since every datagram
 * record carries what they report; a TCP socket keeps them and gets no
 * control message, as Linux's. */
static int set_rxopt(int fd, unsigned int bit, int v)
{
	int i, ret = 0;

	sa_lock();
	i = sa_slot_of(fd);
	if (i < 0) {
		ret = -EBADF;
	} else if (bit >= SA_RX6_PKTINFO && A.L->s[i].family != AF_INET6) {
		ret = -ENOPROTOOPT;
	} else {
		sa_sock_lock(i);
		if (v)
			A.L->s[i].rxopts |= (uint8_t)bit;
		else
			A.L->s[i].rxopts &= (uint8_t)~bit;
		sa_sock_unlock(i);
	}
	sa_unlock();
	return ret ? fail(-ret) : 0;
}

/* IP_TTL, IP_TOS, IPV6_UNICAST_HOPS, IPV6_TCLASS as SKIFF_APP_OPT_*, or 0. */
static int ip_opt_of(int level, int name)
{
	if (level == IPPROTO_IP && name == IP_TTL)
		return SKIFF_APP_OPT_TTL;
	if (level == IPPROTO_IP && name == IP_TOS)
		return SKIFF_APP_OPT_TOS;
	if (level == IPPROTO_IPV6 && name == IPV6_UNICAST_HOPS)
		return SKIFF_APP_OPT_HOPS;
	if (level == IPPROTO_IPV6 && name == IPV6_TCLASS)
		return SKIFF_APP_OPT_TCLASS;
	return 0;
}

/*
 * Keep an IP header option in ls with Linux's ranges and errors (-1: the
 * default; the IPv6 ones on an AF_INET6 socket only, else ENOPROTOOPT; a
 * stream socket's ECN bits are TCP's) and say in *wire what SETOPT sends.
 */
static int ip_opt_store(struct lsock *ls, int opt, int v, uint32_t *wire)
{
	uint8_t ecn = ls->dgram ? 0 : 0x3;

	if ((opt == SKIFF_APP_OPT_HOPS || opt == SKIFF_APP_OPT_TCLASS) && ls->family != AF_INET6)
		return -ENOPROTOOPT;
	if ((opt == SKIFF_APP_OPT_TTL && v != -1 && (v < 1 || v > 255)) ||
	    ((opt == SKIFF_APP_OPT_HOPS || opt == SKIFF_APP_OPT_TCLASS) && (v < -1 || v > 255)))
		return -EINVAL;
	switch (opt) {
	case SKIFF_APP_OPT_TTL:
		*wire = ls->ttl1 = (uint16_t)(v + 1);
		break;
	case SKIFF_APP_OPT_HOPS:
		*wire = ls->hops1 = (uint16_t)(v + 1);
		break;
	case SKIFF_APP_OPT_TOS:
		*wire = ls->tos = (uint8_t)v & (uint8_t)~ecn;
		break;
	default:
		*wire = ls->tclass = v < 0 ? 0 : (uint8_t)v & (uint8_t)~ecn;
		break;
	}
	return 0;
}

/* An option for a socket not yet on a worker is kept for LISTEN/CONNECT;
 * on a connection it is sent to its worker. */
SKIFF_EXPORT int skiff_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct skiff_app_msg m;
	struct lsock *ls;
	uint16_t flag = 0;
	uint32_t wire = 0;
	int v, i, opt = 0, ret = 0;

	if (fd < SKIFF_FD_BASE)
		return setsockopt(fd, level, name, val, len);
	if (level == SOL_SOCKET && name == SO_LINGER)
		return set_linger(fd, val, len);
	if (level == IPPROTO_TCP && name == TCP_CONGESTION)
		return set_congestion(fd, val, len);
	if (val && len >= 1 && len < (socklen_t)sizeof(int) && level == IPPROTO_IP &&
	    (ip_opt_of(level, name) || sa_rxopt_bit(level, name)))
		v = *(const unsigned char *)val; /* IP_TOS, IP_TTL...: Linux takes a byte too */
	else if (!val || len < (socklen_t)sizeof(int))
		return fail(EINVAL);
	else
		memcpy(&v, val, sizeof(v));
	if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY)
		return set_v6only(fd, v);
	if (sa_rxopt_bit(level, name))
		return set_rxopt(fd, sa_rxopt_bit(level, name), v);
	if (level == SOL_SOCKET && name == SO_REUSEADDR) {
		flag = SKIFF_APP_F_REUSEADDR;
		opt = SKIFF_APP_OPT_REUSEADDR;
	} else if (level == SOL_SOCKET && name == SO_KEEPALIVE) {
		flag = SKIFF_APP_F_KEEPALIVE;
		opt = SKIFF_APP_OPT_KEEPALIVE;
	} else if (level == IPPROTO_TCP && name == TCP_NODELAY && !sa_is_dgram(fd)) {
		flag = SKIFF_APP_F_NODELAY;
		opt = SKIFF_APP_OPT_NODELAY;
	} else if (level == SOL_SOCKET && name == SO_RCVBUF) {
		opt = SKIFF_APP_OPT_RCVBUF;
	} else if (level == SOL_SOCKET && name == SO_SNDBUF) {
		opt = SKIFF_APP_OPT_SNDBUF;
	} else if (!(opt = ip_opt_of(level, name))) {
		return fail(ENOPROTOOPT);
	}
	if ((opt == SKIFF_APP_OPT_RCVBUF || opt == SKIFF_APP_OPT_SNDBUF) &&
	    (v <= 0 || v > (1 << 30)))
		return fail(EINVAL);
	sa_lock();
	i = sa_slot_of(fd);
	if (i < 0) {
		ret = -EBADF;
		goto out;
	}
	ls = &A.L->s[i];
	if (flag)
		ls->flags = v ? (ls->flags | flag) : (ls->flags & ~flag);
	else if (opt == SKIFF_APP_OPT_RCVBUF)
		ls->rcvbuf = (uint32_t)v;
	else if (opt == SKIFF_APP_OPT_SNDBUF)
		ls->sndbuf = (uint32_t)v;
	else
		ret = ip_opt_store(ls, opt, v, &wire);
	if (!ret && (ls->kind == L_CONN || ls->kind == L_UDP)) {
		sa_fill_msg(&m, i, SKIFF_APP_OP_SETOPT);
		m.arg = opt;
		m.arg2 = flag ? (v != 0) : ip_opt_of(level, name) ? wire : (uint32_t)v;
		ret = ls->kind == L_UDP ? sa_udp_request_all(i, &m) : sa_request(ls->worker, &m);
	}
out:
	sa_unlock();
	return ret ? fail(-ret) : 0;
}

SKIFF_EXPORT int skiff_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct lsock *ls;
	bool byte;
	int i, v = 0, ret = 0;

	if (fd < SKIFF_FD_BASE)
		return getsockopt(fd, level, name, val, len);
	if (!val || !len)
		return fail(EFAULT);
	if (level == SOL_SOCKET && name == SO_LINGER) {
		struct linger lg = {0};

		sa_lock();
		i = sa_slot_of(fd);
		if (i >= 0) {
			lg.l_onoff = A.L->s[i].linger;
			lg.l_linger = A.L->s[i].linger_s;
		}
		sa_unlock();
		if (i < 0)
			return fail(EBADF);
		memcpy(val, &lg, *len < sizeof(lg) ? *len : sizeof(lg));
		*len = *len < sizeof(lg) ? *len : sizeof(lg);
		return 0;
	}
	if (level == IPPROTO_TCP && name == TCP_CONGESTION) {
		const char *cc = NULL;
		size_t n;

		/* the name the program set; the daemon's default (--cc) is
		 * not known here */
		sa_lock();
		i = sa_slot_of(fd);
		if (i >= 0 && (A.L->s[i].flags & SKIFF_APP_F_CC_MASK))
			cc = cc_names[((A.L->s[i].flags & SKIFF_APP_F_CC_MASK) >>
				       SKIFF_APP_F_CC_SHIFT) - 1];
		sa_unlock();
		if (i < 0)
			return fail(EBADF);
		if (!cc)
			return fail(ENOPROTOOPT);
		n = strlen(cc) + 1;
		memcpy(val, cc, *len < n ? *len : n);
		*len = *len < n ? *len : (socklen_t)n;
		return 0;
	}
	/* IP_TOS, IP_TTL: Linux gives one byte to a shorter buffer */
	byte = *len >= 1 && *len < (socklen_t)sizeof(int) && level == IPPROTO_IP &&
	       (ip_opt_of(level, name) || sa_rxopt_bit(level, name));
	if (*len < (socklen_t)sizeof(int) && !byte)
		return fail(EINVAL);
	sa_lock();
	i = sa_slot_of(fd);
	if (i < 0) {
		ret = -EBADF;
		goto out;
	}
	ls = &A.L->s[i];
	if (level == SOL_SOCKET && name == SO_ERROR && ls->kind == L_UDP) {
		uint32_t seq = load_acq(&A.slots[i].err_seq);

		v = seq != ls->err_seen ? A.slots[i].err : 0;
		ls->err_seen = seq;
	} else if (level == SOL_SOCKET && name == SO_ERROR)
		v = ls->kind == L_CONN ? -sa_conn_error(i) : 0;
	else if (level == SOL_SOCKET && name == SO_TYPE)
		v = ls->dgram ? SOCK_DGRAM : SOCK_STREAM;
	else if (level == SOL_SOCKET && name == SO_DOMAIN)
		v = ls->family;
	else if (level == SOL_SOCKET && name == SO_PROTOCOL)
		v = ls->dgram ? IPPROTO_UDP : IPPROTO_TCP;
	else if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY && ls->family == AF_INET6)
		v = ls->v6only;
	else if (level == SOL_SOCKET && name == SO_REUSEADDR)
		v = !!(ls->flags & SKIFF_APP_F_REUSEADDR);
	else if (level == SOL_SOCKET && name == SO_KEEPALIVE)
		v = !!(ls->flags & SKIFF_APP_F_KEEPALIVE);
	else if (level == IPPROTO_TCP && name == TCP_NODELAY)
		v = !!(ls->flags & SKIFF_APP_F_NODELAY);
	else if (level == SOL_SOCKET && name == SO_RCVBUF)
		v = (int)(ls->rcvbuf ? ls->rcvbuf : SKIFF_APP_FIFO);
	else if (level == SOL_SOCKET && name == SO_SNDBUF)
		v = (int)(ls->sndbuf ? ls->sndbuf : SKIFF_APP_FIFO);
	else if (level == IPPROTO_IP && name == IP_TTL)
		v = ls->ttl1 ? ls->ttl1 - 1 : SKIFF_APP_DEFAULT_TTL;
	else if (level == IPPROTO_IP && name == IP_TOS)
		v = ls->tos;
	else if (level == IPPROTO_IPV6 && name == IPV6_UNICAST_HOPS && ls->family == AF_INET6)
		v = ls->hops1 ? ls->hops1 - 1 : SKIFF_APP_DEFAULT_TTL;
	else if (level == IPPROTO_IPV6 && name == IPV6_TCLASS && ls->family == AF_INET6)
		v = ls->tclass;
	else if (sa_rxopt_bit(level, name) &&
		 (level == IPPROTO_IP || ls->family == AF_INET6))
		v = !!(ls->rxopts & sa_rxopt_bit(level, name));
	else
		ret = -ENOPROTOOPT;
out:
	sa_unlock();
	if (ret)
		return fail(-ret);
	if (byte) {
		*(unsigned char *)val = (unsigned char)v;
		*len = 1;
		return 0;
	}
	memcpy(val, &v, sizeof(v));
	*len = sizeof(v);
	return 0;
}

SKIFF_EXPORT int skiff_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;
	int i, ret = 0;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	if (fd < SKIFF_FD_BASE)
		return fcntl(fd, cmd, arg);
	sa_lock();
	i = sa_slot_of(fd);
	if (i < 0) {
		ret = -EBADF;
	} else if (cmd == F_GETFL) {
		ret = O_RDWR | (A.L->s[i].nonblock ? O_NONBLOCK : 0);
	} else if (cmd == F_SETFL) {
		A.L->s[i].nonblock = arg & O_NONBLOCK;
	} else if (cmd == F_GETFD) {
		ret = A.L->s[i].cloexec ? FD_CLOEXEC : 0;
	} else if (cmd == F_SETFD) {
		A.L->s[i].cloexec = arg & FD_CLOEXEC;
	} else {
		ret = -EINVAL;
	}
	sa_unlock();
	return ret < 0 ? fail(-ret) : ret;
}

SKIFF_EXPORT int skiff_ioctl(int fd, unsigned long req, ...)
{
	uint32_t avail, w;
	va_list ap;
	void *arg;
	int i, v, ret = 0;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd < SKIFF_FD_BASE)
		return ioctl(fd, req, arg);
	if (req != FIONREAD && req != FIONBIO)
		return fail(ENOTTY);
	if (!arg)
		return fail(EFAULT);
	sa_lock();
	i = sa_slot_of(fd);
	if (i < 0) {
		ret = -EBADF;
	} else if (req == FIONBIO) {
		memcpy(&v, arg, sizeof(v));
		A.L->s[i].nonblock = v != 0;
	} else if (A.L->s[i].kind == L_LISTEN) {
		ret = -EINVAL; /* as Linux's TCP */
	} else {
		struct skiff_app_dgram d;

		v = 0;
		sa_sock_lock(i);
		if (A.L->s[i].kind == L_UDP && sa_dgram_next(i, &w) && sa_dgram_peek(i, w, &d))
			v = (int)d.len; /* the next datagram, as Linux's UDP */
		if (A.L->s[i].kind == L_CONN) {
			avail = load_acq(&A.slots[i].rx.head) - A.L->s[i].rx_tail;
			v = avail > SKIFF_APP_FIFO ? 0 : (int)avail;
		}
		sa_sock_unlock(i);
		memcpy(arg, &v, sizeof(v));
	}
	sa_unlock();
	return ret ? fail(-ret) : 0;
}
