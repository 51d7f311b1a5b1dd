/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The control channel between skiffd and skiffctl: where the socket lives,
 * how requests are framed and parsed, who may send which verb, the client
 * side, and the small string builder both ends use for answers (text and
 * JSON).  The daemon's event loop is in cmd/ctl_server.h.
 *
 * Where.  skiffd serves the Unix stream socket
 *
 *	/run/skiff/<ifname>.<netns>.sock
 *
 * where <netns> is the inode number of its network namespace
 * (stat /proc/self/ns/net), so daemons on equally named interfaces in
 * different namespaces (which share /run) never meet, and skiffctl finds
 * the daemon of an interface in its own namespace without being told a
 * path.  /run/skiff is a directory owned by root, mode 0755 (skiffd refuses
 * one that is not); the socket is mode 0660 root:skiff when a group "skiff"
 * exists, else 0600 root.  The single-instance lock is a flock() on
 * /run/skiff/<ifname>.<netns>.lock (root-only, mode 0600), which holds the
 * holder's pid; nobody but root can create, hold or replace either file.  A
 * socket file left by a killed skiffd is removed by the next one once it
 * holds the lock.  skiffd binds the socket early and listens only when fully
 * up, so "listening" (Flags 00010000 in /proc/net/unix) means "ready".
 *
 * Who.  Every connection's peer is checked with SO_PEERCRED (and
 * SO_PEERGROUPS): each verb has a class (enum ctl_perm), and
 * ctl_peer_may() is the whole policy (docs/security.md).
 *
 * Protocol.  A request is one line of printable ASCII, at most
 * CTL_MAX_REQUEST bytes with its '\n' (a '\r' before it is ignored):
 *
 *	<verb> [arg ...]\n
 *
 * today: status, stats, neigh, sockets, routes, each with the optional
 * argument "json".  The daemon answers each complete line in order (several
 * lines in one write get one answer each), with human-readable text or, for
 * "json", one JSON object; a request it cannot serve gets one line starting
 * "error: " (in JSON mode {"error": "..."}).  When it has answered every
 * line received and holds no partial one, it closes the connection (so a
 * client reads to EOF).  A NUL byte or an over-long line is answered with
 * one error line and the connection is closed (the stream cannot be
 * resynchronised).  A client that has not sent a complete line within
 * CTL_REQUEST_TIMEOUT_MS is told so and dropped; one that does not read its
 * answer within CTL_WRITE_TIMEOUT_MS is dropped.  Verbs that keep a
 * connection open (application attach) are to be added as their own
 * class and verbs, with the same framing.
 */
#ifndef SKIFF_CONTROL_H
#define SKIFF_CONTROL_H

#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#define CTL_DIR			"/run/skiff"
#define CTL_GROUP		"skiff"		/* may read (and attach: security.md) */
#define CTL_MAX_REQUEST		256		/* one request line, '\n' included */
#define CTL_MAX_ARGS		8
#define CTL_MAX_VERB		31
#define CTL_REQUEST_TIMEOUT_MS	1000		/* connect -> complete line */
#define CTL_WRITE_TIMEOUT_MS	5000		/* answer -> fully read */
#define CTL_CLIENT_TIMEOUT_MS	5000		/* skiffctl's wait for the answer */
#define CTL_MAX_CLIENTS		32		/* served at once by skiffd */
#define CTL_MAX_DAEMONS		64

/* A growable NUL-terminated string; on allocation failure it sets oom and
 * keeps what it had. */
struct strbuf {
	char *s;
	size_t len;
	size_t cap;
	bool oom;
};

void sb_init(struct strbuf *sb);
void sb_free(struct strbuf *sb);
void sb_reset(struct strbuf *sb);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap);
void sb_puts(struct strbuf *sb, const char *s);
/* s as a JSON string literal, quotes included (RFC 8259 section 7). */
void sb_json_str(struct strbuf *sb, const char *s);
/* Drop a trailing ',' (JSON writers emit one after every member). */
void sb_trim_comma(struct strbuf *sb);
/* The text of sb (never NULL). */
const char *sb_str(const struct strbuf *sb);

