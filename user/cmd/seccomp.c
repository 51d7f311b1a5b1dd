// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * skiffd's system call filter through libseccomp: the lists, the argument
 * checks and why each is there (the design: seccomp.h; the model:
 * docs/security.md).  The lists were made by reading the code paths and
 * checked by running the integration suite under strace -f and under
 * --seccomp=log.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <seccomp.h>
#include <termios.h>

#include "cmd/seccomp.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define SKIFF_SAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define SKIFF_SAN_BUILD 1
#endif
#endif
#ifndef SKIFF_SAN_BUILD
#define SKIFF_SAN_BUILD 0
#endif

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Equality tests, with datum_b (SCMP_CMP_MASKED_EQ's value, unused here)
 * given: libseccomp's SCMP_A*() leave it out, which clang's
 * -Wmissing-field-initializers flags. */
#define EQ32(arg, v) SCMP_CMP32(arg, SCMP_CMP_EQ, v, 0)
#define EQ64(arg, v) SCMP_CMP64(arg, SCMP_CMP_EQ, v, 0)

/*
 * Allowed with any arguments.  A name the architecture does not have
 * (poll on arm64) is skipped.
 */
static const char *const plain[] = {
	/* memory (mmap and mprotect: below, never executable) */
	"munmap", "mremap", "madvise", "brk",
	/* threads: futexes, the new thread's set-up, exit */
	"futex", "set_robust_list", "rseq", "sched_yield", "sched_getaffinity", "gettid",
	/* --cpus: glibc pins a new thread (pthread_attr_setaffinity_np) once it
	 * exists, by its tid, which a filter cannot know in advance */
	"sched_setaffinity",
	"getpid", "exit", "exit_group", "restart_syscall", "rt_sigreturn", "rt_sigprocmask",
	"rt_sigaction", "sigaltstack",
	/* time */
	"clock_gettime", "clock_getres", "gettimeofday", "time", "clock_nanosleep",
	"nanosleep",
	/* file descriptors: rings' wake-ups, control clients, HTTP files,
	 * application regions */
	"read", "readv", "write", "writev", "pread64", "pwrite64", "lseek", "close",
	"fstat", "newfstatat", "statx", "openat", "openat2", "readlink", "readlinkat",
	"getdents64", "statfs", "fstatfs", "ftruncate", "memfd_create", "eventfd2",
	"poll", "ppoll", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
	"epoll_pwait2", "getrandom", "uname", "sysinfo", "getuid", "geteuid", "getgid",
	"getegid", "getgroups",
	/* sockets it already has: AF_XDP kicks (sendto, recvfrom), the
	 * control socket (accept4, SCM_RIGHTS), netlink requests */
	"sendto", "recvfrom", "sendmsg", "recvmsg", "accept4", "listen", "bind",
	"shutdown", "getsockopt", "setsockopt", "getsockname", "getpeername",
	/* exit: the pins and the control socket's files, the exit
	 * capabilities (libcap-ng: capget, /proc/self/status, capset) */
	"unlink", "unlinkat", "rmdir", "flock", "capget", "capset",
};

/* bpf() commands: the maps at run time, and what libbpf and libxdp do to
 * detach the program at exit.  No BPF_PROG_LOAD, BPF_MAP_CREATE,
 * BPF_BTF_LOAD, BPF_LINK_CREATE, BPF_PROG_ATTACH: those get EPERM. */
static const unsigned int bpf_cmds[] = {
	BPF_MAP_LOOKUP_ELEM, BPF_MAP_UPDATE_ELEM, BPF_MAP_DELETE_ELEM, BPF_MAP_GET_NEXT_KEY,
	BPF_MAP_LOOKUP_BATCH, BPF_OBJ_GET, BPF_OBJ_GET_INFO_BY_FD, BPF_PROG_GET_FD_BY_ID,
	BPF_MAP_GET_FD_BY_ID, BPF_BTF_GET_FD_BY_ID, BPF_LINK_GET_FD_BY_ID, BPF_LINK_DETACH,
	BPF_PROG_QUERY,
};

/* bpf() commands 0 to 63 are answered (Linux 6.18 has 38): above, killed */
#define BPF_CMD_LIMIT 64

/* ...and with a libxdp dispatcher, what rebuilding it for the programs that
 * stay attached takes */
static const unsigned int bpf_dispatcher_cmds[] = {
	BPF_PROG_LOAD, BPF_BTF_LOAD, BPF_MAP_CREATE, BPF_LINK_CREATE, BPF_RAW_TRACEPOINT_OPEN,
	BPF_OBJ_PIN, BPF_LINK_UPDATE,
};

/* ioctl(): interface index, MTU and MAC (status), ethtool (the rx VLAN
 * offload: status, and restored at exit), leaving the solicited-node
 * multicast groups at exit, isatty */
static const unsigned long ioctls[] = {
	SIOCGIFINDEX, SIOCGIFNAME, SIOCGIFMTU, SIOCGIFHWADDR, SIOCGIFFLAGS, SIOCETHTOOL,
	SIOCDELMULTI, TCGETS,
};

static const int fcntls[] = {
	F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC, F_ADD_SEALS, F_GET_SEALS,
};

/* prctl(): naming threads, and what libcap-ng reads */
static const int prctls[] = {
	PR_SET_NAME, PR_GET_NAME, PR_CAPBSET_READ, PR_GET_SECUREBITS, PR_GET_NO_NEW_PRIVS,
	PR_GET_KEEPCAPS, PR_CAP_AMBIENT,
};

/* What the sanitizers need beyond that: LSan's leak check at exit runs a
 * tracer (clone without CLONE_THREAD) that stops the threads with ptrace;
 * reports read /proc/self/maps, limits and the terminal. */
static const char *const san_plain[] = {
	"clone", "ptrace", "wait4", "waitid", "prctl", "getppid", "kill", "tgkill", "tkill",
	"prlimit64", "getrlimit", "setrlimit", "ioctl", "pipe2", "dup", "dup2", "dup3",
	"fcntl", "socket", "mmap", "mprotect",
	/* the sanitizers' own open() and getdents(), not glibc's *at() */
	"open", "getdents", "stat", "lstat", "access", "readlink",
};

const char *skiffd_seccomp_name(enum skiffd_seccomp mode)
{
	switch (mode) {
	case SKIFFD_SECCOMP_ENFORCE:
		return "enforce";
	case SKIFFD_SECCOMP_LOG:
		return "log";
	case SKIFFD_SECCOMP_OFF:
		return "off";
	}
	return "?";
}

int skiffd_seccomp_parse(const char *s, enum skiffd_seccomp *mode)
{
	enum skiffd_seccomp m;

	for (m = SKIFFD_SECCOMP_ENFORCE; m <= SKIFFD_SECCOMP_OFF; m++) {
		if (!strcmp(s, skiffd_seccomp_name(m))) {
			*mode = m;
			return 0;
		}
	}
	return -EINVAL;
}

bool skiffd_seccomp_sanitizer_build(void)
{
	return SKIFF_SAN_BUILD;
}

/* The syscall number of name on this architecture, or -1 when it has none. */
static int sys_nr(const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	return nr == __NR_SCMP_ERROR || nr < 0 ? -1 : nr;
}

static int allow_names(scmp_filter_ctx ctx, const char *const *names, size_t n)
{
	size_t i;
	int nr, ret;

	for (i = 0; i < n; i++) {
		nr = sys_nr(names[i]);
		if (nr < 0)
			continue;
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (ret && ret != -EEXIST)
			return ret;
	}
	return 0;
}

static int allow_a0(scmp_filter_ctx ctx, int nr, const uint64_t *v, size_t n)
{
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, EQ32(0, v[i]));
		if (ret)
			return ret;
	}
	return 0;
}

