// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The locks, fork() and threads: this process's lock and the attach's
 * process-shared robust one, which process holds which socket, the
 * atfork handlers, each thread's waiter, and closing what a dead process
 * of the attach held.
 */
#include "app_lib.h"

struct lib_state skiff_app_lib = {
	.lk = PTHREAD_MUTEX_INITIALIZER,
	.pidlk = PTHREAD_MUTEX_INITIALIZER,
	.eplk = PTHREAD_MUTEX_INITIALIZER,
	.ctl_fd = -1,
};

/* The waiter this thread sleeps on (-1: none claimed yet). */
static __thread int my_waiter = -1;

static void robust_init(pthread_mutex_t *mu)
{
	pthread_mutexattr_t ma;

	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(mu, &ma);
	pthread_mutexattr_destroy(&ma);
}

void sa_shared_init(struct lib_shared *L)
{
	int i;

	robust_init(&L->lk);
	robust_init(&L->qlk);
	for (i = 0; i < SKIFF_APP_MAX_SOCKS; i++)
		robust_init(&L->slk[i]);
	for (i = 0; i < MAX_SETS; i++)
		robust_init(&L->sets[i].lk);
}

/* A robust lock whose owner died: whoever gets it carries on.  true when
 * so (the caller repairs what the dead owner may have left half done). */
static bool robust_lock(pthread_mutex_t *mu)
{
	if (pthread_mutex_lock(mu) != EOWNERDEAD)
		return false;
	pthread_mutex_consistent(mu);
	return true;
}

/* Both locks: this process's, then (attached) the one of every process.
 * A process that died holding the shared one hands it over as it was. */
void sa_lock(void)
{
	pthread_mutex_lock(&A.lk);
	if (A.L)
		robust_lock(&A.L->lk);
}

void sa_unlock(void)
{
	if (A.L)
		pthread_mutex_unlock(&A.L->lk);
	pthread_mutex_unlock(&A.lk);
}

/*
 * The data-path lock of socket i (Linux's lock_sock): send and recv take
 * this one only, so threads on different sockets never wait for each
 * other.  A holder killed mid-call may have moved its private FIFO index
 * without publishing it: the next one starts again from the shared one
 * (the library is the only writer of tx.head, rx.tail and urx_tail).
 */
void sa_sock_lock(int i)
{
	struct lsock *ls = &A.L->s[i];
	uint32_t w;

	if (!robust_lock(&A.L->slk[i]))
		return;
	ls->tx_head = load_acq(&A.slots[i].tx.head);
	ls->rx_tail = load_acq(&A.slots[i].rx.tail);
	for (w = 0; w < SKIFF_APP_MAX_WORKERS; w++)
		ls->urx_tail[w] = load_acq(&A.slots[i].urx_tail[w]);
}

void sa_sock_unlock(int i)
{
	pthread_mutex_unlock(&A.L->slk[i]);
}

/* An epoll set's lock; a holder that died may have left its counts half
 * changed: they are brought back in range (entries are checked when read). */
void sa_set_lock(struct sh_set *ss)
{
	if (!robust_lock(&ss->lk))
		return;
	if (ss->n < 0 || ss->n > SKIFF_APP_MAX_SOCKS)
		ss->n = 0;
	if (ss->nk < 0)
		ss->nk = 1;
}

void sa_held_lock(const struct sa_held *h)
{
	switch (h->kind) {
	case SA_HELD_TABLE:
		sa_lock();
		break;
	case SA_HELD_SOCK:
		sa_sock_lock(h->i);
		break;
	case SA_HELD_SET:
		sa_set_lock(h->ss);
		break;
	case SA_HELD_NONE:
		break;
	}
}

void sa_held_unlock(const struct sa_held *h)
{
	switch (h->kind) {
	case SA_HELD_TABLE:
		sa_unlock();
		break;
	case SA_HELD_SOCK:
		sa_sock_unlock(h->i);
		break;
	case SA_HELD_SET:
		pthread_mutex_unlock(&h->ss->lk);
		break;
	case SA_HELD_NONE:
		break;
	}
}

static bool proc_holds(int k, int i)
{
	return A.L->procs[k].held[i / 64] & (1ull << (i % 64));
}

bool sa_held(int i)
{
	return proc_holds(A.me, i);
}

void sa_set_held(int i, bool on)
{
	uint64_t *h = &A.L->procs[A.me].held[i / 64];

	if (on)
		*h |= 1ull << (i % 64);
	else
		*h &= ~(1ull << (i % 64));
}

/* How many processes of the attach hold socket i. */
int sa_holders(int i)
{
	int k, n = 0;

	for (k = 0; k < MAX_PROCS; k++)
		if (A.L->procs[k].pid && proc_holds(k, i))
			n++;
	return n;
}

/* fork(): no thread of ours is inside a table operation, the table of
 * epoll sets or the pidfd table while the process is copied (a sleeping
 * one holds no lock; a thread in send/recv or epoll_wait holds only locks
 * that live in the shared region, which that thread releases in the
 * parent).  The child gets an entry of its own holding what its parent
 * held, names the same epoll sets, and its threads claim thread slots of
 * their own.  With MAX_PROCS entries in use it shares its parent's
 * (docs/apps.md). */
static void fork_prepare(void)
{
	pthread_mutex_lock(&A.lk);
	pthread_mutex_lock(&A.eplk);
	pthread_mutex_lock(&A.pidlk);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&A.pidlk);
	pthread_mutex_unlock(&A.eplk);
	pthread_mutex_unlock(&A.lk);
}

static pthread_key_t waiter_key;

