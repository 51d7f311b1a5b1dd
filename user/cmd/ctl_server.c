// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * skiffd's control server (ctl_server.h): the root-only directory and lock,
 * the socket with its mode and group, and the event loop.  Every client has
 * a slot with its peer credentials, an input buffer of one request line, an
 * output buffer and one deadline; the loop reads what is there, answers
 * every complete line, writes what the socket takes and comes back later
 * for the rest, so no client can hold up another or a signal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cmd/ctl_server.h"
#include "cmd/report.h"

/* epoll key of a client: its accept number and slot, so an event queued for
 * a client that was closed (and its slot reused) in the same batch is not
 * taken for the new one; 0 is the listening socket */
#define CTL_KEY(c, slot)	((c)->seq << 6 | (uint64_t)(slot))
#define CTL_KEY_SLOT(k)		((uint32_t)((k) & 63))
#define CTL_LISTENER		0
#define CTL_BACKLOG	64
#define CTL_ACCEPT_BURST 64			/* accepts per ctl_server_run() */
#define CTL_MAX_PIPELINE 64			/* requests on one connection */
_Static_assert(CTL_MAX_CLIENTS <= 64, "CTL_KEY keeps the slot in 6 bits");

struct ctl_client {
	int fd;				/* -1: free slot */
	uint64_t seq;			/* order of accept (the oldest is evicted first) */
	int64_t deadline_ms;		/* for a complete line, or to read the answer */
	struct ctl_peer peer;
	char in[CTL_MAX_REQUEST];	/* received, not yet framed */
	size_t in_len;
	bool eof;			/* the client shut down its side */
	bool answered;			/* at least one request answered */
	bool closing;			/* close once out is written */
	bool taken;			/* a verb's take() took the fd */
	uint32_t events;		/* registered with epoll */
	int requests;			/* answered on this connection */
	struct strbuf out;
	size_t out_off;			/* written so far */
};

struct ctl_server {
	int lock_fd;
	int fd;
	int ep;
	bool listening;
	gid_t group;			/* CTL_GROUP or -1 */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char lock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const struct ctl_verb *verbs;
	size_t n_verbs;
	void *ctx;
	struct ctl_client c[CTL_MAX_CLIENTS];
	uint64_t accepted;		/* connections so far */
	struct ctl_server_stats st;
};

static int64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- directory, lock, socket ---- */

/* CTL_DIR exists, is a directory, belongs to root and only root may write
 * to it: otherwise someone else could have placed or could replace the
 * files in it. */
static int check_dir(char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(CTL_DIR, 0755) == 0) {
		if (chmod(CTL_DIR, 0755) < 0) {	/* whatever the umask was */
			snprintf(err, errlen, "cannot set the mode of %s: %s", CTL_DIR,
				 strerror(errno));
			return -errno;
		}
	} else if (errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s (skiffd runs as root)", CTL_DIR,
			 strerror(errno));
		return -errno;
	}
	if (lstat(CTL_DIR, &st) < 0) {
		snprintf(err, errlen, "cannot stat %s: %s", CTL_DIR, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022)) {
		snprintf(err, errlen,
			 "%s must be a directory owned by root and writable only by root "
			 "(it is %s, owner uid %u, mode %03o): remove it and start skiffd again",
			 CTL_DIR, S_ISDIR(st.st_mode) ? "a directory" : "not a directory",
			 (unsigned int)st.st_uid, (unsigned int)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* The pid written in the lock file by its holder, or 0. */
static pid_t lock_holder(int fd)
{
	char buf[24];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (pid_t)atoi(buf);
}

/*
 * flock() the lock file.  The file is removed by its holder at exit, so
 * after locking check that the path still names the file we locked (else
 * we locked an unlinked file: try again).
 */
static int take_lock(struct ctl_server *s, pid_t *holder, char *err, size_t errlen)
{
	struct stat fst, pst;
	char pid[24];
	int tries, fd, n;

	for (tries = 0; tries < 8; tries++) {
		fd = open(s->lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			snprintf(err, errlen, "cannot open the lock file %s: %s", s->lock_path,
				 strerror(errno));
			return -errno;
		}
		if (fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode) || fst.st_uid != 0) {
			snprintf(err, errlen, "%s is not a regular file owned by root: remove it",
				 s->lock_path);
			close(fd);
			return -EPERM;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			n = errno;
			if (n == EWOULDBLOCK && holder)
				*holder = lock_holder(fd);
			close(fd);
			if (n == EWOULDBLOCK)
				return -EADDRINUSE;
			snprintf(err, errlen, "cannot lock %s: %s", s->lock_path, strerror(n));
			return -n;
		}
		if (stat(s->lock_path, &pst) < 0 || pst.st_ino != fst.st_ino ||
		    pst.st_dev != fst.st_dev) {
			close(fd);	/* removed by the holder that just exited */
			continue;
		}
		n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
		if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
			/* only the "already running (pid N)" message needs it */
		}
		s->lock_fd = fd;
		return 0;
	}
	snprintf(err, errlen, "cannot take the lock %s: it keeps changing", s->lock_path);
	return -EAGAIN;
}

