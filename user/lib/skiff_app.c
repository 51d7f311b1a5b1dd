// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libskiffapp (include/skiff/skiff_socket.h, docs/apps.md): the
 * application's side of the shared-memory protocol of
 * include/skiff/app_shm.h.
 *
 * The process attaches once over skiffd's control socket and receives its
 * region, its eventfd and one wake eventfd per worker.  A socket is a slot
 * of the region; the library keeps its own state of each slot (struct
 * lsock) and its private FIFO indices.  Data never needs a syscall: send()
 * copies into the tx FIFO and posts OP_TX only when the worker has not
 * been told yet (tx_kick), recv() copies out of the rx FIFO and posts
 * OP_RXREAD only when the worker found it full (rx_blocked).  An eventfd is
 * written only to wake a side that sleeps.
 *
 * Processes and threads.  The socket table, the request rings' producer
 * indices and the lock that guards them live in the region's library part
 * (struct lib_shared, which skiffd never reads), so a child made by fork()
 * shares its parent's sockets as with the kernel: a process-shared robust
 * mutex serialises every process of the attach (a process killed while
 * holding it leaves it to the next one, EOWNERDEAD), and a per-process
 * mutex in front of it serialises the threads of one process (and lets
 * fork() happen while no thread of the process is inside the library).
 * Each socket counts the processes holding it; the last close() closes it.
 * A thread that waits drops both locks and sleeps on its own eventfd (one
 * of the waiters skiffd passed at attach, claimed by thread id), so every
 * sleeping thread of every process is woken by itself.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "skiff/app_shm.h"
#include "skiff/skiff_socket.h"

#define SKIFF_EXPORT __attribute__((visibility("default")))
#define RUN_DIR "/run/skiff"
#define FIFO_MASK (SKIFF_APP_FIFO - 1)
#define RING_MASK (SKIFF_APP_RING - 1)
#define OVERFLOW_WAIT_MS 10 /* a thread without a waiter looks again this often */
#define TCP_EPHEMERAL_LO 32768 /* skiffd's TCP ephemeral range (transport/tcp.h) */
#define TCP_EPHEMERAL_HI 49151
#define LISTEN_PICK_TRIES 64
#define MAX_ATTACH_FDS (1 + SKIFF_APP_MAX_WORKERS + SKIFF_APP_MAX_WAITERS)
#define MAX_EPOLLS 64

/* L_UDP: a datagram socket bound on the workers of wmask */
enum lkind { L_FREE, L_NEW, L_LISTEN, L_CONN, L_CLOSING, L_UDP };

struct lsock {
	uint8_t kind; /* enum lkind */
	bool nonblock;
	bool cloexec;
	bool bound;
	bool rd_shut, wr_shut;
	bool err_told;	/* a reset was reported once; then EOF */
	bool dgram;	/* SOCK_DGRAM */
	bool connected; /* datagrams: a default peer */
	uint8_t wmask;	/* datagrams: the workers it is bound on */
	bool linger;	/* SO_LINGER l_onoff */
	int linger_s;	/* SO_LINGER l_linger: 0 with linger = RST at close */
	uint16_t flags; /* SKIFF_APP_F_* for LISTEN/CONNECT */
	uint32_t rcvbuf, sndbuf;
	uint32_t worker; /* CONN: the worker it lives on */
	uint32_t seq;	 /* last request sent (never reset) */
	uint32_t close_seq;
	uint32_t rx_tail; /* private: bytes taken from the rx FIFO */
	uint32_t tx_head; /* private: bytes put into the tx FIFO */
	uint32_t err_seen;  /* datagrams: the slot's err_seq last reported */
	uint32_t next_part; /* datagrams: the rx part recv() looks at first */
	uint32_t urx_tail[SKIFF_APP_MAX_WORKERS]; /* datagrams: per part */
	struct sockaddr_in local, peer;
};

#define MAX_PROCS 64 /* processes of one attach the library tells apart */

/* A process of the attach and the sockets it holds (fork() copies them). */
struct lib_proc {
	int32_t pid; /* 0: free */
	uint32_t pad;
	uint64_t held[SKIFF_APP_MAX_SOCKS / 64];
};

/* The library's part of the region (SKIFF_APP_LIB_SIZE bytes at lib_off),
 * shared by the processes of one attach. */
struct lib_shared {
	pthread_mutex_t lk; /* process-shared, robust */
	uint32_t next_worker; /* round robin of connect() and UDP binds */
	uint32_t prod[SKIFF_APP_MAX_WORKERS]; /* our copies of req.prod */
	uint32_t waiter_tid[SKIFF_APP_MAX_WAITERS]; /* thread using waiter k; 0: free */
	struct lib_proc procs[MAX_PROCS];
	struct lsock s[SKIFF_APP_MAX_SOCKS];
};

_Static_assert(sizeof(struct lib_shared) <= SKIFF_APP_LIB_SIZE, "the library part is too small");

struct epent {
	int fd;
	uint32_t events;
	epoll_data_t data;
	uint32_t last; /* EPOLLET: what was reported */
	uint32_t last_act; /* EPOLLET: activity() then */
	bool disabled; /* EPOLLONESHOT fired */
};

struct sep {
	int kfd; /* the kernel epoll: kernel fds; -1 free */
	int nk;	 /* kernel fds in it (0: no epoll_wait needed) */
	int n, cap;
	struct epent *e;
};

static struct {
	pthread_mutex_t lk; /* this process's threads; then L->lk */
	bool attached;
	int ctl_fd;
	int wake_fd[SKIFF_APP_MAX_WORKERS];
	int waiter_fd[SKIFF_APP_MAX_WAITERS];
	uint32_t n_workers, n_waiters;
	int me; /* our entry in L->procs */
	bool reaping;		 /* closing a dead process's sockets: no nested reaping */
	int pidfd[MAX_PROCS];	 /* of the other processes, opened when first waited on */
	int32_t pidfd_pid[MAX_PROCS];
	struct lib_shared *L;
	void *shm;
	size_t size;
	struct skiff_app_hdr *hdr;
	struct skiff_app_chan *chan;
	struct skiff_app_slot *slots;
	uint8_t *rx, *tx;
	struct sep ep[MAX_EPOLLS];
	char err[256];
} A = {
	.lk = PTHREAD_MUTEX_INITIALIZER,
	.ctl_fd = -1,
};

/* The waiter this thread sleeps on (-1: none claimed yet). */
static __thread int my_waiter = -1;

static inline uint32_t load_acq(const uint32_t *p)
{
	return atomic_load_explicit((_Atomic uint32_t *)p, memory_order_acquire);
}

static inline void store_rel(uint32_t *p, uint32_t v)
{
	atomic_store_explicit((_Atomic uint32_t *)p, v, memory_order_release);
}

static inline uint32_t xchg(uint32_t *p, uint32_t v)
{
	return atomic_exchange((_Atomic uint32_t *)p, v);
}

static int fail(int err)
{
	errno = err;
	return -1;
}

static void set_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void set_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(A.err, sizeof(A.err), fmt, ap);
	va_end(ap);
}

/* ---- locks, fork ---- */

static void lib_shared_init(struct lib_shared *L)
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
static void lib_lock(void)
{
	pthread_mutex_lock(&A.lk);
	if (A.L && pthread_mutex_lock(&A.L->lk) == EOWNERDEAD)
		pthread_mutex_consistent(&A.L->lk);
}

static void lib_unlock(void)
{
	if (A.L)
		pthread_mutex_unlock(&A.L->lk);
	pthread_mutex_unlock(&A.lk);
}

static bool proc_holds(int k, int i)
{
	return A.L->procs[k].held[i / 64] & (1ull << (i % 64));
}

static bool held(int i)
{
	return proc_holds(A.me, i);
}

static void set_held(int i, bool on)
{
	uint64_t *h = &A.L->procs[A.me].held[i / 64];

	if (on)
		*h |= 1ull << (i % 64);
	else
		*h &= ~(1ull << (i % 64));
}

/* How many processes of the attach hold socket i. */
static int holders(int i)
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
	lib_lock();
	for (i = 0; i < MAX_PROCS; i++)
		if (!A.L->procs[i].pid)
			break;
	if (i < MAX_PROCS) {
		memcpy(A.L->procs[i].held, A.L->procs[A.me].held, sizeof(A.L->procs[i].held));
		A.L->procs[i].pid = (int32_t)getpid();
		A.me = i;
	}
	lib_unlock();
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

/* This thread's waiter (claimed on first use; a thread of a process that
 * is gone gives its own up to a newcomer), or -1 when all are in use. */
static int my_waiter_get(void)
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

/* ---- attach ---- */

static int netns_id(uint64_t *id)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st) < 0)
		return -errno;
	*id = (uint64_t)st.st_ino;
	return 0;
}

/* Whether RUN_DIR/name is a daemon's socket, not a file left by a killed
 * one (refused), nor one of another namespace whose inode number ours
 * reused.  Not allowed to connect counts as live: the caller says why. */
static bool live_socket(const char *name)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd, ok;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", RUN_DIR, name);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true;
	ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 || errno == EACCES ||
	     errno == EPERM;
	close(fd);
	return ok;
}

/* The control socket of ifname, or of the only skiffd of this namespace. */
static int find_socket(const char *ifname, char *path, size_t len)
{
	char suffix[40], only[sizeof(((struct sockaddr_un *)0)->sun_path)] = "";
	struct dirent *de;
	uint64_t ns = 0;
	size_t sl, nl;
	int n = 0;
	DIR *d;

	if (netns_id(&ns)) {
		set_err("cannot read /proc/self/ns/net: %s", strerror(errno));
		return -errno;
	}
	if (ifname && *ifname) {
		if (strchr(ifname, '/') || strlen(ifname) >= 16) {
			set_err("bad interface name '%s'", ifname);
			return -EINVAL;
		}
		snprintf(path, len, "%s/%s.%" PRIu64 ".sock", RUN_DIR, ifname, ns);
		return 0;
	}
	snprintf(suffix, sizeof(suffix), ".%" PRIu64 ".sock", ns);
	sl = strlen(suffix);
	d = opendir(RUN_DIR);
	if (!d) {
		set_err("no skiffd is running (%s: %s)", RUN_DIR, strerror(errno));
		return -ENOENT;
	}
	while ((de = readdir(d))) {
		nl = strlen(de->d_name);
		if (nl > sl && !strcmp(de->d_name + nl - sl, suffix) &&
		    strlen(RUN_DIR) + 1 + nl < sizeof(only) && live_socket(de->d_name)) {
			snprintf(only, sizeof(only), "%s/%s", RUN_DIR, de->d_name);
			n++;
		}
	}
	closedir(d);
	if (n != 1) {
		set_err(n ? "%d skiffd daemons run in this network namespace: set SKIFF_IFACE"
			  : "no skiffd is running in this network namespace (%d sockets)",
			n);
		return n ? -EINVAL : -ENOENT;
	}
	snprintf(path, len, "%s", only);
	return 0;
}

