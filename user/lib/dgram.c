// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The UDP data path: binding on workers, the default peer, datagram
 * records in the tx FIFO and the per-worker parts of the rx FIFO.
 */
#include "app_lib.h"

/* Bind datagram socket i (table lock held): on every worker for a fixed port (a
 * datagram for it may arrive on any queue), on one for port 0 (its
 * ephemeral port is one that worker owns: replies reaching another queue
 * are handed to it, core/handoff.h).  0 or -errno. */
int sa_udp_bind_on(int i, const union sa_name *local)
{
	struct lsock *ls = &A.L->s[i];
	struct skiff_app_msg m;
	uint32_t w, k, mask, home;
	int ret;

	home = A.L->next_worker++ % A.n_workers;
	mask = local->sin.sin_port ? (1u << A.n_workers) - 1 : 1u << home;
	for (w = 0; w < A.n_workers; w++) {
		if (!(mask & (1u << w)))
			continue;
		sa_fill_msg(&m, i, SKIFF_APP_OP_UDP_BIND);
		sa_msg_addr(local, m.addr, &m.port);
		m.arg = w == home; /* one worker sends: one consumer of the tx FIFO */
		ret = sa_request(w, &m);
		if (ret) {
			for (k = 0; k < w; k++)
				if (mask & (1u << k))
					sa_close_on(i, k);
			return ret;
		}
		sa_name_set(&ls->local, ls->family, A.slots[i].rep_addr, A.slots[i].rep_port);
	}
	sa_sock_lock(i);
	ls->wmask = (uint8_t)mask;
	ls->worker = home;
	ls->bound = true;
	ls->tx_head = 0;
	ls->next_part = 0;
	memset(ls->urx_tail, 0, sizeof(ls->urx_tail));
	ls->err_seen = load_acq(&A.slots[i].err_seq);
	ls->kind = L_UDP;
	sa_sock_unlock(i);
	return 0;
}

/* Ask every worker of datagram socket i (table lock held) to do m; the first
 * error. */
int sa_udp_request_all(int i, struct skiff_app_msg *m)
{
	uint32_t w;
	int ret, first = 0;

	for (w = 0; w < A.n_workers; w++) {
		if (!(A.L->s[i].wmask & (1u << w)))
			continue;
		ret = sa_request(w, m);
		if (ret && !first)
			first = ret;
	}
	return first;
}

/* The name of an unbound socket i: the wildcard of its family, port 0. */
static const union sa_name *any_of(int i)
{
	static const union sa_name any4 = {.sin = {.sin_family = AF_INET}},
				   any6 = {.sin6 = {.sin6_family = AF_INET6}};

	return A.L->s[i].family == AF_INET6 ? &any6 : &any4;
}

int sa_udp_connect(int i, const struct sockaddr *addr, socklen_t len)
{
	struct lsock *ls = &A.L->s[i];
	struct skiff_app_msg m;
	union sa_name sin;
	sa_family_t fam;
	int ret;

	if (!addr || len < (socklen_t)sizeof(fam))
		return addr ? -EINVAL : -EFAULT;
	memcpy(&fam, addr, sizeof(fam));
	if (fam == AF_UNSPEC) {
		/* dissolve the association, as connect(2) says for datagrams */
		ls->connected = false;
		if (ls->kind != L_UDP)
			return 0;
		sa_fill_msg(&m, i, SKIFF_APP_OP_UDP_CONNECT);
		return sa_udp_request_all(i, &m);
	}
	ret = sa_name_in(i, addr, len, &sin, SA_CONNECT);
	if (ret)
		return ret;
	if (ls->kind == L_NEW) {
		ret = sa_udp_bind_on(i, ls->bound ? &ls->local : any_of(i));
		if (ret)
			return ret;
	}
	sa_fill_msg(&m, i, SKIFF_APP_OP_UDP_CONNECT);
	sa_msg_addr(&sin, m.addr, &m.port);
	ret = sa_udp_request_all(i, &m);
	if (ret)
		return ret;
	ls->peer = sin;
	ls->connected = true;
	return 0;
}

struct space_wait {
	int i;
	uint32_t need;
};

static bool space_ready(void *arg)
{
	struct space_wait *sw = arg;

	return sa_tx_room(sw->i, sw->need) >= sw->need ||
	       load_acq(&A.slots[sw->i].state) == SKIFF_APP_S_CLOSED;
}

