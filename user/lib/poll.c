// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * skiff_poll and skiff_epoll_*: skiff sockets and kernel fds in one set
 * (kernel fds go to the kernel poll/epoll underneath).
 */
#include "app_lib.h"

struct poll_wait {
	struct pollfd *fds;
	nfds_t n;
};

/* The revents of skiff socket pf->fd (read without a lock). */
static short poll_revents(const struct pollfd *pf)
{
	uint32_t ev, want;
	int i = sa_slot_of(pf->fd);

	if (i < 0)
		return POLLNVAL;
	want = (uint16_t)pf->events | POLLERR | POLLHUP;
	if (pf->events & POLLRDNORM)
		want |= POLLIN;
	if (pf->events & POLLWRNORM)
		want |= POLLOUT;
	ev = sa_readiness(i);
	if (ev & POLLIN)
		ev |= POLLRDNORM;
	if (ev & POLLOUT)
		ev |= POLLWRNORM;
	return (short)(ev & want);
}

static bool poll_ready(void *arg)
{
	struct poll_wait *pw = arg;
	nfds_t k;

	for (k = 0; k < pw->n; k++)
		if (pw->fds[k].fd >= SKIFF_FD_BASE && poll_revents(&pw->fds[k]))
			return true;
	return false;
}

/*
 * poll(2) over skiff sockets and kernel fds together.  The kernel fds are
 * polled by the kernel (with a zero timeout while skiff sockets are being
 * looked at, and beside the eventfd while asleep).
 */
SKIFF_EXPORT int skiff_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	struct pollfd *kp = NULL;
	struct poll_wait pw = {.fds = fds, .n = n};
	struct timespec end;
	nfds_t k, nk = 0, ns = 0;
	int ready, r, j;

	if (n && !fds)
		return fail(EFAULT);
	if (n > (nfds_t)INT_MAX)
		return fail(EINVAL);
	for (k = 0; k < n; k++)
		if (fds[k].fd >= SKIFF_FD_BASE)
			ns++;
	if (!ns)
		return poll(fds, n, timeout_ms);
	if (n - ns) {
		kp = malloc(sizeof(*kp) * (size_t)(n - ns));
		if (!kp)
			return fail(ENOMEM);
	}
	for (k = 0; k < n; k++)
		if (fds[k].fd < SKIFF_FD_BASE)
			kp[nk++] = fds[k];
	sa_deadline_in(&end, timeout_ms);
	/* no lock: readiness is read from the indices as they are */
	for (;;) {
		ready = 0;
		if (nk) {
			r = poll(kp, nk, 0);
			if (r < 0) {
				ready = -errno;
				break;
			}
		}
		for (k = 0, j = 0; k < n; k++) {
			if (fds[k].fd < SKIFF_FD_BASE)
				fds[k].revents = kp[j++].revents;
			else
				fds[k].revents = poll_revents(&fds[k]);
			if (fds[k].revents)
				ready++;
		}
		if (ready || !timeout_ms || (timeout_ms > 0 && !sa_ms_left(&end)))
			break;
		if (sa_sleep_once(poll_ready, &pw, kp, (int)nk, timeout_ms < 0 ? -1 : sa_ms_left(&end),
				  &(const struct sa_held){.kind = SA_HELD_NONE}) == -EINTR) {
			ready = -EINTR;
			break;
		}
	}
	free(kp);
	return ready < 0 ? fail(-ready) : ready;
}

/* ---- epoll ---- */

/*
 * The sets live in A.ep[], each with its own lock: epoll_ctl and
 * epoll_wait on one set take that lock only, so threads on sets of their
 * own never wait for each other.  Which entries are live changes under
 * A.eplk and the set's lock; a lookup reads it without A.eplk and checks
 * again under the set's lock.
 */

/* Set epfd, locked; NULL when epfd is not one of ours. */
static struct sep *sep_lock(int epfd)
{
	struct sep *sp;
	int k;