/* int arguments are compared on their low 32 bits (the ABI leaves the high
 * half of the register undefined); ioctl's request is a whole long */
static int allow_a1(scmp_filter_ctx ctx, int nr, const uint64_t *v, size_t n, bool wide)
{
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
				       wide ? EQ64(1, v[i]) :
					      EQ32(1, v[i]));
		if (ret)
			return ret;
	}
	return 0;
}

/* socket(): the families skiffd opens at run time, each narrowed. */
static int add_socket_rules(scmp_filter_ctx ctx)
{
	const uint32_t type_mask = 0xf;	/* SOCK_TYPE_MASK: not the CLOEXEC/NONBLOCK bits */
	int ret;

	/* interface ioctls: if_nametoindex() (glibc's __opensock) and skiffd's
	 * own ethtool/MTU/multicast ones (netif.c, loader.c) go through a
	 * datagram AF_UNIX socket; no AF_INET socket is allowed at all */
	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
			       EQ32(0, AF_UNIX),
			       SCMP_A1_32(SCMP_CMP_MASKED_EQ, type_mask, SOCK_DGRAM));
	/* rtnetlink (XDP detach, getifaddrs), sock_diag (kernel listeners) */
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
				       EQ32(0, AF_NETLINK),
				       EQ32(2, NETLINK_ROUTE));
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
				       EQ32(0, AF_NETLINK),
				       EQ32(2, NETLINK_SOCK_DIAG));
	return ret;
}

static bool bpf_cmd_allowed(unsigned int cmd, const struct skiffd_seccomp_opts *o)
{
	size_t i;

	for (i = 0; i < N(bpf_cmds); i++)
		if (bpf_cmds[i] == cmd)
			return true;
	for (i = 0; o->dispatcher && i < N(bpf_dispatcher_cmds); i++)
		if (bpf_dispatcher_cmds[i] == cmd)
			return true;
	return false;
}

