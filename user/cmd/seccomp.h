/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * skiffd's system call filter (docs/security.md, "The seccomp filter").
 *
 * Installed once start-up is done, right after privs_drop() and before the
 * first worker thread exists, on every thread of the process (TSYNC), so
 * no thread of skiffd ever serves traffic unfiltered.  It is an allow-list
 * of what skiffd does while serving and at exit: the workers' loop (AF_XDP
 * rings: poll, sendto, recvfrom; bpf() map updates; eventfds), the control
 * socket (accept4, recvmsg/sendmsg with SCM_RIGHTS), application attach
 * (memfd_create, F_ADD_SEALS, ftruncate, mmap), the HTTP server (openat2,
 * fstat, pread, mmap) and the teardown (XDP detach over netlink, unlink and
 * rmdir of the pins, the exit capabilities through capset).
 *
 * Anything else kills the whole process (SCMP_ACT_KILL_PROCESS): XDP fails
 * open (--failover-ms), the next skiffd cleans up.  Two softer answers:
 * bpf() commands outside the list (BPF_PROG_LOAD, BPF_MAP_CREATE, ...) get
 * EPERM, and clone3 gets ENOSYS so glibc falls back to clone(), whose flags
 * seccomp can read (threads only, no new process).  With --seccomp=log
 * the default is SCMP_ACT_LOG instead: allowed, and logged by the kernel's
 * audit (dmesg: "audit: type=1326 ... syscall=N"), to find a missing call.
 *
 * A sanitizer build (make SAN=1) adds what ASan/LSan/UBSan need (LSan's
 * leak check at exit clones a tracer that ptrace()s the threads), and
 * answers execve with EPERM so a sanitizer report falls back to its own
 * symbolizer instead of being killed mid-way.
 */
#ifndef SKIFF_SECCOMP_H
#define SKIFF_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>

enum skiffd_seccomp {
	SKIFFD_SECCOMP_ENFORCE = 0,	/* the default */
	SKIFFD_SECCOMP_LOG,		/* allow and log what is not listed */
	SKIFFD_SECCOMP_OFF,		/* no filter */
};

/* "enforce", "log", "off" */
const char *skiffd_seccomp_name(enum skiffd_seccomp mode);

/* Parse a mode name.  0 or -EINVAL. */
int skiffd_seccomp_parse(const char *s, enum skiffd_seccomp *mode);

struct skiffd_seccomp_opts {
	enum skiffd_seccomp mode;
	/* XDP joined libxdp's dispatcher: detaching rebuilds it for the
	 * other programs (BPF_PROG_LOAD and the freplace links) */
	bool dispatcher;
};

/* Install the filter on every thread.  0, or -errno with err. */
int skiffd_seccomp_install(const struct skiffd_seccomp_opts *o, char *err, size_t errlen);

/* Write the filter of o in libseccomp's pseudo filter code to fd
 * (skiffd --seccomp-dump).  0 or -errno. */
int skiffd_seccomp_dump(const struct skiffd_seccomp_opts *o, int fd);

/* Whether this build adds the sanitizers' system calls. */
bool skiffd_seccomp_sanitizer_build(void);

#endif /* SKIFF_SECCOMP_H */