/* Bind the socket at s->path: a file left there is stale (we hold the
 * lock), so remove it first.  Mode 0660 root:CTL_GROUP, or 0600. */
static int bind_socket(struct ctl_server *s, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t mask;
	int ret;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", s->path);
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->fd < 0) {
		snprintf(err, errlen, "cannot create the control socket: %s", strerror(errno));
		return -errno;
	}
	if (unlink(s->path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove the stale control socket %s: %s", s->path,
			 strerror(errno));
		return -errno;
	}
	mask = umask(0077);	/* no window in which others may connect */
	ret = bind(s->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ? -errno : 0;
	umask(mask);
	if (ret) {
		snprintf(err, errlen, "cannot bind the control socket %s: %s", s->path,
			 strerror(-ret));
		return ret;
	}
	if (s->group != (gid_t)-1 &&
	    (chown(s->path, 0, s->group) < 0 || chmod(s->path, 0660) < 0)) {
		ret = -errno;
		snprintf(err, errlen, "cannot give the control socket %s to group %s: %s",
			 s->path, CTL_GROUP, strerror(-ret));
		return ret;
	}
	if (s->group == (gid_t)-1 && chmod(s->path, 0600) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot set the mode of %s: %s", s->path, strerror(-ret));
		return ret;
	}
	return 0;
}

int ctl_server_open(struct ctl_server **out, const char *ifname, const struct ctl_verb *verbs,
		    size_t n_verbs, void *ctx, pid_t *holder, char *err, size_t errlen)
{
	struct ctl_server *s;
	uint64_t netns = 0;
	int ret, i;

	*out = NULL;
	if (holder)
		*holder = 0;
	err[0] = '\0';
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->lock_fd = s->fd = s->ep = -1;
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		s->c[i].fd = -1;
	s->verbs = verbs;
	s->n_verbs = n_verbs;
	s->ctx = ctx;
	s->group = ctl_group_gid();
	ret = ctl_netns_id(&netns);
	if (ret) {
		snprintf(err, errlen, "cannot read this network namespace's id: %s",
			 strerror(-ret));
		goto fail;
	}
	ret = ctl_path(ifname, netns, ".sock", s->path, sizeof(s->path));
	if (!ret)
		ret = ctl_path(ifname, netns, ".lock", s->lock_path, sizeof(s->lock_path));
	if (ret) {
		snprintf(err, errlen, "bad interface name for the control socket: %s", ifname);
		goto fail;
	}
	ret = check_dir(err, errlen);
	if (ret)
		goto fail;
	ret = take_lock(s, holder, err, errlen);
	if (ret)
		goto fail;
	ret = bind_socket(s, err, errlen);
	if (ret)
		goto fail;
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->ep < 0) {
		ret = -errno;
		snprintf(err, errlen, "epoll_create1: %s", strerror(-ret));
		goto fail;
	}
	*out = s;
	return 0;
fail:
	ctl_server_close(s);
	return ret;
}

