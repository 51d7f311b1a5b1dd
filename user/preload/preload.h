/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libskiff-preload internals (docs/skiff-run.md): the fd table that maps a
 * real kernel fd (the placeholder) to a skiff socket of libskiffapp, the
 * libc functions underneath (dlsym RTLD_NEXT), and the guard that sends
 * every libc call libskiffapp makes itself straight to libc.
 *
 * Contract: an fd is a skiff socket exactly when tab[fd] points to an
 * ENT_SOCK entry; the fd itself is a kernel AF_INET socket that is never
 * bound, connected or polled (it only holds the number, the close-on-exec
 * flag, O_NONBLOCK for F_GETFL and the RLIMIT_NOFILE slot).  An entry
 * counts the fds naming it (dup); the skiff socket closes with the last.
 */
#ifndef SKIFF_PRELOAD_H
#define SKIFF_PRELOAD_H

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#define PRELOAD_EXPORT __attribute__((visibility("default")))

enum ent_kind {
	ENT_SOCK = 1, /* a skiff socket; h is its libskiffapp handle */
	ENT_EPOLL,    /* an epoll set made by skiff_epoll_create1; h is its fd */
};

#define ENT_REGS 4 /* epoll sets one skiff socket can be edge-triggered in */

/* A skiff socket's registration in an epoll set with EPOLLET. */
struct ent_reg {
	int set;	       /* the set's fd (libskiffapp's key) */
	struct epoll_event ev; /* as given to skiff_epoll_ctl */
};

struct ent {
	int kind;	    /* enum ent_kind */
	int h;		    /* libskiffapp handle (SOCK) or epoll fd (EPOLL) */
	int type;	    /* SOCK: SOCK_STREAM or SOCK_DGRAM */
	atomic_int refs;    /* fds naming this entry */
	atomic_int nskiff;  /* EPOLL: skiff sockets added (an upper bound) */
	pthread_mutex_t lk; /* SOCK: regs */
	int n_regs;
	struct ent_reg regs[ENT_REGS];
};

/* A kernel fd's registration in a libskiffapp epoll set (preload.c). */
struct kreg {
	int set; /* the set's fd + 1; 0: none; -1: more than one set */
	struct epoll_event ev;
};

/* The libc functions underneath. */
struct real_fns {
	int (*socket)(int, int, int);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*listen)(int, int);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*readv)(int, const struct iovec *, int);
	ssize_t (*writev)(int, const struct iovec *, int);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*recv)(int, void *, size_t, int);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	int (*shutdown)(int, int);
	int (*close)(int);
	int (*getsockname)(int, struct sockaddr *, socklen_t *);
	int (*getpeername)(int, struct sockaddr *, socklen_t *);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	int (*fcntl)(int, int, ...);
	int (*ioctl)(int, unsigned long, ...);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
	int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
	int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *,
		       const sigset_t *);
	int (*epoll_create)(int);
	int (*epoll_create1)(int);
	int (*epoll_ctl)(int, int, int, struct epoll_event *);
	int (*epoll_wait)(int, struct epoll_event *, int, int);
	int (*epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
	int (*epoll_pwait2)(int, struct epoll_event *, int, const struct timespec *,
			    const sigset_t *);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	ssize_t (*sendfile)(int, int, off_t *, size_t);
	int (*sendmmsg)(int, struct mmsghdr *, unsigned int, int);
	int (*recvmmsg)(int, struct mmsghdr *, unsigned int, int, struct timespec *);
	ssize_t (*splice)(int, loff_t *, int, loff_t *, size_t, unsigned int);
	int (*close_range)(unsigned int, unsigned int, int);
};

extern struct real_fns real;
void preload_resolve(void);
#define REAL(f) (real.f ? real.f : (preload_resolve(), real.f))

/* > 0 while this thread is inside libskiffapp: its own libc calls pass. */
extern __thread int in_lib;
#define LIB(expr) \
	({ \
		in_lib++; \
		__typeof__(expr) r__ = (expr); \
		in_lib--; \
		r__; \
	})

/* The entry of fd, or NULL (also while inside libskiffapp). */
struct ent *ent_of(int fd);
/* The ENT_SOCK entry of fd, or NULL. */
static inline struct ent *sock_of(int fd)
{
	struct ent *e = ent_of(fd);

	return e && e->kind == ENT_SOCK ? e : NULL;
}
/* Install e at fd (one more reference); 0 or -1/EMFILE past the table. */
int ent_install(int fd, struct ent *e);
/* Remove fd from the table and drop its reference (the fd stays open). */
void ent_forget(int fd);

/* A clear message on stderr naming the call, printed once per text;
 * returns -1 with errno = err. */
int refuse(int err, const char *call, int fd, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A kernel socket about to connect (call "connect") or send a datagram to
 * addr: 1 when it became a skiff socket (*out), 0 when it stays the
 * kernel's, -1/errno on failure. */
int preload_claim(int fd, const struct sockaddr *addr, socklen_t len, const char *call,
		  struct ent **out);

/* Remember kernel fd's epoll_ctl(set, op, fd, ev) on a libskiffapp set. */
void kreg_note(int fd, int set, int op, const struct epoll_event *ev);
/* Move placeholder fd's registration in set (ev) to skiff socket e
 * (preload_wait.c). */
void epoll_adopt(struct ent *e, int set, const struct epoll_event *ev, int fd, const char *call);

/* Call after a data call on skiff socket e stopped short or would block:
 * its edge-triggered registrations are armed again (preload_wait.c). */
void ent_rearm(struct ent *e);

/* poll over skiff and kernel fds (preload_wait.c), timeout in ms. */
int preload_poll(struct pollfd *fds, nfds_t n, int timeout_ms);

#endif /* SKIFF_PRELOAD_H */
