// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * skiff-run's waiting calls (docs/skiff-run.md): poll, ppoll, select,
 * pselect and epoll over sets that mix skiff sockets and kernel fds.
 *
 * epoll: every epoll set the program creates is a libskiffapp set
 * (skiff_epoll_create1: a kernel epoll fd plus the list of skiff sockets in
 * it), so a kernel fd added to it is in the kernel epoll as usual and a
 * skiff socket in the list.  Only a set that has had a skiff socket waits
 * through libskiffapp; the others go straight to epoll_wait.
 *
 * poll/select: through skiff_poll, the skiff fds renamed to their handles.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "skiff/skiff_socket.h"
#include "preload.h"

#define POLL_STACK 64

void __chk_fail(void) __attribute__((noreturn));
int __poll_chk(struct pollfd *fds, nfds_t n, int timeout_ms, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask,
		size_t fdslen);

static bool has_skiff(const struct pollfd *fds, nfds_t n)
{
	nfds_t k;

	for (k = 0; k < n; k++)
		if (sock_of(fds[k].fd))
			return true;
	return false;
}

/* poll through skiff_poll: skiff fds renamed to their handles. */
int preload_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	struct pollfd stack[POLL_STACK], *p = n <= POLL_STACK ? stack : calloc(n, sizeof(*p));
	struct ent *e;
	nfds_t k;
	int r;

	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	for (k = 0; k < n; k++) {
		p[k] = fds[k];
		e = sock_of(fds[k].fd);
		if (e)
			p[k].fd = e->h;
	}
	r = LIB(skiff_poll(p, n, timeout_ms));
	for (k = 0; r >= 0 && k < n; k++)
		fds[k].revents = p[k].revents;
	if (p != stack)
		free(p);
	return r;
}

PRELOAD_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	if (in_lib || !has_skiff(fds, n))
		return REAL(poll)(fds, n, timeout_ms);
	return preload_poll(fds, n, timeout_ms);
}

PRELOAD_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout_ms, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		__chk_fail();
	return poll(fds, n, timeout_ms);
}

static int ms_of(const struct timespec *ts)
{
	long long ms;

	if (!ts)
		return -1;
	ms = (long long)ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000;
	return ms > INT_MAX ? INT_MAX : ms < 0 ? 0 : (int)ms;
}

/* The signal mask of ppoll/pselect/epoll_pwait around a skiff wait: set
 * before, restored after (not atomic with the sleep as in the kernel: a
 * signal that arrives in between is handled before the wait, and the
 * wait does not end for it). */
static int with_mask(const sigset_t *mask, sigset_t *old)
{
	return mask ? pthread_sigmask(SIG_SETMASK, mask, old) : 0;
}

static void restore_mask(const sigset_t *mask, const sigset_t *old)
{
	int err = errno;

	if (mask)
		pthread_sigmask(SIG_SETMASK, old, NULL);
	errno = err;
}

PRELOAD_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
			 const sigset_t *mask)
{
	sigset_t old;
	int r;

	if (in_lib || !has_skiff(fds, n))
		return REAL(ppoll)(fds, n, ts, mask);
	if (ts && (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)) {
		errno = EINVAL;
		return -1;
	}
	if (with_mask(mask, &old))
		return -1;
	r = preload_poll(fds, n, ms_of(ts));
	restore_mask(mask, &old);
	return r;
}

PRELOAD_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts,
			       const sigset_t *mask, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		__chk_fail();
	return ppoll(fds, n, ts, mask);
}