/* Read the attach answer: one line and, on success, the fds. */
static int read_answer(int fd, char *line, size_t len, int *fds, int *nfds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * MAX_ATTACH_FDS)];
	struct iovec iov;
	struct msghdr mh;
	struct cmsghdr *cm;
	size_t got = 0;
	ssize_t n;

	*nfds = 0;
	while (got + 1 < len && !memchr(line, '\n', got)) {
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = line + got;
		iov.iov_len = len - 1 - got;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			int k = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int)), i;

			if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
				continue;
			for (i = 0; i < k; i++) {
				int f;

				memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				if (*nfds < MAX_ATTACH_FDS)
					fds[(*nfds)++] = f;
				else
					close(f);
			}
		}
		got += (size_t)n;
		line[got] = '\0';
	}
	line[got] = '\0';
	return got ? 0 : -ECONNRESET;
}

static int do_attach(const char *ifname)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 5};
	int fds[MAX_ATTACH_FDS], nfds = 0, fd, ret, i;
	unsigned int ver = 0, nw = 0, nwait = 0;
	unsigned long long size = 0;
	char line[512], *nl;
	void *shm;

	if (A.attached)
		return 0;
	pthread_once(&lib_once_ctl, lib_once);
	if (!ifname)
		ifname = getenv("SKIFF_IFACE");
	ret = find_socket(ifname, sun.sun_path, sizeof(sun.sun_path));
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		set_err("socket: %s", strerror(errno));
		return -errno;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		ret = -errno;
		if (ret == -EACCES || ret == -EPERM)
			set_err("permission denied: %s is for root and group skiff "
				"(docs/security.md)",
				sun.sun_path);
		else
			set_err("cannot reach skiffd at %s: %s", sun.sun_path, strerror(-ret));
		close(fd);
		return ret;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (write(fd, "attach\n", 7) != 7 || read_answer(fd, line, sizeof(line), fds, &nfds)) {
		set_err("skiffd at %s did not answer the attach request", sun.sun_path);
		ret = -ECONNRESET;
		goto fail;
	}
	nl = strchr(line, '\n');
	if (nl)
		*nl = '\0';
	if (strncmp(line, "ok attach ", 10) ||
	    sscanf(line, "ok attach %u workers %u size %llu waiters %u", &ver, &nw, &size,
		   &nwait) != 4 ||
	    ver != SKIFF_APP_VERSION || !nw || nw > SKIFF_APP_MAX_WORKERS || !nwait ||
	    nwait > SKIFF_APP_MAX_WAITERS || nfds != 1 + (int)nw + (int)nwait) {
		set_err("skiffd refused the attach: %s",
			strncmp(line, "error: ", 7) ? line : line + 7);
		ret = strstr(line, "permission denied") ? -EACCES : -EPROTO;
		goto fail;
	}
	shm = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	if (shm == MAP_FAILED) {
		ret = -errno;
		set_err("cannot map skiffd's shared memory: %s", strerror(-ret));
		goto fail;
	}
	A.hdr = shm;
	if (A.hdr->magic != SKIFF_APP_MAGIC || A.hdr->size != size || A.hdr->n_workers != nw) {
		munmap(shm, size);
		set_err("skiffd's shared memory has an unknown layout");
		ret = -EPROTO;
		goto fail;
	}
	close(fds[0]);
	A.shm = shm;
	A.size = size;
	A.chan = (struct skiff_app_chan *)((uint8_t *)shm + A.hdr->chan_off);
	A.slots = (struct skiff_app_slot *)((uint8_t *)shm + A.hdr->slot_off);
	A.rx = (uint8_t *)shm + A.hdr->rx_off;
	A.tx = (uint8_t *)shm + A.hdr->tx_off;
	A.n_workers = nw;
	/* [memfd, waiter 0, wake 0..nw-1, waiters 1..] */
	A.waiter_fd[0] = fds[1];
	for (i = 0; i < (int)nw; i++)
		A.wake_fd[i] = fds[2 + i];
	for (i = 1; i < (int)nwait; i++)
		A.waiter_fd[i] = fds[1 + (int)nw + i];
	A.n_waiters = nwait;
	A.ctl_fd = fd;
	/* a fresh region: we are its first process */
	A.L = (struct lib_shared *)((uint8_t *)shm + A.hdr->lib_off);
	lib_shared_init(A.L);
	A.me = 0;
	A.L->procs[0].pid = (int32_t)getpid();
	for (i = 0; i < MAX_PROCS; i++)
		A.pidfd[i] = -1;
	pthread_mutex_lock(&A.L->lk); /* the caller holds the lock from here */
	A.attached = true;
	return 0;
fail:
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	close(fd);
	return ret;
}

SKIFF_EXPORT int skiff_attach(const char *ifname)
{
	int ret;

	lib_lock();
	ret = do_attach(ifname);
	lib_unlock();
	return ret ? fail(-ret) : 0;
}

SKIFF_EXPORT const char *skiff_last_error(void)
{
	return A.err;
}

/* ---- requests and waiting (A.lk held) ---- */

static void kick_worker(uint32_t w)
{
	struct skiff_app_ring *r = &A.chan[w].req;
	uint64_t one = 1;

	atomic_thread_fence(memory_order_seq_cst);
	if (load_acq(&r->sleeping) && xchg(&r->sleeping, 0) &&
	    write(A.wake_fd[w], &one, sizeof(one)) < 0) {
		/* saturated: it is awake anyway */
	}
}

static void post(uint32_t w, const struct skiff_app_msg *m)
{
	struct skiff_app_ring *r = &A.chan[w].req;

	while (A.L->prod[w] - load_acq(&r->cons) >= SKIFF_APP_RING) {
		/* full: let the worker catch up */
		kick_worker(w);
		lib_unlock();
		sched_yield();
		lib_lock();
	}
	r->msg[A.L->prod[w] & RING_MASK] = *m;
	store_rel(&r->prod, ++A.L->prod[w]);
	kick_worker(w);
}

static int slot_of(int fd)
{
	int i = fd - SKIFF_FD_BASE;

	if (fd < SKIFF_FD_BASE || i >= SKIFF_APP_MAX_SOCKS || !A.attached || !held(i))
		return -1;
	if (A.L->s[i].kind == L_FREE || A.L->s[i].kind == L_CLOSING)
		return -1;
	return i;
}

/* The slot of connected socket fd (A.lk held), or -EBADF / -ENOTCONN. */
static int conn_slot(int fd)
{
	int i = slot_of(fd);

	if (i < 0)
		return -EBADF;
	return A.L->s[i].kind == L_CONN ? i : -ENOTCONN;
}

static int ms_left(const struct timespec *end)
{
	struct timespec now;
	int64_t ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (end->tv_sec - now.tv_sec) * 1000 + (end->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms > INT32_MAX ? INT32_MAX : (int)ms;
}

static void close_slot(int i);

/* Process k of the attach is gone (its pidfd said so): the sockets only
 * it held close as at its exit (RST where bytes were unread). */
static void reap(int k)
{
	int i;

	A.reaping = true;
	for (i = 0; i < SKIFF_APP_MAX_SOCKS; i++) {
		if (!proc_holds(k, i))
			continue;
		A.L->procs[k].held[i / 64] &= ~(1ull << (i % 64));
		if (A.L->s[i].kind != L_FREE && !holders(i))
			close_slot(i);
	}
	A.L->procs[k].pid = 0;
	A.reaping = false;
}

/* Put a pidfd of each other process of the attach into pfd (their exit
 * wakes a sleeper, which then closes what they held); which entry each
 * one watches goes to who[].  How many. */
static int watch_procs(struct pollfd *pfd, int *who)
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
					reap(k); /* gone already */
				continue;
			}
		}
		pfd[n] = (struct pollfd){.fd = A.pidfd[k], .events = POLLIN};
		who[n++] = k;
	}
	return n;
}

/*
 * Sleep until skiffd kicks us (or one of the kernel fds extra[0..nextra)
 * is ready, or the timeout passes), having re-checked cond with our
 * waiter's bit up in app_sleeping.  Both locks are held on entry and exit
 * and dropped while asleep.  Returns 1 when cond holds afterwards, 0 when
 * not, -EINTR when a signal handler ran while it slept.  A thread without
 * a waiter (more than SKIFF_APP_MAX_WAITERS asleep) looks again every
 * OVERFLOW_WAIT_MS.
 */
