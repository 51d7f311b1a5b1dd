// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The core of one stack instance: its timer wheel and big-buffer pool, the
 * ethertype table (Linux's ptype list, dev_add_pack/netif_receive_skb), the
 * poll hooks, drop accounting, and stack_poll(), the body of a worker's
 * run-to-completion loop.  Protocol layers plug in from above through
 * st->link_rcv, dev_add_pack() and stack_add_poll_hook(); nothing here knows
 * any protocol.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/handoff.h"
#include "core/stack.h"

/*
 * Heap buffers for what does not fit a frame: reassembled datagrams (up to
 * 65535 bytes of IPv4) and large datagrams built for fragmentation, with the
 * usual transmit headroom in front.
 */
#define STACK_BIG_BUFS		32
#define STACK_BIG_BUF_SIZE	(68 * 1024)

int stack_init(struct stack *st, struct netdev *dev, const struct stack_config *cfg,
	       const struct stack_hooks *hooks)
{
	int err;

	memset(st, 0, sizeof(*st));
	if (!dev || !cfg || !dev->stats || !dev->ops)
		return -EINVAL;
	st->dev = dev;
	st->cfg = cfg;
	if (hooks)
		st->hooks = *hooks;
	st->stats = dev->stats;
	st->now = clock_now();

	err = timer_wheel_create(&st->timers, st->now);
	if (err)
		return err;

	st->big_pool = malloc(sizeof(*st->big_pool));
	if (!st->big_pool) {
		err = -ENOMEM;
		goto err_timers;
	}
	err = pkb_pool_init(st->big_pool, NULL, STACK_BIG_BUFS, STACK_BIG_BUF_SIZE,
			    NETDEV_TX_HEADROOM, "big");
	if (err)
		goto err_pool;
	return 0;

err_pool:
	free(st->big_pool);
	st->big_pool = NULL;
err_timers:
	timer_wheel_destroy(st->timers);
	st->timers = NULL;
	return err;
}

/* Layers must have deleted their timers and freed their buffers (inet_fini). */
void stack_fini(struct stack *st)
{
	if (st->big_pool) {
		pkb_pool_fini(st->big_pool);
		free(st->big_pool);
		st->big_pool = NULL;
	}
	timer_wheel_destroy(st->timers);
	st->timers = NULL;
	st->link_rcv = NULL;
	st->n_ptypes = 0;
	st->n_poll_hooks = 0;
}

void pkb_drop(struct stack *st, struct pkb *pkb, enum skiff_drop reason)
{
	uint64_t *drops = (uint64_t *)&st->stats->drop;

	if ((unsigned int)reason < SKIFF_DROP_MAX)
		drops[reason]++;
	pkb_free(pkb);
}

void stack_rx(struct stack *st, struct pkb *pkb)
{
	if (!pkb->dev)
		pkb->dev = st->dev;
	if (!st->link_rcv) {
		pkb_drop(st, pkb, SKIFF_DROP_eth_unknown_type);
		return;
	}
	st->link_rcv(st, pkb);
}

int stack_poll(struct stack *st)
{
	struct pkb *pkbs[STACK_RX_BURST];
	struct netdev *dev = st->dev;
	int i, n, rx;

	st->now = clock_now();
	st->in_poll = true;	/* a burst (stack_batch_end() below) */
	/* frames other workers received for our ephemeral ports come first */
	n = handoff_drain(st, STACK_RX_BURST);
	rx = dev->ops->rx_burst(dev, pkbs, STACK_RX_BURST);
	for (i = 0; i < rx; i++)
		stack_rx(st, pkbs[i]);
	n += rx;
	if (st->handoff_wake)
		handoff_kick(st);	/* once per burst, not per frame */
	timers_run(st, st->now);
	st->poll_again = false;
	return n + stack_batch_end(st, true);
}

bool stack_batch_begin(struct stack *st)
{
	if (st->in_poll)
		return false;	/* inside a burst already: its end flushes */
	st->in_poll = true;
	st->poll_again = false;
	return true;
}

int stack_batch_end(struct stack *st, bool began)
{
	int i;

	if (!began)
		return 0;
	for (i = 0; i < st->n_poll_hooks; i++)
		st->poll_hooks[i](st);
	st->in_poll = false;
	st->dev->ops->flush(st->dev);
	return st->poll_again ? 1 : 0;
}

int stack_set_worker(struct stack *st, uint32_t worker, uint32_t n_workers, struct handoff *h)
{
	if (!n_workers || worker >= n_workers || n_workers > HANDOFF_MAX_WORKERS)
		return -EINVAL;
	if (h && handoff_n_workers(h) != n_workers)
		return -EINVAL;
	st->worker = worker;
	st->n_workers = n_workers;
	st->handoff = n_workers > 1 ? h : NULL;
	st->handoff_wake = 0;
	return 0;
}

int dev_add_pack(struct stack *st, uint16_t type, int (*func)(struct stack *, struct pkb *))
{
	int i;

	for (i = 0; i < st->n_ptypes; i++)
		if (st->ptypes[i].type == type)
			return -EEXIST;
	if (st->n_ptypes >= STACK_MAX_PTYPES)
		return -ENOSPC;
	st->ptypes[st->n_ptypes].type = type;
	st->ptypes[st->n_ptypes].func = func;
	st->n_ptypes++;
	return 0;
}

/* Added (not in the first contract): undo dev_add_pack() in a layer's fini. */
int dev_remove_pack(struct stack *st, uint16_t type)
{
	int i;

	for (i = 0; i < st->n_ptypes; i++) {
		if (st->ptypes[i].type != type)
			continue;
		st->n_ptypes--;
		memmove(&st->ptypes[i], &st->ptypes[i + 1],
			(size_t)(st->n_ptypes - i) * sizeof(st->ptypes[0]));
		return 0;
	}
	return -ENOENT;
}

int netif_receive_pkb(struct stack *st, struct pkb *pkb)
{
	int i;

	for (i = 0; i < st->n_ptypes; i++)
		if (st->ptypes[i].type == pkb->protocol)
			return st->ptypes[i].func(st, pkb);
	pkb_drop(st, pkb, SKIFF_DROP_eth_unknown_type);
	return 0;
}

int stack_add_poll_hook(struct stack *st, void (*fn)(struct stack *st))
{
	if (st->n_poll_hooks >= STACK_MAX_POLL_HOOKS)
		return -ENOSPC;
	st->poll_hooks[st->n_poll_hooks++] = fn;
	return 0;
}

/* Added: undo stack_add_poll_hook(). */
int stack_remove_poll_hook(struct stack *st, void (*fn)(struct stack *st))
{
	int i;

	for (i = 0; i < st->n_poll_hooks; i++) {
		if (st->poll_hooks[i] != fn)
			continue;
		st->n_poll_hooks--;
		memmove(&st->poll_hooks[i], &st->poll_hooks[i + 1],
			(size_t)(st->n_poll_hooks - i) * sizeof(st->poll_hooks[0]));
		return 0;
	}
	return -ENOENT;
}

const struct stack_addr *stack_find_addr(const struct stack *st, uint32_t addr)
{
	int i;

	for (i = 0; i < st->cfg->n_addrs; i++)
		if (st->cfg->addrs[i].addr == addr)
			return &st->cfg->addrs[i];
	return NULL;
}
