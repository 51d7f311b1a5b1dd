// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The HTTP server's request parser and file resolution (user/apps/http.c):
 * what a client sees for every kind of request line and header block
 * (RFC 9112), pipelined requests taken one at a time, the size limits, and
 * that no path, encoded or not, and no symlink reaches outside DIR (a temp
 * directory built per test).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "apps/http.h"

static struct http_request req;

static size_t parse(const char *s)
{
	return http_parse_request(s, strlen(s), &req);
}

/* Each request of the NULL-ended list is answered with status; a failure names the request. */
static void assert_statuses(int status, const char *const *reqs)
{
	for (; *reqs; reqs++) {
		parse(*reqs);
		if (req.status != status)
			fail_msg("request %zu bytes \"%.40s\": status %d, expected %d",
				 strlen(*reqs), *reqs, req.status, status);
	}
}

static void get_is_parsed_with_path_version_and_keep_alive(void **state)
{
	const char *r = "GET /dir/file.txt?x=1 HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\n\r\n";

	(void)state;
	assert_int_equal(parse(r), strlen(r));
	assert_int_equal(req.status, 0);
	assert_int_equal(req.method, HTTP_M_GET);
	assert_int_equal(req.version, 11);
	assert_true(req.keep_alive);
	assert_string_equal(req.path, "dir/file.txt");
}

static void head_and_absolute_form_and_bare_lf_are_accepted(void **state)
{
	const char *r = "\r\nHEAD http://10.0.0.1:80/a.html HTTP/1.1\nHost: a\n\n";

	(void)state;
	assert_int_equal(parse(r), strlen(r));
	assert_int_equal(req.status, 0);
	assert_int_equal(req.method, HTTP_M_HEAD);
	assert_string_equal(req.path, "a.html");
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 27);
	assert_string_equal(req.path, "");
}

static void connection_header_and_version_decide_keep_alive(void **state)
{
	(void)state;
	parse("GET / HTTP/1.0\r\n\r\n");
	assert_int_equal(req.status, 0);
	assert_int_equal(req.version, 10);
	assert_false(req.keep_alive);
	parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
	assert_true(req.keep_alive);
	parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n");
	assert_false(req.keep_alive);
}

