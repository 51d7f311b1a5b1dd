// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Attaching to skiffd: finding its control socket, the attach request,
 * mapping the region and taking the eventfds it passes.
 */
#include "app_lib.h"

static void set_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void set_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(A.err, sizeof(A.err), fmt, ap);
	va_end(ap);
}

static int netns_id(uint64_t *id)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st) < 0)
		return -errno;
	*id = (uint64_t)st.st_ino;
	return 0;
}

/* Whether RUN_DIR/name is a daemon's socket, not a file left by a killed
 * one (refused), nor one of another namespace whose inode number ours
 * reused.  Not allowed to connect counts as live: the caller says why. */
static bool live_socket(const char *name)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd, ok;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", RUN_DIR, name);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true;
	ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 || errno == EACCES ||
	     errno == EPERM;
	close(fd);
	return ok;
}

/* The control socket of ifname, or of the only skiffd of this namespace. */
static int find_socket(const char *ifname, char *path, size_t len)
{
	char suffix[40], only[sizeof(((struct sockaddr_un *)0)->sun_path)] = "";
	struct dirent *de;
	uint64_t ns = 0;
	size_t sl, nl;
	int n = 0;
	DIR *d;

	if (netns_id(&ns)) {
		set_err("cannot read /proc/self/ns/net: %s", strerror(errno));
		return -errno;
	}
	if (ifname && *ifname) {
		if (strchr(ifname, '/') || strlen(ifname) >= 16) {
			set_err("bad interface name '%s'", ifname);
			return -EINVAL;
		}
		snprintf(path, len, "%s/%s.%" PRIu64 ".sock", RUN_DIR, ifname, ns);
		return 0;
	}
	snprintf(suffix, sizeof(suffix), ".%" PRIu64 ".sock", ns);
	sl = strlen(suffix);
	d = opendir(RUN_DIR);
	if (!d) {
		set_err("no skiffd is running (%s: %s)", RUN_DIR, strerror(errno));
		return -ENOENT;
	}
	while ((de = readdir(d))) {
		nl = strlen(de->d_name);
		if (nl > sl && !strcmp(de->d_name + nl - sl, suffix) &&
		    strlen(RUN_DIR) + 1 + nl < sizeof(only) && live_socket(de->d_name)) {
			snprintf(only, sizeof(only), "%s/%s", RUN_DIR, de->d_name);
			n++;
		}
	}
	closedir(d);
	if (n != 1) {
		set_err(n ? "%d skiffd daemons run in this network namespace: set SKIFF_IFACE"
			  : "no skiffd is running in this network namespace (%d sockets)",
			n);
		return n ? -EINVAL : -ENOENT;
	}
	snprintf(path, len, "%s", only);
	return 0;
}

/* Read the attach answer: one line and, on success, the fds. */
static int read_answer(int fd, char *line, size_t len, int *fds, int *nfds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * MAX_ATTACH_FDS)];
	struct iovec iov;
	struct msghdr mh;
	struct cmsghdr *cm;
	size_t got = 0;
	ssize_t n;

	*nfds = 0;
	while (got + 1 < len && !memchr(line, '\n', got)) {
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = line + got;
		iov.iov_len = len - 1 - got;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			int k = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int)), i;

			if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
				continue;
			for (i = 0; i < k; i++) {
				int f;

				memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				if (*nfds < MAX_ATTACH_FDS)
					fds[(*nfds)++] = f;
				else
					close(f);
			}
		}
		got += (size_t)n;
		line[got] = '\0';
	}
	line[got] = '\0';
	return got ? 0 : -ECONNRESET;
}

#define BUSY_POLL_MAX_US 1000000 /* SKIFF_BUSY_POLL_US: one second at most */

/* SKIFF_BUSY_POLL_US (unset or empty: 0) into A.spin_ns; -EINVAL for
 * anything but a number of microseconds up to BUSY_POLL_MAX_US. */
static int read_busy_poll(void)
{
	const char *v = getenv("SKIFF_BUSY_POLL_US");
	unsigned long us;
	char *end;

	A.spin_ns = 0;
	if (!v || !*v)
		return 0;
	errno = 0;
	us = strtoul(v, &end, 10);
	if (errno || *end || *v == '-' || us > BUSY_POLL_MAX_US) {
		set_err("SKIFF_BUSY_POLL_US='%.32s': want microseconds, 0 to %d", v,
			BUSY_POLL_MAX_US);
		return -EINVAL;
	}
	A.spin_ns = (uint64_t)us * 1000u;
	return 0;
}

