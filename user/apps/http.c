// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The built-in HTTP/1.1 static file server (RFC 9110 semantics, RFC 9112
 * message syntax), an application of the socket API like any other: one
 * listening stream socket, one struct http_conn per connection, all driven
 * by edge-triggered events.
 *
 * Each connection runs one loop until the socket says -EAGAIN: flush what
 * is queued, then the rest of the file being sent (the start of a body
 * goes out with the header fields, read with pread; the rest of a body
 * longer than HTTP_OUT_BUF is mapped and queued by reference with
 * skiff_sendfile, so TCP copies it once, into the frames; pread,
 * HTTP_OUT_BUF at a time, where it cannot be mapped), and only when the current response is
 * done parse the next request, reading more input only when the buffer
 * holds no complete request.  Pipelined requests are so answered in order
 * and wait in TCP's receive buffer, not here: a connection holds at most
 * HTTP_MAX_HEADER + HTTP_OUT_BUF bytes.
 *
 * Files are opened with openat2(RESOLVE_BENEATH) relative to DIR, so
 * neither "..", an absolute path nor a symlink can reach outside DIR; the
 * decoded path is also refused outright when it has a ".." segment.
 *
 * Small files (at most HTTP_CACHE_BODY bytes) are kept in memory once read,
 * HTTP_CACHE_SLOTS of them per server: a request for one costs a single
 * fstatat() of its path instead of openat2, fstat, pread and close (the
 * role of the page cache and of nginx's open_file_cache; measured in
 * docs/performance.md, "Short transactions").  An entry answers only while
 * that stat shows the very file it was read from, unchanged: the same
 * device and inode (a path that now leads to another file, e.g. through a
 * symlink swapped in, misses and goes through openat2 again), size, mtime
 * and ctime (every write, chmod, rename or new link changes ctime), and
 * still world-readable.  Anything else drops the entry, and so does its
 * age: an entry is read again after HTTP_CACHE_TTL_NS whatever the stat
 * says, which bounds what a rewrite in place of the same size within one
 * tick of the file system's clock (coarse timestamps, kernels before 6.13)
 * can leave unseen to that long.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "apps/http.h"
#include "core/clock.h"
#include "core/fmap.h"
#include "core/stack.h"
#include "core/timer.h"
#include "sock/socket.h"

/* ---- request parsing (RFC 9112) ---- */

/* RFC 9110 5.6.2 tchar */
static bool is_tchar(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int http_decode_path(const char *target, size_t len, char *out, size_t outlen)
{
	char seg[HTTP_MAX_URI + 1];
	size_t i = 0, o = 0, s;
	int hi, lo;

	if (!outlen)
		return -ENAMETOOLONG;
	out[0] = '\0';
	while (i < len) {
		/* one segment, decoded; an encoded '/' (%2F) ends it as well */
		s = 0;
		while (i < len && target[i] != '/') {
			char c = target[i];

			if (c == '%') {
				if (i + 2 >= len)
					return -EINVAL;
				hi = hexval(target[i + 1]);
				lo = hexval(target[i + 2]);
				if (hi < 0 || lo < 0)
					return -EINVAL;
				c = (char)(hi << 4 | lo);
				i += 3;
				if (!c)
					return -EINVAL;	/* NUL would truncate the path */
				if (c == '/')
					break;
			} else {
				i++;
			}
			if (s >= sizeof(seg) - 1)
				return -ENAMETOOLONG;
			seg[s++] = c;
		}
		if (i < len && target[i] == '/')
			i++;
		seg[s] = '\0';
		if (!s || !strcmp(seg, "."))
			continue;
		if (!strcmp(seg, ".."))
			return -EINVAL;	/* never climb, even inside DIR */
		if (o + (o ? 1 : 0) + s + 1 > outlen)
			return -ENAMETOOLONG;
		if (o)
			out[o++] = '/';
		memcpy(out + o, seg, s);
		o += s;
		out[o] = '\0';
	}
	return 0;
}

/* Find the end of line starting at p: the '\n', or NULL. */
static const char *line_end(const char *p, const char *end)
{
	return memchr(p, '\n', (size_t)(end - p));
}

/* Length of a line without its CRLF / LF. */
static size_t line_len(const char *p, const char *nl)
{
	return (size_t)(nl - p) - (nl > p && nl[-1] == '\r' ? 1 : 0);
}

static bool token_has(const char *v, size_t len, const char *tok)
{
	size_t tl = strlen(tok), i = 0, b, e;

	/* a comma-separated list, case-insensitive (RFC 9110 7.6.1) */
	while (i < len) {
		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		b = i;
		while (i < len && v[i] != ',')
			i++;
		e = i;
		while (e > b && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - b == tl && !strncasecmp(v + b, tok, tl))
			return true;
	}
	return false;
}

static size_t parse_fail(struct http_request *req, int status, size_t taken)
{
	req->status = status;
	req->keep_alive = false;
	return taken;
}

/* The request line: method SP request-target SP HTTP-version (RFC 9112 3). */
static int parse_request_line(const char *p, size_t n, struct http_request *req)
{
	const char *sp1, *sp2, *end = p + n, *tgt, *q;
	size_t mlen, tlen;

	sp1 = memchr(p, ' ', n);
	if (!sp1 || sp1 == p)
		return 400;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1 || memchr(sp2 + 1, ' ', (size_t)(end - sp2 - 1)))
		return (size_t)(sp2 ? sp2 - sp1 : end - sp1) > HTTP_MAX_URI ? 414 : 400;
	mlen = (size_t)(sp1 - p);
	for (q = p; q < sp1; q++)
		if (!is_tchar((unsigned char)*q))
			return 400;
	/* RFC 9112 2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive */
	if (end - sp2 - 1 != 8 || strncmp(sp2 + 1, "HTTP/", 5) || !isdigit((unsigned char)sp2[6]) ||
	    sp2[7] != '.' || !isdigit((unsigned char)sp2[8]))
		return 400;
	if (sp2[6] != '1' || (sp2[8] != '0' && sp2[8] != '1'))
		return 505;
	req->version = sp2[8] == '1' ? 11 : 10;
	req->keep_alive = req->version == 11;
	if (mlen == 3 && !memcmp(p, "GET", 3))
		req->method = HTTP_M_GET;
	else if (mlen == 4 && !memcmp(p, "HEAD", 4))
		req->method = HTTP_M_HEAD;
	else
		req->method = HTTP_M_OTHER;

	tgt = sp1 + 1;
	tlen = (size_t)(sp2 - tgt);
	if (tlen > HTTP_MAX_URI)
		return 414;
	for (q = tgt; q < sp2; q++)
		if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
			return 400;
	/* absolute-form (RFC 9112 3.2.2): keep only the path */
	if (tlen > 7 && !strncasecmp(tgt, "http://", 7)) {
		q = memchr(tgt + 7, '/', tlen - 7);
		if (!q)
			q = sp2;
		tlen -= (size_t)(q - tgt);
		tgt = q;
		if (!tlen) {
			tgt = "/";
			tlen = 1;
		}
	}
	if (tgt[0] != '/')
		return req->method == HTTP_M_OTHER ? 0 : 400;	/* "*": OPTIONS, answered 405 */
	/* the query and fragment do not name a file */
	q = tgt;
	while (q < tgt + tlen && *q != '?' && *q != '#')
		q++;
	switch (http_decode_path(tgt, (size_t)(q - tgt), req->path, sizeof(req->path))) {
	case 0:
		return 0;
	case -ENAMETOOLONG:
		return 414;
	default:
		return 400;
	}
}

