/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What skiffd keeps of root once it is up (docs/security.md, "Privileges").
 *
 * skiffd starts as root: attaching XDP, creating the AF_XDP sockets and
 * pinning maps need most of it.  Once that is done, and before any worker
 * thread exists (threads inherit the sets of the thread that creates
 * them), privs_drop() reduces the capability sets of the process to
 *
 *	effective	CAP_BPF
 *	permitted	that, plus CAP_NET_ADMIN and CAP_SYS_ADMIN
 *	bounding	the same as permitted; ambient empty
 *
 * and sets NoNewPrivs and the SECBIT_NOROOT securebits (locked), so no
 * exec can give any of it back.  Why each one:
 *
 *	CAP_BPF		bpf() on the maps at run time (owned ports when a
 *			socket binds or closes, neighbours, the XSKMAP): Linux
 *			before 6.5 with kernel.unprivileged_bpf_disabled set
 *			(Debian's default) refuses every bpf() command without it
 *	CAP_NET_ADMIN	not effective: at exit, to detach XDP (netlink) and
 *	CAP_SYS_ADMIN	undo --fix-offloads (ethtool); libxdp reads the
 *			attached programs by id, which needs CAP_SYS_ADMIN.
 *			privs_for_exit() makes them effective in the main
 *			thread only, for the teardown.
 *
 * Not kept: CAP_NET_RAW and CAP_IPC_LOCK, which only creating an AF_XDP
 * socket and registering its UMEM (pinned memory beyond RLIMIT_MEMLOCK)
 * need: every AF_XDP socket is made at start-up, none at run time (and
 * the seccomp filter, cmd/seccomp.h, refuses socket(AF_XDP) anyway).
 *
 * The uid stays 0 (the pins, the control socket and its lock are root's
 * files that skiffd removes at exit).
 */
#ifndef SKIFF_PRIVS_H
#define SKIFF_PRIVS_H

#include <stddef.h>

/* Drop to the sets above and set NoNewPrivs.  0, or -errno with err. */
int privs_drop(char *err, size_t errlen);

/* Make the exit capabilities effective in the calling thread.  0 or -errno. */
int privs_for_exit(void);

#endif /* SKIFF_PRIVS_H */
