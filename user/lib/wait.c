// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Requests and waiting: posting a request to a worker's ring and kicking
 * it, sleeping until skiffd kicks this thread (or a kernel fd or a
 * sibling process's exit wakes it), and request/reply.
 */
#include "app_lib.h"

#include <sys/syscall.h>

/*
 * Signals (docs/apps.md, "Signals").  A handler that runs on this thread
 * (the skiff-run wrapper around every handler the program installs, or the
 * program's own handler calling skiff_signal_note()) bumps sig_gen; a
 * blocking call notes it at entry (sa_sig_enter) and returns EINTR when it
 * moved: before each sleep, after each round of the busy-poll spin and
 * after poll() returns.  While a thread is about to sleep, sleep_fd is the
 * eventfd its poll() watches and the handler writes it, so a handler that
 * lands between the last look and poll() wakes it at once.  Thread-local,
 * as the kernel's EINTR is: a signal interrupts the thread it runs on.
 * Initial-exec TLS: nothing to allocate in a handler.
 */
#define SA_TLS __thread __attribute__((tls_model("initial-exec")))
static SA_TLS volatile uint32_t sig_gen;
static SA_TLS uint32_t call_gen;
static SA_TLS volatile int sleep_fd = -1;

SKIFF_EXPORT void skiff_signal_note(int sig)
{
	int e = errno, fd;
	uint64_t one = 1;

	(void)sig;
	sig_gen = sig_gen + 1;
	atomic_signal_fence(memory_order_seq_cst);
	fd = sleep_fd;
	if (fd >= 0 && syscall(SYS_write, fd, &one, sizeof(one)) < 0) {
		/* saturated: it wakes anyway */
	}
	errno = e;
}

void sa_sig_enter(void)
{
	call_gen = sig_gen;
	atomic_signal_fence(memory_order_seq_cst);
}

/*
 * The hold of a small send (docs/apps.md, "Closing: the FIN rides on the
 * last data segment"): this thread enters a wait (epoll_wait, poll,
 * select, or the sleep of a blocking call), so a worker holding its last
 * send for a close() right behind it sends it now.  One writer per slot:
 * a plain increment.
 */
void sa_note_wait(void)
{
	int k = sa_my_waiter();

	if (k >= 0)
		store_rel(&A.hdr->app_waits[k], load_acq(&A.hdr->app_waits[k]) + 1);
}

/* What a TX carries in arg2: this thread's count of waits, as at the send. */
uint32_t sa_wait_gen(void)
{
	int k = sa_my_waiter_get();

	return k >= 0 ? load_acq(&A.hdr->app_waits[k]) : 0;
}

static bool sig_moved(void)
{
	atomic_signal_fence(memory_order_seq_cst);
	return sig_gen != call_gen;
}

static void kick_worker(uint32_t w)
{
	uint32_t *sleeping = &A.chan[w].sleeping;
	uint64_t one = 1;

	atomic_thread_fence(memory_order_seq_cst);
	if (!load_acq(sleeping) || !xchg(sleeping, 0))
		return;
	/* where we run: a worker woken on this CPU lets us finish first */
	store_rel(&A.chan[w].kick_cpu, (uint32_t)(sched_getcpu() + 1));
	if (write(A.wake_fd[w], &one, sizeof(one)) < 0) {
		/* saturated: it is awake anyway */
	}
}

/* Put m on ring q of worker w, of which this thread is the only producer
 * now (its own, or the shared one under L->qlk).  A producer killed
 * between writing the message and moving prod leaves no trace: prod is
 * published last and read back by the next one. */
static void post_on(uint32_t q, uint32_t w, const struct skiff_app_msg *m)
{
	struct skiff_app_ring *r = &A.chan[w].req[q];
	uint32_t prod = load_acq(&r->prod);

	while (prod - load_acq(&r->cons) >= SKIFF_APP_RING) {
		/* full: let the worker catch up (it never waits for us) */
		kick_worker(w);
		sched_yield();
	}
	r->msg[prod & RING_MASK] = *m;
	store_rel(&r->prod, prod + 1);
	kick_worker(w);
}

/* Send request m to worker w on this thread's own ring; a thread without
 * a slot shares ring SKIFF_APP_Q_SHARED with the others without one. */
void sa_post(uint32_t w, const struct skiff_app_msg *m)
{
	int q = sa_my_waiter_get();

	if (q >= 0) {
		post_on((uint32_t)q, w, m);
		return;
	}
	if (pthread_mutex_lock(&A.L->qlk) == EOWNERDEAD)
		pthread_mutex_consistent(&A.L->qlk);
	if (!(__atomic_load_n(&A.hdr->q_used, __ATOMIC_ACQUIRE) & (1ull << SKIFF_APP_Q_SHARED)))
		atomic_fetch_or((_Atomic uint64_t *)&A.hdr->q_used, 1ull << SKIFF_APP_Q_SHARED);
	post_on(SKIFF_APP_Q_SHARED, w, m);
	pthread_mutex_unlock(&A.L->qlk);
}

int sa_ms_left(const struct timespec *end)
{
	struct timespec now;
	int64_t ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (end->tv_sec - now.tv_sec) * 1000 + (end->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms > INT32_MAX ? INT32_MAX : (int)ms;
}

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ volatile("yield" ::: "memory")
#else
#define cpu_relax() atomic_signal_fence(memory_order_seq_cst)
#endif

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/*
 * SKIFF_BUSY_POLL_US: before sleeping, watch app_news (bumped by a worker
 * whenever it changes something we read) for up to A.spin_ns, or the
 * timeout if sooner, with what h says dropped; each time it moves,
 * re-check cond under h.  Our sleeping bit stays down meanwhile, so a
 * worker makes no syscall for us.  Kernel fds and sibling exits are only
 * seen once the spin is over (it is short); a signal handler (when intr)
 * ends it.  True when cond holds (h held on return either way).
 */
static bool spin_for(bool (*cond)(void *), void *arg, int timeout_ms, bool intr,
		     const struct sa_held *h)
{
	uint32_t *news = &A.hdr->app_news, seen = load_acq(news);
	uint64_t now = mono_ns(), end;
	int j;

	if (cond(arg))
		return true;
	end = now + ((timeout_ms >= 0 && (uint64_t)timeout_ms * 1000000u < A.spin_ns)
			     ? (uint64_t)timeout_ms * 1000000u
			     : A.spin_ns);
	while (now < end) {
		sa_held_unlock(h);
		for (; now < end; now = mono_ns()) {
			for (j = 0; j < 64 && load_acq(news) == seen; j++)
				cpu_relax();
			if (j < 64 || (intr && sig_moved()))
				break;
		}
		sa_held_lock(h);
		seen = load_acq(news);
		if (cond(arg))
			return true;
		if (intr && sig_moved())
			return false;
		now = mono_ns();
	}
	return false;
}

/*
 * Sleep until skiffd kicks us (or one of the kernel fds extra[0..nextra)
 * is ready, or the timeout passes), having re-checked cond with our
 * waiter's bit up in app_sleeping.  What h says is held on entry and exit
 * and dropped while asleep.  A sibling process found dead meanwhile is
 * reaped under the table lock (taken after h's, which is dropped for it:
 * the lock order).  Returns 1 when cond holds afterwards, 0 when not,
 * -EINTR when intr and a signal handler ran on this thread since the call
 * began (sa_sig_enter), or poll() was interrupted.  A thread without a
 * waiter (more than SKIFF_APP_MAX_WAITERS threads) looks again every
 * OVERFLOW_WAIT_MS.
 */
static int sleep_once(bool (*cond)(void *), void *arg, struct pollfd *extra, int nextra,
		      int timeout_ms, bool intr, const struct sa_held *h)
{
	struct pollfd local[16 + MAX_PROCS], *pfd = local;
	int who[MAX_PROCS], dead[MAX_PROCS], ndead = 0;
	int32_t pids[MAX_PROCS];
	uint32_t bit = 0;
	uint64_t v;
	int n = 0, np, r, err = 0, j, k = sa_my_waiter_get();

	sa_note_wait();
	if (A.spin_ns && timeout_ms) {
		uint64_t t0 = mono_ns();

		if (spin_for(cond, arg, timeout_ms, intr, h))
			return 1;
		if (timeout_ms > 0) /* the spin was part of the wait */
			timeout_ms -= (int)((mono_ns() - t0) / 1000000u < (uint64_t)timeout_ms
						    ? (mono_ns() - t0) / 1000000u
						    : (uint64_t)timeout_ms);
	}
	if (k >= 0) {
		bit = 1u << k;
		atomic_fetch_or((_Atomic uint32_t *)&A.hdr->app_sleeping, bit);
	}
	atomic_thread_fence(memory_order_seq_cst);
	if (cond(arg)) {
		if (bit)
			atomic_fetch_and((_Atomic uint32_t *)&A.hdr->app_sleeping, ~bit);
		return 1;
	}
	if (nextra > 15) {
		pfd = malloc(sizeof(*pfd) * (size_t)(nextra + 1 + MAX_PROCS));
		if (!pfd) {
			pfd = local; /* our eventfd alone, briefly */
			nextra = 0;
			timeout_ms = OVERFLOW_WAIT_MS;
		}
	}
	if (k >= 0)
		pfd[n++] = (struct pollfd){.fd = A.waiter_fd[k], .events = POLLIN};
	else if (timeout_ms < 0 || timeout_ms > OVERFLOW_WAIT_MS)
		timeout_ms = OVERFLOW_WAIT_MS;
	np = sa_watch_procs(pfd + n, who, pids);
	for (j = 0; j < np; j++)
		if (pfd[n + j].fd < 0)
			timeout_ms = 0; /* one is gone already: reap it now */
	if (nextra)
		memcpy(pfd + n + np, extra, sizeof(*pfd) * (size_t)nextra);
	sa_held_unlock(h);
	if (intr && k >= 0)
		sleep_fd = A.waiter_fd[k]; /* a handler from now on wakes poll() */
	if (intr && sig_moved())
		r = 0; /* a handler ran: no sleep */
	else
		r = poll(pfd, (nfds_t)(n + np + nextra), timeout_ms);
	if (r < 0 && errno == EINTR)
		err = -EINTR;
	sleep_fd = -1;
	atomic_signal_fence(memory_order_seq_cst);
	if (intr && sig_moved())
		err = -EINTR;
	if (k >= 0 && r > 0 && (pfd[0].revents & POLLIN) &&
	    read(A.waiter_fd[k], &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing to take */
	}
	if (bit)
		atomic_fetch_and((_Atomic uint32_t *)&A.hdr->app_sleeping, ~bit);
	for (j = 0; j < np; j++)
		if (pfd[n + j].fd < 0 || (r > 0 && (pfd[n + j].revents & POLLIN)))
			dead[ndead++] = j; /* it exited (a zombie counts) */
	if (ndead) {
		if (h->kind != SA_HELD_TABLE)
			sa_lock();
		for (j = 0; j < ndead; j++)
			sa_reap_if(who[dead[j]], pids[dead[j]]);
		if (h->kind != SA_HELD_TABLE)
			sa_unlock();
	}
	sa_held_lock(h);
	if (nextra)
		memcpy(extra, pfd + n + np, sizeof(*pfd) * (size_t)nextra);
	if (pfd != local)
		free(pfd);
	if (cond(arg))
		return 1;
	return err;
}

int sa_sleep_once(bool (*cond)(void *), void *arg, struct pollfd *extra, int nextra,
		  int timeout_ms, const struct sa_held *h)
{
	return sleep_once(cond, arg, extra, nextra, timeout_ms, true, h);
}

void sa_deadline_in(struct timespec *end, int timeout_ms)
{
	clock_gettime(CLOCK_MONOTONIC, end);
	if (timeout_ms > 0) {
		end->tv_sec += timeout_ms / 1000;
		end->tv_nsec += (long)(timeout_ms % 1000) * 1000000;
		if (end->tv_nsec >= 1000000000) {
			end->tv_sec++;
			end->tv_nsec -= 1000000000;
		}
	}
}

/* Wait for cond, with the timeout in ms (-1: forever).  0, -ETIMEDOUT or,
 * when intr, -EINTR (a signal handler ran: docs/apps.md, "Signals"). */
int sa_wait_for(bool (*cond)(void *), void *arg, int timeout_ms, bool intr,
		const struct sa_held *h)
{
	struct timespec end;

	sa_deadline_in(&end, timeout_ms);
	while (!cond(arg)) {
		if (timeout_ms >= 0 && !sa_ms_left(&end))
			return -ETIMEDOUT;
		if (sleep_once(cond, arg, NULL, 0, timeout_ms < 0 ? -1 : sa_ms_left(&end), intr, h) ==
			    -EINTR &&
		    intr)
			return -EINTR;
	}
	return 0;
}

static bool replied(void *arg)
{
	struct reply_wait *rw = arg;

	/* at or past ours: another process may have asked on the same
	 * socket meanwhile (never hang on a reply overtaken) */
	return (int32_t)(load_acq(&rw->slot->rep_seq) - rw->seq) >= 0;
}

/*
 * A reply comes within microseconds of a running worker: look for it for
 * up to REQUEST_SPIN_NS (the table lock dropped, yielding the CPU each
 * time, so that a worker woken on this CPU runs at once) before sleeping,
 * which would cost two more wake-ups (docs/apps.md, "Busy polling").
 * True when it came.
 */
#define REQUEST_SPIN_NS 50000u

static bool request_spin(struct reply_wait *rw)
{
	uint64_t end = mono_ns() + REQUEST_SPIN_NS;
	bool got;

	sa_held_unlock(SA_TABLE);
	while (!(got = replied(rw)) && mono_ns() < end)
		sched_yield();
	sa_held_lock(SA_TABLE);
	return got || replied(rw);
}

/* Send m to worker w and wait for the reply in slot m->slot (table lock
 * held). */
int sa_request(uint32_t w, struct skiff_app_msg *m)
{
	struct lsock *ls = &A.L->s[m->slot];
	struct reply_wait rw = {.slot = &A.slots[m->slot]};

	m->seq = rw.seq = ++ls->seq;
	sa_post(w, m);
	if (!request_spin(&rw) && sa_wait_for(replied, &rw, 10000, false, SA_TABLE))
		return -ETIMEDOUT; /* skiffd stalled or gone */
	return rw.slot->rep_res;
}
