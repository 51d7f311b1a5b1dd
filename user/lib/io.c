// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The public send/recv family (send, recv, sendto, recvfrom, read,
 * write, readv, writev, sendmsg, recvmsg): kernel fds pass through,
 * skiff sockets go to stream.c or dgram.c.
 */
#include "app_lib.h"

/* The table index of skiff handle fd, -1 when it cannot be one: taken
 * without a lock (the callers check the socket again under its own). */
int sa_sock_of(int fd)
{
	int i = fd - SKIFF_FD_BASE;

	if (fd < SKIFF_FD_BASE || i >= SKIFF_APP_MAX_SOCKS ||
	    !__atomic_load_n(&A.attached, __ATOMIC_ACQUIRE))
		return -1;
	return i;
}

/* Enter the data path of socket fd: its index, with its lock taken and h
 * saying so (to be dropped while a call sleeps); -1 (no lock) when fd
 * cannot be a skiff socket.  The caller checks the socket under the lock. */
int sa_sock_enter(int fd, struct sa_held *h)
{
	int i = sa_sock_of(fd);

	if (i < 0)
		return -1;
	*h = (struct sa_held){.kind = SA_HELD_SOCK, .i = i};
	sa_sock_lock(i);
	return i;
}

/* Whether fd is a datagram socket (a flag fixed at its creation). */
bool sa_is_dgram(int fd)
{
	int i = sa_sock_of(fd);

	return i >= 0 && A.L->s[i].dgram;
}

/* Every send: to (tolen bytes) is the destination (NULL: the connected
 * peer); a stream socket ignores it, as Linux's TCP does. */
static ssize_t sock_send(int fd, const struct iovec *iov, int iovcnt, int flags,
			 const struct sockaddr *to, socklen_t tolen, const struct msghdr *ctl)
{
	struct sa_txctl tc;
	int i, ret;

	if (sa_is_dgram(fd))
		return sa_dgram_send(fd, iov, iovcnt, flags, to, tolen, ctl);
	if (ctl && ctl->msg_controllen) {
		/* TCP reads SOL_SOCKET messages only, as Linux's */
		i = sa_sock_of(fd);
		ret = sa_cmsg_parse(ctl, i < 0 ? AF_INET : A.L->s[i].family, true, true, 0, &tc);
		if (ret)
			return fail(-ret);
	}
	return sa_stream_send(fd, iov, iovcnt, flags);
}

/* Every receive: from/fromlen as recvfrom(2) (a stream socket gives no
 * address: *fromlen = 0, as Linux's TCP). */
static ssize_t sock_recv(int fd, const struct iovec *iov, int iovcnt, int flags,
			 struct sockaddr *from, socklen_t *fromlen, int *mflags,
			 struct msghdr *ctl)
{
	if (sa_is_dgram(fd))
		return sa_dgram_recv(fd, iov, iovcnt, flags, from, fromlen, mflags, ctl);
	if (ctl)
		ctl->msg_controllen = 0; /* TCP gives none */
	if (fromlen)
		*fromlen = 0;
	return sa_stream_recv(fd, iov, iovcnt, flags, mflags);
}

SKIFF_EXPORT ssize_t skiff_send(int fd, const void *buf, size_t len, int flags)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};

	if (fd < SKIFF_FD_BASE)
		return send(fd, buf, len, flags);
	if (len && !buf)
		return fail(EFAULT);
	return sock_send(fd, &iov, 1, flags, NULL, 0, NULL);
}

SKIFF_EXPORT ssize_t skiff_recv(int fd, void *buf, size_t len, int flags)
{
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	int mflags;

	if (fd < SKIFF_FD_BASE)
		return recv(fd, buf, len, flags);
	if (len && !buf)
		return fail(EFAULT);
	return sock_recv(fd, &iov, 1, flags, NULL, NULL, &mflags, NULL);
}

SKIFF_EXPORT ssize_t skiff_sendto(int fd, const void *buf, size_t len, int flags,
				  const struct sockaddr *to, socklen_t tolen)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};

	if (fd < SKIFF_FD_BASE)
		return sendto(fd, buf, len, flags, to, tolen);
	if (len && !buf)
		return fail(EFAULT);
	return sock_send(fd, &iov, 1, flags, to, tolen, NULL);
}

SKIFF_EXPORT ssize_t skiff_recvfrom(int fd, void *buf, size_t len, int flags,
				    struct sockaddr *from, socklen_t *fromlen)
{
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	int mflags;

	if (fd < SKIFF_FD_BASE)
		return recvfrom(fd, buf, len, flags, from, fromlen);
	if (len && !buf)
		return fail(EFAULT);
	return sock_recv(fd, &iov, 1, flags, from, fromlen, &mflags, NULL);
}

SKIFF_EXPORT ssize_t skiff_write(int fd, const void *buf, size_t len)
{
	if (fd < SKIFF_FD_BASE)
		return write(fd, buf, len);
	return skiff_send(fd, buf, len, 0);
}

SKIFF_EXPORT ssize_t skiff_read(int fd, void *buf, size_t len)
{
	if (fd < SKIFF_FD_BASE)
		return read(fd, buf, len);
	return skiff_recv(fd, buf, len, 0);
}

SKIFF_EXPORT ssize_t skiff_writev(int fd, const struct iovec *iov, int iovcnt)
{
	if (fd < SKIFF_FD_BASE)
		return writev(fd, iov, iovcnt);
	return sock_send(fd, iov, iovcnt, 0, NULL, 0, NULL);
}

SKIFF_EXPORT ssize_t skiff_readv(int fd, const struct iovec *iov, int iovcnt)
{
	int mflags;

	if (fd < SKIFF_FD_BASE)
		return readv(fd, iov, iovcnt);
	return sock_recv(fd, iov, iovcnt, 0, NULL, NULL, &mflags, NULL);
}

SKIFF_EXPORT ssize_t skiff_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (fd < SKIFF_FD_BASE)
		return sendmsg(fd, msg, flags);
	if (!msg)
		return fail(EFAULT);
	if (msg->msg_iovlen > (size_t)IOV_MAX)
		return fail(EMSGSIZE);
	/* ancillary data: cmsg.c, Linux's errors for what it refuses */
	return sock_send(fd, msg->msg_iov, (int)msg->msg_iovlen, flags,
			 (const struct sockaddr *)msg->msg_name, msg->msg_name ? msg->msg_namelen : 0,
			 msg);
}

SKIFF_EXPORT ssize_t skiff_recvmsg(int fd, struct msghdr *msg, int flags)
{
	socklen_t nl;
	ssize_t n;
	int mflags = 0;

	if (fd < SKIFF_FD_BASE)
		return recvmsg(fd, msg, flags);
	if (!msg)
		return fail(EFAULT);
	if (msg->msg_iovlen > (size_t)IOV_MAX)
		return fail(EMSGSIZE);
	nl = msg->msg_name ? msg->msg_namelen : 0;
	n = sock_recv(fd, msg->msg_iov, (int)msg->msg_iovlen, flags,
		      (struct sockaddr *)msg->msg_name, msg->msg_name ? &nl : NULL, &mflags, msg);
	if (n < 0)
		return n;
	msg->msg_namelen = msg->msg_name ? nl : 0;
	msg->msg_flags = mflags;
	return n;
}
