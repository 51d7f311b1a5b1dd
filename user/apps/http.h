/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The built-in HTTP/1.1 static file server (`skiffd --http PORT:DIR`),
 * written against the socket API only.  GET and HEAD of regular files under
 * DIR, keep-alive and pipelining, file bodies streamed with pread() as the
 * connection drains.  The request parser and the path resolution are
 * exposed for the unit tests (tests/unit/test_http.c).
 */
#ifndef SKIFF_HTTP_H
#define SKIFF_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/stack.h"

#define HTTP_MAX_HEADER	8192	/* request line + headers, bytes (else 431 / 414) */
#define HTTP_MAX_URI	2048	/* request target, bytes (else 414) */
#define HTTP_MAX_FIELDS	100	/* header fields per request (else 431) */
#define HTTP_OUT_BUF	16384	/* per connection: response head / one file chunk */
#define HTTP_MAX_CONNS_DEFAULT	4096	/* per server and worker, until http_server_set_max_conns() */
/* Memory one HTTP connection costs (struct http_conn with its header and
 * output buffers, TCP's tcp_sock, the socket), rounded up. */
#define HTTP_CONN_MEM	(28u * 1024)

enum http_method {
	HTTP_M_GET = 1,
	HTTP_M_HEAD,
	HTTP_M_OTHER,		/* a valid token we do not serve: 405 */
};

struct http_request {
	int method;		/* enum http_method */
	int version;		/* 10 or 11 (0 when the request line was not understood) */
	int status;		/* 0: serve path; else the error status to answer */
	bool keep_alive;	/* the connection may carry another request */
	char path[HTTP_MAX_URI + 1];	/* decoded, normalised, relative to DIR ("" = DIR) */
};

/*
 * Parse one request from the start of buf.  Returns the bytes it takes
 * (> 0) with *req filled, or 0 when the request is not complete yet (and
 * still within HTTP_MAX_HEADER).  A request that cannot be served has
 * req->status set (400, 405, 414, 431, 505); when its end could not be
 * found, it takes every byte and keep_alive is false.
 */
size_t http_parse_request(const char *buf, size_t len, struct http_request *req);

/*
 * Percent-decode an origin-form path (without query) into a normalised path
 * relative to the served directory: empty and "." segments dropped, no
 * leading '/'.  -EINVAL for a bad escape, an encoded NUL or a ".." segment
 * (before or after decoding); -ENAMETOOLONG when it does not fit out.
 */
int http_decode_path(const char *target, size_t len, char *out, size_t outlen);

/*
 * Open rel (from http_decode_path) under the directory dirfd, never
 * resolving to anything outside it (symlinks included); a directory gives
 * its index.html.  0 with *fd and *size of a regular file; -ENOENT (also
 * for anything not a regular file or outside dirfd, and for a hidden path
 * component such as .htpasswd; /.well-known/ excepted), -EACCES (also for
 * a file other users may not read: skiffd runs as root).
 */
int http_open(int dirfd, const char *rel, int *fd, off_t *size);

/*
 * May dir be served?  Not /, nor a directory in or under /etc, /root,
 * /proc, /sys, /dev or /boot (symlinks resolved).  0, or -errno with the
 * reason written to why.
 */
int http_docroot_check(const char *dir, char *why, size_t whylen);

/* Content-Type for a file name, by extension. */
const char *http_content_type(const char *path);

struct http_server;

/* Serve dir on TCP port (host order) on every local address. */
int http_server_start(struct stack *st, uint16_t port, const char *dir, struct http_server **out);
void http_server_stop(struct http_server *srv);

/* At most max connections on this worker (0 means 1); at the limit the
 * server stops accepting: connections wait in the listen backlog, then
 * their SYNs are dropped (ustats http_conn_limited). */
void http_server_set_max_conns(struct http_server *srv, uint32_t max);

#define HTTP_HEADER_TIMEOUT_S	10	/* accept or a request's first byte -> its end */
#define HTTP_IDLE_TIMEOUT_S	60	/* keep-alive: a response's end -> the next request */
#define HTTP_PER_SOURCE_DEFAULT	1024	/* connections from one address per worker */

/*
 * Deadlines and the per-source cap (defaults above).  A connection that
 * has not sent a whole request header header_s seconds after it was
 * accepted or after the request's first byte, or that stays idle idle_s
 * seconds after a response, is closed (ustats http_header_timeouts,
 * http_idle_timeouts); so is one that lingers after our close longer than
 * header_s.  A connection from an address that already has per_source
 * (0: no cap) is reset at accept (http_source_limited).
 */
void http_server_set_limits(struct http_server *srv, uint32_t header_s, uint32_t idle_s,
			    uint32_t per_source);

#endif /* SKIFF_HTTP_H */