static bool sets_have_skiff(int nfds, fd_set *r, fd_set *w, fd_set *x)
{
	int fd;

	for (fd = 0; fd < nfds && fd < FD_SETSIZE; fd++)
		if (((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (x && FD_ISSET(fd, x))) &&
		    sock_of(fd))
			return true;
	return false;
}

/* select as poll: the sets become a pollfd array and back. */
static int select_poll(int nfds, fd_set *r, fd_set *w, fd_set *x, int timeout_ms)
{
	struct pollfd *p;
	int fd, n = 0, k, ready = 0;
	short ev;

	if (nfds < 0 || nfds > FD_SETSIZE) {
		errno = EINVAL;
		return -1;
	}
	p = calloc((size_t)(nfds ? nfds : 1), sizeof(*p));
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	for (fd = 0; fd < nfds; fd++) {
		ev = (short)((r && FD_ISSET(fd, r) ? POLLIN : 0) |
			     (w && FD_ISSET(fd, w) ? POLLOUT : 0) |
			     (x && FD_ISSET(fd, x) ? POLLPRI : 0));
		if (ev) {
			p[n].fd = fd;
			p[n++].events = ev;
		}
	}
	k = preload_poll(p, (nfds_t)n, timeout_ms);
	if (k < 0) {
		free(p);
		return -1;
	}
	for (k = 0; k < n; k++)
		if (p[k].revents & POLLNVAL) {
			free(p);
			errno = EBADF;
			return -1;
		}
	if (r)
		FD_ZERO(r);
	if (w)
		FD_ZERO(w);
	if (x)
		FD_ZERO(x);
	for (k = 0; k < n; k++) {
		fd = p[k].fd;
		/* as the kernel: readable on error or hang-up too */
		if ((p[k].events & POLLIN) && (p[k].revents & (POLLIN | POLLHUP | POLLERR))) {
			FD_SET(fd, r);
			ready++;
		}
		if ((p[k].events & POLLOUT) && (p[k].revents & (POLLOUT | POLLERR))) {
			FD_SET(fd, w);
			ready++;
		}
		if ((p[k].events & POLLPRI) && (p[k].revents & POLLPRI)) {
			FD_SET(fd, x);
			ready++;
		}
	}
	free(p);
	return ready;
}

PRELOAD_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv)
{
	long long ms = -1;

	if (in_lib || !sets_have_skiff(nfds, r, w, x))
		return REAL(select)(nfds, r, w, x, tv);
	if (tv) {
		if (tv->tv_sec < 0 || tv->tv_usec < 0) {
			errno = EINVAL;
			return -1;
		}
		ms = (long long)tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000;
		if (ms > INT_MAX)
			ms = INT_MAX;
	}
	return select_poll(nfds, r, w, x, (int)ms);
}

PRELOAD_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *x, const struct timespec *ts,
			   const sigset_t *mask)
{
	sigset_t old;
	int ret;

	if (in_lib || !sets_have_skiff(nfds, r, w, x))
		return REAL(pselect)(nfds, r, w, x, ts, mask);
	if (with_mask(mask, &old))
		return -1;
	ret = select_poll(nfds, r, w, x, ms_of(ts));
	restore_mask(mask, &old);
	return ret;
}

/* ---- epoll ---- */

static int new_set(int flags)
{
	struct ent *e;
	int fd = LIB(skiff_epoll_create1(flags));

	if (fd < 0) /* past libskiffapp's sets: a plain kernel set */
		return errno == EMFILE ? REAL(epoll_create1)(flags) : -1;
	e = calloc(1, sizeof(*e));
	if (!e || ent_install(fd, e)) {
		free(e);
		LIB(skiff_close(fd));
		errno = ENOMEM;
		return -1;
	}
	e->kind = ENT_EPOLL;
	e->h = fd;
	return fd;
}

PRELOAD_EXPORT int epoll_create1(int flags)
{
	if (in_lib)
		return REAL(epoll_create1)(flags);
	return new_set(flags);
}

PRELOAD_EXPORT int epoll_create(int size)
{
	if (in_lib)
		return REAL(epoll_create)(size);
	if (size <= 0) {
		errno = EINVAL;
		return -1;
	}
	return new_set(0);
}

/* The libskiffapp set of epfd, or NULL. */
static struct ent *set_of(int epfd)
{
	struct ent *e = ent_of(epfd);

	return e && e->kind == ENT_EPOLL && e->h >= 0 ? e : NULL;
}

/* Remember (ev) or forget (NULL) skiff socket s's registration in set
 * when it is edge-triggered, for ent_rearm(). */
static void track(struct ent *s, int set, const struct epoll_event *ev, int epfd)
{
	bool et = ev && (ev->events & EPOLLET) && !(ev->events & EPOLLONESHOT);
	int k;

	pthread_mutex_lock(&s->lk);
	for (k = 0; k < s->n_regs && s->regs[k].set != set; k++)
		;
	if (k < s->n_regs && !et)
		s->regs[k] = s->regs[--s->n_regs];
	else if (k < s->n_regs)
		s->regs[k].ev = *ev;
	else if (et && k < ENT_REGS)
		s->regs[s->n_regs++] = (struct ent_reg){.set = set, .ev = *ev};
	else if (et)
		refuse(0, "epoll_ctl", epfd,
		       "a skiff socket in more than %d edge-triggered sets: this one may miss "
		       "edges",
		       ENT_REGS);
	pthread_mutex_unlock(&s->lk);
}

