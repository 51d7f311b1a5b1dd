// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The attached applications (app_host.h): attach over the control socket,
 * the shared memory and eventfds, the per-worker lists, and detach when
 * the application's control connection hangs up.
 *
 * The memfd is sealed against shrinking and growing before it is passed:
 * a process that could truncate it would make skiffd's next access to the
 * region a SIGBUS.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "apps/app_chan.h"
#include "cmd/app_host.h"
#include "cmd/report.h"
#include "skiff/app_shm.h"

#define APP_WAKE_BATCH 16

struct app {
	bool used;
	int fd; /* the control connection */
	struct ctl_peer peer;
	void *shm;
	struct skiff_app_hdr layout;	    /* private copy: never read from shm */
	int app_efd;			    /* waiter 0: the application sleeps on it */
	int waiter_fd[SKIFF_APP_MAX_WAITERS]; /* [0] = app_efd, [1..]: its other threads */
	int wake_fd[SKIFF_APP_MAX_WORKERS]; /* it wakes worker w */
	struct app_worker *aw[SKIFF_APP_MAX_WORKERS];
};

struct host_worker {
	struct app_host_worker w;
	int ep;					  /* the wake eventfds of every app */
	struct app_worker *aw[APP_HOST_MAX_APPS]; /* under w.lock */
};

struct app_host {
	uint32_t n;
	int ep; /* the control connections */
	uint64_t attached, detached;
	struct host_worker hw[SKIFF_APP_MAX_WORKERS];
	struct app apps[APP_HOST_MAX_APPS];
};

static void app_clear(struct app *a)
{
	uint32_t w;

	memset(a, 0, sizeof(*a));
	a->fd = a->app_efd = -1;
	for (w = 0; w < SKIFF_APP_MAX_WORKERS; w++)
		a->wake_fd[w] = -1;
	for (w = 0; w < SKIFF_APP_MAX_WAITERS; w++)
		a->waiter_fd[w] = -1;
}

int app_host_create(struct app_host **out, const struct app_host_worker *w, uint32_t n)
{
	struct app_host *h;
	bool ok;
	uint32_t i;

	*out = NULL;
	if (!n || n > SKIFF_APP_MAX_WORKERS)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->n = n;
	for (i = 0; i < SKIFF_APP_MAX_WORKERS; i++)
		h->hw[i].ep = -1;
	for (i = 0; i < APP_HOST_MAX_APPS; i++)
		app_clear(&h->apps[i]);
	h->ep = epoll_create1(EPOLL_CLOEXEC);
	ok = h->ep >= 0;
	for (i = 0; i < n; i++) {
		h->hw[i].w = w[i];
		h->hw[i].ep = epoll_create1(EPOLL_CLOEXEC);
		ok = ok && h->hw[i].ep >= 0;
	}
	if (!ok) {
		app_host_destroy(h);
		return -EMFILE;
	}
	*out = h;
	return 0;
}

int app_host_fd(const struct app_host *h)
{
	return h->ep;
}

int app_host_worker_fd(const struct app_host *h, uint32_t w)
{
	return w < h->n ? h->hw[w].ep : -1;
}

/* Take app a off every worker (under each lock), close its sockets, free. */
static void app_detach(struct app_host *h, struct app *a)
{
	int ai = (int)(a - h->apps);
	uint32_t w;

	if (a->fd >= 0)
		epoll_ctl(h->ep, EPOLL_CTL_DEL, a->fd, NULL);
	for (w = 0; w < h->n; w++) {
		struct host_worker *hw = &h->hw[w];

		if (a->wake_fd[w] >= 0)
			epoll_ctl(hw->ep, EPOLL_CTL_DEL, a->wake_fd[w], NULL);
		if (!a->aw[w])
			continue;
		pthread_mutex_lock(hw->w.lock);
		hw->aw[ai] = NULL;
		app_worker_destroy(a->aw[w]);
		pthread_mutex_unlock(hw->w.lock);
		a->aw[w] = NULL;
	}
	for (w = 0; w < SKIFF_APP_MAX_WORKERS; w++)
		if (a->wake_fd[w] >= 0)
			close(a->wake_fd[w]);
	for (w = 1; w < SKIFF_APP_MAX_WAITERS; w++)
		if (a->waiter_fd[w] >= 0)
			close(a->waiter_fd[w]);
	if (a->app_efd >= 0)
		close(a->app_efd);
	if (a->shm)
		munmap(a->shm, a->layout.size);
	if (a->fd >= 0)
		close(a->fd);
	if (a->used)
		h->detached++;
	app_clear(a);
}