static int sleep_once(bool (*cond)(void *), void *arg, struct pollfd *extra, int nextra,
		      int timeout_ms)
{
	struct pollfd local[16 + MAX_PROCS], *pfd = local;
	int who[MAX_PROCS];
	uint32_t bit = 0;
	uint64_t v;
	int n = 0, np, r, err = 0, j, k = my_waiter_get();

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
	np = watch_procs(pfd + n, who);
	if (nextra)
		memcpy(pfd + n + np, extra, sizeof(*pfd) * (size_t)nextra);
	lib_unlock();
	r = poll(pfd, (nfds_t)(n + np + nextra), timeout_ms);
	if (r < 0 && errno == EINTR)
		err = -EINTR;
	if (k >= 0 && r > 0 && (pfd[0].revents & POLLIN) &&
	    read(A.waiter_fd[k], &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing to take */
	}
	lib_lock();
	if (bit)
		atomic_fetch_and((_Atomic uint32_t *)&A.hdr->app_sleeping, ~bit);
	for (j = 0; r > 0 && j < np; j++)
		if ((pfd[n + j].revents & POLLIN) && A.L->procs[who[j]].pid == A.pidfd_pid[who[j]])
			reap(who[j]); /* it exited (a zombie counts) */
	if (nextra)
		memcpy(extra, pfd + n + np, sizeof(*pfd) * (size_t)nextra);
	if (pfd != local)
		free(pfd);
	if (cond(arg))
		return 1;
	return err;
}

static void deadline_in(struct timespec *end, int timeout_ms)
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
static int wait_for(bool (*cond)(void *), void *arg, int timeout_ms, bool intr)
{
	struct timespec end;

	deadline_in(&end, timeout_ms);
	while (!cond(arg)) {
		if (timeout_ms >= 0 && !ms_left(&end))
			return -ETIMEDOUT;
		if (sleep_once(cond, arg, NULL, 0, timeout_ms < 0 ? -1 : ms_left(&end)) ==
			    -EINTR &&
		    intr)
			return -EINTR;
	}
	return 0;
}

struct reply_wait {
	struct skiff_app_slot *slot;
	uint32_t seq;
};

static bool replied(void *arg)
{
	struct reply_wait *rw = arg;

	/* at or past ours: another process may have asked on the same
	 * socket meanwhile (never hang on a reply overtaken) */
	return (int32_t)(load_acq(&rw->slot->rep_seq) - rw->seq) >= 0;
}

/* Send m to worker w and wait for the reply in slot m->slot. */
static int request(uint32_t w, struct skiff_app_msg *m)
{
	struct lsock *ls = &A.L->s[m->slot];
	struct reply_wait rw = {.slot = &A.slots[m->slot]};

	m->seq = rw.seq = ++ls->seq;
	post(w, m);
	if (wait_for(replied, &rw, 10000, false))
		return -ETIMEDOUT; /* skiffd stalled or gone */
	return rw.slot->rep_res;
}

/* ---- readiness ---- */

static uint32_t tx_space(int i)
{
	uint32_t used = A.L->s[i].tx_head - load_acq(&A.slots[i].tx.tail);

	return used > SKIFF_APP_FIFO ? 0 : SKIFF_APP_FIFO - used;
}

static bool any_accept(int i)
{
	uint32_t w;

	for (w = 0; w < A.n_workers; w++)
		if (load_acq(&A.slots[i].acceptq[w]))
			return true;
	return false;
}

/* Datagram sockets: the first part (from next_part on) with a record,
 * in *w; false when none. */
static bool dgram_next(int i, uint32_t *w)
{
	struct lsock *ls = &A.L->s[i];
	uint32_t k, p;

	for (k = 0; k < A.n_workers; k++) {
		p = (ls->next_part + k) % A.n_workers;
		if ((ls->wmask & (1u << p)) && load_acq(&A.slots[i].urx_head[p]) != ls->urx_tail[p]) {
			*w = p;
			return true;
		}
	}
	return false;
}

static uint32_t dgram_readiness(int i)
{
	struct lsock *ls = &A.L->s[i];
	uint32_t ev = 0, w;

	if (load_acq(&A.slots[i].state) == SKIFF_APP_S_CLOSED)
		return EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP; /* reset by skiffd */
	if (dgram_next(i, &w))
		ev |= EPOLLIN;
	if (ls->rd_shut)
		ev |= EPOLLIN | EPOLLRDHUP;
	if (load_acq(&A.slots[i].err_seq) != ls->err_seen)
		ev |= EPOLLERR;
	/* writable while the largest datagram fits, as Linux's half of sndbuf */
	if (!ls->wr_shut && tx_space(i) >= SKIFF_APP_DGRAM_REC(SKIFF_APP_DGRAM_MAX))
		ev |= EPOLLOUT;
	return ev;
}

/* The EPOLL* readiness of slot i now. */
static uint32_t readiness(int i)
{
	struct lsock *ls = &A.L->s[i];
	struct skiff_app_slot *s = &A.slots[i];
	uint32_t ev = 0, state;

	switch (ls->kind) {
	case L_NEW:
		return ls->dgram ? EPOLLOUT : EPOLLOUT | EPOLLHUP;
	case L_UDP:
		return dgram_readiness(i);
	case L_LISTEN:
		return any_accept(i) ? EPOLLIN : 0;
	case L_CONN:
		break;
	default:
		return 0;
	}
	state = load_acq(&s->state);
	if (state == SKIFF_APP_S_CONNECTING)
		return 0;
	if (load_acq(&s->rx.head) != ls->rx_tail)
		ev |= EPOLLIN;
	if (load_acq(&s->rx_eof) || ls->rd_shut)
		ev |= EPOLLIN | EPOLLRDHUP;
	if (state == SKIFF_APP_S_CLOSED)
		return ev | EPOLLIN | EPOLLOUT | EPOLLHUP |
		       (s->err && !ls->err_told ? EPOLLERR : 0);
	if (!ls->wr_shut && tx_space(i))
		ev |= EPOLLOUT;
	if ((ev & EPOLLRDHUP) && ls->wr_shut)
		ev |= EPOLLHUP;
	return ev;
}

/*
 * What moves when socket i has news while its readiness bits stay the
 * same: bytes or datagrams arriving (the worker's rx heads), tx room freed
 * (the worker's tx tail), a new datagram error.  EPOLLET reports those as
 * the kernel does (an event per arrival, not only per readiness change): a
 * socket drained and refilled between two waits is reported again.
 */
static uint32_t activity(int i)
{
	struct skiff_app_slot *s = &A.slots[i];
	uint32_t act = 0, w;

	switch (A.L->s[i].kind) {
	case L_CONN:
		return load_acq(&s->rx.head) + load_acq(&s->tx.tail) * 0x9e3779b1u;
	case L_UDP:
		for (w = 0; w < A.n_workers && w < SKIFF_APP_MAX_WORKERS; w++)
			act += load_acq(&s->urx_head[w]) * (2 * w + 1);
		return act + load_acq(&s->err_seq) * 0x9e3779b1u +
		       load_acq(&s->tx.tail) * 0x85ebca6bu;
	default:
		return 0;
	}
}

/* The events an epoll entry reports now, cur being its readiness; for
 * EPOLLET only what is new since the last report (bits that came up, or
 * activity()); *act gets the activity seen. */
static uint32_t et_news(const struct epent *e, uint32_t cur, uint32_t *act)
{
	*act = activity(e->fd - SKIFF_FD_BASE);
	if (!(e->events & EPOLLET))
		return cur;
	if (cur & ~e->last)
		return cur;
	return *act != e->last_act ? cur & (EPOLLIN | EPOLLOUT) : 0;
}

struct ready_wait {
	int i;
	uint32_t mask;
};

static bool ready(void *arg)
{
	struct ready_wait *rw = arg;

	return readiness(rw->i) & rw->mask;
}

/* Wait until slot i is ready for mask: 0 or -EINTR. */
static int wait_ready(int i, uint32_t mask)
{
	struct ready_wait rw = {.i = i, .mask = mask | EPOLLERR | EPOLLHUP};

	return wait_for(ready, &rw, -1, true);
}

/* ---- sockets ---- */

static int alloc_slot(void)
{
	int i;

	for (i = 0; i < SKIFF_APP_MAX_SOCKS; i++) {
		struct lsock *ls = &A.L->s[i];

		if (ls->kind == L_CLOSING && load_acq(&A.slots[i].closed_seq) == ls->close_seq)
			ls->kind = L_FREE;
		if (ls->kind == L_FREE) {
			uint32_t seq = ls->seq;

			memset(ls, 0, sizeof(*ls));
			ls->seq = seq;
			ls->kind = L_NEW;
			set_held(i, true);
			return i;
		}
	}
	return -1;
}

SKIFF_EXPORT int skiff_is_socket(int fd)
{
	int ret;

	lib_lock();
	ret = slot_of(fd) >= 0;
	lib_unlock();
	return ret;
}

SKIFF_EXPORT int skiff_socket(int domain, int type, int protocol)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), i, ret;

	if (domain != AF_INET)
		return fail(EAFNOSUPPORT);
	if (!(base == SOCK_STREAM && (!protocol || protocol == IPPROTO_TCP)) &&
	    !(base == SOCK_DGRAM && (!protocol || protocol == IPPROTO_UDP)))
		return fail(base == SOCK_STREAM || base == SOCK_DGRAM ? EPROTONOSUPPORT
								      : ESOCKTNOSUPPORT);
	lib_lock();
	ret = do_attach(NULL);
	if (ret) {
		lib_unlock();
		return fail(-ret);
	}
	i = alloc_slot();
	if (i >= 0) {
		A.L->s[i].nonblock = type & SOCK_NONBLOCK;
		A.L->s[i].cloexec = type & SOCK_CLOEXEC;
		A.L->s[i].dgram = base == SOCK_DGRAM;
	}
	lib_unlock();
	return i < 0 ? fail(EMFILE) : SKIFF_FD_BASE + i;
}

static int sin_of(const struct sockaddr *addr, socklen_t len, struct sockaddr_in *out)
{
	if (!addr)
		return -EFAULT;
	if (len < (socklen_t)sizeof(*out))
		return -EINVAL;
	memcpy(out, addr, sizeof(*out));
	if (out->sin_family != AF_INET)
		return -EAFNOSUPPORT;
	return 0;
}

static int udp_bind_on(int i, const struct sockaddr_in *sin);
static int udp_connect(int i, const struct sockaddr *addr, socklen_t len);

SKIFF_EXPORT int skiff_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_in sin;
	int i, ret;

	lib_lock();
	i = slot_of(fd);
	ret = i < 0 ? -EBADF : sin_of(addr, len, &sin);
	if (!ret && (A.L->s[i].kind != L_NEW || A.L->s[i].bound))
		ret = -EINVAL;
	if (!ret && A.L->s[i].dgram) {
		/* a datagram socket exists on its workers from bind() on:
		 * EADDRINUSE is reported here, as Linux */
		ret = udp_bind_on(i, &sin);
	} else if (!ret) {
		A.L->s[i].local = sin;
		A.L->s[i].bound = true;
	}
	lib_unlock();
	return ret ? fail(-ret) : 0;
}