int ctl_server_listen(struct ctl_server *s)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = CTL_LISTENER };

	if (listen(s->fd, CTL_BACKLOG) < 0)
		return -errno;
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, s->fd, &ev) < 0)
		return -errno;
	s->listening = true;
	return 0;
}

int ctl_server_fd(const struct ctl_server *s)
{
	return s->ep;
}

const char *ctl_server_path(const struct ctl_server *s)
{
	return s->path;
}

/* ---- clients ---- */

/* Discard what the client sent and we will not read: closing a Unix socket
 * with unread input resets the connection, and the client would lose the
 * error line it is owed. */
static void drain(int fd)
{
	char buf[1024];
	int i;

	for (i = 0; i < 64 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0; i++)
		;
}

static void client_close(struct ctl_server *s, struct ctl_client *c)
{
	if (c->fd < 0)
		return;
	drain(c->fd);
	epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	sb_free(&c->out);
}

/* One line to a socket we are about to close; whatever it takes. */
static void say_and_close(int fd, const char *msg)
{
	drain(fd);
	if (send(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* gone or full: closing is all that is left */
	}
	close(fd);
}

/* Register for what c waits for: input until it is being closed, room to
 * write while output is pending. */
static void client_events(struct ctl_server *s, struct ctl_client *c)
{
	struct epoll_event ev = { .data.u64 = CTL_KEY(c, c - s->c) };

	ev.events = (c->closing ? 0 : EPOLLIN) | (c->out_off < c->out.len ? EPOLLOUT : 0);
	if (ev.events == c->events)
		return;
	if (epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
		client_close(s, c);
		return;
	}
	c->events = ev.events;
}

/* Write what the socket takes; close when done and closing. */
static void client_flush(struct ctl_server *s, struct ctl_client *c)
{
	ssize_t n;

	while (c->out_off < c->out.len) {
		n = send(c->fd, c->out.s + c->out_off, c->out.len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			client_close(s, c);	/* EPIPE, ECONNRESET: the client left */
			return;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out.len) {
		sb_reset(&c->out);
		c->out_off = 0;
		if (c->closing) {
			client_close(s, c);
			return;
		}
	}
	client_events(s, c);
}

static const struct ctl_verb *find_verb(const struct ctl_server *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n_verbs; i++)
		if (!strcmp(s->verbs[i].name, name))
			return &s->verbs[i];
	return NULL;
}

static void unknown_verb(const struct ctl_server *s, const char *verb, bool json,
			 struct strbuf *out)
{
	struct strbuf msg;
	size_t i;

	sb_init(&msg);
	sb_printf(&msg, "unknown command '%s' (expected ", verb);
	for (i = 0; i < s->n_verbs; i++)
		sb_printf(&msg, "%s%s", s->verbs[i].name,
			  i + 2 == s->n_verbs ? " or " : i + 1 == s->n_verbs ? "" : ", ");
	sb_puts(&msg, ")");
	report_error(out, msg.oom ? "unknown command" : sb_str(&msg), json);
	sb_free(&msg);
}

/* Answer one request line (line[len], no '\n') into c->out. */
static void client_request(struct ctl_server *s, struct ctl_client *c, const char *line,
			   size_t len)
{
	char buf[CTL_MAX_REQUEST + 1];
	const struct ctl_verb *v;
	struct ctl_request req;
	struct strbuf ans;
	const char *why;
	int i, args = 0;

	memcpy(buf, line, len);
	sb_init(&ans);
	s->st.requests++;
	if (ctl_parse_request(buf, len, &req, &why)) {
		s->st.bad_requests++;
		report_error(&ans, why, false);
	} else if (!(v = find_verb(s, req.verb))) {
		s->st.bad_requests++;
		unknown_verb(s, req.verb, req.json, &ans);
	} else {
		for (i = 0; i < req.argc; i++)
			args += strcmp(req.argv[i], "json") != 0;
		if (args > v->max_args) {
			s->st.bad_requests++;
			report_error(&ans, "bad request (expected: <command> [json])", req.json);
		} else if (!ctl_peer_may(&c->peer, v->perm)) {
			s->st.denied++;
			report_error(&ans,
				     v->perm == CTL_PERM_ADMIN
					     ? "permission denied: this command is for root only"
					     : "permission denied: the skiffd control socket is for "
					       "root and group " CTL_GROUP,
				     req.json);
		} else if (v->take && c->requests) {
			s->st.bad_requests++;
			report_error(&ans, "bad request: it must be the first on a connection",
				     req.json);
		} else if (v->take && v->take(s->ctx, &req, c->fd, &c->peer, &ans)) {
			c->taken = true;
			sb_free(&ans);
			return;
		} else if (!v->take) {
			v->fn(s->ctx, &req, &ans);
		}
	}
	if (ans.oom) {
		sb_free(&ans);
		report_error(&ans, "out of memory", req.json);
	}
	sb_puts(&c->out, sb_str(&ans));
	sb_free(&ans);
	c->answered = true;
	c->requests++;
}

/* Frame and answer the complete lines c->in holds; false once c is to be
 * closed. */
static bool client_answer(struct ctl_server *s, struct ctl_client *c)
{
	size_t len, used;
	char msg[96];

	while (!c->closing) {
		switch (ctl_frame_next(c->in, c->in_len, c->eof, &len, &used)) {
		case CTL_FRAME_MORE:
			return true;
		case CTL_FRAME_NUL:
			s->st.requests++;
			s->st.bad_requests++;
			report_error(&c->out, "bad request: it contains a NUL byte", false);
			c->closing = true;
			break;
		case CTL_FRAME_TOO_LONG:
			s->st.requests++;
			s->st.bad_requests++;
			snprintf(msg, sizeof(msg), "bad request: longer than %d bytes",
				 CTL_MAX_REQUEST - 1);
			report_error(&c->out, msg, false);
			c->closing = true;
			break;
		case CTL_FRAME_LINE:
			if (c->requests == CTL_MAX_PIPELINE) {
				s->st.requests++;
				s->st.bad_requests++;
				snprintf(msg, sizeof(msg),
					 "too many requests on one connection (at most %d)",
					 CTL_MAX_PIPELINE);
				report_error(&c->out, msg, false);
				c->closing = true;
				break;
			}
			client_request(s, c, c->in, len);
			if (c->taken) {
				/* the connection is the verb's now */
				epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
				c->fd = -1;
				sb_free(&c->out);
				return false;
			}
			memmove(c->in, c->in + used, c->in_len - used);
			c->in_len -= used;
			c->deadline_ms = ms_now() + CTL_REQUEST_TIMEOUT_MS;
			break;
		}
	}
	return false;
}

/* Read what the client sent, answer each complete line; once every line
 * received is answered and nothing partial is left, the conversation is
 * over. */
static void client_read(struct ctl_server *s, struct ctl_client *c)
{
	bool drained = false;
	ssize_t n;

	for (;;) {
		if (!c->eof && c->in_len < sizeof(c->in)) {
			n = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno != EAGAIN) {
				client_close(s, c);
				return;
			}
			if (n < 0)
				drained = true;
			else if (n == 0)
				c->eof = true;
			else
				c->in_len += (size_t)n;
		}
		if (!client_answer(s, c) || drained || c->eof)
			break;
	}
	if (c->fd < 0)
		return;	/* taken */
	if ((c->answered || c->eof) && !c->in_len)
		c->closing = true;
	if (c->closing)
		c->deadline_ms = ms_now() + CTL_WRITE_TIMEOUT_MS;
	if (c->out.oom) {
		client_close(s, c);
		return;
	}
	client_flush(s, c);
}