static void other_methods_are_405(void **state)
{
	(void)state;
	parse("POST / HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(req.status, 405);
	assert_true(req.keep_alive);
	parse("PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n");
	assert_int_equal(req.status, 405);
	assert_false(req.keep_alive);	/* the body is not read: cannot go on */
	parse("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(req.status, 405);
}

static void other_versions_are_505_and_garbage_400(void **state)
{
	(void)state;
	assert_statuses(505, (const char *const[]){
				     "GET / HTTP/2.0\r\nHost: a\r\n\r\n",
				     "GET / HTTP/1.2\r\nHost: a\r\n\r\n",
				     NULL,
			     });
	assert_statuses(400, (const char *const[]){
				     "GET / HTTP/1\r\nHost: a\r\n\r\n",
				     "GET / http/1.1\r\nHost: a\r\n\r\n",
				     "GET /\r\n\r\n",
				     "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
				     "G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
				     "GET * HTTP/1.1\r\nHost: a\r\n\r\n",
				     NULL,
			     });
	assert_false(req.keep_alive);
}

static void malformed_headers_and_missing_host_are_400(void **state)
{
	(void)state;
	assert_statuses(400, (const char *const[]){
				     "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
				     "GET / HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n",
				     "GET / HTTP/1.1\r\n\r\n",
				     "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
				     "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
				     "GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n",
				     NULL,
			     });
}

static void pipelined_requests_are_taken_one_at_a_time(void **state)
{
	const char *a = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
	const char *b = "HEAD /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	const char *c = "GET /c HTTP/1.1\r\nHo";
	char buf[512];
	size_t n, off = 0;

	(void)state;
	snprintf(buf, sizeof(buf), "%s%s%s", a, b, c);
	n = http_parse_request(buf, strlen(buf), &req);
	assert_int_equal(n, strlen(a));
	assert_string_equal(req.path, "a");
	off += n;
	n = http_parse_request(buf + off, strlen(buf) - off, &req);
	assert_int_equal(n, strlen(b));
	assert_int_equal(req.method, HTTP_M_HEAD);
	assert_string_equal(req.path, "b");
	assert_false(req.keep_alive);
	off += n;
	/* the third is incomplete: more bytes are needed */
	assert_int_equal(http_parse_request(buf + off, strlen(buf) - off, &req), 0);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\n"), 0);
	assert_int_equal(parse("GET / HT"), 0);
}

static void oversized_inputs_are_414_and_431(void **state)
{
	static char buf[3 * HTTP_MAX_HEADER];
	size_t n;
	int i;

	(void)state;
	/* a request line longer than any URI, not even complete */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "GET /", 5);
	assert_int_equal(http_parse_request(buf, HTTP_MAX_URI + 100, &req), HTTP_MAX_URI + 100);
	assert_int_equal(req.status, 414);
	assert_false(req.keep_alive);
	/* complete, with a target just over the limit */
	n = (size_t)snprintf(buf, sizeof(buf), "GET /%0*d HTTP/1.1\r\nHost: a\r\n\r\n",
			     HTTP_MAX_URI, 7);
	assert_int_equal(http_parse_request(buf, n, &req), n);
	assert_int_equal(req.status, 414);
	/* headers that never end within HTTP_MAX_HEADER */
	n = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: a\r\n");
	while (n < HTTP_MAX_HEADER)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "X-Pad: %0100d\r\n", 1);
	assert_int_equal(http_parse_request(buf, n, &req), n);
	assert_int_equal(req.status, 431);
	/* a complete block but with too many fields */
	n = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: a\r\n");
	for (i = 0; i < HTTP_MAX_FIELDS + 1; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "X: %d\r\n", i);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\r\n");
	assert_int_equal(http_parse_request(buf, n, &req), n);
	assert_int_equal(req.status, 431);
}

static void percent_decoding_and_normalising(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(http_decode_path("/a%20b/c%2Ed", 12, out, sizeof(out)), 0);
	assert_string_equal(out, "a b/c.d");
	assert_int_equal(http_decode_path("//etc/passwd", 12, out, sizeof(out)), 0);
	assert_string_equal(out, "etc/passwd");	/* relative to DIR, never absolute */
	assert_int_equal(http_decode_path("/a/./b/", 7, out, sizeof(out)), 0);
	assert_string_equal(out, "a/b");
	assert_int_equal(http_decode_path("/a%2Fb", 6, out, sizeof(out)), 0);
	assert_string_equal(out, "a/b");
	assert_int_equal(http_decode_path("/%zz", 4, out, sizeof(out)), -EINVAL);
	assert_int_equal(http_decode_path("/ab%2", 5, out, sizeof(out)), -EINVAL);
	assert_int_equal(http_decode_path("/a%00b", 6, out, sizeof(out)), -EINVAL);
	assert_int_equal(http_decode_path("/aaaaaaaa/bbbbbbbb", 18, out, 8), -ENAMETOOLONG);
}

