/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The reporting of the tests/apps/ checks: each sets `check` to the name
 * of the behaviour it checks, EXPECT()s, and calls ok(); the first failed
 * EXPECT prints "FAIL <check>: line N: <cond>: <details> (errno ...)" and
 * exits 1 (tests/integration/test_apps*.py read these lines).
 */
#ifndef SKIFF_TESTS_APPS_CHECK_H
#define SKIFF_TESTS_APPS_CHECK_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *check = "start";

#define EXPECT(cond, ...) \
	do { \
		if (!(cond)) { \
			printf("FAIL %s: line %d: %s: ", check, __LINE__, #cond); \
			printf(__VA_ARGS__); \
			printf(" (errno %s)\n", strerror(errno)); \
			exit(1); \
		} \
	} while (0)

static inline void ok(void)
{
	printf("ok %s\n", check);
	fflush(stdout);
}

#endif /* SKIFF_TESTS_APPS_CHECK_H */