/* A slot for a new client: a free one, else that of the oldest client that
 * has not had an answer yet (told why it goes), else none (-1). */
static int client_slot(struct ctl_server *s)
{
	int i, old = -1;

	for (i = 0; i < CTL_MAX_CLIENTS; i++) {
		if (s->c[i].fd < 0)
			return i;
		if (!s->c[i].answered && !s->c[i].closing &&
		    (old < 0 || s->c[i].seq < s->c[old].seq))
			old = i;
	}
	if (old >= 0) {
		s->st.evicted++;
		epoll_ctl(s->ep, EPOLL_CTL_DEL, s->c[old].fd, NULL);
		say_and_close(s->c[old].fd, "error: too many control clients: the oldest idle "
					    "connection (this one) is closed\n");
		s->c[old].fd = -1;
		sb_free(&s->c[old].out);
	}
	return old;
}

static void accept_clients(struct ctl_server *s)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ctl_peer peer;
	struct ctl_client *c;
	int fd, i, n;

	for (n = 0; n < CTL_ACCEPT_BURST; n++) {
		fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;	/* EAGAIN: none left; EMFILE and such: next time */
		/* a peer allowed nothing is still served: each request is
		 * answered "permission denied" (client_request) */
		if (ctl_peer_get(fd, s->group, &peer)) {
			s->st.peer_unknown++;
			close(fd);
			continue;
		}
		i = client_slot(s);
		if (i < 0) {
			s->st.turned_away++;
			say_and_close(fd, "error: too many control clients, try again\n");
			continue;
		}
		c = &s->c[i];
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->peer = peer;
		c->seq = ++s->accepted;	/* not the time: many arrive in one ms */
		s->st.accepted++;
		c->deadline_ms = ms_now() + CTL_REQUEST_TIMEOUT_MS;
		c->events = EPOLLIN;
		sb_init(&c->out);
		ev.data.u64 = CTL_KEY(c, i);
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			c->fd = -1;
		}
	}
}

