// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The control protocol's pure parts (user/cmd/control.c): framing of
 * request lines (split reads, several lines in one read, NUL bytes,
 * over-long lines, a last line at EOF), parsing into verb and arguments,
 * the socket path per interface and namespace, and who may use which class
 * of verb.  The daemon's event loop over them is tested in
 * tests/integration/test_control.py.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmd/control.h"

/* ---- framing ---- */

static void a_line_is_framed_without_its_newline(void **state)
{
	size_t len, used;

	(void)state;
	assert_int_equal(ctl_frame_next("status\n", 7, false, &len, &used), CTL_FRAME_LINE);
	assert_int_equal(len, 6);
	assert_int_equal(used, 7);
	/* CRLF from telnet/nc -C: the '\r' is not part of the request */
	assert_int_equal(ctl_frame_next("stats json\r\n", 12, false, &len, &used), CTL_FRAME_LINE);
	assert_int_equal(len, 10);
	assert_int_equal(used, 12);
}

static void a_partial_line_waits_for_more_unless_eof(void **state)
{
	size_t len, used;

	(void)state;
	assert_int_equal(ctl_frame_next("stat", 4, false, &len, &used), CTL_FRAME_MORE);
	assert_int_equal(used, 0);
	assert_int_equal(ctl_frame_next("", 0, false, &len, &used), CTL_FRAME_MORE);
	/* EOF: what is there is the last line */
	assert_int_equal(ctl_frame_next("stat", 4, true, &len, &used), CTL_FRAME_LINE);
	assert_int_equal(len, 4);
	assert_int_equal(used, 4);
	assert_int_equal(ctl_frame_next("", 0, true, &len, &used), CTL_FRAME_MORE);
}

static void several_lines_in_one_read_come_out_one_by_one(void **state)
{
	const char buf[] = "status json\nroutes\n\nneigh";
	size_t off = 0, len, used;
	const char *want[] = { "status json", "routes", "" };
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		assert_int_equal(ctl_frame_next(buf + off, sizeof(buf) - 1 - off, false, &len, &used),
				 CTL_FRAME_LINE);
		assert_int_equal(len, strlen(want[i]));
		assert_memory_equal(buf + off, want[i], len);
		off += used;
	}
	assert_int_equal(ctl_frame_next(buf + off, sizeof(buf) - 1 - off, false, &len, &used),
			 CTL_FRAME_MORE);
}

static void a_nul_byte_is_a_framing_error_even_before_the_newline(void **state)
{
	size_t len, used;

	(void)state;
	assert_int_equal(ctl_frame_next("sta\0tus\n", 8, false, &len, &used), CTL_FRAME_NUL);
	assert_int_equal(ctl_frame_next("sta\0", 4, false, &len, &used), CTL_FRAME_NUL);
	/* a NUL after the first line does not spoil it */
	assert_int_equal(ctl_frame_next("status\n\0", 8, false, &len, &used), CTL_FRAME_LINE);
	assert_int_equal(len, 6);
}

static void a_line_longer_than_the_limit_is_too_long(void **state)
{
	char buf[CTL_MAX_REQUEST + 8];
	size_t len, used;

	(void)state;
	memset(buf, 'a', sizeof(buf));
	/* 255 bytes and '\n': the longest request there is */
	buf[CTL_MAX_REQUEST - 1] = '\n';
	assert_int_equal(ctl_frame_next(buf, CTL_MAX_REQUEST, false, &len, &used), CTL_FRAME_LINE);
	assert_int_equal(len, CTL_MAX_REQUEST - 1);
	/* 256 bytes without one: never a request, whatever follows */
	buf[CTL_MAX_REQUEST - 1] = 'a';
	buf[CTL_MAX_REQUEST] = '\n';
	assert_int_equal(ctl_frame_next(buf, CTL_MAX_REQUEST, false, &len, &used),
			 CTL_FRAME_TOO_LONG);
	assert_int_equal(ctl_frame_next(buf, sizeof(buf), false, &len, &used), CTL_FRAME_TOO_LONG);
	assert_int_equal(ctl_frame_next(buf, CTL_MAX_REQUEST - 1, false, &len, &used),
			 CTL_FRAME_MORE);
}