static void fill_msg(struct skiff_app_msg *m, int i, uint16_t op)
{
	memset(m, 0, sizeof(*m));
	m->op = op;
	m->slot = (uint16_t)i;
	m->flags = A.L->s[i].flags;
	m->arg2 = A.L->s[i].rcvbuf;
	m->pad = (uint16_t)(A.L->s[i].sndbuf / 1024 > 0xffff ? 0xffff : A.L->s[i].sndbuf / 1024);
}

static bool closed_all(void *arg)
{
	struct reply_wait *rw = arg;

	return load_acq(&rw->slot->closed_seq) == rw->seq;
}

/* Close slot i on worker w and wait until it is (listeners). */
static void close_on(int i, uint32_t w)
{
	struct skiff_app_msg m;
	struct reply_wait rw = {.slot = &A.slots[i]};

	fill_msg(&m, i, SKIFF_APP_OP_CLOSE);
	m.seq = rw.seq = ++A.L->s[i].seq;
	post(w, &m);
	wait_for(closed_all, &rw, 10000, false);
}

SKIFF_EXPORT int skiff_listen(int fd, int backlog)
{
	unsigned int seed = (unsigned int)getpid() ^ (unsigned int)clock();
	int tries;
	uint16_t port;
	struct skiff_app_msg m;
	struct lsock *ls;
	uint32_t w, k;
	int i, ret = 0;

	lib_lock();
	i = slot_of(fd);
	if (i < 0) {
		ret = -EBADF;
		goto out;
	}
	ls = &A.L->s[i];
	if (ls->dgram) {
		ret = -EOPNOTSUPP;
		goto out;
	}
	if (ls->kind == L_LISTEN)
		goto out;
	if (ls->kind != L_NEW) {
		ret = -EINVAL;
		goto out;
	}
	if (!ls->bound) {
		/* as Linux: an unbound listener gets an ephemeral port */
		ls->local = (struct sockaddr_in){.sin_family = AF_INET};
		ls->bound = true;
	}
	if (backlog < 0)
		backlog = 0;
	/* port 0: one port for every worker, picked here at random from
	 * TCP's ephemeral range as Linux does, another one while in use */
	port = ls->local.sin_port;
	for (tries = 0; tries < LISTEN_PICK_TRIES; tries++) {
		if (!ls->local.sin_port)
			port = htons((uint16_t)(TCP_EPHEMERAL_LO +
						rand_r(&seed) % (TCP_EPHEMERAL_HI - TCP_EPHEMERAL_LO + 1)));
		for (w = 0; w < A.n_workers; w++) {
			fill_msg(&m, i, SKIFF_APP_OP_LISTEN);
			m.addr = ls->local.sin_addr.s_addr;
			m.port = port;
			m.arg = backlog;
			ret = request(w, &m);
			if (ret) {
				for (k = 0; k < w; k++)
					close_on(i, k);
				break;
			}
		}
		if (ret != -EADDRINUSE || ls->local.sin_port)
			break;
	}
	if (ret)
		goto out;
	ls->local.sin_port = port;
	ls->kind = L_LISTEN;
out:
	lib_unlock();
	return ret ? fail(-ret) : 0;
}

struct accept_wait {
	int i;
};

static bool accept_ready(void *arg)
{
	return any_accept(((struct accept_wait *)arg)->i);
}

SKIFF_EXPORT int skiff_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct accept_wait aw;
	struct skiff_app_msg m;
	struct sockaddr_in peer = {.sin_family = AF_INET};
	struct lsock *ns;
	uint32_t w, k;
	int i, n, ret = 0;

	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return fail(EINVAL);
	lib_lock();
	i = slot_of(fd);
	if (i < 0 || A.L->s[i].kind != L_LISTEN) {
		ret = i < 0 ? -EBADF : A.L->s[i].dgram ? -EOPNOTSUPP : -EINVAL;
		goto out;
	}
	aw.i = i;
	for (;;) {
		for (k = 0; k < A.n_workers; k++) {
			w = (A.L->next_worker + k) % A.n_workers;
			if (load_acq(&A.slots[i].acceptq[w]))
				break;
		}
		if (k == A.n_workers) {
			if (A.L->s[i].nonblock) {
				ret = -EAGAIN;
				goto out;
			}
			if (wait_for(accept_ready, &aw, -1, true) == -EINTR) {
				ret = -EINTR;
				goto out;
			}
			if (A.L->s[i].kind != L_LISTEN) {
				ret = -EBADF; /* closed by another thread */
				goto out;
			}
			continue;
		}
		A.L->next_worker = w + 1;
		n = alloc_slot();
		if (n < 0) {
			ret = -EMFILE;
			goto out;
		}
		fill_msg(&m, n, SKIFF_APP_OP_ACCEPT);
		m.arg = i;
		ret = request(w, &m);
		if (ret == -EAGAIN) {
			A.L->s[n].kind = L_FREE;
			set_held(n, false);
			continue; /* another one took it, or not complete */
		}
		if (ret) {
			A.L->s[n].kind = L_FREE;
			set_held(n, false);
			goto out;
		}
		break;
	}
	ns = &A.L->s[n];
	ns->kind = L_CONN;
	ns->worker = w;
	ns->nonblock = flags & SOCK_NONBLOCK;
	ns->cloexec = flags & SOCK_CLOEXEC;
	peer.sin_addr.s_addr = A.slots[n].rep_addr;
	peer.sin_port = A.slots[n].rep_port;
	ns->peer = peer;
	ns->local.sin_family = AF_INET;
	ns->local.sin_addr.s_addr = A.slots[n].rep_laddr;
	ns->local.sin_port = A.slots[n].rep_lport;
	ns->bound = true;
	if (addr && len) {
		memcpy(addr, &peer, *len < sizeof(peer) ? *len : sizeof(peer));
		*len = sizeof(peer);
	}
	ret = SKIFF_FD_BASE + n;
out:
	lib_unlock();
	return ret < 0 ? fail(-ret) : ret;
}

SKIFF_EXPORT int skiff_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return skiff_accept4(fd, addr, len, 0);
}

SKIFF_EXPORT int skiff_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct skiff_app_msg m;
	struct sockaddr_in sin;
	struct lsock *ls;
	uint32_t w;
	int i, ret;

	lib_lock();
	i = slot_of(fd);
	if (i >= 0 && A.L->s[i].dgram) {
		ret = udp_connect(i, addr, len);
		goto out;
	}
	ret = i < 0 ? -EBADF : sin_of(addr, len, &sin);
	if (ret)
		goto out;
	ls = &A.L->s[i];
	if (ls->kind == L_CONN) {
		ret = load_acq(&A.slots[i].state) == SKIFF_APP_S_CONNECTING ? -EALREADY : -EISCONN;
		goto out;
	}
	if (ls->kind != L_NEW) {
		ret = -EINVAL;
		goto out;
	}
	w = A.L->next_worker++ % A.n_workers;
	fill_msg(&m, i, SKIFF_APP_OP_CONNECT);
	m.addr = sin.sin_addr.s_addr;
	m.port = sin.sin_port;
	if (ls->bound) {
		m.laddr = ls->local.sin_addr.s_addr;
		m.lport = ls->local.sin_port;
	}
	ret = request(w, &m);
	if (ret != -EINPROGRESS)
		goto out;
	ls->kind = L_CONN;
	ls->worker = w;
	ls->peer = sin;
	ls->local.sin_family = AF_INET;
	ls->local.sin_addr.s_addr = A.slots[i].rep_addr;
	ls->local.sin_port = A.slots[i].rep_port;
	ls->bound = true;
	ls->rx_tail = ls->tx_head = 0;
	if (ls->nonblock)
		goto out; /* -EINPROGRESS */
	if (wait_ready(i, EPOLLOUT) == -EINTR) {
		ret = -EINTR; /* it goes on: later EALREADY, then EPOLLOUT */
		goto out;
	}
	if (load_acq(&A.slots[i].state) == SKIFF_APP_S_CLOSED) {
		ret = A.slots[i].err ? -A.slots[i].err : -ECONNREFUSED;
		ls->err_told = true;
	} else {
		ret = 0;
	}
out:
	lib_unlock();
	return ret ? fail(-ret) : 0;
}

/* EPIPE raises SIGPIPE unless MSG_NOSIGNAL, as Linux; called with no lock
 * held, so a handler may use the library. */
static ssize_t send_result(ssize_t ret, int flags)
{
	if (ret == -EPIPE && !(flags & MSG_NOSIGNAL))
		raise(SIGPIPE);
	return ret < 0 ? fail((int)-ret) : ret;
}

/* A connection's pending error, once (then EOF / EPIPE). */
static int conn_error(int i)
{
	struct lsock *ls = &A.L->s[i];
	int err = A.slots[i].err;

	if (ls->err_told || !err)
		return 0;
	ls->err_told = true;
	return -err;
}

/* ---- data: iovec cursors over FIFOs ---- */

struct iocur {
	const struct iovec *iov;
	int n, k;   /* iov[k] is the current one */
	size_t off; /* into iov[k] */
};

/* The total length of iov (0..SSIZE_MAX) or -EINVAL, as readv(2) checks. */
static ssize_t iov_total(const struct iovec *iov, int n)
{
	size_t sum = 0;
	int k;

	if (n < 0 || n > IOV_MAX || (n && !iov))
		return -EINVAL;
	for (k = 0; k < n; k++) {
		if (iov[k].iov_len > (size_t)SSIZE_MAX - sum)
			return -EINVAL;
		sum += iov[k].iov_len;
	}
	return (ssize_t)sum;
}

/* Copy len bytes between the cursor's buffers and the ring of mask + 1
 * bytes at base, from free-running position pos (to_fifo: iov -> ring). */
static void ring_copyv(uint8_t *base, uint32_t mask, uint32_t pos, struct iocur *c, size_t len,
		       bool to_fifo)
{
	size_t chunk;
	uint32_t off;

	while (len) {
		while (c->k < c->n && c->off == c->iov[c->k].iov_len) {
			c->k++;
			c->off = 0;
		}
		if (c->k == c->n)
			return;
		off = pos & mask;
		chunk = mask + 1 - off;
		if (chunk > len)
			chunk = len;
		if (chunk > c->iov[c->k].iov_len - c->off)
			chunk = c->iov[c->k].iov_len - c->off;
		if (to_fifo)
			memcpy(base + off, (uint8_t *)c->iov[c->k].iov_base + c->off, chunk);
		else
			memcpy((uint8_t *)c->iov[c->k].iov_base + c->off, base + off, chunk);
		c->off += chunk;
		pos += (uint32_t)chunk;
		len -= chunk;
	}
}

