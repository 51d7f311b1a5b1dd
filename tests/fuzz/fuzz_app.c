// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer harness: skiffd's side of the application protocol
 * (apps/app_chan.c, docs/apps.md) with the fuzzer as a hostile application.
 * One whole stack (tests/unit/harness.h, inet and TCP, the peer in the
 * neighbour map) serves one application region; the input is a sequence of
 * records that write that region as a process would:
 *
 *   0 off:u16 len:u8 bytes   bytes at off * 8 in the control part (header,
 *                            request ring, slots), clipped to it
 *   1 msg[64]                a request at ring 0's producer index, then
 *                            prod++ (so the worker reads it)
 *   2 prod:u32               ring 0's producer index, any value
 *   3 slot:u8 head:u32 tail:u32   a slot's tx head and rx tail, any value
 *   4 ms:u8                  app_worker_poll(), then the clock moves ms
 *                            and the stack polls (timers, retransmissions)
 *   5 slot:u8 part:u8 tail:u32   a datagram socket's rx part tail, any value
 *   6 port:u16 len:u8 bytes  a UDP datagram from the peer to that port
 *                            (network order), received by the stack
 *   7 q:u8 msg[64]           a request on ring q % SKIFF_APP_QUEUES (a
 *                            thread's, or the shared one), its q_used bit set
 *   8 q:u8 prod:u32          that ring's producer index, any value
 *   9 used:u64               the header's q_used (which rings are read)
 *  10 slot:u8 off:u16 len:u8 bytes   bytes into the tx FIFO of slot % 4 at
 *                            off (datagram records: flags, source address,
 *                            TTL and TOS of a send), wrapping at its end
 *
 * After the input the application "dies": app_worker_destroy(), the stack
 * runs its orphans out and is torn down, and every frame and big buffer must
 * be back in its pool; ASan/UBSan check every access the worker makes to
 * the region and to its own memory.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "apps/app_chan.h"
#include "core/clock.h"
#include "harness.h"
#include "sock/inet.h"
#include "transport/tcp_isn.h"

#define MS (1000ULL * 1000)
#define SEC (1000ULL * MS)
#define FZ_MAX_RECORDS 512
#define FZ_TX_SLOTS 4 /* record 10 writes the tx FIFOs of these slots */

#define FZ_CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "fuzz_app: check failed: %s (%s:%d)\n", #cond, __FILE__, \
				__LINE__); \
			abort(); \
		} \
	} while (0)

static const uint8_t fz_key[16] = {'f', 'u', 'z', 'z', '-', 'a', 'p', 'p'};

static struct {
	struct harness h;
	struct skiff_app_hdr lay;
	uint8_t *shm;
	struct skiff_app_chan *chan;
	struct skiff_app_ring *req; /* ring 0 */
	struct skiff_app_slot *slots;
	struct app_worker *aw;
} fz;

static void fz_poll(uint64_t ns)
{
	if (fz.aw)
		app_worker_poll(fz.aw, 64);
	clock_advance(ns);
	stack_poll(&fz.h.st);
	fakedev_purge(&fz.h.fd); /* what the stack sent: nobody answers */
}

