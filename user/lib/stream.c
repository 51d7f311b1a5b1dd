// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The TCP data path: copying between iovecs and the FIFOs, send() and
 * recv() on a connection.
 */
#include "app_lib.h"

/* EPIPE raises SIGPIPE unless MSG_NOSIGNAL, as Linux; called with no lock
 * held, so a handler may use the library. */
ssize_t sa_send_result(ssize_t ret, int flags)
{
	if (ret == -EPIPE && !(flags & MSG_NOSIGNAL))
		raise(SIGPIPE);
	return ret < 0 ? fail((int)-ret) : ret;
}

/* A connection's pending error, once (then EOF / EPIPE). */
int sa_conn_error(int i)
{
	struct lsock *ls = &A.L->s[i];
	int err = A.slots[i].err;

	if (ls->err_told || !err)
		return 0;
	ls->err_told = true;
	return -err;
}

/* ---- data: iovec cursors over FIFOs ---- */

/* The total length of iov (0..SSIZE_MAX) or -EINVAL, as readv(2) checks. */
ssize_t sa_iov_total(const struct iovec *iov, int n)
{
	size_t sum = 0;
	int k;

	if (n < 0 || n > IOV_MAX || (n && !iov))
		return -EINVAL;
	for (k = 0; k < n; k++) {
		if (iov[k].iov_len > (size_t)SSIZE_MAX - sum)
			return -EINVAL;
		sum += iov[k].iov_len;
	}
	return (ssize_t)sum;
}

/* Copy len bytes between the cursor's buffers and the ring of mask + 1
 * bytes at base, from free-running position pos (to_fifo: iov -> ring). */
void sa_ring_copyv(uint8_t *base, uint32_t mask, uint32_t pos, struct iocur *c, size_t len,
		       bool to_fifo)
{
	size_t chunk;
	uint32_t off;

	while (len) {
		while (c->k < c->n && c->off == c->iov[c->k].iov_len) {
			c->k++;
			c->off = 0;
		}
		if (c->k == c->n)
			return;
		off = pos & mask;
		chunk = mask + 1 - off;
		if (chunk > len)
			chunk = len;
		if (chunk > c->iov[c->k].iov_len - c->off)
			chunk = c->iov[c->k].iov_len - c->off;
		if (to_fifo)
			memcpy(base + off, (uint8_t *)c->iov[c->k].iov_base + c->off, chunk);
		else
			memcpy((uint8_t *)c->iov[c->k].iov_base + c->off, base + off, chunk);
		c->off += chunk;
		pos += (uint32_t)chunk;
		len -= chunk;
	}
}

void sa_fifo_copy(uint8_t *base, uint32_t pos, struct iocur *c, size_t len, bool to_fifo)
{
	sa_ring_copyv(base, FIFO_MASK, pos, c, len, to_fifo);
}

/* sa_ring_copyv() for one plain buffer. */
void sa_ring_copy(uint8_t *base, uint32_t mask, uint32_t pos, void *buf, size_t len,
		      bool to_ring)
{
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct iocur c = {.iov = &iov, .n = 1};

	sa_ring_copyv(base, mask, pos, &c, len, to_ring);
}

bool sa_nonblocking(int i, int flags)
{
	return A.L->s[i].nonblock || (flags & MSG_DONTWAIT);
}

/* send()/writev()/sendmsg() on connection fd: under its socket's lock
 * only. */
ssize_t sa_stream_send(int fd, const struct iovec *iov, int iovcnt, int flags)
{
	struct iocur cur = {.iov = iov, .n = iovcnt};
	struct lsock *ls;
	struct skiff_app_msg m;
	uint32_t space, chunk, state;
	ssize_t ret, len;
	size_t sent = 0;
	struct sa_held h;
	int i;

	sa_sig_enter();
	len = sa_iov_total(iov, iovcnt);
	if (len < 0)
		return fail(EINVAL);
	if (flags & MSG_OOB)
		return fail(EOPNOTSUPP);
	i = sa_sock_enter(fd, &h);
	if (i < 0)
		return fail(EBADF);
	ret = sa_conn_slot(fd);
	if (ret < 0)
		goto out;
	ls = &A.L->s[i];
	for (;;) {
		state = load_acq(&A.slots[i].state);
		if (state == SKIFF_APP_S_CLOSED || ls->wr_shut) {
			ret = state == SKIFF_APP_S_CLOSED ? sa_conn_error(i) : 0;
			if (!ret)
				ret = -EPIPE;
			if (sent)
				ret = (ssize_t)sent;
			break;
		}
		space = state == SKIFF_APP_S_CONNECTED ? sa_tx_space(i) : 0;
		if (!space && (sent || !len)) {
			ret = (ssize_t)sent;
			if (sa_nonblocking(i, flags) || !len)
				break;
		}
		if (!space) {
			if (sa_nonblocking(i, flags)) {
				ret = -EAGAIN;
				break;
			}
			if (sa_wait_ready(i, EPOLLOUT, &h) == -EINTR) {
				ret = sent ? (ssize_t)sent : -EINTR;
				break;
			}
			continue;
		}
		chunk = (size_t)len - sent < space ? (uint32_t)((size_t)len - sent) : space;
		sa_fifo_copy(A.tx + (size_t)i * SKIFF_APP_FIFO, ls->tx_head, &cur, chunk, true);
		ls->tx_head += chunk;
		sent += chunk;
		store_rel(&A.slots[i].tx.head, ls->tx_head);
		atomic_thread_fence(memory_order_seq_cst);
		if (chunk && !xchg(&A.slots[i].tx_kick, 1)) {
			sa_fill_msg(&m, i, SKIFF_APP_OP_TX);
			m.arg2 = sa_wait_gen(); /* the worker may hold it for our close() */
			sa_post(ls->worker, &m);
		}
		if (sent == (size_t)len) {
			ret = (ssize_t)sent;
			break;
		}
	}
out:
	sa_sock_unlock(i);
	return sa_send_result(ret, flags);
}

