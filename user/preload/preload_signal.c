// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Signal handlers (docs/apps.md, "Signals"; docs/skiff-run.md): every
 * handler the program installs runs behind wrapper(), which tells
 * libskiffapp (skiff_signal_note) before calling it, so that a blocking
 * call on that thread returns EINTR even when the handler ran before the
 * call went to sleep.  The program sees exactly what it installed:
 * sigaction()'s oldact gives its handler and its SA_SIGINFO bit (the rest
 * — mask, flags, restorer — is the kernel's, as without skiff-run);
 * SIG_IGN and SIG_DFL go to the kernel as they are; SA_RESETHAND,
 * SA_NODEFER, SA_RESTART, SA_ONSTACK and the mask are kept.  Handlers
 * already there when the library is loaded are wrapped by the constructor.
 *
 * Not wrapped: the synchronous fault signals (a fault in a handler's way
 * never leaves a call asleep) and SIGKILL/SIGSTOP; handlers installed
 * with sigset() or a raw rt_sigaction syscall (glibc's sigset calls its
 * internal sigaction, which no preload sees).
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "skiff/skiff_socket.h"
#include "preload.h"

/* glibc's other names, which its headers do not declare */
int __sigaction(int sig, const struct sigaction *act, struct sigaction *oldact);
sighandler_t bsd_signal(int sig, sighandler_t h);
sighandler_t __sysv_signal(int sig, sighandler_t h);

typedef int sigaction_fn(int, const struct sigaction *, struct sigaction *);

/* The program's handler per signal, when wrapped; a seqlock (seq odd
 * while written), read by wrapper() on any thread. */
static struct {
	_Atomic unsigned seq;
	void *fn;
	bool siginfo;
} prog[_NSIG];

static atomic_flag lk = ATOMIC_FLAG_INIT;

static sigaction_fn *real_sigaction(void)
{
	static sigaction_fn *fn;

	if (!fn)
		fn = (sigaction_fn *)dlsym(RTLD_NEXT, "sigaction");
	return fn;
}

static bool wrappable(int sig)
{
	return sig > 0 && sig < _NSIG && sig != SIGKILL && sig != SIGSTOP && sig != SIGSEGV &&
	       sig != SIGBUS && sig != SIGILL && sig != SIGFPE && sig != SIGTRAP && sig != SIGSYS;
}

static void wrapper(int sig, siginfo_t *info, void *uc)
{
	unsigned s;
	void *fn;
	bool si;

	if (sig <= 0 || sig >= _NSIG)
		return;
	do {
		while ((s = atomic_load(&prog[sig].seq)) & 1)
			;
		fn = prog[sig].fn;
		si = prog[sig].siginfo;
		atomic_thread_fence(memory_order_acquire);
	} while (atomic_load(&prog[sig].seq) != s);
	skiff_signal_note(sig); /* keeps errno */
	if (si)
		((void (*)(int, siginfo_t *, void *))fn)(sig, info, uc);
	else if (fn != (void *)SIG_DFL && fn != (void *)SIG_IGN)
		((void (*)(int))fn)(sig);
}

static void prog_set(int sig, void *fn, bool siginfo)
{
	atomic_fetch_add(&prog[sig].seq, 1);
	atomic_thread_fence(memory_order_release);
	prog[sig].fn = fn;
	prog[sig].siginfo = siginfo;
	atomic_fetch_add(&prog[sig].seq, 1);
}

/* What the program installed, for the kernel's k: k itself unless it is
 * our wrapper. */
static void view_of(int sig, const struct sigaction *k, void *fn, bool siginfo,
		    struct sigaction *out)
{
	*out = *k;
	if (k->sa_sigaction != wrapper)
		return;
	out->sa_flags = (k->sa_flags & ~SA_SIGINFO) | (siginfo ? SA_SIGINFO : 0);
	if (siginfo)
		out->sa_sigaction = (void (*)(int, siginfo_t *, void *))fn;
	else
		out->sa_handler = (void (*)(int))fn;
	(void)sig;
}

/* Install act for sig behind the wrapper (or as it is for SIG_DFL and
 * SIG_IGN), under lk with every signal blocked on this thread (a handler
 * of another thread that calls sigaction waits; none of ours can run). */
