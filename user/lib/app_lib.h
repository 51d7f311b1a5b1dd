/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libskiffapp's internal header (include/skiff/skiff_socket.h is the
 * public one, docs/apps.md the design): the application's side of the
 * shared-memory protocol of include/skiff/app_shm.h.
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
 *
 * The files: attach.c (finding skiffd, the attach, the region), procs.c
 * (the locks, fork, threads and their waiters, dead processes), wait.c
 * (posting requests, sleeping and waking, request/reply), socket.c (the
 * socket table and the calls that change it), ready.c (readiness from the
 * FIFO indices), stream.c and dgram.c (the data path of TCP and UDP
 * sockets), io.c (the public send/recv family), poll.c (skiff_poll and
 * skiff_epoll_*).  Names shared between them start with sa_; everything
 * else is static.
 */
#ifndef SKIFF_LIB_APP_LIB_H
#define SKIFF_LIB_APP_LIB_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
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

#include "cmsg.h"
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
#define MAX_EPOLLS 64 /* epoll sets a process names */
#define RECV_FLAGS (MSG_DONTWAIT | MSG_PEEK | MSG_WAITALL | MSG_NOSIGNAL | MSG_TRUNC | MSG_CMSG_CLOEXEC)
#define MAX_SETS 64   /* epoll sets of an attach, all its processes together */

/* A socket's address in its family: sin or sin6 (their ports are at the
 * same offset, so sin.sin_port is the port of either). */
union sa_name {
	struct sockaddr sa;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
};

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
	uint8_t family; /* AF_INET or AF_INET6 */
	bool v6only;	/* AF_INET6: IPV6_V6ONLY */
	bool linger;	/* SO_LINGER l_onoff */
	int linger_s;	/* SO_LINGER l_linger: 0 with linger = RST at close */
	uint16_t flags; /* SKIFF_APP_F_* for LISTEN/CONNECT */
	uint16_t ttl1, hops1; /* IP_TTL + 1, IPV6_UNICAST_HOPS + 1 (0: the default) */
	uint8_t tos, tclass;  /* IP_TOS, IPV6_TCLASS */
	uint8_t rxopts;	      /* SA_RX_* (cmsg.h): IP_PKTINFO, IP_RECVTTL... on */
	uint32_t rcvbuf, sndbuf;
	uint32_t worker; /* CONN: the worker it lives on */
	uint32_t seq;	 /* last request sent (never reset) */
	uint32_t close_seq;
	uint32_t rx_tail; /* private: bytes taken from the rx FIFO */
	uint32_t tx_head; /* private: bytes put into the tx FIFO */
	uint32_t err_seen;  /* datagrams: the slot's err_seq last reported */
	uint32_t next_part; /* datagrams: the rx part recv() looks at first */
	uint32_t urx_tail[SKIFF_APP_MAX_WORKERS]; /* datagrams: per part */
	union sa_name local, peer;
};

#define MAX_PROCS 64 /* processes of one attach the library tells apart */

/* A process of the attach and the sockets it holds (fork() copies them). */
struct lib_proc {
	int32_t pid; /* 0: free */
	uint32_t pad;
	uint64_t held[SKIFF_APP_MAX_SOCKS / 64];
};

struct epent {
	int fd;
	uint32_t events;
	epoll_data_t data;
	uint32_t last; /* EPOLLET: what was reported */
	uint32_t last_act; /* EPOLLET: activity() then */
	bool disabled; /* EPOLLONESHOT fired */
};

/*
 * An epoll set's skiff sockets, in the region: a set made before fork()
 * is the child's too, as the kernel shares an epoll instance (its kernel
 * fds are in the kernel epoll both processes hold).  At most one entry per
 * socket.  A set is in use while some process of the attach names it
 * (procs).  Written by every process of the attach: checked when read.
 */
struct sh_set {
	pthread_mutex_t lk; /* n, nk, e[]: process-shared, robust */
	uint64_t procs;	    /* bit k: process entry k names it (table lock) */
	int32_t n;	    /* entries */
	int32_t nk;	    /* kernel fds in its kernel epoll (0: no epoll_wait needed) */
	struct epent e[SKIFF_APP_MAX_SOCKS];
};