/* ---- parsing ---- */

static int parse(const char *text, struct ctl_request *req, const char **why)
{
	static char line[CTL_MAX_REQUEST + 1];
	size_t n = strlen(text);

	memcpy(line, text, n + 1);
	*why = NULL;
	return ctl_parse_request(line, n, req, why);
}

static void a_request_splits_into_verb_and_arguments(void **state)
{
	struct ctl_request req;
	const char *why;

	(void)state;
	assert_int_equal(parse("status", &req, &why), 0);
	assert_string_equal(req.verb, "status");
	assert_int_equal(req.argc, 0);
	assert_false(req.json);
	assert_int_equal(parse("  stats \t json  ", &req, &why), 0);
	assert_string_equal(req.verb, "stats");
	assert_int_equal(req.argc, 1);
	assert_string_equal(req.argv[0], "json");
	assert_true(req.json);
	assert_int_equal(parse("app-attach 7 udp", &req, &why), 0);
	assert_string_equal(req.verb, "app-attach");
	assert_int_equal(req.argc, 2);
	assert_string_equal(req.argv[1], "udp");
}

static void malformed_requests_are_refused_with_a_reason(void **state)
{
	static const char *const bad[] = {
		"", "   ", "Status", "st@tus", "status\x01", "status \x7f",
		"status \xc3\xa9", "a234567890123456789012345678901234567890",
		"v 1 2 3 4 5 6 7 8 9",
	};
	struct ctl_request req;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &req, &why), -EINVAL);
		assert_non_null(why);
		assert_true(strlen(why) > 10);
	}
	assert_int_equal(parse("v 1 2 3 4 5 6 7 8", &req, &why), 0);
	assert_int_equal(req.argc, CTL_MAX_ARGS);
}

/* ---- where and who ---- */

static void the_socket_path_names_interface_and_namespace(void **state)
{
	char buf[108];

	(void)state;
	assert_int_equal(ctl_path("eth0", 4026531840ULL, ".sock", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/skiff/eth0.4026531840.sock");
	assert_int_equal(ctl_path("eth0", 7, ".lock", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/skiff/eth0.7.lock");
	assert_int_equal(ctl_path("", 7, ".sock", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ctl_path("..", 7, ".sock", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ctl_path("a/b", 7, ".sock", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ctl_path("abcdefghijklmnop", 7, ".sock", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ctl_path("eth0", 7, ".sock", buf, 16), -ENAMETOOLONG);
}

static void root_may_do_all_the_group_may_read_and_attach_others_nothing(void **state)
{
	struct ctl_peer root = { .uid = 0 }, member = { .uid = 1000, .in_group = true };
	struct ctl_peer other = { .uid = 65534, .gid = 65534 };

	(void)state;
	assert_true(ctl_peer_may(&root, CTL_PERM_READ));
	assert_true(ctl_peer_may(&root, CTL_PERM_ATTACH));
	assert_true(ctl_peer_may(&root, CTL_PERM_ADMIN));
	assert_true(ctl_peer_may(&member, CTL_PERM_READ));
	assert_true(ctl_peer_may(&member, CTL_PERM_ATTACH));
	assert_false(ctl_peer_may(&member, CTL_PERM_ADMIN));
	assert_false(ctl_peer_may(&other, CTL_PERM_READ));
	assert_false(ctl_peer_may(&other, CTL_PERM_ATTACH));
	assert_false(ctl_peer_may(&other, CTL_PERM_ADMIN));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_line_is_framed_without_its_newline),
		cmocka_unit_test(a_partial_line_waits_for_more_unless_eof),
		cmocka_unit_test(several_lines_in_one_read_come_out_one_by_one),
		cmocka_unit_test(a_nul_byte_is_a_framing_error_even_before_the_newline),
		cmocka_unit_test(a_line_longer_than_the_limit_is_too_long),
		cmocka_unit_test(a_request_splits_into_verb_and_arguments),
		cmocka_unit_test(malformed_requests_are_refused_with_a_reason),
		cmocka_unit_test(the_socket_path_names_interface_and_namespace),
		cmocka_unit_test(root_may_do_all_the_group_may_read_and_attach_others_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
