#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Benchmarks (make bench).  Figures go to docs/performance.md with the command
# that produced them.  Never part of the timed test suite.
#   bench_stack: the userspace stack's own cost per packet / per burst (fake device)
#   bench_conns: 100k, then 1M idle TCP connections between two stacks on the simulated link
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh bench
# Without BUILD, this tree's build/ is brought up to date first (a
# BENCH_ONLY run needs bench_kserver and bench_load, which only the bench
# target builds); a BUILD given (another worktree's binaries) is used as is.
if [ -z "${BUILD:-}" ]; then
	make -s bench-bins || { echo "bench: make bench-bins failed" >&2; exit 1; }
fi
BUILD=${BUILD:-build}
#   bench_bulk: one TCP bulk transfer between two stacks (instructions per MiB sent)
# BENCH_ONLY=flood runs only the packet-rate floods (last section);
# BENCH_ONLY=apps only the applications under skiff-run (issue 9);
# BENCH_ONLY=conns only the connection-scale comparison on the wire;
# BENCH_ONLY=download runs only the end-to-end download comparison (skiff and
# the kernel, E2E_RUNS interleaved runs, CPU use of both CPUs; E2E_PERF=1 also
# records a perf profile of both CPUs during one more download of each,
# E2E_KEEP=1 keeps $E2E_TMP with the profiles); BENCH_ONLY=upload the same
# for the upload (bench_load tcpsend to skiffd's discard and the kernel's);
# BENCH_ONLY=lossy only the download through the impaired relay, skiff and
# the kernel both with CUBIC, then skiff with --cc bbr and the kernel with its
# default (E2E_IMP_ARGS: the relay's flags, default issue 10's row "--loss 2
# --reorder 25 --dup 1 --delay 5 --seed 1"; E2E_IMP_SIZE the file, 10M);
# BENCH_ONLY=txn only the transaction rows (16-flow TCP request/response,
# 16-flow connect/request/close against both echo servers, HTTP keep-alive
# with 1000 connections; E2E_TXN_SECONDS (5) each run, E2E_TXN_FLOWS (16)),
# then HTTP Connection: close with 64 (ab);
# BENCH_ONLY=latency the UDP 1-in-flight latency rows, with skiffd's and
# CPU1's busy share over each run; BENCH_ONLY=issue10 exactly the rows of
# issue 10's table (download, upload, UDP latency, the transaction rows,
# HTTP Connection: close, idle CPU, the impaired link with the kernel at its
# default and with CUBIC).  Every end-to-end run writes the rows of issue
# 10's table it measured to $BUILD/bench/issue10.md (i10_table below).  E2E_SKIFFD_ARGS adds flags to skiffd's
# command line (e.g. "--busy-poll 200").  E2E_PEER_NAPI=threaded gives the
# peer veth threaded NAPI, its thread pinned to CPU0 with the load: the
# peer's receive then runs there, as on another host, instead of in the
# softirq of whoever transmits to it (skiffd's sendto, the kernel server's
# send), for both stacks alike (default: inline, as before).
# E2E_PEER_RX=gro gives the peer veth NAPI by GRO instead of the XDP_PASS
# program (default xdp), for the direct-veth and the apps rows, both stacks
# alike (e2e_peer_rx below, docs/veth.md).
if [ -z "${BENCH_ONLY:-}" ]; then	# download and flood run alone
	"$BUILD"/bench/bench_stack "${ROUNDS:-20000}" 64
	"$BUILD"/bench/bench_stack "${ROUNDS:-20000}" 1472
	"$BUILD"/bench/bench_conns "${CONNS:-100000}" 16 10
	# what an idle connection is made of (docs/performance.md, "Memory per connection")
	pahole -C tcp_sock,tcp_recovery,tcp_listen_q "$BUILD"/user/transport/tcp.o |
		grep -E '^struct|size:' || true
	# 1M idle connections held between the two stacks (about 2 GiB; CONNS_BIG=0 skips it)
	if [ "${CONNS_BIG:-1000000}" != 0 ]; then
		"$BUILD"/bench/bench_conns "${CONNS_BIG:-1000000}" 16 2
	fi
	"$BUILD"/bench/bench_bulk "${BULK_MIB:-256}"
fi

# ---- skiff vs the kernel, end to end -----------------------------------
# The same workload against skiffd (dedicated address DED_IP) and against a
# kernel server (bench_kserver on the dut kernel's DUT_IP) in the same dut
# namespace, on the same veth, runs interleaved skiff/kernel; the load tools
# run in the peer namespace pinned to CPU0, skiffd's worker and the kernel
# servers to CPU1.  Every figure is the median of E2E_RUNS (3) runs, every
# ratio skiff/kernel from the medians of this one run.  Both veth ends send
# as a wire (tx checksum, TSO, GSO off; see docs/veth.md), so the kernel
# also puts MTU-sized frames on the link; kernel TCP uses CUBIC as skiff
# does (per socket, BENCH_TCP_CC), plus one row with the machine's default
# (BBR here), which ignores loss.  E2E=0 skips this section;
# E2E_SIZE (default 1G) sets the bulk size, E2E_IMP_SIZE (10M) the size
# through the impaired relay (~7 Mbit/s there with CUBIC, skiff's and the
# kernel's alike: ~12 s a run).  Figures: docs/performance.md, "skiff vs the
# kernel, end to end".
e2e_median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "nan" }'; }
e2e_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || b == 0) print "n/a"; else printf "%.2f\n", a / b }'; }
e2e_say() { printf '%s\n' "$*" | tee -a "$E2E_SUMMARY"; }

# e2e_curl URL SIZE [mbit]: one download from the peer namespace; prints
# Gbit/s (Mbit/s with mbit), or nan (and the reason on stderr) when the
# status or the size is wrong.
e2e_curl() {
	local out div=1e9
	[ "${3:-}" = mbit ] && div=1e6
	out=$(netns_peer taskset -c 0 curl -sS --max-time 300 -o /dev/null \
		-w '%{http_code} %{size_download} %{speed_download}' "$1" 2>&1) || true
	# shellcheck disable=SC2086  # split curl's three fields
	set -- "$2" $out
	if [ "${2:-}" = 200 ] && [ "${3:-}" = "$1" ]; then
		awk -v s="$4" -v d="$div" 'BEGIN { printf "%.3f\n", s * 8 / d }'
	else
		echo "  download failed: $*" >&2
		echo nan
	fi
}

# e2e_curl_cpu URL SIZE: e2e_curl, and on stderr the busy share of CPU0 (the
# load) and CPU1 (the server) during the download, from /proc/stat (user+nice
# +system+irq+softirq over all but iowait/steal), and CPU-seconds per GiB.
# skiffd's own CPU time (all threads, user + system, including the softirq
# work the kernel does in its sendto) is the figure that other load on the
# machine disturbs least.
e2e_cpu_snap() {
	awk '/^cpu[01] / { printf "%s %d %d ", $1, $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat
	awk '{ printf "%d %d ", $14, $15 }' "/proc/${SKIFFD_PID:-self}/stat"
}
e2e_curl_cpu() {
	e2e_cpu_of e2e_curl "$@"
}

# e2e_upload_cpu ADDR BYTES: e2e_upload with the same CPU figures.
e2e_upload_cpu() {
	e2e_cpu_of e2e_upload "$@"
}

# e2e_cpu_of CMD TARGET BYTES ...: run CMD TARGET BYTES ..., print its
# output, and to stderr the busy share and CPU-seconds per GiB of each CPU
# and skiffd's over the run.
e2e_cpu_of() {
	local a b r cmd=$1
	shift
	a=$(e2e_cpu_snap)
	r=$("$cmd" "$@")
	b=$(e2e_cpu_snap)
	echo "$a $b" | awk -v bytes="$2" -v url="$1" '{
		b0 = $10 - $2; t0 = $11 - $3; b1 = $13 - $5; t1 = $14 - $6
		su = $15 - $7; ss = $16 - $8
		gib = bytes / 1073741824
		printf "   %s: cpu0 %.0f%% cpu1 %.0f%% busy; cpu-s/GiB cpu0 %.2f cpu1 %.2f;" \
			" skiffd cpu-s/GiB %.2f (user %.2f sys %.2f)\n", url,
			100 * b0 / t0, 100 * b1 / t1, b0 / 100 / gib, b1 / 100 / gib,
			(su + ss) / 100 / gib, su / 100 / gib, ss / 100 / gib }' >&2
	echo "$r"
}

# e2e_upload ADDR BYTES: bench_load tcpsend to the discard port 9; Gbit/s or nan.
e2e_upload() {
	local out
	out=$(netns_peer env BENCH_TCP_CC=cubic taskset -c 0 "$BUILD"/bench/bench_load tcpsend \
		"$1" 9 "$2" 2>&1) || true
	case $out in
	tcpsend:*) echo "$out" | awk '{ print $(NF - 1) }' ;;
	*) echo "  upload failed: $out" >&2; echo nan ;;
	esac
}

# e2e_ab ARGS... URL: requests/s of one ab run (nan if any request failed).
e2e_ab() {
	local out failed rps non2xx
	out=$(netns_peer taskset -c 0 ab -q -r -s 10 "$@" 2>&1) || true
	failed=$(echo "$out" | awk '/^Failed requests:/ { print $3 }')
	rps=$(echo "$out" | awk '/^Requests per second:/ { print $4 }')
	non2xx=$(echo "$out" | awk '/^Non-2xx responses:/ { print $3 }')
	if [ -n "$rps" ] && [ "${failed:-1}" = 0 ] && [ -z "$non2xx" ]; then
		echo "$rps"
	else
		echo "  ab failed (failed=${failed:-?} non-2xx=${non2xx:-0}): $(echo "$out" | tail -3)" >&2
		echo nan
	fi
}

# e2e_cpu_line A B: from two e2e_cpu_snap, CPU1's busy share and skiffd's
# CPU time as a share of one CPU between them (stderr).
e2e_cpu_line() {
	echo "$1 $2" | awk '{ printf "   cpu1 %.0f%% busy, skiffd %.0f%% of a CPU\n",
		100 * ($13 - $5) / ($14 - $6), 100 * ($15 + $16 - $7 - $8) / ($14 - $6) }' >&2
}

# e2e_txn MODE ADDR: one bench_load tcprrn|tcpcrr run (E2E_TXN_FLOWS flows,
# E2E_TXN_SECONDS s) against the echo port 7; prints trans/s or conn/s (nan
# on any failed connection); its line and the CPU use on stderr.
e2e_txn() {
	local out a b
	a=$(e2e_cpu_snap)
	out=$(netns_peer taskset -c 0 "$BUILD"/bench/bench_load "$1" "$2" 7 "$E2E_TXN_SECONDS" \
		"$E2E_TXN_FLOWS" 2>&1) || true
	b=$(e2e_cpu_snap)
	echo "   $out" >&2
	e2e_cpu_line "$a" "$b"
	echo "$out" | sed -n 's/.*: \([0-9.]*\) \(trans\|conn\)\/s.*, 0 errors$/\1/p;
		s/^tcprrn:.*: \([0-9.]*\) trans\/s$/\1/p' | grep . || echo nan
}

# e2e_wrk SECONDS CONNS URL [close]: requests/s of one wrk -t1 run from the
# peer on CPU0 (keep-alive, or "Connection: close"); nan, and the reason on
# stderr, on any socket error or non-2xx reply.
e2e_wrk() {
	local out rps extra=()
	[ "${4:-}" = close ] && extra=(-H "Connection: close")
	out=$(netns_peer timeout $(($1 + 30)) taskset -c 0 wrk -t1 -c"$2" \
		-d"${1}s" --timeout 5s "${extra[@]}" "$3" 2>&1) || true
	rps=$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')
	echo "      wrk: $(echo "$out" | grep -E 'requests in|Socket errors|Non-2xx' | tr -s ' ' | tr '\n' ';')" >&2
	if [ -n "$rps" ] && ! echo "$out" | grep -q 'Non-2xx' &&
		! echo "$out" | grep -Eq 'Socket errors:.*(read [1-9]|write [1-9]|timeout [1-9]|connect [1-9])'; then
		echo "$rps"
	else
		echo "      wrk failed: $(echo "$out" | tail -3 | tr '\n' ' ')" >&2
		echo nan
		return 1
	fi
}

