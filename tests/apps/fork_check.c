// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libskiffapp with several processes and threads on a live skiffd
 * (tests/integration/test_apps.py drives it from the kernel peer):
 *
 *	fork_check accept PORT
 *		listen, fork; parent and child accept on the one listener in
 *		turns (2 each), then both at once (1 each), then the child
 *		closes its copy and exits and the parent accepts once more.
 *		Each connection is answered "parent\n" or "child\n".
 *	fork_check threads PORT N shared|separate
 *		N threads wait in skiff_epoll_wait on one set (shared) or one
 *		set each (separate) holding the listener; each connection is
 *		accepted by whoever wins, echoed once and closed; exits after N.
 *	fork_check kill PORT
 *		listen, fork; the child accepts one connection and reads it
 *		slowly (prints "child PID" first); the parent then accepts
 *		connections and answers "parent\n" until stdin closes.
 *	fork_check churn PORT ROUNDS N
 *		ROUNDS times: N threads each accept one connection, answer
 *		"thread\n" and exit; once all are joined, "round R" is printed
 *		and a line is read from stdin before the next round (the test
 *		looks at skiffctl apps: their thread slots are back).
 *	fork_check epshare PORT
 *		an epoll set holding the listener, then fork: the parent
 *		deletes the listener from the set (prints "deleted"), and once
 *		a line comes on stdin the child finds the set empty although a
 *		connection waits; the parent adds the listener back (data 2)
 *		and the child's wait reports it, accepts and answers "child\n":
 *		one set, shared, as the kernel's epoll after fork().
 *	fork_check many PORT N
 *		N threads (more than the thread slots) each accept one
 *		connection and answer "thread\n", then wait for the others;
 *		"served" is printed, a line read from stdin, then they exit.
 *
 * Prints "listening" once the listener is up and "done" at the end;
 * "FAIL ..." and exit 1 on a failed call.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <skiff/skiff_socket.h>

#define EXPECT(cond, ...) \
	do { \
		if (!(cond)) { \
			printf("FAIL %d: line %d: %s: ", (int)getpid(), __LINE__, #cond); \
			printf(__VA_ARGS__); \
			printf(" (errno %s)\n", strerror(errno)); \
			fflush(stdout); \
			exit(1); \
		} \
	} while (0)

static int listener(int port, int flags)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = skiff_socket(AF_INET, SOCK_STREAM | flags, 0), one = 1;

	EXPECT(fd >= 0, "socket");
	EXPECT(!skiff_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), "reuse");
	EXPECT(!skiff_bind(fd, (struct sockaddr *)&sin, sizeof(sin)), "bind");
	EXPECT(!skiff_listen(fd, 64), "listen");
	printf("listening\n");
	fflush(stdout);
	return fd;
}

/* Accept one connection on lfd and answer who we are. */
static void answer_one(int lfd, const char *who)
{
	char line[16];
	int c = skiff_accept(lfd, NULL, NULL), n;

	EXPECT(c >= 0, "accept (%s)", who);
	n = snprintf(line, sizeof(line), "%s\n", who);
	EXPECT(skiff_send(c, line, (size_t)n, MSG_NOSIGNAL) == n, "send");
	EXPECT(!skiff_close(c), "close");
}

static void token_wait(int fd)
{
	char b;

	EXPECT(read(fd, &b, 1) == 1, "token");
}

static void token_pass(int fd)
{
	EXPECT(write(fd, "t", 1) == 1, "token");
}

static int mode_accept(int port)
{
	int lfd = listener(port, 0), p2c[2], c2p[2], status, r;
	pid_t pid;

	EXPECT(!pipe(p2c) && !pipe(c2p), "pipe");
	pid = fork();
	EXPECT(pid >= 0, "fork");
	if (!pid) {
		for (r = 0; r < 2; r++) {
			token_wait(p2c[0]);
			answer_one(lfd, "child");
			token_pass(c2p[1]);
		}
		token_wait(p2c[0]);
		answer_one(lfd, "child"); /* both accept at once */
		EXPECT(!skiff_close(lfd), "child close");
		_exit(0);
	}
	for (r = 0; r < 2; r++) {
		answer_one(lfd, "parent");
		token_pass(p2c[1]);
		token_wait(c2p[0]);
	}
	token_pass(p2c[1]);
	answer_one(lfd, "parent"); /* both accept at once */
	EXPECT(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !WEXITSTATUS(status),
	       "child status %#x", status);
	printf("child gone\n");
	fflush(stdout);
	answer_one(lfd, "parent"); /* the listener outlives the child's close */
	EXPECT(!skiff_close(lfd), "close");
	printf("done\n");
	return 0;
}

