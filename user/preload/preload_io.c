// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * skiff-run's data calls (docs/skiff-run.md): read/write, send/recv and
 * their vector, message and address forms, sendfile, and glibc's
 * _FORTIFY_SOURCE variants (__read_chk...), which programs built by Debian
 * call instead of the plain names.  A skiff fd goes to libskiffapp, any
 * other fd to libc.  Where the linked libskiffapp lacks a vector or message
 * call, it is built here from send/recv (preload_lib.c says which).
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "skiff/skiff_socket.h"
#include "preload.h"

#define SENDFILE_CHUNK (256 << 10)

void __chk_fail(void) __attribute__((noreturn));
ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
		       struct sockaddr *from, socklen_t *fromlen);

/* r, the result of a data call on e that asked for want bytes; a call
 * that would block or stopped short arms e's edge-triggered epoll
 * registrations again (as the kernel signals every new arrival). */
static ssize_t done(struct ent *e, ssize_t r, size_t want)
{
	int err = errno;

	if ((r < 0 && err == EAGAIN) || (r >= 0 && (size_t)r < want))
		ent_rearm(e);
	errno = err;
	return r;
}

PRELOAD_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	struct ent *e = sock_of(fd);

	if (!e)
		return REAL(read)(fd, buf, len);
	return ent_unusable(e, "read", fd) ? -1 : done(e, LIB(skiff_read(e->h, buf, len)), len);
}

PRELOAD_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	struct ent *e = sock_of(fd);

	if (!e)
		return REAL(write)(fd, buf, len);
	return ent_unusable(e, "write", fd) ? -1 : done(e, LIB(skiff_write(e->h, buf, len)), len);
}

PRELOAD_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	struct ent *e = sock_of(fd);

	if (!e)
		return REAL(send)(fd, buf, len, flags);
	if (ent_unusable(e, "send", fd))
		return -1;
	/* MSG_MORE is a hint (cork); skiff sends at once, bytes unchanged */
	return done(e, LIB(skiff_send(e->h, buf, len, flags & ~MSG_MORE)), len);
}

PRELOAD_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	struct ent *e = sock_of(fd);

	if (!e)
		return REAL(recv)(fd, buf, len, flags);
	return ent_unusable(e, "recv", fd) ? -1
					   : done(e, LIB(skiff_recv(e->h, buf, len, flags)), len);
}

/* The total length of iov, or -1/EINVAL as readv(2) checks it. */
static ssize_t iov_total(const struct iovec *iov, int cnt)
{
	size_t sum = 0;
	int k;

	if (cnt < 0 || cnt > IOV_MAX || (cnt && !iov)) {
		errno = EINVAL;
		return -1;
	}
	for (k = 0; k < cnt; k++) {
		if (iov[k].iov_len > (size_t)SSIZE_MAX - sum) {
			errno = EINVAL;
			return -1;
		}
		sum += iov[k].iov_len;
	}
	return (ssize_t)sum;
}

/* What iov asks for (0 when it is invalid: the call fails anyway). */
static size_t iov_want(const struct iovec *iov, int cnt)
{
	ssize_t t = iov_total(iov, cnt);

	return t < 0 ? 0 : (size_t)t;
}

/* sendmsg/writev from send: each piece in turn; the first may block as the
 * socket's mode says, the later ones stop at a short send. */
static ssize_t send_iov(struct ent *e, const struct iovec *iov, int cnt, int flags)
{
	ssize_t total = 0, n;
	int k;

	if (iov_total(iov, cnt) < 0)
		return -1;
	for (k = 0; k < cnt; k++) {
		if (!iov[k].iov_len)
			continue;
		n = LIB(skiff_send(e->h, iov[k].iov_base, iov[k].iov_len, flags));
		if (n < 0)
			return total ? total : -1;
		total += n;
		if ((size_t)n < iov[k].iov_len)
			break;
	}
	return total;
}

/* recvmsg/readv from recv: the first piece as the socket's mode says,
 * then what is already there without waiting. */