	for (k = 0; k < MAX_EPOLLS; k++) {
		sp = &A.ep[k];
		if (!atomic_load(&sp->live) || sp->kfd != epfd)
			continue;
		pthread_mutex_lock(&sp->lk);
		if (atomic_load(&sp->live) && sp->kfd == epfd)
			return sp;
		pthread_mutex_unlock(&sp->lk);
	}
	return NULL;
}

/* A closed skiff socket leaves every set (table lock held). */
void sa_epoll_forget(int fd)
{
	struct sep *sp;
	int k, j;

	for (k = 0; k < MAX_EPOLLS; k++) {
		sp = &A.ep[k];
		if (!atomic_load(&sp->live))
			continue;
		pthread_mutex_lock(&sp->lk);
		for (j = 0; sp->e && j < sp->n; j++)
			if (sp->e[j].fd == fd) {
				sp->e[j] = sp->e[--sp->n];
				j--;
			}
		pthread_mutex_unlock(&sp->lk);
	}
}

/* Kernel fd fd is being closed: if it is a set of ours, the set goes. */
void sa_epoll_close(int fd)
{
	struct sep *sp;
	int k;

	pthread_mutex_lock(&A.eplk);
	for (k = 0; k < MAX_EPOLLS; k++) {
		sp = &A.ep[k];
		if (!atomic_load(&sp->live) || sp->kfd != fd)
			continue;
		pthread_mutex_lock(&sp->lk);
		free(sp->e);
		sp->e = NULL;
		sp->n = sp->cap = sp->nk = 0;
		atomic_store(&sp->live, false);
		pthread_mutex_unlock(&sp->lk);
	}
	pthread_mutex_unlock(&A.eplk);
}

SKIFF_EXPORT int skiff_epoll_create1(int flags)
{
	struct epent *e = calloc(8, sizeof(*e));
	struct sep *sp = NULL;
	int kfd, k;

	if (!e)
		return fail(ENOMEM);
	kfd = epoll_create1(flags);
	if (kfd < 0) {
		free(e);
		return -1;
	}
	pthread_mutex_lock(&A.eplk);
	for (k = 0; k < MAX_EPOLLS && !sp; k++)
		if (!atomic_load(&A.ep[k].live))
			sp = &A.ep[k];
	if (sp) {
		pthread_mutex_lock(&sp->lk);
		sp->e = e;
		sp->cap = 8;
		sp->n = sp->nk = 0;
		sp->kfd = kfd;
		atomic_store(&sp->live, true);
		pthread_mutex_unlock(&sp->lk);
	}
	pthread_mutex_unlock(&A.eplk);
	if (!sp) {
		free(e);
		close(kfd);
		return fail(EMFILE);
	}
	return kfd;
}

SKIFF_EXPORT int skiff_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct sep *sp;
	struct epent *e = NULL, *ne;
	int j, ret = 0;

	if (fd < SKIFF_FD_BASE) {
		ret = epoll_ctl(epfd, op, fd, ev);
		if (!ret && (op == EPOLL_CTL_ADD || op == EPOLL_CTL_DEL)) {
			sp = sep_lock(epfd);
			if (sp) {
				sp->nk += op == EPOLL_CTL_ADD ? 1 : -1;
				pthread_mutex_unlock(&sp->lk);
			}
		}
		return ret;
	}
	sp = sep_lock(epfd);
	if (!sp)
		return fail(EINVAL);
	if (sa_sock_of(fd) < 0 || sa_slot_of(fd) < 0) {
		ret = -EBADF;
		goto out;
	}
	for (j = 0; j < sp->n; j++)
		if (sp->e[j].fd == fd)
			e = &sp->e[j];
	if (op != EPOLL_CTL_DEL && !ev) {
		ret = -EFAULT;
		goto out;
	}
	switch (op) {
	case EPOLL_CTL_ADD:
		if (e) {
			ret = -EEXIST;
			break;
		}
		if (sp->n == sp->cap) {
			ne = realloc(sp->e, (size_t)sp->cap * 2 * sizeof(*ne));
			if (!ne) {
				ret = -ENOMEM;
				break;
			}
			sp->e = ne;
			sp->cap *= 2;
		}
		e = &sp->e[sp->n++];
		/* fallthrough */
	case EPOLL_CTL_MOD:
		if (!e) {
			ret = -ENOENT;
			break;
		}
		e->fd = fd;
		e->events = ev->events;
		e->data = ev->data;
		e->last = 0;
		e->last_act = fd >= SKIFF_FD_BASE ? sa_activity(fd - SKIFF_FD_BASE) : 0;
		e->disabled = false;
		break;
	case EPOLL_CTL_DEL:
		if (!e)
			ret = -ENOENT;
		else
			*e = sp->e[--sp->n];
		break;
	default:
		ret = -EINVAL;
	}
