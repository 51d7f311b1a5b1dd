#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The layering of TCP's files (docs/architecture.md, "TCP's files"),
# checked on the compiled objects: for every pair of TCP objects, the
# symbols one leaves undefined (nm -u) and the other defines are the calls
# (and data references) from the first file into the second.  A file may
# call only files of a lower rank; inline helpers of tcp_internal.h are
# shared vocabulary and leave no edge.  The upward edges that remain are
# listed below by symbol: a new symbol on an upward edge fails, and so
# does a listed one that is gone (so the list stays true as it shrinks).
# It also fails when a file outside TCP, the tests and the benches
# includes tcp_internal.h.
#
#   scripts/check-tcp-layers.sh [BUILD]         check (BUILD: build/)
#   scripts/check-tcp-layers.sh [BUILD] --map   print every file-to-file edge
#
# Run by `make check-style` after building the objects.
set -u
cd "$(dirname "$0")/.."
build=${1:-build}
mode=${2:-check}
dir=$build/user/transport

# Rank of each file, top (socket operations) to bottom (leaf helpers).
declare -A rank=(
	[tcp]=90	# socket operations (struct proto), tcp_init, tables' owner
	[tcp_input]=80	# segment arrival: the RFC 9293 3.10.7 steps
	[tcp_timer]=70	# timer expiry: RTO, persist, keepalive, TIME_WAIT
	[tcp_conn]=65	# lookup, ports, the connection's life, ICMP errors
	[tcp_ack]=60	# the ACK field: SND.UNA, RTT, SACK scoreboard, recovery
	[tcp_rack]=50	# loss detection: RACK-TLP, PRR, fast recovery's sending
	[tcp_output]=40	# building and sending segments, windows, pacing
	[tcp_recovery]=35 # the recovery block and its pool, undo marks, tcp_cong_init
	[tcp_rate]=30	# delivery rate samples
	[tcp_cong]=20	# congestion control ops (CUBIC, NewReno), registry
	[tcp_bbr]=10	# BBR behind the ops table
	[tcp_buf]=0	# send/receive streams, chunk pool
	[tcp_isn]=0	# ISNs, SYN cookies
)

# Upward edges still there, "from -> to: symbol" (one a line).  Each is a
# circle to break; none may be added.  None is left (the last three ended
# with tcp_sock_alloc in tcp_conn.c and tcp_push in tcp_rack.c).
allowed_up='
'

objs=()
for f in "${!rank[@]}"; do
	if [ ! -f "$dir/$f.o" ]; then
		echo "check-tcp-layers: $dir/$f.o missing (build first)" >&2
		exit 2
	fi
	objs+=("$f")
done
for f in "$dir"/tcp*.o; do
	b=$(basename "$f" .o)
	if [ -z "${rank[$b]+x}" ]; then
		echo "check-tcp-layers: $b.o has no rank: add it to scripts/check-tcp-layers.sh" \
		     "and docs/architecture.md" >&2
		exit 1
	fi
done

declare -A undef def
for f in "${objs[@]}"; do
	undef[$f]=$(nm -u "$dir/$f.o" | awk '{print $2}' | sort -u)
	def[$f]=$(nm --defined-only "$dir/$f.o" | awk '$2 ~ /^[TDRB]$/ {print $3}' | sort -u)
done

bad=0
seen=''
for a in $(printf '%s\n' "${objs[@]}" | sort); do
	for b in $(printf '%s\n' "${objs[@]}" | sort); do
		[ "$a" = "$b" ] && continue
		syms=$(comm -12 <(echo "${undef[$a]}") <(echo "${def[$b]}"))
		[ -z "$syms" ] && continue
		if [ "$mode" = --map ]; then
			echo "$a -> $b: $(echo $syms)"
			continue
		fi
		[ "${rank[$a]}" -gt "${rank[$b]}" ] && continue
		for s in $syms; do
			e="$a -> $b: $s"
			seen+="$e"$'\n'
			if ! grep -qxF "$e" <<<"$allowed_up"; then
				echo "check-tcp-layers: $a.c calls up into $b.c ($s)"
				bad=1
			fi
		done
	done
done
[ "$mode" = --map ] && exit 0

# tcp_internal.h is TCP's own: besides TCP's files only the tests, the fuzz
# target and the benches that drive TCP's internals include it.
for f in $(git grep -l '#include "transport/tcp_internal.h"' -- '*.c' '*.h'); do
	case $f in
	user/transport/tcp*.c | user/transport/tcp*.h | tests/unit/* | tests/fuzz/* | bench/*) ;;
	*)
		echo "check-tcp-layers: $f includes tcp_internal.h (TCP's files only; tcp_sock.h or tcp.h)"
		bad=1
		;;
	esac
done
while IFS= read -r e; do
	[ -z "$e" ] && continue
	if ! grep -qxF "$e" <<<"$seen"; then
		echo "check-tcp-layers: \"$e\" is gone: take it off allowed_up"
		bad=1
	fi
done <<<"$allowed_up"
[ $bad -eq 0 ] && echo "check-tcp-layers: OK"
exit $bad