# e2e_wrk_cpu SECONDS CONNS URL: e2e_wrk with the CPU use on stderr.
e2e_wrk_cpu() {
	local a b r
	a=$(e2e_cpu_snap)
	r=$(e2e_wrk "$@")
	b=$(e2e_cpu_snap)
	e2e_cpu_line "$a" "$b"
	echo "$r"
}

# e2e_txn_rows: the issue's transaction rows (BENCH_ONLY=txn, and in the
# full run): 16 flows of 64-byte request/response and of connect/request/
# close against skiffd's echo and bench_kserver echo, then HTTP keep-alive
# with 1000 connections (wrk).  The client closes first in tcpcrr, so the
# peer namespace gets the whole port range and tcp_tw_reuse (its TIME_WAITs
# would otherwise run out of ports at these rates).
e2e_txn_rows() {
	local c
	netns_peer sysctl -qw net.ipv4.ip_local_port_range="1024 65535" net.ipv4.tcp_tw_reuse=1
	ulimit -n 65536 2>/dev/null || true	# wrk's 1000 sockets
	e2e_compare "TCP request/response 64 B, $E2E_TXN_FLOWS flows (bench_load tcprrn, trans/s)" trans/s \
		"e2e_txn tcprrn $DED_IP" "e2e_txn tcprrn $DUT_IP" rrn
	e2e_compare "TCP connect/request/close 64 B, $E2E_TXN_FLOWS flows (bench_load tcpcrr, conn/s)" conn/s \
		"e2e_txn tcpcrr $DED_IP" "e2e_txn tcpcrr $DUT_IP" crr
	e2e_compare "HTTP 1 KiB keep-alive, 1000 connections (wrk -t1 -c1000 -d${E2E_TXN_SECONDS}s)" req/s \
		"e2e_wrk_cpu $E2E_TXN_SECONDS 1000 http://$DED_IP/small.bin" \
		"e2e_wrk_cpu $E2E_TXN_SECONDS 1000 http://$DUT_IP/small.bin" httpka
	for c in tcp_passive_opens tcp_out_rsts tcp_retrans_segs drop.tcp_accept_full svc_conn_limited; do
		printf '%s=%s ' "$c" "$(netns_counter "$PIN_DIR" "u.$c" 2>/dev/null)"
	done | sed 's/^/   skiffd: /'
	echo
}

# e2e_compare NAME UNIT "SKIFF CMD" "KERNEL CMD" [KEY]: E2E_RUNS interleaved
# runs of two commands that each print one number; prints every run, the
# medians and the ratio.  The commands are printed as run (with the
# namespace).  KEY: the row of issue 10's table it measures (i10_note).
e2e_compare() {
	local name=$1 unit=$2 cs=$3 ck=$4 key=${5:-} i s k ms mk
	local -a vs=() vk=()
	echo "== $name"
	echo "   skiff:  $cs"
	echo "   kernel: $ck"
	for i in $(seq "$E2E_RUNS"); do
		s=$(eval "$cs")
		k=$(eval "$ck")
		vs+=("$s")
		vk+=("$k")
		echo "   run $i: skiff $s, kernel $k $unit"
	done
	ms=$(printf '%s\n' "${vs[@]}" | e2e_median)
	mk=$(printf '%s\n' "${vk[@]}" | e2e_median)
	e2e_say "| $name | $ms | $mk | $unit | $(e2e_ratio "$ms" "$mk") | skiff ${vs[*]} / kernel ${vk[*]} |"
	[ -z "$key" ] || i10_note "$key" "$cs" "${vs[*]}" "${vk[*]}"
}

# e2e_only NAME UNIT "CMD": the same for one command (kernel variants).
e2e_only() {
	local name=$1 unit=$2 c=$3 i v m
	local -a vv=()
	echo "== $name"
	echo "   $c"
	for i in $(seq "$E2E_RUNS"); do
		v=$(eval "$c")
		vv+=("$v")
		echo "   run $i: $v $unit"
	done
	m=$(printf '%s\n' "${vv[@]}" | e2e_median)
	e2e_say "| $name | | $m | $unit | | ${vv[*]} |"
}

# e2e_start_kserver CC MODE ARGS...: bench_kserver in the dut namespace on
# CPU1, TCP congestion control CC ("" = the namespace's default).
e2e_start_kserver() {
	local cc=$1 log i
	shift
	log=$E2E_TMP/kserver-$1-$3.log
	nsenter --net="/run/netns/$DUT_NS" env BENCH_TCP_CC="$cc" taskset -c 1 \
		"$BUILD"/bench/bench_kserver "$@" >"$log" 2>&1 &
	netns_track_pid $!
	E2E_KPIDS+=("$!")	# nsenter, env and taskset exec: this is bench_kserver
	for i in $(seq 100); do
		grep -q ready "$log" && return 0
		sleep 0.05
	done
	echo "bench_kserver $* did not start: $(cat "$log")" >&2
	return 1
}

# e2e_perf NAME URL BYTES: one more download with perf record -a -g on both
# CPUs (software cpu-clock samples: this VM has no hardware counters);
# prints the split by CPU and command and the top symbols of CPU1.
e2e_perf() {
	local data=$E2E_TMP/perf-$1.data pid
	perf record -q -a -g -o "$data" >"$E2E_TMP/perf-$1.log" 2>&1 &
	pid=$!
	sleep 0.5
	echo "   perf $1 download: $(e2e_curl "$2" "$3") Gbit/s"
	kill -INT "$pid"
	wait "$pid" || true
	perf report -i "$data" --no-children -g none --sort cpu,comm --stdio 2>/dev/null |
		grep -E '^ +[0-9]' | head -8 | sed 's/^/   /'
	perf report -i "$data" --no-children -g none --cpu 1 --sort dso,sym --stdio 2>/dev/null |
		grep -E '^ +[0-9]' | head -25 | sed 's/^/   cpu1 /'
	echo "   (perf data: $data)"
}

# e2e_peer_rx: how the peer veth runs NAPI (docs/veth.md, "XDP_TX needs
# NAPI on the peer"), for the direct-veth end-to-end rows and the apps rows:
# E2E_PEER_RX=xdp (default): the XDP_PASS program of the tests (each
# copy-mode skb is copied again for it, and no GRO).  E2E_PEER_RX=gro: GRO
# on and no XDP program, as a NIC's receive; skiffd's XDP_TX replies would
# wait in the peer's ring there, so the peer gets a permanent ARP entry for
# DED_IP instead.  gro costs skiffd 13% less CPU per GiB downloaded but
# helps the kernel's batched sends more (docs/performance.md, "The peer's
# NAPI: XDP_PASS or GRO").
e2e_peer_rx() {
	case ${E2E_PEER_RX:=xdp} in
	gro | xdp) NETNS_PEER_NAPI=$E2E_PEER_RX ;;
	*) echo "E2E_PEER_RX=$E2E_PEER_RX: gro or xdp" >&2; return 1 ;;
	esac
}

# e2e_peer_napi: E2E_PEER_NAPI=threaded: the peer veth's NAPI in a kernel
# thread on CPU0 (see the top of this file); inline: nothing.
e2e_peer_napi() {
	local pid n=0
	case ${E2E_PEER_NAPI:-inline} in
	inline) return 0 ;;
	threaded) ;;
	*) echo "E2E_PEER_NAPI=$E2E_PEER_NAPI: inline or threaded" >&2; return 1 ;;
	esac
	ip netns exec "$PEER_NS" sh -c "echo 1 > /sys/class/net/$PEER_IF/threaded" || return 1
	for pid in $(pgrep -x "napi/$PEER_IF-[0-9]+"); do
		taskset -pc 0 "$pid" >/dev/null || return 1
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || { echo "e2e: no NAPI thread for $PEER_IF" >&2; return 1; }
	echo "peer veth $PEER_IF: threaded NAPI ($n thread(s)) on CPU0"
}

# e2e_http_close: issue 10's "HTTP Connection: close, 64 connections" row.
e2e_http_close() {
	e2e_compare "HTTP 1 KiB, ab -n 20000 -c 64, Connection: close" req/s \
		"e2e_ab -n 20000 -c 64 http://$DED_IP/small.bin" \
		"e2e_ab -n 20000 -c 64 http://$DUT_IP/small.bin" httpclose
}

# e2e_idle: issue 10's idle-CPU row, after the load rows (so skiffd still
# holds whatever their connections left: TIME_WAITs, timers): E2E_RUNS
# windows of E2E_IDLE_SECONDS (5) with no traffic, 1 s after the last
# load; skiffd's CPU time (all threads, user + system) and the kernel
# servers' (all bench_kserver processes) over the same window, as a
# percentage of one CPU.  Both are measured in the same window (no load
# runs, so nothing to alternate); /proc ticks are 10 ms, so the
# resolution is 1 / (E2E_IDLE_SECONDS * 100) of a CPU.
e2e_ticks() {
	local p t=0
	for p in "$@"; do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo "$t"
}
e2e_idle() {
	local secs=${E2E_IDLE_SECONDS:-5} i s0 k0 s k
	local -a vs=() vk=()
	echo "== idle CPU (${secs} s windows, no traffic; skiffd vs the bench_kserver processes)"
	sleep 1
	for i in $(seq "$E2E_RUNS"); do
		s0=$(e2e_ticks "$SKIFFD_PID")
		k0=$(e2e_ticks "${E2E_KPIDS[@]}")
		sleep "$secs"
		s=$(awk -v a="$s0" -v b="$(e2e_ticks "$SKIFFD_PID")" -v t="$secs" 'BEGIN { printf "%.2f\n", (b - a) / t }')
		k=$(awk -v a="$k0" -v b="$(e2e_ticks "${E2E_KPIDS[@]}")" -v t="$secs" 'BEGIN { printf "%.2f\n", (b - a) / t }')
		vs+=("$s") vk+=("$k")
		echo "   window $i: skiffd $s%, kernel servers $k% of a CPU"
	done
	e2e_say "| idle CPU, % of one CPU | $(printf '%s\n' "${vs[@]}" | e2e_median) |" \
		"$(printf '%s\n' "${vk[@]}" | e2e_median) | % | | skiff ${vs[*]} / kernel ${vk[*]} |"
	i10_note idle "sleep $secs; /proc/PID/stat of skiffd and bench_kserver" "${vs[*]}" "${vk[*]}"
}

# e2e_issue10_direct SIZE BYTES: BENCH_ONLY=issue10: exactly the rows of
# issue 10's table that run on the direct veth, in its order (the impaired
# rows follow in e2e_impaired).
e2e_issue10_direct() {
	e2e_compare "TCP download $1 (curl, Gbit/s)" Gbit/s \
		"e2e_curl_cpu http://$DED_IP/bulk.bin $2" "e2e_curl_cpu http://$DUT_IP/bulk.bin $2" dl
	e2e_compare "TCP upload $1 (bench_load tcpsend to discard)" Gbit/s \
		"e2e_upload_cpu $DED_IP $2" "e2e_upload_cpu $DUT_IP $2" ul
	e2e_udp_latency "UDP echo 64 B, 1 in flight, 3 s" \
		"e2e_udp $DED_IP 1" "e2e_udp $DUT_IP 1" udp1
	e2e_txn_rows
	e2e_http_close
	e2e_idle
}

