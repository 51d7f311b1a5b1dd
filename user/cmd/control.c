// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The control channel (see control.h for the protocol and where it
 * lives): the socket path, request framing and parsing, the peer policy,
 * the client side used by skiffctl, and the string builder used for
 * answers.  Nothing here blocks in the daemon: its loop is ctl_server.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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


/* ---- where ---- */

int ctl_netns_id(uint64_t *id)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st) < 0)
		return -errno;
	*id = (uint64_t)st.st_ino;
	return 0;
}

int ctl_path(const char *ifname, uint64_t netns, const char *suffix, char *buf, size_t len)
{
	size_t n = strlen(ifname);
	int ret;

	/* an interface name is never "." / ".." nor holds '/' (dev_valid_name) */
	if (!n || n >= IFNAMSIZ || strchr(ifname, '/') || !strcmp(ifname, ".") ||
	    !strcmp(ifname, ".."))
		return -EINVAL;
	ret = snprintf(buf, len, "%s/%s.%" PRIu64 "%s", CTL_DIR, ifname, netns, suffix);
	if (ret < 0 || (size_t)ret >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* ---- framing and parsing ---- */

enum ctl_frame ctl_frame_next(const char *buf, size_t len, bool eof, size_t *line_len,
			      size_t *used)
{
	size_t scan = len < CTL_MAX_REQUEST ? len : CTL_MAX_REQUEST;
	const char *nl = memchr(buf, '\n', scan);
	size_t n = nl ? (size_t)(nl - buf) : scan;

	*line_len = 0;
	*used = 0;
	if (memchr(buf, '\0', n))
		return CTL_FRAME_NUL;
	if (!nl) {
		if (len >= CTL_MAX_REQUEST)
			return CTL_FRAME_TOO_LONG;
		if (!eof || !len)
			return CTL_FRAME_MORE;
		*used = len;	/* a last line without '\n' still counts */
	} else {
		*used = n + 1;
	}
	if (n && buf[n - 1] == '\r')
		n--;
	*line_len = n;
	return CTL_FRAME_LINE;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

int ctl_parse_request(char *line, size_t len, struct ctl_request *req, const char **why)
{
	size_t i, w;
	char *p, *end;

	memset(req, 0, sizeof(*req));
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c < 0x20 && c != '\t') || c > 0x7e) {
			*why = "bad request: only printable ASCII is allowed";
			return -EINVAL;
		}
	}
	line[len] = '\0';
	p = line;
	end = line + len;
	while (p < end && is_blank(*p))
		p++;
	if (p == end) {
		*why = "empty request (expected: <command> [json])";
		return -EINVAL;
	}
	for (w = 0; p + w < end && !is_blank(p[w]); w++) {
		char c = p[w];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
			*why = "bad request: a command is lower-case letters, digits, '_' and '-'";
			return -EINVAL;
		}
	}
	if (w > CTL_MAX_VERB) {
		*why = "bad request: command name too long";
		return -EINVAL;
	}
	memcpy(req->verb, p, w);
	req->verb[w] = '\0';
	p += w;
	for (;;) {
		while (p < end && is_blank(*p))
			*p++ = '\0';
		if (p == end)
			break;
		if (req->argc == CTL_MAX_ARGS) {
			*why = "bad request: too many arguments";
			return -EINVAL;
		}
		req->argv[req->argc++] = p;
		while (p < end && !is_blank(*p))
			p++;
	}
	for (i = 0; i < (size_t)req->argc; i++)
		req->json |= !strcmp(req->argv[i], "json");
	return 0;
}

/* ---- who ---- */

bool ctl_peer_may(const struct ctl_peer *peer, enum ctl_perm perm)
{
	if (peer->uid == 0)
		return true;
	switch (perm) {
	case CTL_PERM_READ:
	case CTL_PERM_ATTACH:
		return peer->in_group;
	case CTL_PERM_ADMIN:
	default:
		return false;
	}
}

gid_t ctl_group_gid(void)
{
	struct group gr, *res = NULL;
	char buf[4096];

	if (getgrnam_r(CTL_GROUP, &gr, buf, sizeof(buf), &res) || !res)
		return (gid_t)-1;
	return res->gr_gid;
}

