// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The built-in client (see client.h): a non-blocking connect() whose
 * completion is the first writable (or error) event, then either one HTTP/1.1
 * GET with "Connection: close" whose body is hashed as it arrives (framed by
 * Content-Length, or by EOF without one), or BYTES of the pattern sent as
 * fast as the socket takes them, a shutdown of the write side, and reading
 * until the peer's EOF (what an echo service returns is counted and hashed
 * too).  Memory is one header buffer and one chunk, whatever the size.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "apps/client.h"
#include "core/clock.h"
#include "sock/socket.h"

#define CLIENT_HDR_MAX	8192	/* response status line + header fields */
#define CLIENT_CHUNK	16384

enum client_state {
	CL_CONNECTING,
	CL_SENDING,	/* fetch: the request; send: the pattern */
	CL_HEADERS,	/* fetch: reading the response head */
	CL_BODY,	/* fetch: body; send: reading until EOF */
	CL_DONE,
};

struct client {
	struct stack *st;
	struct socket *so;
	bool fetch;
	int state;
	client_done_fn done;
	void *arg;
	uint64_t t0;
	struct client_result res;
	struct sha256 tx_hash, rx_hash;
	/* fetch */
	char req[CLIENT_MAX_PATH + 128];
	size_t req_len, req_off;
	char hdr[CLIENT_HDR_MAX];
	size_t hdr_len;
	int64_t content_length;	/* -1: until EOF */
	/* send */
	uint64_t total, sent;
	uint8_t chunk[CLIENT_CHUNK];
	size_t chunk_off, chunk_len;
};