# ---- issue 10's table ----------------------------------------------------
# Each row of issue 10's table that a run measures is noted in
# $BUILD/bench/issue10.raw (KEY, date, commit, BENCH_ONLY and the E2E_
# knobs set, the skiff
# command, skiff's runs, the kernel's runs); a whole run (no BENCH_ONLY, or
# BENCH_ONLY=issue10) starts the file afresh, a subset replaces its own
# rows.  i10_table writes $BUILD/bench/issue10.md from it: the issue's rows
# in its order, medians and min-max of both, the ratio, the target, and by
# how much a missed target is missed, with the section of
# docs/performance.md that says what limits the row.
I10_RAW=$BUILD/bench/issue10.raw
I10_MD=$BUILD/bench/issue10.md
i10_note() {
	local commit
	commit=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
	git diff --quiet HEAD -- user bpf include 2>/dev/null || commit="$commit+local"
	mkdir -p "$(dirname "$I10_RAW")"
	[ -f "$I10_RAW" ] && sed -i "/^$1|/d" "$I10_RAW"
	printf '%s|%s|%s|%s|%s|%s|%s\n' "$1" "$(date -u '+%F %H:%M')" "$commit" \
		"${BENCH_ONLY:-all}$(env | grep -E '^E2E_(SIZE|IMP_SIZE|IMP_ARGS|RUNS|TXN_SECONDS|TXN_FLOWS|SKIFFD_ARGS|PEER_NAPI|PEER_RX)=' |
			sort | sed 's/^/ /' | tr -d '\n')" \
		"$2" "$3" "$4" >>"$I10_RAW"
}

# The rows: KEY|workload|unit|better (hi: skiff/kernel; lo: kernel/skiff;
# max: skiff's own figure at most the target)|target|where docs/performance.md
# says what limits it.
i10_rows() {
	cat <<-'ROWS'
		dl|TCP bulk download 1 GiB (skiff sends), curl|Gbit/s|hi|1.0|"Bulk send: where a download's time goes"; "Issue 10: every row"
		ul|TCP bulk upload 1 GiB (skiff receives), bench_load tcpsend to discard|Gbit/s|hi|1.0|"Fewer copies, fewer ACKs, busy polling"
		udp1_p50|UDP 1-flow request/response p50, bench_load udp, 1 in flight (lower is better)|us|lo|2.0|"Fewer copies, fewer ACKs, busy polling" (--busy-poll)
		udp1_p99|same, p99|us|lo|1.0|"Fewer copies, fewer ACKs, busy polling"
		rrn|TCP request/response 64 B, 16 flows, bench_load tcprrn|trans/s|hi|1.5|"Issue 10's transaction rows: where their time goes"
		crr|TCP connect/request/close 64 B, 16 flows, bench_load tcpcrr|conn/s|hi|2.0|"Issue 10's transaction rows: where their time goes"
		httpka|HTTP 1 KiB keep-alive, 1000 connections, wrk -t1 -c1000|req/s|hi|1.5|"Issue 10: every row"
		httpclose|HTTP 1 KiB Connection: close, 64 connections, ab -n 20000 -c 64|req/s|hi|2.0|"Issue 10's transaction rows: where their time goes"
		imp_def|10 MiB GET through the impaired relay, skiff --cc bbr / kernel at its default|Mbit/s|hi|1.0|"BBR and pacing (issue 10)"
		imp_cubic|same, skiff and kernel both CUBIC|Mbit/s|hi|1.0|"Lossy and reordering links"
		idle|idle CPU after the load rows, % of one CPU|%|max|1|
	ROWS
}

i10_table() {
	[ -f "$I10_RAW" ] || return 0
	{
		echo "Issue 10's table, $(date -u '+%F %H:%M UTC'), $(uname -r), $(nproc) CPUs," \
			"load average now $(cut -d' ' -f1-3 /proc/loadavg); medians of E2E_RUNS alternating" \
			"runs (skiff, kernel, skiff, ...), min-max in brackets; a row's date, commit and" \
			"BENCH_ONLY mode are those of the run that measured it."
		echo
		echo "| workload | unit | kernel | skiff | skiff vs kernel | target | verdict | measured (UTC, commit, BENCH_ONLY) |"
		echo "|---|---|---|---|---|---|---|---|"
		i10_rows | awk -F'|' -v raw="$I10_RAW" '
		function fmt(v) {
			if (v == "nan" || v == "") return "nan"
			if (v >= 10000) return sprintf("%.1f k", v / 1000)
			if (v >= 100) return sprintf("%.0f", v)
			if (v >= 10) return sprintf("%.1f", v)
			return sprintf("%.2f", v)
		}
		function stats(list, out,   n, a, i, j, t) {
			n = split(list, a, " ")
			for (i = 1; i <= n; i++)
				for (j = i + 1; j <= n; j++)
					if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
			for (i = 1; i <= n; i++) if (a[i] == "nan") { out["med"] = "nan"; out["txt"] = "nan (" list ")"; return }
			out["med"] = a[int((n + 1) / 2)]
			out["txt"] = fmt(out["med"]) " [" fmt(a[1]) "-" fmt(a[n]) "]"
		}
		BEGIN { while ((getline l < raw) > 0) { split(l, f, "|"); row[f[1]] = l } }
		{
			key = $1; name = $2; unit = $3; better = $4; target = $5; where = $6
			if (!(key in row)) {
				printf "| %s | %s | | | | %s | not measured in these runs | |\n", name, unit,
					(better == "max" ? "<= " target " %" : target)
				next
			}
			split(row[key], f, "|")
			stats(f[6], s); stats(f[7], k)
			when = f[2] ", " f[3] ", " f[4]
			if (s["med"] == "nan" || k["med"] == "nan") {
				printf "| %s | %s | %s | %s | | %s | a run failed | %s |\n", name, unit, k["txt"], s["txt"], target, when
				next
			}
			if (better == "max") {
				verdict = (s["med"] <= target) ? "met" : sprintf("missed: %s%% over", fmt(s["med"] - target))
				printf "| %s | %s | %s | %s | | <= %s %% | %s | %s |\n", name, unit, k["txt"], s["txt"], target, verdict, when
				next
			}
			r = (better == "hi") ? s["med"] / k["med"] : k["med"] / s["med"]
			if (r + 1e-9 >= target)
				verdict = "met"
			else
				verdict = sprintf("**missed by %.0f%%** (%.2f of %.1f); limits: %s", 100 * (target - r) / target, r, target, where)
			printf "| %s | %s | %s | %s | %.2f%s | >= %.1f | %s | %s |\n", name, unit, k["txt"], s["txt"], r,
				(better == "lo" ? "x faster" : ""), target, verdict, when
		}'
		echo
		echo "skiff vs kernel: skiff/kernel for rates, kernel/skiff for latency (both: above 1 = skiff better)."
	} >"$I10_MD"
	echo
	echo "Issue 10's table ($I10_MD):"
	cat "$I10_MD"
}

# Direct veth: bulk both ways, connection churn, UDP echo.
e2e_direct() {
	local size=$1 www=$2 bytes
	bytes=$(stat -c %s "$www/bulk.bin")
	netns_init sb || return 1
	netns_trap
	e2e_peer_rx || return 1
	netns_create 1 || return 1
	netns_dut ethtool -K "$DUT_IF" tx off tso off gso off >/dev/null
	e2e_peer_napi || return 1
	# shellcheck disable=SC2086 # E2E_SKIFFD_ARGS: extra flags, split on spaces
	netns_start_skiffd "$E2E_TMP/skiffd.log" --addr "$DED_IP/$PREFIX_LEN" --cpus 1 \
		--http "80:$www" --discard 9 --echo 7 ${E2E_SKIFFD_ARGS:-} || return 1
	e2e_start_kserver cubic http "$DUT_IP" 80 "$www" || return 1
	e2e_start_kserver "" http "$DUT_IP" 8080 "$www" || return 1
	e2e_start_kserver cubic discard "$DUT_IP" 9 || return 1
	e2e_start_kserver "" udpecho "$DUT_IP" 7 || return 1
	e2e_start_kserver cubic echo "$DUT_IP" 7 || return 1
	echo "topology: $PEER_NS ($PEER_IP, load on CPU0) <veth> $DUT_NS (skiffd $DED_IP," \
		"kernel $DUT_IP, servers on CPU1); both veth ends tx/tso/gso off; peer NAPI by" \
		"$NETNS_PEER_NAPI (E2E_PEER_RX)"
	echo "skiffd: $SKIFFD --iface $DUT_IF --addr $DED_IP/$PREFIX_LEN --cpus 1" \
		"--http 80:$www --discard 9 --echo 7 ${E2E_SKIFFD_ARGS:-}"
	echo "kernel: taskset -c 1 $BUILD/bench/bench_kserver http|discard|udpecho|echo $DUT_IP PORT [DIR]"
	echo "kernel TCP: CUBIC (skiff's algorithm) set per socket with BENCH_TCP_CC=cubic on" \
		"the servers and the upload client; the namespaces' default" \
		"($(netns_dut sysctl -n net.ipv4.tcp_congestion_control)) only on port 8080"
	# warm the page cache and both servers
	e2e_curl "http://$DUT_IP/bulk.bin" "$bytes" >/dev/null
	e2e_curl "http://$DED_IP/small.bin" 1024 >/dev/null

	if [ "${BENCH_ONLY:-}" = issue10 ]; then
		e2e_issue10_direct "$size" "$bytes"
		return 0
	fi
	if [ "${BENCH_ONLY:-}" = download ]; then
		e2e_compare "TCP download $size (curl, Gbit/s)" Gbit/s \
			"e2e_curl_cpu http://$DED_IP/bulk.bin $bytes" \
			"e2e_curl_cpu http://$DUT_IP/bulk.bin $bytes" dl
		if [ "${E2E_PERF:-0}" = 1 ]; then
			e2e_perf skiff "http://$DED_IP/bulk.bin" "$bytes"
			e2e_perf kernel "http://$DUT_IP/bulk.bin" "$bytes"
		fi
		netns_dut "$SKIFFCTL" --iface "$DUT_IF" stats 2>/dev/null |
			grep -E 'tx_kicks|tx_packets|tcp_out_segs|tcp_retrans|tx_ring_full|no_frame' |
			sed 's/^/   skiffd: /' || true
		return 0
	fi
	if [ "${BENCH_ONLY:-}" = txn ]; then
		e2e_txn_rows
		e2e_http_close
		return 0
	fi
	if [ "${BENCH_ONLY:-}" = latency ]; then
		e2e_udp_latency "UDP echo 64 B, 1 in flight, 3 s" \
			"e2e_udp $DED_IP 1" "e2e_udp $DUT_IP 1" udp1
		return 0
	fi
	if [ "${BENCH_ONLY:-}" = upload ]; then
		e2e_compare "TCP upload $size (bench_load tcpsend to discard)" Gbit/s \
			"e2e_upload_cpu $DED_IP $bytes" "e2e_upload_cpu $DUT_IP $bytes" ul
		netns_dut "$SKIFFCTL" --iface "$DUT_IF" stats 2>/dev/null |
			grep -E 'rx_packets|tx_packets|tx_kicks|tcp_out_segs|tcp_rcvbuf|tcp_delayed|drop.tcp|tcp_retrans' |
			sed 's/^/   skiffd: /' || true
		return 0
	fi
	e2e_compare "TCP download $size (curl, Gbit/s)" Gbit/s \
		"e2e_curl http://$DED_IP/bulk.bin $bytes" "e2e_curl http://$DUT_IP/bulk.bin $bytes" dl
	e2e_compare "TCP upload $size (bench_load tcpsend to discard)" Gbit/s \
		"e2e_upload $DED_IP $bytes" "e2e_upload $DUT_IP $bytes" ul
	e2e_http_close
	e2e_compare "HTTP 1 KiB, ab -k -n 50000 -c 64, keep-alive" req/s \
		"e2e_ab -k -n 50000 -c 64 http://$DED_IP/small.bin" \
		"e2e_ab -k -n 50000 -c 64 http://$DUT_IP/small.bin"
	e2e_txn_rows
	e2e_compare "UDP echo 64 B, 256 in flight, 3 s (replies/s)" replies/s \
		"e2e_udp $DED_IP 256 rate" "e2e_udp $DUT_IP 256 rate"
	e2e_udp_latency "UDP echo 64 B, 1 in flight, 3 s" \
		"e2e_udp $DED_IP 1" "e2e_udp $DUT_IP 1" udp1
	e2e_idle

	# The kernel once more with the namespace's default congestion control
	# (BBR on this machine; a namespace may not set CUBIC as its default),
	# then with the veth's own 64 KiB TSO/GSO segments (not
	# wire-like: context for the baseline's offload-on figures).
	netns_stop_skiffd || echo "skiffd exited with status $?" >&2
	e2e_only "TCP download $size, kernel with its default congestion control ($(netns_dut sysctl -n net.ipv4.tcp_congestion_control))" \
		Gbit/s "e2e_curl http://$DUT_IP:8080/bulk.bin $bytes"
	netns_dut ethtool -K "$DUT_IF" tx on tso on gso on >/dev/null
	e2e_only "TCP download $size, kernel with dut TSO/GSO on (64 KiB segments)" Gbit/s \
		"e2e_curl http://$DUT_IP/bulk.bin $bytes"
}