size_t http_parse_request(const char *buf, size_t len, struct http_request *req)
{
	const char *p = buf, *end = buf + len, *nl, *colon, *v;
	size_t n, vlen, skip;
	int status, fields = 0, hosts = 0;
	bool body = false;

	memset(req, 0, sizeof(*req));
	/* RFC 9112 2.2: ignore empty lines before the request line */
	while (p < end && (*p == '\r' || *p == '\n')) {
		if (*p == '\r' && (p + 1 >= end || p[1] != '\n'))
			break;
		p += *p == '\r' ? 2 : 1;
	}
	skip = (size_t)(p - buf);
	if (skip > 64)
		return parse_fail(req, 400, len);
	nl = line_end(p, end);
	if (!nl) {
		if (len - skip > HTTP_MAX_URI + 32)
			return parse_fail(req, 414, len);
		if (len >= HTTP_MAX_HEADER)
			return parse_fail(req, 431, len);
		return 0;
	}
	/* the whole header block first, so an error answer takes all of it */
	for (v = nl + 1;; v = nl + 1) {
		nl = line_end(v, end);
		if (!nl) {
			if (len >= HTTP_MAX_HEADER)
				return parse_fail(req, 431, len);
			return 0;
		}
		if ((size_t)(nl + 1 - buf) > HTTP_MAX_HEADER)
			return parse_fail(req, 431, len);
		if (!line_len(v, nl))
			break;
	}
	n = (size_t)(nl + 1 - buf);	/* the request, without a body */

	nl = line_end(p, end);
	status = parse_request_line(p, line_len(p, nl), req);
	if (status == 505 || status == 414 || (status == 400 && !req->version))
		return parse_fail(req, status, n);
	for (p = nl + 1;; p = nl + 1) {
		size_t ll;

		nl = line_end(p, end);
		ll = line_len(p, nl);
		if (!ll)
			break;
		if (++fields > HTTP_MAX_FIELDS)
			return parse_fail(req, 431, n);
		/* RFC 9112 5.1: field-name ":" OWS field-value OWS, no space before ':' */
		colon = memchr(p, ':', ll);
		if (!colon || colon == p)
			return parse_fail(req, 400, n);
		for (v = p; v < colon; v++)
			if (!is_tchar((unsigned char)*v))
				return parse_fail(req, 400, n);
		v = colon + 1;
		vlen = ll - (size_t)(v - p);
		while (vlen && (*v == ' ' || *v == '\t')) {
			v++;
			vlen--;
		}
		while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			vlen--;
#define FIELD_IS(name) ((size_t)(colon - p) == sizeof(name) - 1 && !strncasecmp(p, name, sizeof(name) - 1))
		if (FIELD_IS("host")) {
			hosts++;
		} else if (FIELD_IS("connection")) {
			if (token_has(v, vlen, "close"))
				req->keep_alive = false;
			else if (token_has(v, vlen, "keep-alive"))
				req->keep_alive = true;
		} else if (FIELD_IS("content-length")) {
			if (!vlen || vlen > 18)
				return parse_fail(req, 400, n);
			for (skip = 0; skip < vlen; skip++)
				if (!isdigit((unsigned char)v[skip]))
					return parse_fail(req, 400, n);
			if (strtoull(v, NULL, 10))
				body = true;
		} else if (FIELD_IS("transfer-encoding")) {
			body = true;
		}
#undef FIELD_IS
	}
	if (status)
		return parse_fail(req, status, n);
	/* RFC 9112 3.2: a 1.1 request without exactly one Host is a 400 */
	if (req->version == 11 && hosts != 1)
		return parse_fail(req, 400, n);
	if (req->method == HTTP_M_OTHER) {
		req->status = 405;
		/* its body (if any) is not read: the connection cannot go on */
		if (body)
			req->keep_alive = false;
		return n;
	}
	/* a GET/HEAD with a body: we do not read it, so we cannot frame what
	 * follows; answer this one and close */
	if (body)
		req->keep_alive = false;
	return n;
}

