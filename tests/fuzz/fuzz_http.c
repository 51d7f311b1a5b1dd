// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer harness for the HTTP/1.1 request parser (user/apps/http.c):
 * the input is a byte stream as a connection delivers it, parsed request
 * after request as the server does with pipelining.  Checked for each
 * request: it takes at most the bytes given; a servable request is GET or
 * HEAD, HTTP/1.0 or 1.1, with a decoded path that is relative, normalised
 * and never climbs (no "..", "." or empty segment, no NUL); a request
 * parsed from exactly the bytes it took gives the same result.  The whole
 * input is also decoded as a path with a small and a full-size buffer.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/http.h"

#define FZ_CHECK(cond)                                                                   \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "fuzz_http: check failed: %s (%s:%d)\n", #cond, \
				__FILE__, __LINE__);                                     \
			abort();                                                         \
		}                                                                        \
	} while (0)

/* A decoded path: relative, no empty, "." or ".." segment, NUL-terminated in cap. */
static void check_path(const char *path, size_t cap)
{
	size_t len = strnlen(path, cap), b = 0, i;

	FZ_CHECK(len < cap);
	if (!len)
		return;
	FZ_CHECK(path[0] != '/' && path[len - 1] != '/');
	for (i = 0; i <= len; i++) {
		if (i < len && path[i] != '/')
			continue;
		FZ_CHECK(i > b);	/* no empty segment */
		FZ_CHECK(!(i - b == 1 && path[b] == '.'));
		FZ_CHECK(!(i - b == 2 && path[b] == '.' && path[b + 1] == '.'));
		b = i + 1;
	}
}

static void check_request(const struct http_request *req)
{
	FZ_CHECK(req->status == 0 || (req->status >= 400 && req->status <= 505));
	if (req->status)
		return;
	FZ_CHECK(req->method == HTTP_M_GET || req->method == HTTP_M_HEAD);
	FZ_CHECK(req->version == 10 || req->version == 11);
	check_path(req->path, sizeof(req->path));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_request req, again;
	static char path[HTTP_MAX_URI + 1];
	char *buf = malloc(size ? size : 1), small[16];
	size_t off = 0, n;
	int rounds = 0;

	FZ_CHECK(buf);
	/* an exact-size copy, so ASan sees any read past the end */
	memcpy(buf, data, size);
	while (off < size && rounds++ < 200) {
		n = http_parse_request(buf + off, size - off, &req);
		if (!n) {
			FZ_CHECK(size - off < HTTP_MAX_HEADER);
			break;
		}
		FZ_CHECK(n <= size - off);
		check_request(&req);
		if (!req.status || req.keep_alive) {
			/* complete at n bytes: the same request from exactly those */
			FZ_CHECK(http_parse_request(buf + off, n, &again) == n);
			FZ_CHECK(again.status == req.status && again.method == req.method &&
				 again.version == req.version && again.keep_alive == req.keep_alive);
			FZ_CHECK(!strcmp(again.path, req.path));
		}
		if (!req.status)
			(void)http_content_type(req.path);
		off += n;
	}
	/* a raw NUL never reaches the decoder (the request line refuses
	 * bytes <= 0x20), so only inputs without one are its domain */
	if (!memchr(buf, 0, size)) {
		if (!http_decode_path(buf, size, path, sizeof(path)))
			check_path(path, sizeof(path));
		if (!http_decode_path(buf, size, small, sizeof(small)))
			check_path(small, sizeof(small));
	}
	free(buf);
	return 0;
}