# e2e_udp ADDR INFLIGHT [rate]: one 3 s bench_load udp run against port 7;
# prints replies/s with "rate", else "p50 p99" in us (nan on failure).  The
# full line goes to stderr.
e2e_udp() {
	local out a b
	a=$(e2e_cpu_snap)
	out=$(netns_peer taskset -c 0 "$BUILD"/bench/bench_load udp "$1" 7 3 "$2" 2>&1) || true
	b=$(e2e_cpu_snap)
	echo "   $out" >&2
	e2e_cpu_line "$a" "$b"	# skiffd's CPU (the cost of --busy-poll), and CPU1's
	if [ "${3:-}" = rate ]; then
		echo "$out" | sed -n 's/.* \([0-9.]*\) replies\/s.*/\1/p' | grep . || echo nan
	else
		echo "$out" | sed -n 's/.*p50 \([0-9.]*\) us p99 \([0-9.]*\) us.*/\1 \2/p' | grep . ||
			echo nan nan
	fi
}

# e2e_udp_latency NAME "SKIFF CMD" "KERNEL CMD" [KEY]: like e2e_compare for
# commands that print "p50 p99"; one summary row each (issue 10's rows
# KEY_p50 and KEY_p99).
e2e_udp_latency() {
	local name=$1 cs=$2 ck=$3 key=${4:-} i s k
	local -a s50=() s99=() k50=() k99=()
	echo "== $name: latency"
	echo "   skiff:  $cs"
	echo "   kernel: $ck"
	for i in $(seq "$E2E_RUNS"); do
		s=$(eval "$cs")
		k=$(eval "$ck")
		s50+=("${s% *}") s99+=("${s#* }") k50+=("${k% *}") k99+=("${k#* }")
		echo "   run $i: skiff p50/p99 $s, kernel $k us"
	done
	for i in 50 99; do
		local -n rs=s$i rk=k$i
		local ms mk
		ms=$(printf '%s\n' "${rs[@]}" | e2e_median)
		mk=$(printf '%s\n' "${rk[@]}" | e2e_median)
		e2e_say "| $name, p$i latency | $ms | $mk | us | $(e2e_ratio "$ms" "$mk") |" \
			"skiff ${rs[*]} / kernel ${rk[*]} |"
		[ -z "$key" ] || i10_note "${key}_p$i" "$cs" "${rs[*]}" "${rk[*]}"
		unset -n rs rk
	done
}

# Through the impaired relay: the same download, smaller, twice: skiff
# with CUBIC against the kernel with CUBIC, then skiffd restarted with
# --cc bbr against the kernel with its default (BBR on this machine).
e2e_impaired() {
	local size=$1 www=$2 bytes kcc
	local imp=${E2E_IMP_ARGS:---loss 2 --reorder 25 --dup 1 --delay 5 --seed 1}
	bytes=$(stat -c %s "$www/mid.bin")
	netns_init si || return 1
	netns_trap
	netns_create_impaired 1 || return 1
	# shellcheck disable=SC2086  # E2E_IMP_ARGS is a list of flags
	netns_start_impair $imp || return 1
	netns_start_skiffd "$E2E_TMP/skiffd-imp.log" --addr "$DED_IP/$PREFIX_LEN" --cpus 1 \
		--http "80:$www" || return 1
	e2e_start_kserver cubic http "$DUT_IP" 80 "$www" || return 1
	e2e_start_kserver "" http "$DUT_IP" 8080 "$www" || return 1
	kcc=$(netns_dut sysctl -n net.ipv4.tcp_congestion_control)
	echo "impaired relay: $IMPAIR --a $RELAY_A --b $RELAY_B $imp (both directions)"
	e2e_compare "TCP download $size through the impaired relay (curl), CUBIC both" Mbit/s \
		"e2e_curl http://$DED_IP/mid.bin $bytes mbit" \
		"e2e_curl http://$DUT_IP/mid.bin $bytes mbit" imp_cubic
	e2e_impaired_stats
	netns_stop_skiffd || echo "skiffd exited with status $?" >&2
	netns_start_skiffd "$E2E_TMP/skiffd-imp-bbr.log" --addr "$DED_IP/$PREFIX_LEN" --cpus 1 \
		--http "80:$www" --cc bbr || return 1
	echo "skiffd restarted with --cc bbr; the kernel's server on port 8080 uses its default ($kcc)"
	e2e_compare "TCP download $size through the impaired relay (curl), skiff BBR / kernel $kcc" \
		Mbit/s "e2e_curl http://$DED_IP/mid.bin $bytes mbit" \
		"e2e_curl http://$DUT_IP:8080/mid.bin $bytes mbit" imp_def
	e2e_impaired_stats
}

e2e_impaired_stats() {
	netns_impair_stats | tr '\n' ' ' | sed 's/^/   impair: /'
	echo
	netns_dut "$SKIFFCTL" --iface "$DUT_IF" stats 2>/dev/null |
		grep -E 'tcp_(retrans|rto|sack_rec|spurious|undo|dsack|rack|tlp|out_segs)' |
		sed 's/^/   skiffd: /' || true
}

bench_e2e() {
	local size=${E2E_SIZE:-1G} isize=${E2E_IMP_SIZE:-10M} rc=0
	E2E_RUNS=${E2E_RUNS:-3}
	E2E_TXN_SECONDS=${E2E_TXN_SECONDS:-5}
	E2E_TXN_FLOWS=${E2E_TXN_FLOWS:-16}
	E2E_KPIDS=()
	E2E_TMP=$(mktemp -d /tmp/skiff-bench-e2e.XXXXXX)
	E2E_SUMMARY=$E2E_TMP/summary.md
	local www=$E2E_TMP/www
	mkdir -p "$www"
	head -c "$(numfmt --from=iec "$size")" /dev/urandom >"$www/bulk.bin"
	head -c "$(numfmt --from=iec "$isize")" /dev/urandom >"$www/mid.bin"
	head -c 1024 /dev/urandom >"$www/small.bin"
	chmod -R a+rX "$E2E_TMP"
	[ "${E2E_KEEP:-0}" = 1 ] || trap 'rm -rf "$E2E_TMP"' EXIT
	echo
	echo "### skiff vs the kernel, end to end ($(date -u '+%F %H:%M UTC'), build" \
		"$(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- user bpf include 2>/dev/null || echo '+local changes'))"
	echo "| workload | skiff | kernel | unit | skiff/kernel | runs |" >"$E2E_SUMMARY"
	echo "|---|---|---|---|---|---|" >>"$E2E_SUMMARY"
	case ${BENCH_ONLY:-} in
	'' | issue10) rm -f "$I10_RAW" ;;
	esac
	[ "${BENCH_ONLY:-}" = lossy ] || (e2e_direct "$size" "$www") || rc=1
	case ${BENCH_ONLY:-} in
	download | upload | latency | txn) ;;
	*) (e2e_impaired "$isize" "$www") || rc=1 ;;
	esac
	echo
	echo "Summary (medians of $E2E_RUNS; skiff/kernel < 1 means skiff is slower, for latency > 1):"
	cat "$E2E_SUMMARY"
	i10_table
	return $rc
}

if [ "${E2E:-1}" != 0 ] && [ "${BENCH_ONLY:-}" != flood ] && [ "${BENCH_ONLY:-}" != conns ] &&
	[ "${BENCH_ONLY:-}" != apps ]; then
	[ "$(id -u)" = 0 ] || { echo "bench: the end-to-end section needs root (E2E=0 skips it)" >&2; exit 1; }
	# shellcheck source=scripts/netns-lib.sh
	SKIFF_BUILD=$BUILD . scripts/netns-lib.sh
	(bench_e2e)
fi

# ---- applications under skiff-run (issue 9) ---------------------------
# Unmodified programs with their sockets on skiff (build/bin/skiff-run,
# docs/skiff-run.md) against the same programs on the kernel, in one
# topology: skiffd (its threads on CPU1) on the dedicated DED_IP, the program under
# skiff-run listening on DED_IP, and a second copy of it without skiff-run
# on the kernel's DUT_IP, in the same dut namespace; the load runs in the
# peer namespace on CPU0.  Two placements (APPS_PLACEMENTS, default
# "shared own"): "shared" = the program on CPU1 with skiffd's worker (the
# kernel's copy on CPU1 too: equal hardware); "own" = skiffd's worker alone
# on CPU1, the program on CPU0 beside the load (the kernel's copy on CPU0
# too; 2 cores allow no more).  Every figure is the median of APPS_RUNS (3)
# runs, skiff and kernel alternating, APPS_SECONDS (5) s each; every ratio
# comes from the medians of this one run.  Rows: nginx (1 worker, 1 KiB,
# wrk keep-alive -c100 and Connection: close -c64), redis-server
# (redis-benchmark GET/SET -c50 -P1/-P16), iperf3 (the server under
# skiff-run, the client on the peer, both directions), and 1-flow
# request/response latency (bench_kserver echo/udpecho under skiff-run vs
# on the kernel; bench_load tcprr / udp 1 in flight), then the latency rows
# again with skiffd --busy-poll APPS_BUSY_POLL (200; 0 skips), and in the
# own placement once more with the program spinning too (skiff-run -b
# APPS_LIB_BUSY_POLL, 200; 0 skips).  A program
# that does not start or a load run that fails gives a "does not run: ..."
# or nan row and the section exits 1.  BENCH_ONLY=apps runs only this
# section, APPS=0 skips it; APPS_ONLY="nginx redis iperf3 latency" picks
# rows.  Figures: docs/performance.md, "Applications under skiff-run
# (issue 9)".
apps_fail() { echo "$*" >>"$APPS_TMP/failed"; echo "   FAILED: $*" >&2; }

# apps_cpu_snap: busy and total ticks of CPU0 and CPU1 (/proc/stat), CPU
# ticks of skiffd and of APPS_PROG_PID; apps_cpu_report A B NAME: the busy
# share of each CPU between two snapshots, and skiffd's and the program's
# CPU time as a share of one CPU.
apps_cpu_snap() {
	awk '/^cpu[01] / { printf "%d %d ", $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat
	local p
	for p in "${SKIFFD_PID:-self}" "${APPS_PROG_PID:-self}"; do
		awk '{ printf "%d ", $14 + $15 }' "/proc/$p/stat" 2>/dev/null || printf '0 '
	done
}
apps_cpu_report() {
	echo "$1 $2" | awk -v who="$3" '{ t0 = $8 - $2; t1 = $10 - $4
		printf "      cpu0 %.0f%% cpu1 %.0f%% busy; skiffd %.0f%%, %s %.0f%% of a CPU\n",
		100 * ($7 - $1) / t0, 100 * ($9 - $3) / t1, 100 * ($11 - $5) / t1, who,
		100 * ($12 - $6) / t1 }' >&2
}

# apps_load WHO CMD...: run CMD (the load, in the peer namespace on CPU0)
# with the CPU figures on stderr; CMD prints the figure.
apps_load() {
	local a b r who=$1
	shift
	a=$(apps_cpu_snap)
	r=$("$@")
	b=$(apps_cpu_snap)
	apps_cpu_report "$a" "$b" "$who"
	echo "$r"
}

