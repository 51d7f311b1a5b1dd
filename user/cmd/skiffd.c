// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * skiffd: the daemon.  Parses its configuration (cmd/config.c), checks the
 * system, attaches the XDP program (dev/loader.c), brings up one AF_XDP
 * socket, one complete stack and one worker thread per RX queue, starts the
 * built-in services, and then serves the control socket (cmd/control.h)
 * from its main thread's event loop until SIGINT, SIGTERM or SIGHUP, when
 * it takes everything down in reverse order and
 * leaves the interface as it found it.
 *
 * Start-up order: parse -> interface, privileges, queue count -> take the
 * single-instance lock and bind the control socket
 * /run/skiff/<ifname>.<netns>.sock (cmd/ctl_server.h; before anything
 * touches the interface) -> attach XDP -> addresses -> per queue: AF_XDP
 * socket, XSKMAP entry, stack, protocols, services -> enable steering ->
 * workers -> listen on the control socket (from then on skiffd is "ready").
 * SIGHUP is a clean stop too, not a reload: none of skiffd's configuration
 * can change under running workers yet, and a hangup (the terminal that
 * started it went away) must not leave XDP steering into dead sockets.
 *
 * Exit status: 0 after SIGINT/SIGTERM/SIGHUP, 2 for every start-up error (one line
 * "skiffd: ..." on stderr), 1 when the interface disappears under it; with
 * --exit-after-client, 0 when the client (--fetch/--send, started on worker
 * 0 once skiffd is ready) succeeded and 1 when it did not.
 *
 * Threads.  Worker i owns stack i and runs it to completion (stack_poll)
 * under its mutex; when nothing arrived for WORKER_IDLE_POLLS polls (and,
 * with --busy-poll USECS, for USECS since the last work) it sleeps in
 * poll() on its XSK fd and an eventfd until the next timer is due.
 * The main thread never touches a stack except under that worker's mutex
 * (skiffctl sockets), reads the per-queue counters from the mmapped ustats
 * map (written only by the worker: a reader may see one counter a burst
 * old, never a torn 64-bit value on the architectures skiff supports), each
 * AF_XDP socket's kernel counters (getsockopt on its fd, skiffctl stats), and
 * the BPF maps through the loader.  The workers share nothing but the BPF
 * maps (through struct stack_hooks, locked inside the loader), the
 * read-only struct stack_config and, with 2+ queues, the handoff
 * (core/handoff.h: lock-free rings of frame copies per worker pair, for
 * replies that land on another worker's queue; the producer wakes the
 * owner through its eventfd).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "apps/client.h"
#include "apps/http.h"
#include "apps/services.h"
#include "cmd/config.h"
#include "cmd/control.h"
#include "cmd/app_host.h"
#include "cmd/ctl_server.h"
#include "cmd/netif.h"
#include "cmd/privs.h"
#include "cmd/seccomp.h"
#include "cmd/addr6.h"
#include "cmd/kports.h"
#include "cmd/report.h"
#include "core/clock.h"
#include "core/handoff.h"
#include "core/stack.h"
#include "core/timer.h"
#include "dev/loader.h"
#include "dev/xsk.h"
#include "link/neigh.h"
#include "net/ipv6.h"
#include "net/route.h"
#include "sock/inet.h"
#include "sock/socket.h"
#include "transport/tcp.h"

#define WORKER_IDLE_POLLS	2	/* empty polls before sleeping */
#define RATE_INTERVAL_NS	NSEC_PER_SEC

struct skiffd;

struct worker {
	struct skiffd *d;
	uint32_t queue;
	int cpu;			/* -1: not pinned */
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;		/* held around every use of st */
	int efd;			/* eventfd: wakes the worker to stop */
	struct netdev *dev;
	bool xsk_in_map;
	struct stack st;
	bool stack_up;
	bool inet_up;
	struct service *svcs[4 * SKIFFD_MAX_SERVICES];	/* echo/discard, UDP and TCP */
	int n_svcs;
	bool tcp_svcs;			/* the TCP services run */
	struct http_server *http;
	struct client *client;		/* worker 0: --fetch / --send */
	struct skiff_ustats *stats;	/* this queue's row of the ustats map */
	uint64_t last_rx, last_tx;	/* at the last rate tick */
	uint64_t rx_pps, tx_pps;
};