static void fifo_copy(uint8_t *base, uint32_t pos, struct iocur *c, size_t len, bool to_fifo)
{
	ring_copyv(base, FIFO_MASK, pos, c, len, to_fifo);
}

/* ring_copyv() for one plain buffer. */
static void ring_copy(uint8_t *base, uint32_t mask, uint32_t pos, void *buf, size_t len,
		      bool to_ring)
{
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct iocur c = {.iov = &iov, .n = 1};

	ring_copyv(base, mask, pos, &c, len, to_ring);
}

static bool nonblocking(int i, int flags)
{
	return A.L->s[i].nonblock || (flags & MSG_DONTWAIT);
}

/* send()/writev()/sendmsg() on connection fd (A.lk not held). */
static ssize_t stream_send(int fd, const struct iovec *iov, int iovcnt, int flags)
{
	struct iocur cur = {.iov = iov, .n = iovcnt};
	struct lsock *ls;
	struct skiff_app_msg m;
	uint32_t space, chunk, state;
	ssize_t ret, len;
	size_t sent = 0;
	int i;

	len = iov_total(iov, iovcnt);
	if (len < 0)
		return fail(EINVAL);
	if (flags & MSG_OOB)
		return fail(EOPNOTSUPP);
	lib_lock();
	i = conn_slot(fd);
	if (i < 0) {
		ret = i;
		goto out;
	}
	ls = &A.L->s[i];
	for (;;) {
		state = load_acq(&A.slots[i].state);
		if (state == SKIFF_APP_S_CLOSED || ls->wr_shut) {
			ret = state == SKIFF_APP_S_CLOSED ? conn_error(i) : 0;
			if (!ret)
				ret = -EPIPE;
			if (sent)
				ret = (ssize_t)sent;
			break;
		}
		space = state == SKIFF_APP_S_CONNECTED ? tx_space(i) : 0;
		if (!space && (sent || !len)) {
			ret = (ssize_t)sent;
			if (nonblocking(i, flags) || !len)
				break;
		}
		if (!space) {
			if (nonblocking(i, flags)) {
				ret = -EAGAIN;
				break;
			}
			if (wait_ready(i, EPOLLOUT) == -EINTR) {
				ret = sent ? (ssize_t)sent : -EINTR;
				break;
			}
			continue;
		}
		chunk = (size_t)len - sent < space ? (uint32_t)((size_t)len - sent) : space;
		fifo_copy(A.tx + (size_t)i * SKIFF_APP_FIFO, ls->tx_head, &cur, chunk, true);
		ls->tx_head += chunk;
		sent += chunk;
		store_rel(&A.slots[i].tx.head, ls->tx_head);
		atomic_thread_fence(memory_order_seq_cst);
		if (chunk && !xchg(&A.slots[i].tx_kick, 1)) {
			fill_msg(&m, i, SKIFF_APP_OP_TX);
			post(ls->worker, &m);
		}
		if (sent == (size_t)len) {
			ret = (ssize_t)sent;
			break;
		}
	}
out:
	lib_unlock();
	return send_result(ret, flags);
}

/* recv()/readv()/recvmsg() on connection fd (A.lk not held); *mflags
 * gets the recvmsg msg_flags. */
static ssize_t stream_recv(int fd, const struct iovec *iov, int iovcnt, int flags, int *mflags)
{
	struct iocur cur = {.iov = iov, .n = iovcnt};
	struct skiff_app_msg m;
	struct lsock *ls;
	uint32_t head, avail, chunk, tail;
	ssize_t ret, len;
	size_t got = 0;
	int i;

	*mflags = 0;
	len = iov_total(iov, iovcnt);
	if (len < 0)
		return fail(EINVAL);
	if (flags & ~(MSG_DONTWAIT | MSG_PEEK | MSG_WAITALL | MSG_NOSIGNAL | MSG_TRUNC |
		      MSG_CMSG_CLOEXEC))
		return fail(EOPNOTSUPP);
	lib_lock();
	i = conn_slot(fd);
	if (i < 0) {
		ret = i;
		goto out;
	}
	ls = &A.L->s[i];
	for (;;) {
		head = load_acq(&A.slots[i].rx.head);
		avail = head - ls->rx_tail;
		if (avail > SKIFF_APP_FIFO)
			avail = 0; /* cannot happen with a sane skiffd */
		tail = ls->rx_tail;
		/* MSG_PEEK looks from the start each time */
		if (flags & MSG_PEEK) {
			cur = (struct iocur){.iov = iov, .n = iovcnt};
			got = 0;
		}
		chunk = (size_t)len - got < avail ? (uint32_t)((size_t)len - got) : avail;
		fifo_copy(A.rx + (size_t)i * SKIFF_APP_FIFO, tail, &cur, chunk, false);
		tail += chunk;
		got += chunk;
		if (!(flags & MSG_PEEK) && tail != ls->rx_tail) {
			ls->rx_tail = tail;
			store_rel(&A.slots[i].rx.tail, tail);
			atomic_thread_fence(memory_order_seq_cst);
			if (load_acq(&A.slots[i].rx_blocked) && xchg(&A.slots[i].rx_blocked, 0)) {
				fill_msg(&m, i, SKIFF_APP_OP_RXREAD);
				post(ls->worker, &m);
			}
		}
		if (got == (size_t)len || !len || (got && !(flags & MSG_WAITALL)) ||
		    (flags & MSG_PEEK && got)) {
			ret = (ssize_t)got;
			break;
		}
		if (load_acq(&A.slots[i].state) == SKIFF_APP_S_CLOSED &&
		    load_acq(&A.slots[i].rx.head) == ls->rx_tail) {
			ret = got ? (ssize_t)got : conn_error(i);
			break;
		}
		if ((load_acq(&A.slots[i].rx_eof) || ls->rd_shut) &&
		    load_acq(&A.slots[i].rx.head) == ls->rx_tail) {
			ret = (ssize_t)got;
			break;
		}
		if (load_acq(&A.slots[i].rx.head) != ls->rx_tail)
			continue;
		if (nonblocking(i, flags)) {
			ret = got ? (ssize_t)got : -EAGAIN;
			break;
		}
		if (wait_ready(i, EPOLLIN) == -EINTR) {
			ret = got ? (ssize_t)got : -EINTR;
			break;
		}
	}
out:
	lib_unlock();
	return ret < 0 ? fail((int)-ret) : ret;
}

/* ---- datagram sockets ---- */

/* Bind datagram socket i (A.lk held): on every worker for a fixed port (a
 * datagram for it may arrive on any queue), on one for port 0 (its
 * ephemeral port is one that worker owns: replies reaching another queue
 * are handed to it, core/handoff.h).  0 or -errno. */
static int udp_bind_on(int i, const struct sockaddr_in *sin)
{
	struct lsock *ls = &A.L->s[i];
	struct skiff_app_msg m;
	uint32_t w, k, mask, home;
	int ret;

	home = A.L->next_worker++ % A.n_workers;
	mask = sin->sin_port ? (1u << A.n_workers) - 1 : 1u << home;
	for (w = 0; w < A.n_workers; w++) {
		if (!(mask & (1u << w)))
			continue;
		fill_msg(&m, i, SKIFF_APP_OP_UDP_BIND);
		m.addr = sin->sin_addr.s_addr;
		m.port = sin->sin_port;
		m.arg = w == home; /* one worker sends: one consumer of the tx FIFO */
		ret = request(w, &m);
		if (ret) {
			for (k = 0; k < w; k++)
				if (mask & (1u << k))
					close_on(i, k);
			return ret;
		}
		ls->local.sin_family = AF_INET;
		ls->local.sin_addr.s_addr = A.slots[i].rep_addr;
		ls->local.sin_port = A.slots[i].rep_port;
	}
	ls->kind = L_UDP;
	ls->wmask = (uint8_t)mask;
	ls->worker = home;
	ls->bound = true;
	ls->tx_head = 0;
	ls->next_part = 0;
	memset(ls->urx_tail, 0, sizeof(ls->urx_tail));
	ls->err_seen = load_acq(&A.slots[i].err_seq);
	return 0;
}

/* Ask every worker of datagram socket i (A.lk held) to do m; the first
 * error. */
static int udp_request_all(int i, struct skiff_app_msg *m)
{
	uint32_t w;
	int ret, first = 0;

	for (w = 0; w < A.n_workers; w++) {
		if (!(A.L->s[i].wmask & (1u << w)))
			continue;
		ret = request(w, m);
		if (ret && !first)
			first = ret;
	}
	return first;
}

static int udp_connect(int i, const struct sockaddr *addr, socklen_t len)
{
	static const struct sockaddr_in any = {.sin_family = AF_INET};
	struct lsock *ls = &A.L->s[i];
	struct skiff_app_msg m;
	struct sockaddr_in sin = {0};
	sa_family_t fam;
	int ret;

	if (!addr || len < (socklen_t)sizeof(fam))
		return addr ? -EINVAL : -EFAULT;
	memcpy(&fam, addr, sizeof(fam));
	if (fam == AF_UNSPEC) {
		/* dissolve the association, as connect(2) says for datagrams */
		ls->connected = false;
		if (ls->kind != L_UDP)
			return 0;
		fill_msg(&m, i, SKIFF_APP_OP_UDP_CONNECT);
		return udp_request_all(i, &m);
	}
	ret = sin_of(addr, len, &sin);
	if (ret)
		return ret;
	if (ls->kind == L_NEW) {
		ret = udp_bind_on(i, ls->bound ? &ls->local : &any);
		if (ret)
			return ret;
	}
	fill_msg(&m, i, SKIFF_APP_OP_UDP_CONNECT);
	m.addr = sin.sin_addr.s_addr;
	m.port = sin.sin_port;
	ret = udp_request_all(i, &m);
	if (ret)
		return ret;
	ls->peer = sin;
	ls->connected = true;
	return 0;
}