static ssize_t recv_iov(struct ent *e, const struct iovec *iov, int cnt, int flags)
{
	ssize_t total = 0, n;
	int k;

	if (iov_total(iov, cnt) < 0)
		return -1;
	for (k = 0; k < cnt; k++) {
		if (!iov[k].iov_len)
			continue;
		n = LIB(skiff_recv(e->h, iov[k].iov_base, iov[k].iov_len,
				   total ? flags | MSG_DONTWAIT : flags));
		if (n < 0)
			return total ? total : -1;
		total += n;
		if ((size_t)n < iov[k].iov_len || (flags & MSG_PEEK))
			break;
	}
	return total;
}

PRELOAD_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	struct ent *e = sock_of(fd);

	if (!e)
		return REAL(writev)(fd, iov, cnt);
	if (ent_unusable(e, "writev", fd))
		return -1;
	if (lib_opt.writev)
		return done(e, LIB(lib_opt.writev(e->h, iov, cnt)), iov_want(iov, cnt));
	return done(e, send_iov(e, iov, cnt, 0), iov_want(iov, cnt));
}

PRELOAD_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	struct ent *e = sock_of(fd);

	if (!e)
		return REAL(readv)(fd, iov, cnt);
	if (ent_unusable(e, "readv", fd))
		return -1;
	if (lib_opt.readv)
		return done(e, LIB(lib_opt.readv(e->h, iov, cnt)), iov_want(iov, cnt));
	return done(e, recv_iov(e, iov, cnt, 0), iov_want(iov, cnt));
}

/* A kernel UDP socket's first datagram to a skiff destination makes it a
 * skiff socket, as connect() does (docs/skiff-run.md, "The rule"). */
static struct ent *claim_for_send(int fd, const struct sockaddr *to, socklen_t tolen, int *err)
{
	struct ent *e = NULL;

	*err = to ? preload_claim(fd, to, tolen, "sendto", &e) : 0;
	return *err > 0 ? e : NULL;
}

PRELOAD_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			      const struct sockaddr *to, socklen_t tolen)
{
	struct ent *e = sock_of(fd);
	int r;

	if (!e && !(e = claim_for_send(fd, to, tolen, &r)))
		return r < 0 ? -1 : REAL(sendto)(fd, buf, len, flags, to, tolen);
	if (ent_unusable(e, "sendto", fd))
		return -1;
	if (e->type == SOCK_STREAM || !to)
		return done(e, LIB(skiff_send(e->h, buf, len, flags & ~MSG_MORE)), len);
	if (!lib_opt.sendto)
		return refuse(EOPNOTSUPP, "sendto", fd, "libskiffapp has no sendto");
	return done(e, LIB(lib_opt.sendto(e->h, buf, len, flags & ~MSG_MORE, to, tolen)), len);
}

PRELOAD_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from,
				socklen_t *fromlen)
{
	struct ent *e = sock_of(fd);

	if (!e)
		return REAL(recvfrom)(fd, buf, len, flags, from, fromlen);
	if (ent_unusable(e, "recvfrom", fd))
		return -1;
	if (lib_opt.recvfrom)
		return done(e, LIB(lib_opt.recvfrom(e->h, buf, len, flags, from, fromlen)), len);
	if (e->type != SOCK_STREAM)
		return refuse(EOPNOTSUPP, "recvfrom", fd, "libskiffapp has no recvfrom");
	if (from && fromlen)
		*fromlen = 0; /* TCP names no sender (as Linux) */
	return done(e, LIB(skiff_recv(e->h, buf, len, flags)), len);
}