# apps_wrk URL CONNS [close]: requests/s of one wrk run (nan on errors).
apps_wrk() {
	e2e_wrk "$APPS_SECONDS" "$2" "$1" "${3:-}" || apps_fail "wrk $*"
}

# apps_redis ADDR PORT TEST PIPELINE: requests/s of redis-benchmark (nan on failure).
apps_redis() {
	local out rps n=$((APPS_SECONDS * 30000 * ($4 > 1 ? 5 : 1)))	# ~APPS_SECONDS s
	out=$(netns_peer timeout $((APPS_SECONDS * 4 + 30)) taskset -c 0 redis-benchmark -h "$1" -p "$2" \
		-c 50 -n "$n" -P "$4" -t "$3" --csv 2>&1) || true
	rps=$(echo "$out" | awk -F'"' -v t="${3^^}" '$2 == t { print $4 }')
	if [ -n "$rps" ]; then
		echo "$rps"
	else
		apps_fail "redis-benchmark $*: $(echo "$out" | tail -3 | tr '\n' ' ')"
		echo nan
	fi
}

# apps_iperf ADDR PORT [-R]: Gbit/s received (nan on failure).
apps_iperf() {
	local out g
	out=$(netns_peer timeout $((APPS_SECONDS + 30)) taskset -c 0 iperf3 -c "$1" -p "$2" \
		-t "$APPS_SECONDS" -J ${3:+"$3"} 2>&1) || true
	g=$(echo "$out" | python3 -c 'import json, sys
j = json.load(sys.stdin)
if "error" in j: sys.exit(j["error"])
print("%.3f" % (j["end"]["sum_received"]["bits_per_second"] / 1e9))' 2>&1) || true
	case $g in
	[0-9]*) echo "$g" ;;
	*) apps_fail "iperf3 -c $*: $g"; echo nan ;;
	esac
}

# apps_rr tcp|udp ADDR PORT: "p50 p99" in us of one bench_load run, 1 in flight.
apps_rr() {
	local out
	if [ "$1" = tcp ]; then
		out=$(netns_peer taskset -c 0 "$BUILD"/bench/bench_load tcprr "$2" "$3" "$APPS_SECONDS" 2>&1) || true
	else
		out=$(netns_peer taskset -c 0 "$BUILD"/bench/bench_load udp "$2" "$3" "$APPS_SECONDS" 1 2>&1) || true
	fi
	echo "      $out" >&2
	echo "$out" | sed -n 's/.*p50 \([0-9.]*\) us p99 \([0-9.]*\) us.*/\1 \2/p' | grep . ||
		{ apps_fail "bench_load $1 $2 $3: $out"; echo nan nan; }
}

# apps_start NAME CPU SKIFF|KERNEL CMD...: start CMD in the dut namespace on
# CPU (under skiff-run with "skiff"), output to $APPS_TMP/NAME.log, PID in
# APPS_PID_<skiff|kernel>.
apps_start() {
	local name=$1 cpu=$2 how=$3 pid
	shift 3
	if [ "$how" = skiff ]; then
		set -- "$SKIFF_RUN" -i "$DUT_IF" ${APPS_LIB_SPIN:+-b "$APPS_LIB_SPIN"} -- "$@"
	fi
	nsenter --net="/run/netns/$DUT_NS" taskset -c "$cpu" "$@" >"$APPS_TMP/$name.log" 2>&1 &
	pid=$!
	netns_track_pid "$pid"
	printf -v "APPS_PID_$how" '%s' "$pid"
}

# apps_wait_port NAME PID ADDR PORT: until a TCP connect from the peer works
# (10 s), or the program exits; on failure why (skiff-run's message).
apps_wait_port() {
	local i
	for i in $(seq 100); do
		if ! kill -0 "$2" 2>/dev/null; then
			APPS_WHY="exited: $(grep -m1 -E 'skiff-run|skiff:|rror|not supported' "$APPS_TMP/$1.log" ||
				tail -1 "$APPS_TMP/$1.log")"
			return 1
		fi
		netns_peer timeout 1 bash -c "exec 3<>/dev/tcp/$3/$4" 2>/dev/null && return 0
		sleep 0.1
	done
	APPS_WHY="nothing listens on $3:$4 after 10 s: $(tail -2 "$APPS_TMP/$1.log" | tr '\n' ' ')"
	return 1
}

# apps_stop PID...: SIGTERM, then SIGKILL after 5 s.
apps_stop() {
	local p i
	for p in "$@"; do
		[ -n "$p" ] || continue
		kill -TERM "$p" 2>/dev/null || continue
		for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# apps_pair NAME PLACEMENT PORT CMD-TEMPLATE: start the program twice, under
# skiff-run on DED_IP and on the kernel's DUT_IP (@ADDR@ in the template is
# replaced by the address, @TAG@ by skiff/kernel), on the placement's CPU;
# waits for both to listen (TCP PORT, or none with PORT "-").  Returns 1,
# with a "does not run" row, if the skiff-run copy fails.
apps_pair() {
	local name=$1 pl=$2 port=$3 cpu how addr a
	shift 3
	cpu=$([ "$pl" = shared ] && echo 1 || echo 0)
	for how in skiff kernel; do
		addr=$([ "$how" = skiff ] && echo "$DED_IP" || echo "$DUT_IP")
		local argv=()
		for a in "$@"; do a=${a//@ADDR@/$addr}; argv+=("${a//@TAG@/$how}"); done
		apps_start "$name-$how-$pl" "$cpu" "$how" "${argv[@]}"
		if [ "$how" = skiff ]; then
			echo "   skiff:  netns $DUT_NS: taskset -c $cpu $SKIFF_RUN -i $DUT_IF -- ${argv[*]}"
		else
			echo "   kernel: netns $DUT_NS: taskset -c $cpu ${argv[*]}"
		fi
	done
	[ "$port" = - ] && { sleep 0.5; port=; }
	for how in skiff kernel; do
		local pid=APPS_PID_$how
		addr=$([ "$how" = skiff ] && echo "$DED_IP" || echo "$DUT_IP")
		if [ -n "$port" ] && ! apps_wait_port "$name-$how-$pl" "${!pid}" "$addr" "$port"; then
			apps_fail "$name ($how, $pl): $APPS_WHY"
			APPS_DOESNT=$APPS_WHY
			return 1
		fi
		if [ -z "$port" ] && ! kill -0 "${!pid}" 2>/dev/null; then
			APPS_WHY="exited: $(grep -m1 -E 'skiff-run|rror' "$APPS_TMP/$name-$how-$pl.log")"
			apps_fail "$name ($how, $pl): $APPS_WHY"
			APPS_DOESNT=$APPS_WHY
			return 1
		fi
	done
}

# apps_compare NAME PLACEMENT UNIT "SKIFF CMD" "KERNEL CMD": APPS_RUNS
# alternating runs; one summary row.
apps_compare() {
	local name=$1 pl=$2 unit=$3 cs=$4 ck=$5 i s k ms mk
	local -a vs=() vk=()
	echo "== $name, $pl"
	for i in $(seq "$APPS_RUNS"); do
		APPS_PROG_PID=$APPS_PID_skiff
		s=$(apps_load "$APPS_PROG_NAME" eval "$cs")
		APPS_PROG_PID=$APPS_PID_kernel
		k=$(apps_load "$APPS_PROG_NAME" eval "$ck")
		vs+=("$s") vk+=("$k")
		echo "   run $i: skiff $s, kernel $k $unit"
	done
	ms=$(printf '%s\n' "${vs[@]}" | e2e_median)
	mk=$(printf '%s\n' "${vk[@]}" | e2e_median)
	apps_say "| $name | $(apps_pl "$pl") | $ms | $mk | $unit | $(e2e_ratio "$ms" "$mk") | skiff ${vs[*]} / kernel ${vk[*]} |"
}

# apps_latency NAME PLACEMENT "SKIFF CMD" "KERNEL CMD": commands printing
# "p50 p99"; two summary rows.
apps_latency() {
	local name=$1 pl=$2 cs=$3 ck=$4 i s k
	local -a s50=() s99=() k50=() k99=()
	echo "== $name, $pl"
	for i in $(seq "$APPS_RUNS"); do
		APPS_PROG_PID=$APPS_PID_skiff
		s=$(apps_load "$APPS_PROG_NAME" eval "$cs")
		APPS_PROG_PID=$APPS_PID_kernel
		k=$(apps_load "$APPS_PROG_NAME" eval "$ck")
		s50+=("${s% *}") s99+=("${s#* }") k50+=("${k% *}") k99+=("${k#* }")
		echo "   run $i: skiff p50/p99 $s, kernel $k us"
	done
	for i in 50 99; do
		local -n rs=s$i rk=k$i
		local ms mk
		ms=$(printf '%s\n' "${rs[@]}" | e2e_median)
		mk=$(printf '%s\n' "${rk[@]}" | e2e_median)
		apps_say "| $name, p$i | $(apps_pl "$pl") | $ms | $mk | us | $(e2e_ratio "$ms" "$mk") |" \
			"skiff ${rs[*]} / kernel ${rk[*]} |"
		unset -n rs rk
	done
}

apps_pl() {
	case $1 in
	shared) echo "shared: program + skiffd worker on CPU1, load CPU0" ;;
	own) echo "own core: skiffd worker CPU1; program + load CPU0" ;;
	esac
}
apps_say() { printf '%s\n' "$*" | tee -a "$APPS_SUMMARY"; }
apps_want() { case " $APPS_ONLY " in *" $1 "*) return 0 ;; esac; return 1; }
apps_doesnt() { apps_say "| $1 | $(apps_pl "$2") | does not run: $APPS_DOESNT | | | | |"; }

apps_nginx() {
	local pl=$1 port=8081 how
	for how in skiff kernel; do
		mkdir -p "$APPS_TMP/nginx-$how"
		cat >"$APPS_TMP/nginx-$how/nginx.conf" <<-NGINX
			daemon off;
			user root;
			master_process off;
			worker_processes 1;
			pid $APPS_TMP/nginx-$how/nginx.pid;
			error_log $APPS_TMP/nginx-$how/error.log warn;
			events { worker_connections 1024; }
			http {
			    access_log off;
			    sendfile on;
			    keepalive_timeout 60;
			    keepalive_requests 10000000;
			    types { application/octet-stream bin; }
			    client_body_temp_path $APPS_TMP/nginx-$how/body;
			    proxy_temp_path $APPS_TMP/nginx-$how/proxy;
			    fastcgi_temp_path $APPS_TMP/nginx-$how/fastcgi;
			    uwsgi_temp_path $APPS_TMP/nginx-$how/uwsgi;
			    scgi_temp_path $APPS_TMP/nginx-$how/scgi;
			    server { listen $([ "$how" = skiff ] && echo "$DED_IP" || echo "$DUT_IP"):$port; root $APPS_TMP/www; }
			}
		NGINX
	done
	APPS_PROG_NAME=nginx
	if ! apps_pair nginx "$pl" "$port" nginx -c "$APPS_TMP/nginx-@TAG@/nginx.conf" -p "$APPS_TMP/nginx-@TAG@"; then
		apps_doesnt "nginx 1 worker, 1 KiB, wrk" "$pl"
	else
		apps_compare "nginx 1 worker, 1 KiB, wrk -t1 -c100 keep-alive" "$pl" req/s \
			"apps_wrk http://$DED_IP:$port/small.bin 100" "apps_wrk http://$DUT_IP:$port/small.bin 100"
		apps_compare "nginx 1 worker, 1 KiB, wrk -t1 -c64 Connection: close" "$pl" req/s \
			"apps_wrk http://$DED_IP:$port/small.bin 64 close" \
			"apps_wrk http://$DUT_IP:$port/small.bin 64 close"
	fi
	apps_stop "$APPS_PID_skiff" "$APPS_PID_kernel"
}