/* A UDP datagram from the peer to our port (host order), received. */
static void fz_udp(uint16_t port, const uint8_t *payload, size_t len)
{
	uint8_t udp[8 + 255], frame[64 + sizeof(udp)];
	size_t n;

	udp[0] = 0x13; /* source port 5000 */
	udp[1] = 0x88;
	udp[2] = (uint8_t)(port >> 8);
	udp[3] = (uint8_t)port;
	udp[4] = (uint8_t)((8 + len) >> 8);
	udp[5] = (uint8_t)(8 + len);
	udp[6] = udp[7] = 0; /* no checksum (RFC 768) */
	memcpy(udp + 8, payload, len);
	n = harness_ip_frame(frame, sizeof(frame), H_PEER, H_ADDR, 17, 1, 0, udp, 8 + len);
	if (n)
		harness_rx(&fz.h, frame, n);
	fakedev_purge(&fz.h.fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tcp_secret_set(fz_key);
	skiff_app_layout(1, &fz.lay);
	fz.shm =
		mmap(NULL, fz.lay.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	FZ_CHECK(fz.shm != MAP_FAILED);
	fz.chan = (struct skiff_app_chan *)(fz.shm + fz.lay.chan_off);
	fz.req = &fz.chan->req[0];
	fz.slots = (struct skiff_app_slot *)(fz.shm + fz.lay.slot_off);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0, ctl = fz.lay.rx_off, at, n;
	struct skiff_app_ring *r;
	uint32_t v[2];
	int records = 0, i;
	uint8_t op;

	memset(fz.shm, 0, ctl);
	/* what record 10 may have written (the rest of the FIFOs stays zero) */
	memset(fz.shm + fz.lay.tx_off, 0, (size_t)FZ_TX_SLOTS * SKIFF_APP_FIFO);
	memcpy(fz.shm, &fz.lay, sizeof(fz.lay));
	((struct skiff_app_hdr *)fz.shm)->q_used = 1; /* ring 0, as the library */
	FZ_CHECK(harness_init(&fz.h, 1) == 0);
	harness_add_neigh(&fz.h, H_PEER, H_PEER_MAC);
	FZ_CHECK(app_worker_create(&fz.h.st, fz.shm, &fz.lay, 0, -1, &fz.aw) == 0);
	while (off < size && records++ < FZ_MAX_RECORDS) {
		op = data[off++] % 11;
		switch (op) {
		case 0:
			if (size - off < 3)
				goto done;
			at = (size_t)(data[off] << 8 | data[off + 1]) * 8 % ctl;
			n = data[off + 2];
			off += 3;
			n = n < size - off ? n : size - off;
			n = n < ctl - at ? n : ctl - at;
			memcpy(fz.shm + at, data + off, n);
			off += n;
			break;
		case 1:
			if (size - off < sizeof(struct skiff_app_msg))
				goto done;
			memcpy(&fz.req->msg[fz.req->prod % SKIFF_APP_RING], data + off,
			       sizeof(struct skiff_app_msg));
			fz.req->prod++;
			off += sizeof(struct skiff_app_msg);
			break;
		case 2:
			if (size - off < 4)
				goto done;
			memcpy(&fz.req->prod, data + off, 4);
			off += 4;
			break;
		case 3:
			if (size - off < 9)
				goto done;
			i = data[off] % SKIFF_APP_MAX_SOCKS;
			memcpy(v, data + off + 1, 8);
			fz.slots[i].tx.head = v[0];
			fz.slots[i].rx.tail = v[1];
			off += 9;
			break;
		case 4:
			if (size - off < 1)
				goto done;
			fz_poll((uint64_t)data[off++] * MS);
			break;
		case 5:
			if (size - off < 6)
				goto done;
			i = data[off] % SKIFF_APP_MAX_SOCKS;
			memcpy(v, data + off + 2, 4);
			fz.slots[i].urx_tail[data[off + 1] % SKIFF_APP_MAX_WORKERS] = v[0];
			off += 6;
			break;
		case 6:
			if (size - off < 3)
				goto done;
			n = data[off + 2];
			n = n < size - off - 3 ? n : size - off - 3;
			fz_udp(data[off] << 8 | data[off + 1], data + off + 3, n);
			off += 3 + n;
			break;
		case 7:
			if (size - off < 1 + sizeof(struct skiff_app_msg))
				goto done;
			r = &fz.chan->req[data[off] % SKIFF_APP_QUEUES];
			((struct skiff_app_hdr *)fz.shm)->q_used |= 1ull
								   << (data[off] % SKIFF_APP_QUEUES);
			memcpy(&r->msg[r->prod % SKIFF_APP_RING], data + off + 1,
			       sizeof(struct skiff_app_msg));
			r->prod++;
			off += 1 + sizeof(struct skiff_app_msg);
			break;
		case 8:
			if (size - off < 5)
				goto done;
			r = &fz.chan->req[data[off] % SKIFF_APP_QUEUES];
			memcpy(&r->prod, data + off + 1, 4);
			off += 5;
			break;
		case 9:
			if (size - off < 8)
				goto done;
			memcpy(&((struct skiff_app_hdr *)fz.shm)->q_used, data + off, 8);
			off += 8;
			break;
		case 10:
			if (size - off < 4)
				goto done;
			at = (size_t)(data[off + 1] << 8 | data[off + 2]);
			n = data[off + 3];
			i = data[off] % FZ_TX_SLOTS;
			off += 4;
			n = n < size - off ? n : size - off;
			for (size_t k = 0; k < n; k++)
				fz.shm[fz.lay.tx_off + (size_t)i * SKIFF_APP_FIFO +
				       (at + k) % SKIFF_APP_FIFO] = data[off + k];
			off += n;
			break;
		}
	}
done:
	fz_poll(0);
	app_worker_destroy(fz.aw);
	fz.aw = NULL;
	for (i = 0; i < 8; i++)
		fz_poll(60 * SEC); /* orphans retransmit, give up, leave TIME_WAIT */
	{
		struct stack *st = &fz.h.st;
		uint32_t big_free, big_n;

		inet_fini(st);
		fz.h.inet = 0;
		big_free = st->big_pool->n_free;
		big_n = st->big_pool->n;
		stack_fini(st);
		fakedev_purge(&fz.h.fd);
		FZ_CHECK(fakedev_frames_in_use(&fz.h.fd) == 0);
		FZ_CHECK(fz.h.fd.pool.double_free == 0);
		FZ_CHECK(big_free == big_n);
		fakedev_fini(&fz.h.fd);
	}
	return 0;
}
