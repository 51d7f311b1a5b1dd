// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The libskiffapp calls skiff-run uses when the library it is linked with
 * has them, and replaces in its own layer when it has not (docs/skiff-run.md,
 * "What is covered").  Weak references: this file must not include
 * skiff/skiff_socket.h, so a declaration there can never disagree with the
 * weak one here.
 */
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "preload.h"

int skiff_poll(struct pollfd *fds, nfds_t n, int timeout_ms) __attribute__((weak));
ssize_t skiff_readv(int fd, const struct iovec *iov, int iovcnt) __attribute__((weak));
ssize_t skiff_writev(int fd, const struct iovec *iov, int iovcnt) __attribute__((weak));
ssize_t skiff_sendmsg(int fd, const struct msghdr *msg, int flags) __attribute__((weak));
ssize_t skiff_recvmsg(int fd, struct msghdr *msg, int flags) __attribute__((weak));
ssize_t skiff_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
		     socklen_t tolen) __attribute__((weak));
ssize_t skiff_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from,
		       socklen_t *fromlen) __attribute__((weak));
int skiff_ioctl(int fd, unsigned long req, ...) __attribute__((weak));

const struct lib_opt lib_opt = {
	.poll = skiff_poll,
	.readv = skiff_readv,
	.writev = skiff_writev,
	.sendmsg = skiff_sendmsg,
	.recvmsg = skiff_recvmsg,
	.sendto = skiff_sendto,
	.recvfrom = skiff_recvfrom,
	.ioctl = skiff_ioctl,
};