PRELOAD_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct ent *e = sock_of(fd);
	int r = 0;

	if (!e && !(msg && (e = claim_for_send(fd, msg->msg_name, msg->msg_namelen, &r))))
		return r < 0 ? -1 : REAL(sendmsg)(fd, msg, flags);
	if (ent_unusable(e, "sendmsg", fd))
		return -1;
	if (!msg) {
		errno = EFAULT;
		return -1;
	}
	if (lib_opt.sendmsg)
		return done(e, LIB(lib_opt.sendmsg(e->h, msg, flags & ~MSG_MORE)),
			    iov_want(msg->msg_iov, (int)msg->msg_iovlen));
	if (msg->msg_controllen)
		return refuse(EOPNOTSUPP, "sendmsg", fd,
			      "ancillary data is not supported on skiff");
	if (e->type != SOCK_STREAM)
		return refuse(EOPNOTSUPP, "sendmsg", fd, "libskiffapp has no sendmsg");
	return done(e, send_iov(e, msg->msg_iov, (int)msg->msg_iovlen, flags & ~MSG_MORE),
		    iov_want(msg->msg_iov, (int)msg->msg_iovlen));
}

PRELOAD_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct ent *e = sock_of(fd);
	ssize_t n;

	if (!e)
		return REAL(recvmsg)(fd, msg, flags);
	if (ent_unusable(e, "recvmsg", fd))
		return -1;
	if (!msg) {
		errno = EFAULT;
		return -1;
	}
	if (lib_opt.recvmsg)
		return done(e, LIB(lib_opt.recvmsg(e->h, msg, flags)),
			    iov_want(msg->msg_iov, (int)msg->msg_iovlen));
	if (e->type != SOCK_STREAM)
		return refuse(EOPNOTSUPP, "recvmsg", fd, "libskiffapp has no recvmsg");
	n = done(e, recv_iov(e, msg->msg_iov, (int)msg->msg_iovlen, flags),
		 iov_want(msg->msg_iov, (int)msg->msg_iovlen));
	if (n >= 0) {
		msg->msg_namelen = 0;
		msg->msg_controllen = 0;
		msg->msg_flags = 0;
	}
	return n;
}

/*
 * sendfile to a skiff socket: the file is read with pread() and sent; the
 * offset (or the file position) moves by what was sent, never by what was
 * read and not taken.
 */
static ssize_t skiff_sendfile(struct ent *e, int out, int in, off_t *off, size_t count)
{
	size_t cap = count < SENDFILE_CHUNK ? count : SENDFILE_CHUNK;
	ssize_t total = 0, n, s;
	off_t pos;
	char *buf;

	if (ent_unusable(e, "sendfile", out))
		return -1;
	pos = off ? *off : lseek(in, 0, SEEK_CUR);
	if (pos < 0)
		return -1;
	if (!count)
		return 0;
	buf = malloc(cap);
	if (!buf) {
		errno = ENOMEM;
		return -1;
	}
	while ((size_t)total < count) {
		n = pread(in, buf, count - (size_t)total < cap ? count - (size_t)total : cap, pos);
		if (n <= 0) {
			if (n < 0 && !total)
				total = -1;
			break;
		}
		s = LIB(skiff_send(e->h, buf, (size_t)n, 0));
		if (s < 0) {
			if (!total)
				total = -1;
			break;
		}
		total += s;
		pos += s;
		if (s < n)
			break;
	}
	free(buf);
	if (total > 0) {
		if (off)
			*off = pos;
		else if (lseek(in, pos, SEEK_SET) < 0)
			return -1;
	}
	return total;
}

PRELOAD_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
	struct ent *e = sock_of(out);

	if (sock_of(in))
		return refuse(EINVAL, "sendfile", in, "a skiff socket cannot be sendfile's source");
	if (!e)
		return REAL(sendfile)(out, in, off, count);
	return done(e, skiff_sendfile(e, out, in, off, count), count);
}

PRELOAD_EXPORT ssize_t sendfile64(int out, int in, off_t *off, size_t count)
{
	return sendfile(out, in, off, count);
}

/* _FORTIFY_SOURCE=2 forms: the buffer-size check, then the call. */

PRELOAD_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		__chk_fail();
	return read(fd, buf, len);
}

PRELOAD_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	if (len > buflen)
		__chk_fail();
	return recv(fd, buf, len, flags);
}

PRELOAD_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
				      struct sockaddr *from, socklen_t *fromlen)
{
	if (len > buflen)
		__chk_fail();
	return recvfrom(fd, buf, len, flags, from, fromlen);
}
