// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Readiness: the EPOLL* state of a socket computed from its FIFO
 * indices and state, what EPOLLET reports, and waiting for it.
 */
#include "app_lib.h"

uint32_t sa_tx_space(int i)
{
	uint32_t used = A.L->s[i].tx_head - load_acq(&A.slots[i].tx.tail);

	return used > SKIFF_APP_FIFO ? 0 : SKIFF_APP_FIFO - used;
}

/* The room in slot i's tx FIFO; under need, the worker is also asked to
 * kick us when bytes leave (tx_wait) and the room is read again after
 * asking (it may have taken some just before: app_shm.h). */
uint32_t sa_tx_room(int i, uint32_t need)
{
	uint32_t room = sa_tx_space(i);

	if (room >= need)
		return room;
	if (!load_acq(&A.slots[i].tx_wait))
		store_rel(&A.slots[i].tx_wait, 1);
	atomic_thread_fence(memory_order_seq_cst);
	return sa_tx_space(i);
}

bool sa_any_accept(int i)
{
	uint32_t w;

	for (w = 0; w < A.n_workers; w++)
		if (load_acq(&A.slots[i].acceptq[w]))
			return true;
	return false;
}

/* Datagram sockets: the first part (from next_part on) with a record,
 * in *w; false when none. */
bool sa_dgram_next(int i, uint32_t *w)
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
	if (sa_dgram_next(i, &w))
		ev |= EPOLLIN;
	if (ls->rd_shut)
		ev |= EPOLLIN | EPOLLRDHUP;
	if (load_acq(&A.slots[i].err_seq) != ls->err_seen)
		ev |= EPOLLERR;
	/* writable while the largest datagram fits, as Linux's half of sndbuf */
	if (!ls->wr_shut && sa_tx_room(i, SKIFF_APP_DGRAM_REC(SKIFF_APP_DGRAM_MAX)) >=
				    SKIFF_APP_DGRAM_REC(SKIFF_APP_DGRAM_MAX))
		ev |= EPOLLOUT;
	return ev;
}

/* The EPOLL* readiness of slot i now. */
uint32_t sa_readiness(int i)
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
		return sa_any_accept(i) ? EPOLLIN : 0;
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
	if (!ls->wr_shut && sa_tx_room(i, 1))
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
uint32_t sa_activity(int i)
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
 * sa_activity()); *act gets the activity seen. */
uint32_t sa_et_news(const struct epent *e, uint32_t cur, uint32_t *act)
{
	*act = sa_activity(e->fd - SKIFF_FD_BASE);
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

	return sa_readiness(rw->i) & rw->mask;
}

/* Wait until slot i is ready for mask: 0 or -EINTR. */
int sa_wait_ready(int i, uint32_t mask, const struct sa_held *h)
{
	struct ready_wait rw = {.i = i, .mask = mask | EPOLLERR | EPOLLHUP};

	return sa_wait_for(ready, &rw, -1, true, h);
}
