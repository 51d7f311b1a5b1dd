/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Callgrind client requests for the benchmarks that dump one profile per
 * phase; no-ops when valgrind's headers are not installed.
 */
#ifndef SKIFF_BENCH_CALLGRIND_H
#define SKIFF_BENCH_CALLGRIND_H

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#endif
#endif
#ifndef CALLGRIND_DUMP_STATS_AT
#define CALLGRIND_DUMP_STATS_AT(s) ((void)(s))
#define CALLGRIND_ZERO_STATS ((void)0)
#endif

#endif