/* An ipi_ifindex / ipi6_ifindex other than skiffd's interface: ENODEV
 * when no interface has it (as Linux), else ENETUNREACH (skiff sends on
 * its own only). */
static int ifindex_check(uint32_t ifindex)
{
	char name[IF_NAMESIZE];

	if (!ifindex || ifindex == A.ifindex)
		return 0;
	return if_indextoname(ifindex, name) ? -ENETUNREACH : -ENODEV;
}

/* Whether a (4 bytes if v4, else 16) is one of skiffd's addresses (the
 * header's list, written at attach; they do not change while it runs). */
static bool ours(const uint8_t *a, bool v4)
{
	uint32_t k, n = v4 ? A.hdr->n_addrs4 : A.hdr->n_addrs6;

	if (n > (v4 ? SKIFF_APP_MAX_ADDRS4 : SKIFF_APP_MAX_ADDRS6))
		n = v4 ? SKIFF_APP_MAX_ADDRS4 : SKIFF_APP_MAX_ADDRS6;
	for (k = 0; k < n; k++)
		if (!memcmp(a, v4 ? A.hdr->addrs4[k] : A.hdr->addrs6[k], v4 ? 4 : 16))
			return true;
	return false;
}

/* The source a sendmsg names (d->laddr, SKIFF_APP_DG_SRC) checked as Linux
 * does: one of skiffd's addresses, else ENETUNREACH over IPv4 (its route
 * lookup's answer) and EINVAL over IPv6; and, what skiff cannot do, another
 * than the address socket i is bound to: EINVAL. */
static int src_check(int i, const struct skiff_app_dgram *d, bool dst4)
{
	const union sa_name *b = &A.L->s[i].local;
	const uint8_t *a = dst4 && A.L->s[i].family == AF_INET6 ? d->laddr + 12 : d->laddr;
	static const uint8_t any[16];

	if (!ours(a, dst4))
		return dst4 ? -ENETUNREACH : -EINVAL;
	if (!A.L->s[i].bound)
		return 0;
	if (b->sa.sa_family == AF_INET)
		return b->sin.sin_addr.s_addr && memcmp(&b->sin.sin_addr, a, 4) ? -EINVAL : 0;
	if (!memcmp(&b->sin6.sin6_addr, any, 16))
		return 0;
	return memcmp(&b->sin6.sin6_addr, d->laddr, 16) ? -EINVAL : 0;
}

/* The record fields of sendmsg's control messages ctl (NULL: none) for a
 * datagram of socket i to dst (NULL: its peer).  0 or -errno. */
static int dgram_ctl(int i, const struct msghdr *ctl, const union sa_name *dst,
		     struct skiff_app_dgram *d)
{
	struct lsock *ls = &A.L->s[i];
	const union sa_name *to = dst ? dst : &ls->peer;
	bool dst4 = to->sa.sa_family == AF_INET ||
		    (to->sa.sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&to->sin6.sin6_addr));
	static const uint8_t zero[4];
	struct sa_txctl tc;
	int ret;

	if (!ctl || !ctl->msg_controllen)
		return 0;
	ret = sa_cmsg_parse(ctl, ls->family, false, dst4,
			    dst4 || to->sa.sa_family != AF_INET6 ? 0 : to->sin6.sin6_scope_id, &tc);
	if (!ret)
		ret = ifindex_check(tc.ifindex);
	if (ret)
		return ret;
	d->flags = tc.flags;
	d->ttl = tc.ttl;
	d->tos = tc.tos;
	if (!(tc.flags & SKIFF_APP_DG_SRC))
		return 0;
	if (!dst4) {
		memcpy(d->laddr, tc.src6, 16);
	} else if (!memcmp(tc.src4, zero, 4)) {
		d->flags &= (uint8_t)~SKIFF_APP_DG_SRC; /* ipi_spec_dst 0: routed */
	} else if (ls->family == AF_INET) {
		memcpy(d->laddr, tc.src4, 4);
	} else {
		d->laddr[10] = d->laddr[11] = 0xff; /* ::ffff:a.b.c.d */
		memcpy(d->laddr + 12, tc.src4, 4);
	}
	return (d->flags & SKIFF_APP_DG_SRC) ? src_check(i, d, dst4) : 0;
}

