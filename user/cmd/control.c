// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The control channel of skiffd (see control.h for the protocol): the
 * abstract Unix socket that is both the single-instance lock and the place
 * skiffctl asks its questions, plus the string builder used for answers.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/control.h"

void sb_init(struct strbuf *sb)
{
	memset(sb, 0, sizeof(*sb));
}

void sb_free(struct strbuf *sb)
{
	free(sb->s);
	sb_init(sb);
}

void sb_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->s)
		sb->s[0] = '\0';
}

static bool sb_grow(struct strbuf *sb, size_t more)
{
	size_t want = sb->len + more + 1;
	size_t cap;
	char *s;

	if (sb->oom)
		return false;
	if (want <= sb->cap)
		return true;
	cap = sb->cap ? sb->cap : 256;
	while (cap < want)
		cap *= 2;
	s = realloc(sb->s, cap);
	if (!s) {
		sb->oom = true;
		return false;
	}
	sb->s = s;
	sb->cap = cap;
	return true;
}

void sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || !sb_grow(sb, (size_t)n))
		return;
	vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vprintf(sb, fmt, ap);
	va_end(ap);
}

void sb_puts(struct strbuf *sb, const char *s)
{
	size_t n = strlen(s);

	if (!sb_grow(sb, n))
		return;
	memcpy(sb->s + sb->len, s, n + 1);
	sb->len += n;
}

void sb_json_str(struct strbuf *sb, const char *s)
{
	const unsigned char *p;

	sb_puts(sb, "\"");
	for (p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '"':
			sb_puts(sb, "\\\"");
			break;
		case '\\':
			sb_puts(sb, "\\\\");
			break;
		case '\n':
			sb_puts(sb, "\\n");
			break;
		case '\t':
			sb_puts(sb, "\\t");
			break;
		default:
			/* RFC 8259 section 7: control characters must be escaped */
			if (*p < 0x20)
				sb_printf(sb, "\\u%04x", *p);
			else
				sb_printf(sb, "%c", *p);
		}
	}
	sb_puts(sb, "\"");
}

void sb_trim_comma(struct strbuf *sb)
{
	if (sb->len && sb->s[sb->len - 1] == ',')
		sb->s[--sb->len] = '\0';
}

const char *sb_str(const struct strbuf *sb)
{
	return sb->s ? sb->s : "";
}

int ctl_addr(const char *ifname, struct sockaddr_un *sun, socklen_t *len)
{
	size_t n = strlen(ifname);

	if (!n || n >= IFNAMSIZ)
		return -EINVAL;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	/* sun_path[0] = '\0': an abstract name, no file, per network namespace */
	memcpy(sun->sun_path + 1, CTL_NAME_PREFIX, strlen(CTL_NAME_PREFIX));
	memcpy(sun->sun_path + 1 + strlen(CTL_NAME_PREFIX), ifname, n);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(CTL_NAME_PREFIX) + n);
	return 0;
}

/* The pid of the process listening on the abstract name (SO_PEERCRED of a
 * connection to it carries the listener's credentials), or 0. */
static pid_t ctl_holder_pid(const char *ifname)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	pid_t pid = 0;
	int fd;

	fd = ctl_connect(ifname);
	if (fd < 0)
		return 0;
	if (!getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen))
		pid = cred.pid;
	close(fd);
	return pid;
}

int ctl_bind(const char *ifname, pid_t *holder)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd, err;

	if (holder)
		*holder = 0;
	err = ctl_addr(ifname, &sun, &len);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sun, len) < 0) {
		err = -errno;
		close(fd);
		if (err == -EADDRINUSE && holder)
			*holder = ctl_holder_pid(ifname);
		return err;
	}
	return fd;
}

int ctl_listen(int fd)
{
	return listen(fd, 16) < 0 ? -errno : 0;
}

int ctl_connect(const char *ifname)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd, err;

	err = ctl_addr(ifname, &sun, &len);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, len) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until deadline (ms_now() base). 0 or -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int64_t left;
	int n;

	for (;;) {
		left = deadline - ms_now();
		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

int ctl_read_request(int fd, char *buf, size_t len)
{
	int64_t deadline = ms_now() + CTL_IO_TIMEOUT_MS;
	size_t got = 0;
	ssize_t n;
	char *nl;
	int err;

	if (len < 2)
		return -EINVAL;
	for (;;) {
		err = wait_fd(fd, POLLIN, deadline);
		if (err)
			return err;
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		buf[got + (size_t)n] = '\0';
		nl = strchr(buf + got, '\n');
		got += (size_t)n;
		if (nl) {
			*nl = '\0';
			return 0;
		}
		if (n == 0)	/* EOF: a last line without '\n' still counts */
			return got ? 0 : -EPROTO;
		if (got == len - 1)
			return -EMSGSIZE;
	}
}

int ctl_write_all(int fd, const char *buf, size_t len)
{
	int64_t deadline = ms_now() + CTL_IO_TIMEOUT_MS;
	ssize_t n;
	int err;

	while (len) {
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			err = wait_fd(fd, POLLOUT, deadline);
			if (err)
				return err;
			continue;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int ctl_request(const char *ifname, const char *cmd, bool json, struct strbuf *out)
{
	char req[CTL_MAX_REQUEST];
	char buf[4096];
	int64_t deadline;
	ssize_t n;
	int fd, err, len;

	len = snprintf(req, sizeof(req), "%s%s\n", cmd, json ? " json" : "");
	if (len < 0 || (size_t)len >= sizeof(req))
		return -EINVAL;
	fd = ctl_connect(ifname);
	if (fd < 0)
		return fd;
	err = ctl_write_all(fd, req, (size_t)len);
	if (err)
		goto out;
	/* the daemon may be finishing another client's answer: be patient */
	deadline = ms_now() + 5 * CTL_IO_TIMEOUT_MS;
	for (;;) {
		err = wait_fd(fd, POLLIN, deadline);
		if (err)
			goto out;
		n = read(fd, buf, sizeof(buf) - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (n == 0)
			break;
		buf[n] = '\0';
		sb_puts(out, buf);
		/* a NUL byte in the answer would cut it here; the daemon sends none */
	}
	err = out->oom ? -ENOMEM : 0;
out:
	close(fd);
	return err;
}

#define SO_ACCEPTCON_FLAG 0x10000	/* __SO_ACCEPTCON in /proc/net/unix Flags: listening */

int ctl_find_daemons(char names[][IFNAMSIZ], int max, bool starting)
{
	const char *pfx = "@" CTL_NAME_PREFIX;
	char line[512], path[256];
	unsigned int flags;
	int n = 0, i, err;
	bool dup;
	FILE *f;

	f = fopen("/proc/net/unix", "re");
	if (!f)
		return -errno;
	/* Num RefCount Protocol Flags Type St Inode Path */
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %*s %*s %x %*s %*s %*s %255s", &flags, path) != 2)
			continue;
		if (!(flags & SO_ACCEPTCON_FLAG) != starting || strncmp(path, pfx, strlen(pfx)))
			continue;
		if (strlen(path + strlen(pfx)) >= IFNAMSIZ || !path[strlen(pfx)])
			continue;
		dup = false;
		for (i = 0; i < n; i++)
			dup |= !strcmp(names[i], path + strlen(pfx));
		if (dup || n >= max)
			continue;
		snprintf(names[n++], IFNAMSIZ, "%s", path + strlen(pfx));
	}
	err = ferror(f) ? -EIO : 0;
	fclose(f);
	return err ? err : n;
}