static int send_fds(int sock, const char *line, const int *fds, int n)
{
	char cbuf[CMSG_SPACE(sizeof(int) * (1 + SKIFF_APP_MAX_WORKERS + SKIFF_APP_MAX_WAITERS))];
	struct iovec iov = {.iov_base = (void *)line, .iov_len = strlen(line)};
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n),
	};
	struct cmsghdr *cm;

	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)n);
	if (sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)iov.iov_len)
		return -errno ? -errno : -EIO;
	return 0;
}

_Static_assert(SKIFF_APP_MAX_ADDRS4 >= SKIFF_MAX_ADDRS, "app_shm.h: room for every IPv4 address");
_Static_assert(SKIFF_APP_MAX_ADDRS6 >= SKIFF_MAX_ADDRS6, "app_shm.h: room for every IPv6 address");

/* skiffd's addresses into the header (the sources an application may name). */
static void app_addrs(struct skiff_app_hdr *h, const struct stack_config *cfg)
{
	int i;

	for (i = 0; i < cfg->n_addrs && i < SKIFF_APP_MAX_ADDRS4; i++)
		memcpy(h->addrs4[i], &cfg->addrs[i].addr, 4);
	h->n_addrs4 = (uint32_t)i;
	for (i = 0; i < cfg->n_addrs6 && i < SKIFF_APP_MAX_ADDRS6; i++)
		memcpy(h->addrs6[i], cfg->addrs6[i].addr, 16);
	h->n_addrs6 = (uint32_t)i;
}

/* The region: memfd of layout.size, sealed, mapped, header written. */
static int app_region(struct app *a, uint32_t n_workers, uint32_t ifindex,
		      const struct stack_config *cfg, int *memfd)
{
	struct skiff_app_hdr *hdr;
	int fd, ret;

	skiff_app_layout(n_workers, &a->layout);
	a->layout.ifindex = ifindex;
	app_addrs(&a->layout, cfg);
	fd = memfd_create("skiff-app", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)a->layout.size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	a->shm = mmap(NULL, a->layout.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (a->shm == MAP_FAILED) {
		a->shm = NULL;
		ret = -errno;
		close(fd);
		return ret;
	}
	hdr = a->shm;
	*hdr = a->layout;
	*memfd = fd;
	return 0;
}

bool app_host_attach(struct app_host *h, int fd, const struct ctl_peer *peer, struct strbuf *out)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP};
	int fds[1 + SKIFF_APP_MAX_WORKERS + SKIFF_APP_MAX_WAITERS], nfds;
	uint64_t one = 1;
	struct app *a = NULL;
	char line[128], msg[160];
	int i, memfd = -1, ret;
	uint32_t w;

	for (i = 0; i < APP_HOST_MAX_APPS; i++)
		if (!h->apps[i].used) {
			a = &h->apps[i];
			break;
		}
	if (!a) {
		snprintf(msg, sizeof(msg), "too many attached applications (at most %d)",
			 APP_HOST_MAX_APPS);
		report_error(out, msg, false);
		return false;
	}
	app_clear(a);
	a->peer = *peer;
	ret = app_region(a, h->n, h->hw[0].w.st->dev ? (uint32_t)h->hw[0].w.st->dev->ifindex : 0,
			 h->hw[0].w.st->cfg, &memfd);
	if (ret)
		goto fail;
	a->app_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->app_efd < 0) {
		ret = -errno;
		goto fail;
	}
	a->waiter_fd[0] = a->app_efd;
	for (i = 1; i < SKIFF_APP_MAX_WAITERS; i++) {
		a->waiter_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (a->waiter_fd[i] < 0) {
			ret = -errno;
			goto fail;
		}
	}
	for (w = 0; w < h->n; w++) {
		a->wake_fd[w] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (a->wake_fd[w] < 0) {
			ret = -errno;
			goto fail;
		}
		ret = app_worker_create(h->hw[w].w.st, a->shm, &a->layout, w, a->app_efd,
					&a->aw[w]);
		if (ret)
			goto fail;
		app_worker_set_waiters(a->aw[w], a->waiter_fd, SKIFF_APP_MAX_WAITERS);
	}
	snprintf(line, sizeof(line), "ok attach %u workers %u size %" PRIu64 " waiters %u\n",
		 SKIFF_APP_VERSION, h->n, a->layout.size, SKIFF_APP_MAX_WAITERS);
	/* [memfd, waiter 0, wake 0..n-1, waiters 1..] */
	fds[0] = memfd;
	fds[1] = a->app_efd;
	for (w = 0; w < h->n; w++)
		fds[2 + w] = a->wake_fd[w];
	nfds = 2 + (int)h->n;
	for (i = 1; i < SKIFF_APP_MAX_WAITERS; i++)
		fds[nfds++] = a->waiter_fd[i];
	ret = send_fds(fd, line, fds, nfds);
	if (ret)
		goto fail;
	close(memfd);
	memfd = -1;
	/* live from here: workers serve it, a hang-up detaches it */
	a->used = true;
	a->fd = fd;
	ev.data.u32 = (uint32_t)(a - h->apps);
	if (epoll_ctl(h->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		ret = -errno;
		a->fd = -1; /* the caller closes it */
		goto fail;
	}
	for (w = 0; w < h->n; w++) {
		/* edge-triggered: the worker's epoll_wait takes the kick, no
		 * read() of the eventfd (its counter only grows; one that
		 * saturates refuses the application's own kicks, EAGAIN, which
		 * only slows that application) */
		ev.events = EPOLLIN | EPOLLET;
		epoll_ctl(h->hw[w].ep, EPOLL_CTL_ADD, a->wake_fd[w], &ev);
		pthread_mutex_lock(h->hw[w].w.lock);
		h->hw[w].aw[a - h->apps] = a->aw[w];
		pthread_mutex_unlock(h->hw[w].w.lock);
		/* the application may have posted before the worker knew it,
		 * and the worker may be asleep: wake it to look */
		if (write(a->wake_fd[w], &one, sizeof(one)) < 0) {
			/* saturated: it will look anyway */
		}
	}
	h->attached++;
	return true;
fail:
	if (memfd >= 0)
		close(memfd);
	a->used = false;
	app_detach(h, a);
	snprintf(msg, sizeof(msg), "attach failed: %s", strerror(-ret));
	report_error(out, msg, false);
	return false;
}