ssize_t sa_dgram_send(int fd, const struct iovec *iov, int iovcnt, int flags,
			  const struct sockaddr *to, socklen_t tolen, const struct msghdr *ctl)
{
	struct iocur cur = {.iov = iov, .n = iovcnt};
	union sa_name sin;
	struct skiff_app_dgram d = {0};
	struct skiff_app_msg m;
	struct sa_held h;
	struct space_wait sw;
	struct lsock *ls;
	ssize_t len, ret;
	int i;

	sa_sig_enter();
	len = sa_iov_total(iov, iovcnt);
	if (len < 0)
		return fail(EINVAL);
	if (flags & MSG_OOB)
		return fail(EOPNOTSUPP);
	i = sa_sock_of(fd);
	if (i < 0)
		return fail(EBADF);
	ls = &A.L->s[i];
	if (len > (ssize_t)(ls->family == AF_INET6 ? SKIFF_APP_DGRAM_MAX : SKIFF_APP_DGRAM_MAX4))
		return fail(EMSGSIZE);
	if (to) {
		ret = sa_name_in(i, to, tolen, &sin, SA_SENDTO);
		if (ret)
			return fail((int)-ret);
		if (!sin.sin.sin_port)
			return fail(EINVAL);
	}
	if (ls->kind == L_NEW) {
		/* the first send binds: a table operation, done first */
		sa_lock();
		ret = sa_slot_of(fd) < 0 ? -EBADF : 0;
		if (!ret && ls->kind == L_NEW && !ls->wr_shut && (to || ls->connected))
			ret = sa_udp_bind_on(i, ls->bound ? &ls->local : any_of(i));
		sa_unlock();
		if (ret)
			return sa_send_result(ret, flags);
	}
	sa_sock_enter(fd, &h);
	ret = sa_slot_of(fd) < 0 ? -EBADF : 0;
	if (!ret && ls->wr_shut)
		ret = -EPIPE;
	else if (!ret && !to && !ls->connected)
		ret = -EDESTADDRREQ;
	else if (!ret && ls->kind != L_UDP)
		ret = -ENOTCONN; /* closed meanwhile */
	if (!ret)
		ret = dgram_ctl(i, ctl, to ? &sin : NULL, &d);
	if (ret)
		goto out;
	sw.i = i;
	sw.need = SKIFF_APP_DGRAM_REC(len);
	while (!space_ready(&sw)) {
		if (sa_nonblocking(i, flags)) {
			ret = -EAGAIN;
			goto out;
		}
		if (sa_wait_for(space_ready, &sw, -1, true, &h) == -EINTR) {
			ret = -EINTR;
			goto out;
		}
	}
	if (load_acq(&A.slots[i].state) == SKIFF_APP_S_CLOSED) {
		ret = -EPROTO; /* skiffd reset it */
		goto out;
	}
	d.len = (uint32_t)len;
	if (to)
		sa_msg_addr(&sin, d.addr, &d.port);
	sa_ring_copy(A.tx + (size_t)i * SKIFF_APP_FIFO, FIFO_MASK, ls->tx_head, &d, sizeof(d), true);
	sa_fifo_copy(A.tx + (size_t)i * SKIFF_APP_FIFO, ls->tx_head + (uint32_t)sizeof(d), &cur,
		  (size_t)len, true);
	ls->tx_head += sw.need;
	store_rel(&A.slots[i].tx.head, ls->tx_head);
	atomic_thread_fence(memory_order_seq_cst);
	if (!xchg(&A.slots[i].tx_kick, 1)) {
		sa_fill_msg(&m, i, SKIFF_APP_OP_TX);
		sa_post(ls->worker, &m);
	}
	ret = len;
out:
	sa_sock_unlock(i);
	return sa_send_result(ret, flags);
}

/* The next datagram's header, from part w of slot i (socket lock held); false
 * when its length does not fit the part (cannot happen with a sane
 * skiffd: the part is then dropped whole). */
bool sa_dgram_peek(int i, uint32_t w, struct skiff_app_dgram *d)
{
	uint32_t part = skiff_app_dgram_part(A.n_workers);
	uint8_t *base = A.rx + (size_t)i * SKIFF_APP_FIFO + (size_t)w * part;
	uint32_t used = load_acq(&A.slots[i].urx_head[w]) - A.L->s[i].urx_tail[w];

	sa_ring_copy(base, part - 1, A.L->s[i].urx_tail[w], d, sizeof(*d), false);
	if (used > part || d->len > SKIFF_APP_DGRAM_MAX || SKIFF_APP_DGRAM_REC(d->len) > used) {
		A.L->s[i].urx_tail[w] = load_acq(&A.slots[i].urx_head[w]);
		store_rel(&A.slots[i].urx_tail[w], A.L->s[i].urx_tail[w]);
		return false;
	}
	return true;
}

