// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * skiff-run's data calls (docs/skiff-run.md): read/write, send/recv and
 * their vector, message and address forms, sendfile, and glibc's
 * _FORTIFY_SOURCE variants (__read_chk...), which programs built by Debian
 * call instead of the plain names.  A skiff fd goes to libskiffapp, any
 * other fd to libc.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
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
	return done(e, LIB(skiff_read(e->h, buf, len)), len);
}

PRELOAD_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	struct ent *e = sock_of(fd);

	if (!e)
		return REAL(write)(fd, buf, len);
	return done(e, LIB(skiff_write(e->h, buf, len)), len);
}

PRELOAD_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	struct ent *e = sock_of(fd);

	if (!e)
		return REAL(send)(fd, buf, len, flags);
	/* MSG_MORE is a hint (cork); skiff sends at once, bytes unchanged */
	return done(e, LIB(skiff_send(e->h, buf, len, flags & ~MSG_MORE)), len);
}

PRELOAD_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	struct ent *e = sock_of(fd);

	if (!e)
		return REAL(recv)(fd, buf, len, flags);
	return done(e, LIB(skiff_recv(e->h, buf, len, flags)), len);
}

/* What iov asks for (0 when it is invalid: the call fails anyway). */
static size_t iov_want(const struct iovec *iov, int cnt)
{
	size_t sum = 0;
	int k;

	if (cnt < 0 || cnt > IOV_MAX || (cnt && !iov))
		return 0;
	for (k = 0; k < cnt; k++) {
		if (iov[k].iov_len > (size_t)SSIZE_MAX - sum)
			return 0;
		sum += iov[k].iov_len;
	}
	return sum;
}

PRELOAD_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	struct ent *e = sock_of(fd);

	if (!e)
		return REAL(writev)(fd, iov, cnt);
	return done(e, LIB(skiff_writev(e->h, iov, cnt)), iov_want(iov, cnt));
}

PRELOAD_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	struct ent *e = sock_of(fd);

	if (!e)
		return REAL(readv)(fd, iov, cnt);
	return done(e, LIB(skiff_readv(e->h, iov, cnt)), iov_want(iov, cnt));
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
	if (e->type == SOCK_STREAM || !to)
		return done(e, LIB(skiff_send(e->h, buf, len, flags & ~MSG_MORE)), len);
	return done(e, LIB(skiff_sendto(e->h, buf, len, flags & ~MSG_MORE, to, tolen)), len);
}

PRELOAD_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from,
				socklen_t *fromlen)
{
	struct ent *e = sock_of(fd);

	if (!e)
		return REAL(recvfrom)(fd, buf, len, flags, from, fromlen);
	return done(e, LIB(skiff_recvfrom(e->h, buf, len, flags, from, fromlen)), len);
}

PRELOAD_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct ent *e = sock_of(fd);
	ssize_t n;
	int r = 0;

	if (!e && !(msg && (e = claim_for_send(fd, msg->msg_name, msg->msg_namelen, &r))))
		return r < 0 ? -1 : REAL(sendmsg)(fd, msg, flags);
	if (!msg) {
		errno = EFAULT;
		return -1;
	}
	n = LIB(skiff_sendmsg(e->h, msg, flags & ~MSG_MORE));
	if (n < 0 && errno == EOPNOTSUPP && msg->msg_controllen)
		return refuse(EOPNOTSUPP, "sendmsg", fd,
			      "a control message skiff cannot honour (IP options, IPv6 extension "
			      "headers or flow label, IPV6_DONTFRAG, SO_MARK, timestamps, "
			      "UDP_SEGMENT)");
	return done(e, n, iov_want(msg->msg_iov, (int)msg->msg_iovlen));
}

PRELOAD_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct ent *e = sock_of(fd);

	if (!e)
		return REAL(recvmsg)(fd, msg, flags);
	if (!msg) {
		errno = EFAULT;
		return -1;
	}
	return done(e, LIB(skiff_recvmsg(e->h, msg, flags)),
		    iov_want(msg->msg_iov, (int)msg->msg_iovlen));
}

/*
 * sendfile to a skiff socket: the file is read with pread() and sent; the
 * offset (or the file position) moves by what was sent, never by what was
 * read and not taken.
 */
static ssize_t sendfile_to_skiff(struct ent *e, int in, off_t *off, size_t count)
{
	size_t cap = count < SENDFILE_CHUNK ? count : SENDFILE_CHUNK;
	ssize_t total = 0, n, s;
	off_t pos;
	char *buf;

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
	return done(e, sendfile_to_skiff(e, in, off, count), count);
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

/* sendmmsg/recvmmsg: one message after the other; recvmmsg waits (as the
 * socket's mode says) for the first only, as MSG_WAITFORONE would. */

PRELOAD_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
	struct ent *e = sock_of(fd);
	unsigned int i;
	ssize_t n;

	if (!e)
		return REAL(sendmmsg)(fd, vec, vlen, flags);
	for (i = 0; i < vlen && i < UIO_MAXIOV; i++) {
		n = sendmsg(fd, &vec[i].msg_hdr, flags);
		if (n < 0)
			return i ? (int)i : -1;
		vec[i].msg_len = (unsigned int)n;
	}
	return (int)i;
}

PRELOAD_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
			    struct timespec *timeout)
{
	struct ent *e = sock_of(fd);
	unsigned int i;
	ssize_t n;

	if (!e)
		return REAL(recvmmsg)(fd, vec, vlen, flags, timeout);
	if (timeout)
		return refuse(EOPNOTSUPP, "recvmmsg", fd, "a timeout is not supported on skiff");
	for (i = 0; i < vlen && i < UIO_MAXIOV; i++) {
		n = recvmsg(fd, &vec[i].msg_hdr,
			    (i ? flags | MSG_DONTWAIT : flags) & ~MSG_WAITFORONE);
		if (n < 0)
			return i ? (int)i : -1;
		vec[i].msg_len = (unsigned int)n;
	}
	return (int)i;
}

/* splice/tee/copy_file_range cannot reach a skiff socket: said, not
 * silently done by the kernel on the placeholder. */
PRELOAD_EXPORT ssize_t splice(int in, loff_t *in_off, int out, loff_t *out_off, size_t len,
			      unsigned int flags)
{
	if (sock_of(in) || sock_of(out))
		return refuse(EINVAL, "splice", sock_of(in) ? in : out,
			      "splice() is not supported on skiff sockets");
	return REAL(splice)(in, in_off, out, out_off, len, flags);
}
