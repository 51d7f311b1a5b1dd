// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * skiffctl: asks a running skiffd (status, stats, neigh, sockets, routes)
 * over its control socket /run/skiff/<ifname>.<netns>.sock (where and what:
 * cmd/control.h) and prints the answer.  Without --iface it uses the only
 * skiffd of the current network namespace.  Exit status: 0 answered, 1 no
 * daemon, no permission or the daemon reported an error, 2 bad usage.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cmd/config.h"
#include "cmd/control.h"

static int pick_daemon(struct skiffctl_args *a)
{
	char names[CTL_MAX_DAEMONS][IFNAMSIZ];
	int n, i;

	n = ctl_find_daemons(names, CTL_MAX_DAEMONS, false);
	if (n < 0) {
		fprintf(stderr, "skiffctl: cannot read /proc/net/unix: %s\n", strerror(-n));
		return 1;
	}
	if (n == 0) {
		if (ctl_find_daemons(names, CTL_MAX_DAEMONS, true) > 0)
			fprintf(stderr, "skiffctl: the skiffd of %s is still starting up\n",
				names[0]);
		else
			fprintf(stderr, "skiffctl: no skiffd running in this network namespace\n");
		return 1;
	}
	if (n > 1) {
		fprintf(stderr, "skiffctl: %d skiffd are running here; choose one with --iface:", n);
		for (i = 0; i < n; i++)
			fprintf(stderr, " %s", names[i]);
		fputc('\n', stderr);
		return 1;
	}
	snprintf(a->iface, sizeof(a->iface), "%s", names[0]);
	return 0;
}

/* ifname's skiffd has bound its control name but does not listen yet */
static bool starting(const char *ifname)
{
	char names[CTL_MAX_DAEMONS][IFNAMSIZ];
	int n, i;

	n = ctl_find_daemons(names, CTL_MAX_DAEMONS, true);
	for (i = 0; i < n; i++)
		if (!strcmp(names[i], ifname))
			return true;
	return false;
}

/*
 * The verb `apps` (the applications attached through libskiffapp,
 * docs/apps.md) is answered here: in argv (a copy) it stands in for
 * `status` while the common parser checks the rest, and a bare `json`
 * after it means --json, as the control protocol's "apps json" does.
 * Returns whether argv named it.
 */
static bool take_apps_verb(int argc, char **argv, bool *json)
{
	bool seen = false;
	int i;

	*json = false;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--iface")) {
			i++;
			continue;
		}
		if (argv[i][0] == '-')
			continue;
		if (!seen && !strcmp(argv[i], "apps")) {
			argv[i] = (char *)"status";
			seen = true;
		} else if (seen && !strcmp(argv[i], "json")) {
			argv[i] = (char *)"--json";
			*json = true;
		}
	}
	return seen;
}

int main(int argc, char **argv)
{
	char *args[64];
	struct skiffctl_args a;
	struct strbuf out;
	char err[256];
	const char *s;
	bool apps, json;
	int ret, i;

	if (argc > (int)(sizeof(args) / sizeof(args[0])) - 1) {
		fprintf(stderr, "skiffctl: too many arguments\n");
		return 2;
	}
	for (i = 0; i < argc; i++)
		args[i] = argv[i];
	args[argc] = NULL;
	apps = take_apps_verb(argc, args, &json);
	ret = skiffctl_parse(&a, argc, args, err, sizeof(err));
	if (ret == SKIFFD_PARSE_HELP) {
		skiffctl_usage(stdout);
		fputs("\n  apps      the applications attached through libskiffapp (docs/apps.md):\n"
		      "            pid, sockets, requests served, kicks, hostile input seen\n"
		      "            (also: skiffctl apps json)\n",
		      stdout);
		return 0;
	}
	if (ret) {
		fprintf(stderr, "skiffctl: %s\n", err);
		return 2;
	}
	if (apps) {
		a.command = "apps";
		a.json = a.json || json;
	}
	if (!a.iface[0]) {
		ret = pick_daemon(&a);
		if (ret)
			return ret;
	}
	sb_init(&out);
	ret = ctl_request(a.iface, a.command, a.json, &out);
	if (ret == -ECONNREFUSED || ret == -ENOENT) {
		if (starting(a.iface))
			fprintf(stderr, "skiffctl: the skiffd of %s is still starting up\n",
				a.iface);
		else
			fprintf(stderr,
				"skiffctl: no skiffd running on %s in this network namespace\n",
				a.iface);
		sb_free(&out);
		return 1;
	}
	if (ret == -EACCES || ret == -EPERM) {
		char path[108] = CTL_DIR;
		uint64_t netns = 0;

		if (!ctl_netns_id(&netns))
			ctl_path(a.iface, netns, ".sock", path, sizeof(path));
		fprintf(stderr,
			"skiffctl: permission denied on %s: the skiffd control socket is for "
			"root and the members of group %s\n",
			path, CTL_GROUP);
		sb_free(&out);
		return 1;
	}
	if (ret == -ETIMEDOUT) {
		fprintf(stderr, "skiffctl: the skiffd of %s did not answer in time\n", a.iface);
		sb_free(&out);
		return 1;
	}
	if (ret) {
		fprintf(stderr, "skiffctl: talking to the skiffd of %s: %s\n", a.iface,
			strerror(-ret));
		sb_free(&out);
		return 1;
	}
	s = sb_str(&out);
	if (!strncmp(s, "error: ", 7) || !strncmp(s, "{\"error\"", 8)) {
		fputs(s, a.json ? stdout : stderr);
		sb_free(&out);
		return 1;
	}
	fputs(s, stdout);
	sb_free(&out);
	return 0;
}