struct space_wait {
	int i;
	uint32_t need;
};

static bool space_ready(void *arg)
{
	struct space_wait *sw = arg;

	return tx_space(sw->i) >= sw->need ||
	       load_acq(&A.slots[sw->i].state) == SKIFF_APP_S_CLOSED;
}

static ssize_t dgram_send(int fd, const struct iovec *iov, int iovcnt, int flags,
			  const struct sockaddr *to, socklen_t tolen)
{
	static const struct sockaddr_in any = {.sin_family = AF_INET};
	struct iocur cur = {.iov = iov, .n = iovcnt};
	struct sockaddr_in sin = {0};
	struct skiff_app_dgram d = {0};
	struct skiff_app_msg m;
	struct space_wait sw;
	struct lsock *ls;
	ssize_t len, ret;
	int i;

	len = iov_total(iov, iovcnt);
	if (len < 0)
		return fail(EINVAL);
	if (len > (ssize_t)SKIFF_APP_DGRAM_MAX)
		return fail(EMSGSIZE);
	if (flags & MSG_OOB)
		return fail(EOPNOTSUPP);
	if (to) {
		ret = sin_of(to, tolen, &sin);
		if (ret)
			return fail((int)-ret);
		if (!sin.sin_port)
			return fail(EINVAL);
	}
	lib_lock();
	i = slot_of(fd);
	if (i < 0) {
		ret = -EBADF;
		goto out;
	}
	ls = &A.L->s[i];
	if (ls->wr_shut) {
		ret = -EPIPE;
		goto out;
	}
	if (!to && !ls->connected) {
		ret = -EDESTADDRREQ;
		goto out;
	}
	if (ls->kind == L_NEW) {
		ret = udp_bind_on(i, ls->bound ? &ls->local : &any);
		if (ret)
			goto out;
	}
	sw.i = i;
	sw.need = SKIFF_APP_DGRAM_REC(len);
	while (!space_ready(&sw)) {
		if (nonblocking(i, flags)) {
			ret = -EAGAIN;
			goto out;
		}
		if (wait_for(space_ready, &sw, -1, true) == -EINTR) {
			ret = -EINTR;
			goto out;
		}
	}
	if (load_acq(&A.slots[i].state) == SKIFF_APP_S_CLOSED) {
		ret = -EPROTO; /* skiffd reset it */
		goto out;
	}
	d.len = (uint32_t)len;
	if (to) {
		d.addr = sin.sin_addr.s_addr;
		d.port = sin.sin_port;
	}
	ring_copy(A.tx + (size_t)i * SKIFF_APP_FIFO, FIFO_MASK, ls->tx_head, &d, sizeof(d), true);
	fifo_copy(A.tx + (size_t)i * SKIFF_APP_FIFO, ls->tx_head + (uint32_t)sizeof(d), &cur,
		  (size_t)len, true);
	ls->tx_head += sw.need;
	store_rel(&A.slots[i].tx.head, ls->tx_head);
	atomic_thread_fence(memory_order_seq_cst);
	if (!xchg(&A.slots[i].tx_kick, 1)) {
		fill_msg(&m, i, SKIFF_APP_OP_TX);
		post(ls->worker, &m);
	}
	ret = len;
out:
	lib_unlock();
	return send_result(ret, flags);
}

/* The next datagram's header, from part w of slot i (A.lk held); false
 * when its length does not fit the part (cannot happen with a sane
 * skiffd: the part is then dropped whole). */
static bool dgram_peek(int i, uint32_t w, struct skiff_app_dgram *d)
{
	uint32_t part = skiff_app_dgram_part(A.n_workers);
	uint8_t *base = A.rx + (size_t)i * SKIFF_APP_FIFO + (size_t)w * part;
	uint32_t used = load_acq(&A.slots[i].urx_head[w]) - A.L->s[i].urx_tail[w];

	ring_copy(base, part - 1, A.L->s[i].urx_tail[w], d, sizeof(*d), false);
	if (used > part || d->len > SKIFF_APP_DGRAM_MAX || SKIFF_APP_DGRAM_REC(d->len) > used) {
		A.L->s[i].urx_tail[w] = load_acq(&A.slots[i].urx_head[w]);
		store_rel(&A.slots[i].urx_tail[w], A.L->s[i].urx_tail[w]);
		return false;
	}
	return true;
}

static ssize_t dgram_recv(int fd, const struct iovec *iov, int iovcnt, int flags,
			  struct sockaddr *from, socklen_t *fromlen, int *mflags)
{
	struct iocur cur = {.iov = iov, .n = iovcnt};
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct skiff_app_dgram d;
	struct skiff_app_msg m;
	struct lsock *ls;
	uint32_t w, part, bit, seq;
	ssize_t len, ret;
	size_t n;
	int i;

	*mflags = 0;
	len = iov_total(iov, iovcnt);
	if (len < 0)
		return fail(EINVAL);
	if (flags & ~(MSG_DONTWAIT | MSG_PEEK | MSG_WAITALL | MSG_NOSIGNAL | MSG_TRUNC |
		      MSG_CMSG_CLOEXEC))
		return fail(EOPNOTSUPP);
	part = skiff_app_dgram_part(A.n_workers ? A.n_workers : 1);
	lib_lock();
	i = slot_of(fd);
	if (i < 0) {
		ret = -EBADF;
		goto out;
	}
	ls = &A.L->s[i];
	for (;;) {
		seq = ls->kind == L_UDP ? load_acq(&A.slots[i].err_seq) : ls->err_seen;
		if (seq != ls->err_seen) {
			/* a pending error is reported once, before data */
			ls->err_seen = seq;
			ret = A.slots[i].err > 0 ? -A.slots[i].err : -EIO;
			break;
		}
		if (ls->kind == L_UDP && load_acq(&A.slots[i].state) == SKIFF_APP_S_CLOSED) {
			ret = -EPROTO;
			break;
		}
		if (ls->kind == L_UDP && dgram_next(i, &w)) {
			if (!dgram_peek(i, w, &d))
				continue;
			n = d.len < (size_t)len ? d.len : (size_t)len;
			ring_copyv(A.rx + (size_t)i * SKIFF_APP_FIFO + (size_t)w * part, part - 1,
				   ls->urx_tail[w] + (uint32_t)sizeof(d), &cur, n, false);
			if (n < d.len)
				*mflags |= MSG_TRUNC;
			sin.sin_addr.s_addr = d.addr;
			sin.sin_port = d.port;
			if (from && fromlen) {
				memcpy(from, &sin, *fromlen < sizeof(sin) ? *fromlen : sizeof(sin));
				*fromlen = sizeof(sin);
			}
			ret = (flags & MSG_TRUNC) ? (ssize_t)d.len : (ssize_t)n;
			if (flags & MSG_PEEK)
				break;
			ls->urx_tail[w] += SKIFF_APP_DGRAM_REC(d.len);
			ls->next_part = w + 1;
			store_rel(&A.slots[i].urx_tail[w], ls->urx_tail[w]);
			atomic_thread_fence(memory_order_seq_cst);
			bit = 1u << w;
			if ((load_acq(&A.slots[i].urx_blocked) & bit) &&
			    (atomic_fetch_and((_Atomic uint32_t *)&A.slots[i].urx_blocked, ~bit) &
			     bit)) {
				fill_msg(&m, i, SKIFF_APP_OP_RXREAD);
				post(w, &m);
			}
			break;
		}
		if (ls->rd_shut) {
			ret = 0;
			break;
		}
		if (nonblocking(i, flags)) {
			ret = -EAGAIN;
			break;
		}
		if (wait_ready(i, EPOLLIN) == -EINTR) {
			ret = -EINTR;
			break;
		}
	}
out:
	lib_unlock();
	return ret < 0 ? fail((int)-ret) : ret;
}

static bool is_dgram(int fd)
{
	int i;
	bool ret;

	lib_lock();
	i = slot_of(fd);
	ret = i >= 0 && A.L->s[i].dgram;
	lib_unlock();
	return ret;
}

/* Every send: to (tolen bytes) is the destination (NULL: the connected
 * peer); a stream socket ignores it, as Linux's TCP does. */
static ssize_t sock_send(int fd, const struct iovec *iov, int iovcnt, int flags,
			 const struct sockaddr *to, socklen_t tolen)
{
	if (is_dgram(fd))
		return dgram_send(fd, iov, iovcnt, flags, to, tolen);
	return stream_send(fd, iov, iovcnt, flags);
}

/* Every receive: from/fromlen as recvfrom(2) (a stream socket gives no
 * address: *fromlen = 0, as Linux's TCP). */
static ssize_t sock_recv(int fd, const struct iovec *iov, int iovcnt, int flags,
			 struct sockaddr *from, socklen_t *fromlen, int *mflags)
{
	if (is_dgram(fd))
		return dgram_recv(fd, iov, iovcnt, flags, from, fromlen, mflags);
	if (fromlen)
		*fromlen = 0;
	return stream_recv(fd, iov, iovcnt, flags, mflags);
}

SKIFF_EXPORT ssize_t skiff_send(int fd, const void *buf, size_t len, int flags)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};

	if (fd < SKIFF_FD_BASE)
		return send(fd, buf, len, flags);
	if (len && !buf)
		return fail(EFAULT);
	return sock_send(fd, &iov, 1, flags, NULL, 0);
}

SKIFF_EXPORT ssize_t skiff_recv(int fd, void *buf, size_t len, int flags)
{
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	int mflags;

	if (fd < SKIFF_FD_BASE)
		return recv(fd, buf, len, flags);
	if (len && !buf)
		return fail(EFAULT);
	return sock_recv(fd, &iov, 1, flags, NULL, NULL, &mflags);
}

SKIFF_EXPORT ssize_t skiff_sendto(int fd, const void *buf, size_t len, int flags,
				  const struct sockaddr *to, socklen_t tolen)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};

	if (fd < SKIFF_FD_BASE)
		return sendto(fd, buf, len, flags, to, tolen);
	if (len && !buf)
		return fail(EFAULT);
	return sock_send(fd, &iov, 1, flags, to, tolen);
}

SKIFF_EXPORT ssize_t skiff_recvfrom(int fd, void *buf, size_t len, int flags,
				    struct sockaddr *from, socklen_t *fromlen)
{
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	int mflags;

