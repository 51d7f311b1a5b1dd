/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * skiffd's side of the control channel (protocol and paths: control.h):
 * the single-instance lock, the listening socket, and a non-blocking event
 * loop that serves up to CTL_MAX_CLIENTS clients at once, each with its own
 * input and output buffer and deadline.  The daemon polls ctl_server_fd()
 * (an epoll fd) with its other fds and calls ctl_server_run() when it is
 * readable or ctl_server_timeout_ms() has passed; nothing in here waits.
 *
 * Verbs come from the caller's table: name, class (enum ctl_perm) and a
 * handler that appends its whole answer to a strbuf.  Handlers run on the
 * caller's thread, inside ctl_server_run().
 */
#ifndef SKIFF_CTL_SERVER_H
#define SKIFF_CTL_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cmd/control.h"

struct ctl_verb {
	const char *name;
	enum ctl_perm perm;
	int max_args;		/* arguments besides "json" */
	void (*fn)(void *ctx, const struct ctl_request *req, struct strbuf *out);
	/*
	 * Instead of fn, for a verb that keeps the connection (application
	 * attach, docs/apps.md): called for the first request on a connection
	 * with its fd and peer; returns true when it took the fd (the server
	 * forgets the client without closing or writing), false with an
	 * answer in out.
	 */
	bool (*take)(void *ctx, const struct ctl_request *req, int fd,
		     const struct ctl_peer *peer, struct strbuf *out);
};

struct ctl_server;

/* What the control loop did since start-up (docs/counters.md, "Control
 * socket"); read with ctl_server_stats() by the thread that runs it. */
struct ctl_server_stats {
	uint64_t accepted;	/* connections taken into a client slot */
	uint64_t requests;	/* request lines answered, errors included */
	uint64_t denied;	/* of those: "permission denied" (peer credentials) */
	uint64_t bad_requests;	/* malformed lines, unknown verbs, bad arguments */
	uint64_t timeouts;	/* no complete request within CTL_REQUEST_TIMEOUT_MS */
	uint64_t write_timeouts; /* answer not read within CTL_WRITE_TIMEOUT_MS */
	uint64_t evicted;	/* the oldest idle client, closed for a newcomer */
	uint64_t turned_away;	/* a newcomer closed: every slot busy being answered */
	uint64_t peer_unknown;	/* closed at once: no peer credentials (SO_PEERCRED) */
};

/*
 * Take the lock of ifname in this network namespace and bind (not listen
 * on) its socket: first thing, before skiffd touches the interface.
 * Returns 0; -EADDRINUSE when another skiffd holds the lock (*holder: its
 * pid or 0); another -errno with err set.  verbs must outlive the server.
 */
int ctl_server_open(struct ctl_server **out, const char *ifname, const struct ctl_verb *verbs,
		    size_t n_verbs, void *ctx, pid_t *holder, char *err, size_t errlen);

/* Start accepting: from now on the daemon counts as ready.  0 or -errno. */
int ctl_server_listen(struct ctl_server *s);

/* The fd to poll for POLLIN. */
int ctl_server_fd(const struct ctl_server *s);

/* Milliseconds until the next client deadline, -1 for none. */
int ctl_server_timeout_ms(const struct ctl_server *s);

/* Accept, read, answer, write and expire whatever is ready; never blocks. */
void ctl_server_run(struct ctl_server *s);

/* The counters above. */
const struct ctl_server_stats *ctl_server_stats(const struct ctl_server *s);

/* The socket's path, e.g. "/run/skiff/eth0.4026531840.sock". */
const char *ctl_server_path(const struct ctl_server *s);

/* Close every client, remove the socket and the lock file, free.  NULL ok. */
void ctl_server_close(struct ctl_server *s);

#endif /* SKIFF_CTL_SERVER_H */