out:
	pthread_mutex_unlock(&sp->lk);
	return ret ? fail(-ret) : 0;
}

/* Collect ready skiff sockets of sp into out (its lock held). */
static int scan(struct sep *sp, struct epoll_event *out, int max)
{
	uint32_t want, cur, rep, act;
	struct epent *e;
	int j, n = 0;

	for (j = 0; j < sp->n && n < max; j++) {
		e = &sp->e[j];
		if (e->disabled)
			continue;
		want = e->events | EPOLLERR | EPOLLHUP;
		cur = sa_readiness(e->fd - SKIFF_FD_BASE) & want;
		rep = sa_et_news(e, cur, &act);
		if (e->events & EPOLLET) {
			e->last = cur;
			e->last_act = act;
			if (rep)
				rep = cur;
		}
		if (!rep)
			continue;
		if (out) {
			out[n].events = rep;
			out[n].data = e->data;
			if (e->events & EPOLLONESHOT)
				e->disabled = true;
		}
		n++;
	}
	return n;
}

struct scan_wait {
	struct sep *sp;
};

static bool scan_ready(void *arg)
{
	struct sep *sp = ((struct scan_wait *)arg)->sp;
	int j;

	/* without side effects: EPOLLET state is only updated by scan() */
	for (j = 0; j < sp->n; j++) {
		struct epent *e = &sp->e[j];
		uint32_t cur, act;

		if (e->disabled)
			continue;
		cur = sa_readiness(e->fd - SKIFF_FD_BASE) & (e->events | EPOLLERR | EPOLLHUP);
		if (sa_et_news(e, cur, &act))
			return true;
	}
	return false;
}

SKIFF_EXPORT int skiff_epoll_wait(int epfd, struct epoll_event *events, int max, int timeout_ms)
{
	struct pollfd kp = {.fd = epfd, .events = POLLIN};
	struct sa_held h = {.kind = SA_HELD_SET};
	struct scan_wait sw;
	struct timespec end;
	struct sep *sp;
	int n, m;

	if (!events || max <= 0)
		return fail(EINVAL);
	sp = __atomic_load_n(&A.attached, __ATOMIC_ACQUIRE) ? sep_lock(epfd) : NULL;
	if (!sp)
		return epoll_wait(epfd, events, max, timeout_ms);
	sw.sp = h.sp = sp;
	sa_deadline_in(&end, timeout_ms);
	for (;;) {
		n = scan(sp, events, max);
		/* kernel fds: when the set has some (a kernel fd closed without
		 * EPOLL_CTL_DEL leaves nk high: a needless look, never a missed
		 * event) or the kernel epoll woke us (fds added with plain
		 * epoll_ctl) */
		m = n < max && (sp->nk > 0 || (kp.revents & POLLIN))
			    ? epoll_wait(epfd, events + n, max - n, 0)
			    : 0;
		if (m > 0)
			n += m;
		if (n || !timeout_ms || (timeout_ms > 0 && !sa_ms_left(&end)))
			break;
		kp.revents = 0;
		if (sa_sleep_once(scan_ready, &sw, &kp, 1, timeout_ms < 0 ? -1 : sa_ms_left(&end),
				  &h) == -EINTR) {
			n = -EINTR;
			break;
		}
		if (!atomic_load(&sp->live) || sp->kfd != epfd) {
			n = -EBADF; /* closed meanwhile by another thread */
			break;
		}
	}
	pthread_mutex_unlock(&sp->lk);
	return n < 0 ? fail(-n) : n;
}