/* ---- files ---- */

/*
 * Without openat2 (kernels before 5.6, and valgrind, which does not know
 * it): walk rel one component at a time with O_NOFOLLOW, so that no
 * symlink is followed at all, stricter than RESOLVE_BENEATH (which follows
 * those that stay inside DIR); ".." is refused.
 */
static int open_walk(int dirfd, const char *rel, int flags, int *fd)
{
	char comp[NAME_MAX + 1];
	int cur = dirfd, next;

	for (;;) {
		size_t n = strcspn(rel, "/");
		bool last = rel[n] == '\0';

		if (!n || n > NAME_MAX || (n == 2 && !strncmp(rel, "..", 2))) {
			next = -1;
			errno = ENOENT;
		} else {
			memcpy(comp, rel, n);
			comp[n] = '\0';
			next = openat(cur, comp, last ? flags | O_NOFOLLOW :
					O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (cur != dirfd) {
			int e = errno;

			close(cur);
			errno = e;
		}
		if (next < 0)
			return -errno;
		if (last) {
			*fd = next;
			return 0;
		}
		cur = next;
		rel += n + 1;
	}
}

static int open_beneath(int dirfd, const char *rel, int *fd)
{
	struct open_how how;
	long r;

	memset(&how, 0, sizeof(how));
	/* O_NONBLOCK: a FIFO must not block the worker; it is refused below */
	how.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
	/* nothing outside DIR, whatever the path or its symlinks say */
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	r = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
	if (r < 0 && errno == ENOSYS)
		return open_walk(dirfd, rel, (int)how.flags, fd);
	if (r < 0)
		return -errno;
	*fd = (int)r;
	return 0;
}

/* A path component that starts with a dot (.htpasswd, .git/...): hidden
 * files are never served; RFC 8615's /.well-known/ is the one exception. */
static bool has_hidden_component(const char *rel)
{
	const char *p = rel;

	for (;;) {
		if (p[0] == '.' && strncmp(p, ".well-known/", 12) != 0 &&
		    strcmp(p, ".well-known") != 0)
			return true;
		p = strchr(p, '/');
		if (!p)
			return false;
		p++;
	}
}

/* http_open, and the file's stat in *stb; *index: DIR/index.html was opened. */
static int open_stat(int dirfd, const char *rel, int *fd, struct stat *out, bool *index)
{
	char idx[HTTP_MAX_URI + 16];
	struct stat stb;
	int f, err;

	*index = false;
	if (has_hidden_component(rel))
		return -ENOENT;
	err = open_beneath(dirfd, rel[0] ? rel : ".", &f);
	if (err)
		return err == -EACCES ? -EACCES : -ENOENT;	/* EXDEV (escape), ELOOP...: 404 */
	if (fstat(f, &stb) < 0) {
		close(f);
		return -ENOENT;
	}
	if (S_ISDIR(stb.st_mode)) {
		close(f);
		*index = true;
		snprintf(idx, sizeof(idx), "%s%sindex.html", rel, rel[0] ? "/" : "");
		err = open_beneath(dirfd, idx, &f);
		if (err)
			return err == -EACCES ? -EACCES : -ENOENT;
		if (fstat(f, &stb) < 0) {
			close(f);
			return -ENOENT;
		}
	}
	if (!S_ISREG(stb.st_mode)) {
		close(f);
		return -ENOENT;
	}
	/*
	 * skiffd runs as root: serve only what any user may read (the "other"
	 * read bit), so a 0600 file, or a hard link in DIR to one such as
	 * /etc/shadow, is never sent.
	 */
	if (!(stb.st_mode & S_IROTH)) {
		close(f);
		return -EACCES;
	}
	*fd = f;
	*out = stb;
	return 0;
}

int http_open(int dirfd, const char *rel, int *fd, off_t *size)
{
	struct stat stb;
	bool index;
	int err = open_stat(dirfd, rel, fd, &stb, &index);

	if (!err)
		*size = stb.st_size;
	return err;
}

int http_docroot_check(const char *dir, char *why, size_t whylen)
{
	static const char *const refused[] = { "/etc", "/root", "/proc", "/sys", "/dev", "/boot" };
	char real[PATH_MAX];
	size_t i, n;

	if (!realpath(dir, real)) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -errno;
	}
	if (!strcmp(real, "/")) {
		snprintf(why, whylen, "it is the root directory: every world-readable file would be served");
		return -EPERM;
	}
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		n = strlen(refused[i]);
		if (!strncmp(real, refused[i], n) && (real[n] == '\0' || real[n] == '/')) {
			snprintf(why, whylen, "%s is a system directory (%s)", real, refused[i]);
			return -EPERM;
		}
	}
	return 0;
}

