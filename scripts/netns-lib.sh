# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash disable=SC2034  # variables are for the sourcing script
#
# Bash helpers shared by scripts/demo.sh and the benchmarks: a peer and a dut
# network namespace joined by one veth pair, with the peer's kernel set up as
# a wire-like reference (see docs/veth.md for why), skiffd started inside the
# dut namespace, counters read from the pinned maps, and guaranteed clean-up.
# Source it, then:
#
#   netns_init <prefix>        names: <prefix><pid>-peer/-dut, <prefix><pid>p/d
#   netns_trap                 clean up on EXIT, INT and TERM
#   netns_create [queues]      namespaces, veth, addresses, peer offloads/XDP
#   netns_create_impaired [queues]   the same with a relay namespace between
#                              peer and dut (no sch_netem here: see below)
#   netns_start_impair args... / netns_stop_impair / netns_impair_stats
#   netns_peer cmd... / netns_dut cmd...   run a command in a namespace
#   netns_bg NS cmd...         run it in the background (PID in NETNS_BG_PID)
#   netns_start_skiffd log args...          skiffd --iface DUT_IF args...; waits
#   netns_stop_skiffd          SIGTERM by PID; returns skiffd's exit status
#   netns_counter pin-dir name            sum of an XDP or daemon counter
#   netns_cleanup              stop what we started, delete the namespaces
#
# Variables set: PEER_NS DUT_NS PEER_IF DUT_IF PEER_IP DUT_IP DED_IP PREFIX_LEN
# PEER_MAC DUT_MAC PIN_DIR SKIFFD_PID; SKIFF_BUILD (default build) picks the binaries.
#
# Impaired link: netns_create_impaired builds
#   PEER_IF (peer ns) <-veth-> RELAY_A (relay ns) RELAY_B <-veth-> DUT_IF (dut ns)
# and netns_start_impair ARGS... runs $IMPAIR (build/tests/tools/impair, a
# userspace bridge; `make tools`) between RELAY_A and RELAY_B with impair's
# options, e.g. netns_start_impair --loss 3 --reorder 25 --dup 1 --corrupt 1
# --delay 10 --seed 1 (A->B = peer->dut; -ab/-ba suffixes set one direction).
# netns_impair_stats prints its counters (key=value); netns_stop_impair stops it.

