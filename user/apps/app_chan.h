/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The worker's side of an attached application (docs/apps.md): one struct
 * app_worker per (application, worker) serves that worker's request rings
 * in the application's shared memory (include/skiff/app_shm.h) and moves
 * bytes between the sockets of this worker's stack and the slots' FIFOs.
 * Everything here runs on the worker's thread, under its lock, in its
 * run-to-completion loop; nothing blocks.
 *
 * Everything read from the shared memory is hostile: a message is copied
 * once and validated, an index written by the application is read once and
 * checked against the worker's private copy of the other one.  A bad
 * message is counted and ignored; a bad FIFO index resets that socket; a
 * corrupt ring index poisons the application on this worker (all its
 * sockets reset, its ring no longer read).  skiffd itself never trusts a
 * pointer, length or offset from the region.
 */
#ifndef SKIFF_APP_CHAN_H
#define SKIFF_APP_CHAN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/stack.h"
#include "skiff/app_shm.h"

struct app_worker;

struct app_worker_stats {
	uint64_t msgs;	    /* requests served */
	uint64_t bad_msgs;  /* unknown op, slot out of range, wrong state */
	uint64_t bad_index; /* a FIFO index out of range: socket reset */
	uint64_t poisoned;  /* the ring's producer index was out of range */
	uint64_t socks;	    /* sockets open now */
	uint64_t aborts;    /* connections reset at close (unread or unsent data) */
	uint64_t kicks;	    /* eventfd writes to wake the application's sleeping threads */
	uint64_t dgram_drops; /* datagrams dropped: no room in the rx part, no frame to send */
	uint64_t tx_holds;    /* small sends held for a close() or wait right behind them */
	uint64_t tx_hold_timeouts; /* of which sent at the end of the bound (APP_HOLD_NS) */
};

/*
 * Serve the application whose region (laid out as *layout, which the caller
 * computed itself and keeps private) is mapped at shm, as worker `worker`
 * of its stack st.  app_efd is the application's eventfd (not owned).
 * 0 or -errno.
 */
int app_worker_create(struct stack *st, void *shm, const struct skiff_app_hdr *layout,
		      uint32_t worker, int app_efd, struct app_worker **out);

/* The application's waiter eventfds (not owned), fds[0] being app_efd:
 * bit k of app_sleeping kicks fds[k].  Without this call there is one,
 * app_efd.  n at most SKIFF_APP_MAX_WAITERS. */
void app_worker_set_waiters(struct app_worker *aw, const int *fds, uint32_t n);

/* Whether the application thread whose kick woke the worker last ran on
 * CPU cpu (the worker's own); cleared by the reading. */
bool app_worker_kicked_from(struct app_worker *aw, int cpu);

/* Serve up to budget requests and flush wake-ups; how much was done. */
int app_worker_poll(struct app_worker *aw, int budget);

/* A small send is held (the worker should look again soon, yielding its
 * CPU meanwhile: the application thread that will close() may share it). */
bool app_worker_holding(const struct app_worker *aw);

/* Before the worker sleeps: tell the application to kick it; false when a
 * request arrived meanwhile (do not sleep).  After the sleep the next
 * app_worker_poll() clears the flag. */
bool app_worker_may_sleep(struct app_worker *aw);

/* The application is gone: serve what its ring still holds (requests it
 * posted before dying), then close its sockets as process exit does (RST
 * where data was unread or unsent, FIN otherwise), release its ports and
 * free.  Does not unmap the region nor close the eventfds (it may still
 * write them).  NULL ok. */
void app_worker_destroy(struct app_worker *aw);

void app_worker_get_stats(const struct app_worker *aw, struct app_worker_stats *out);

#endif /* SKIFF_APP_CHAN_H */