const char *http_content_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ "html", "text/html; charset=utf-8" },
		{ "htm", "text/html; charset=utf-8" },
		{ "txt", "text/plain; charset=utf-8" },
		{ "css", "text/css" },
		{ "js", "text/javascript" },
		{ "json", "application/json" },
		{ "png", "image/png" },
		{ "jpg", "image/jpeg" },
		{ "jpeg", "image/jpeg" },
		{ "gif", "image/gif" },
		{ "svg", "image/svg+xml" },
		{ "pdf", "application/pdf" },
	};
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
	size_t i;

	if (!path[0])
		return types[0].type;	/* DIR itself: its index.html */
	if (dot && (!slash || dot > slash))
		for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (!strcasecmp(dot + 1, types[i].ext))
				return types[i].type;
	return "application/octet-stream";
}

/* ---- the server ---- */

/*
 * The send buffer of a connection that sends a file body starts at
 * HTTP_BODY_SNDBUF, for up to HTTP_BIG_BODIES bodies at a time (the rest
 * start from the default, 256 KiB).  The flight is bounded by the send
 * buffer: on a busy host, where the client or this worker answers a few
 * milliseconds late, 256 KiB in flight caps a download at 256 KiB per
 * round trip (119 MB/s measured, 258-325 MB/s with 1 MiB;
 * docs/performance.md).  SKIFF_SO_SNDBUF_MIN, not SKIFF_SO_SNDBUF: the
 * stack's autotuning (tcp_sndbuf_expand, as Linux's) may grow it further,
 * to 2 x cwnd: a BBR flight through a lossy path held at 1 MiB kept its
 * samples application-limited and Startup from ending.  Chunks are held
 * only while buffered; the autotuning's own bounds (4 MiB, a share of the
 * pool, none while half the pool is used) cap what a body pins.
 */
#define HTTP_BODY_SNDBUF	(1 << 20)
#define HTTP_BIG_BODIES		32

struct http_conn {
	struct http_server *srv;
	struct socket *so;
	struct http_conn *prev, *next;
	size_t in_len;
	size_t out_off, out_len;	/* out[out_off, out_len) still to send */
	int fd;				/* the file being sent, -1: none */
	struct fmap *fm;		/* its mapping, once the body is sent by reference */
	off_t file_off, file_end;
	bool close_after;		/* after the current response: close */
	bool corked;			/* Nagle on while a file body is queued */
	bool big_sndbuf;		/* counted in n_big while the body is queued */
	bool lingering;			/* write side shut: read until the peer's EOF */
	bool peer_eof;
	bool served;			/* answered a request (idle deadline from now on) */
	bool in_request;		/* a request's first bytes are in */
	uint64_t deadline;		/* clock_now() ns; 0: none (a response is going out) */
	struct http_src *src;		/* its peer address's count */
	char in[HTTP_MAX_HEADER];
	char out[HTTP_OUT_BUF];
};

/* Connections from one peer (the per-source cap): an IPv4 address, or an
 * IPv6 /64 (one host's share of a link: its interface identifier is its
 * own to change), as core/inaddr.h keeps them. */
struct http_src {
	union inet_addr addr;
	uint32_t n;
	struct http_src *next;
};

/* One small file in memory (see the top of this file). */
#define HTTP_CACHE_SLOTS	64
#define HTTP_CACHE_BODY		8192
#define HTTP_CACHE_PATH		256	/* longer paths are not cached */
#define HTTP_CACHE_TTL_NS	(1000ull * 1000 * 1000)

struct http_cache_ent {
	char path[HTTP_CACHE_PATH];
	uint64_t loaded;	/* clock_now() when read */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	uint8_t body[];
};

#define HTTP_SRC_BUCKETS	256
#define HTTP_SWEEP_NS		(1000ull * 1000 * 1000)	/* deadlines are checked each second */

