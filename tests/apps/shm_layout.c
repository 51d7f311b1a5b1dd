// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Prints the offsets of include/skiff/app_shm.h as JSON, so the hostile
 * shared-memory tests in tests/integration/test_apps.py write the fields
 * they mean to (a process that attaches by hand, as a hostile one would).
 */
#include <stddef.h>
#include <stdio.h>

#include <skiff/app_shm.h>

int main(void)
{
	printf("{\"hdr_slot_off\": %zu, \"hdr_tx_off\": %zu, \"hdr_chan_off\": %zu,"
	       " \"slot_size\": %zu, \"rep_seq\": %zu, \"rep_res\": %zu, \"state\": %zu,"
	       " \"tx_head\": %zu, \"urx_tail\": %zu, \"ring_msg\": %zu, \"ring_prod\": %zu,"
	       " \"fifo\": %u, \"dgram_hdr\": %zu, \"chan_ring0\": %zu, \"ring_size\": %zu,"
	       " \"hdr_q_used\": %zu, \"queues\": %u, \"q_shared\": %u, \"msg_size\": %zu}\n",
	       offsetof(struct skiff_app_hdr, slot_off), offsetof(struct skiff_app_hdr, tx_off),
	       offsetof(struct skiff_app_hdr, chan_off), sizeof(struct skiff_app_slot),
	       offsetof(struct skiff_app_slot, rep_seq), offsetof(struct skiff_app_slot, rep_res),
	       offsetof(struct skiff_app_slot, state), offsetof(struct skiff_app_slot, tx.head),
	       offsetof(struct skiff_app_slot, urx_tail), offsetof(struct skiff_app_ring, msg),
	       offsetof(struct skiff_app_ring, prod), SKIFF_APP_FIFO,
	       sizeof(struct skiff_app_dgram), offsetof(struct skiff_app_chan, req),
	       sizeof(struct skiff_app_ring), offsetof(struct skiff_app_hdr, q_used),
	       SKIFF_APP_QUEUES, SKIFF_APP_Q_SHARED, sizeof(struct skiff_app_msg));
	return 0;
}