int sa_do_attach(const char *ifname)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 5};
	int fds[MAX_ATTACH_FDS], nfds = 0, fd, ret, i;
	unsigned int ver = 0, nw = 0, nwait = 0;
	unsigned long long size = 0;
	char line[512], *nl;
	void *shm;

	if (A.attached)
		return 0;
	sa_lib_once();
	ret = read_busy_poll();
	if (ret)
		return ret;
	if (!ifname)
		ifname = getenv("SKIFF_IFACE");
	ret = find_socket(ifname, sun.sun_path, sizeof(sun.sun_path));
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		set_err("socket: %s", strerror(errno));
		return -errno;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		ret = -errno;
		if (ret == -EACCES || ret == -EPERM)
			set_err("permission denied: %s is for root and group skiff "
				"(docs/security.md)",
				sun.sun_path);
		else
			set_err("cannot reach skiffd at %s: %s", sun.sun_path, strerror(-ret));
		close(fd);
		return ret;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (write(fd, "attach\n", 7) != 7 || read_answer(fd, line, sizeof(line), fds, &nfds)) {
		set_err("skiffd at %s did not answer the attach request", sun.sun_path);
		ret = -ECONNRESET;
		goto fail;
	}
	nl = strchr(line, '\n');
	if (nl)
		*nl = '\0';
	if (!strncmp(line, "ok attach ", 10) && sscanf(line, "ok attach %u", &ver) == 1 &&
	    ver != SKIFF_APP_VERSION) {
		set_err("skiffd at %s speaks application protocol version %u, this library %u: "
			"use the libskiff of the same skiff build",
			sun.sun_path, ver, SKIFF_APP_VERSION);
		ret = -EPROTO;
		goto fail;
	}
	if (strncmp(line, "ok attach ", 10) ||
	    sscanf(line, "ok attach %u workers %u size %llu waiters %u", &ver, &nw, &size,
		   &nwait) != 4 ||
	    !nw || nw > SKIFF_APP_MAX_WORKERS || !nwait ||
	    nwait > SKIFF_APP_MAX_WAITERS || nfds != 1 + (int)nw + (int)nwait) {
		set_err("skiffd refused the attach: %s",
			strncmp(line, "error: ", 7) ? line : line + 7);
		ret = strstr(line, "permission denied") ? -EACCES : -EPROTO;
		goto fail;
	}
	shm = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	if (shm == MAP_FAILED) {
		ret = -errno;
		set_err("cannot map skiffd's shared memory: %s", strerror(-ret));
		goto fail;
	}
	A.hdr = shm;
	if (A.hdr->magic != SKIFF_APP_MAGIC || A.hdr->size != size || A.hdr->n_workers != nw) {
		munmap(shm, size);
		set_err("skiffd's shared memory has an unknown layout");
		ret = -EPROTO;
		goto fail;
	}
	close(fds[0]);
	A.shm = shm;
	A.size = size;
	A.chan = (struct skiff_app_chan *)((uint8_t *)shm + A.hdr->chan_off);
	A.slots = (struct skiff_app_slot *)((uint8_t *)shm + A.hdr->slot_off);
	A.rx = (uint8_t *)shm + A.hdr->rx_off;
	A.tx = (uint8_t *)shm + A.hdr->tx_off;
	A.n_workers = nw;
	A.ifindex = A.hdr->ifindex;
	/* [memfd, waiter 0, wake 0..nw-1, waiters 1..] */
	A.waiter_fd[0] = fds[1];
	for (i = 0; i < (int)nw; i++)
		A.wake_fd[i] = fds[2 + i];
	for (i = 1; i < (int)nwait; i++)
		A.waiter_fd[i] = fds[1 + (int)nw + i];
	A.n_waiters = nwait;
	A.ctl_fd = fd;
	/* a fresh region: we are its first process */
	A.L = (struct lib_shared *)((uint8_t *)shm + A.hdr->lib_off);
	sa_shared_init(A.L);
	A.me = 0;
	A.L->procs[0].pid = (int32_t)getpid();
	for (i = 0; i < MAX_PROCS; i++)
		A.pidfd[i] = -1;
	pthread_mutex_lock(&A.L->lk); /* the caller holds the lock from here */
	__atomic_store_n(&A.attached, true, __ATOMIC_RELEASE);
	return 0;
fail:
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	close(fd);
	return ret;
}

SKIFF_EXPORT int skiff_attach(const char *ifname)
{
	int ret;

	sa_lock();
	ret = sa_do_attach(ifname);
	sa_unlock();
	return ret ? fail(-ret) : 0;
}

SKIFF_EXPORT const char *skiff_last_error(void)
{
	return A.err;
}