struct http_server {
	struct stack *st;
	struct socket *lso;
	int dirfd;
	struct http_conn *conns;
	uint32_t n_conns;
	uint32_t max_conns;	/* at the limit, accepting stops (http_server_set_max_conns) */
	bool limited;		/* stopped at max_conns with connections waiting */
	uint32_t n_big;		/* connections with big_sndbuf */
	uint64_t header_ns, idle_ns;	/* http_server_set_limits */
	uint32_t per_source;
	struct timer sweep;	/* every HTTP_SWEEP_NS while connections exist */
	struct http_src *srcs[HTTP_SRC_BUCKETS];
	struct http_cache_ent *cache[HTTP_CACHE_SLOTS];
	time_t date_sec;	/* date holds the Date of this second */
	char date[40];
};

static const char *status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 505: return "HTTP Version Not Supported";
	default: return "Internal Server Error";
	}
}

static void server_accept(struct http_server *srv);

/* ---- small files in memory ---- */

static struct http_cache_ent **cache_slot(struct http_server *srv, const char *path)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (; *path; path++)
		h = (h ^ (uint8_t)*path) * 16777619u;
	return &srv->cache[h % HTTP_CACHE_SLOTS];
}

static bool cache_same_file(const struct http_cache_ent *e, const struct stat *st)
{
	return S_ISREG(st->st_mode) && (st->st_mode & S_IROTH) && st->st_dev == e->dev &&
	       st->st_ino == e->ino && st->st_size == e->size &&
	       st->st_mtim.tv_sec == e->mtime.tv_sec && st->st_mtim.tv_nsec == e->mtime.tv_nsec &&
	       st->st_ctim.tv_sec == e->ctime.tv_sec && st->st_ctim.tv_nsec == e->ctime.tv_nsec;
}

/* The entry for path if the path still names its file, unchanged; else NULL
 * (and a stale entry is dropped). */
static const struct http_cache_ent *cache_lookup(struct http_server *srv, const char *path)
{
	struct http_cache_ent **pp = cache_slot(srv, path), *e = *pp;
	struct stat st;

	if (!e || strcmp(e->path, path))
		return NULL;
	if (clock_now() - e->loaded < HTTP_CACHE_TTL_NS && fstatat(srv->dirfd, path, &st, 0) == 0 &&
	    cache_same_file(e, &st))
		return e;
	free(e);
	*pp = NULL;
	return NULL;
}

/* Keep body (the whole file path names, as stb described it when opened). */
static void cache_insert(struct http_server *srv, const char *path, const struct stat *stb,
			 const void *body)
{
	struct http_cache_ent **pp, *e;

	if (stb->st_size > HTTP_CACHE_BODY || !path[0] || strlen(path) >= HTTP_CACHE_PATH)
		return;
	e = malloc(sizeof(*e) + (size_t)stb->st_size);
	if (!e)
		return;	/* only a cache */
	snprintf(e->path, sizeof(e->path), "%s", path);
	e->loaded = clock_now();
	e->dev = stb->st_dev;
	e->ino = stb->st_ino;
	e->size = stb->st_size;
	e->mtime = stb->st_mtim;
	e->ctime = stb->st_ctim;
	memcpy(e->body, body, (size_t)stb->st_size);
	pp = cache_slot(srv, path);
	free(*pp);
	*pp = e;
}

static void cache_clear(struct http_server *srv)
{
	for (size_t i = 0; i < HTTP_CACHE_SLOTS; i++) {
		free(srv->cache[i]);
		srv->cache[i] = NULL;
	}
}

