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

	sa_sig_enter();
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
	sa_note_wait();
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
 * A set's skiff sockets live in the region (struct sh_set), locked by the
 * set's own lock: epoll_ctl and epoll_wait on one set take that lock only,
 * so threads on sets of their own never wait for each other.  A process
 * names its sets in A.ep[] (kernel epoll fd -> set), which fork() copies:
 * a set made before fork() is shared by parent and child, as the kernel's
 * is.  A.ep[] is looked up without a lock and checked again under the
 * set's; it changes under A.eplk.  Which sets are in use (procs) changes
 * under the table lock.
 */

/* Whether entry e of a set is in range (the region may have been written
 * by a process that died half way, or by a broken one). */
static bool entry_ok(const struct epent *e)
{
	return e->fd >= SKIFF_FD_BASE && e->fd - SKIFF_FD_BASE < SKIFF_APP_MAX_SOCKS;
}

/* The set epfd names, locked, with its index in A.ep in *k; NULL when
 * epfd is not a set of ours. */
static struct sh_set *set_of(int epfd, int *k)
{
	struct sh_set *ss;
	struct sep *sp;
	int j;

	if (!__atomic_load_n(&A.attached, __ATOMIC_ACQUIRE))
		return NULL;
	for (j = 0; j < MAX_EPOLLS; j++) {
		sp = &A.ep[j];
		if (!atomic_load(&sp->live) || sp->kfd != epfd)
			continue;
		ss = &A.L->sets[sp->set];
		sa_set_lock(ss);
		if (atomic_load(&sp->live) && sp->kfd == epfd && &A.L->sets[sp->set] == ss) {
			*k = j;
			return ss;
		}
		pthread_mutex_unlock(&ss->lk);
	}
	return NULL;
}

/* Name a new set kfd in this process (table lock held): 0, -EMFILE when
 * this process names MAX_EPOLLS sets or the attach uses MAX_SETS. */
static int set_add(int kfd, int nk)
{
	struct sh_set *ss = NULL;
	struct sep *sp = NULL;
	int k, s;

	for (s = 0; s < MAX_SETS && !ss; s++)
		if (!A.L->sets[s].procs)
			ss = &A.L->sets[s];
	pthread_mutex_lock(&A.eplk);
	for (k = 0; k < MAX_EPOLLS && !sp; k++)
		if (!atomic_load(&A.ep[k].live))
			sp = &A.ep[k];
	if (ss && sp) {
		sa_set_lock(ss);
		ss->procs = 1ull << A.me;
		ss->n = 0;
		ss->nk = nk;
		pthread_mutex_unlock(&ss->lk);
		sp->kfd = kfd;
		sp->set = (int)(ss - A.L->sets);
		atomic_store(&sp->live, true);
	}
	pthread_mutex_unlock(&A.eplk);
	return ss && sp ? 0 : -EMFILE;
}

/* Process entry k no longer names set ss (table lock held); the last
 * one's leaving frees it. */
static void set_drop(struct sh_set *ss, int k)
{
	sa_set_lock(ss);
	ss->procs &= ~(1ull << k);
	if (!ss->procs)
		ss->n = ss->nk = 0;
	pthread_mutex_unlock(&ss->lk);
}

/* A socket closed for good leaves every set (table lock held); one only
 * closed by this process stays in sets another holder shares, as the
 * kernel keeps an epoll entry while the file is open anywhere. */
void sa_epoll_forget(int fd)
{
	struct sh_set *ss;
	int s, j;

	for (s = 0; s < MAX_SETS; s++) {
		ss = &A.L->sets[s];
		if (!ss->procs)
			continue;
		sa_set_lock(ss);
		for (j = 0; j < ss->n; j++)
			if (ss->e[j].fd == fd) {
				ss->e[j] = ss->e[--ss->n];
				j--;
			}
		pthread_mutex_unlock(&ss->lk);
	}
}

/* Process entry k is gone (table lock held): the sets it named lose it. */
void sa_epoll_drop_proc(int k)
{
	int s;

	for (s = 0; s < MAX_SETS; s++)
		if (A.L->sets[s].procs & (1ull << k))
			set_drop(&A.L->sets[s], k);
}

