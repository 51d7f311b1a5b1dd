#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Benchmarks (make bench).  Figures go to docs/performance.md with the command
# that produced them.  Never part of the timed test suite.
#   bench_stack: the userspace stack's own cost per packet / per burst (fake device)
#   bench_conns: 100k idle TCP connections between two stacks on the simulated link
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
"$BUILD"/bench/bench_stack "${ROUNDS:-20000}" 64
"$BUILD"/bench/bench_stack "${ROUNDS:-20000}" 1472
"$BUILD"/bench/bench_conns "${CONNS:-100000}" 16 10