apps_redis_rows() {
	local pl=$1 port=6379 t p
	APPS_PROG_NAME=redis-server
	if ! apps_pair redis "$pl" "$port" redis-server --bind @ADDR@ --port "$port" --save '' \
		--appendonly no --protected-mode no --daemonize no --dir "$APPS_TMP"; then
		apps_doesnt "redis-server, redis-benchmark" "$pl"
	else
		for p in 1 16; do
			for t in get set; do
				apps_compare "redis-server, redis-benchmark -c50 -P$p -t $t" "$pl" req/s \
					"apps_redis $DED_IP $port $t $p" "apps_redis $DUT_IP $port $t $p"
			done
		done
	fi
	apps_stop "$APPS_PID_skiff" "$APPS_PID_kernel"
}

apps_iperf_rows() {
	local pl=$1 port=5201
	APPS_PROG_NAME=iperf3
	if ! apps_pair iperf3 "$pl" "$port" iperf3 -s -B @ADDR@ -p "$port"; then
		apps_doesnt "iperf3" "$pl"
	else
		apps_compare "iperf3, peer client sends to the program (-c)" "$pl" Gbit/s \
			"apps_iperf $DED_IP $port" "apps_iperf $DUT_IP $port"
		apps_compare "iperf3, the program sends to the peer (-c -R)" "$pl" Gbit/s \
			"apps_iperf $DED_IP $port -R" "apps_iperf $DUT_IP $port -R"
	fi
	apps_stop "$APPS_PID_skiff" "$APPS_PID_kernel"
}

# apps_latency_rows PLACEMENT SUFFIX: bench_kserver echo (TCP) and udpecho
# (UDP) under skiff-run and on the kernel; 64-byte requests, 1 in flight.
apps_latency_rows() {
	local pl=$1 sfx=$2
	APPS_PROG_NAME=bench_kserver
	if ! apps_pair tcpecho "$pl" 7007 "$BUILD"/bench/bench_kserver echo @ADDR@ 7007; then
		apps_doesnt "TCP 1-flow request/response$sfx" "$pl"
	else
		apps_latency "TCP 1-flow request/response 64 B (bench_kserver echo; bench_load tcprr)$sfx" "$pl" \
			"apps_rr tcp $DED_IP 7007" "apps_rr tcp $DUT_IP 7007"
	fi
	apps_stop "$APPS_PID_skiff" "$APPS_PID_kernel"
	if ! apps_pair udpecho "$pl" - "$BUILD"/bench/bench_kserver udpecho @ADDR@ 7007; then
		apps_doesnt "UDP 1-flow request/response$sfx" "$pl"
	else
		apps_latency "UDP 1-flow request/response 64 B (bench_kserver udpecho; bench_load udp, 1 in flight)$sfx" \
			"$pl" "apps_rr udp $DED_IP 7007" "apps_rr udp $DUT_IP 7007"
	fi
	apps_stop "$APPS_PID_skiff" "$APPS_PID_kernel"
}

# apps_skiffd LOG ARGS...: skiffd on DED_IP, all its threads (worker and
# control) moved to CPU1 from outside (taskset -a), which works with any
# build: before fe8ccaf skiffd --cpus was killed by its own seccomp filter
# (glibc's sched_setaffinity for pthread_attr_setaffinity_np).
apps_skiffd() {
	local log=$1
	shift
	netns_start_skiffd "$log" --addr "$DED_IP/$PREFIX_LEN" "$@" || return 1
	taskset -a -p -c 1 "$SKIFFD_PID" >/dev/null || return 1
	echo "skiffd: taskset -a -p -c 1 (after start) $SKIFFD --iface $DUT_IF --addr $DED_IP/$PREFIX_LEN $*"
}

apps_topology() {
	local pl
	netns_init sa || return 1
	netns_trap
	e2e_peer_rx || return 1
	netns_create 1 || return 1
	netns_dut ethtool -K "$DUT_IF" tx off tso off gso off >/dev/null
	apps_skiffd "$APPS_TMP/skiffd.log" || return 1
	echo "topology: $PEER_NS ($PEER_IP, load on CPU0) <veth> $DUT_NS (skiffd $DED_IP, kernel" \
		"$DUT_IP); both veth ends tx/tso/gso off; peer NAPI by $NETNS_PEER_NAPI (E2E_PEER_RX)"
	echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	for pl in $APPS_PLACEMENTS; do
		apps_want nginx && apps_nginx "$pl"
		apps_want redis && apps_redis_rows "$pl"
		apps_want iperf3 && apps_iperf_rows "$pl"
		apps_want latency && apps_latency_rows "$pl" ""
	done
	if apps_want latency && [ "$APPS_BUSY_POLL" != 0 ]; then
		netns_stop_skiffd || apps_fail "skiffd exited with status $?"
		apps_skiffd "$APPS_TMP/skiffd-bp.log" --busy-poll "$APPS_BUSY_POLL" || return 1
		for pl in $APPS_PLACEMENTS; do
			apps_latency_rows "$pl" ", skiffd --busy-poll $APPS_BUSY_POLL"
			# the program spins too only where skiffd's worker has a core
			# of its own: two spinners on one CPU take it from each other
			[ "$APPS_LIB_BUSY_POLL" != 0 ] && [ "$pl" = own ] || continue
			APPS_LIB_SPIN=$APPS_LIB_BUSY_POLL apps_latency_rows "$pl" \
				", skiffd --busy-poll $APPS_BUSY_POLL, skiff-run -b $APPS_LIB_BUSY_POLL"
		done
	fi
	echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
	netns_stop_skiffd || apps_fail "skiffd exited with status $?"
}

bench_apps() {
	local rc=0
	APPS_RUNS=${APPS_RUNS:-3}
	APPS_SECONDS=${APPS_SECONDS:-5}
	APPS_PLACEMENTS=${APPS_PLACEMENTS:-shared own}
	APPS_ONLY=${APPS_ONLY:-nginx redis iperf3 latency}
	APPS_BUSY_POLL=${APPS_BUSY_POLL:-200}
	APPS_LIB_BUSY_POLL=${APPS_LIB_BUSY_POLL:-200}
	APPS_LIB_SPIN=""
	APPS_PID_skiff="" APPS_PID_kernel=""
	SKIFF_RUN=${SKIFFD%/skiffd}/bin/skiff-run
	[ -x "$SKIFF_RUN" ] || { echo "bench: $SKIFF_RUN not built (make)" >&2; return 1; }
	for p in wrk redis-server redis-benchmark iperf3 nginx; do
		command -v "$p" >/dev/null || { echo "bench: $p missing (scripts/deps.sh bench)" >&2; return 1; }
	done
	APPS_TMP=$(mktemp -d /tmp/skiff-bench-apps.XXXXXX)
	APPS_SUMMARY=$APPS_TMP/summary.md
	trap 'rm -rf "$APPS_TMP"' EXIT
	mkdir -p "$APPS_TMP/www"
	head -c 1024 /dev/urandom >"$APPS_TMP/www/small.bin"
	chmod -R a+rX "$APPS_TMP"
	echo
	# the commit of the tree the binaries were built in (BUILD may be another worktree's)
	# (pathspecs are relative to the directory git runs in: run it at the top)
	local src
	src=$(git -C "${SKIFFD%/*}" rev-parse --show-toplevel 2>/dev/null || echo "${SKIFFD%/*}")
	echo "### Applications under skiff-run ($(date -u '+%F %H:%M UTC'), build $BUILD of" \
		"$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$src" diff --quiet HEAD -- user bpf include bench 2>/dev/null || echo '+local changes'))," \
		"medians of $APPS_RUNS runs of $APPS_SECONDS s"
	echo "| workload | placement | skiff | kernel | unit | skiff/kernel | runs |" >"$APPS_SUMMARY"
	echo "|---|---|---|---|---|---|---|" >>"$APPS_SUMMARY"
	(apps_topology) || rc=1
	echo
	echo "Summary (medians of $APPS_RUNS; for latency skiff/kernel < 1 means skiff is faster):"
	cat "$APPS_SUMMARY"
	if [ -s "$APPS_TMP/failed" ]; then
		echo "bench apps: failures:" >&2
		sed 's/^/  /' "$APPS_TMP/failed" >&2
		rc=1
	fi
	return $rc
}

if [ "${APPS:-1}" != 0 ] && { [ -z "${BENCH_ONLY:-}" ] || [ "${BENCH_ONLY:-}" = apps ]; }; then
	[ "$(id -u)" = 0 ] || { echo "bench: the applications section needs root (APPS=0 skips it)" >&2; exit 1; }
	# shellcheck source=scripts/netns-lib.sh
	SKIFF_BUILD=$BUILD . scripts/netns-lib.sh
	(bench_apps)
fi

# ---- connection scale on the wire: skiff vs the kernel ----------------
# CONNS_WIRE (100000) concurrent TCP connections to an echo service from the
# peer namespace (tests/integration/connscale.py: bursts of 2000 connects
# 20 ms apart, CONNS_SRC (6) source addresses, CONNS_PROCS processes since
# RLIMIT_NOFILE is per process; the client on CPU0), idle CONNS_IDLE (5) s,
# then one byte each, echoed.  First against skiffd --echo 7 --cpus 1 on
# the dedicated DED_IP, then against bench_kserver echo (8 SO_REUSEPORT
# processes, CPU1) on the kernel's DUT_IP, in one topology.  Prints each
# client's result (established, echoed, connect errors, resets, seconds for
# the connects and the rate: a Python client, so the rate is a floor for
# both), the memory per connection: skiffd's RSS growth (VmRSS once every
# client process has its connections, minus before), the kernel servers'
# RSS growth, and the kernel's slab growth (/proc/meminfo Slab: the client's
# sockets in both runs, the server's too in the kernel run), and the
# listen-queue counters of both.  BENCH_ONLY=conns runs only this section;
# CONNS_WIRE=0 skips it.  Figures: docs/performance.md, "Connection scale on
# the wire".
conns_kb() { awk -v k="$1:" '$1 == k { print $2 }' "$2"; }
conns_rss_kb() {
	local t=0 p
	for p in "$@"; do t=$((t + $(conns_kb VmRSS "/proc/$p/status"))); done
	echo $t
}
conns_src_ip() { echo "10.77.0.$((100 + $1))"; }

# conns_run NAME DST PID...: one client run against DST:7, memory of PIDs.
conns_run() {
	local name=$1 dst=$2 ready=$CONNS_TMP/ready-$1 i n cpid rss0 rss1 slab0 slab1 srcs=()
	shift 2
	for i in $(seq "$CONNS_SRC"); do srcs+=(--src "$(conns_src_ip "$i")"); done
	rss0=$(conns_rss_kb "$@")
	slab0=$(conns_kb Slab /proc/meminfo)
	nsenter --net="/run/netns/$PEER_NS" taskset -c 0 python3 tests/integration/connscale.py \
		--dst "$dst" --port 7 --conns "$CONNS_WIRE" --procs "$CONNS_PROCS" "${srcs[@]}" \
		--burst 2000 --gap-ms 20 --idle "$CONNS_IDLE" --timeout 60 --ready-file "$ready" \
		>"$CONNS_TMP/client-$name.json" 2>"$CONNS_TMP/client-$name.err" &
	cpid=$!
	netns_track_pid "$cpid"
	for i in $(seq 1500); do
		n=$(find "$CONNS_TMP" -name "ready-$name.*" | wc -l)
		[ "$n" -ge "$CONNS_PROCS" ] && break
		kill -0 "$cpid" 2>/dev/null || break
		sleep 0.1
	done
	sleep 1	# the last handshakes' accepts
	rss1=$(conns_rss_kb "$@")
	slab1=$(conns_kb Slab /proc/meminfo)
	wait "$cpid" || echo "  $name client failed: $(tail -n 3 "$CONNS_TMP/client-$name.err")"
	echo "  $name client: $(cat "$CONNS_TMP/client-$name.json")"
	python3 - "$CONNS_TMP/client-$name.json" "$CONNS_WIRE" "$name" "$rss0" "$rss1" "$slab0" \
		"$slab1" <<'PY' | tee -a "$CONNS_SUMMARY"
import json, sys
f, n, name, rss0, rss1, slab0, slab1 = sys.argv[1:]
n = int(n)
try:
    r = json.load(open(f))
except ValueError:
    r = {}
est = r.get("established", 0)
per = lambda a, b: (int(b) - int(a)) * 1024 / est if est else float("nan")
print(f"| {name} | {est} / {n} | {r.get('echoed', 0)} | {sum(r.get('connect_errors', {}).values())}"
      f" | {r.get('resets', '?')} | {r.get('connect_s', '?')} s | {r.get('rate', '?')}/s"
      f" | {per(rss0, rss1):.0f} B | {per(slab0, slab1):.0f} B |")
PY
}