/* The library's part of the region (SKIFF_APP_LIB_SIZE bytes at lib_off),
 * shared by the processes of one attach. */
struct lib_shared {
	pthread_mutex_t lk;  /* the table: process-shared, robust */
	pthread_mutex_t qlk; /* ring SKIFF_APP_Q_SHARED of each worker */
	uint32_t next_worker; /* round robin of connect() and UDP binds */
	uint32_t waiter_tid[SKIFF_APP_MAX_WAITERS]; /* thread in thread slot k; 0: free */
	int32_t waiter_pid[SKIFF_APP_MAX_WAITERS];  /* and its process */
	struct lib_proc procs[MAX_PROCS];
	struct lsock s[SKIFF_APP_MAX_SOCKS];
	pthread_mutex_t slk[SKIFF_APP_MAX_SOCKS]; /* socket i's data path */
	struct sh_set sets[MAX_SETS];
};

_Static_assert(sizeof(struct lib_shared) <= SKIFF_APP_LIB_SIZE, "the library part is too small");

/* This process's name for a set: its kernel epoll fd. */
struct sep {
	int kfd;
	int set;	  /* L->sets[set] */
	atomic_bool live; /* changed under A.eplk */
	uint64_t klook_ns; /* CLOCK_MONOTONIC of the last look at its kernel fds (under the set's lock) */
};

/* This process's view of the attach (one per process; fork() copies it). */
struct lib_state {
	pthread_mutex_t lk; /* this process's threads; then L->lk */
	bool attached;
	int ctl_fd;
	int wake_fd[SKIFF_APP_MAX_WORKERS];
	int waiter_fd[SKIFF_APP_MAX_WAITERS];
	uint32_t n_workers, n_waiters;
	uint32_t ifindex; /* skiffd's interface (hdr->ifindex, copied at attach) */
	uint64_t spin_ns; /* SKIFF_BUSY_POLL_US: spin this long before sleeping */
	int me; /* our entry in L->procs */
	pthread_mutex_t pidlk;	 /* pidfd[], pidfd_pid[] */
	pthread_mutex_t eplk;	 /* which of ep[] are live */
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
};

/* "A": short, and hidden from a program that links libskiffapp.a. */
extern struct lib_state skiff_app_lib;
#define A skiff_app_lib

/*
 * What a caller that waits holds, dropped while it sleeps: nothing, the
 * table lock (sa_lock()), the data-path lock of socket i, or epoll set
 * ss's lock.  Lock order: table, A.eplk, set, socket, then the leaves
 * (L->qlk, A.pidlk).
 */
enum sa_held_kind { SA_HELD_NONE, SA_HELD_TABLE, SA_HELD_SOCK, SA_HELD_SET };

struct sa_held {
	enum sa_held_kind kind;
	int i;
	struct sh_set *ss;
};

#define SA_TABLE (&(const struct sa_held){.kind = SA_HELD_TABLE})

struct reply_wait {
	struct skiff_app_slot *slot;
	uint32_t seq;
};

struct iocur {
	const struct iovec *iov;
	int n, k;   /* iov[k] is the current one */
	size_t off; /* into iov[k] */
};

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

static inline int fail(int err)
{
	errno = err;
	return -1;
}


/* procs.c */
void sa_shared_init(struct lib_shared *L);
void sa_lock(void);
void sa_unlock(void);
bool sa_held(int i);
void sa_set_held(int i, bool on);
int sa_holders(int i);
int sa_my_waiter_get(void);
int sa_my_waiter(void);
void sa_reap_if(int k, int32_t pid);
int sa_watch_procs(struct pollfd *pfd, int *who, int32_t *pids);
void sa_sock_lock(int i);
void sa_sock_unlock(int i);
void sa_held_lock(const struct sa_held *h);
void sa_set_lock(struct sh_set *ss);
void sa_held_unlock(const struct sa_held *h);
void sa_lib_once(void);

