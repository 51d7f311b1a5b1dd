/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one clock of the stack.  Everything that needs the time reads
 * clock_now() (or the per-burst copy in struct stack::now), so unit tests
 * drive time by hand with clock_set_fake().
 */
#ifndef SKIFF_CLOCK_H
#define SKIFF_CLOCK_H

#include <stdint.h>

#define NSEC_PER_USEC	1000ULL
#define NSEC_PER_MSEC	1000000ULL
#define NSEC_PER_SEC	1000000000ULL

/* CLOCK_MONOTONIC in ns (same base as bpf_ktime_get_ns), or the fake time. */
uint64_t clock_now(void);
/* Freeze the clock at ns (tests). */
void clock_set_fake(uint64_t ns);
/* Advance the fake clock by ns (tests). */
void clock_advance(uint64_t ns);
/* Back to the real clock. */
void clock_use_real(void);

#endif /* SKIFF_CLOCK_H */