static void fork_child(void)
{
	int i;

	pthread_mutex_init(&A.lk, NULL);
	pthread_mutex_init(&A.eplk, NULL);
	pthread_mutex_init(&A.pidlk, NULL);
	my_waiter = -1;
	pthread_setspecific(waiter_key, NULL); /* the parent's thread slot stays its */
	if (!A.L)
		return;
	sa_lock();
	for (i = 0; i < MAX_PROCS; i++)
		if (!A.L->procs[i].pid)
			break;
	if (i < MAX_PROCS) {
		memcpy(A.L->procs[i].held, A.L->procs[A.me].held, sizeof(A.L->procs[i].held));
		A.L->procs[i].pid = (int32_t)getpid();
		sa_epoll_fork(A.me, i);
		A.me = i;
	}
	sa_unlock();
}


/* Thread slot k is free again: its ring stays as it is (the worker
 * serves what it holds; the next owner appends after it). */
static void slot_release(int k, uint32_t tid)
{
	atomic_fetch_and((_Atomic uint64_t *)&A.hdr->q_owned, ~(1ull << k));
	A.L->waiter_pid[k] = 0;
	atomic_compare_exchange_strong((_Atomic uint32_t *)&A.L->waiter_tid[k], &tid, 0);
}

/* A thread that exits gives its thread slot back (pthread key destructor). */
static void waiter_release(void *arg)
{
	int k = (int)(intptr_t)arg - 1;

	if (A.L && k >= 0 && k < SKIFF_APP_MAX_WAITERS)
		slot_release(k, load_acq(&A.L->waiter_tid[k]));
}

static void lib_once(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
	pthread_key_create(&waiter_key, waiter_release);
}

static pthread_once_t lib_once_ctl = PTHREAD_ONCE_INIT;

/* The atfork handlers and the thread key, once per process. */
void sa_lib_once(void)
{
	pthread_once(&lib_once_ctl, lib_once);
}

/*
 * This thread's slot: its waiter and its request ring on each worker
 * (docs/apps.md), claimed on first use, given back at thread exit (key
 * destructor) or when its process is found dead (sa_reap_if(), or here: a
 * slot whose thread no longer exists is taken over).  -1 when all
 * SKIFF_APP_MAX_WAITERS are taken: the thread then posts on the shared
 * ring and looks again every OVERFLOW_WAIT_MS when it sleeps.
 * sa_my_waiter() is the slot without claiming one (-1: none yet).
 */
int sa_my_waiter(void)
{
	return my_waiter;
}

int sa_my_waiter_get(void)
{
	uint32_t tid, cur;
	int k, pass;

	if (my_waiter >= 0)
		return my_waiter;
	tid = (uint32_t)gettid(); /* a syscall: once per thread */
	for (pass = 0; pass < 2; pass++)
		for (k = 0; k < (int)A.n_waiters; k++) {
			cur = load_acq(&A.L->waiter_tid[k]);
			if (cur && (!pass || kill((pid_t)cur, 0) == 0 || errno != ESRCH))
				continue;
			if (atomic_compare_exchange_strong((_Atomic uint32_t *)&A.L->waiter_tid[k],
							   &cur, tid)) {
				A.L->waiter_pid[k] = (int32_t)getpid();
				atomic_fetch_or((_Atomic uint64_t *)&A.hdr->q_owned, 1ull << k);
				/* before the first post: the workers read ring k */
				atomic_fetch_or((_Atomic uint64_t *)&A.hdr->q_used, 1ull << k);
				my_waiter = k;
				pthread_setspecific(waiter_key, (void *)(intptr_t)(k + 1));
				return k;
			}
		}
	return -1;
}

/* Nested reaping (closing a dead process's listener sleeps) is not done. */
static __thread bool reaping;

/* Process k of the attach, pid, is gone (its pidfd said so): the sockets
 * only it held close as at its exit (RST where bytes were unread), and its
 * threads' slots are free.  Table lock held. */
void sa_reap_if(int k, int32_t pid)
{
	int i;

	if (A.L->procs[k].pid != pid || reaping)
		return;
	reaping = true;
	for (i = 0; i < SKIFF_APP_MAX_SOCKS; i++) {
		if (!proc_holds(k, i))
			continue;
		A.L->procs[k].held[i / 64] &= ~(1ull << (i % 64));
		if (A.L->s[i].kind != L_FREE && !sa_holders(i))
			sa_close_slot(i);
	}
	for (i = 0; i < SKIFF_APP_MAX_WAITERS; i++)
		if (A.L->waiter_pid[i] == pid)
			slot_release(i, load_acq(&A.L->waiter_tid[i]));
	sa_epoll_drop_proc(k);
	A.L->procs[k].pid = 0;
	reaping = false;
}

/* Put a pidfd of each other process of the attach into pfd (their exit
 * wakes a sleeper, which then closes what they held); which entry each
 * one watches, and its pid, go to who[] and pids[]; a process already gone
 * gets an entry with fd -1 (poll() skips it).  How many. */
int sa_watch_procs(struct pollfd *pfd, int *who, int32_t *pids)
{
	int k, n = 0;
	int32_t pid;

	if (reaping)
		return 0;
	pthread_mutex_lock(&A.pidlk);
	for (k = 0; k < MAX_PROCS; k++) {
		pid = A.L->procs[k].pid;
		if (k == A.me || !pid)
			continue;
		if (A.pidfd_pid[k] != pid || A.pidfd[k] < 0) {
			if (A.pidfd[k] >= 0)
				close(A.pidfd[k]);
			A.pidfd[k] = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
			A.pidfd_pid[k] = pid;
			if (A.pidfd[k] < 0 && errno != ESRCH)
				continue;
		}
		pfd[n] = (struct pollfd){.fd = A.pidfd[k], .events = POLLIN};
		who[n] = k;
		pids[n++] = pid;
	}
	pthread_mutex_unlock(&A.pidlk);
	return n;
}