SKIFF_ROOT=${SKIFF_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
SKIFF_BUILD=${SKIFF_BUILD:-build}
case $SKIFF_BUILD in /*) ;; *) SKIFF_BUILD=$SKIFF_ROOT/$SKIFF_BUILD ;; esac
SKIFFD=$SKIFF_BUILD/skiffd
SKIFFCTL=$SKIFF_BUILD/skiffctl
XDP_PASS_OBJ=${XDP_PASS_OBJ:-$SKIFF_BUILD/bpf/xdp_pass.bpf.o}
IMPAIR=${IMPAIR:-$SKIFF_BUILD/tests/tools/impair}
IMPAIR_PID=

_NETNS_CREATED=()
_NETNS_PIDS=()
SKIFFD_PID=

netns_init() {
	local prefix=${1:-sk}
	PEER_NS=${prefix}$$-peer
	DUT_NS=${prefix}$$-dut
	PEER_IF=${prefix}$$p
	DUT_IF=${prefix}$$d
	RELAY_NS=${prefix}$$-relay
	RELAY_A=${prefix}$$a	# relay end facing the peer
	RELAY_B=${prefix}$$b	# relay end facing the dut
	IMPAIR_STATS=/tmp/${prefix}$$-impair.stats
	if [ ${#PEER_IF} -gt 15 ]; then
		echo "netns-lib: interface name $PEER_IF longer than 15 characters" >&2
		return 1
	fi
	PREFIX_LEN=24
	PEER_IP=10.77.0.1
	DUT_IP=10.77.0.2	# the kernel's address (shared when given to skiffd)
	DED_IP=10.77.0.3	# dedicated to skiff: not on the kernel
	# skiffd's default; set PIN_DIR and pass --pin-dir "$PIN_DIR" to change it.
	PIN_DIR=/sys/fs/bpf/skiff/$DUT_IF
}

netns_peer() { nsenter --net="/run/netns/$PEER_NS" "$@"; }
netns_dut() { nsenter --net="/run/netns/$DUT_NS" "$@"; }

# Remember a background process to stop at clean-up (never by name).
netns_track_pid() { _NETNS_PIDS+=("$1"); }

# netns_bg NS cmd...: start cmd in the background in namespace NS; its PID
# (nsenter execs cmd, so it is cmd's own) is in NETNS_BG_PID and is stopped
# at clean-up.  Not "netns_dut cmd &": that forks a subshell for the
# function, and killing the subshell would orphan cmd.
netns_bg() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@" &
	NETNS_BG_PID=$!
	netns_track_pid "$NETNS_BG_PID"
}

netns_cleanup() {
	local pid ns
	if [ -n "$SKIFFD_PID" ] && kill -0 "$SKIFFD_PID" 2>/dev/null; then
		netns_stop_skiffd >/dev/null 2>&1 || true
	fi
	# impair holds the relay namespace: stop it before deleting namespaces
	netns_stop_impair >/dev/null 2>&1 || true
	for pid in "${_NETNS_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	_NETNS_PIDS=()
	for ns in "${_NETNS_CREATED[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	_NETNS_CREATED=()
}

# EXIT runs the clean-up; INT and TERM exit through it with the usual status.
netns_trap() {
	trap 'netns_cleanup' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

netns_ensure_bpffs() {
	mount | grep -q 'type bpf' && return 0
	mount -t bpf bpf /sys/fs/bpf
}

# _netns_add NS...: create the namespaces (removed by netns_cleanup), lo up,
# IPv6 off (no router solicitations or neighbour discovery noise).
_netns_add() {
	local ns
	for ns in "$@"; do
		ip netns add "$ns" || return 1
		_NETNS_CREATED+=("$ns")
		nsenter --net="/run/netns/$ns" ip link set dev lo up
		nsenter --net="/run/netns/$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
	done
}

# netns_peer_napi NS IF: give veth IF (in NS) NAPI, so that XDP_TX and
# XDP_REDIRECT frames sent to it are delivered (docs/veth.md, "XDP_TX needs
# NAPI on the peer").  NETNS_PEER_NAPI picks how: xdp (an XDP_PASS program,
# the default), gro (GRO on, no XDP program: NAPI since Linux 5.13, without
# the XDP program's per-frame copy of skbs that lack headroom), none (no
# NAPI: XDP_TX frames are lost; only to show that fact).
netns_peer_napi() {
	case ${NETNS_PEER_NAPI:-xdp} in
	xdp) ip -n "$1" link set dev "$2" xdpdrv obj "$XDP_PASS_OBJ" sec xdp ;;
	gro) nsenter --net="/run/netns/$1" ethtool -K "$2" gro on >/dev/null ;;
	none) nsenter --net="/run/netns/$1" ethtool -K "$2" gro off >/dev/null ;;
	*) echo "NETNS_PEER_NAPI=$NETNS_PEER_NAPI: xdp, gro or none" >&2; return 1 ;;
	esac
}

# _netns_endpoints: the peer veth sends as a wire does (full checksums, no
# 64 KiB segments) and runs XDP_PASS (XDP_TX frames reach a veth peer only
# if it runs NAPI, which an XDP program turns on); both ends get their
# addresses, come up, and PEER_MAC/DUT_MAC are read.
_netns_endpoints() {
	netns_peer ethtool -K "$PEER_IF" tx off tso off gso off >/dev/null || return 1
	netns_peer_napi "$PEER_NS" "$PEER_IF" || return 1
	netns_peer ip addr add "$PEER_IP/$PREFIX_LEN" dev "$PEER_IF" || return 1
	netns_dut ip addr add "$DUT_IP/$PREFIX_LEN" dev "$DUT_IF" || return 1
	netns_peer ip link set dev "$PEER_IF" up || return 1
	netns_dut ip link set dev "$DUT_IF" up || return 1
	PEER_MAC=$(ip -n "$PEER_NS" -br link show dev "$PEER_IF" | awk '{print $3}')
	DUT_MAC=$(ip -n "$DUT_NS" -br link show dev "$DUT_IF" | awk '{print $3}')
	# a GRO-only peer would hold skiffd's XDP_TX ARP replies (see above)
	if [ "${NETNS_PEER_NAPI:-xdp}" = gro ]; then
		netns_peer ip neigh replace "$DED_IP" lladdr "$DUT_MAC" dev "$PEER_IF" nud permanent || return 1
	fi
}

netns_create() {
	local q=${1:-1}
	netns_ensure_bpffs || return 1
	_netns_add "$PEER_NS" "$DUT_NS" || return 1
	ip link add "$PEER_IF" numtxqueues "$q" numrxqueues "$q" netns "$PEER_NS" type veth \
		peer name "$DUT_IF" numtxqueues "$q" numrxqueues "$q" netns "$DUT_NS" || return 1
	_netns_endpoints
}

# netns_create_impaired [queues]: like netns_create, with the relay namespace
# between peer and dut.  Every end that sends into the relay sends as a wire
# (tx checksum/TSO/GSO off, the dut kernel too, or its partial checksums would
# cross the bridge unfinished); the relay ends have GRO/LRO off, so impair
# reads frames of MTU size, and run XDP_PASS (they receive skiffd's
# XDP_TX/AF_XDP frames and impair's transmissions).  Start the bridge with
# netns_start_impair.
netns_create_impaired() {
	local q=${1:-1} ifname
	netns_ensure_bpffs || return 1
	_netns_add "$PEER_NS" "$RELAY_NS" "$DUT_NS" || return 1
	ip link add "$PEER_IF" numtxqueues "$q" numrxqueues "$q" netns "$PEER_NS" type veth \
		peer name "$RELAY_A" numtxqueues "$q" numrxqueues "$q" netns "$RELAY_NS" || return 1
	ip link add "$RELAY_B" numtxqueues "$q" numrxqueues "$q" netns "$RELAY_NS" type veth \
		peer name "$DUT_IF" numtxqueues "$q" numrxqueues "$q" netns "$DUT_NS" || return 1
	for ifname in "$RELAY_A" "$RELAY_B"; do
		nsenter --net="/run/netns/$RELAY_NS" ethtool -K "$ifname" tx off tso off gso off \
			gro off >/dev/null || return 1
		nsenter --net="/run/netns/$RELAY_NS" ethtool -K "$ifname" lro off >/dev/null 2>&1
		ip -n "$RELAY_NS" link set dev "$ifname" xdpdrv obj "$XDP_PASS_OBJ" sec xdp || return 1
		ip -n "$RELAY_NS" link set dev "$ifname" up || return 1
	done
	netns_dut ethtool -K "$DUT_IF" tx off tso off gso off >/dev/null || return 1
	_netns_endpoints
}

# netns_start_impair ARGS...: run impair between RELAY_A and RELAY_B with
# ARGS (impair's options); waits for its "ready" line (5 s).
netns_start_impair() {
	local i
	[ -x "$IMPAIR" ] || { echo "netns-lib: $IMPAIR not built (make tools)" >&2; return 1; }
	rm -f "$IMPAIR_STATS" "$IMPAIR_STATS.out"
	nsenter --net="/run/netns/$RELAY_NS" "$IMPAIR" --a "$RELAY_A" --b "$RELAY_B" \
		--stats-file "$IMPAIR_STATS" "$@" >"$IMPAIR_STATS.out" 2>&1 &
	IMPAIR_PID=$!
	for i in $(seq 100); do
		grep -q 'impair: ready' "$IMPAIR_STATS.out" 2>/dev/null && return 0
		if ! kill -0 "$IMPAIR_PID" 2>/dev/null; then
			cat "$IMPAIR_STATS.out" >&2
			IMPAIR_PID=
			return 1
		fi
		sleep 0.05
	done
	echo "netns-lib: impair not ready after 5 s" >&2
	return 1
}

# Print impair's counters (key=value lines) without stopping it.
netns_impair_stats() {
	local i
	[ -n "$IMPAIR_PID" ] || return 1
	rm -f "$IMPAIR_STATS"
	kill -USR1 "$IMPAIR_PID" || return 1
	for i in $(seq 100); do
		[ -s "$IMPAIR_STATS" ] && { cat "$IMPAIR_STATS"; return 0; }
		sleep 0.02
	done
	return 1
}

# SIGTERM by PID; impair writes its final counters to $IMPAIR_STATS.
netns_stop_impair() {
	local pid=$IMPAIR_PID
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	IMPAIR_PID=
	rm -f "$IMPAIR_STATS.out"
}

# netns_start_skiffd LOG ARGS...: start skiffd --iface $DUT_IF ARGS... in the
# dut namespace, output to LOG; wait (20 s) for its control socket
# (/run/skiff/$DUT_IF.<netns>.sock, or @skiff/$DUT_IF from older builds)
# and its pinned stats map in $PIN_DIR.  On failure print LOG
# and return 1.
netns_start_skiffd() {
	local log=$1 i
	shift
	# nsenter directly, not the netns_dut function: `func &` forks a bash
	# subshell, and SIGTERM to $! would hit that shell instead of skiffd
	nsenter --net="/run/netns/$DUT_NS" "$SKIFFD" --iface "$DUT_IF" "$@" >"$log" 2>&1 &
	SKIFFD_PID=$!
	for i in $(seq 400); do
		if ! kill -0 "$SKIFFD_PID" 2>/dev/null; then
			wait "$SKIFFD_PID"
			echo "skiffd exited ($?) before it was ready:" >&2
			cat "$log" >&2
			SKIFFD_PID=
			return 1
		fi
		# listening (Flags 00010000): skiffd binds the name first, listens when ready
		if netns_dut cat /proc/net/unix |
			awk -v n="@skiff/$DUT_IF" -v p="/run/skiff/$DUT_IF." \
				'($8 == n || index($8, p) == 1) && $4 == "00010000" { f = 1 }
				 END { exit !f }' &&
			[ -e "$PIN_DIR/stats" ]; then
			return 0
		fi
		sleep 0.05
	done
	echo "skiffd not ready after 20 s:" >&2
	cat "$log" >&2
	return 1
}

# SIGTERM by PID; returns skiffd's exit status.
netns_stop_skiffd() {
	local pid=$SKIFFD_PID rc i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "skiffd did not exit within 10 s; killing it" >&2
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid"
	rc=$?
	SKIFFD_PID=
	return $rc
}

# netns_counter PIN_DIR NAME: an XDP counter (summed over CPUs) or, as
# u.NAME / u.drop.NAME, a daemon counter (summed over queues).
netns_counter() {
	python3 - "$1" "$2" <<'EOF'
import json, subprocess, sys
pin, name = sys.argv[1], sys.argv[2]
def dump(m):
    return json.loads(subprocess.run(["bpftool", "-j", "map", "dump", "pinned", f"{pin}/{m}"],
                                     check=True, capture_output=True, text=True).stdout)
def get(v, path):
    for p in path:
        v = v[p]
    return v
if name.startswith("u."):
    path = name[2:].split(".")
    print(sum(get(e["formatted"]["value"], path) for e in dump("ustats")))
else:
    print(sum(get(c["value"], name.split(".")) for e in dump("stats")
              for c in e["formatted"]["values"]))
EOF
}