/* attach.c */
int sa_do_attach(const char *ifname);

/* wait.c */
void sa_sig_enter(void);
void sa_note_wait(void);
uint32_t sa_wait_gen(void);
void sa_post(uint32_t w, const struct skiff_app_msg *m);
int sa_ms_left(const struct timespec *end);
void sa_deadline_in(struct timespec *end, int timeout_ms);
int sa_request(uint32_t w, struct skiff_app_msg *m);

/* socket.c */
int sa_slot_of(int fd);
int sa_conn_slot(int fd);
/* What a name the program gives is for (sa_name_in). */
enum sa_use { SA_BIND, SA_CONNECT, SA_SENDTO };
int sa_name_in(int i, const struct sockaddr *addr, socklen_t len, union sa_name *out,
	       enum sa_use use);
void sa_name_set(union sa_name *n, int family, const uint8_t a[16], uint16_t port);
void sa_msg_addr(const union sa_name *n, uint8_t a[16], uint16_t *port);
void sa_name_out(int family, const union sa_name *n, struct sockaddr *addr, socklen_t *len);
void sa_fill_msg(struct skiff_app_msg *m, int i, uint16_t op);
void sa_close_on(int i, uint32_t w);
void sa_close_slot(int i);

/* ready.c */
uint32_t sa_tx_space(int i);
uint32_t sa_tx_room(int i, uint32_t need);
bool sa_any_accept(int i);
bool sa_dgram_next(int i, uint32_t *w);
uint32_t sa_readiness(int i);
uint32_t sa_activity(int i);
uint32_t sa_et_news(const struct epent *e, uint32_t cur, uint32_t *act);
int sa_wait_ready(int i, uint32_t mask, const struct sa_held *h);

/* stream.c */
ssize_t sa_send_result(ssize_t ret, int flags);
int sa_conn_error(int i);
ssize_t sa_iov_total(const struct iovec *iov, int n);
void sa_ring_copyv(uint8_t *base, uint32_t mask, uint32_t pos, struct iocur *c, size_t len,
		       bool to_fifo);
void sa_fifo_copy(uint8_t *base, uint32_t pos, struct iocur *c, size_t len, bool to_fifo);
void sa_ring_copy(uint8_t *base, uint32_t mask, uint32_t pos, void *buf, size_t len,
		      bool to_ring);
bool sa_nonblocking(int i, int flags);
ssize_t sa_stream_send(int fd, const struct iovec *iov, int iovcnt, int flags);
ssize_t sa_stream_recv(int fd, const struct iovec *iov, int iovcnt, int flags, int *mflags);

/* dgram.c */
int sa_udp_bind_on(int i, const union sa_name *local);
int sa_udp_request_all(int i, struct skiff_app_msg *m);
int sa_udp_connect(int i, const struct sockaddr *addr, socklen_t len);
ssize_t sa_dgram_send(int fd, const struct iovec *iov, int iovcnt, int flags,
			  const struct sockaddr *to, socklen_t tolen, const struct msghdr *ctl);
bool sa_dgram_peek(int i, uint32_t w, struct skiff_app_dgram *d);
ssize_t sa_dgram_recv(int fd, const struct iovec *iov, int iovcnt, int flags,
			  struct sockaddr *from, socklen_t *fromlen, int *mflags,
			  struct msghdr *ctl);

/* io.c */
bool sa_is_dgram(int fd);
int sa_sock_of(int fd);
int sa_sock_enter(int fd, struct sa_held *h);

/* poll.c */
void sa_epoll_forget(int fd);
void sa_epoll_close(int fd);
void sa_epoll_drop_proc(int k);
void sa_epoll_fork(int parent, int child);

/* wait.c */
void sa_sig_enter(void);
int sa_sleep_once(bool (*cond)(void *), void *arg, struct pollfd *extra, int nextra,
		  int timeout_ms, const struct sa_held *h);
int sa_wait_for(bool (*cond)(void *), void *arg, int timeout_ms, bool intr,
		const struct sa_held *h);

#endif /* SKIFF_LIB_APP_LIB_H */
