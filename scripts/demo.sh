#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# `make demo`: two network namespaces joined by a veth pair, skiffd on the
# dut end serving a dedicated address and the kernel's own (shared) address,
# and real traffic from the kernel of the peer end showing each part of the
# hybrid: ARP and ping answered by XDP (IPv6 Neighbor Discovery and ping -6
# too), a fragmented ping answered by the daemon, UDP echo served by the
# daemon, a kernel TCP service on the same
# interface untouched, then the counters.  Everything is torn down at the end
# and on Ctrl-C.  Exits non-zero if a step fails.
set -u
# a chroot's "/" is not a mount point: ip netns needs one (scripts/rootmount.sh)
. "$(dirname "$0")/rootmount.sh"
skiff_root_mount "$0" "$@"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=scripts/netns-lib.sh
. "$ROOT/scripts/netns-lib.sh"

if [ -t 1 ]; then
	B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'
else
	B='' G='' R='' N=''
fi
STEP=0
step() { STEP=$((STEP + 1)); printf '\n%s== %d. %s ==%s\n' "$B" "$STEP" "$*" "$N"; }
show() { printf '%s$ %s%s\n' "$B" "$*" "$N"; }
ok() { printf '%s  ok:%s %s\n' "$G" "$N" "$*"; }
fail() {
	printf '%s  FAILED:%s %s\n' "$R" "$N" "$*" >&2
	if [ -n "${LOG:-}" ] && [ -s "$LOG" ]; then
		echo "--- skiffd output ---" >&2
		tail -n 30 "$LOG" >&2
	fi
	exit 1
}
# Run a command in the peer namespace, showing it as the kernel-side command.
# (The command line goes to stderr so "peer cmd | tail" still shows it.)
peer() { show "$*   # in $PEER_NS" >&2; netns_peer "$@"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (network namespaces, XDP); try: sudo make demo" >&2
	exit 1
fi

# ---- dependencies and binaries ----
# deps.sh installs only what is missing (a dpkg query per package otherwise)
scripts/deps.sh || exit 1
# make rebuilds only what changed: never a stale skiffd
make -s || { echo "demo: the build failed" >&2; exit 1; }

netns_init skd || exit 1
WORK=$(mktemp -d /tmp/skiff-demo.XXXXXX)
LOG=$WORK/skiffd.log
cleanup() {
	netns_cleanup
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PIN=$PIN_DIR

step "Topology: $PEER_NS ($PEER_IP, the Linux kernel) <-veth-> $DUT_NS ($DUT_IP kernel + skiff)"
netns_create 1 || fail "could not create the namespaces and veth pair"
echo "  $PEER_IF $PEER_MAC $PEER_IP/$PREFIX_LEN  <-->  $DUT_IF $DUT_MAC $DUT_IP/$PREFIX_LEN (kernel)"
echo "  peer veth: tx checksum/TSO/GSO off, XDP_PASS program attached (docs/veth.md)"

# IPv6 on the veth pair (netns-lib turns it off): the peer gets PEER6, skiff
# a dedicated DED6
PEER6=2001:db8:77::1
DED6=2001:db8:77::3
netns_peer sysctl -qw "net.ipv6.conf.$PEER_IF.disable_ipv6=0" || fail "IPv6 on $PEER_IF"
netns_dut sysctl -qw "net.ipv6.conf.$DUT_IF.disable_ipv6=0" || fail "IPv6 on $DUT_IF"
netns_peer ip -6 addr add "$PEER6/64" dev "$PEER_IF" nodad || fail "address $PEER6"

step "Start skiffd: $DED_IP and $DED6 dedicated to skiff, $DUT_IP shared with the kernel"
mkdir -p "$WORK/www"
head -c $((16 << 20)) /dev/urandom >"$WORK/www/file.bin"
show "skiffd --iface $DUT_IF --addr $DED_IP/$PREFIX_LEN --addr $DUT_IP/$PREFIX_LEN --addr $DED6/64 --echo 7 --discard 9 --http 80:$WORK/www   # in $DUT_NS"
netns_start_skiffd "$LOG" --addr "$DED_IP/$PREFIX_LEN" --addr "$DUT_IP/$PREFIX_LEN" \
	--addr "$DED6/64" --echo 7 --discard 9 --http "80:$WORK/www" || fail "skiffd did not start"
sed 's/^/  /' "$LOG"
show "skiffctl --iface $DUT_IF status"
netns_dut "$SKIFFCTL" --iface "$DUT_IF" status | sed 's/^/  /' || fail "skiffctl status"

step "ARP for the dedicated address, answered by XDP"
a0=$(netns_counter "$PIN" arp_reply) || fail "cannot read $PIN/stats"
out=$(peer arping -c 3 -w 3 -W 0.2 -i "$PEER_IF" "$DED_IP" 2>&1)
printf '%s\n' "$out" | sed 's/^/  /'  # indent
echo "$out" | grep -qi "from $DUT_MAC" || fail "no ARP reply from $DUT_MAC"
a1=$(netns_counter "$PIN" arp_reply)
ok "XDP counter arp_reply: $a0 -> $a1"
[ "$a1" -gt "$a0" ] || fail "arp_reply did not move"

step "ping the dedicated address (56 and 1472 bytes), answered by XDP"
i0=$(netns_counter "$PIN" icmp_echo_reply)
peer ping -c 3 -i 0.2 -W 2 "$DED_IP" | sed 's/^/  /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "ping $DED_IP"
peer ping -c 3 -i 0.2 -W 2 -s 1472 "$DED_IP" | tail -n 2 | sed 's/^/  /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "ping -s 1472 $DED_IP"
i1=$(netns_counter "$PIN" icmp_echo_reply)
ok "XDP counter icmp_echo_reply: $i0 -> $i1 (6 echo requests)"
[ $((i1 - i0)) -eq 6 ] || fail "expected 6 replies from XDP"

step "IPv6: the kernel resolves $DED6 by Neighbor Discovery and pings it, both answered by XDP"
n0=$(netns_counter "$PIN" nd_na_reply)
e0=$(netns_counter "$PIN" icmp6_echo_reply)
peer ping -6 -c 3 -i 0.2 -W 2 "$DED6" | sed 's/^/  /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "ping -6 $DED6"
peer ip -6 neigh show "$DED6" dev "$PEER_IF" | sed 's/^/  /'
n1=$(netns_counter "$PIN" nd_na_reply)
e1=$(netns_counter "$PIN" icmp6_echo_reply)
ok "XDP counters nd_na_reply: $n0 -> $n1, icmp6_echo_reply: $e0 -> $e1"
[ "$n1" -gt "$n0" ] && [ $((e1 - e0)) -eq 3 ] || fail "expected an NA and 3 echo replies from XDP"

step "ping -s 4000 (fragmented): XDP steers the fragments, the daemon reassembles and answers"
d0=$(netns_counter "$PIN" u.icmp_echo_reply)
x0=$(netns_counter "$PIN" icmp_echo_reply)
peer ping -c 3 -i 0.2 -W 2 -s 4000 "$DED_IP" | tail -n 2 | sed 's/^/  /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "ping -s 4000 $DED_IP"
d1=$(netns_counter "$PIN" u.icmp_echo_reply)
x1=$(netns_counter "$PIN" icmp_echo_reply)
ok "daemon counter icmp_echo_reply: $d0 -> $d1; XDP's: $x0 -> $x1"
[ $((d1 - d0)) -eq 3 ] || fail "expected 3 replies from the daemon"

step "UDP echo (RFC 862, port 7) served by the daemon, on both addresses"
u0=$(netns_counter "$PIN" u.udp_rx)
for dst in "$DED_IP" "$DUT_IP"; do
	msg="hello skiff via $dst"
	show "echo '$msg' | socat -t 2 - UDP:$dst:7   # in $PEER_NS"
	got=$(echo "$msg" | netns_peer socat -t 2 - "UDP:$dst:7")
	echo "  reply: $got"
	[ "$got" = "$msg" ] || fail "no UDP echo from $dst"
done
big=$(head -c 6000 /dev/urandom | base64 -w 0)
got=$(printf '%s' "$big" | netns_peer socat -t 2 -b 65536 - "UDP:$DED_IP:7")
[ "$got" = "$big" ] || fail "8000-byte UDP echo differs"
ok "an 8000-byte datagram (fragmented both ways) came back identical"
u1=$(netns_counter "$PIN" u.udp_rx)
ok "daemon counter udp_rx: $u0 -> $u1"

step "TCP served by the daemon: curl a 16 MiB file from skiffd --http"
t0=$(netns_counter "$PIN" u.tcp_passive_opens)
show "curl -s -o file.bin http://$DED_IP/file.bin   # in $PEER_NS"
netns_peer curl -s -S --max-time 60 -o "$WORK/got.bin" \
	-w '  HTTP %{http_code}, %{size_download} bytes in %{time_total} s\n' \
	"http://$DED_IP/file.bin" || fail "curl from skiffd --http"
want=$(sha256sum <"$WORK/www/file.bin" | cut -d' ' -f1)
got=$(sha256sum <"$WORK/got.bin" | cut -d' ' -f1)
[ "$want" = "$got" ] || fail "the downloaded file differs"
ok "sha256 matches ($got)"
t1=$(netns_counter "$PIN" u.tcp_passive_opens)
ok "daemon counter tcp_passive_opens: $t0 -> $t1"
show "skiffctl --iface $DUT_IF sockets"
netns_dut "$SKIFFCTL" --iface "$DUT_IF" sockets | sed 's/^/  /' || fail "skiffctl sockets"

step "The hybrid: kernel services on the shared address $DUT_IP keep working"
netns_bg "$DUT_NS" socat TCP-LISTEN:8080,bind="$DUT_IP",reuseaddr,fork \
	SYSTEM:'echo hello from the kernel TCP service in the dut namespace' 2>/dev/null
netns_bg "$DUT_NS" socat -u UDP-RECV:5000,bind="$DUT_IP" OPEN:"$WORK/udp5000",creat 2>/dev/null
sleep 0.3
show "socat -t 2 - TCP:$DUT_IP:8080   # in $PEER_NS (a kernel socat listens in $DUT_NS)"
got=$(netns_peer socat -t 2 - "TCP:$DUT_IP:8080" </dev/null)
echo "  $got"
[ -n "$got" ] || fail "kernel TCP service on $DUT_IP:8080 unreachable"
show "echo to-the-kernel | socat - UDP:$DUT_IP:5000   # port 5000 is not skiff's"
echo to-the-kernel | netns_peer socat -t 1 - "UDP:$DUT_IP:5000"
sleep 0.3
[ "$(cat "$WORK/udp5000" 2>/dev/null)" = "to-the-kernel" ] || fail "kernel UDP socket got nothing"
ok "the kernel's UDP socket on port 5000 received: $(cat "$WORK/udp5000")"
peer ping -c 2 -i 0.2 -W 2 "$DUT_IP" | tail -n 2 | sed 's/^/  /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "kernel ping $DUT_IP"
ok "ping of the shared address answered by the kernel (XDP passed it)"

step "Counters: bpftool map dump pinned $PIN/stats (per CPU; zero counters left out)"
show "bpftool map dump pinned $PIN/stats"
bpftool map dump pinned "$PIN/stats" |
	awk '/^ +"[a-z_]+": 0,?$/ && !/"(key|cpu)"/ { next } { print "  " $0 }' | head -n 60
show "skiffctl --iface $DUT_IF stats"
netns_dut "$SKIFFCTL" --iface "$DUT_IF" stats | sed 's/^/  /' || fail "skiffctl stats"

step "Stop skiffd (SIGTERM): XDP detached, pins removed"
netns_stop_skiffd
rc=$?
[ $rc -eq 0 ] || fail "skiffd exited with status $rc"
ip -n "$DUT_NS" link show dev "$DUT_IF" | grep -q 'prog/xdp' && fail "XDP program left on $DUT_IF"
[ -e "$PIN" ] && fail "pins left in $PIN"
ok "skiffd exited 0; $DUT_IF has no XDP program and $PIN is gone"

printf '\n%sdemo: all steps passed%s\n' "$G" "$N"