/* RFC 9110 6.6.1: an origin server with a clock sends Date (formatted once a second). */
static const char *server_date(struct http_server *srv)
{
	time_t now = time(NULL);
	struct tm tm;

	if (now != srv->date_sec || !srv->date[0]) {
		gmtime_r(&now, &tm);
		strftime(srv->date, sizeof(srv->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		srv->date_sec = now;
	}
	return srv->date;
}

static struct http_src **src_slot(struct http_server *srv, const union inet_addr *addr)
{
	struct http_src **pp = &srv->srcs[(inet_addr_fold(addr) * 2654435761u) >> 24];

	while (*pp && !inet_addr_eq(&(*pp)->addr, addr))
		pp = &(*pp)->next;
	return pp;
}

/* Count one more connection from the peer peer (an IPv4 address or an
 * IPv4-mapped or IPv6 sockaddr_in6); NULL: at the cap (or no memory). */
static struct http_src *src_get(struct http_server *srv, const struct sockaddr_in6 *peer)
{
	struct http_src **pp, *s;
	union inet_addr addr;

	inet_addr_set6(&addr, peer->sin6_addr.s6_addr);
	if (!inet_addr_is4(&addr))
		addr.w[2] = addr.w[3] = 0;	/* the /64 */
	pp = src_slot(srv, &addr);
	s = *pp;

	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return NULL;
		s->addr = addr;
		*pp = s;
	} else if (srv->per_source && s->n >= srv->per_source) {
		return NULL;
	}
	s->n++;
	return s;
}

static void src_put(struct http_server *srv, struct http_src *s)
{
	struct http_src **pp;

	if (!s || --s->n)
		return;
	pp = src_slot(srv, &s->addr);
	*pp = s->next;
	free(s);
}

static void conn_free(struct http_conn *c)
{
	struct http_server *srv = c->srv;

	if (c->fd >= 0)
		close(c->fd);
	fmap_put(c->fm);
	if (c->big_sndbuf) {
		c->big_sndbuf = false;
		srv->n_big--;
	}
	if (c->so)
		skiff_close(c->so);
	src_put(srv, c->src);
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->n_conns--;
	free(c);
	if (srv->limited) {
		srv->limited = false;
		server_accept(srv);	/* room for one that waits */
	}
}

static bool conn_refill(struct http_conn *c);

/* Queue the status line and header fields, and the start of the body: a
 * small response leaves in one segment (head and body apart would wait for
 * the peer's delayed ACK under Nagle). */
static void conn_respond(struct http_conn *c, const struct http_request *req)
{
	char body[96];
	const char *ctype = "text/plain; charset=utf-8";
	const struct http_cache_ent *hit = NULL;
	off_t length = 0;
	struct stat stb;
	int status = req->status, err, n;
	bool send_body = req->method != HTTP_M_HEAD, index = true, small;
	size_t head;

	c->fd = -1;
	if (!status && !has_hidden_component(req->path))
		hit = cache_lookup(c->srv, req->path);
	if (hit) {
		status = 200;
		length = hit->size;
		ctype = http_content_type(req->path);
	} else if (!status) {
		err = open_stat(c->srv->dirfd, req->path, &c->fd, &stb, &index);
		if (!err) {
			status = 200;
			length = stb.st_size;
			ctype = http_content_type(req->path);
		} else {
			c->fd = -1;
			status = err == -EACCES ? 403 : 404;
		}
	}
	if (!req->keep_alive)
		c->close_after = true;
	if (status != 200) {
		n = snprintf(body, sizeof(body), "%d %s\n", status, status_text(status));
		length = n;
	}
	n = snprintf(c->out, sizeof(c->out),
		     "HTTP/1.1 %d %s\r\nServer: skiff\r\nDate: %s\r\nContent-Type: %s\r\n"
		     "Content-Length: %lld\r\n%s%s\r\n",
		     status, status_text(status), server_date(c->srv), ctype, (long long)length,
		     status == 405 ? "Allow: GET, HEAD\r\n" : "",
		     c->close_after ? "Connection: close\r\n"
				    : req->version == 10 ? "Connection: keep-alive\r\n" : "");
	c->out_off = 0;
	c->out_len = (size_t)n;
	if (status != 200) {
		if (send_body && c->out_len + (size_t)length <= sizeof(c->out)) {
			memcpy(c->out + c->out_len, body, (size_t)length);
			c->out_len += (size_t)length;
		}
		return;
	}
	c->file_off = 0;
	c->file_end = length;
	if (hit) {
		/* head + at most HTTP_CACHE_BODY: fits out */
		if (send_body) {
			memcpy(c->out + c->out_len, hit->body, (size_t)length);
			c->out_len += (size_t)length;
		}
		c->file_off = length;
		return;
	}
	if (!send_body || !length) {
		close(c->fd);
		c->fd = -1;
		return;
	}
	/* a small file is read whole by the one refill: then it is kept */
	head = c->out_len;
	small = !index && length <= HTTP_CACHE_BODY && head + (size_t)length <= sizeof(c->out);
	if (!conn_refill(c) || (small && c->fd >= 0)) {
		/* nothing readable after all (or a small file cut short under
		 * us): promise nothing we cannot keep */
		close(c->fd);
		c->fd = -1;
		c->out_len = 0;
		c->close_after = true;
		return;
	}
	if (small)
		cache_insert(c->srv, req->path, &stb, c->out + head);
	/*
	 * A body that takes more than one send: cork (Nagle on) until its
	 * last byte is queued.  With TCP_NODELAY each send would push the
	 * part of a segment at the end of what was queued, whenever the
	 * windows allow, and a bulk transfer would go out as full segments
	 * interleaved with runts (1 in 16 segments at HTTP_OUT_BUF = 16 KiB).
	 * Corking is what Linux's TCP_CORK / autocorking do; uncorking
	 * (NODELAY on again) pushes the tail at once.
	 */
	if (c->fd >= 0 && !skiff_setsockopt(c->so, SKIFF_TCP_NODELAY, 0))
		c->corked = true;
	if (c->fd >= 0 && c->srv->n_big < HTTP_BIG_BODIES &&
	    !skiff_setsockopt(c->so, SKIFF_SO_SNDBUF_MIN, HTTP_BODY_SNDBUF)) {
		c->big_sndbuf = true;
		c->srv->n_big++;
	}
}

/* The body is queued: another may start big (the buffer keeps its size,
 * as an autotuned one does; it holds chunks only for what is queued). */
static void conn_small_sndbuf(struct http_conn *c)
{
	if (c->big_sndbuf) {
		c->big_sndbuf = false;
		c->srv->n_big--;
	}
}

/* The whole response is queued: let its last partial segment go now. */
static void conn_uncork(struct http_conn *c)
{
	if (c->corked) {
		c->corked = false;
		(void)skiff_setsockopt(c->so, SKIFF_TCP_NODELAY, 1);
	}
	conn_small_sndbuf(c);
}

/* The whole body is queued: the file and its mapping are TCP's now. */
static void conn_file_done(struct http_conn *c)
{
	fmap_put(c->fm);
	c->fm = NULL;
	close(c->fd);
	c->fd = -1;
}

/* Append the next chunk of the file to out; false when the file ended early. */
static bool conn_refill(struct http_conn *c)
{
	size_t want = sizeof(c->out) - c->out_len;
	ssize_t n;

	if ((off_t)want > c->file_end - c->file_off)
		want = (size_t)(c->file_end - c->file_off);
	n = pread(c->fd, c->out + c->out_len, want, c->file_off);
	if (n <= 0)
		return false;	/* truncated under us: the length promised is a lie */
	c->file_off += n;
	c->out_len += (size_t)n;
	if (c->file_off == c->file_end) {
		close(c->fd);
		c->fd = -1;
	}
	return true;
}

/*
 * The connection waits for (the rest of) a request: idle after a response,
 * the header timeout from accept or from the request's first byte (more
 * bytes do not extend it: a slowloris client runs out of time).
 */
static void conn_wait_request(struct http_conn *c)
{
	uint64_t now = clock_now();

	if (c->in_len && !c->in_request) {
		c->in_request = true;
		c->deadline = now + c->srv->header_ns;
	} else if (!c->in_len && !c->deadline) {
		c->deadline = now + (c->served ? c->srv->idle_ns : c->srv->header_ns);
	}
}

/* Run the connection until the socket would block; false: it is freed. */
static bool conn_run(struct http_conn *c)
{
	struct http_request req;
	ssize_t n;
	size_t used;

	for (;;) {
		if (c->out_off < c->out_len) {
			n = skiff_send(c->so, c->out + c->out_off, c->out_len - c->out_off);
			if (n == -EAGAIN)
				return true;
			if (n < 0)
				return false;
			c->out_off += (size_t)n;
			continue;
		}
		if (c->fd >= 0) {
			c->out_off = c->out_len = 0;
			if (!c->fm && c->file_end - c->file_off > (off_t)sizeof(c->out))
				c->fm = fmap_open(c->fd, (size_t)c->file_end); /* NULL: pread */
			if (c->fm) {
				n = skiff_sendfile(c->so, c->fm, (uint64_t)c->file_off,
						   (size_t)(c->file_end - c->file_off));
				if (n == -EAGAIN)
					return true;
				if (n < 0)
					return false;
				c->file_off += n;
				if (c->file_off == c->file_end)
					conn_file_done(c);
				continue;
			}
			if (!conn_refill(c))
				return false;
			continue;
		}
		conn_uncork(c);
		if (c->lingering) {
			/* RFC 9112 9.6: after a close, read until the peer is done,
			 * so unread input does not turn our FIN into a reset */
			n = skiff_recv(c->so, c->in, sizeof(c->in));
			if (n == -EAGAIN)
				return true;
			if (n <= 0)
				return false;
			continue;
		}
		if (c->close_after) {
			c->lingering = true;
			c->deadline = clock_now() + c->srv->header_ns;
			if (skiff_shutdown(c->so, SHUT_WR))
				return false;
			continue;
		}
		/* the previous response is out: the next request */
		used = c->in_len ? http_parse_request(c->in, c->in_len, &req) : 0;
		if (used) {
			memmove(c->in, c->in + used, c->in_len - used);
			c->in_len -= used;
			c->served = true;
			c->in_request = false;
			c->deadline = 0;
			conn_respond(c, &req);
			continue;
		}
		if (c->peer_eof)
			return false;	/* nothing more will come; a partial request is dropped */
		n = skiff_recv(c->so, c->in + c->in_len, sizeof(c->in) - c->in_len);
		if (n == -EAGAIN) {
			conn_wait_request(c);
			return true;
		}
		if (n < 0)
			return false;
		if (!n)
			c->peer_eof = true;
		c->in_len += (size_t)n;
	}
}

static void conn_event(struct socket *so, uint32_t events, void *arg)
{
	struct http_conn *c = arg;

	(void)so;
	(void)events;	/* errors and hang-ups show as recv/send results */
	if (!conn_run(c))
		conn_free(c);
}

/* Accept while below the limit; at the limit with connections still
 * waiting in the listen backlog, stop (counted once per stop) until one
 * closes: they wait there, then TCP drops their SYNs and the peers retry. */
static void server_accept(struct http_server *srv)
{
	struct sockaddr_in6 peer;
	struct http_src *src;
	struct socket *nso;
	struct http_conn *c;

	while (srv->n_conns < srv->max_conns) {
		if (skiff_accept(srv->lso, &nso, &peer))
			return;
		src = src_get(srv, &peer);
		if (!src) {
			/* this address holds its share already: refuse it (RST) */
			STACK_INC(srv->st, http_source_limited);
			(void)skiff_setsockopt(nso, SKIFF_SO_LINGER_ABORT, 1);
			skiff_close(nso);
			continue;
		}
		c = malloc(sizeof(*c));
		if (!c) {
			src_put(srv, src);
			/* out of memory: refuse this one (RST) rather than lose track */
			(void)skiff_setsockopt(nso, SKIFF_SO_LINGER_ABORT, 1);
			skiff_close(nso);
			continue;
		}
		memset(c, 0, offsetof(struct http_conn, in));
		c->srv = srv;
		c->so = nso;
		c->fd = -1;
		c->src = src;
		c->deadline = clock_now() + srv->header_ns;
		if (!timer_pending(&srv->sweep))
			timer_mod(srv->st, &srv->sweep, clock_now() + HTTP_SWEEP_NS);
		c->next = srv->conns;
		if (c->next)
			c->next->prev = c;
		srv->conns = c;
		srv->n_conns++;
		/* responses are written whole; Nagle would only delay their tails */
		(void)skiff_setsockopt(nso, SKIFF_TCP_NODELAY, 1);
		/* reports what is pending (data, writable) at the next dispatch */
		skiff_set_handler(nso, conn_event, c);
	}
	if (!srv->limited && srv->max_conns && (skiff_poll(srv->lso) & SOCK_EV_IN)) {
		srv->limited = true;
		STACK_INC(srv->st, http_conn_limited);
	}
}

static void listener_event(struct socket *so, uint32_t events, void *arg)
{
	(void)so;
	(void)events;
	server_accept(arg);
}

/* Close the connections past their deadline; re-arm while any are left. */
static void server_sweep(struct stack *st, struct timer *t)
{
	struct http_server *srv = (struct http_server *)((char *)t - offsetof(struct http_server, sweep));
	uint64_t now = clock_now();
	struct http_conn *c, *next;

	for (c = srv->conns; c; c = next) {
		next = c->next;
		if (!c->deadline || now < c->deadline)
			continue;
		if (c->lingering || c->in_request || !c->served)
			STACK_INC(st, http_header_timeouts);
		else
			STACK_INC(st, http_idle_timeouts);
		conn_free(c); /* may accept one: it goes to the head, next stays valid */
	}
	if (srv->conns)
		timer_mod(st, t, now + HTTP_SWEEP_NS);
}

void http_server_set_limits(struct http_server *srv, uint32_t header_s, uint32_t idle_s,
			    uint32_t per_source)
{
	if (!srv)
		return;
	srv->header_ns = (uint64_t)(header_s ? header_s : 1) * HTTP_SWEEP_NS;
	srv->idle_ns = (uint64_t)(idle_s ? idle_s : 1) * HTTP_SWEEP_NS;
	srv->per_source = per_source;
}

void http_server_set_max_conns(struct http_server *srv, uint32_t max)
{
	if (!srv)
		return;
	srv->max_conns = max ? max : 1;
	if (srv->n_conns < srv->max_conns) {
		srv->limited = false;
		server_accept(srv);
	}
}

int http_server_start(struct stack *st, uint16_t port, const char *dir, struct http_server **out)
{
	struct http_server *srv;
	struct sockaddr_in6 addr;
	int err;

	if (!out || !dir || !port)
		return -EINVAL;
	*out = NULL;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->st = st;
	srv->max_conns = HTTP_MAX_CONNS_DEFAULT;
	timer_init(&srv->sweep, server_sweep);
	http_server_set_limits(srv, HTTP_HEADER_TIMEOUT_S, HTTP_IDLE_TIMEOUT_S,
			       HTTP_PER_SOURCE_DEFAULT);
	srv->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (srv->dirfd < 0) {
		err = -errno;
		goto err_free;
	}
	/* [::] without V6ONLY: IPv4 and IPv6 clients alike */
	err = skiff_socket_af(st, AF_INET6, SOCK_STREAM, &srv->lso);
	if (err)
		goto err_dir;
	(void)skiff_setsockopt(srv->lso, SKIFF_SO_REUSEADDR, 1);
	memset(&addr, 0, sizeof(addr));
	addr.sin6_family = AF_INET6;
	addr.sin6_addr = in6addr_any;
	addr.sin6_port = htons(port);
	err = skiff_bind(srv->lso, &addr);
	if (!err)
		err = skiff_listen(srv->lso, SKIFF_SOMAXCONN);
	if (err)
		goto err_close;
	skiff_set_handler(srv->lso, listener_event, srv);
	*out = srv;
	return 0;

err_close:
	skiff_close(srv->lso);
err_dir:
	close(srv->dirfd);
err_free:
	free(srv);
	return err;
}

void http_server_stop(struct http_server *srv)
{
	if (!srv)
		return;
	srv->max_conns = 0;	/* closing a connection accepts no other */
	srv->limited = false;
	while (srv->conns)
		conn_free(srv->conns);
	timer_del(srv->st, &srv->sweep);
	skiff_close(srv->lso);
	close(srv->dirfd);
	cache_clear(srv);
	free(srv);
}