bench_conns_wire() {
	local i pids=() dpid
	CONNS_SRC=${CONNS_SRC:-6}
	CONNS_IDLE=${CONNS_IDLE:-5}
	CONNS_PROCS=${CONNS_PROCS:-$(((CONNS_WIRE + 15999) / 16000))}
	CONNS_TMP=$(mktemp -d /tmp/skiff-bench-conns.XXXXXX)
	CONNS_SUMMARY=$CONNS_TMP/summary.md
	trap 'rm -rf "$CONNS_TMP"' RETURN
	netns_init sc || return 1
	netns_trap
	netns_create 1 || return 1
	netns_dut ethtool -K "$DUT_IF" tx off tso off gso off >/dev/null
	for i in $(seq "$CONNS_SRC"); do
		netns_peer ip addr add "$(conns_src_ip "$i")/$PREFIX_LEN" dev "$PEER_IF" || return 1
	done
	netns_peer sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
	netns_start_skiffd "$CONNS_TMP/skiffd.log" --addr "$DED_IP/$PREFIX_LEN" --cpus 1 \
		--echo 7 -v || return 1
	nsenter --net="/run/netns/$DUT_NS" taskset -c 1 "$BUILD"/bench/bench_kserver echo \
		"$DUT_IP" 7 8 >"$CONNS_TMP/kserver.log" 2>&1 &
	netns_track_pid $!
	for i in $(seq 100); do
		grep -q ready "$CONNS_TMP/kserver.log" && break
		sleep 0.05
	done
	dpid=$!
	mapfile -t pids < <(pgrep -P "$dpid"; echo "$dpid")
	echo
	echo "### connection scale on the wire ($(date -u '+%F %H:%M UTC'), build" \
		"$(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- user bpf include 2>/dev/null || echo '+local changes'))"
	echo "skiffd: $SKIFFD --iface $DUT_IF --addr $DED_IP/$PREFIX_LEN --cpus 1 --echo 7;" \
		"kernel: taskset -c 1 bench_kserver echo $DUT_IP 7 8; client: connscale.py" \
		"--conns $CONNS_WIRE --procs $CONNS_PROCS, $CONNS_SRC source addresses, CPU0"
	grep capacity "$CONNS_TMP/skiffd.log" | sed 's/^/  /'
	echo "| server | established | echoed | connect errors | resets | connect time | rate | RSS / conn | kernel slab / conn |" >"$CONNS_SUMMARY"
	echo "|---|---|---|---|---|---|---|---|---|" >>"$CONNS_SUMMARY"
	conns_run skiff "$DED_IP" "$SKIFFD_PID"
	echo "  skiffd: $(for c in u.tcp_passive_opens u.tcp_syncookies_sent u.tcp_syncookies_ok \
		u.drop.tcp_accept_full u.svc_conn_limited u.tcp_retrans_segs u.tcp_out_rsts; do
		printf '%s=%s ' "${c#u.}" "$(netns_counter "$PIN_DIR" "$c")"; done)"
	netns_dut "$SKIFFCTL" --iface "$DUT_IF" --json stats 2>/dev/null | python3 -c '
import json, sys
j = json.load(sys.stdin)
print("  skiffd (nonzero):", " ".join(f"{k}={v}" for k, v in j["daemon"].items()
                                      if v and not k.startswith(("rx_", "tx_", "eth_", "ip_"))))
print("  skiffd drops:", " ".join(f"{k}={v}" for k, v in j["drops"].items() if v))
for q in j.get("queues", []):
    x = q.get("xsk", {})
    print("  skiffd queue", q["queue"], "xsk:", " ".join(f"{k}={v}" for k, v in x.items() if v))' || true
	sleep 3	# skiff ends its connections (LAST-ACK) before the kernel run
	conns_run kernel "$DUT_IP" "${pids[@]}"
	echo "  kernel: $(netns_dut nstat -az TcpExtListenOverflows TcpExtListenDrops \
		TcpExtSyncookiesSent TcpRetransSegs TcpOutRsts 2>/dev/null | awk 'NR > 1 { printf "%s=%s ", $1, $2 }')"
	echo
	cat "$CONNS_SUMMARY"
}

if [ "${CONNS_WIRE:-100000}" != 0 ] && { [ -z "${BENCH_ONLY:-}" ] || [ "${BENCH_ONLY:-}" = conns ]; }; then
	[ "$(id -u)" = 0 ] || { echo "bench: the connection-scale section needs root (CONNS_WIRE=0 skips it)" >&2; exit 1; }
	CONNS_WIRE=${CONNS_WIRE:-100000}
	# shellcheck source=scripts/netns-lib.sh
	SKIFF_BUILD=$BUILD . scripts/netns-lib.sh
	(bench_conns_wire)
fi

# ---- packet-rate floods: skiff vs the kernel --------------------------
# A kernel-socket sender saturates its own core near 1 Mpps, below what
# either stack answers, so the requests come from bench/flood: a BPF
# program run with BPF_PROG_RUN + BPF_F_TEST_XDP_LIVE_FRAMES that redirects
# a crafted frame out of the peer veth (~250 ms calls in a loop for
# FLOOD_SECONDS), while an XDP program on the peer veth counts the replies
# by kind and drops them.  Three floods, each E2E_RUNS (3) runs interleaved
# skiff, kernel, skiff ...: ICMP echo (skiff: XDP_TX on the dedicated
# address DED_IP; kernel: its own DUT_IP), ARP who-has (the same two), UDP
# echo of 64 bytes to port 7 with the source port cycling over 1024 values
# (skiffd --echo 7, AF_XDP copy mode; kernel: bench_kserver udpecho,
# recvmmsg/sendmmsg).  One topology: skiffd's XDP program is in front of the
# kernel too (it passes DUT_IP's frames on).  The generator runs on CPU0;
# FLOOD_NAPI=inline (default) leaves the dut veth's receive (NAPI) where
# veth puts it, in the generator's softirq on CPU0, so the generator waits
# for the dut and nothing is lost between them; FLOOD_NAPI=threaded moves
# it to a kernel thread pinned to CPU1, beside skiffd's worker and the
# kernel's server (the dut is CPU1, as across a wire), but then the peer's
# receive, which runs inline wherever the dut transmits, falls behind and
# the kernel's ICMP socket runs out of send buffer (IpOutDiscards): the
# kernel's threaded ICMP figure is an artifact (docs/performance.md).  The generator, skiffd, bench_kserver and the dut's NAPI
# thread run at nice FLOOD_NICE (-10; 0 leaves them be), so that other
# work on the machine takes less of their CPUs.  FLOOD=0 skips the section,
# FLOOD_SECONDS (5) sets each run's length, BENCH_ONLY=flood runs only this
# section.  Each run also reports the CPU time (user + system) that the
# dut's NAPI thread, skiffd and bench_kserver used during the command,
# divided by all replies counted (warm-up included): in threaded mode every
# dut cost of ICMP and ARP is in that thread, so this figure depends little
# on other load on the machine; inline, the dut's receive is charged to the
# generator and only the daemons' share is seen.  FLOOD_QUEUES=2 (default
# 1) floods a veth with 2 RX/TX queues on both ends: skiffd --queues 2
# --cpus 0,1, bench_kserver udpecho with 2 SO_REUSEPORT sockets (thread i on
# CPU i, each datagram to the socket of the CPU that received it), and the
# generator as two threads, one pinned to each CPU (flood --cpus 0,1): veth
# puts a redirected XDP frame on the RX queue of the sending CPU, not by
# flow hash, so one generator would fill queue 0 only.  Inline NAPI only:
# CPU i then runs generator thread i, the dut's receive of queue i in its
# softirq, skiffd's worker i or the kernel's thread i, and the peer's
# receive of their replies; the two CPUs are alike and every part shares
# its CPU with the generator.  FLOOD_GEN (auto) picks the generator:
# live (the BPF program above), packet (bench/flood's AF_PACKET sender:
# PACKET_QDISC_BYPASS, sendmmsg of 64 frames, FLOOD_GEN_THREADS threads per
# generator CPU, default 2), or auto: live frames, and the packet sender
# where the kernel refuses BPF_PROG_RUN with live frames (EPERM).  Each row
# says which generator produced it and, per run, what limited the rate:
# "generator" when the dut answered at least 95% of what was offered (then
# the figure is the generator's, not the dut's), else "dut".  Figures:
# docs/performance.md, "Packet-rate floods".

# flood_cpu_ticks: CPU time (user + system, clock ticks) so far of the dut's
# processes in FLOOD_CPU_PIDS (the NAPI thread, skiffd, bench_kserver).
flood_cpu_ticks() {
	local pid
	for pid in "${FLOOD_CPU_PIDS[@]}"; do
		cat "/proc/$pid/stat" 2>/dev/null
	done | awk '{ t += $14 + $15 } END { print t + 0 }'
}

# flood_run KIND ADDR: one flood run; prints "OFFERED REPLIES US GEN LIMIT"
# (Mpps, Mpps, the dut processes' CPU microseconds per reply, the generator
# used, generator|dut) or "nan nan nan ? ?"; flood's own line on stderr.
flood_run() {
	local out t0 t1
	t0=$(flood_cpu_ticks)
	out=$(netns_peer nice -n "$FLOOD_NICE" taskset -c "$FLOOD_GEN_CPUS" "$BUILD"/bench/flood --iface "$PEER_IF" --dst-mac "$DUT_MAC" \
		--src-ip "$PEER_IP" --dst-ip "$2" --kind "$1" --port 7 --payload 64 --ports 1024 \
		--seconds "$FLOOD_SECONDS" "${FLOOD_GEN_ARGS[@]}" --gen "$FLOOD_GEN" \
		--threads "$FLOOD_THREADS" 2>&1) || true
	t1=$(flood_cpu_ticks)
	echo "   $out; dut CPU $((t1 - t0)) ticks" >&2
	echo "$out" | sed -n 's/.*: generator \([a-z]*\) .* offered \([0-9.]*\) Mpps replies \([0-9.]*\) Mpps .* limit \([a-z]*\), total \([0-9]*\)$/\2 \3 \5 \1 \4/p' |
		awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" \
			'$3 > 0 { printf "%s %s %s %s %s\n", $1, $2, t ? sprintf("%.2f", t * 1e6 / hz / $3) : "n/a", $4, $5 }' |
		grep . || echo nan nan nan ? ?
}

# flood_compare NAME KIND: E2E_RUNS interleaved runs against DED_IP (skiff)
# and DUT_IP (kernel); one summary row with the median replies/s, the ratio
# and the median offered rates.
flood_compare() {
	local name=$1 kind=$2 i s k s4 s5 k4 k5
	local -a so=() sr=() ko=() kr=() sc=() kc=() gen=() sl=() kl=()
	echo "== $name"
	echo "   netns $PEER_NS: nice -n $FLOOD_NICE taskset -c $FLOOD_GEN_CPUS $BUILD/bench/flood --iface $PEER_IF --dst-mac $DUT_MAC" \
		"--src-ip $PEER_IP --dst-ip $DED_IP|$DUT_IP --kind $kind --port 7 --payload 64" \
		"--ports 1024 --seconds $FLOOD_SECONDS${FLOOD_GEN_ARGS[*]:+ ${FLOOD_GEN_ARGS[*]}}" \
		"--gen $FLOOD_GEN --threads $FLOOD_THREADS"
	for i in $(seq "$E2E_RUNS"); do
		s=$(flood_run "$kind" "$DED_IP")
		k=$(flood_run "$kind" "$DUT_IP")
		read -r s1 s2 s3 s4 s5 <<<"$s"
		read -r k1 k2 k3 k4 k5 <<<"$k"
		so+=("$s1") sr+=("$s2") sc+=("$s3") ko+=("$k1") kr+=("$k2") kc+=("$k3")
		gen+=("$s4" "$k4") sl+=("$s5") kl+=("$k5")
	done
	local msr mkr mso mko msc mkc
	msr=$(printf '%s\n' "${sr[@]}" | e2e_median)
	mkr=$(printf '%s\n' "${kr[@]}" | e2e_median)
	mso=$(printf '%s\n' "${so[@]}" | e2e_median)
	mko=$(printf '%s\n' "${ko[@]}" | e2e_median)
	msc=$(printf '%s\n' "${sc[@]}" | e2e_median)
	mkc=$(printf '%s\n' "${kc[@]}" | e2e_median)
	e2e_say "| $name | $msr | $mkr | $(e2e_ratio "$msr" "$mkr") | $mso / $mko |" \
		"$msc / $mkc | $(printf '%s\n' "${gen[@]}" | sort -u | paste -sd/) | ${sl[*]} / ${kl[*]} |" \
		"skiff ${sr[*]} / kernel ${kr[*]} |"
}