/*
 * libskiffapp reports an EPOLLET edge when a scan finds a bit that the
 * previous scan did not; a socket drained (or filled) and refilled (or
 * drained) between two scans shows no change, and a program that read
 * until EAGAIN would wait for an edge that never comes.  The kernel
 * signals each arrival, so after a call that would block or stopped short
 * the registration is renewed (EPOLL_CTL_MOD clears what was reported):
 * at worst one spurious event, which edge-triggered programs tolerate.
 */
void ent_rearm(struct ent *e)
{
	int k;

	if (!e->n_regs)
		return;
	pthread_mutex_lock(&e->lk);
	for (k = 0; k < e->n_regs; k++)
		LIB(skiff_epoll_ctl(e->regs[k].set, EPOLL_CTL_MOD, e->h, &e->regs[k].ev));
	pthread_mutex_unlock(&e->lk);
}

PRELOAD_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct ent *set, *s;
	struct epoll_event ev2;
	int r;

	if (in_lib)
		return REAL(epoll_ctl)(epfd, op, fd, ev);
	set = set_of(epfd);
	s = sock_of(fd);
	if (!s && !set)
		return REAL(epoll_ctl)(epfd, op, fd, ev);
	if (!s) {
		r = LIB(skiff_epoll_ctl(set->h, op, fd, ev));
		if (!r)
			kreg_note(fd, set->h, op, ev);
		return r;
	}
	if (!set)
		return refuse(ENOSPC, "epoll_ctl", epfd,
			      "this epoll set cannot hold skiff sockets (libskiffapp's sets "
			      "are all in use)");
	if (ev) {
		ev2 = *ev;
		ev2.events &= ~(uint32_t)EPOLLEXCLUSIVE; /* a hint: every waiter is told */
	}
	r = LIB(skiff_epoll_ctl(set->h, op, s->h, ev ? &ev2 : NULL));
	if (!r && op == EPOLL_CTL_ADD)
		atomic_fetch_add(&set->nskiff, 1);
	if (!r)
		track(s, set->h, op == EPOLL_CTL_DEL ? NULL : &ev2, epfd);
	return r;
}

void epoll_adopt(struct ent *e, int setfd, const struct epoll_event *ev, int fd, const char *call)
{
	struct ent *set = set_of(setfd);
	struct epoll_event ev2 = *ev;

	ev2.events &= ~(uint32_t)EPOLLEXCLUSIVE;
	if (!set || LIB(skiff_epoll_ctl(setfd, EPOLL_CTL_DEL, fd, NULL)) ||
	    LIB(skiff_epoll_ctl(setfd, EPOLL_CTL_ADD, e->h, &ev2))) {
		refuse(errno, call, fd,
		       "its registration in epoll set %d could not move to skiff: add it again",
		       setfd);
		return;
	}
	atomic_fetch_add(&set->nskiff, 1);
	track(e, setfd, &ev2, setfd);
}

static int wait_set(struct ent *set, struct epoll_event *evs, int max, int timeout_ms)
{
	return LIB(skiff_epoll_wait(set->h, evs, max, timeout_ms));
}

PRELOAD_EXPORT int epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout_ms)
{
	struct ent *set = set_of(epfd);

	if (!set || !atomic_load(&set->nskiff))
		return REAL(epoll_wait)(epfd, evs, max, timeout_ms);
	return wait_set(set, evs, max, timeout_ms);
}

PRELOAD_EXPORT int epoll_pwait(int epfd, struct epoll_event *evs, int max, int timeout_ms,
			       const sigset_t *mask)
{
	struct ent *set = set_of(epfd);
	sigset_t old;
	int r;

	if (!set || !atomic_load(&set->nskiff))
		return REAL(epoll_pwait)(epfd, evs, max, timeout_ms, mask);
	if (with_mask(mask, &old))
		return -1;
	r = wait_set(set, evs, max, timeout_ms);
	restore_mask(mask, &old);
	return r;
}

PRELOAD_EXPORT int epoll_pwait2(int epfd, struct epoll_event *evs, int max,
				const struct timespec *ts, const sigset_t *mask)
{
	struct ent *set = set_of(epfd);
	sigset_t old;
	int r;

	if (!set || !atomic_load(&set->nskiff))
		return REAL(epoll_pwait2)(epfd, evs, max, ts, mask);
	if (ts && (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)) {
		errno = EINVAL;
		return -1;
	}
	if (with_mask(mask, &old))
		return -1;
	r = wait_set(set, evs, max, ms_of(ts));
	restore_mask(mask, &old);
	return r;
}