	if (fd < SKIFF_FD_BASE)
		return recvfrom(fd, buf, len, flags, from, fromlen);
	if (len && !buf)
		return fail(EFAULT);
	return sock_recv(fd, &iov, 1, flags, from, fromlen, &mflags);
}

SKIFF_EXPORT ssize_t skiff_write(int fd, const void *buf, size_t len)
{
	if (fd < SKIFF_FD_BASE)
		return write(fd, buf, len);
	return skiff_send(fd, buf, len, 0);
}

SKIFF_EXPORT ssize_t skiff_read(int fd, void *buf, size_t len)
{
	if (fd < SKIFF_FD_BASE)
		return read(fd, buf, len);
	return skiff_recv(fd, buf, len, 0);
}

SKIFF_EXPORT ssize_t skiff_writev(int fd, const struct iovec *iov, int iovcnt)
{
	if (fd < SKIFF_FD_BASE)
		return writev(fd, iov, iovcnt);
	return sock_send(fd, iov, iovcnt, 0, NULL, 0);
}

SKIFF_EXPORT ssize_t skiff_readv(int fd, const struct iovec *iov, int iovcnt)
{
	int mflags;

	if (fd < SKIFF_FD_BASE)
		return readv(fd, iov, iovcnt);
	return sock_recv(fd, iov, iovcnt, 0, NULL, NULL, &mflags);
}

SKIFF_EXPORT ssize_t skiff_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (fd < SKIFF_FD_BASE)
		return sendmsg(fd, msg, flags);
	if (!msg)
		return fail(EFAULT);
	if (msg->msg_iovlen > (size_t)IOV_MAX)
		return fail(EMSGSIZE);
	/* ancillary data (IP_PKTINFO, SCM_*...) is not supported: refused,
	 * never dropped silently */
	if (msg->msg_control && msg->msg_controllen)
		return fail(EOPNOTSUPP);
	return sock_send(fd, msg->msg_iov, (int)msg->msg_iovlen, flags,
			 (const struct sockaddr *)msg->msg_name, msg->msg_name ? msg->msg_namelen : 0);
}

SKIFF_EXPORT ssize_t skiff_recvmsg(int fd, struct msghdr *msg, int flags)
{
	socklen_t nl;
	ssize_t n;
	int mflags = 0;

	if (fd < SKIFF_FD_BASE)
		return recvmsg(fd, msg, flags);
	if (!msg)
		return fail(EFAULT);
	if (msg->msg_iovlen > (size_t)IOV_MAX)
		return fail(EMSGSIZE);
	nl = msg->msg_name ? msg->msg_namelen : 0;
	n = sock_recv(fd, msg->msg_iov, (int)msg->msg_iovlen, flags,
		      (struct sockaddr *)msg->msg_name, msg->msg_name ? &nl : NULL, &mflags);
	if (n < 0)
		return n;
	msg->msg_namelen = msg->msg_name ? nl : 0;
	msg->msg_controllen = 0; /* no ancillary data */
	msg->msg_flags = mflags;
	return n;
}

SKIFF_EXPORT int skiff_shutdown(int fd, int how)
{
	struct skiff_app_msg m;
	int i, ret;

	if (fd < SKIFF_FD_BASE)
		return shutdown(fd, how);
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return fail(EINVAL);
	lib_lock();
	i = slot_of(fd);
	if (i >= 0 && A.L->s[i].dgram) {
		/* datagrams: this socket's own flags, nothing to tell skiffd */
		ret = A.L->s[i].connected ? 0 : -ENOTCONN;
		if (!ret && how != SHUT_RD)
			A.L->s[i].wr_shut = true;
		if (!ret && how != SHUT_WR)
			A.L->s[i].rd_shut = true;
		goto out;
	}
	i = conn_slot(fd);
	if (i < 0) {
		ret = i;
		goto out;
	}
	fill_msg(&m, i, SKIFF_APP_OP_SHUTDOWN);
	m.arg = how;
	ret = request(A.L->s[i].worker, &m);
	if (!ret && how != SHUT_RD)
		A.L->s[i].wr_shut = true;
	if (!ret && how != SHUT_WR)
		A.L->s[i].rd_shut = true;
out:
	lib_unlock();
	return ret ? fail(-ret) : 0;
}

static void epoll_forget(int fd);

static void close_slot(int i);

SKIFF_EXPORT int skiff_close(int fd)
{
	int i, k;

	if (fd < SKIFF_FD_BASE) {
		lib_lock();
		for (k = 0; k < MAX_EPOLLS; k++)
			if (A.ep[k].kfd == fd && A.ep[k].e) {
				free(A.ep[k].e);
				memset(&A.ep[k], 0, sizeof(A.ep[k]));
			}
		lib_unlock();
		return close(fd);
	}
	lib_lock();
	i = slot_of(fd);
	if (i < 0) {
		lib_unlock();
		return fail(EBADF);
	}
	epoll_forget(fd);
	set_held(i, false);
	if (!holders(i))
		close_slot(i); /* else another process (fork) still holds it */
	lib_unlock();
	return 0;
}

/* Close socket i for good: no process holds it any more (locks held). */
static void close_slot(int i)
{
	struct lsock *ls = &A.L->s[i];
	struct skiff_app_msg m;
	uint32_t w;

	switch (ls->kind) {
	case L_LISTEN:
		for (w = 0; w < A.n_workers; w++)
			close_on(i, w);
		ls->kind = L_FREE;
		break;
	case L_UDP:
		/* what was sent before goes out first (the worker drains) */
		for (w = 0; w < A.n_workers; w++)
			if (ls->wmask & (1u << w))
				close_on(i, w);
		ls->kind = L_FREE;
		break;
	case L_CONN:
		/* the worker sends what the tx FIFO holds, then closes */
		fill_msg(&m, i, SKIFF_APP_OP_CLOSE);
		m.seq = ls->close_seq = ++ls->seq;
		if (ls->linger && !ls->linger_s)
			m.arg = SKIFF_APP_CLOSE_RST;
		ls->kind = L_CLOSING;
		post(ls->worker, &m);
		break;
	default:
		ls->kind = L_FREE;
	}
}

static int name_of(int fd, struct sockaddr *addr, socklen_t *len, bool peer)
{
	struct sockaddr_in sin;
	int i, ret = 0;

	if (fd < SKIFF_FD_BASE)
		return peer ? getpeername(fd, addr, len) : getsockname(fd, addr, len);
	if (!addr || !len)
		return fail(EFAULT);
	lib_lock();
	i = slot_of(fd);
	if (i < 0)
		ret = -EBADF;
	else if (peer && A.L->s[i].kind != L_CONN && !(A.L->s[i].dgram && A.L->s[i].connected))
		ret = -ENOTCONN;
	else
		sin = peer ? A.L->s[i].peer : A.L->s[i].local;
	lib_unlock();
	if (ret)
		return fail(-ret);
	sin.sin_family = AF_INET;
	memcpy(addr, &sin, *len < sizeof(sin) ? *len : sizeof(sin));
	*len = sizeof(sin);
	return 0;
}

SKIFF_EXPORT int skiff_getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	return name_of(fd, addr, len, false);
}

SKIFF_EXPORT int skiff_getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	return name_of(fd, addr, len, true);
}

/* SO_LINGER: kept for close(); l_onoff with l_linger 0 resets the
 * connection there (RST, unsent bytes dropped), as Linux.  A positive
 * l_linger does not make close() wait: the worker sends what is left. */
static int set_linger(int fd, const void *val, socklen_t len)
{
	struct linger lg;
	int i;

	if (!val)
		return fail(EFAULT);
	if (len < (socklen_t)sizeof(lg))
		return fail(EINVAL);
	memcpy(&lg, val, sizeof(lg));
	lib_lock();
	i = slot_of(fd);
	if (i >= 0) {
		A.L->s[i].linger = lg.l_onoff != 0;
		A.L->s[i].linger_s = lg.l_linger < 0 ? 0 : lg.l_linger;
	}
	lib_unlock();
	return i < 0 ? fail(EBADF) : 0;
}

/* An option for a socket not yet on a worker is kept for LISTEN/CONNECT;
 * on a connection it is sent to its worker. */
SKIFF_EXPORT int skiff_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct skiff_app_msg m;
	struct lsock *ls;
	uint16_t flag = 0;
	int v, i, opt = 0, ret = 0;

	if (fd < SKIFF_FD_BASE)
		return setsockopt(fd, level, name, val, len);
	if (level == SOL_SOCKET && name == SO_LINGER)
		return set_linger(fd, val, len);
	if (!val || len < (socklen_t)sizeof(int))
		return fail(EINVAL);
	memcpy(&v, val, sizeof(v));
	if (level == SOL_SOCKET && name == SO_REUSEADDR) {
		flag = SKIFF_APP_F_REUSEADDR;
		opt = SKIFF_APP_OPT_REUSEADDR;
	} else if (level == SOL_SOCKET && name == SO_KEEPALIVE) {
		flag = SKIFF_APP_F_KEEPALIVE;
		opt = SKIFF_APP_OPT_KEEPALIVE;
	} else if (level == IPPROTO_TCP && name == TCP_NODELAY && !is_dgram(fd)) {
		flag = SKIFF_APP_F_NODELAY;
		opt = SKIFF_APP_OPT_NODELAY;
	} else if (level == SOL_SOCKET && name == SO_RCVBUF) {
		opt = SKIFF_APP_OPT_RCVBUF;
	} else if (level == SOL_SOCKET && name == SO_SNDBUF) {
		opt = SKIFF_APP_OPT_SNDBUF;
	} else {
		return fail(ENOPROTOOPT);
	}
	if ((opt == SKIFF_APP_OPT_RCVBUF || opt == SKIFF_APP_OPT_SNDBUF) &&
	    (v <= 0 || v > (1 << 30)))
		return fail(EINVAL);
	lib_lock();
	i = slot_of(fd);
	if (i < 0) {
		ret = -EBADF;
		goto out;
	}
	ls = &A.L->s[i];
	if (flag)
		ls->flags = v ? (ls->flags | flag) : (ls->flags & ~flag);
	else if (opt == SKIFF_APP_OPT_RCVBUF)
		ls->rcvbuf = (uint32_t)v;
	else
		ls->sndbuf = (uint32_t)v;
	if (ls->kind == L_CONN || ls->kind == L_UDP) {
		fill_msg(&m, i, SKIFF_APP_OP_SETOPT);
		m.arg = opt;
		m.arg2 = flag ? (v != 0) : (uint32_t)v;
		ret = ls->kind == L_UDP ? udp_request_all(i, &m) : request(ls->worker, &m);
	}