static struct {
	int lfd, n, ep;
	bool shared;
	atomic_int served;
} T;

static void *thread_main(void *arg)
{
	struct epoll_event ev = {.events = EPOLLIN};
	char buf[64];
	int ep = T.ep, c;
	ssize_t n;

	(void)arg;
	if (!T.shared) {
		ep = skiff_epoll_create1(0);
		EXPECT(ep >= 0 && !skiff_epoll_ctl(ep, EPOLL_CTL_ADD, T.lfd, &ev), "epoll");
	}
	for (;;) {
		n = skiff_epoll_wait(ep, &ev, 1, -1);
		EXPECT(n == 1 || (n < 0 && errno == EINTR), "epoll_wait %zd", n);
		c = skiff_accept4(T.lfd, NULL, NULL, 0);
		if (c < 0) {
			EXPECT(errno == EAGAIN, "accept");
			continue; /* another thread took it */
		}
		n = skiff_recv(c, buf, sizeof(buf), 0);
		EXPECT(n > 0, "recv %zd", n);
		EXPECT(skiff_send(c, buf, (size_t)n, MSG_NOSIGNAL) == n, "send");
		EXPECT(!skiff_close(c), "close");
		if (atomic_fetch_add(&T.served, 1) + 1 == T.n) {
			printf("done\n");
			fflush(stdout);
			exit(0);
		}
	}
	return NULL;
}

static int mode_threads(int port, int n, bool shared)
{
	struct epoll_event ev = {.events = EPOLLIN};
	pthread_t th;
	int k;

	T.lfd = listener(port, SOCK_NONBLOCK);
	T.n = n;
	T.shared = shared;
	T.ep = skiff_epoll_create1(0);
	EXPECT(T.ep >= 0 && !skiff_epoll_ctl(T.ep, EPOLL_CTL_ADD, T.lfd, &ev), "epoll");
	for (k = 0; k < n; k++)
		EXPECT(!pthread_create(&th, NULL, thread_main, NULL), "thread");
	pause();
	return 1;
}

static int mode_kill(int port)
{
	char buf[4096], line[64];
	int lfd = listener(port, 0), c;
	pid_t pid;

	pid = fork();
	EXPECT(pid >= 0, "fork");
	if (!pid) {
		c = skiff_accept(lfd, NULL, NULL);
		EXPECT(c >= 0, "child accept");
		printf("child %d\n", (int)getpid());
		fflush(stdout);
		for (;;) {
			EXPECT(skiff_recv(c, buf, sizeof(buf), 0) > 0, "child recv");
			usleep(1000); /* a slow reader: the peer's bytes pile up */
		}
	}
	/* the parent serves once the child is gone (the test kills it) */
	EXPECT(fgets(line, sizeof(line), stdin), "stdin");
	waitpid(pid, NULL, 0);
	for (;;) {
		answer_one(lfd, "parent");
		if (!fgets(line, sizeof(line), stdin))
			break;
	}
	printf("done\n");
	return 0;
}

static struct {
	int lfd;
	pthread_barrier_t served, leave;
} C;

static void *churn_main(void *arg)
{
	(void)arg;
	answer_one(C.lfd, "thread");
	return NULL;
}

static int mode_churn(int port, int rounds, int n)
{
	pthread_t th[64];
	char line[64];
	int r, k;

	EXPECT(n > 0 && n <= 64, "threads");
	C.lfd = listener(port, 0);
	for (r = 0; r < rounds; r++) {
		for (k = 0; k < n; k++)
			EXPECT(!pthread_create(&th[k], NULL, churn_main, NULL), "thread");
		for (k = 0; k < n; k++)
			EXPECT(!pthread_join(th[k], NULL), "join");
		printf("round %d\n", r);
		fflush(stdout);
		EXPECT(fgets(line, sizeof(line), stdin), "stdin");
	}
	printf("done\n");
	return 0;
}

