#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# scripts/veth-napi.sh [xdp|gro|none ...]: what reaches the peer veth when it
# runs NAPI by an XDP_PASS program (xdp), by GRO without a program (gro), or
# not at all (none) -- docs/veth.md, "XDP_TX needs NAPI on the peer".  For
# each way (default: all three) a fresh namespace pair (scripts/netns-lib.sh,
# NETNS_PEER_NAPI), skiffd on the dedicated address with --http, then from
# the peer: PINGS pings (default 200; skiff answers them with XDP_TX) and
# one curl of a SIZE_MB (default 50) MB file from skiffd (its frames leave
# by AF_XDP copy mode).  Prints, per way, the pings answered, the download
# (HTTP code, bytes, same bytes or not) and the counters that say where the
# frames went.  As root; a report, not a test (the kernel decides).
set -u
cd "$(dirname "$0")/.." || exit 1
[ "$(id -u)" = 0 ] || { echo "veth-napi: needs root" >&2; exit 1; }
modes=${*:-xdp gro none}
PINGS=${PINGS:-200}
SIZE_MB=${SIZE_MB:-50}
# shellcheck source=scripts/netns-lib.sh
. scripts/netns-lib.sh
for f in "$SKIFFD" "$XDP_PASS_OBJ"; do
	[ -e "$f" ] || { echo "veth-napi: $f not built (make)" >&2; exit 1; }
done
WWW=$(mktemp -d /tmp/skiff-veth-napi.XXXXXX) || exit 1
head -c $((SIZE_MB * 1000000)) /dev/urandom >"$WWW/f.bin"

one() {
	local out code
	export NETNS_PEER_NAPI=$1
	netns_init vn || return 1
	netns_create 1 || return 1
	# as the bench: with TSO on the dut, veth bypasses the peer's NAPI ring
	netns_dut ethtool -K "$DUT_IF" tx off tso off gso off >/dev/null || return 1
	netns_start_skiffd "$WWW/skiffd-$1.log" --addr "$DED_IP/$PREFIX_LEN" --cpus 1 \
		--http "80:$WWW" || return 1
	echo "== peer veth NAPI by $1 (kernel $(uname -r)): $(netns_peer ethtool -k "$PEER_IF" |
		grep generic-receive-offload), XDP program: $(ip -n "$PEER_NS" -j link show "$PEER_IF" |
		grep -q '"xdp"' && echo yes || echo no)"
	echo "   pings answered (XDP_TX): $(netns_peer ping -q -i 0.005 -c "$PINGS" -W 1 "$DED_IP" |
		sed -n 's/.* \([0-9]*\) received.*/\1/p') of $PINGS"
	out=$(netns_peer timeout 30 curl -s -o "$WWW/got.bin" -w '%{http_code} %{size_download}' \
		"http://$DED_IP/f.bin")
	code=$(cmp -s "$WWW/got.bin" "$WWW/f.bin" && echo "same bytes" || echo "not the file")
	echo "   curl of $SIZE_MB MB from skiffd (AF_XDP): HTTP ${out% *}, ${out#* } bytes, $code"
	rm -f "$WWW/got.bin"
	echo "   dut veth: $(netns_dut ethtool -S "$DUT_IF" | grep -E 'rx_queue_0_xdp_tx(_errors)?:' |
		tr -s ' ' | tr '\n' ' ')"
	echo "   peer veth: $(netns_peer ethtool -S "$PEER_IF" | grep -E 'rx_queue_0_xdp_packets:' |
		tr -s ' ') (frames its NAPI took from its ring); rx_packets $(ip -n "$PEER_NS" -j -s link show \
		"$PEER_IF" | grep -o '"rx":{[^}]*}' | grep -o '"packets":[0-9]*' | cut -d: -f2)"
	netns_cleanup
}

trap 'netns_cleanup; rm -rf "$WWW"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
for m in $modes; do
	case $m in
	xdp | gro | none) one "$m" || { echo "veth-napi: set-up for $m failed" >&2; exit 1; } ;;
	*) echo "veth-napi: $m: xdp, gro or none" >&2; exit 1 ;;
	esac
done
