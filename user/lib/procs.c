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
	.ctl_fd = -1,
};

/* The waiter this thread sleeps on (-1: none claimed yet). */
static __thread int my_waiter = -1;

void sa_shared_init(struct lib_shared *L)
{
	pthread_mutexattr_t ma;

	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&L->lk, &ma);
	pthread_mutexattr_destroy(&ma);
}

/* Both locks: this process's, then (attached) the one of every process.
 * A process that died holding the shared one hands it over as it was: a
 * request it was posting is whole or absent (prod moves last). */
void sa_lock(void)
{
	pthread_mutex_lock(&A.lk);
	if (A.L && pthread_mutex_lock(&A.L->lk) == EOWNERDEAD)
		pthread_mutex_consistent(&A.L->lk);
}

void sa_unlock(void)
{
	if (A.L)
		pthread_mutex_unlock(&A.L->lk);
	pthread_mutex_unlock(&A.lk);
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

/* fork(): no thread of ours is inside the library while the process is
 * copied (a sleeping one holds no lock); the child gets an entry of its
 * own holding what its parent held, and claims its own waiters.  With
 * MAX_PROCS entries in use it shares its parent's (docs/apps.md). */
static void fork_prepare(void)
{
	pthread_mutex_lock(&A.lk);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&A.lk);
}

static void fork_child(void)
{
	int i;

	pthread_mutex_init(&A.lk, NULL);
	my_waiter = -1;
	if (!A.L)
		return;
	sa_lock();
	for (i = 0; i < MAX_PROCS; i++)
		if (!A.L->procs[i].pid)
			break;
	if (i < MAX_PROCS) {
		memcpy(A.L->procs[i].held, A.L->procs[A.me].held, sizeof(A.L->procs[i].held));
		A.L->procs[i].pid = (int32_t)getpid();
		A.me = i;
	}
	sa_unlock();
}

static pthread_key_t waiter_key;

/* A thread that exits gives its waiter back. */
static void waiter_release(void *arg)
{
	int k = (int)(intptr_t)arg - 1;

	if (A.L && k >= 0 && k < SKIFF_APP_MAX_WAITERS)
		atomic_store((_Atomic uint32_t *)&A.L->waiter_tid[k], 0);
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

/* This thread's waiter (claimed on first use; a thread of a process that
 * is gone gives its own up to a newcomer), or -1 when all are in use. */
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
				my_waiter = k;
				pthread_setspecific(waiter_key, (void *)(intptr_t)(k + 1));
				return k;
			}
		}
	return -1;
}
/* Process k of the attach is gone (its pidfd said so): the sockets only
 * it held close as at its exit (RST where bytes were unread). */
void sa_reap(int k)
{
	int i;

	A.reaping = true;
	for (i = 0; i < SKIFF_APP_MAX_SOCKS; i++) {
		if (!proc_holds(k, i))
			continue;
		A.L->procs[k].held[i / 64] &= ~(1ull << (i % 64));
		if (A.L->s[i].kind != L_FREE && !sa_holders(i))
			sa_close_slot(i);
	}
	A.L->procs[k].pid = 0;
	A.reaping = false;
}

/* Put a pidfd of each other process of the attach into pfd (their exit
 * wakes a sleeper, which then closes what they held); which entry each
 * one watches goes to who[].  How many. */
int sa_watch_procs(struct pollfd *pfd, int *who)
{
	int k, n = 0;
	int32_t pid;

	if (A.reaping)
		return 0;
	for (k = 0; k < MAX_PROCS; k++) {
		pid = A.L->procs[k].pid;
		if (k == A.me || !pid)
			continue;
		if (A.pidfd_pid[k] != pid || A.pidfd[k] < 0) {
			if (A.pidfd[k] >= 0)
				close(A.pidfd[k]);
			A.pidfd[k] = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
			A.pidfd_pid[k] = pid;
			if (A.pidfd[k] < 0) {
				if (errno == ESRCH)
					sa_reap(k); /* gone already */
				continue;
			}
		}
		pfd[n] = (struct pollfd){.fd = A.pidfd[k], .events = POLLIN};
		who[n++] = k;
	}
	return n;
}