struct skiffd {
	struct skiffd_config cfg;
	struct stack_config scfg;	/* shared read-only by every worker */
	struct addr6_state a6;		/* --addr X:Y::Z/N: dedicated or shared, groups joined */
	struct skiff_bpf *b;
	struct stack_hooks hooks;
	int ifindex;
	uint32_t mtu;
	uint32_t http_max_conns;	/* --max-conns, within HTTP's memory share */
	struct worker *w;
	uint32_t n_workers;
	struct handoff *handoff;	/* frames between workers (2+ queues) */
	struct ctl_server *ctl;		/* the control socket and the instance lock */
	struct app_host *apps;		/* attached applications (docs/apps.md) */
	bool privs_dropped;		/* cmd/privs.h: the exit capabilities are set aside */
	int sig_fd;
	atomic_bool stop;
	uint64_t start_ns;
	uint64_t last_rate_ns;
	int client_efd;			/* eventfd: the client finished */
	atomic_int client_rc;		/* 0: it succeeded, 1: it failed */
	bool rxvlan_restore;		/* --fix-offloads turned rxvlan off: on at exit */
};

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The one line every start-up error gets. */
static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("skiffd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void vlog(const struct skiffd *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void vlog(const struct skiffd *d, const char *fmt, ...)
{
	va_list ap;

	if (!d->cfg.verbose)
		return;
	fputs("skiffd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- workers ---- */

static int poll_timeout_ms(uint64_t next, uint64_t now)
{
	uint64_t ms;

	if (next == UINT64_MAX)
		return -1;
	if (next <= now)
		return 1;	/* due now: stack_poll runs it; never spin on a stale bound */
	ms = (next - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;
	return ms > 60000 ? 60000 : (int)ms;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct app_host *apps = w->d->apps;
	uint32_t wi = (uint32_t)(w - w->d->w);
	struct pollfd pfd[3];
	uint64_t next = UINT64_MAX, v, last_work = 0;
	const uint64_t spin_ns = (uint64_t)w->d->cfg.busy_poll_us * NSEC_PER_USEC;
	int beat_ms = skiff_bpf_beat_interval_ms(w->d->b);
	int idle = 0, n, timeout;
	bool app_woken = false, held = false;

	pfd[0].fd = xsk_netdev_fd(w->dev);
	pfd[0].events = POLLIN;
	pfd[1].fd = w->efd;
	pfd[1].events = POLLIN;
	pfd[2].fd = apps ? app_host_worker_fd(apps, wi) : -1;	/* applications' kicks */
	pfd[2].events = POLLIN;

	while (!atomic_load_explicit(&w->d->stop, memory_order_acquire)) {
		skiff_bpf_beat(w->d->b, w->queue, clock_now()); /* fail-open heartbeat */
		pthread_mutex_lock(&w->lock);
		n = stack_poll(&w->st);
		if (apps) {
			n += app_host_worker_poll(apps, wi, app_woken);
			app_woken = false;
			held = app_host_worker_holding(apps, wi);
		}
		if (!n && idle + 1 >= WORKER_IDLE_POLLS) {
			next = timers_next(&w->st);
			if (apps && !app_host_worker_may_sleep(apps, wi))
				n = 1;	/* a request arrived as we were going to sleep */
		}
		pthread_mutex_unlock(&w->lock);
		if (n) {
			idle = 0;
			if (spin_ns)
				last_work = clock_now();
			continue;
		}
		/*
		 * An application's small send is held for the close() right
		 * behind it (docs/apps.md, "Closing: the FIN rides on the
		 * last data segment"): look again soon, and meanwhile give
		 * the CPU to that thread if it shares ours.
		 */
		if (held) {
			sched_yield();
			continue;
		}
		/* --busy-poll: keep polling for spin_ns after the last work */
		if (spin_ns && clock_now() - last_work < spin_ns)
			continue;
		if (++idle < WORKER_IDLE_POLLS)
			continue;
		/*
		 * idle: sleep until a frame arrives, a timer is due, we are
		 * stopped or the heartbeat is due
		 */
		timeout = poll_timeout_ms(next, clock_now());
		if (beat_ms >= 0 && (timeout < 0 || timeout > beat_ms))
			timeout = beat_ms;
		if (poll(pfd, 3, timeout) > 0 &&
		    (pfd[1].revents & POLLIN)) {
			if (read(w->efd, &v, sizeof(v)) < 0) {
				/* EAGAIN: someone else drained it; nothing to do */
			}
		}
		app_woken = pfd[2].revents & POLLIN;
		/*
		 * Woken by an application's kick alone, from a thread on this
		 * CPU: let it finish its turn first.  The kick (its first
		 * send) preempted it; yielding lets it run to its next wait,
		 * so its response and the close() behind it are served in
		 * one batch and leave as one segment with the FIN (a FIN a
		 * wake-up later lets a client that closes on the last byte,
		 * as wrk does, close first and keep the TIME-WAIT: its
		 * ephemeral ports run out).  A kick from another CPU gets
		 * no yield: that thread runs on meanwhile, and a yield would
		 * only hand this CPU to whatever else shares it.
		 */
		if (app_woken && !(pfd[0].revents & POLLIN) && !(pfd[1].revents & POLLIN)) {
			bool here;

			pthread_mutex_lock(&w->lock);
			here = app_host_kicked_from(apps, wi, sched_getcpu());
			pthread_mutex_unlock(&w->lock);
			if (here)
				sched_yield();
		}
	}
	return NULL;
}

static void worker_wake(struct worker *w)
{
	uint64_t one = 1;

	if (w->efd >= 0 && write(w->efd, &one, sizeof(one)) < 0) {
		/* the counter is saturated: the worker is awake anyway */
	}
}

/* The handoff's wake hook: frames were queued for worker i (called by the
 * producing worker once per burst). */
static void worker_wake_idx(void *ctx, uint32_t i)
{
	struct skiffd *d = ctx;

	if (i < d->n_workers)
		worker_wake(&d->w[i]);
}

/* Undo whatever of worker_setup() happened, in reverse. */
static void worker_teardown(struct skiffd *d, struct worker *w)
{
	int i;

	client_free(w->client);
	w->client = NULL;
	http_server_stop(w->http);
	w->http = NULL;
	for (i = w->n_svcs - 1; i >= 0; i--)
		service_stop(w->svcs[i]);
	w->n_svcs = 0;
	if (w->inet_up)
		inet_fini(&w->st);
	w->inet_up = false;
	if (w->stack_up)
		stack_fini(&w->st);
	w->stack_up = false;
	if (w->xsk_in_map)
		skiff_bpf_clear_xsk(d->b, w->queue);
	w->xsk_in_map = false;
	if (w->dev)
		xsk_netdev_destroy(w->dev);
	w->dev = NULL;
	if (w->efd >= 0)
		close(w->efd);
	w->efd = -1;
	pthread_mutex_destroy(&w->lock);
}

static int worker_setup(struct skiffd *d, struct worker *w)
{
	struct xsk_netdev_opts xo;
	char err[512];
	struct service *svc;
	int ret, i;

	err[0] = '\0';
	memset(&xo, 0, sizeof(xo));
	xo.ifname = d->cfg.iface;
	xo.ifindex = d->ifindex;
	xo.queue_id = w->queue;
	xo.force_copy = d->cfg.force_copy;
	xo.generic = skiff_bpf_generic(d->b);
	skiff_bpf_mac(d->b, xo.mac);
	xo.vlan_id = d->cfg.vlan_id;
	xo.mtu = d->mtu;
	xo.stats = w->stats;
	xo.n_frames = d->cfg.frames;
	ret = xsk_netdev_create(&xo, &w->dev, err, sizeof(err));
	if (ret) {
		w->dev = NULL;
		fail("queue %u: %s", w->queue, err[0] ? err : strerror(-ret));
		return ret;
	}
	ret = skiff_bpf_set_xsk(d->b, w->queue, xsk_netdev_fd(w->dev));
	if (ret) {
		fail("queue %u: cannot put the AF_XDP socket into the xsks map: %s", w->queue,
		     strerror(-ret));
		return ret;
	}
	w->xsk_in_map = true;
	if (d->cfg.busy_poll_us) {
		ret = xsk_netdev_set_busy_poll(w->dev, d->cfg.busy_poll_us);
		vlog(d, "queue %u: kernel busy polling of the AF_XDP socket %s%s", w->queue,
		     ret ? "refused: " : "on", ret ? strerror(-ret) : "");
	}
	ret = stack_init(&w->st, w->dev, &d->scfg, &d->hooks);
	if (ret) {
		fail("queue %u: cannot set up the stack: %s", w->queue, strerror(-ret));
		return ret;
	}
	w->stack_up = true;
	/* before any socket binds: the ephemeral ports this worker owns */
	ret = stack_set_worker(&w->st, (uint32_t)(w - d->w), d->cfg.n_queues, d->handoff);
	if (ret) {
		fail("queue %u: cannot set the worker index: %s", w->queue, strerror(-ret));
		return ret;
	}
	ret = inet_init(&w->st);
	if (ret) {
		fail("queue %u: cannot set up the protocols: %s", w->queue, strerror(-ret));
		return ret;
	}
	w->inet_up = true;
	w->tcp_svcs = true;
	for (i = 0; i < 2 * (d->cfg.n_echo + d->cfg.n_discard); i++) {
		int k = i / 2, type = i % 2 ? SOCK_STREAM : SOCK_DGRAM;
		bool echo = k < d->cfg.n_echo;
		uint16_t port = echo ? d->cfg.echo_ports[k] : d->cfg.discard_ports[k - d->cfg.n_echo];

		if (echo)
			ret = echo_service_start(&w->st, type, port, &svc);
		else
			ret = discard_service_start(&w->st, type, port, &svc);
		if (ret == -EPROTONOSUPPORT && type == SOCK_STREAM) {
			w->tcp_svcs = false;	/* a build without TCP: UDP only */
			continue;
		}
		if (ret) {
			fail("queue %u: cannot start %s %s on port %u: %s", w->queue,
			     type == SOCK_STREAM ? "TCP" : "UDP", echo ? "echo" : "discard", port,
			     strerror(-ret));
			return ret;
		}
		service_set_max_conns(svc, d->cfg.max_conns);
		w->svcs[w->n_svcs++] = svc;
	}
	if (d->cfg.http_port) {
		ret = http_server_start(&w->st, d->cfg.http_port, d->cfg.http_dir, &w->http);
		if (ret) {
			w->http = NULL;
			fail("queue %u: cannot serve HTTP on port %u from %s: %s", w->queue,
			     d->cfg.http_port, d->cfg.http_dir, strerror(-ret));
			return ret;
		}
		http_server_set_max_conns(w->http, d->http_max_conns);
		http_server_set_limits(w->http, HTTP_HEADER_TIMEOUT_S, d->cfg.http_idle_s,
				       d->cfg.http_per_source);
	}
	vlog(d, "queue %u: AF_XDP socket fd %d (%s), %d service(s)", w->queue,
	     xsk_netdev_fd(w->dev), xsk_netdev_zerocopy(w->dev) ? "zero-copy" : "copy", w->n_svcs);
	return 0;
}

static int workers_start(struct skiffd *d)
{
	char own[16] = "", name[16];
	pthread_attr_t attr;
	cpu_set_t set;
	uint32_t i;
	int ret = 0;

	/*
	 * A thread inherits its creator's name: the main thread takes each
	 * worker's name (for top -H) just while creating it, so the name is
	 * there before skiffd is ready.  Not pthread_setname_np(), which
	 * writes /proc/self/task/N/comm: the seccomp filter opens no file for
	 * writing.  Failures are harmless.
	 */
	prctl(PR_GET_NAME, own, 0, 0, 0);
	for (i = 0; i < d->n_workers; i++) {
		struct worker *w = &d->w[i];

		snprintf(name, sizeof(name), "skiffd-q%u", w->queue);
		prctl(PR_SET_NAME, name, 0, 0, 0);
		pthread_attr_init(&attr);
		if (w->cpu >= 0) {
			CPU_ZERO(&set);
			CPU_SET(w->cpu, &set);
			pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		}
		ret = pthread_create(&w->thread, &attr, worker_main, w);
		pthread_attr_destroy(&attr);
		if (ret) {
			fail("cannot start the worker of queue %u%s%d: %s", w->queue,
			     w->cpu >= 0 ? " on cpu " : "", w->cpu >= 0 ? w->cpu : 0,
			     strerror(ret));
			break;
		}
		w->started = true;
	}
	prctl(PR_SET_NAME, own, 0, 0, 0);
	return -ret;
}

static void workers_stop(struct skiffd *d)
{
	uint32_t i;

	atomic_store_explicit(&d->stop, true, memory_order_release);
	for (i = 0; i < d->n_workers; i++)
		worker_wake(&d->w[i]);
	for (i = 0; i < d->n_workers; i++) {
		if (d->w[i].started)
			pthread_join(d->w[i].thread, NULL);
		d->w[i].started = false;
	}
}

/* Undo --fix-offloads (after XDP is gone).  Not on SIGKILL or a crash: then
 * `ethtool -K IF rxvlan on` by hand. */
static void restore_offloads(struct skiffd *d)
{
	int ret;

	if (!d->rxvlan_restore)
		return;
	d->rxvlan_restore = false;
	ret = netif_set_feature(d->cfg.iface, NETIF_FEAT_RX_VLAN, true);
	if (ret)
		fail("warning: cannot turn the rx VLAN offload of %s back on: %s; run `ethtool -K %s rxvlan on`",
		     d->cfg.iface, strerror(-ret), d->cfg.iface);
	else
		vlog(d, "%s: rx VLAN offload (rxvlan) back on", d->cfg.iface);
}

/* Everything down in reverse; safe on a partial start-up. */
static void skiffd_teardown(struct skiffd *d)
{
	uint32_t i;

	/* detaching XDP and undoing --fix-offloads need what privs_drop() kept
	 * aside (cmd/privs.h) */
	if (d->privs_dropped && privs_for_exit())
		fail("warning: cannot raise the capabilities kept for exit: XDP may stay attached");
	workers_stop(d);		/* first: a running worker polls the app host */
	app_host_destroy(d->apps);	/* then the apps' sockets, in the still-live stacks */
	d->apps = NULL;
	for (i = 0; d->w && i < d->n_workers; i++)
		worker_teardown(d, &d->w[i]);
	free(d->w);
	d->w = NULL;
	handoff_destroy(d->handoff);	/* holds frame copies only: nothing to free */
	d->handoff = NULL;
	if (d->b)
		skiff_bpf_detach(d->b);	/* detaches XDP, removes the pins */
	d->b = NULL;
	ctl_server_close(d->ctl);	/* last: the lock is held until XDP is gone */
	d->ctl = NULL;
	if (d->sig_fd >= 0)
		close(d->sig_fd);
	d->sig_fd = -1;
	if (d->client_efd >= 0)
		close(d->client_efd);
	d->client_efd = -1;
	addr6_teardown(&d->a6, &d->cfg);
	restore_offloads(d);
}

/* ---- control ---- */

static void fill_status(struct skiffd *d, struct report_status *s)
{
	uint32_t i;
	int k;

	memset(s, 0, sizeof(*s));
	s->pid = (int)getpid();
	s->uptime_s = (clock_now() - d->start_ns) / NSEC_PER_SEC;
	s->version = SKIFF_VERSION;
	s->iface = d->cfg.iface;
	s->ifindex = d->ifindex;
	s->mtu = d->mtu;
	s->mode = skiff_bpf_mode(d->b);
	s->attach = skiff_bpf_attach_kind(d->b);
	s->pin_dir = skiff_bpf_pin_dir(d->b);
	s->ctl_name = d->ctl ? ctl_server_path(d->ctl) : "";
	s->vlan_id = d->cfg.vlan_id;
	s->rx_vlan_offload = -1;
	if (s->vlan_id) {
		int on = netif_get_feature(d->cfg.iface, NETIF_FEAT_RX_VLAN, NULL);

		s->rx_vlan_offload = on < 0 ? -1 : on;
	}
	s->gateway = d->cfg.gateway;
	s->gateway6 = d->cfg.gateway6;
	for (i = 0; i < d->n_workers; i++) {
		s->queues[i].queue = d->w[i].queue;
		s->queues[i].zerocopy = d->w[i].dev && xsk_netdev_zerocopy(d->w[i].dev);
		s->queues[i].cpu = d->w[i].cpu;
	}
	s->n_queues = (int)d->n_workers;
	for (k = 0; k < d->scfg.n_addrs; k++) {
		s->addrs[k].addr = d->scfg.addrs[k].addr;
		s->addrs[k].prefix_len = d->scfg.addrs[k].prefix_len;
		s->addrs[k].dedicated = d->scfg.addrs[k].dedicated;
	}
	for (k = 0; k < d->cfg.n_addrs6; k++) {
		s->addrs6[k].addr = d->cfg.addrs6[k].addr;
		s->addrs6[k].prefix_len = d->cfg.addrs6[k].prefix_len;
		s->addrs6[k].dedicated = d->a6.dedicated[k];
		s->addrs6[k].link_local = d->cfg.addrs6[k].link_local;
	}
	s->n_addrs6 = d->cfg.n_addrs6;
	s->max_conns = d->cfg.max_conns;
	s->http_max_conns = d->http_max_conns;
	s->syn_backlog = d->cfg.syn_backlog;
	s->frames = d->cfg.frames;
	s->failover_ms = d->cfg.failover_ms;
	s->seccomp = skiffd_seccomp_name(d->cfg.seccomp);
	if (d->ctl)
		s->ctl = *ctl_server_stats(d->ctl);
	s->http_idle_s = d->cfg.http_idle_s;
	s->http_per_source = d->cfg.http_per_source;
	s->n_addrs = d->scfg.n_addrs;
	s->echo_ports = d->cfg.echo_ports;
	s->n_echo = d->cfg.n_echo;
	s->discard_ports = d->cfg.discard_ports;
	s->n_discard = d->cfg.n_discard;
	s->tcp = d->n_workers && d->w[0].tcp_svcs;
	s->http_port = d->cfg.http_port;
	s->http_dir = d->cfg.http_dir;
}

static void verb_status(void *ctx, const struct ctl_request *req, struct strbuf *sb)
{
	struct skiffd *d = ctx;
	bool json = req->json;
	struct report_status *s = calloc(1, sizeof(*s));

	if (!s) {
		report_error(sb, "out of memory", json);
		return;
	}
	fill_status(d, s);
	report_status(sb, s, json);
	free(s);
}

static void verb_stats(void *ctx, const struct ctl_request *req, struct strbuf *sb)
{
	struct skiffd *d = ctx;
	bool json = req->json;
	struct report_queue_stats *q;
	struct skiff_xdp_stats xdp;
	uint32_t i;
	bool have_xdp;

	q = calloc(d->n_workers ? d->n_workers : 1, sizeof(*q));
	if (!q) {
		report_error(sb, "out of memory", json);
		return;
	}
	for (i = 0; i < d->n_workers; i++) {
		q[i].queue = d->w[i].queue;
		q[i].rx_pps = d->w[i].rx_pps;
		q[i].tx_pps = d->w[i].tx_pps;
		/* the worker writes these concurrently: each 64-bit word is read
		 * whole, the set may be a burst apart (see the file comment) */
		memcpy(&q[i].st, (const void *)d->w[i].stats, sizeof(q[i].st));
		/* the socket's own counters: one getsockopt on its fd, which is
		 * safe while the worker runs (nothing else of the device is read) */
		q[i].xsk_err = d->w[i].dev ? xsk_netdev_kernel_stats(d->w[i].dev, &q[i].xsk)
					   : -ENODEV;
	}
	have_xdp = !skiff_bpf_xdp_stats(d->b, &xdp);
	report_stats(sb, q, (int)d->n_workers, have_xdp ? &xdp : NULL, json);
	free(q);
}

struct neigh_collect {
	struct report_neigh *v;
	int n, cap;
	uint64_t now;
	int worker;
};

static int neigh_collect_one(void *arg, uint32_t ip, const uint8_t mac[6], uint64_t updated_ns)
{
	struct neigh_collect *c = arg;
	struct report_neigh *v;

	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 64;
		v = realloc(c->v, (size_t)c->cap * sizeof(*v));
		if (!v)
			return 1;
		c->v = v;
	}
	memset(&c->v[c->n], 0, sizeof(c->v[c->n]));
	c->v[c->n].ip = ip;
	memcpy(c->v[c->n].mac, mac, 6);
	c->v[c->n].age_ns = c->now > updated_ns ? c->now - updated_ns : 0;
	c->v[c->n].worker = -1;
	c->n++;
	return 0;
}

static int neigh6_collect_one(void *arg, const uint8_t ip6[16], const uint8_t mac[6],
			      uint64_t updated_ns)
{
	struct neigh_collect *c = arg;

	if (neigh_collect_one(c, 0, mac, updated_ns))
		return 1;
	c->v[c->n - 1].v6 = true;
	memcpy(c->v[c->n - 1].ip6, ip6, 16);
	return 0;
}

/*
 * A worker's cache entry (IPv4 ARP or IPv6 NDP) that the shared map lacks:
 * resolution pending or failed.  Resolved entries are the map's, already
 * listed.
 */
static int neigh_collect_unresolved(struct neigh_collect *c, const struct neigh_info *ni, bool v6)
{
	int i, n = c->n, err;

	if (ni->state != NEIGH_INCOMPLETE && ni->state != NEIGH_FAILED)
		return 0;
	for (i = 0; i < n; i++) {
		if (c->v[i].worker >= 0)
			continue;
		if (v6 ? c->v[i].v6 && !memcmp(c->v[i].ip6, ni->ip6, 16) : c->v[i].ip == ni->ip)
			return 0;
	}
	if (v6)
		err = neigh6_collect_one(c, ni->ip6, ni->mac, ni->confirmed_ns);
	else
		err = neigh_collect_one(c, ni->ip, ni->mac, ni->confirmed_ns);
	if (err)
		return 1;
	if (!ni->confirmed_ns)
		c->v[c->n - 1].age_ns = REPORT_AGE_NEVER;
	c->v[c->n - 1].state = ni->state == NEIGH_INCOMPLETE ? "incomplete" : "failed";
	c->v[c->n - 1].worker = c->worker;
	return 0;
}

static int neigh_collect_pending(void *arg, const struct neigh_info *ni)
{
	return neigh_collect_unresolved(arg, ni, false);
}

static int neigh6_collect_pending(void *arg, const struct neigh_info *ni)
{
	return neigh_collect_unresolved(arg, ni, true);
}

/* IPv4 first, then IPv6, each in address order. */
static int neigh_cmp(const void *a, const void *b)
{
	const struct report_neigh *p = a, *q = b;
	uint32_t x = ntohl(p->ip), y = ntohl(q->ip);

	if (p->v6 != q->v6)
		return p->v6 ? 1 : -1;
	if (p->v6)
		return memcmp(p->ip6, q->ip6, 16);
	return x < y ? -1 : x > y;
}

static void verb_neigh(void *ctx, const struct ctl_request *req, struct strbuf *sb)
{
	struct skiffd *d = ctx;
	bool json = req->json;
	struct neigh_collect c = { .now = clock_now() };
	uint32_t i;

	if (d->hooks.neigh_walk)
		d->hooks.neigh_walk(d->hooks.ctx, neigh_collect_one, &c);
	if (d->b)
		skiff_bpf_neigh6_walk(d->b, neigh6_collect_one, &c);
	for (i = 0; i < d->n_workers; i++) {
		c.worker = (int)i;
		pthread_mutex_lock(&d->w[i].lock);
		neigh_for_each(&d->w[i].st, neigh_collect_pending, &c);
		neigh_table_for_each(d->w[i].st.nd, neigh6_collect_pending, &c);
		pthread_mutex_unlock(&d->w[i].lock);
	}
	if (c.n)
		qsort(c.v, (size_t)c.n, sizeof(*c.v), neigh_cmp);
	report_neigh(sb, c.v, c.n, NEIGH_STALE_NS, json);
	free(c.v);
}

struct sock_collect {
	struct report_sock *v;
	int n, cap;
	int worker;
	bool oom;
	bool tcp_walk;		/* visiting TCP connections */
};

static void sock_collect_one(void *arg, const struct sock *sk)
{
	struct sock_collect *c = arg;
	struct tcp_conn_info ti;
	struct report_sock *v;

	/* TCP is listed from tcp_walk, which also sees the orphans */
	if (!c->tcp_walk && sk->prot && sk->prot->protocol == IPPROTO_TCP)
		return;
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 64;
		v = realloc(c->v, (size_t)c->cap * sizeof(*v));
		if (!v) {
			c->oom = true;
			c->cap = c->n;
			return;
		}
		c->v = v;
	}
	c->v[c->n] = (struct report_sock){
		.worker = c->worker,
		.proto = sk->prot && sk->prot->name ? sk->prot->name : "?",
		.saddr = sk->saddr6,
		.sport = sk->sport,
		.daddr = sk->daddr6,
		.dport = sk->dport,
		.rq_bytes = sk->rcvq.bytes,
		.rq_packets = sk->rcvq.len,
	};
	if (c->tcp_walk && !tcp_get_info(sk, &ti)) {
		v = &c->v[c->n];
		v->tcp = true;
		v->state = tcp_state_name(ti.state);
		v->rq_bytes = ti.rcvq;
		v->rq_packets = 0;
		v->sq_bytes = ti.sndq;
		v->cwnd = ti.cwnd;
		v->srtt_us = ti.srtt_us;
		v->rttvar_us = ti.rttvar_us;
		v->rto_ms = ti.rto_ms;
		v->mss = ti.mss;
		v->retrans = ti.retrans;
		v->cc = ti.cc;
		snprintf(v->cc_state, sizeof(v->cc_state), "%s", ti.cc_state);
		v->orphan = !sk->socket;
	}
	c->n++;
}

static void verb_sockets(void *ctx, const struct ctl_request *req, struct strbuf *sb)
{
	struct skiffd *d = ctx;
	bool json = req->json;
	struct sock_collect c = { 0 };
	uint32_t i;

	for (i = 0; i < d->n_workers; i++) {
		c.worker = (int)i;
		pthread_mutex_lock(&d->w[i].lock);
		c.tcp_walk = false;
		sock_walk(&d->w[i].st, sock_collect_one, &c);
		c.tcp_walk = true;
		tcp_walk(&d->w[i].st, sock_collect_one, &c);
		pthread_mutex_unlock(&d->w[i].lock);
	}
	if (c.oom)
		report_error(sb, "out of memory", json);
	else
		report_sockets(sb, c.v, c.n, json);
	free(c.v);
}

/* The route table (the same in every worker) with the use counts summed. */
static void verb_routes(void *ctx, const struct ctl_request *req, struct strbuf *sb)
{
	struct skiffd *d = ctx;
	bool json = req->json;
	struct route_info ri[ROUTE_MAX_ENTRIES];
	struct route6_info r6[ROUTE6_SLOTS];
	struct report_route rr[ROUTE_MAX_ENTRIES + ROUTE6_SLOTS];
	uint64_t uses[ROUTE_SLOTS] = { 0 }, uses6[ROUTE6_SLOTS] = { 0 };
	int n = 0, n6 = 0, k;
	uint32_t i;

	for (i = 0; i < d->n_workers; i++) {
		pthread_mutex_lock(&d->w[i].lock);
		n = ip_route_dump(&d->w[i].st, ri, ROUTE_MAX_ENTRIES);
		n6 = ipv6_route_dump(&d->w[i].st, r6, ROUTE6_SLOTS);
		pthread_mutex_unlock(&d->w[i].lock);
		for (k = 0; k < n; k++)
			uses[ri[k].slot] += ri[k].uses;
		for (k = 0; k < n6; k++)
			uses6[r6[k].slot] += r6[k].uses;
	}
	for (k = 0; k < n; k++) {
		rr[k] = (struct report_route){
			.kind = ri[k].kind == ROUTE_LINK     ? REPORT_ROUTE_LINK
				: ri[k].kind == ROUTE_STATIC ? REPORT_ROUTE_STATIC
							     : REPORT_ROUTE_DEFAULT,
			.dst = ri[k].dst,
			.prefix_len = ri[k].prefix_len,
			.gateway = ri[k].gateway,
			.src = ri[k].src,
			.uses = uses[ri[k].slot],
		};
	}
	for (k = 0; k < n6; k++) {
		rr[n + k] = (struct report_route){
			.kind = r6[k].is_default  ? REPORT_ROUTE_DEFAULT
				: r6[k].is_static ? REPORT_ROUTE_STATIC
						  : REPORT_ROUTE_LINK,
			.prefix_len = r6[k].prefix_len,
			.uses = uses6[r6[k].slot],
			.v6 = true,
		};
		memcpy(&rr[n + k].dst6, r6[k].dst, 16);
		memcpy(&rr[n + k].gateway6, r6[k].gateway, 16);
		memcpy(&rr[n + k].src6, r6[k].src, 16);
	}
	report_routes(sb, rr, n + n6, d->cfg.iface, json);
}

/* Every worker's path MTU cache (each worker keeps its own). */
static void verb_pmtu(void *ctx, const struct ctl_request *req, struct strbuf *sb)
{
	struct skiffd *d = ctx;
	bool json = req->json;
	struct pmtu6_info pi[PMTU6_MAX_ENTRIES];
	struct report_pmtu *rp;
	int n = 0, k, m;
	uint32_t i;

	rp = calloc((size_t)d->n_workers * PMTU6_MAX_ENTRIES, sizeof(*rp));
	if (!rp) {
		report_error(sb, "out of memory", json);
		return;
	}
	for (i = 0; i < d->n_workers; i++) {
		pthread_mutex_lock(&d->w[i].lock);
		m = ipv6_pmtu_dump(&d->w[i].st, pi, PMTU6_MAX_ENTRIES);
		pthread_mutex_unlock(&d->w[i].lock);
		for (k = 0; k < m; k++, n++) {
			memcpy(&rp[n].dst, pi[k].dst, 16);
			rp[n].mtu = pi[k].mtu;
			rp[n].expires_ns = pi[k].expires_ns;
			rp[n].worker = (int)i;
		}
	}
	report_pmtu(sb, rp, n, d->cfg.iface, json);
	free(rp);
}

static void verb_apps(void *ctx, const struct ctl_request *req, struct strbuf *sb)
{
	struct skiffd *d = ctx;

	if (d->apps)
		app_host_report(d->apps, sb, req->json);
	else
		report_error(sb, "applications cannot attach to this skiffd", req->json);
}

/* An application attaches (docs/apps.md): the connection becomes its own. */
static bool verb_attach(void *ctx, const struct ctl_request *req, int fd,
			const struct ctl_peer *peer, struct strbuf *out)
{
	struct skiffd *d = ctx;
	char msg[96];

	if (!d->apps) {
		snprintf(msg, sizeof(msg),
			 "applications cannot attach to this skiffd (more than %d queues)",
			 SKIFF_APP_MAX_WORKERS);
		report_error(out, msg, req->json);
		return false;
	}
	return app_host_attach(d->apps, fd, peer, out);
}

/* The control verbs and who may use them (docs/security.md). */
static const struct ctl_verb ctl_verbs[] = {
	{ "attach", CTL_PERM_ATTACH, 0, NULL, verb_attach },
	{ "apps", CTL_PERM_READ, 0, verb_apps, NULL },
	{ "status", CTL_PERM_READ, 0, verb_status, NULL },
	{ "stats", CTL_PERM_READ, 0, verb_stats, NULL },
	{ "neigh", CTL_PERM_READ, 0, verb_neigh, NULL },
	{ "sockets", CTL_PERM_READ, 0, verb_sockets, NULL },
	{ "routes", CTL_PERM_READ, 0, verb_routes, NULL },
	{ "pmtu", CTL_PERM_READ, 0, verb_pmtu, NULL },
};

/* packets/s per queue from the counter deltas since the last tick */
static void rates_tick(struct skiffd *d, uint64_t now)
{
	uint64_t dt = now - d->last_rate_ns, rx, tx;
	uint32_t i;

	if (!dt)
		return;
	for (i = 0; i < d->n_workers; i++) {
		struct worker *w = &d->w[i];

		rx = ((volatile struct skiff_ustats *)w->stats)->rx_packets;
		tx = ((volatile struct skiff_ustats *)w->stats)->tx_packets;
		w->rx_pps = (rx - w->last_rx) * NSEC_PER_SEC / dt;
		w->tx_pps = (tx - w->last_tx) * NSEC_PER_SEC / dt;
		w->last_rx = rx;
		w->last_tx = tx;
	}
	d->last_rate_ns = now;
}

static int main_loop(struct skiffd *d)
{
	struct signalfd_siginfo si;
	struct pollfd pfd[4];
	uint64_t now, v;
	int timeout, ctl_timeout;

	pfd[0].fd = d->sig_fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = ctl_server_fd(d->ctl);
	pfd[1].events = POLLIN;
	pfd[2].fd = d->client_efd;	/* -1 without a client: ignored by poll */
	pfd[2].events = POLLIN;
	pfd[3].fd = d->apps ? app_host_fd(d->apps) : -1;	/* hang-ups of applications */
	pfd[3].events = POLLIN;
	for (;;) {
		now = clock_now();
		if (now - d->last_rate_ns >= RATE_INTERVAL_NS) {
			rates_tick(d, now);
			/* the interface was deleted (or its netns torn down) */
			if ((int)if_nametoindex(d->cfg.iface) != d->ifindex) {
				printf("skiffd: %s disappeared, shutting down\n", d->cfg.iface);
				return 1;
			}
		}
		timeout = (int)((d->last_rate_ns + RATE_INTERVAL_NS - now + NSEC_PER_MSEC - 1) /
				NSEC_PER_MSEC);
		ctl_timeout = ctl_server_timeout_ms(d->ctl);
		if (ctl_timeout >= 0 && ctl_timeout < timeout)
			timeout = ctl_timeout;
		if (poll(pfd, 4, timeout) < 0) {
			if (errno == EINTR)
				continue;
			fail("poll: %s", strerror(errno));
			return 1;
		}
		if (pfd[0].revents & POLLIN) {
			if (read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
				printf("skiffd: %s, shutting down\n", strsignal((int)si.ssi_signo));
				return 0;
			}
		}
		/* every time round: it also expires silent clients */
		ctl_server_run(d->ctl);
		if (pfd[3].revents & POLLIN)
			app_host_run(d->apps);
		if ((pfd[2].revents & POLLIN) && read(d->client_efd, &v, sizeof(v)) == sizeof(v) &&
		    d->cfg.exit_after_client) {
			printf("skiffd: client done, shutting down\n");
			return atomic_load(&d->client_rc);
		}
	}
}

/* ---- the built-in client (worker 0) ---- */

/* Runs on worker 0 from its event dispatch, under its lock. */
static void client_done(const struct client_result *res, void *arg)
{
	struct skiffd *d = arg;
	bool fetch = d->cfg.fetch_url[0];
	char line[512];
	uint64_t one = 1;
	bool ok;

	client_format(res, fetch, line, sizeof(line));
	/* a fetch succeeds with a 2xx answer only */
	ok = !res->err && (!fetch || (res->http_status >= 200 && res->http_status < 300));
	printf("%s\n", line);
	fflush(stdout);
	atomic_store(&d->client_rc, ok ? 0 : 1);
	if (d->client_efd >= 0 && write(d->client_efd, &one, sizeof(one)) < 0) {
		/* saturated: the main loop is woken anyway */
	}
}

static int client_begin(struct skiffd *d)
{
	struct worker *w = &d->w[0];
	char line[256];
	int ret;

	if (!d->cfg.fetch_url[0] && !d->cfg.send_port)
		return 0;
	d->client_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->client_efd < 0) {
		fail("eventfd: %s", strerror(errno));
		return -errno;
	}
	pthread_mutex_lock(&w->lock);
	if (d->cfg.fetch_url[0])
		ret = client_fetch_start(&w->st, d->cfg.fetch_url, client_done, d, &w->client);
	else
		ret = client_send_start(&w->st, &d->cfg.send_addr, d->cfg.send_port,
					d->cfg.send_bytes, client_done, d, &w->client);
	pthread_mutex_unlock(&w->lock);
	worker_wake(w);
	if (ret) {
		struct client_result res = { .err = ret };

		w->client = NULL;
		client_format(&res, d->cfg.fetch_url[0], line, sizeof(line));
		printf("%s\n", line);
		atomic_store(&d->client_rc, 1);
		if (d->cfg.exit_after_client)
			return ret;
	}
	return 0;
}

/* ---- start-up ---- */

static int resolve_queues(struct skiffd *d)
{
	struct skiffd_config *c = &d->cfg;
	char err[256];
	cpu_set_t allowed;
	int rxq, i;

	rxq = netif_rx_queues(c->iface);
	if (c->queues_all) {
		if (rxq > 0) {
			c->n_queues = rxq > SKIFF_MAX_QUEUES ? SKIFF_MAX_QUEUES : (uint32_t)rxq;
		} else {
			vlog(d, "%s does not report its channels (%s): serving 1 queue", c->iface,
			     strerror(-rxq));
			c->n_queues = 1;
		}
	} else if (rxq > 0 && c->n_queues > (uint32_t)rxq) {
		fail("%s has %d RX queue%s, --queues %u asks for more", c->iface, rxq,
		     rxq == 1 ? "" : "s", c->n_queues);
		return -EINVAL;
	}
	if (skiffd_config_check_queues(c, err, sizeof(err))) {
		fail("%s", err);
		return -EINVAL;
	}
	if (c->n_cpus) {
		CPU_ZERO(&allowed);
		if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0) {
			fail("cannot read the CPUs skiffd may run on: %s", strerror(errno));
			return -errno;
		}
		for (i = 0; i < (int)c->n_queues; i++) {
			if (!CPU_ISSET(c->cpus[i], &allowed)) {
				fail("--cpus: CPU %d does not exist or is not available to skiffd",
				     c->cpus[i]);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/*
 * On a shared address XDP gives skiff every frame for the ports it serves,
 * so a kernel socket on one of them would go silent.  Refuse (naming the
 * process) unless --take-port says so; then only warn.
 */
static int check_port(struct skiffd *d, int proto, uint32_t addr, uint16_t port)
{
	const char *pn = proto == IPPROTO_TCP ? "tcp" : "udp";
	char who[96], a[INET_ADDRSTRLEN];
	int i, ret;

	ret = kport_find(proto, addr, port, who, sizeof(who));
	if (ret < 0) {
		fail("cannot list the kernel's sockets (sock_diag): %s", strerror(-ret));
		return ret;
	}
	if (!ret)
		return 0;
	inet_ntop(AF_INET, &addr, a, sizeof(a));
	for (i = 0; i < d->cfg.n_take_ports; i++) {
		if (d->cfg.take_ports[i] == port) {
			fail("warning: taking %u/%s on %s from a kernel socket of %s (--take-port)",
			     port, pn, a, who);
			return 0;
		}
	}
	fail("%u/%s on %s, an address shared with the kernel, is in use by a kernel socket of %s: "
	     "skiff would take its traffic; stop it, serve another port, or pass --take-port %u",
	     port, pn, a, who, port);
	return -EADDRINUSE;
}

static int check_port_collisions(struct skiffd *d)
{
	const struct skiffd_config *c = &d->cfg;
	int i, k, ret = 0;

	for (i = 0; i < d->scfg.n_addrs && !ret; i++) {
		uint32_t addr = d->scfg.addrs[i].addr;

		if (d->scfg.addrs[i].dedicated)
			continue;
		for (k = 0; k < c->n_echo && !ret; k++)
			ret = check_port(d, IPPROTO_UDP, addr, c->echo_ports[k]) ?:
			      check_port(d, IPPROTO_TCP, addr, c->echo_ports[k]);
		for (k = 0; k < c->n_discard && !ret; k++)
			ret = check_port(d, IPPROTO_UDP, addr, c->discard_ports[k]) ?:
			      check_port(d, IPPROTO_TCP, addr, c->discard_ports[k]);
		if (c->http_port && !ret)
			ret = check_port(d, IPPROTO_TCP, addr, c->http_port);
	}
	return ret;
}

static int classify_addrs(struct skiffd *d)
{
	char a[INET_ADDRSTRLEN];
	int i, ret;

	memset(&d->scfg, 0, sizeof(d->scfg));
	for (i = 0; i < d->cfg.n_addrs; i++) {
		ret = netif_has_addr(d->cfg.iface, d->cfg.addrs[i].addr);
		if (ret < 0) {
			fail("cannot list the addresses of %s: %s", d->cfg.iface, strerror(-ret));
			return ret;
		}
		d->scfg.addrs[i].addr = d->cfg.addrs[i].addr;
		d->scfg.addrs[i].prefix_len = d->cfg.addrs[i].prefix_len;
		/* the kernel already has it: share (port split); else skiff's alone */
		d->scfg.addrs[i].dedicated = !ret;
		vlog(d, "%s/%u: %s", inet_ntop(AF_INET, &d->cfg.addrs[i].addr, a, sizeof(a)),
		     d->cfg.addrs[i].prefix_len, ret ? "shared" : "dedicated");
	}
	d->scfg.n_addrs = d->cfg.n_addrs;
	d->scfg.gateway = d->cfg.gateway;
	memcpy(d->scfg.gateway6, &d->cfg.gateway6, 16);
	/* --route: checked on-link by config; net/route.c does the lookups */
	for (i = 0; i < d->cfg.n_routes; i++) {
		d->scfg.routes[i].dst = d->cfg.routes[i].dst;
		d->scfg.routes[i].prefix_len = d->cfg.routes[i].prefix_len;
		d->scfg.routes[i].gateway = d->cfg.routes[i].gateway;
	}
	d->scfg.n_routes = d->cfg.n_routes;
	for (i = 0; i < d->cfg.n_routes6; i++) {
		memcpy(d->scfg.routes6[i].dst, &d->cfg.routes6[i].dst, 16);
		d->scfg.routes6[i].prefix_len = d->cfg.routes6[i].prefix_len;
		memcpy(d->scfg.routes6[i].gateway, &d->cfg.routes6[i].gateway, 16);
	}
	d->scfg.n_routes6 = d->cfg.n_routes6;
	d->scfg.tcp_syn_backlog = d->cfg.syn_backlog;
	d->scfg.reasm_timeout_s = d->cfg.frag_timeout;
	d->scfg.tcp_cc = d->cfg.tcp_cc;
	return 0;
}

/*
 * The capacity flags left at 0 take what memory allows: the SYN queue one
 * entry per MiB (tcp_syn_backlog_for_memory), each TCP service half the
 * memory shared with the others and across workers
 * (service_max_conns_for_memory; HTTP at HTTP_CONN_MEM a connection), the
 * UMEM XSK_DEFAULT_FRAMES per queue unless that is more than an eighth of
 * memory.
 */
static void resolve_capacity(struct skiffd *d)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	uint64_t mem = pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize : 1ULL << 30;
	uint32_t nq = d->cfg.n_queues ? d->cfg.n_queues : 1;
	uint32_t nsvc = (uint32_t)(d->cfg.n_echo + d->cfg.n_discard) + (d->cfg.http_port ? 1 : 0);
	uint64_t frames;

	if (!d->cfg.syn_backlog)
		d->cfg.syn_backlog = tcp_syn_backlog_for_memory(mem);
	if (!d->cfg.max_conns)
		d->cfg.max_conns = service_max_conns_for_memory(mem / (nsvc ? nsvc : 1), nq);
	d->http_max_conns = d->cfg.max_conns;
	if (d->http_max_conns > mem / 2 / nq / HTTP_CONN_MEM)
		d->http_max_conns = (uint32_t)(mem / 2 / nq / HTTP_CONN_MEM);
	if (!d->cfg.frames) {
		frames = mem / 8 / nq / XSK_FRAME_SIZE;
		d->cfg.frames = frames < XSK_DEFAULT_FRAMES ? (uint32_t)frames : XSK_DEFAULT_FRAMES;
		if (d->cfg.frames < XSK_MIN_FRAMES)
			d->cfg.frames = XSK_MIN_FRAMES;
	}
	vlog(d, "capacity: %u TCP connections per service and worker (HTTP %u), SYN queue %u, "
	     "%u UMEM frames per queue",
	     d->cfg.max_conns, d->http_max_conns, d->cfg.syn_backlog, d->cfg.frames);
}

/*
 * --vlan needs the 802.1Q tag in the frame XDP sees; a NIC with rx VLAN
 * offload ("rx-vlan-offload", feature rx-vlan-hw-parse) strips it into
 * metadata first, and every frame of the VLAN would be passed as untagged
 * (pass_vlan).  Warn, or with --fix-offloads turn it off until exit.  Never
 * fatal: a driver may not report its features.  On veth the flag does not
 * reach XDP (the peer's tx VLAN offload does, docs/veth.md), so the warning
 * says so there.
 */
static void check_offloads(struct skiffd *d)
{
	const char *ifn = d->cfg.iface;
	char drv[32] = "";
	int ret;

	if (!d->cfg.vlan_id)
		return;
	ret = netif_get_feature(ifn, NETIF_FEAT_RX_VLAN, NULL);
	if (ret < 0) {
		vlog(d, "%s: cannot read its rx VLAN offload setting (%s)", ifn, strerror(-ret));
		return;
	}
	if (!ret) {
		vlog(d, "%s: rx VLAN offload is off: the tag reaches XDP", ifn);
		return;
	}
	if (d->cfg.fix_offloads) {
		ret = netif_set_feature(ifn, NETIF_FEAT_RX_VLAN, false);
		if (!ret) {
			d->rxvlan_restore = true;
			printf("skiffd: %s: rx VLAN offload (rxvlan) turned off for --vlan; "
			       "back on at exit\n", ifn);
			return;
		}
		fail("warning: --fix-offloads: cannot turn the rx VLAN offload of %s off: %s",
		     ifn, strerror(-ret));
	}
	netif_driver(ifn, drv, sizeof(drv));
	fail("warning: %s: rx VLAN offload is on, so the NIC may strip the 802.1Q tag "
	     "before XDP and --vlan %u sees none of the VLAN's frames: run `ethtool -K %s "
	     "rxvlan off` (or start skiffd with --fix-offloads)%s", ifn, d->cfg.vlan_id, ifn,
	     strcmp(drv, "veth") ? "" :
	     " [veth ignores this flag for XDP; the peer's txvlan must be off instead]");
}

static int setup_signals(struct skiffd *d)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);	/* a clean stop as well (see the file comment) */
	/* blocked before any thread exists, so every thread inherits it and
	 * the signals arrive only through the signalfd */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL)) {
		fail("cannot block signals");
		return -EINVAL;
	}
	d->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d->sig_fd < 0) {
		fail("signalfd: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static int skiffd_start(struct skiffd *d)
{
	struct skiff_loader_opts lo;
	char err[1024], a[INET_ADDRSTRLEN];
	uint8_t mac[6];
	pid_t holder;
	uint32_t i;
	int ret, k;

	if (!if_nametoindex(d->cfg.iface)) {
		fail("interface %s does not exist in this network namespace", d->cfg.iface);
		return -ENODEV;
	}
	if (netif_check_privileges(err, sizeof(err))) {
		fail("%s", err);
		return -EPERM;
	}
	ret = resolve_queues(d);
	if (ret)
		return ret;

	/* single instance: the control socket's lock file, root's alone */
	ret = ctl_server_open(&d->ctl, d->cfg.iface, ctl_verbs,
			      sizeof(ctl_verbs) / sizeof(ctl_verbs[0]), d, &holder, err,
			      sizeof(err));
	if (ret == -EADDRINUSE) {
		if (holder)
			fail("another skiffd is already running on %s (pid %d)", d->cfg.iface,
			     (int)holder);
		else
			fail("another skiffd is already running on %s", d->cfg.iface);
		return -EADDRINUSE;
	}
	if (ret) {
		fail("%s", err);
		return ret;
	}

	check_offloads(d);
	resolve_capacity(d);
	ret = classify_addrs(d);
	if (ret)
		return ret;
	ret = check_port_collisions(d);
	if (ret)
		return ret;
	if (d->cfg.http_port) {
		char why[PATH_MAX + 96];

		ret = http_docroot_check(d->cfg.http_dir, why, sizeof(why));
		if (ret) {
			fail("--http %u:%s: will not serve this directory: %s", d->cfg.http_port,
			     d->cfg.http_dir, why);
			return ret;
		}
	}
	ret = setup_signals(d);
	if (ret)
		return ret;

	memset(&lo, 0, sizeof(lo));
	lo.ifname = d->cfg.iface;
	lo.pin_dir = d->cfg.pin_dir[0] ? d->cfg.pin_dir : NULL;
	lo.mode = d->cfg.mode;
	lo.vlan_id = d->cfg.vlan_id;
	lo.n_queues = d->cfg.n_queues;
	lo.failover_ns = (uint64_t)d->cfg.failover_ms * NSEC_PER_MSEC;
	err[0] = '\0';
	ret = skiff_bpf_attach(&lo, &d->b, err, sizeof(err));
	if (ret) {
		d->b = NULL;
		fail("%s", err[0] ? err : strerror(-ret));
		return ret;
	}
	d->ifindex = skiff_bpf_ifindex(d->b);
	d->mtu = skiff_bpf_mtu(d->b);
	vlog(d, "XDP attached to %s in %s mode (%s), maps pinned in %s", d->cfg.iface,
	     skiff_bpf_mode(d->b), skiff_bpf_attach_kind(d->b), skiff_bpf_pin_dir(d->b));
	for (k = 0; k < d->scfg.n_addrs; k++) {
		ret = skiff_bpf_add_addr(d->b, d->scfg.addrs[k].addr, d->scfg.addrs[k].prefix_len,
					 d->scfg.addrs[k].dedicated);
		if (ret) {
			fail("cannot add %s to the addrs map: %s",
			     inet_ntop(AF_INET, &d->scfg.addrs[k].addr, a, sizeof(a)),
			     strerror(-ret));
			return ret;
		}
	}
	skiff_bpf_mac(d->b, mac);
	ret = addr6_setup(&d->a6, &d->cfg, mac, err, sizeof(err));
	if (ret) {
		fail("%s", err);
		return ret;
	}
	for (k = 0; k < d->cfg.n_addrs6; k++) {
		ret = skiff_bpf_add_addr6(d->b, &d->cfg.addrs6[k].addr, d->cfg.addrs6[k].prefix_len,
					  d->a6.dedicated[k]);
		if (ret) {
			fail("cannot add an IPv6 address to the addrs6 map: %s", strerror(-ret));
			return ret;
		}
		memcpy(d->scfg.addrs6[k].addr, &d->cfg.addrs6[k].addr, 16);
		d->scfg.addrs6[k].prefix_len = d->cfg.addrs6[k].prefix_len;
		d->scfg.addrs6[k].dedicated = d->a6.dedicated[k];
	}
	d->scfg.n_addrs6 = d->cfg.n_addrs6;
	skiff_bpf_hooks(d->b, &d->hooks);

	d->w = calloc(d->cfg.n_queues, sizeof(*d->w));
	if (!d->w) {
		fail("out of memory");
		return -ENOMEM;
	}
	if (d->cfg.n_queues > 1) {
		/* a slot holds a whole frame: MTU + Ethernet header + VLAN tag */
		uint32_t fmax = d->mtu + 18 > HANDOFF_SLOT_SIZE - 8 ? d->mtu + 18 : 0;

		ret = handoff_create(&d->handoff, d->cfg.n_queues, 0, fmax);
		if (ret) {
			fail("cannot set up the handoff between %u workers: %s", d->cfg.n_queues,
			     strerror(-ret));
			return ret;
		}
		handoff_set_wake(d->handoff, worker_wake_idx, d);
		vlog(d, "handoff: %u x %u slots of %u bytes between %u workers",
		     d->cfg.n_queues * (d->cfg.n_queues - 1), handoff_ring_slots(d->handoff),
		     handoff_frame_max(d->handoff), d->cfg.n_queues);
	}
	for (i = 0; i < d->cfg.n_queues; i++) {
		struct worker *w = &d->w[i];

		w->d = d;
		w->queue = i;
		w->cpu = d->cfg.n_cpus ? d->cfg.cpus[i] : -1;
		w->stats = skiff_bpf_ustats(d->b, i);
		pthread_mutex_init(&w->lock, NULL);
		w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		d->n_workers = i + 1;	/* from here on teardown undoes this worker */
		if (w->efd < 0) {
			fail("eventfd: %s", strerror(errno));
			return -errno;
		}
		if (!w->stats) {
			fail("queue %u: no row in the ustats map", i);
			return -ERANGE;
		}
		ret = worker_setup(d, w);
		if (ret)
			return ret;
	}
	if (d->n_workers <= SKIFF_APP_MAX_WORKERS) {
		struct app_host_worker hw[SKIFF_APP_MAX_WORKERS];

		for (i = 0; i < d->n_workers; i++)
			hw[i] = (struct app_host_worker){ .st = &d->w[i].st, .lock = &d->w[i].lock };
		ret = app_host_create(&d->apps, hw, d->n_workers);
		if (ret) {
			fail("cannot set up application attach: %s", strerror(-ret));
			return ret;
		}
	}
	skiff_bpf_enable(d->b);
	d->start_ns = clock_now();
	d->last_rate_ns = d->start_ns;
	return 0;
}

/* Accept control clients: from now on skiffd counts as ready. */
static int skiffd_ready(struct skiffd *d)
{
	int ret = ctl_server_listen(d->ctl);

	if (ret)
		fail("cannot listen on the control socket %s: %s", ctl_server_path(d->ctl),
		     strerror(-ret));
	return ret;
}

static void print_summary(struct skiffd *d)
{
	struct report_status *s = calloc(1, sizeof(*s));
	struct strbuf sb;

	if (!s)
		return;
	sb_init(&sb);
	fill_status(d, s);
	report_status(&sb, s, false);
	fputs(sb_str(&sb), stdout);
	printf("skiffd: ready on %s (pid %d); stop with SIGINT, SIGTERM or SIGHUP\n", d->cfg.iface,
	       (int)getpid());
	fflush(stdout);
	sb_free(&sb);
	free(s);
}

/* The system call filter (cmd/seccomp.h), on every thread, before any
 * worker exists. */
static int seccomp_start(struct skiffd *d)
{
	struct skiffd_seccomp_opts so = {
		.mode = d->cfg.seccomp,
		.dispatcher = !strcmp(skiff_bpf_attach_kind(d->b), "dispatcher"),
	};
	char err[256];

	if (skiffd_seccomp_install(&so, err, sizeof(err))) {
		fail("%s", err);
		return -EPERM;
	}
	if (d->cfg.seccomp != SKIFFD_SECCOMP_ENFORCE)
		fail("warning: --seccomp=%s: %s", skiffd_seccomp_name(d->cfg.seccomp),
		     d->cfg.seccomp == SKIFFD_SECCOMP_LOG ?
		     "system calls outside the filter are allowed and logged (dmesg)" :
		     "no system call filter");
	return 0;
}

int main(int argc, char **argv)
{
	struct skiffd *d;
	char err[256];
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	d = calloc(1, sizeof(*d));
	if (!d) {
		fail("out of memory");
		return SKIFFD_EXIT_USAGE;
	}
	d->sig_fd = -1;
	d->client_efd = -1;
	atomic_init(&d->stop, false);
	atomic_init(&d->client_rc, 0);

	rc = skiffd_cli(&d->cfg, argc, argv, stdout, stderr);
	if (rc >= 0) {
		free(d);
		return rc;
	}
	if (d->cfg.seccomp_dump) {
		struct skiffd_seccomp_opts so = { .mode = d->cfg.seccomp };

		fflush(stdout);
		rc = skiffd_seccomp_dump(&so, STDOUT_FILENO);
		if (rc)
			fail("cannot print the seccomp filter: %s", strerror(-rc));
		free(d);
		return rc ? SKIFFD_EXIT_USAGE : 0;
	}
	if (skiffd_start(d)) {
		skiffd_teardown(d);
		free(d);
		return SKIFFD_EXIT_USAGE;
	}
	/* set up: keep only what serving needs, before any worker exists */
	if (privs_drop(err, sizeof(err))) {
		fail("%s", err);
		skiffd_teardown(d);
		free(d);
		return SKIFFD_EXIT_USAGE;
	}
	d->privs_dropped = true;
	/* and from here on only the system calls serving and exit make */
	if (seccomp_start(d)) {
		skiffd_teardown(d);
		free(d);
		return SKIFFD_EXIT_USAGE;
	}
	if (workers_start(d) || skiffd_ready(d)) {
		skiffd_teardown(d);
		free(d);
		return SKIFFD_EXIT_USAGE;
	}
	print_summary(d);
	if (client_begin(d)) {
		skiffd_teardown(d);
		free(d);
		return 1;
	}
	rc = main_loop(d);
	skiffd_teardown(d);
	if (!rc)
		printf("skiffd: detached from %s, pins removed\n", d->cfg.iface);
	free(d);
	return rc;
}
