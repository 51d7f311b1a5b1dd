/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libskiffapp: BSD-style TCP and UDP sockets on skiff for any process
 * (docs/apps.md).  Build with `cc app.c $(pkg-config --cflags --libs skiff)`.
 *
 * The calls mirror their POSIX namesakes: they return what those return
 * and -1 with errno set on failure.  A skiff socket is an int handle at or
 * above SKIFF_FD_BASE, which no kernel fd reaches, so skiff and kernel fds
 * can share one variable and one skiff_epoll set or skiff_poll array; the
 * data calls, skiff_close(), skiff_fcntl(), skiff_ioctl() and the
 * socket-option and name calls pass a kernel fd through to the kernel.
 *
 * The process attaches to skiffd on its first skiff socket: to the daemon
 * of $SKIFF_IFACE, or of skiff_attach(ifname), or to the only skiffd of its
 * network namespace.  It must be root or in group "skiff"
 * (docs/security.md); otherwise skiff_socket() fails with EACCES and
 * skiff_last_error() says why.
 *
 * After fork() the child shares its parent's skiff sockets and epoll sets,
 * as with the kernel (the last holder's close() or exit closes a socket);
 * any number of threads may block in skiff calls, each woken by itself,
 * and threads on sockets of their own do not wait for each other.
 *
 * Both families: an AF_INET6 socket takes and gives struct sockaddr_in6
 * (IPv4 peers of a dual-stack one as ::ffff:a.b.c.d), IPV6_V6ONLY
 * defaults to 0 as Linux's bindv6only=0.
 *
 * Not here: select (a skiff handle does not fit an fd_set: use
 * skiff_poll), control messages other than skiff_recvmsg's and
 * skiff_sendmsg's below, IPv6 options other than those of
 * skiff_setsockopt.
 */
#ifndef SKIFF_SKIFF_SOCKET_H
#define SKIFF_SKIFF_SOCKET_H

#include <poll.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SKIFF_FD_BASE 0x40000000 /* skiff handles are >= this */

/* Attach to the skiffd of ifname now (NULL: $SKIFF_IFACE, else the only
 * one).  Optional: the first skiff_socket() does it.  0 or -1/errno. */
int skiff_attach(const char *ifname);
/* Why the last attach failed, in words (never NULL). */
const char *skiff_last_error(void);
/* Whether fd is a skiff socket handle. */
int skiff_is_socket(int fd);

/* domain AF_INET or AF_INET6 (else EAFNOSUPPORT), type SOCK_STREAM or
 * SOCK_DGRAM (| SOCK_NONBLOCK | SOCK_CLOEXEC). */
int skiff_socket(int domain, int type, int protocol);
int skiff_bind(int fd, const struct sockaddr *addr, socklen_t len);
int skiff_listen(int fd, int backlog);
int skiff_accept(int fd, struct sockaddr *addr, socklen_t *len);
int skiff_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int skiff_connect(int fd, const struct sockaddr *addr, socklen_t len);
ssize_t skiff_send(int fd, const void *buf, size_t len, int flags);
ssize_t skiff_recv(int fd, void *buf, size_t len, int flags);
/* Flags: MSG_DONTWAIT, MSG_NOSIGNAL (else EPIPE raises SIGPIPE, as
 * Linux), MSG_PEEK, MSG_WAITALL, MSG_TRUNC (datagrams). */
ssize_t skiff_sendto(int fd, const void *buf, size_t len, int flags,
		     const struct sockaddr *to, socklen_t tolen);
ssize_t skiff_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from,
		       socklen_t *fromlen);
