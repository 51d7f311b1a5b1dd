// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A signal is never lost by a blocking call (docs/apps.md, "Signals").
 *
 * sig_check lib|nonote|posix PEER_IP ECHO_PORT ROUNDS
 *
 * The main thread connects to the kernel echo server (which sends nothing
 * unasked) and waits in recv, then epoll_wait, with no timeout, in turns,
 * as a server does: "while (!flag) wait();".  Another thread sends it
 * SIGUSR1 at random moments (0-300 us apart, ROUNDS times); the handler
 * sets the flag.  Every signal must end the wait within 2 s: a signal that
 * landed while the call was still in user space, before it slept, is
 * counted as missed (and sent again, so that the check ends).
 *
 *   lib     libskiffapp's calls; the handler calls skiff_signal_note()
 *   nonote  the same without skiff_signal_note() (prints the misses: the
 *           window the note closes; never fails)
 *   posix   the POSIX calls, run under skiff-run, whose wrapper notes the
 *           signal; first checks sigaction()'s round trip: what was set is
 *           what is read back (handler, SA_SIGINFO, flags), SIG_IGN and
 *           SIG_DFL pass, SA_SIGINFO handlers get their siginfo, errno
 *           survives, signal()/sysv_signal() return the old handler.
 *
 * Prints "ok <check>" per check and "all ok" at the end.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <skiff/skiff_socket.h>

#include "check.h"

static volatile sig_atomic_t flag;
static bool note, posix;
static _Atomic unsigned seen;
static _Atomic int si_code_seen = -1000, si_value_seen;
static pthread_t main_thread;
static unsigned rounds, missed;

static void on_usr1(int sig)
{
	flag = 1;
	if (note)
		skiff_signal_note(sig);
}

static void on_info(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	atomic_store(&si_value_seen, uc ? si->si_value.sival_int : -1);
	atomic_store(&si_code_seen, si->si_code);
	errno = 0; /* the wrapper must not hide what the handler does */
}