static int wrap_install(int sig, const struct sigaction *act, struct sigaction *oldact)
{
	sigaction_fn *rs = real_sigaction();
	struct sigaction w, k;
	sigset_t all, old;
	void *ofn, *nfn = NULL;
	bool osi, nsi = false, wrap = false;
	int r, e;

	if (!rs) {
		errno = ENOSYS;
		return -1;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	while (atomic_flag_test_and_set_explicit(&lk, memory_order_acquire))
		;
	ofn = prog[sig].fn;
	osi = prog[sig].siginfo;
	if (act) {
		w = *act;
		nsi = act->sa_flags & SA_SIGINFO;
		nfn = nsi ? (void *)act->sa_sigaction : (void *)act->sa_handler;
		wrap = nfn != (void *)SIG_DFL && nfn != (void *)SIG_IGN;
		if (wrap) {
			prog_set(sig, nfn, nsi); /* before the kernel can call it */
			w.sa_sigaction = wrapper;
			w.sa_flags |= SA_SIGINFO;
		}
	}
	r = rs(sig, act ? &w : NULL, &k);
	e = errno;
	if (r < 0 && wrap)
		prog_set(sig, ofn, osi);
	if (!r && oldact)
		view_of(sig, &k, ofn, osi, oldact);
	atomic_flag_clear_explicit(&lk, memory_order_release);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return r;
}

PRELOAD_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *oldact)
{
	if (!wrappable(sig)) {
		sigaction_fn *rs = real_sigaction();

		if (!rs) {
			errno = ENOSYS;
			return -1;
		}
		return rs(sig, act, oldact);
	}
	return wrap_install(sig, act, oldact);
}

PRELOAD_EXPORT int __sigaction(int sig, const struct sigaction *act, struct sigaction *oldact)
{
	return sigaction(sig, act, oldact);
}

/* signal() as glibc's: BSD semantics (SA_RESTART, the signal blocked in
 * its handler) or System V's (SA_RESETHAND | SA_NODEFER). */
static sighandler_t set_handler(int sig, sighandler_t h, int flags, bool mask_self)
{
	struct sigaction a, old;

	if (h == SIG_ERR || sig <= 0 || sig >= _NSIG) {
		errno = EINVAL;
		return SIG_ERR;
	}
	memset(&a, 0, sizeof(a));
	a.sa_handler = h;
	sigemptyset(&a.sa_mask);
	if (mask_self)
		sigaddset(&a.sa_mask, sig);
	a.sa_flags = flags;
	if (sigaction(sig, &a, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}

PRELOAD_EXPORT sighandler_t signal(int sig, sighandler_t h)
{
	return set_handler(sig, h, SA_RESTART, true);
}

PRELOAD_EXPORT sighandler_t bsd_signal(int sig, sighandler_t h)
{
	return set_handler(sig, h, SA_RESTART, true);
}

PRELOAD_EXPORT sighandler_t ssignal(int sig, sighandler_t h)
{
	return set_handler(sig, h, SA_RESTART, true);
}

PRELOAD_EXPORT sighandler_t sysv_signal(int sig, sighandler_t h)
{
	return set_handler(sig, h, SA_RESETHAND | SA_NODEFER, false);
}

PRELOAD_EXPORT sighandler_t __sysv_signal(int sig, sighandler_t h)
{
	return set_handler(sig, h, SA_RESETHAND | SA_NODEFER, false);
}

/* Handlers installed before we were loaded (a preload library of the
 * program's, or a program whose constructors ran first). */
__attribute__((constructor)) static void wrap_existing(void)
{
	sigaction_fn *rs = real_sigaction();
	struct sigaction k;
	int sig;

	if (!rs)
		return;
	for (sig = 1; sig < _NSIG; sig++) {
		if (!wrappable(sig) || rs(sig, NULL, &k) < 0 || k.sa_sigaction == wrapper ||
		    k.sa_handler == SIG_DFL || k.sa_handler == SIG_IGN)
			continue;
		wrap_install(sig, &k, NULL);
	}
}