/* fork(): the child (process entry child) names the sets its parent named
 * (table lock held). */
void sa_epoll_fork(int parent, int child)
{
	struct sh_set *ss;
	int s;

	for (s = 0; s < MAX_SETS; s++) {
		ss = &A.L->sets[s];
		if (!(ss->procs & (1ull << parent)))
			continue;
		sa_set_lock(ss);
		ss->procs |= 1ull << child;
		pthread_mutex_unlock(&ss->lk);
	}
}

/* Kernel fd fd is being closed: if it names a set of ours, it no longer
 * does (the set goes with its last name). */
void sa_epoll_close(int fd)
{
	struct sep *sp;
	bool ours = false;
	int k;

	for (k = 0; k < MAX_EPOLLS; k++) /* most closes: no lock at all */
		if (atomic_load(&A.ep[k].live) && A.ep[k].kfd == fd)
			ours = true;
	if (!ours)
		return;
	sa_lock();
	pthread_mutex_lock(&A.eplk);
	for (k = 0; k < MAX_EPOLLS; k++) {
		sp = &A.ep[k];
		if (!atomic_load(&sp->live) || sp->kfd != fd)
			continue;
		atomic_store(&sp->live, false);
		set_drop(&A.L->sets[sp->set], A.me);
	}
	pthread_mutex_unlock(&A.eplk);
	sa_unlock();
}

/* Whether fd is a kernel epoll fd (a set made before the process
 * attached, named when its first skiff socket is added). */
static bool is_epoll_fd(int fd)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	return !strcmp(link, "anon_inode:[eventpoll]");
}

SKIFF_EXPORT int skiff_epoll_create1(int flags)
{
	int kfd, ret = 0;

	kfd = epoll_create1(flags);
	if (kfd < 0)
		return -1;
	/* before the process attaches, a plain kernel set: it becomes one
	 * of ours when a skiff socket is first added */
	sa_lock();
	if (A.attached)
		ret = set_add(kfd, 0);
	sa_unlock();
	if (ret) {
		close(kfd);
		return fail(-ret);
	}
	return kfd;
}

SKIFF_EXPORT int skiff_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct sh_set *ss;
	struct epent *e = NULL;
	int j, k, ret = 0;

	if (fd < SKIFF_FD_BASE) {
		ret = epoll_ctl(epfd, op, fd, ev);
		if (!ret && (op == EPOLL_CTL_ADD || op == EPOLL_CTL_DEL)) {
			ss = set_of(epfd, &k);
			if (ss) {
				ss->nk += op == EPOLL_CTL_ADD ? 1 : -1;
				pthread_mutex_unlock(&ss->lk);
			}
		}
		return ret;
	}
	if (sa_sock_of(fd) < 0 || sa_slot_of(fd) < 0)
		return fail(EBADF);
	ss = set_of(epfd, &k);
	if (!ss && op == EPOLL_CTL_ADD && is_epoll_fd(epfd)) {
		/* made before the attach: ours from now on (its kernel fds
		 * unknown: looked at on every wait) */
		sa_lock();
		ss = set_of(epfd, &k);
		if (!ss)
			ret = set_add(epfd, 1);
		sa_unlock();
		if (ret)
			return fail(-ret);
		if (!ss)
			ss = set_of(epfd, &k);
	}
	if (!ss)
		return fail(EINVAL);
	for (j = 0; j < ss->n; j++)
		if (ss->e[j].fd == fd)
			e = &ss->e[j];
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
		if (ss->n >= SKIFF_APP_MAX_SOCKS) {
			ret = -ENOSPC; /* cannot happen: one entry per socket */
			break;
		}
		e = &ss->e[ss->n++];
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
		e->last_act = sa_activity(fd - SKIFF_FD_BASE);
		e->disabled = false;
		break;
	case EPOLL_CTL_DEL:
		if (!e)
			ret = -ENOENT;
		else
			*e = ss->e[--ss->n];
		break;
	default:
		ret = -EINVAL;
	}