static void on_other(int sig)
{
	(void)sig;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void *signaller(void *arg)
{
	unsigned i, seed = 12345;
	uint64_t end;

	(void)arg;
	for (i = 0; i < rounds; i++) {
		struct timespec d = {0, (long)(rand_r(&seed) % 300) * 1000};

		nanosleep(&d, NULL);
		pthread_kill(main_thread, SIGUSR1);
		end = now_ns() + 2000000000u;
		while (atomic_load(&seen) <= i) {
			if (now_ns() > end) {
				missed++; /* the wait slept through it: wake it */
				pthread_kill(main_thread, SIGUSR1);
				end = now_ns() + 2000000000u;
			}
			usleep(20);
		}
	}
	return NULL;
}

static void sigaction_round_trip(void)
{
	struct sigaction sa, old;
	union sigval v = {.sival_int = 77};

	check = "sigaction_reads_back_what_the_program_set";
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_other;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sa.sa_flags = SA_RESTART | SA_NODEFER;
	EXPECT(!sigaction(SIGHUP, &sa, NULL), "set");
	EXPECT(!sigaction(SIGHUP, NULL, &old), "query");
	EXPECT(old.sa_handler == on_other, "handler %p", (void *)old.sa_handler);
	EXPECT(!(old.sa_flags & SA_SIGINFO), "no SA_SIGINFO: flags %#x", old.sa_flags);
	EXPECT((old.sa_flags & (SA_RESTART | SA_NODEFER)) == (SA_RESTART | SA_NODEFER),
	       "flags %#x", old.sa_flags);
	EXPECT(sigismember(&old.sa_mask, SIGUSR2) && !sigismember(&old.sa_mask, SIGINT), "mask");
	{
		/* the kernel's own: skiff-run's wrapper, not on_other */
		struct {
			void *handler;
			unsigned long flags;
			void *restorer;
			uint64_t mask;
		} k;

		EXPECT(!syscall(SYS_rt_sigaction, SIGHUP, NULL, &k, sizeof(k.mask)), "raw");
		EXPECT(k.handler != (void *)on_other && (k.flags & SA_SIGINFO),
		       "not wrapped: skiff-run not there?");
	}
	sa.sa_handler = SIG_IGN;
	EXPECT(!sigaction(SIGHUP, &sa, &old) && old.sa_handler == on_other, "old on replace");
	EXPECT(!sigaction(SIGHUP, NULL, &old) && old.sa_handler == SIG_IGN, "SIG_IGN");
	EXPECT(!raise(SIGHUP), "ignored");
	EXPECT(signal(SIGHUP, SIG_DFL) == SIG_IGN, "signal() gives the old one");
	EXPECT(!sigaction(SIGHUP, NULL, &old) && old.sa_handler == SIG_DFL, "SIG_DFL");
	ok();

	check = "sa_siginfo_handlers_get_their_siginfo_and_errno_is_theirs";
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_info;
	sa.sa_flags = SA_SIGINFO;
	EXPECT(!sigaction(SIGUSR2, &sa, NULL), "set");
	EXPECT(!sigaction(SIGUSR2, NULL, &old) && old.sa_sigaction == on_info &&
		       (old.sa_flags & SA_SIGINFO),
	       "read back");
	errno = EBADF;
	EXPECT(!sigqueue(getpid(), SIGUSR2, v), "sigqueue");
	EXPECT(atomic_load(&si_code_seen) == SI_QUEUE && atomic_load(&si_value_seen) == 77,
	       "code %d value %d", atomic_load(&si_code_seen), atomic_load(&si_value_seen));
	ok();

	check = "sa_resethand_and_sysv_signal_behave_as_libc";
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_other;
	sa.sa_flags = SA_RESETHAND;
	EXPECT(!sigaction(SIGURG, &sa, NULL), "set");
	EXPECT(!raise(SIGURG), "raise");
	EXPECT(!sigaction(SIGURG, NULL, &old) && old.sa_handler == SIG_DFL, "reset after one");
	EXPECT(sysv_signal(SIGURG, on_other) == SIG_DFL, "sysv_signal");
	EXPECT(!sigaction(SIGURG, NULL, &old) && old.sa_handler == on_other &&
		       (old.sa_flags & SA_RESETHAND) && (old.sa_flags & SA_NODEFER),
	       "sysv flags %#x", old.sa_flags);
	EXPECT(signal(SIGURG, SIG_DFL) == on_other, "back to SIG_DFL");
	ok();
}

static void wait_once(int fd, int ep)
{
	char buf[16];
	struct epoll_event ev;
	ssize_t n;
	int r;

	if (atomic_load(&seen) & 1) {
		n = posix ? recv(fd, buf, sizeof(buf), 0) : skiff_recv(fd, buf, sizeof(buf), 0);
		EXPECT(n < 0 && errno == EINTR, "recv %zd", n);
	} else {
		r = posix ? epoll_wait(ep, &ev, 1, -1) : skiff_epoll_wait(ep, &ev, 1, -1);
		EXPECT(r < 0 && errno == EINTR, "epoll_wait %d", r);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct epoll_event ev = {.events = EPOLLIN};
	struct sigaction sa;
	pthread_t t;
	int fd, ep;
	unsigned i;

	if (argc != 5) {
		fprintf(stderr, "usage: %s lib|nonote|posix PEER_IP ECHO_PORT ROUNDS\n", argv[0]);
		return 2;
	}
	note = !strcmp(argv[1], "lib");
	posix = !strcmp(argv[1], "posix");
	rounds = (unsigned)atoi(argv[4]);
	sin.sin_port = htons((uint16_t)atoi(argv[3]));
	inet_pton(AF_INET, argv[2], &sin.sin_addr);
	if (posix)
		sigaction_round_trip();

	check = "a_signal_at_any_moment_ends_a_wait_without_timeout";
	fd = posix ? socket(AF_INET, SOCK_STREAM, 0) : skiff_socket(AF_INET, SOCK_STREAM, 0);
	EXPECT(fd >= 0, "socket");
	EXPECT(!(posix ? connect(fd, (struct sockaddr *)&sin, sizeof(sin))
		       : skiff_connect(fd, (struct sockaddr *)&sin, sizeof(sin))),
	       "connect");
	ep = posix ? epoll_create1(0) : skiff_epoll_create1(0);
	EXPECT(ep >= 0 && !(posix ? epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)
				  : skiff_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)),
	       "epoll");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART; /* EINTR all the same (docs/apps.md) */
	EXPECT(!sigaction(SIGUSR1, &sa, NULL), "sigaction");
	main_thread = pthread_self();
	EXPECT(!pthread_create(&t, NULL, signaller, NULL), "thread");
	for (i = 0; i < rounds; i++) {
		while (!flag)
			wait_once(fd, ep);
		flag = 0;
		atomic_store(&seen, i + 1);
	}
	pthread_join(t, NULL);
	EXPECT(!(posix ? close(ep) : skiff_close(ep)) && !(posix ? close(fd) : skiff_close(fd)),
	       "close");
	printf("rounds %u missed %u\n", rounds, missed);
	if (strcmp(argv[1], "nonote"))
		EXPECT(!missed, "%u of %u signals slept through (2 s each)", missed, rounds);
	ok();
	printf("all ok\n");
	return 0;
}