/* Control messages as Linux's UDP (docs/apps.md, "Control messages"):
 * recvmsg() gives IP_PKTINFO, IP_TTL, IP_TOS, IPV6_PKTINFO, IPV6_HOPLIMIT,
 * IPV6_TCLASS for the options set (IP_PKTINFO, IP_RECVTTL, IP_RECVTOS,
 * IPV6_RECVPKTINFO, IPV6_RECVHOPLIMIT, IPV6_RECVTCLASS), truncated with
 * MSG_CTRUNC as Linux; sendmsg() takes IP_PKTINFO / IPV6_PKTINFO (the
 * source), IP_TTL, IP_TOS, IPV6_HOPLIMIT, IPV6_TCLASS for that datagram,
 * EINVAL for what Linux refuses, EOPNOTSUPP for what skiff cannot do (IP
 * options, extension headers, SO_MARK...); a source not skiffd's is
 * ENETUNREACH (IPv4) or EINVAL (IPv6), as Linux.  TCP: none received,
 * SOL_SOCKET ones checked, the rest ignored, as Linux. */
ssize_t skiff_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t skiff_recvmsg(int fd, struct msghdr *msg, int flags);
ssize_t skiff_write(int fd, const void *buf, size_t len);
ssize_t skiff_read(int fd, void *buf, size_t len);
ssize_t skiff_writev(int fd, const struct iovec *iov, int iovcnt);
ssize_t skiff_readv(int fd, const struct iovec *iov, int iovcnt);
/* FIONREAD (bytes readable; a datagram socket: the next datagram's
 * size), FIONBIO; anything else ENOTTY. */
int skiff_ioctl(int fd, unsigned long req, ... /* int *arg */);
int skiff_shutdown(int fd, int how);
int skiff_close(int fd);
int skiff_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int skiff_getpeername(int fd, struct sockaddr *addr, socklen_t *len);
/* SOL_SOCKET: SO_REUSEADDR, SO_RCVBUF, SO_SNDBUF, SO_KEEPALIVE, SO_LINGER
 * (l_onoff with l_linger 0: close() resets; a positive l_linger does not
 * make close() wait), SO_ERROR (get), SO_TYPE, SO_DOMAIN, SO_PROTOCOL
 * (get); IPPROTO_TCP: TCP_NODELAY; IPPROTO_IPV6: IPV6_V6ONLY (AF_INET6,
 * before bind/connect: else EINVAL), IPV6_UNICAST_HOPS, IPV6_TCLASS;
 * IPPROTO_IP: IP_TTL, IP_TOS; the receive options of control messages
 * (IP_PKTINFO, IP_RECVTTL, IP_RECVTOS; AF_INET6: IPV6_RECVPKTINFO,
 * IPV6_RECVHOPLIMIT, IPV6_RECVTCLASS). */
int skiff_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int skiff_getsockopt(int fd, int level, int name, void *val, socklen_t *len);
/* F_GETFL, F_SETFL (O_NONBLOCK), F_GETFD/F_SETFD. */
int skiff_fcntl(int fd, int cmd, ... /* long arg */);

/* epoll over skiff sockets and kernel fds together.  EPOLLIN, EPOLLOUT,
 * EPOLLRDHUP, EPOLLERR, EPOLLHUP; level-triggered, EPOLLET and
 * EPOLLONESHOT. */
int skiff_epoll_create1(int flags);
int skiff_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);
int skiff_epoll_wait(int epfd, struct epoll_event *events, int max, int timeout_ms);

/* poll(2) over skiff sockets and kernel fds together (POLLIN, POLLOUT,
 * POLLRDHUP, POLLRDNORM, POLLWRNORM; POLLERR, POLLHUP, POLLNVAL). */
int skiff_poll(struct pollfd *fds, nfds_t n, int timeout_ms);

/*
 * Signals: a blocking call (accept, connect, recv, send with room to
 * wait for, epoll_wait, poll) interrupted by a signal handler returns -1
 * with EINTR (or the bytes moved so far), whether or not the handler was
 * installed with SA_RESTART: the library cannot tell which signal woke it,
 * so it behaves as Linux does without SA_RESTART.
 *
 * A handler that runs while the call is still working in user space
 * (before it sleeps) is seen only if it says so: call skiff_signal_note()
 * from the handler (async-signal-safe; errno is kept).  The blocking call
 * on the thread the handler ran on then returns EINTR instead of going to
 * sleep.  skiff-run does this for every handler the program installs.
 */
void skiff_signal_note(int sig);

#ifdef __cplusplus
}
#endif

#endif /* SKIFF_SKIFF_SOCKET_H */