out:
	pthread_mutex_unlock(&ss->lk);
	return ret ? fail(-ret) : 0;
}

/* Collect ready skiff sockets of ss into out (its lock held). */
static int scan(struct sh_set *ss, struct epoll_event *out, int max)
{
	uint32_t want, cur, rep, act;
	struct epent *e;
	int j, n = 0;

	for (j = 0; j < ss->n && n < max; j++) {
		e = &ss->e[j];
		if (e->disabled || !entry_ok(e))
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

static bool scan_ready(void *arg)
{
	struct sh_set *ss = arg;
	int j;

	/* without side effects: EPOLLET state is only updated by scan() */
	for (j = 0; j < ss->n; j++) {
		struct epent *e = &ss->e[j];
		uint32_t cur, act;

		if (e->disabled || !entry_ok(e))
			continue;
		cur = sa_readiness(e->fd - SKIFF_FD_BASE) & (e->events | EPOLLERR | EPOLLHUP);
		if (sa_et_news(e, cur, &act))
			return true;
	}
	return false;
}

/*
 * Whether a call that found skiff events should also look at the set's
 * kernel fds now: at most every KERNEL_LOOK_NS while skiff events keep
 * coming (each look is an epoll_wait syscall, and a busy server's set
 * usually holds a kernel fd that is never ready, nginx's notification
 * eventfd: a zero-timeout epoll_wait per connection otherwise).  Before
 * sleeping the kernel fds are always looked at, and the sleep watches
 * them (the kernel epoll fd in its poll), so a kernel fd's event waits at
 * most this long, and only while skiff sockets keep the thread busy; as
 * epoll with more ready fds than maxevents, each call returns some of
 * the ready ones and every one is returned in time.
 */
#define KERNEL_LOOK_NS 1000000u

static bool kernel_look_due(struct sep *sp, bool found)
{
	struct timespec t;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &t);
	now = (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
	if (found && now - sp->klook_ns < KERNEL_LOOK_NS)
		return false;
	sp->klook_ns = now;
	return true;
}

SKIFF_EXPORT int skiff_epoll_wait(int epfd, struct epoll_event *events, int max, int timeout_ms)
{
	struct pollfd kp = {.fd = epfd, .events = POLLIN};
	struct sa_held h = {.kind = SA_HELD_SET};
	struct timespec end;
	struct sh_set *ss;
	int n, m, k;

	sa_sig_enter();
	if (!events || max <= 0)
		return fail(EINVAL);
	ss = set_of(epfd, &k);
	if (!ss)
		return epoll_wait(epfd, events, max, timeout_ms);
	h.ss = ss;
	sa_note_wait();
	sa_deadline_in(&end, timeout_ms);
	for (;;) {
		n = scan(ss, events, max);
		/* kernel fds: when the kernel epoll woke us (fds added with
		 * plain epoll_ctl), or the set has some (a kernel fd closed
		 * without EPOLL_CTL_DEL leaves nk high: a needless look, never
		 * a missed event) and a look is due (kernel_look_due()) */
		m = n < max && ((kp.revents & POLLIN) ||
				(ss->nk > 0 && kernel_look_due(&A.ep[k], n > 0)))
			    ? epoll_wait(epfd, events + n, max - n, 0)
			    : 0;
		if (m > 0)
			n += m;
		if (n || !timeout_ms || (timeout_ms > 0 && !sa_ms_left(&end)))
			break;
		kp.revents = 0;
		if (sa_sleep_once(scan_ready, ss, &kp, 1, timeout_ms < 0 ? -1 : sa_ms_left(&end),
				  &h) == -EINTR) {
			n = -EINTR;
			break;
		}
		if (!atomic_load(&A.ep[k].live) || A.ep[k].kfd != epfd) {
			n = -EBADF; /* closed meanwhile by another thread */
			break;
		}
	}
	pthread_mutex_unlock(&ss->lk);
	return n < 0 ? fail(-n) : n;
}