out:
	lib_unlock();
	return ret ? fail(-ret) : 0;
}

SKIFF_EXPORT int skiff_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct lsock *ls;
	int i, v = 0, ret = 0;

	if (fd < SKIFF_FD_BASE)
		return getsockopt(fd, level, name, val, len);
	if (!val || !len)
		return fail(EFAULT);
	if (level == SOL_SOCKET && name == SO_LINGER) {
		struct linger lg = {0};

		lib_lock();
		i = slot_of(fd);
		if (i >= 0) {
			lg.l_onoff = A.L->s[i].linger;
			lg.l_linger = A.L->s[i].linger_s;
		}
		lib_unlock();
		if (i < 0)
			return fail(EBADF);
		memcpy(val, &lg, *len < sizeof(lg) ? *len : sizeof(lg));
		*len = *len < sizeof(lg) ? *len : sizeof(lg);
		return 0;
	}
	if (*len < (socklen_t)sizeof(int))
		return fail(EINVAL);
	lib_lock();
	i = slot_of(fd);
	if (i < 0) {
		ret = -EBADF;
		goto out;
	}
	ls = &A.L->s[i];
	if (level == SOL_SOCKET && name == SO_ERROR && ls->kind == L_UDP) {
		uint32_t seq = load_acq(&A.slots[i].err_seq);

		v = seq != ls->err_seen ? A.slots[i].err : 0;
		ls->err_seen = seq;
	} else if (level == SOL_SOCKET && name == SO_ERROR)
		v = ls->kind == L_CONN ? -conn_error(i) : 0;
	else if (level == SOL_SOCKET && name == SO_TYPE)
		v = ls->dgram ? SOCK_DGRAM : SOCK_STREAM;
	else if (level == SOL_SOCKET && name == SO_REUSEADDR)
		v = !!(ls->flags & SKIFF_APP_F_REUSEADDR);
	else if (level == SOL_SOCKET && name == SO_KEEPALIVE)
		v = !!(ls->flags & SKIFF_APP_F_KEEPALIVE);
	else if (level == IPPROTO_TCP && name == TCP_NODELAY)
		v = !!(ls->flags & SKIFF_APP_F_NODELAY);
	else if (level == SOL_SOCKET && name == SO_RCVBUF)
		v = (int)(ls->rcvbuf ? ls->rcvbuf : SKIFF_APP_FIFO);
	else if (level == SOL_SOCKET && name == SO_SNDBUF)
		v = (int)(ls->sndbuf ? ls->sndbuf : SKIFF_APP_FIFO);
	else
		ret = -ENOPROTOOPT;
out:
	lib_unlock();
	if (ret)
		return fail(-ret);
	memcpy(val, &v, sizeof(v));
	*len = sizeof(v);
	return 0;
}

SKIFF_EXPORT int skiff_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;
	int i, ret = 0;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	if (fd < SKIFF_FD_BASE)
		return fcntl(fd, cmd, arg);
	lib_lock();
	i = slot_of(fd);
	if (i < 0) {
		ret = -EBADF;
	} else if (cmd == F_GETFL) {
		ret = O_RDWR | (A.L->s[i].nonblock ? O_NONBLOCK : 0);
	} else if (cmd == F_SETFL) {
		A.L->s[i].nonblock = arg & O_NONBLOCK;
	} else if (cmd == F_GETFD) {
		ret = A.L->s[i].cloexec ? FD_CLOEXEC : 0;
	} else if (cmd == F_SETFD) {
		A.L->s[i].cloexec = arg & FD_CLOEXEC;
	} else {
		ret = -EINVAL;
	}
	lib_unlock();
	return ret < 0 ? fail(-ret) : ret;
}

SKIFF_EXPORT int skiff_ioctl(int fd, unsigned long req, ...)
{
	uint32_t avail, w;
	va_list ap;
	void *arg;
	int i, v, ret = 0;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd < SKIFF_FD_BASE)
		return ioctl(fd, req, arg);
	if (req != FIONREAD && req != FIONBIO)
		return fail(ENOTTY);
	if (!arg)
		return fail(EFAULT);
	lib_lock();
	i = slot_of(fd);
	if (i < 0) {
		ret = -EBADF;
	} else if (req == FIONBIO) {
		memcpy(&v, arg, sizeof(v));
		A.L->s[i].nonblock = v != 0;
	} else if (A.L->s[i].kind == L_LISTEN) {
		ret = -EINVAL; /* as Linux's TCP */
	} else {
		struct skiff_app_dgram d;

		v = 0;
		if (A.L->s[i].kind == L_UDP && dgram_next(i, &w) && dgram_peek(i, w, &d))
			v = (int)d.len; /* the next datagram, as Linux's UDP */
		if (A.L->s[i].kind == L_CONN) {
			avail = load_acq(&A.slots[i].rx.head) - A.L->s[i].rx_tail;
			v = avail > SKIFF_APP_FIFO ? 0 : (int)avail;
		}
		memcpy(arg, &v, sizeof(v));
	}
	lib_unlock();
	return ret ? fail(-ret) : 0;
}

/* ---- poll ---- */

struct poll_wait {
	struct pollfd *fds;
	nfds_t n;
};

/* The revents of skiff socket pf->fd (A.lk held). */
static short poll_revents(const struct pollfd *pf)
{
	uint32_t ev, want;
	int i = slot_of(pf->fd);

	if (i < 0)
		return POLLNVAL;
	want = (uint16_t)pf->events | POLLERR | POLLHUP;
	if (pf->events & POLLRDNORM)
		want |= POLLIN;
	if (pf->events & POLLWRNORM)
		want |= POLLOUT;
	ev = readiness(i);
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
	deadline_in(&end, timeout_ms);
	lib_lock();
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
		if (ready || !timeout_ms || (timeout_ms > 0 && !ms_left(&end)))
			break;
		if (sleep_once(poll_ready, &pw, kp, (int)nk,
			       timeout_ms < 0 ? -1 : ms_left(&end)) == -EINTR) {
			ready = -EINTR;
			break;
		}
	}
	lib_unlock();
	free(kp);
	return ready < 0 ? fail(-ready) : ready;
}

/* ---- epoll ---- */

static struct sep *sep_of(int epfd)
{
	int k;

	for (k = 0; k < MAX_EPOLLS; k++)
		if (A.ep[k].e && A.ep[k].kfd == epfd)
			return &A.ep[k];
	return NULL;
}

/* A closed skiff socket leaves every set (A.lk held). */
static void epoll_forget(int fd)
{
	int k, j;

	for (k = 0; k < MAX_EPOLLS; k++)
		for (j = 0; A.ep[k].e && j < A.ep[k].n; j++)
			if (A.ep[k].e[j].fd == fd) {
				A.ep[k].e[j] = A.ep[k].e[--A.ep[k].n];
				j--;
			}
}

SKIFF_EXPORT int skiff_epoll_create1(int flags)
{
	int kfd, k;

	kfd = epoll_create1(flags);
	if (kfd < 0)
		return -1;
	lib_lock();
	for (k = 0; k < MAX_EPOLLS; k++)
		if (!A.ep[k].e)
			break;
	if (k < MAX_EPOLLS) {
		A.ep[k].e = calloc(8, sizeof(*A.ep[k].e));
		A.ep[k].cap = A.ep[k].e ? 8 : 0;
		A.ep[k].n = 0;
		A.ep[k].nk = 0;
		A.ep[k].kfd = kfd;
	}
	lib_unlock();
	if (k == MAX_EPOLLS || !A.ep[k].e) {
		close(kfd);
		return fail(k == MAX_EPOLLS ? EMFILE : ENOMEM);
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
			lib_lock();
			sp = sep_of(epfd);
			if (sp)
				sp->nk += op == EPOLL_CTL_ADD ? 1 : -1;
			lib_unlock();
		}
		return ret;
	}
	lib_lock();
	sp = sep_of(epfd);
	if (!sp || slot_of(fd) < 0) {
		ret = !sp ? -EINVAL : -EBADF;
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
		e->last_act = fd >= SKIFF_FD_BASE ? activity(fd - SKIFF_FD_BASE) : 0;
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
	lib_unlock();
	return ret ? fail(-ret) : 0;
}

/* Collect ready skiff sockets of sp into out (A.lk held). */
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
		cur = readiness(e->fd - SKIFF_FD_BASE) & want;
		rep = et_news(e, cur, &act);
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
		cur = readiness(e->fd - SKIFF_FD_BASE) & (e->events | EPOLLERR | EPOLLHUP);
		if (et_news(e, cur, &act))
			return true;
	}
	return false;
}

SKIFF_EXPORT int skiff_epoll_wait(int epfd, struct epoll_event *events, int max, int timeout_ms)
{
	struct pollfd kp = {.fd = epfd, .events = POLLIN};
	struct scan_wait sw;
	struct timespec end;
	struct sep *sp;
	int n, m;

	if (!events || max <= 0)
		return fail(EINVAL);
	lib_lock();
	sp = sep_of(epfd);
	if (!sp || !A.attached) {
		lib_unlock();
		return epoll_wait(epfd, events, max, timeout_ms);
	}
	sw.sp = sp;
	deadline_in(&end, timeout_ms);
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
		if (n || !timeout_ms || (timeout_ms > 0 && !ms_left(&end)))
			break;
		kp.revents = 0;
		if (sleep_once(scan_ready, &sw, &kp, 1, timeout_ms < 0 ? -1 : ms_left(&end)) ==
		    -EINTR) {
			n = -EINTR;
			break;
		}
		sp = sep_of(epfd); /* closed meanwhile by another thread? */
		if (!sp) {
			n = -EBADF;
			break;
		}
		sw.sp = sp;
	}
	lib_unlock();
	return n < 0 ? fail(-n) : n;
}
