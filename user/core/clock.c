// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The stack's one clock: CLOCK_MONOTONIC (the base bpf_ktime_get_ns() uses,
 * so times stored by XDP in shared maps compare with ours), or a frozen fake
 * time that unit tests move by hand.  The fake state is process-wide: tests
 * run one stack at a time.
 */
#include <stdbool.h>
#include <time.h>

#include "core/clock.h"

static bool clock_fake;
static uint64_t clock_fake_ns;

uint64_t clock_now(void)
{
	struct timespec ts;

	if (clock_fake)
		return clock_fake_ns;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

void clock_set_fake(uint64_t ns)
{
	clock_fake = true;
	clock_fake_ns = ns;
}

void clock_advance(uint64_t ns)
{
	clock_fake_ns += ns;
}

void clock_use_real(void)
{
	clock_fake = false;
}