void app_host_run(struct app_host *h)
{
	struct epoll_event ev[8];
	char buf[256];
	struct app *a;
	ssize_t r;
	int n, i;

	n = epoll_wait(h->ep, ev, 8, 0);
	for (i = 0; i < n; i++) {
		if (ev[i].data.u32 >= APP_HOST_MAX_APPS)
			continue;
		a = &h->apps[ev[i].data.u32];
		if (!a->used)
			continue;
		/* the application says nothing after attaching: bytes are
		 * read and ignored, EOF or an error means it is gone */
		r = recv(a->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r > 0 && !(ev[i].events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)))
			continue;
		if (r < 0 && errno == EAGAIN && !(ev[i].events & (EPOLLHUP | EPOLLRDHUP)))
			continue;
		printf("skiffd: application pid %d (uid %u) detached\n", (int)a->peer.pid,
		       (unsigned int)a->peer.uid);
		fflush(stdout);
		app_detach(h, a);
	}
}

int app_host_worker_poll(struct app_host *h, uint32_t w, bool woken)
{
	struct host_worker *hw = &h->hw[w];
	struct epoll_event ev[APP_WAKE_BATCH];
	int i, done = 0;

	/* take the kicks' edges (every application is served below anyway) */
	if (woken)
		while (epoll_wait(hw->ep, ev, APP_WAKE_BATCH, 0) == APP_WAKE_BATCH)
			;
	for (i = 0; i < APP_HOST_MAX_APPS; i++)
		if (hw->aw[i])
			done += app_worker_poll(hw->aw[i], 64);
	return done;
}

bool app_host_kicked_from(struct app_host *h, uint32_t w, int cpu)
{
	struct host_worker *hw = &h->hw[w];
	bool here = false;
	int i;

	for (i = 0; i < APP_HOST_MAX_APPS; i++)
		if (hw->aw[i] && app_worker_kicked_from(hw->aw[i], cpu))
			here = true;	/* and read every one: each is cleared */
	return here;
}

bool app_host_worker_holding(struct app_host *h, uint32_t w)
{
	struct host_worker *hw = &h->hw[w];
	int i;

	for (i = 0; i < APP_HOST_MAX_APPS; i++)
		if (hw->aw[i] && app_worker_holding(hw->aw[i]))
			return true;
	return false;
}