/* ---- where ---- */

/* The inode number of the caller's network namespace.  0 or -errno. */
int ctl_netns_id(uint64_t *id);

/* CTL_DIR "/<ifname>.<netns>" + suffix (".sock" or ".lock") into buf.
 * 0, -EINVAL (bad ifname) or -ENAMETOOLONG. */
int ctl_path(const char *ifname, uint64_t netns, const char *suffix, char *buf, size_t len);

/* ---- framing and parsing ---- */

enum ctl_frame {
	CTL_FRAME_MORE,		/* no complete line yet: read more */
	CTL_FRAME_LINE,		/* a line: *line_len bytes, *used with its '\n' */
	CTL_FRAME_TOO_LONG,	/* no '\n' within CTL_MAX_REQUEST bytes */
	CTL_FRAME_NUL,		/* a NUL byte before the '\n' */
};

/*
 * The next request in buf[0..len): a line ends at '\n' (a '\r' before it is
 * not part of it).  With eof, bytes after the last '\n' count as a last
 * line.  Never reads past len.
 */
enum ctl_frame ctl_frame_next(const char *buf, size_t len, bool eof, size_t *line_len,
			      size_t *used);

struct ctl_request {
	char verb[CTL_MAX_VERB + 1];
	char *argv[CTL_MAX_ARGS];	/* point into the caller's line */
	int argc;
	bool json;			/* an argument was "json" */
};

/*
 * Split a line (no '\n'; modified in place) into verb and arguments
 * separated by spaces or tabs.  0, or -EINVAL with *why set to a message
 * for the client (empty, non-printable byte, verb too long or not
 * [a-z0-9_-], too many arguments).
 */
int ctl_parse_request(char *line, size_t len, struct ctl_request *req, const char **why);

/* ---- who ---- */

enum ctl_perm {
	CTL_PERM_READ,		/* status, counters, tables: root or group skiff */
	CTL_PERM_ATTACH,	/* an application's own sockets: root or group skiff */
	CTL_PERM_ADMIN,		/* the daemon's configuration or life: root only */
};

struct ctl_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	bool in_group;		/* primary or supplementary group is CTL_GROUP */
};

/* Whether peer may use a verb of class perm (docs/security.md). */
bool ctl_peer_may(const struct ctl_peer *peer, enum ctl_perm perm);

/* The credentials of the process at the other end of the connected socket
 * fd; group is the gid of CTL_GROUP or -1 when there is none.  0 or -errno. */
int ctl_peer_get(int fd, gid_t group, struct ctl_peer *peer);

/* The gid of CTL_GROUP, or (gid_t)-1 when the system has no such group. */
gid_t ctl_group_gid(void);

/* ---- the client (skiffctl) ---- */

/* Connect to the daemon of ifname in this namespace: fd, or -errno
 * (-ENOENT/-ECONNREFUSED: none or not ready; -EACCES: not allowed). */
int ctl_connect(const char *ifname);

/* Send "<cmd>[ json]\n" to the daemon of ifname and read the whole answer
 * into out within CTL_CLIENT_TIMEOUT_MS.  0 or -errno. */
int ctl_request(const char *ifname, const char *cmd, bool json, struct strbuf *out);

/*
 * The interfaces that have a skiffd in this network namespace, from the
 * CTL_DIR sockets of our namespace listed in /proc/net/unix (which shows the
 * reader's namespace): only the ready (listening) ones unless starting is
 * true, when only those still starting up (bound, not listening yet) are
 * listed.  Returns how many (at most max), or -errno.
 */
int ctl_find_daemons(char names[][IFNAMSIZ], int max, bool starting);

#endif /* SKIFF_CONTROL_H */