/* recv()/readv()/recvmsg() on connection fd, under its socket's lock
 * only; *mflags gets the recvmsg msg_flags. */
ssize_t sa_stream_recv(int fd, const struct iovec *iov, int iovcnt, int flags, int *mflags)
{
	struct iocur cur = {.iov = iov, .n = iovcnt};
	struct skiff_app_msg m;
	struct lsock *ls;
	uint32_t head, avail, chunk, tail;
	ssize_t ret, len;
	size_t got = 0;
	struct sa_held h;
	int i;

	sa_sig_enter();
	*mflags = 0;
	len = sa_iov_total(iov, iovcnt);
	if (len < 0)
		return fail(EINVAL);
	if (flags & ~RECV_FLAGS)
		return fail(EOPNOTSUPP);
	i = sa_sock_enter(fd, &h);
	if (i < 0)
		return fail(EBADF);
	ret = sa_conn_slot(fd);
	if (ret < 0)
		goto out;
	ls = &A.L->s[i];
	for (;;) {
		head = load_acq(&A.slots[i].rx.head);
		avail = head - ls->rx_tail;
		if (avail > SKIFF_APP_FIFO)
			avail = 0; /* cannot happen with a sane skiffd */
		tail = ls->rx_tail;
		/* MSG_PEEK looks from the start each time */
		if (flags & MSG_PEEK) {
			cur = (struct iocur){.iov = iov, .n = iovcnt};
			got = 0;
		}
		chunk = (size_t)len - got < avail ? (uint32_t)((size_t)len - got) : avail;
		sa_fifo_copy(A.rx + (size_t)i * SKIFF_APP_FIFO, tail, &cur, chunk, false);
		tail += chunk;
		got += chunk;
		if (!(flags & MSG_PEEK) && tail != ls->rx_tail) {
			ls->rx_tail = tail;
			store_rel(&A.slots[i].rx.tail, tail);
			atomic_thread_fence(memory_order_seq_cst);
			if (load_acq(&A.slots[i].rx_blocked) && xchg(&A.slots[i].rx_blocked, 0)) {
				sa_fill_msg(&m, i, SKIFF_APP_OP_RXREAD);
				sa_post(ls->worker, &m);
			}
		}
		if (got == (size_t)len || !len || (got && !(flags & MSG_WAITALL)) ||
		    (flags & MSG_PEEK && got)) {
			ret = (ssize_t)got;
			break;
		}
		if (load_acq(&A.slots[i].state) == SKIFF_APP_S_CLOSED &&
		    load_acq(&A.slots[i].rx.head) == ls->rx_tail) {
			ret = got ? (ssize_t)got : sa_conn_error(i);
			break;
		}
		if ((load_acq(&A.slots[i].rx_eof) || ls->rd_shut) &&
		    load_acq(&A.slots[i].rx.head) == ls->rx_tail) {
			ret = (ssize_t)got;
			break;
		}
		if (load_acq(&A.slots[i].rx.head) != ls->rx_tail)
			continue;
		if (sa_nonblocking(i, flags)) {
			ret = got ? (ssize_t)got : -EAGAIN;
			break;
		}
		if (sa_wait_ready(i, EPOLLIN, &h) == -EINTR) {
			ret = got ? (ssize_t)got : -EINTR;
			break;
		}
	}
out:
	sa_sock_unlock(i);
	return ret < 0 ? fail((int)-ret) : ret;
}
