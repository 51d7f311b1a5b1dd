/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * skiffd's registry of attached applications (docs/apps.md).
 *
 * The control verb "attach" (class CTL_PERM_ATTACH) hands its connection
 * here: app_host_attach() creates the application's shared memory (a sealed
 * memfd, include/skiff/app_shm.h), its eventfd, one wake eventfd per
 * worker, and one struct app_worker per worker (apps/app_chan.h), and
 * answers "ok attach ..." with the fds in SCM_RIGHTS.  The connection stays
 * open: its hang-up (the process exited or was killed) makes the main
 * thread detach the application, closing its sockets on every worker.
 *
 * Threads.  attach/detach run on the main thread and change a worker's
 * list only under that worker's lock; app_host_worker_*() run on the
 * worker's thread under the same lock.
 */
#ifndef SKIFF_APP_HOST_H
#define SKIFF_APP_HOST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cmd/control.h"
#include "core/stack.h"
#include "skiff/app_shm.h"

#define APP_HOST_MAX_APPS 32 /* attached processes at once */

struct app_host;

struct app_host_worker {
	struct stack *st;
	pthread_mutex_t *lock;
};

/* n workers (at most SKIFF_APP_MAX_WORKERS); w is copied.  0 or -errno. */
int app_host_create(struct app_host **out, const struct app_host_worker *w, uint32_t n);

/* The fd the main loop polls for POLLIN (hang-ups of attached apps). */
int app_host_fd(const struct app_host *h);

/* Detach the applications that hung up; never blocks. */
void app_host_run(struct app_host *h);

/* The "attach" verb's take(): true when the application is attached (the fd
 * is the host's), false with an error line in out. */
bool app_host_attach(struct app_host *h, int fd, const struct ctl_peer *peer, struct strbuf *out);

/* Worker w's fd to poll for POLLIN: an application wants it awake. */
int app_host_worker_fd(const struct app_host *h, uint32_t w);

/* On worker w (under its lock): serve the applications; work done.
 * woken: its fd was readable (the wake-ups are consumed). */
int app_host_worker_poll(struct app_host *h, uint32_t w, bool woken);

/* On worker w (under its lock), after a wake-up by an application's kick:
 * whether a thread that kicked it runs on CPU cpu (the worker's). */
bool app_host_kicked_from(struct app_host *h, uint32_t w, int cpu);

/* On worker w (under its lock): an application's small send is held for
 * its close() (app_worker_holding()). */
bool app_host_worker_holding(struct app_host *h, uint32_t w);

/* On worker w (under its lock), before it sleeps: false if it must not. */
bool app_host_worker_may_sleep(struct app_host *h, uint32_t w);

/* "apps": one line per attached application (text or JSON). */
void app_host_report(struct app_host *h, struct strbuf *sb, bool json);

/* Detach every application and free; before the workers' stacks go. */
void app_host_destroy(struct app_host *h);

#endif /* SKIFF_APP_HOST_H */