int ctl_peer_get(int fd, gid_t group, struct ctl_peer *peer)
{
	gid_t groups[NGROUPS_MAX > 256 ? 256 : NGROUPS_MAX];
	struct ucred cred;
	socklen_t len = sizeof(cred);
	size_t i, n;

	memset(peer, 0, sizeof(*peer));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	peer->pid = cred.pid;
	peer->uid = cred.uid;
	peer->gid = cred.gid;
	if (group == (gid_t)-1)
		return 0;
	peer->in_group = cred.gid == group;
	/* the supplementary groups (Linux 4.13); a peer in more than fit
	 * (ERANGE) is judged on its primary group alone */
	len = sizeof(groups);
	if (!peer->in_group && !getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len)) {
		n = len / sizeof(groups[0]);
		for (i = 0; i < n; i++)
			peer->in_group |= groups[i] == group;
	}
	return 0;
}

/* ---- the client ---- */

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

int ctl_connect(const char *ifname)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	uint64_t netns = 0;
	int fd, err;

	err = ctl_netns_id(&netns);
	if (err)
		return err;
	err = ctl_path(ifname, netns, ".sock", sun.sun_path, sizeof(sun.sun_path));
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int write_all(int fd, const char *buf, size_t len, int64_t deadline)
{
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
	int64_t deadline = ms_now() + CTL_CLIENT_TIMEOUT_MS;
	char req[CTL_MAX_REQUEST];
	char buf[4096];
	int fd, err, werr, len;
	ssize_t n;

	len = snprintf(req, sizeof(req), "%s%s\n", cmd, json ? " json" : "");
	if (len < 0 || (size_t)len >= sizeof(req))
		return -EINVAL;
	fd = ctl_connect(ifname);
	if (fd < 0)
		return fd;
	/* a daemon that refuses says why before it closes: read that even
	 * when the write failed (EPIPE) */
	werr = write_all(fd, req, (size_t)len, deadline);
	for (;;) {
		err = wait_fd(fd, POLLIN, deadline);
		if (err)
			break;
		n = read(fd, buf, sizeof(buf) - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		buf[n] = '\0';
		sb_puts(out, buf);
		/* a NUL byte in the answer would cut it here; the daemon sends none */
	}
	close(fd);
	if (out->oom)
		return -ENOMEM;
	if (!err && !werr)
		return 0;
	if (werr && out->len)
		return 0;	/* the daemon's reason for refusing */
	return err ? err : werr;
}

#define SO_ACCEPTCON_FLAG 0x10000	/* __SO_ACCEPTCON in /proc/net/unix Flags: listening */

/* The <ifname> of CTL_DIR "/<ifname>.<netns>.sock" into name, or false. */
static bool daemon_name(const char *path, const char *tail, char name[IFNAMSIZ])
{
	size_t plen = strlen(CTL_DIR "/"), n, tl = strlen(tail);

	if (strncmp(path, CTL_DIR "/", plen))
		return false;
	path += plen;
	n = strlen(path);
	if (n <= tl || strcmp(path + n - tl, tail))
		return false;
	n -= tl;
	if (!n || n >= IFNAMSIZ || memchr(path, '/', n))
		return false;
	memcpy(name, path, n);
	name[n] = '\0';
	return true;
}

int ctl_find_daemons(char names[][IFNAMSIZ], int max, bool starting)
{
	char line[512], path[256], tail[32], name[IFNAMSIZ];
	unsigned int flags;
	uint64_t netns = 0;
	int n = 0, i, err;
	bool dup;
	FILE *f;

	err = ctl_netns_id(&netns);
	if (err)
		return err;
	snprintf(tail, sizeof(tail), ".%" PRIu64 ".sock", netns);
	f = fopen("/proc/net/unix", "re");
	if (!f)
		return -errno;
	/* Num RefCount Protocol Flags Type St Inode Path */
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %*s %*s %x %*s %*s %*s %255s", &flags, path) != 2)
			continue;
		if (!(flags & SO_ACCEPTCON_FLAG) != starting || !daemon_name(path, tail, name))
			continue;
		dup = false;
		for (i = 0; i < n; i++)
			dup |= !strcmp(names[i], name);
		if (dup || n >= max)
			continue;
		snprintf(names[n++], IFNAMSIZ, "%s", name);
	}
	err = ferror(f) ? -EIO : 0;
	fclose(f);
	return err ? err : n;
}