int client_parse_url(const char *url, union inet_addr *addr, uint16_t *port, char *path,
		     size_t pathlen)
{
	char host[INET6_ADDRSTRLEN];
	const char *p, *h, *hend, *colon, *slash;
	struct in6_addr in6;
	struct in_addr in;
	unsigned long v;
	char *end;
	bool v6;
	size_t n;

	if (strncasecmp(url, "http://", 7))
		return -EINVAL;
	h = url + 7;
	slash = strchr(h, '/');
	p = slash ? slash : h + strlen(h);
	v6 = *h == '[';
	if (v6) {	/* RFC 3986 3.2.2: an IPv6 literal in brackets */
		hend = memchr(h, ']', (size_t)(p - h));
		if (!hend)
			return -EINVAL;
		h++;
		colon = hend + 1 < p ? hend + 1 : NULL;
		if (colon && *colon != ':')
			return -EINVAL;
	} else {
		colon = memchr(h, ':', (size_t)(p - h));
		hend = colon ? colon : p;
	}
	n = (size_t)(hend - h);
	if (!n || n >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	if (v6) {
		if (inet_pton(AF_INET6, host, &in6) != 1)
			return -EINVAL;
		inet_addr_set6(addr, in6.s6_addr);
		/* no unspecified, IPv4-mapped (write A.B.C.D) or multicast peer */
		if (inet_addr_is_any6(addr) || inet_addr_is4(addr) || addr->b[0] == 0xff)
			return -EINVAL;
	} else {
		if (inet_pton(AF_INET, host, &in) != 1 || !in.s_addr)
			return -EINVAL;
		inet_addr_set4(addr, in.s_addr);
	}
	*port = 80;
	if (colon) {
		if (colon + 1 == p || colon[1] < '0' || colon[1] > '9')
			return -EINVAL;
		v = strtoul(colon + 1, &end, 10);
		if (end != p || !v || v > 65535)
			return -EINVAL;
		*port = (uint16_t)v;
	}
	if (!slash)
		slash = "/";
	if (strlen(slash) >= pathlen || strlen(slash) > CLIENT_MAX_PATH)
		return -EINVAL;
	for (p = slash; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return -EINVAL;
	strcpy(path, slash);
	return 0;
}

static void client_finish(struct client *c, int err)
{
	uint8_t d[SHA256_DIGEST_LEN];

	if (c->state == CL_DONE)
		return;
	c->state = CL_DONE;
	c->res.err = err;
	c->res.ns = clock_now() - c->t0;
	sha256_final(c->fetch ? &c->rx_hash : &c->tx_hash, d);
	sha256_hex(d, c->res.sha256);
	if (!c->fetch) {
		sha256_final(&c->rx_hash, d);
		sha256_hex(d, c->res.rx_sha256);
	}
	skiff_close(c->so);
	c->so = NULL;
	if (c->done)
		c->done(&c->res, c->arg);	/* may free c */
}

/* The status line and the fields we need; 0, or -EPROTO. */
static int client_parse_head(struct client *c, size_t head_len)
{
	const char *p = c->hdr, *end = c->hdr + head_len, *nl, *colon;
	unsigned long long v;
	char *e;

	if (head_len < 12 || strncmp(p, "HTTP/1.", 7) || p[8] != ' ')
		return -EPROTO;
	c->res.http_status = (int)strtol(p + 9, &e, 10);
	if (e != p + 12 || c->res.http_status < 100)
		return -EPROTO;
	c->content_length = -1;
	for (nl = memchr(p, '\n', (size_t)(end - p)); nl && nl + 1 < end;
	     nl = memchr(p, '\n', (size_t)(end - p))) {
		p = nl + 1;
		colon = memchr(p, ':', (size_t)(end - p));
		if (!colon)
			break;
		if (colon - p == 14 && !strncasecmp(p, "content-length", 14)) {
			v = strtoull(colon + 1, &e, 10);
			c->content_length = (int64_t)v;
		} else if (colon - p == 17 && !strncasecmp(p, "transfer-encoding", 17)) {
			return -EPROTO;	/* chunked: not needed for file servers */
		}
	}
	return 0;
}

static void client_body(struct client *c, const void *data, size_t n)
{
	if (c->fetch && c->content_length >= 0 &&
	    (int64_t)(c->res.bytes + n) > c->content_length)
		n = (size_t)(c->content_length - (int64_t)c->res.bytes);
	sha256_update(&c->rx_hash, data, n);
	if (c->fetch)
		c->res.bytes += n;
	else
		c->res.rx_bytes += n;
}

/* Fill chunk with the next pattern bytes. */
static void client_refill(struct client *c)
{
	uint64_t left = c->total - c->sent, i;
	size_t n = left < sizeof(c->chunk) ? (size_t)left : sizeof(c->chunk);

	for (i = 0; i < n; i++)
		c->chunk[i] = client_pattern_byte(c->sent + i);
	c->chunk_off = 0;
	c->chunk_len = n;
}

/* Run until the socket would block; false when finished (c may be freed). */
static bool client_run(struct client *c)
{
	uint8_t buf[CLIENT_CHUNK];
	ssize_t n = -EIO;
	size_t head;
	char *eoh;

	for (;;) {
		switch (c->state) {
		case CL_SENDING:
			if (c->fetch) {
				if (c->req_off == c->req_len) {
					c->state = CL_HEADERS;
					continue;
				}
				n = skiff_send(c->so, c->req + c->req_off, c->req_len - c->req_off);
				if (n == -EAGAIN)
					return true;
				if (n < 0)
					goto fail;
				c->req_off += (size_t)n;
				continue;
			}
			if (c->chunk_off == c->chunk_len) {
				if (c->sent == c->total) {
					if (skiff_shutdown(c->so, SHUT_WR))
						goto fail;
					c->state = CL_BODY;
					continue;
				}
				client_refill(c);
			}
			n = skiff_send(c->so, c->chunk + c->chunk_off, c->chunk_len - c->chunk_off);
			if (n == -EAGAIN)
				goto read_echo;
			if (n < 0)
				goto fail;
			sha256_update(&c->tx_hash, c->chunk + c->chunk_off, (size_t)n);
			c->chunk_off += (size_t)n;
			c->sent += (uint64_t)n;
			c->res.bytes = c->sent;
			continue;
read_echo:
			/* an echo service answers while we send: keep reading, or
			 * both sides stall with full windows */
			n = skiff_recv(c->so, buf, sizeof(buf));
			if (n == -EAGAIN)
				return true;
			if (n <= 0) {
				n = n ? n : -EPIPE;	/* closed before we were done */
				goto fail;
			}
			client_body(c, buf, (size_t)n);
			continue;
		case CL_HEADERS:
			n = skiff_recv(c->so, c->hdr + c->hdr_len, sizeof(c->hdr) - 1 - c->hdr_len);
			if (n == -EAGAIN)
				return true;
			if (n <= 0) {
				n = n ? n : -EPROTO;
				goto fail;
			}
			c->hdr_len += (size_t)n;
			c->hdr[c->hdr_len] = '\0';
			eoh = strstr(c->hdr, "\r\n\r\n");
			if (!eoh) {
				if (c->hdr_len == sizeof(c->hdr) - 1) {
					n = -EPROTO;
					goto fail;
				}
				continue;
			}
			head = (size_t)(eoh + 4 - c->hdr);
			n = client_parse_head(c, head);
			if (n)
				goto fail;
			c->state = CL_BODY;
			client_body(c, c->hdr + head, c->hdr_len - head);
			if (c->content_length >= 0 && (int64_t)c->res.bytes >= c->content_length) {
				client_finish(c, 0);
				return false;
			}
			continue;
		case CL_BODY:
			n = skiff_recv(c->so, buf, sizeof(buf));
			if (n == -EAGAIN)
				return true;
			if (n < 0)
				goto fail;
			if (!n) {
				/* EOF: a fetch without Content-Length ends here; one
				 * with it must have had everything */
				if (c->fetch && c->content_length >= 0 &&
				    (int64_t)c->res.bytes < c->content_length)
					n = -EPIPE;
				client_finish(c, (int)n);
				return false;
			}
			client_body(c, buf, (size_t)n);
			if (c->fetch && c->content_length >= 0 &&
			    (int64_t)c->res.bytes >= c->content_length) {
				client_finish(c, 0);
				return false;
			}
			continue;
		default:
			return false;
		}
	}
fail:
	client_finish(c, (int)n);
	return false;
}

static void client_event(struct socket *so, uint32_t events, void *arg)
{
	struct client *c = arg;
	int err = 0;

	(void)so;
	if (c->state == CL_DONE)
		return;
	if (c->state == CL_CONNECTING) {
		if (events & SOCK_EV_ERR) {
			skiff_getsockopt(c->so, SKIFF_SO_ERROR, &err);
			client_finish(c, err ? -err : -ECONNREFUSED);
			return;
		}
		if (!(events & SOCK_EV_OUT)) {
			if (events & SOCK_EV_HUP)
				client_finish(c, -ECONNRESET);
			return;
		}
		c->state = CL_SENDING;
	}
	client_run(c);
}

static int client_start(struct client *c, const union inet_addr *addr, uint16_t port)
{
	bool v4 = inet_addr_is4(addr);
	struct sockaddr_in6 sin6;
	struct sockaddr_in sin;
	int err;

	sha256_init(&c->tx_hash);
	sha256_init(&c->rx_hash);
	err = skiff_socket_af(c->st, v4 ? AF_INET : AF_INET6, SOCK_STREAM, &c->so);
	if (err)
		return err;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = addr->w[3];
	sin.sin_port = htons(port);
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	memcpy(&sin6.sin6_addr, addr->b, 16);
	sin6.sin6_port = htons(port);
	c->t0 = clock_now();
	c->state = CL_CONNECTING;
	if (v4)
		err = skiff_connect(c->so, &sin);
	else
		err = skiff_connect(c->so, &sin6);
	if (err && err != -EINPROGRESS) {
		skiff_close(c->so);
		c->so = NULL;
		return err;
	}
	skiff_set_handler(c->so, client_event, c);
	return 0;
}

int client_fetch_start(struct stack *st, const char *url, client_done_fn done, void *arg,
		       struct client **out)
{
	char path[CLIENT_MAX_PATH + 1], host[INET6_ADDRSTRLEN + 2], hostport[INET6_ADDRSTRLEN + 10];
	union inet_addr addr;
	struct client *c;
	uint16_t port;
	int err;

	if (!out || !url)
		return -EINVAL;
	*out = NULL;
	err = client_parse_url(url, &addr, &port, path, sizeof(path));
	if (err)
		return err;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->st = st;
	c->fetch = true;
	c->done = done;
	c->arg = arg;
	/* RFC 9110 7.2: Host is the URI's authority, an IPv6 literal bracketed */
	if (inet_addr_is4(&addr)) {
		inet_ntop(AF_INET, &addr.w[3], host, sizeof(host));
	} else {
		host[0] = '[';
		inet_ntop(AF_INET6, addr.b, host + 1, sizeof(host) - 2);
		strcat(host, "]");
	}
	if (port == 80)
		snprintf(hostport, sizeof(hostport), "%s", host);
	else
		snprintf(hostport, sizeof(hostport), "%s:%u", host, port);
	c->req_len = (size_t)snprintf(c->req, sizeof(c->req),
				      "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: skiff\r\n"
				      "Accept: */*\r\nConnection: close\r\n\r\n",
				      path, hostport);
	err = client_start(c, &addr, port);
	if (err) {
		free(c);
		return err;
	}
	*out = c;
	return 0;
}

int client_send_start(struct stack *st, const union inet_addr *addr, uint16_t port,
		      uint64_t bytes, client_done_fn done, void *arg, struct client **out)
{
	struct client *c;
	int err;

	if (!out || !addr || inet_addr_is_any(addr) || !port)
		return -EINVAL;
	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->st = st;
	c->done = done;
	c->arg = arg;
	c->total = bytes;
	err = client_start(c, addr, port);
	if (err) {
		free(c);
		return err;
	}
	*out = c;
	return 0;
}

void client_free(struct client *c)
{
	if (!c)
		return;
	if (c->so)
		skiff_close(c->so);
	free(c);
}

void client_format(const struct client_result *res, int is_fetch, char *buf, size_t len)
{
	const char *kind = is_fetch ? "fetch" : "send";
	double s = (double)res->ns / 1e9;

	if (res->err) {
		snprintf(buf, len, "%s: failed after %llu bytes in %.3f s: %s", kind,
			 (unsigned long long)res->bytes, s, strerror(-res->err));
		return;
	}
	if (is_fetch)
		snprintf(buf, len, "fetch: %llu bytes in %.3f s, sha256 %s, status %d",
			 (unsigned long long)res->bytes, s, res->sha256, res->http_status);
	else
		snprintf(buf, len, "send: %llu bytes in %.3f s, sha256 %s, received %llu bytes, sha256 %s",
			 (unsigned long long)res->bytes, s, res->sha256,
			 (unsigned long long)res->rx_bytes, res->rx_sha256);
}