static void expire_clients(struct ctl_server *s)
{
	int64_t now = ms_now();
	char msg[96];
	int i;

	for (i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = &s->c[i];

		if (c->fd < 0 || now < c->deadline_ms)
			continue;
		if (c->closing) {
			s->st.write_timeouts++;
			client_close(s, c);	/* does not read its answer */
			continue;
		}
		s->st.timeouts++;
		snprintf(msg, sizeof(msg), "error: no complete request within %d ms\n",
			 CTL_REQUEST_TIMEOUT_MS);
		epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
		say_and_close(c->fd, msg);
		c->fd = -1;
		sb_free(&c->out);
	}
}

int ctl_server_timeout_ms(const struct ctl_server *s)
{
	int64_t now = ms_now(), next = INT64_MAX;
	int i;

	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		if (s->c[i].fd >= 0 && s->c[i].deadline_ms < next)
			next = s->c[i].deadline_ms;
	if (next == INT64_MAX)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

void ctl_server_run(struct ctl_server *s)
{
	struct epoll_event ev[16];
	struct ctl_client *c;
	int n, i;

	n = epoll_wait(s->ep, ev, 16, 0);
	for (i = 0; i < n; i++) {
		if (ev[i].data.u64 == CTL_LISTENER) {
			accept_clients(s);
			continue;
		}
		c = &s->c[CTL_KEY_SLOT(ev[i].data.u64)];
		if (c->fd < 0 || CTL_KEY(c, c - s->c) != ev[i].data.u64)
			continue;	/* closed earlier in this batch (and maybe reused) */
		if (ev[i].events & EPOLLOUT)
			client_flush(s, c);
		if (c->fd >= 0 && (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->closing)
			client_read(s, c);
		else if (c->fd >= 0 && (ev[i].events & (EPOLLHUP | EPOLLERR)))
			client_close(s, c);
	}
	expire_clients(s);
}

const struct ctl_server_stats *ctl_server_stats(const struct ctl_server *s)
{
	return &s->st;
}

void ctl_server_close(struct ctl_server *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		client_close(s, &s->c[i]);
	if (s->fd >= 0) {
		unlink(s->path);	/* ours: we hold the lock */
		close(s->fd);
	}
	if (s->ep >= 0)
		close(s->ep);
	if (s->lock_fd >= 0) {
		unlink(s->lock_path);	/* while still holding it (see take_lock) */
		close(s->lock_fd);
	}
	free(s);
}
