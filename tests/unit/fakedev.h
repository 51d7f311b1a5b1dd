/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A fake driver for unit tests: a struct netdev whose receive side is a
 * queue the test fills with crafted frames and whose transmit side is a
 * queue the test reads back.  Buffers come from a pkb_pool the test can
 * account for (every buffer back in the pool after a test).
 */
#ifndef SKIFF_TEST_FAKEDEV_H
#define SKIFF_TEST_FAKEDEV_H

#include <stddef.h>
#include <stdint.h>

#include <skiff/skiff.h>

#include "core/netdev.h"
#include "core/pkb.h"

#define FAKEDEV_FRAME_SIZE 2048

struct fakedev {
	struct netdev dev;
	struct pkb_pool pool;		/* frames for rx and tx */
	struct pkb_queue rxq;		/* waiting for rx_burst */
	struct pkb_queue txq;		/* transmitted, for the test to read */
	struct skiff_ustats stats;
	uint32_t tx_limit;		/* txq length at which xmit fails; 0 = none */
};

int fakedev_init(struct fakedev *fd, const char *name, const uint8_t mac[6], uint32_t mtu,
		 uint32_t n_frames);
void fakedev_fini(struct fakedev *fd);
/* A received frame holding a copy of bytes (NULL if no frame free / too long). */
struct pkb *fakedev_frame(struct fakedev *fd, const void *bytes, size_t len);
/* Queue a copy of bytes for the next rx_burst.  0 or -errno. */
int fakedev_inject(struct fakedev *fd, const void *bytes, size_t len);
/* Next transmitted frame (data = Ethernet header) or NULL; caller frees it. */
struct pkb *fakedev_pop_tx(struct fakedev *fd);
/* Free every frame in txq and rxq. */
void fakedev_purge(struct fakedev *fd);
/* Buffers not on the pool's free stack. */
uint32_t fakedev_frames_in_use(const struct fakedev *fd);

#endif /* SKIFF_TEST_FAKEDEV_H */