static void *many_main(void *arg)
{
	(void)arg;
	answer_one(C.lfd, "thread");
	pthread_barrier_wait(&C.served);
	pthread_barrier_wait(&C.leave);
	return NULL;
}

static int mode_many(int port, int n)
{
	pthread_t th[64];
	char line[64];
	int k;

	EXPECT(n > 0 && n <= 64, "threads");
	C.lfd = listener(port, 0);
	pthread_barrier_init(&C.served, NULL, (unsigned int)n + 1);
	pthread_barrier_init(&C.leave, NULL, (unsigned int)n + 1);
	for (k = 0; k < n; k++)
		EXPECT(!pthread_create(&th[k], NULL, many_main, NULL), "thread");
	pthread_barrier_wait(&C.served);
	printf("served\n");
	fflush(stdout);
	EXPECT(fgets(line, sizeof(line), stdin), "stdin");
	pthread_barrier_wait(&C.leave);
	for (k = 0; k < n; k++)
		EXPECT(!pthread_join(th[k], NULL), "join");
	printf("done\n");
	return 0;
}

static int mode_epshare(int port)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 1};
	int lfd = listener(port, SOCK_NONBLOCK), ep, p2c[2], c2p[2], status, n, c;
	char line[64];
	pid_t pid;

	ep = skiff_epoll_create1(0);
	EXPECT(ep >= 0 && !skiff_epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev), "epoll");
	EXPECT(!pipe(p2c) && !pipe(c2p), "pipe");
	pid = fork();
	EXPECT(pid >= 0, "fork");
	if (!pid) {
		token_wait(p2c[0]);
		n = skiff_epoll_wait(ep, &ev, 1, 300);
		EXPECT(n == 0, "the parent's EPOLL_CTL_DEL is not the child's: %d", n);
		token_pass(c2p[1]);
		token_wait(p2c[0]);
		n = skiff_epoll_wait(ep, &ev, 1, 10000);
		EXPECT(n == 1 && ev.data.u64 == 2, "the parent's EPOLL_CTL_ADD: %d", n);
		c = skiff_accept(lfd, NULL, NULL);
		EXPECT(c >= 0, "child accept");
		EXPECT(skiff_send(c, "child\n", 6, MSG_NOSIGNAL) == 6, "send");
		EXPECT(!skiff_close(c), "close");
		_exit(0);
	}
	EXPECT(!skiff_epoll_ctl(ep, EPOLL_CTL_DEL, lfd, NULL), "del");
	printf("deleted\n");
	fflush(stdout);
	EXPECT(fgets(line, sizeof(line), stdin), "stdin");
	token_pass(p2c[1]);
	token_wait(c2p[0]);
	ev = (struct epoll_event){.events = EPOLLIN, .data.u64 = 2};
	EXPECT(!skiff_epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev), "add");
	token_pass(p2c[1]);
	EXPECT(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !WEXITSTATUS(status),
	       "child status %#x", status);
	printf("done\n");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "accept"))
		return mode_accept(atoi(argv[2]));
	if (argc == 5 && !strcmp(argv[1], "threads"))
		return mode_threads(atoi(argv[2]), atoi(argv[3]), !strcmp(argv[4], "shared"));
	if (argc == 3 && !strcmp(argv[1], "kill"))
		return mode_kill(atoi(argv[2]));
	if (argc == 5 && !strcmp(argv[1], "churn"))
		return mode_churn(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	if (argc == 3 && !strcmp(argv[1], "epshare"))
		return mode_epshare(atoi(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "many"))
		return mode_many(atoi(argv[2]), atoi(argv[3]));
	fprintf(stderr,
		"usage: %s accept PORT | threads PORT N shared|separate | kill PORT |"
		" churn PORT ROUNDS N | many PORT N | epshare PORT\n",
		argv[0]);
	return 2;
}