static void dot_dot_segments_are_refused_encoded_or_not(void **state)
{
	static const char *const bad[] = {
		"GET /../etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /%2e%2e/etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /.%2E/x HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /a/%2e%2e%2f%2e%2e%2fetc HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /a/.. HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /a/..%2fb HTTP/1.1\r\nHost: a\r\n\r\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i]), strlen(bad[i]));
		assert_int_equal(req.status, 400);
	}
	/* dots inside a name are just a name */
	parse("GET /a..b/...x HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(req.status, 0);
	assert_string_equal(req.path, "a..b/...x");
}

/* ---- files, in a temp directory ---- */

struct tree {
	char root[64];		/* outer temp dir */
	char dir[PATH_MAX];	/* DIR served: root/www */
	int dirfd;
};

static void put(const char *dir, const char *name, const char *text)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	char p[PATH_MAX + 32];

	assert_non_null(t);
	snprintf(t->root, sizeof(t->root), "/tmp/skiff-http-XXXXXX");
	assert_non_null(mkdtemp(t->root));
	snprintf(t->dir, sizeof(t->dir), "%s/www", t->root);
	assert_int_equal(mkdir(t->dir, 0755), 0);
	put(t->root, "secret", "outside");
	put(t->dir, "hello.txt", "hello\n");
	put(t->dir, "index.html", "<p>top</p>");
	snprintf(p, sizeof(p), "%s/sub", t->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/empty", t->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	put(p, "../sub/page.html", "<p>sub</p>");
	snprintf(p, sizeof(p), "%s/sub/index.html", t->dir);
	assert_int_equal(symlink("page.html", p), 0);
	snprintf(p, sizeof(p), "%s/out", t->dir);
	assert_int_equal(symlink("../secret", p), 0);
	snprintf(p, sizeof(p), "%s/abs", t->dir);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	snprintf(p, sizeof(p), "%s/link-in", t->dir);
	assert_int_equal(symlink("sub/page.html", p), 0);
	snprintf(p, sizeof(p), "%s/fifo", t->dir);
	assert_int_equal(mkfifo(p, 0644), 0);
	t->dirfd = open(t->dir, O_RDONLY | O_DIRECTORY);
	assert_true(t->dirfd >= 0);
	*state = t;
	return 0;
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;
	char cmd[PATH_MAX + 16];

	close(t->dirfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->root);
	assert_int_equal(system(cmd), 0);
	free(t);
	return 0;
}

static int open_size(struct tree *t, const char *rel, off_t *size)
{
	int fd = -1, err;

	err = http_open(t->dirfd, rel, &fd, size);
	if (!err)
		close(fd);
	return err;
}

static void files_and_directory_indexes_open(void **state)
{
	struct tree *t = *state;
	off_t size;

	assert_int_equal(open_size(t, "hello.txt", &size), 0);
	assert_int_equal(size, 6);
	assert_int_equal(open_size(t, "", &size), 0);	/* DIR: its index.html */
	assert_int_equal(size, 10);
	assert_int_equal(open_size(t, "sub", &size), 0);	/* index.html -> page.html */
	assert_int_equal(size, 10);
	assert_int_equal(open_size(t, "link-in", &size), 0);	/* a symlink inside DIR */
	assert_int_equal(open_size(t, "empty", &size), -ENOENT);	/* no index: 404 */
	assert_int_equal(open_size(t, "missing", &size), -ENOENT);
	assert_int_equal(open_size(t, "fifo", &size), -ENOENT);	/* not a regular file */
}

static void nothing_outside_dir_opens(void **state)
{
	struct tree *t = *state;
	off_t size;

	assert_int_equal(open_size(t, "out", &size), -ENOENT);	/* ../secret */
	assert_int_equal(open_size(t, "abs", &size), -ENOENT);	/* /etc/passwd */
	assert_int_equal(open_size(t, "../secret", &size), -ENOENT);
	assert_int_equal(open_size(t, "/etc/passwd", &size), -ENOENT);
	assert_int_equal(open_size(t, "etc/passwd", &size), -ENOENT);	/* from //etc/passwd */
}

static void private_and_hidden_files_are_not_served(void **state)
{
	struct tree *t = *state;
	char p[PATH_MAX + 32];
	off_t size;

	/* skiffd runs as root: only what any user may read goes out */
	put(t->dir, "private.txt", "mine");
	snprintf(p, sizeof(p), "%s/private.txt", t->dir);
	assert_int_equal(chmod(p, 0600), 0);
	assert_int_equal(open_size(t, "private.txt", &size), -EACCES);
	assert_int_equal(chmod(p, 0640), 0);
	assert_int_equal(open_size(t, "private.txt", &size), -EACCES);
	assert_int_equal(chmod(p, 0000), 0);
	assert_int_equal(open_size(t, "private.txt", &size), -EACCES);
	assert_int_equal(chmod(p, 0604), 0);
	assert_int_equal(open_size(t, "private.txt", &size), 0);
	/* hidden names, at any depth; RFC 8615's .well-known is served */
	put(t->dir, ".htpasswd", "user:hash");
	assert_int_equal(open_size(t, ".htpasswd", &size), -ENOENT);
	snprintf(p, sizeof(p), "%s/.git", t->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	put(p, "config", "[core]");
	assert_int_equal(open_size(t, ".git/config", &size), -ENOENT);
	put(t->dir, "sub/.env", "KEY=1");
	assert_int_equal(open_size(t, "sub/.env", &size), -ENOENT);
	snprintf(p, sizeof(p), "%s/.well-known", t->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	put(p, "security.txt", "Contact: x");
	assert_int_equal(open_size(t, ".well-known/security.txt", &size), 0);
}

static void system_directories_are_refused_as_docroot(void **state)
{
	struct tree *t = *state;
	char why[PATH_MAX + 96], p[PATH_MAX + 32];

	assert_int_equal(http_docroot_check(t->dir, why, sizeof(why)), 0);
	assert_int_equal(http_docroot_check("/", why, sizeof(why)), -EPERM);
	assert_int_equal(http_docroot_check("/etc", why, sizeof(why)), -EPERM);
	assert_int_equal(http_docroot_check("/etc/", why, sizeof(why)), -EPERM);
	assert_int_equal(http_docroot_check("/sys/kernel", why, sizeof(why)), -EPERM); /* under */
	assert_int_equal(http_docroot_check("/root", why, sizeof(why)), -EPERM);
	assert_int_equal(http_docroot_check("/proc/self", why, sizeof(why)), -EPERM);
	assert_int_equal(http_docroot_check("/usr/../etc", why, sizeof(why)), -EPERM);
	/* a symlink to / is /, and a missing directory says so */
	snprintf(p, sizeof(p), "%s/rootlink", t->root);
	assert_int_equal(symlink("/", p), 0);
	assert_int_equal(http_docroot_check(p, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "root directory"));
	assert_int_equal(http_docroot_check("/nonexistent-skiff-dir", why, sizeof(why)), -ENOENT);
	/* a name that only starts like a system directory is fine */
	assert_int_equal(http_docroot_check("/usr/share", why, sizeof(why)), 0);
}

static void content_type_follows_the_extension(void **state)
{
	(void)state;
	assert_string_equal(http_content_type("a/index.html"), "text/html; charset=utf-8");
	assert_string_equal(http_content_type("x.TXT"), "text/plain; charset=utf-8");
	assert_string_equal(http_content_type("p.png"), "image/png");
	assert_string_equal(http_content_type("v1.0/blob"), "application/octet-stream");
	assert_string_equal(http_content_type("big.bin"), "application/octet-stream");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(get_is_parsed_with_path_version_and_keep_alive),
		cmocka_unit_test(head_and_absolute_form_and_bare_lf_are_accepted),
		cmocka_unit_test(connection_header_and_version_decide_keep_alive),
		cmocka_unit_test(other_methods_are_405),
		cmocka_unit_test(other_versions_are_505_and_garbage_400),
		cmocka_unit_test(malformed_headers_and_missing_host_are_400),
		cmocka_unit_test(pipelined_requests_are_taken_one_at_a_time),
		cmocka_unit_test(oversized_inputs_are_414_and_431),
		cmocka_unit_test(percent_decoding_and_normalising),
		cmocka_unit_test(dot_dot_segments_are_refused_encoded_or_not),
		cmocka_unit_test_setup_teardown(files_and_directory_indexes_open, tree_setup,
						tree_teardown),
		cmocka_unit_test_setup_teardown(nothing_outside_dir_opens, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(private_and_hidden_files_are_not_served, tree_setup,
						tree_teardown),
		cmocka_unit_test_setup_teardown(system_directories_are_refused_as_docroot, tree_setup,
						tree_teardown),
		cmocka_unit_test(content_type_follows_the_extension),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