bool app_host_worker_may_sleep(struct app_host *h, uint32_t w)
{
	struct host_worker *hw = &h->hw[w];
	bool ok = true;
	int i;

	for (i = 0; i < APP_HOST_MAX_APPS; i++)
		if (hw->aw[i] && !app_worker_may_sleep(hw->aw[i]))
			ok = false;
	return ok;
}

void app_host_report(struct app_host *h, struct strbuf *sb, bool json)
{
	struct app_worker_stats st, sum;
	uint64_t q_owned, q_used;
	int i, n = 0, threads, rings;
	uint32_t w;

	if (json)
		sb_printf(sb, "{\"attached\":%" PRIu64 ",\"detached\":%" PRIu64 ",\"apps\":[",
			  h->attached, h->detached);
	else
		sb_printf(sb, "applications: %" PRIu64 " attached, %" PRIu64 " detached\n",
			  h->attached, h->detached);
	for (i = 0; i < APP_HOST_MAX_APPS; i++) {
		struct app *a = &h->apps[i];

		if (!a->used)
			continue;
		memset(&sum, 0, sizeof(sum));
		for (w = 0; w < h->n; w++) {
			pthread_mutex_lock(h->hw[w].w.lock);
			app_worker_get_stats(a->aw[w], &st);
			pthread_mutex_unlock(h->hw[w].w.lock);
			sum.msgs += st.msgs;
			sum.bad_msgs += st.bad_msgs;
			sum.bad_index += st.bad_index;
			sum.poisoned += st.poisoned;
			sum.socks += st.socks;
			sum.aborts += st.aborts;
			sum.kicks += st.kicks;
			sum.dgram_drops += st.dgram_drops;
			sum.tx_holds += st.tx_holds;
			sum.tx_hold_timeouts += st.tx_hold_timeouts;
		}
		/* what the application says of its threads: shown, not used */
		q_owned = atomic_load_explicit(
			(_Atomic uint64_t *)&((struct skiff_app_hdr *)a->shm)->q_owned,
			memory_order_relaxed);
		q_used = atomic_load_explicit(
			(_Atomic uint64_t *)&((struct skiff_app_hdr *)a->shm)->q_used,
			memory_order_relaxed);
		threads = __builtin_popcountll(q_owned & ((1ull << SKIFF_APP_MAX_WAITERS) - 1));
		rings = __builtin_popcountll(q_used & ((1ull << SKIFF_APP_QUEUES) - 1));
		if (json)
			sb_printf(sb,
				  "%s{\"pid\":%d,\"uid\":%u,\"sockets\":%" PRIu64
				  ",\"requests\":%" PRIu64 ",\"bad_msgs\":%" PRIu64
				  ",\"bad_index\":%" PRIu64 ",\"poisoned\":%" PRIu64
				  ",\"aborts\":%" PRIu64 ",\"kicks\":%" PRIu64
				  ",\"dgram_drops\":%" PRIu64 ",\"tx_holds\":%" PRIu64
				  ",\"tx_hold_timeouts\":%" PRIu64 ",\"thread_slots\":%d,\"rings\":%d}",
				  n ? "," : "", (int)a->peer.pid, (unsigned int)a->peer.uid,
				  sum.socks, sum.msgs, sum.bad_msgs, sum.bad_index, sum.poisoned,
				  sum.aborts, sum.kicks, sum.dgram_drops, sum.tx_holds,
				  sum.tx_hold_timeouts, threads, rings);
		else
			sb_printf(sb,
				  "pid %d uid %u sockets %" PRIu64 " requests %" PRIu64
				  " bad_msgs %" PRIu64 " bad_index %" PRIu64 " poisoned %" PRIu64
				  " thread_slots %d rings %d\n",
				  (int)a->peer.pid, (unsigned int)a->peer.uid, sum.socks, sum.msgs,
				  sum.bad_msgs, sum.bad_index, sum.poisoned, threads, rings);
		n++;
	}
	if (json)
		sb_puts(sb, "]}\n");
}

void app_host_destroy(struct app_host *h)
{
	uint32_t w;
	int i;

	if (!h)
		return;
	for (i = 0; i < APP_HOST_MAX_APPS; i++)
		if (h->apps[i].used)
			app_detach(h, &h->apps[i]);
	for (w = 0; w < h->n; w++)
		if (h->hw[w].ep >= 0)
			close(h->hw[w].ep);
	if (h->ep >= 0)
		close(h->ep);
	free(h);
}
