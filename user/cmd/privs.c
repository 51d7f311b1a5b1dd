// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * skiffd's capability drop after start-up, through libcap-ng (the sets and
 * the reason for each capability: privs.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include <cap-ng.h>
#include <linux/capability.h>

#include "cmd/privs.h"

/* effective while serving */
static const int run_caps[] = { CAP_BPF };
/* permitted only: for the teardown */
static const int exit_caps[] = { CAP_NET_ADMIN, CAP_SYS_ADMIN };

#define N(a) (sizeof(a) / sizeof((a)[0]))

int privs_drop(char *err, size_t errlen)
{
	size_t i;
	int ret;

	capng_clear(CAPNG_SELECT_ALL);
	for (i = 0; i < N(run_caps); i++)
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
			     (unsigned int)run_caps[i]);
	for (i = 0; i < N(exit_caps); i++)
		capng_update(CAPNG_ADD, CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
			     (unsigned int)exit_caps[i]);
	/* no exec may make root's uid 0 mean all capabilities again */
	ret = capng_lock();
	if (ret) {
		snprintf(err, errlen, "cannot lock the securebits (capng_lock: %d)", ret);
		return -EPERM;
	}
	ret = capng_apply(CAPNG_SELECT_ALL);
	if (ret) {
		snprintf(err, errlen, "cannot drop capabilities (capng_apply: %d)", ret);
		return -EPERM;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		ret = -errno;
		snprintf(err, errlen, "cannot set NoNewPrivs: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

int privs_for_exit(void)
{
	size_t i;

	if (capng_get_caps_process())
		return -EPERM;
	for (i = 0; i < N(exit_caps); i++)
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE, (unsigned int)exit_caps[i]);
	return capng_apply(CAPNG_SELECT_CAPS) ? -EPERM : 0;
}