static int add_rules(scmp_filter_ctx ctx, const struct skiffd_seccomp_opts *o)
{
	uint64_t v[16];
	size_t i;
	int ret, nr;

	ret = allow_names(ctx, plain, N(plain));
	if (ret)
		return ret;

	/* no executable memory: nothing new can be mapped or made code */
	nr = sys_nr("mmap");
	if (nr >= 0 && !SKIFF_SAN_BUILD) {
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
				       SCMP_A2_32(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
		if (!ret)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
					       SCMP_A2_32(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
		if (ret)
			return ret;
	}

	/* threads, never processes: clone() must carry CLONE_THREAD; clone3
	 * passes its flags in memory seccomp cannot read, so glibc is told it
	 * does not exist and uses clone() */
	if (!SKIFF_SAN_BUILD) {
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				       SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
		if (ret)
			return ret;
	}
	nr = sys_nr("clone3");
	if (nr >= 0) {
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
		if (ret)
			return ret;
	}

	/* signals to itself only (abort(), raise()) */
	if (!SKIFF_SAN_BUILD) {
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				       EQ32(0, (uint64_t)getpid()));
		if (ret)
			return ret;
	}

	ret = add_socket_rules(ctx);
	if (ret)
		return ret;

	for (i = 0; i < N(bpf_cmds); i++)
		v[i] = bpf_cmds[i];
	ret = allow_a0(ctx, SCMP_SYS(bpf), v, N(bpf_cmds));
	if (!ret && o->dispatcher) {
		for (i = 0; i < N(bpf_dispatcher_cmds); i++)
			v[i] = bpf_dispatcher_cmds[i];
		ret = allow_a0(ctx, SCMP_SYS(bpf), v, N(bpf_dispatcher_cmds));
	}
	/* any other bpf() command below BPF_CMD_LIMIT: EPERM, which libbpf and
	 * libxdp take as "not available" (a kill would leave XDP attached at
	 * exit); a larger one falls to the default */
	for (i = 0; !ret && o->mode == SKIFFD_SECCOMP_ENFORCE && i < BPF_CMD_LIMIT; i++) {
		if (bpf_cmd_allowed((unsigned int)i, o))
			continue;
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(bpf), 1,
				       EQ32(0, i));
	}
	if (ret)
		return ret;

	if (!SKIFF_SAN_BUILD) {
		for (i = 0; i < N(ioctls); i++)
			v[i] = ioctls[i];
		ret = allow_a1(ctx, SCMP_SYS(ioctl), v, N(ioctls), true);
		for (i = 0; !ret && i < N(fcntls); i++)
			v[i] = (uint64_t)fcntls[i];
		if (!ret)
			ret = allow_a1(ctx, SCMP_SYS(fcntl), v, N(fcntls), false);
		for (i = 0; !ret && i < N(prctls); i++)
			v[i] = (uint64_t)prctls[i];
		if (!ret)
			ret = allow_a0(ctx, SCMP_SYS(prctl), v, N(prctls));
		if (ret)
			return ret;
	} else {
		ret = allow_names(ctx, san_plain, N(san_plain));
		/* the sanitizer's report must not die on its symbolizer: EPERM */
		if (!ret && o->mode == SKIFFD_SECCOMP_ENFORCE)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(execve), 0);
		if (ret)
			return ret;
	}
	return 0;
}

static int build(scmp_filter_ctx *out, const struct skiffd_seccomp_opts *o)
{
	uint32_t def = o->mode == SKIFFD_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS;
	scmp_filter_ctx ctx;
	int ret;

	ctx = seccomp_init(def);
	if (!ctx)
		return -ENOMEM;
	/* every thread; a foreign architecture's (i386, x32) calls are killed */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (!ret)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (!ret)
		ret = add_rules(ctx, o);
	if (ret) {
		seccomp_release(ctx);
		return ret;
	}
	*out = ctx;
	return 0;
}

int skiffd_seccomp_install(const struct skiffd_seccomp_opts *o, char *err, size_t errlen)
{
	scmp_filter_ctx ctx;
	int ret;

	if (o->mode == SKIFFD_SECCOMP_OFF)
		return 0;
	ret = build(&ctx, o);
	if (ret) {
		snprintf(err, errlen, "cannot build the seccomp filter: %s", strerror(-ret));
		return ret;
	}
	ret = seccomp_load(ctx);
	seccomp_release(ctx);
	if (ret) {
		snprintf(err, errlen,
			 "cannot install the seccomp filter: %s (--seccomp=off runs without it)",
			 strerror(-ret));
		return ret;
	}
	return 0;
}

int skiffd_seccomp_dump(const struct skiffd_seccomp_opts *o, int fd)
{
	scmp_filter_ctx ctx;
	int ret;

	if (o->mode == SKIFFD_SECCOMP_OFF)
		return dprintf(fd, "# --seccomp=off: no filter\n") < 0 ? -EIO : 0;
	ret = build(&ctx, o);
	if (ret)
		return ret;
	ret = seccomp_export_pfc(ctx, fd);
	seccomp_release(ctx);
	return ret;
}
