/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The control channel between skiffd and skiffctl, and the small string
 * builder both use to produce answers (text and JSON).
 *
 * Protocol.  skiffd listens on the abstract Unix stream socket
 * "\0skiff/<ifname>" (abstract names live in the network namespace and
 * vanish with the process, so the socket doubles as the single-instance
 * lock: a second skiffd on the same interface gets EADDRINUSE).  It binds
 * the name first thing and listens only when fully up, so a listening name
 * means a ready daemon.  A client connects and sends one line
 *
 *	<command> [json]\n
 *
 * with command one of status, stats, neigh, sockets.  The daemon writes the
 * whole answer (human-readable text, or one JSON object when the second word
 * is "json") and closes the connection.  A request the daemon cannot serve
 * is answered with a text line starting "error: " (or, in JSON mode, with
 * {"error": "..."}).  Requests and answers are at most CTL_MAX_REQUEST and
 * (practically) a few hundred KiB; a client that does not send its line
 * within CTL_IO_TIMEOUT_MS is dropped.
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

#define CTL_NAME_PREFIX		"skiff/"	/* abstract name: "\0skiff/<ifname>" */
#define CTL_MAX_REQUEST		256
#define CTL_IO_TIMEOUT_MS	1000
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

/* The abstract address of the daemon serving ifname. */
int ctl_addr(const char *ifname, struct sockaddr_un *sun, socklen_t *len);

/*
 * Bind the control socket of ifname: the single-instance lock, taken before
 * anything touches the interface.  Returns the fd, or -EADDRINUSE when
 * another skiffd holds it (then *holder is its pid, or 0 when it could not
 * be learned: a skiffd still starting up does not accept yet), or -errno.
 */
int ctl_bind(const char *ifname, pid_t *holder);

/*
 * Start accepting on a bound control socket: skiffd does this last, once
 * every queue is served, so "the name is listening" (Flags 00010000 in
 * /proc/net/unix, or a connect() that succeeds) means "ready".  0 or -errno.
 */
int ctl_listen(int fd);

/* Connect to the daemon of ifname: fd, or -errno (-ECONNREFUSED: none). */
int ctl_connect(const char *ifname);

/* Read one request line (without the newline) from fd within the timeout.
 * 0, or -errno (-EPROTO: no complete line). */
int ctl_read_request(int fd, char *buf, size_t len);

/* Write all of buf to fd within the timeout.  0 or -errno. */
int ctl_write_all(int fd, const char *buf, size_t len);

/* Send "<cmd>[ json]\n" to the daemon of ifname and read the whole answer
 * into out.  0 or -errno. */
int ctl_request(const char *ifname, const char *cmd, bool json, struct strbuf *out);

/*
 * The interfaces that have a skiffd in this network namespace, from the
 * "@skiff/<ifname>" entries of /proc/net/unix (which shows the reader's
 * namespace): only the ready (listening) ones unless starting is true, when
 * only those still starting up (bound, not listening yet) are listed.
 * Returns how many (at most max), or -errno.
 */
int ctl_find_daemons(char names[][IFNAMSIZ], int max, bool starting);

#endif /* SKIFF_CONTROL_H */