ssize_t sa_dgram_recv(int fd, const struct iovec *iov, int iovcnt, int flags,
			  struct sockaddr *from, socklen_t *fromlen, int *mflags,
			  struct msghdr *ctl)
{
	struct iocur cur = {.iov = iov, .n = iovcnt};
	union sa_name sin;
	struct skiff_app_dgram d;
	struct skiff_app_msg m;
	struct lsock *ls;
	uint32_t w, part, bit, seq;
	ssize_t len, ret;
	struct sa_held h;
	size_t n, ccap = 0;
	int i;

	sa_sig_enter();
	*mflags = 0;
	if (ctl) {
		/* none unless a datagram brings some */
		ccap = ctl->msg_controllen;
		ctl->msg_controllen = 0;
	}
	len = sa_iov_total(iov, iovcnt);
	if (len < 0)
		return fail(EINVAL);
	if (flags & ~RECV_FLAGS)
		return fail(EOPNOTSUPP);
	part = skiff_app_dgram_part(A.n_workers ? A.n_workers : 1);
	i = sa_sock_enter(fd, &h);
	if (i < 0)
		return fail(EBADF);
	if (sa_slot_of(fd) < 0) {
		ret = -EBADF;
		goto out;
	}
	ls = &A.L->s[i];
	for (;;) {
		seq = ls->kind == L_UDP ? load_acq(&A.slots[i].err_seq) : ls->err_seen;
		if (seq != ls->err_seen) {
			/* a pending error is reported once, before data */
			ls->err_seen = seq;
			ret = A.slots[i].err > 0 ? -A.slots[i].err : -EIO;
			break;
		}
		if (ls->kind == L_UDP && load_acq(&A.slots[i].state) == SKIFF_APP_S_CLOSED) {
			ret = -EPROTO;
			break;
		}
		if (ls->kind == L_UDP && sa_dgram_next(i, &w)) {
			if (!sa_dgram_peek(i, w, &d))
				continue;
			n = d.len < (size_t)len ? d.len : (size_t)len;
			sa_ring_copyv(A.rx + (size_t)i * SKIFF_APP_FIFO + (size_t)w * part, part - 1,
				   ls->urx_tail[w] + (uint32_t)sizeof(d), &cur, n, false);
			if (n < d.len)
				*mflags |= MSG_TRUNC;
			sa_name_set(&sin, ls->family, d.addr, d.port);
			if (from && fromlen)
				sa_name_out(ls->family, &sin, from, fromlen);
			if (ctl) {
				ctl->msg_flags = 0;
				ctl->msg_controllen = ccap;
				sa_cmsg_build(ctl, ls->family, ls->rxopts, A.ifindex, &d);
				*mflags |= ctl->msg_flags & MSG_CTRUNC;
			}
			ret = (flags & MSG_TRUNC) ? (ssize_t)d.len : (ssize_t)n;
			if (flags & MSG_PEEK)
				break;
			ls->urx_tail[w] += SKIFF_APP_DGRAM_REC(d.len);
			ls->next_part = w + 1;
			store_rel(&A.slots[i].urx_tail[w], ls->urx_tail[w]);
			atomic_thread_fence(memory_order_seq_cst);
			bit = 1u << w;
			if ((load_acq(&A.slots[i].urx_blocked) & bit) &&
			    (atomic_fetch_and((_Atomic uint32_t *)&A.slots[i].urx_blocked, ~bit) &
			     bit)) {
				sa_fill_msg(&m, i, SKIFF_APP_OP_RXREAD);
				sa_post(w, &m);
			}
			break;
		}
		if (ls->rd_shut) {
			ret = 0;
			break;
		}
		if (sa_nonblocking(i, flags)) {
			ret = -EAGAIN;
			break;
		}
		if (sa_wait_ready(i, EPOLLIN, &h) == -EINTR) {
			ret = -EINTR;
			break;
		}
	}
out:
	sa_sock_unlock(i);
	return ret < 0 ? fail((int)-ret) : ret;
}