# flood_threaded NS IF CPU: threaded NAPI on IF (in NS), its thread on CPU
# at FLOOD_NICE, its PID added to FLOOD_CPU_PIDS.
flood_threaded() {
	local pid n=0
	ip netns exec "$1" sh -c "echo 1 > /sys/class/net/$2/threaded" || return 1
	for pid in $(pgrep -x "napi/$2-[0-9]+"); do
		taskset -pc "$3" "$pid" >/dev/null || return 1
		renice -n "$FLOOD_NICE" -p "$pid" >/dev/null || return 1
		FLOOD_CPU_PIDS+=("$pid")
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || { echo "flood: no NAPI thread for $2" >&2; return 1; }
}

# flood_renice PID: every thread of PID to FLOOD_NICE.
flood_renice() {
	local t
	for t in /proc/"$1"/task/*; do
		renice -n "$FLOOD_NICE" -p "${t##*/}" >/dev/null || return 1
	done
}

# flood_autogroup NICE: this session's autogroup (sched_autogroup_enabled=1,
# Debian's default) to NICE; prints the nice it had.  With autogroups a
# task's nice only weighs against tasks of its own session: every other
# session's busy process gets the same share of a CPU as skiffd's worker,
# whatever FLOOD_NICE (measured: a nice-0 loop in another session on CPU1
# left the worker 1/3 of CPU1 and 0.16-0.19 M UDP replies/s; with the
# autogroup at -10, 85% and 0.48-0.51 M/s).
flood_autogroup() {
	local f=/proc/$BASHPID/autogroup old
	[ -w "$f" ] || return 0		# no autogroups: nice alone works
	old=$(sed -n 's/.* nice \(-*[0-9]*\)$/\1/p' "$f")
	echo "$1" >"$f" 2>/dev/null && echo "${old:-0}"
}

# flood_start_kserver2: bench_kserver udpecho with FLOOD_QUEUES threads (the
# multi-queue flood; it pins thread i to CPU i itself).
flood_start_kserver2() {
	local log=$FLOOD_TMP/kserver-udpecho.log i
	nsenter --net="/run/netns/$DUT_NS" taskset -c "$FLOOD_GEN_CPUS" \
		"$BUILD"/bench/bench_kserver udpecho "$DUT_IP" 7 "$FLOOD_QUEUES" >"$log" 2>&1 &
	netns_track_pid $!
	for i in $(seq 100); do
		grep -q ready "$log" && return 0
		sleep 0.05
	done
	echo "bench_kserver udpecho ... $FLOOD_QUEUES did not start: $(cat "$log")" >&2
	return 1
}

# flood_queue_stats: per RX queue of the dut veth, frames received (XDP) and
# dropped (veth), and skiffd's UDP datagrams per queue: the spread.
flood_queue_stats() {
	local q
	for q in $(seq 0 $((FLOOD_QUEUES - 1))); do
		printf '   queue %s: veth %s;' "$q" "$(netns_dut ethtool -S "$DUT_IF" |
			grep -E "rx_queue_${q}_(xdp_packets|drops):" | tr -s ' ' | tr '\n' ' ')"
		netns_dut "$SKIFFCTL" --iface "$DUT_IF" stats --json 2>/dev/null |
			python3 -c 'import json, sys
q = [x for x in json.load(sys.stdin)["queues"] if x["queue"] == int(sys.argv[1])][0]["counters"]
print(" skiffd udp_rx %d udp_tx %d" % (q["udp_rx"], q["udp_tx"]))' "$q" || echo
	done
	# the kernel's UDP sockets have no datagram counter: its threads' CPU
	# time (main thread, then one per socket, in clock ticks) shows both served
	echo "   bench_kserver CPU ticks per thread: $(cat /proc/"${FLOOD_CPU_PIDS[1]}"/task/*/stat |
		awk '{ printf "%s ", $14 + $15 }')"
}

flood_topology() {
	local scpus=1 kcmd
	netns_init sf || return 1
	kcmd="taskset -c 1 $BUILD/bench/bench_kserver udpecho $DUT_IP 7"
	netns_trap
	netns_create "$FLOOD_QUEUES" || return 1
	netns_dut ethtool -K "$DUT_IF" tx off tso off gso off >/dev/null
	if [ "$FLOOD_QUEUES" = 1 ]; then
		netns_start_skiffd "$FLOOD_TMP/skiffd.log" --addr "$DED_IP/$PREFIX_LEN" --cpus 1 \
			--echo 7 || return 1
		e2e_start_kserver "" udpecho "$DUT_IP" 7 || return 1
	else
		[ "$FLOOD_NAPI" = inline ] || { echo "FLOOD_QUEUES=$FLOOD_QUEUES: inline NAPI only" >&2; return 1; }
		scpus="$FLOOD_GEN_CPUS --queues $FLOOD_QUEUES"
		kcmd="taskset -c $FLOOD_GEN_CPUS $BUILD/bench/bench_kserver udpecho $DUT_IP 7 $FLOOD_QUEUES"
		# shellcheck disable=SC2086  # scpus: --cpus LIST --queues N
		netns_start_skiffd "$FLOOD_TMP/skiffd.log" --addr "$DED_IP/$PREFIX_LEN" --cpus $scpus \
			--echo 7 || return 1
		flood_start_kserver2 || return 1
	fi
	flood_renice "$SKIFFD_PID" || return 1
	flood_renice "${_NETNS_PIDS[-1]}" || return 1	# bench_kserver
	FLOOD_CPU_PIDS=("$SKIFFD_PID" "${_NETNS_PIDS[-1]}")
	case $FLOOD_NAPI in
	threaded) flood_threaded "$DUT_NS" "$DUT_IF" 1 || return 1 ;;
	inline) ;;
	*) echo "FLOOD_NAPI=$FLOOD_NAPI: threaded or inline" >&2; return 1 ;;
	esac
	if [ "$FLOOD_QUEUES" = 1 ]; then
		echo "topology: $PEER_NS ($PEER_IP, generator on CPU0) <veth> $DUT_NS (skiffd $DED_IP," \
			"kernel $DUT_IP, servers on CPU1); both veth ends tx/tso/gso off; dut receive:" \
			"$FLOOD_NAPI NAPI$([ "$FLOOD_NAPI" = threaded ] && echo ' on CPU1' || echo ' (generator CPU0)')"
	else
		echo "topology: $PEER_NS ($PEER_IP, generator thread i on CPU i) <veth, $FLOOD_QUEUES queues each end>" \
			"$DUT_NS (skiffd $DED_IP, kernel $DUT_IP, worker/thread i on CPU i); both veth ends" \
			"tx/tso/gso off; dut receive of queue i: inline NAPI in generator thread i's softirq"
	fi
	echo "skiffd: $SKIFFD --iface $DUT_IF --addr $DED_IP/$PREFIX_LEN --cpus $scpus --echo 7"
	echo "kernel: $kcmd"
	echo "priority: nice $FLOOD_NICE for the generator, skiffd's threads, bench_kserver and" \
		"the dut's NAPI thread, and the session's autogroup ($(cat /proc/$BASHPID/autogroup 2>/dev/null || echo none))"
	echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	flood_compare "ICMP echo flood (replies/s, M)" icmp
	flood_compare "ARP who-has flood (replies/s, M)" arp
	flood_compare "UDP echo flood, 64 B (replies/s, M)" udp
	echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
	netns_dut "$SKIFFCTL" --iface "$DUT_IF" stats 2>/dev/null |
		grep -oE '(icmp_echo_reply|arp_reply|udp_rx|udp_tx|tx_ring_full|fill_empty|no_frame) +[0-9]+' |
		tr -s ' ' | tr '\n' ' ' | sed 's/^/   skiffd: /'
	echo
	[ "$FLOOD_QUEUES" = 1 ] || flood_queue_stats
}

bench_flood() {
	FLOOD_SECONDS=${FLOOD_SECONDS:-5}
	FLOOD_NAPI=${FLOOD_NAPI:-inline}
	FLOOD_NICE=${FLOOD_NICE:--10}
	FLOOD_QUEUES=${FLOOD_QUEUES:-1}
	FLOOD_GEN=${FLOOD_GEN:-auto}
	FLOOD_THREADS=${FLOOD_GEN_THREADS:-2}	# the packet sender's (live: one per CPU)
	case $FLOOD_GEN in
	auto | live | packet) ;;
	*) echo "FLOOD_GEN=$FLOOD_GEN: auto, live or packet" >&2; return 1 ;;
	esac
	case $FLOOD_QUEUES in
	1) FLOOD_GEN_CPUS=0 FLOOD_GEN_ARGS=() ;;
	2) FLOOD_GEN_CPUS=0,1 FLOOD_GEN_ARGS=(--cpus "0,1") ;;
	*) echo "FLOOD_QUEUES=$FLOOD_QUEUES: 1 or 2 (2 CPUs here)" >&2; return 1 ;;
	esac
	E2E_RUNS=${E2E_RUNS:-3}
	FLOOD_TMP=$(mktemp -d /tmp/skiff-bench-flood.XXXXXX)
	E2E_TMP=$FLOOD_TMP
	E2E_SUMMARY=$FLOOD_TMP/summary.md
	FLOOD_AG_OLD=$(flood_autogroup "$FLOOD_NICE")
	trap 'rm -rf "$FLOOD_TMP"; [ -z "$FLOOD_AG_OLD" ] || flood_autogroup "$FLOOD_AG_OLD" >/dev/null' EXIT
	echo
	echo "### Packet-rate floods, skiff vs the kernel ($(date -u '+%F %H:%M UTC'), build" \
		"$(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- user bpf include bench 2>/dev/null || echo '+local changes'))," \
		"$FLOOD_SECONDS s runs, dut NAPI $FLOOD_NAPI, nice $FLOOD_NICE$([ "$FLOOD_QUEUES" = 1 ] || echo ", $FLOOD_QUEUES queues")"
	echo "| flood | skiff | kernel | skiff/kernel | offered skiff / kernel (Mpps) |" \
		"dut CPU per reply skiff / kernel (us) | generator | limit per run skiff / kernel |" \
		"runs (replies, M/s) |" >"$E2E_SUMMARY"
	echo "|---|---|---|---|---|---|---|---|---|" >>"$E2E_SUMMARY"
	(flood_topology) || rc=1
	echo
	echo "Summary (medians of $E2E_RUNS, replies in millions per second):"
	cat "$E2E_SUMMARY"
	return "${rc:-0}"
}

if [ "${FLOOD:-1}" != 0 ] && [ "${BENCH_ONLY:-flood}" = flood ]; then
	[ "$(id -u)" = 0 ] || { echo "bench: the flood section needs root (FLOOD=0 skips it)" >&2; exit 1; }
	# shellcheck source=scripts/netns-lib.sh
	SKIFF_BUILD=$BUILD . scripts/netns-lib.sh
	(bench_flood)
fi
