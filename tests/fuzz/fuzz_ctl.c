// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer harness for the control socket's protocol (user/cmd/control.c):
 * the input is what a local client writes, cut into reads by its first
 * byte.  ctl_frame_next() must frame it without reading past what arrived,
 * and ctl_parse_request() must turn every line into a verb and arguments
 * inside that line, or one reason for the client, never crash.  The same
 * checks the daemon relies on: a line has no '\n' and no NUL, a verb is
 * [a-z0-9_-] and at most CTL_MAX_VERB bytes, at most CTL_MAX_ARGS
 * arguments, every argument a non-empty word of the line.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/control.h"

#define FZ_CHECK(cond)                                                                  \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "fuzz_ctl: check failed: %s (%s:%d)\n", #cond, \
				__FILE__, __LINE__);                                    \
			abort();                                                        \
		}                                                                       \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_line(const char *buf, size_t len)
{
	char *line = malloc(len + 1); /* exact size: ASan sees any overread */
	struct ctl_request req;
	const char *why = NULL;
	int i, rc;
	size_t k;

	FZ_CHECK(line);
	memcpy(line, buf, len);
	line[len] = '\0';
	FZ_CHECK(!memchr(line, '\n', len) && !memchr(line, '\0', len));
	rc = ctl_parse_request(line, len, &req, &why);
	if (rc) {
		FZ_CHECK(why && why[0] && !strchr(why, '\n'));
	} else {
		k = strlen(req.verb);
		FZ_CHECK(k >= 1 && k <= CTL_MAX_VERB);
		for (; k--;)
			FZ_CHECK((req.verb[k] >= 'a' && req.verb[k] <= 'z') ||
				 (req.verb[k] >= '0' && req.verb[k] <= '9') || req.verb[k] == '_' ||
				 req.verb[k] == '-');
		FZ_CHECK(req.argc >= 0 && req.argc <= CTL_MAX_ARGS);
		for (i = 0; i < req.argc; i++) {
			FZ_CHECK(req.argv[i] >= line && req.argv[i] < line + len);
			FZ_CHECK(req.argv[i][0] && !strpbrk(req.argv[i], " \t"));
		}
	}
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t chunk = size ? (size_t)data[0] % 64 + 1 : 1, have = 0, off = 0, line_len, used;
	const uint8_t *in = size ? data + 1 : data;
	size_t n = size ? size - 1 : 0;
	char *buf = malloc(n ? n : 1);
	enum ctl_frame f;
	bool eof;

	FZ_CHECK(buf);
	/* the daemon's loop: read a chunk, take every whole line, keep the rest */
	while (off < n || have) {
		size_t take = n - off < chunk ? n - off : chunk;

		memcpy(buf + have, in + off, take);
		have += take;
		off += take;
		eof = off == n;
		for (;;) {
			f = ctl_frame_next(buf, have, eof, &line_len, &used);
			if (f == CTL_FRAME_MORE)
				break;
			if (f != CTL_FRAME_LINE) {
				/* NUL or too long: the daemon answers and hangs up */
				FZ_CHECK(f == CTL_FRAME_NUL || f == CTL_FRAME_TOO_LONG);
				have = 0;
				off = n;
				break;
			}
			FZ_CHECK(used >= 1 && used <= have && line_len <= used &&
				 line_len < CTL_MAX_REQUEST);
			check_line(buf, line_len);
			memmove(buf, buf + used, have - used);
			have -= used;
		}
		if (eof) {
			FZ_CHECK(f == CTL_FRAME_MORE || have == 0);
			break;
		}
		if (have >= CTL_MAX_REQUEST)
			FZ_CHECK(0); /* framing must have said TOO_LONG */
	}
	free(buf);
	return 0;
}
