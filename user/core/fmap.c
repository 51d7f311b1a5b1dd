// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * File mappings for the send queue, and the SIGBUS guard that keeps a
 * truncated file from killing the daemon (contract in fmap.h).
 *
 * The guard is one thread-local pointer: the mapping being read by this
 * thread.  The handler is installed when a mapping is opened; it touches only that pointer, the mapping's lost flag and mmap
 * (a plain system call), so it is safe in a signal handler.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fmap.h"

static __thread struct fmap *fmap_guarded;
static uintptr_t fmap_page_mask;

static void fmap_sigbus(int sig, siginfo_t *si, void *uctx)
{
	struct fmap *fm = fmap_guarded;
	uintptr_t a = (uintptr_t)si->si_addr;
	struct sigaction dfl;

	(void)uctx;
	if (fm && a >= (uintptr_t)fm->base && a - (uintptr_t)fm->base < fm->len) {
		/* a page past the file's new end: zeros instead, and the read
		 * that faulted is told by the lost flag */
		void *page = (void *)(a & fmap_page_mask);

		if (mmap(page, ~fmap_page_mask + 1, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			 -1, 0) != MAP_FAILED) {
			fm->lost = 1;
			return;
		}
	}
	/* not ours: the default action when the faulting access runs again */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(sig, &dfl, NULL);
}

/*
 * Make fmap_sigbus SIGBUS's handler unless it is already: checked at every
 * open (one system call per mapping), since something else may have put
 * its own handler in since (a test harness does, around each test).
 */
static int fmap_install(void)
{
	struct sigaction sa, old;
	long page = sysconf(_SC_PAGESIZE);

	if (!sigaction(SIGBUS, NULL, &old) && (old.sa_flags & SA_SIGINFO) &&
	    old.sa_sigaction == fmap_sigbus)
		return 0;
	__atomic_store_n(&fmap_page_mask, ~((uintptr_t)(page > 0 ? page : 4096) - 1),
			 __ATOMIC_RELAXED);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fmap_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGBUS, &sa, NULL) ? -1 : 0;
}

struct fmap *fmap_open(int fd, size_t len)
{
	struct fmap *fm;
	struct stat stb;
	void *base;

	if (fmap_install())
		return NULL;	/* errno from sigaction */
	if (!len || fstat(fd, &stb) || !S_ISREG(stb.st_mode) || (uint64_t)stb.st_size < len) {
		errno = EINVAL;
		return NULL;
	}
	fm = calloc(1, sizeof(*fm));
	if (!fm)
		return NULL;
	base = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		free(fm);
		return NULL;
	}
	/* read front to back once: ask for readahead */
	(void)madvise(base, len, MADV_SEQUENTIAL);
	fm->base = base;
	fm->len = len;
	fm->refs = 1;
	return fm;
}

void fmap_put(struct fmap *fm)
{
	if (!fm || --fm->refs)
		return;
	munmap((void *)fm->base, fm->len);
	free(fm);
}

void fmap_guard_begin(struct fmap *fm)
{
	fmap_guarded = fm;
	/* the handler must see the pointer before the read can fault */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

void fmap_guard_end(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	fmap_guarded = NULL;
}
